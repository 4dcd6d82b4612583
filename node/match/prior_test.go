package match_test

import (
	"fmt"
	"math"
	"testing"

	"lifeline/node/match"
)

// Each person has about as many records whatever the size of the set, so
// that in a set of n records two at random are one person 15,000/n times
// as often as in M1's sets of 15,000, whose prior is 1 in 2^15: a set of
// 30,000 has 2^-16, and one of a thousand records or fewer (a laptop's)
// 15 × 2^-15.
func TestThePriorIsOfTheSetsSize(t *testing.T) {
	cfg := match.DefaultConfig()
	for _, tc := range []struct {
		n    int
		want float64
	}{{15000, math.Exp2(-15)}, {30000, math.Exp2(-16)}, {300000, math.Exp2(-15) / 20}, {1000, 15 * math.Exp2(-15)}, {3, 15 * math.Exp2(-15)}} {
		if got := cfg.PriorFor(tc.n); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("prior of %d records %v, want %v", tc.n, got, tc.want)
		}
	}
	fixed := cfg
	fixed.PriorRecords = 0
	if got := fixed.PriorFor(300000); got != cfg.Prior {
		t.Errorf("PriorRecords 0: prior of 300,000 records %v, want %v", got, cfg.Prior)
	}
}

// An index scores its pairs with the prior of the records it holds: a
// report and a registration of Maria Pop of San Antonio, one of no age,
// are a candidate while the index holds a laptop's few records, scored as
// Compare scores them with that prior; once it holds 40,000 records, in
// which there are many more Maria Pops, the same pair is scored with the
// prior of 40,000 and falls under the threshold.
func TestAnIndexScoresWithThePriorOfItsSize(t *testing.T) {
	cfg := match.DefaultConfig()
	a := person("r1", match.Missing, "Maria Pop", "female", -1, "San Antonio", "Toledo")
	b := person("s1", match.Sheltered, "POP, MARIA", "female", 40, "San Antonio", "Toledo")
	scoreWith := func(n int) match.Candidate {
		c, ok := match.Compare(a, b, match.Config{Prior: cfg.PriorFor(n), Threshold: cfg.Threshold})
		if !ok {
			t.Fatal("not compared")
		}
		return c
	}
	small, big := scoreWith(2), scoreWith(40000)
	if small.Score < cfg.Threshold || big.Score >= cfg.Threshold {
		t.Fatalf("the test needs a pair over the threshold with the prior of 2 records and under it with 40,000's: %.3f, %.3f", small.Score, big.Score)
	}
	x, err := match.NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Add(a); err != nil {
		t.Fatal(err)
	}
	got, err := x.Add(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Score != small.Score {
		t.Fatalf("with 2 records: %v, want the pair at %.6f", got, small.Score)
	}
	if c := x.Candidates(); len(c) != 1 || c[0].Score != small.Score {
		t.Fatalf("with 2 records, Candidates: %v", c)
	}
	// Other people, of names no one else has.
	word := func(i int) string {
		w := []byte{"bdfgklmnprstvz"[i%14]}
		for i /= 14; i > 0; i /= 14 {
			w = append(w, "aeiou"[i%5], "bdfgklmnprstvz"[i%14])
		}
		return string(w)
	}
	var more []match.Person
	for i := range 39998 {
		more = append(more, person(fmt.Sprintf("x%05d", i), match.Missing, "Q"+word(i)+" X"+word(i+7), "male", i%90, "Corozal Town", "Corozal"))
	}
	if _, err := x.AddAll(more); err != nil {
		t.Fatal(err)
	}
	for _, c := range x.Candidates() {
		if c.A == "r1" && c.B == "s1" {
			t.Fatalf("with 40,000 records the pair is still given, at %.3f; Compare with their prior scores it %.3f", c.Score, big.Score)
		}
	}
	if c, ok := x.Pair("r1", "s1"); !ok || c.Score != big.Score {
		t.Fatalf("Pair with 40,000 records: %.6f, want %.6f", c.Score, big.Score)
	}
	q, err := x.Query(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 0 {
		t.Fatalf("Query with 40,000 records: %v, want nothing over the threshold", q)
	}
}
