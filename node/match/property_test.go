package match_test

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"lifeline/node/match"
	"lifeline/node/match/matchtest"
)

var (
	givens   = []string{"María", "MARIA", "Maria Elena", "Memo", "Guillermo", "José", "Chepe", "Juan", "Beto", "Roberto", "Bob", "Betty", "Elizabeth", "Abraham", "Johan", "Peggy", "M."}
	families = []string{"Pop", "Pop Coc", "Coc Pop", "Caal", "Cal", "Sho", "Xo", "Dyck", "Dueck", "García", "Garcia Reyes", "Flowers", "Q'eqchi'", "Tzib", "Tsib", "Klassen", "Classen", "Gentle", "Gentel"}
	villages = []string{"", "San Antonio", "SAN ANTONIO", "Punta Gorda", "Pta Gorda", "Spanish Lookout", "Belize City", "Dangriga"}
	dists    = []string{"", "Toledo", "Cayo", "Belize", "Stann Creek"}
)

func drawPerson(t *rapid.T, label, id string) match.Person {
	given := rapid.SampledFrom(givens).Draw(t, label+" given")
	family := rapid.SampledFrom(families).Draw(t, label+" family")
	name := given + " " + family
	switch rapid.IntRange(0, 2).Draw(t, label+" order") {
	case 1:
		name = family + ", " + given
	case 2:
		name = strings.ToUpper(family + " " + given)
	}
	return match.Person{
		ID:       id,
		Record:   rapid.SampledFrom([]match.Record{match.Missing, match.Sheltered}).Draw(t, label+" record"),
		FullName: name,
		Sex:      rapid.SampledFrom([]string{"", "female", "male", "unknown"}).Draw(t, label+" sex"),
		Age:      rapid.IntRange(0, 90).Draw(t, label+" age"),
		AgeKnown: rapid.Bool().Draw(t, label+" age known"),
		Village:  rapid.SampledFrom(villages).Draw(t, label+" village"),
		District: rapid.SampledFrom(dists).Draw(t, label+" district"),
	}
}

// The score of a pair does not depend on which of the two is read first.
func TestScoreIsSymmetric(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := drawPerson(t, "a", "a"), drawPerson(t, "b", "b")
		ab, okAB := match.Compare(a, b, match.DefaultConfig())
		ba, okBA := match.Compare(b, a, match.DefaultConfig())
		if okAB != okBA {
			t.Fatalf("compared one way (%v), not the other (%v)", okAB, okBA)
		}
		if !okAB {
			return
		}
		if ab.Score != ba.Score || ab.A != ba.A || ab.B != ba.B || ab.Kind != ba.Kind {
			t.Fatalf("%q vs %q: %+v one way, %+v the other", a.FullName, b.FullName, ab, ba)
		}
		if ab.Score < 0 || ab.Score > 1 {
			t.Fatalf("score %v outside 0 to 1", ab.Score)
		}
	})
}

type found struct {
	kind  match.Kind
	score float64
}

func pairs(t interface{ Fatal(...any) }, people []match.Person, all bool) map[matchtest.Pair]found {
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if all {
		if _, err := x.AddAll(people); err != nil {
			t.Fatal(err)
		}
	} else {
		for _, p := range people {
			if _, err := x.Add(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := map[matchtest.Pair]found{}
	for _, c := range x.Candidates() {
		out[matchtest.Pair{A: c.A, B: c.B}] = found{c.Kind, c.Score}
	}
	return out
}

// The pairs an index finds are the same whatever the order the people
// arrive in, one by one or all at once.
func TestPairsDoNotDependOnArrivalOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var people []match.Person
		if rapid.Bool().Draw(t, "generated") {
			s := matchtest.Generate(matchtest.Options{Seed: rapid.Uint64().Draw(t, "seed"), Missing: 150, Sheltered: 150,
				Districts: map[string]float64{"Toledo": 1}})
			people = s.People
		} else {
			n := rapid.IntRange(2, 40).Draw(t, "n")
			for i := range n {
				people = append(people, drawPerson(t, fmt.Sprint(i), fmt.Sprintf("id-%02d", i)))
			}
		}
		perm := rapid.Permutation(people).Draw(t, "order")
		want := pairs(t, people, false)
		for what, got := range map[string]map[matchtest.Pair]found{
			"another order":              pairs(t, perm, false),
			"all at once":                pairs(t, people, true),
			"all at once, another order": pairs(t, perm, true),
		} {
			if len(got) != len(want) {
				t.Fatalf("%s: %d pairs, in the first order %d", what, len(got), len(want))
			}
			for p, f := range want {
				if got[p] != f {
					t.Fatalf("%s: pair %v is %+v, in the first order %+v", what, p, got[p], f)
				}
			}
		}
	})
}
