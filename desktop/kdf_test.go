package desktop

import "lifeline/node/identity"

// Keys and people's verifiers are sealed with one cheap pass of Argon2id
// in these tests: each run of the real parameters costs seconds under the
// race detector, and none of these tests is about that cost. Every sealed
// file and verifier names its parameters, so a passphrase opens or is
// refused exactly as with the real ones; node/identity's tests check the
// real parameters.
func init() { identity.CheapKDFInTests() }
