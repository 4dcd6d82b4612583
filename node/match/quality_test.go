package match_test

import (
	"testing"

	"lifeline/node/match"
	"lifeline/node/match/matchtest"
)

// quality runs an index over a generated set and measures its candidates
// at the default threshold, taken together (Index.Group), against the
// truth.
func quality(t testing.TB, s *matchtest.Set) (precision, recall float64) {
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.AddAll(s.People); err != nil {
		t.Fatal(err)
	}
	tp, fp := 0, 0
	for _, c := range x.Group(x.Candidates(), match.DefaultConfig().Threshold, nil) {
		if kind, ok := s.Truth[matchtest.Pair{A: c.A, B: c.B}]; !ok {
			fp++
		} else if kind != c.Kind {
			t.Errorf("pair %s %s is %s, found as %s", c.A, c.B, kind, c.Kind)
		} else {
			tp++
		}
	}
	return float64(tp) / float64(tp+fp), float64(tp) / float64(len(s.Truth))
}

// On generated reports and registrations (typos, nicknames, dropped
// surnames, spellings by ear, ages off or unknown, and namesakes of one
// village), the matcher finds most of the people who are one and proposes
// few who are not. The floors are a little under what it measures
// (docs/matching.md gives the figures), so that a change that makes it
// worse fails here.
func TestQuality(t *testing.T) {
	for _, tc := range []struct {
		what              string
		o                 matchtest.Options
		precision, recall float64
	}{
		{"the whole country", matchtest.Options{Seed: 11, Missing: 5000, Sheltered: 10000}, 0.92, 0.91},
		{"Toledo and Stann Creek, where namesakes are many", matchtest.Options{Seed: 12, Missing: 5000, Sheltered: 10000,
			Districts: map[string]float64{"Toledo": 0.6, "Stann Creek": 0.4}}, 0.91, 0.88},
		// A district's event: fewer records, fewer namesakes, and the
		// index's prior of its 1,500 records.
		{"a district's event", matchtest.Options{Seed: 531, Missing: 500, Sheltered: 1000}, 0.95, 0.95},
		{"a district's event in the south", matchtest.Options{Seed: 531, Missing: 500, Sheltered: 1000,
			Districts: map[string]float64{"Toledo": 0.6, "Stann Creek": 0.4}}, 0.95, 0.94},
	} {
		p, r := quality(t, matchtest.Generate(tc.o))
		t.Logf("%s: precision %.3f, recall %.3f", tc.what, p, r)
		if p < tc.precision || r < tc.recall {
			t.Errorf("%s: precision %.3f, recall %.3f; want at least %.2f and %.2f", tc.what, p, r, tc.precision, tc.recall)
		}
	}
}
