package match_test

import (
	"testing"

	"lifeline/node/match"
)

// Report is the missing person's record of a found pair, whichever was
// added first.
func TestFoundPairNamesItsReport(t *testing.T) {
	rep := match.Person{ID: "z-report", Record: match.Missing, FullName: "María Pop", Sex: "female", Age: 24, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	reg := match.Person{ID: "a-shelter", Record: match.Sheltered, FullName: "POP, MARIA", Sex: "female", Age: 24, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	for _, pair := range [][2]match.Person{{rep, reg}, {reg, rep}} {
		c, ok := match.Compare(pair[0], pair[1], match.DefaultConfig())
		if !ok || c.Kind != match.Found || c.Report != "z-report" {
			t.Fatalf("pair %+v, want found with report z-report", c)
		}
	}
}
