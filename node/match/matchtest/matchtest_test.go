package matchtest_test

import (
	"reflect"
	"strings"
	"testing"

	"lifeline/node/match"
	"lifeline/node/match/matchtest"
)

func TestGenerate(t *testing.T) {
	o := matchtest.Options{Seed: 3, Missing: 2000, Sheltered: 3000}
	s := matchtest.Generate(o)
	count := map[match.Record]int{}
	ids := map[string]match.Record{}
	for _, p := range s.People {
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if _, dup := ids[p.ID]; dup {
			t.Fatalf("id %s twice", p.ID)
		}
		ids[p.ID] = p.Record
		count[p.Record]++
	}
	if count[match.Missing] != o.Missing || count[match.Sheltered] != o.Sheltered {
		t.Errorf("%d reports and %d registrations, want %d and %d", count[match.Missing], count[match.Sheltered], o.Missing, o.Sheltered)
	}
	kinds := map[match.Kind]int{}
	for p, k := range s.Truth {
		a, okA := ids[p.A]
		b, okB := ids[p.B]
		if !okA || !okB || p.A >= p.B {
			t.Fatalf("truth pair %v is not two records in order", p)
		}
		want := match.Found
		if a == match.Missing && b == match.Missing {
			want = match.Duplicate
		}
		if a == match.Sheltered && b == match.Sheltered || k != want {
			t.Fatalf("truth pair %v (%s, %s) is %s", p, a, b, k)
		}
		kinds[k]++
	}
	// About three reports in ten have a second one, and about six
	// missing people in ten reach a shelter.
	if kinds[match.Duplicate] < o.Missing/8 || kinds[match.Found] < o.Missing/3 {
		t.Errorf("truth holds %d duplicates and %d found, fewer than a real event's", kinds[match.Duplicate], kinds[match.Found])
	}
	// Of says whom each record is of, as the truth does: two records of
	// one person that the matcher pairs are a true pair, and no others.
	byOf := map[int][]string{}
	for _, p := range s.People {
		n, ok := s.Of[p.ID]
		if !ok {
			t.Fatalf("record %s is of nobody", p.ID)
		}
		byOf[n] = append(byOf[n], p.ID)
	}
	pairs := 0
	for _, recs := range byOf {
		for i, a := range recs {
			for _, b := range recs[i+1:] {
				if ids[a] == match.Sheltered && ids[b] == match.Sheltered {
					continue
				}
				if _, ok := s.Truth[matchtest.Pair{A: min(a, b), B: max(a, b)}]; !ok {
					t.Fatalf("records %s and %s are of one person, not in the truth", a, b)
				}
				pairs++
			}
		}
	}
	if pairs != len(s.Truth) {
		t.Errorf("%d pairs of records of one person, %d in the truth", pairs, len(s.Truth))
	}
	// About one person in 25 is named after a parent or child.
	for k := range s.Kin {
		if k[0] >= k[1] || len(byOf[k[0]]) == 0 || len(byOf[k[1]]) == 0 {
			t.Fatalf("kin %v are not two people of the set", k)
		}
		// Named one after the other.
		if a, b := strings.Fields(s.Names[k[0]]), strings.Fields(s.Names[k[1]]); len(a) < 2 || len(b) < 2 || a[0] != b[0] {
			t.Fatalf("kin %q and %q do not share a first name", s.Names[k[0]], s.Names[k[1]])
		}
	}
	for n := range byOf {
		if len(strings.Fields(s.Names[n])) < 2 {
			t.Fatalf("person %d is named %q", n, s.Names[n])
		}
	}
	if n := len(s.Kin); n < len(byOf)/60 || n > len(byOf)/10 {
		t.Errorf("%d pairs of kin of one name among %d people", n, len(byOf))
	}
	if again := matchtest.Generate(o); !reflect.DeepEqual(again, s) {
		t.Error("the same seed drew another set")
	}
}
