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
	givens   = []string{"María", "MARIA", "Maria Elena", "Mary Ann", "Maryann", "Juan Pablo", "Juanpablo", "Memo", "Guillermo", "José", "Chepe", "Juan", "Beto", "Roberto", "Bob", "Betty", "Elizabeth", "Abraham", "Johan", "Peggy", "M.", "Ma.", "J.", "Juan José", "Elena", "George", "Jorge", "Zoila", "Unknown"}
	families = []string{"Pop", "Pop Coc", "Coc Pop", "Caal", "Cal", "Sho", "Xo", "Dyck", "Dueck", "García", "Garcia Reyes", "Flowers", "Q'eqchi'", "Tzib", "Tsib", "Klassen", "Classen", "Gentle", "Gentel", "Delacruz", "de la Cruz", "Young", "Zzyx", "Ma. Coc", "Maria Coc", "Coc Jr.", "Coc Sr."}
	villages = []string{"", "San Antonio", "SAN ANTONIO", "Punta Gorda", "Pta Gorda", "Spanish Lookout", "Belize City", "Dangriga",
		"San Antonio, Toledo", "near the market, San Antonio", "the market, Punta Gorda", "Belize", "Toledo"}
	dists = []string{"", "Toledo", "Cayo", "Belize", "Stann Creek"}
	akas  = []string{"", "", "", "Memo", "Chila", "Maria Bol", "BOL, MARIA", "Pop Coc", "N/A"}
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
		ID:          id,
		Record:      rapid.SampledFrom([]match.Record{match.Missing, match.Sheltered}).Draw(t, label+" record"),
		FullName:    name,
		AlsoKnownAs: rapid.SampledFrom(akas).Draw(t, label+" also known as"),
		Sex:         rapid.SampledFrom([]string{"", "female", "male", "unknown"}).Draw(t, label+" sex"),
		Age:         rapid.IntRange(0, 90).Draw(t, label+" age"),
		AgeKnown:    rapid.Bool().Draw(t, label+" age known"),
		Village:     rapid.SampledFrom(villages).Draw(t, label+" village"),
		District:    rapid.SampledFrom(dists).Draw(t, label+" district"),
	}
}

// compareAbove skips the names of a pair whose other fields and the most
// its names can weigh cannot reach the threshold. That bound is never
// under what the names weigh, whatever forms they take: readings surname
// first, a second given name, two given names as one, another name the
// record gives, nicknames, initials, spellings, generations.
func TestTheNameBoundIsABound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := drawPerson(t, "a", "a"), drawPerson(t, "b", "b")
		if w, bound := match.NameWeightAndBound(a, b); w > bound+1e-9 {
			t.Fatalf("%q (%q) and %q (%q): the names weigh %.3f bits, over their bound %.3f", a.FullName, a.AlsoKnownAs, b.FullName, b.AlsoKnownAs, w, bound)
		}
	})
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
	why   string // for a pair set aside, why
}

// pairs gives the candidates of an index of people, added one by one or
// all at once, and what grouping them returns (Index.GroupAside): the
// pairs grouped, and those set aside.
func pairs(t interface{ Fatal(...any) }, people []match.Person, all bool) (cands, grouped, aside map[matchtest.Pair]found) {
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
	cands, grouped, aside = map[matchtest.Pair]found{}, map[matchtest.Pair]found{}, map[matchtest.Pair]found{}
	cs := x.Candidates()
	for _, c := range cs {
		cands[matchtest.Pair{A: c.A, B: c.B}] = found{kind: c.Kind, score: c.Score}
	}
	g, a := x.GroupAside(cs, 0.5, nil)
	for _, c := range g {
		grouped[matchtest.Pair{A: c.A, B: c.B}] = found{kind: c.Kind, score: c.Score}
	}
	for _, c := range a {
		aside[matchtest.Pair{A: c.A, B: c.B}] = found{kind: c.Kind, score: c.Score, why: c.Reasons[0].Code}
	}
	return cands, grouped, aside
}

// The pairs an index finds, those it groups and those it sets aside, are
// the same whatever the order the people arrive in, one by one or all at
// once.
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
		want, wantGrouped, wantAside := pairs(t, people, false)
		for _, o := range []struct {
			what   string
			people []match.Person
			all    bool
		}{{"another order", perm, false}, {"all at once", people, true}, {"all at once, another order", perm, true}} {
			got, grouped, aside := pairs(t, o.people, o.all)
			for _, g := range []struct {
				what      string
				got, want map[matchtest.Pair]found
			}{{"candidates", got, want}, {"grouped", grouped, wantGrouped}, {"set aside", aside, wantAside}} {
				if len(g.got) != len(g.want) {
					t.Fatalf("%s, %s: %d pairs, in the first order %d", o.what, g.what, len(g.got), len(g.want))
				}
				for p, f := range g.want {
					if g.got[p] != f {
						t.Fatalf("%s, %s: pair %v is %+v, in the first order %+v", o.what, g.what, p, g.got[p], f)
					}
				}
			}
		}
	})
}
