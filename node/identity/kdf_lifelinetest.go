//go:build lifelinetest

package identity

// A lifeline built with the lifelinetest tag, as cmd/lifeline's tests
// build the binary they run, seals with one cheap pass of Argon2id (see
// CheapKDFInTests): those tests run the real binary hundreds of times and
// are not about Argon2id's cost. Every sealed file names its parameters,
// so the binary opens and refuses files as a release does. No release is
// built with the tag.
func init() { cheapKDF.Store(true) }
