package node_test

import "lifeline/node/identity"

// Keys, CA folders and people's verifiers are sealed with one cheap pass
// of Argon2id in these tests: each run of the real parameters costs
// seconds under the race detector, and none of these tests is about that
// cost. Every sealed file names its parameters, so the tests open and
// refuse exactly as with the real ones; node/identity's tests check the
// real parameters.
func init() { identity.CheapKDFInTests() }
