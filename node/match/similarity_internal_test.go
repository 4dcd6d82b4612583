package match

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// jaroWinklerAbove rules pairs out by a bound on jaroWinkler: the bound is
// never under the similarity itself, so no pair that reaches a threshold
// is ruled out, whatever the letters.
func TestJaroWinklerCeilIsABound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		word := rapid.StringMatching(`[a-eñ ]{0,12}`)
		a, b := word.Draw(t, "a"), word.Draw(t, "b")
		if c, jw := jaroWinklerCeil(a, b), jaroWinkler(a, b); c < jw-1e-12 {
			t.Fatalf("%q %q: bound %v under the similarity %v", a, b, c, jw)
		}
	})
	for _, tc := range [][2]string{{"maria", "juana"}, {"martha", "marhta"}, {"dixon", "dicksonx"}, {"pop", "coc"}} {
		if c, jw := jaroWinklerCeil(tc[0], tc[1]), jaroWinkler(tc[0], tc[1]); c < jw {
			t.Errorf("%q %q: bound %v under the similarity %v", tc[0], tc[1], c, jw)
		}
	}
}

// compareAbove skips the names of a pair whose other fields and the most
// its names can weigh (nameBound) cannot reach the threshold. That bound
// is never under what the names weigh, whatever forms they take: readings
// surname first, a second given name, two given names as one, another
// name the record gives, nicknames, initials, spellings, generations.
func TestTheNameBoundIsABound(t *testing.T) {
	givens := []string{"Maria", "María", "Maria Elena", "Elena", "Mary Ann", "Maryann", "Mary", "Juan", "Juan Pablo", "Juanpablo",
		"Juan José", "José", "Chepe", "Memo", "Guillermo", "J.", "Ma.", "George", "Jorge", "Abraham", "Abe", "Unknown", "Zoila"}
	families := []string{"Pop", "Pop Coc", "Coc", "Caal", "Cal", "Xo", "Sho", "Dyck", "Dueck", "Delacruz", "de la Cruz", "Young",
		"Flowers", "Zzyx", "Ma. Coc", "Maria Coc", "Coc Jr.", "Coc Sr."}
	akas := []string{"", "Lupe", "Maria Bol", "BOL, MARIA", "Pop", "N/A"}
	places := [][2]string{{"San Antonio", "Toledo"}, {"San Antonio", "Cayo"}, {"", "Belize"}, {"Blue Creek", "Orange Walk"}, {"", ""}}
	draw := func(t *rapid.T, label string) Person {
		given := rapid.SampledFrom(givens).Draw(t, label+" given")
		family := rapid.SampledFrom(families).Draw(t, label+" family")
		name := given + " " + family
		switch rapid.IntRange(0, 2).Draw(t, label+" order") {
		case 1:
			name = family + ", " + given
		case 2:
			name = strings.ToUpper(family + " " + given)
		}
		place := rapid.SampledFrom(places).Draw(t, label+" place")
		return Person{ID: label, Record: Missing, FullName: name, AlsoKnownAs: rapid.SampledFrom(akas).Draw(t, label+" aka"),
			Village: place[0], District: place[1]}
	}
	rapid.Check(t, func(t *rapid.T) {
		a, b := newFeatures(ptr(draw(t, "a"))), newFeatures(ptr(draw(t, "b")))
		w, _ := compareNames(a, b, false)
		if bound := nameBound(a, b); w > bound+1e-9 {
			t.Fatalf("%q (another name: %v) and %q (%v): the names weigh %.3f bits, over their bound %.3f", a.raw, a.aka != nil, b.raw, b.aka != nil, w, bound)
		}
	})
}

func ptr[T any](v T) *T { return &v }
