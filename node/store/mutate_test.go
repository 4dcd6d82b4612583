//go:build mutate

package store

import "flag"

// A mutation run (scripts/mutate.sh) runs the package's tests once for
// each mutant: there the random properties check a hundred histories each,
// not a thousand. rapid registered its flags when it was initialised,
// before this package; TestMain keeps a value set here, and
// -rapid.checks given on the command line still overrides it.
func init() {
	if err := flag.Set("rapid.checks", "100"); err != nil {
		panic(err)
	}
}
