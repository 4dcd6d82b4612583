package match_test

import (
	"slices"
	"testing"

	"lifeline/node/match"
)

// spelled says whether the matcher reads the surnames of a and b as one
// name spelled two ways.
func spelled(c match.Candidate) bool {
	return slices.ContainsFunc(c.Reasons, func(r match.Reason) bool { return r.Code == "surname-spelling" })
}

// Spellings that no list of the matcher's holds are still one name
// spelled two ways, by the rules of the alphabets they are written in:
// Q'eqchi' and Mopan in the alphabet of older registers and in today's
// (x and sh, k and c or qu, a vowel doubled when long, a glottal stop
// written or not), Spanish as it is heard in Belize (z and s, v and b),
// and Low German through English (K and C, a doubled consonant). Names
// that differ by a sound (Chan and Chen, Sho and Cho, Cal and Col) are not.
func TestSpellingsByTheRulesOfTheirAlphabets(t *testing.T) {
	for _, tc := range [][2]string{
		{"Xol", "Shol"},
		{"Kus", "Cus"},
		{"Kanti", "Canti"},
		{"Quej", "Kej"},
		{"Tzul", "Tsul"},
		{"Ch'ub", "Chuub"},
		{"Xiu", "Shiu"},
		{"Klippenstein", "Clippenstein"},
		{"Cuevas", "Cuebas"},
		{"Belázquez", "Velásquez"},
		{"Mivett", "Myvett"},
	} {
		a := person("a", match.Missing, "Juan "+tc[0], "male", 34, "San Antonio", "Toledo")
		b := person("b", match.Sheltered, "JUAN "+tc[1], "male", 34, "San Antonio", "Toledo")
		c := score(t, a, b)
		if !spelled(c) || c.Score < match.DefaultConfig().Threshold {
			t.Errorf("%s and %s: scored %.3f, %v; want one surname spelled two ways, above the threshold", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
		if c2 := score(t, b, a); c2.Score != c.Score {
			t.Errorf("%s and %s: scored %.6f one way and %.6f the other", tc[0], tc[1], c.Score, c2.Score)
		}
	}
	for _, tc := range [][2]string{{"Chan", "Chen"}, {"Sho", "Cho"}, {"Cal", "Col"}, {"Pop", "Bol"}, {"Shol", "Sho"}, {"Coc", "Choc"}} {
		a := person("a", match.Missing, "Juan "+tc[0], "male", 34, "San Antonio", "Toledo")
		b := person("b", match.Sheltered, "Juan "+tc[1], "male", 34, "San Antonio", "Toledo")
		if c := score(t, a, b); spelled(c) {
			t.Errorf("%s and %s read as one name spelled two ways: %v", tc[0], tc[1], c.ReasonsIn("en"))
		}
	}
}

// Coc and Choc, Sho and Shi are the names of different families, each
// common in Toledo: one written for the other is more often another
// person than a slip, so they are not "alike" as a typo is, while a typo
// in a name of one family still is (Canti and Cante).
func TestTwoFamiliesNamesAreNotATypo(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range [][2]string{{"Maria Coc", "Maria Choc"}, {"Juana Sho", "Juana Shi"}} {
		a := person("a", match.Missing, tc[0], "female", 30, "San Jose", "Toledo")
		b := person("b", match.Sheltered, tc[1], "female", 31, "San Jose", "Toledo")
		if c := score(t, a, b); c.Score >= threshold || !hasReason(c, "surname-differ") {
			t.Errorf("%q and %q: scored %.3f, %v; want the surnames different", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
	}
	a := person("a", match.Missing, "Aurelio Canti", "male", 30, "San Jose", "Toledo")
	b := person("b", match.Sheltered, "Aurelio Cante", "male", 31, "San Jose", "Toledo")
	if c := score(t, a, b); c.Score < threshold {
		t.Errorf("Aurelio Canti and Aurelio Cante: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
}
