package match_test

import (
	"slices"
	"testing"

	"lifeline/node/match"
)

// A report of Maria Pop is found in two shelters' registrations, a girl of
// 8 and a woman of 60: she is one person, registered once, so the stronger
// stands and the other goes. Her report's duplicate, and the other report
// found in the weaker registration, stand: a person may be reported twice,
// and a registration is the best of another report. Given in any order,
// the same pairs stand.
func TestAssignKeepsAReportsBestRegistration(t *testing.T) {
	cands := []match.Candidate{
		{A: "r1", B: "s1", Kind: match.Found, Report: "r1", Score: 0.81},
		{A: "r1", B: "s2", Kind: match.Found, Report: "r1", Score: 0.64},
		{A: "r1", B: "r2", Kind: match.Duplicate, Score: 0.70},
		{A: "r3", B: "s2", Kind: match.Found, Report: "r3", Score: 0.55},
		// Two registrations scored alike: the pair of lower ids stands.
		{A: "r4", B: "s5", Kind: match.Found, Report: "r4", Score: 0.6},
		{A: "r4", B: "s4", Kind: match.Found, Report: "r4", Score: 0.6},
	}
	want := []string{"r1 r2", "r1 s1", "r3 s2", "r4 s4"}
	for range 2 {
		var got []string
		for _, c := range match.Assign(cands) {
			got = append(got, c.A+" "+c.B)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("stand %v, want %v", got, want)
		}
		slices.Reverse(cands)
	}
}

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
