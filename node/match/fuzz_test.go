package match_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"lifeline/node/match"
)

// Names and places come from records, which come from peers: whatever
// they hold, as a name or as another name the person goes by, comparing
// them neither panics nor scores outside 0 to 1, and the score is the
// same either way round.
func FuzzCompare(f *testing.F) {
	for _, s := range []string{"POP COC, MARIA", "María Pop", "Q'eqchi'", ",", " , ", "ß Æ ø", "Juan\u0301", strings.Repeat("a ", 100), "O'Brien-Smith, J.", "\u00a0\u2019", `Guillermo "Memo" Pop`, "Juan (Chino «x) Coc", "Juan Coc Jr.", "Unknown", "Maria Elena Pop aka Chila", "Mac Mc mac Kenzie, Delacruz", "María Elena Pop", "Mary Ann Young", "Jose Ma. Coc", "Sr. Juan Coc"} {
		f.Add(s, "Maria Pop", "San Antonio", 30)
	}
	for _, v := range []string{"San Antonio, Toledo", "near the church, San Antonio (Toledo) - x", ",,;()", "Toledo", "Belize, Belize", "Sn. Antonio / Stann Creek District", "San Antonio Orange Walk"} {
		f.Add("Maria Pop", "Maria Pop", v, 30)
	}
	f.Fuzz(func(t *testing.T, name, other, village string, age int) {
		a := match.Person{ID: "a", Record: match.Missing, FullName: name, Village: village, District: "Toledo", Age: age, AgeKnown: age >= 0 && age <= match.MaxAge}
		b := match.Person{ID: "b", Record: match.Sheltered, FullName: other, AlsoKnownAs: name, Village: "San Antonio", District: "Toledo", Age: 30, AgeKnown: true}
		ab, ok := match.Compare(a, b, match.DefaultConfig())
		valid := utf8.ValidString(name) && utf8.ValidString(other) && utf8.ValidString(village) &&
			len(name) <= match.MaxNameBytes && len(other) <= match.MaxNameBytes && len(village) <= match.MaxVillageBytes
		if ok != valid {
			t.Fatalf("compared %v, valid %v", ok, valid)
		}
		if !ok {
			return
		}
		x, err := match.NewIndex(match.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Add(b); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Add(a); err != nil {
			t.Fatal(err)
		}
		ba, _ := match.Compare(b, a, match.DefaultConfig())
		if ab.Score < 0 || ab.Score > 1 || ab.Score != ba.Score {
			t.Fatalf("scores %v and %v", ab.Score, ba.Score)
		}
		for _, r := range ab.ReasonsIn("es") {
			if !utf8.ValidString(r) {
				t.Fatalf("reason %q is not UTF-8", r)
			}
		}
	})
}
