package match

import (
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
