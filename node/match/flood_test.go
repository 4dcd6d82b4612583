package match_test

import (
	"fmt"
	"slices"
	"testing"

	"lifeline/node/match"
)

// A laptop, stolen or broken, or an import run again and again, writes
// thousands of reports of one name, age and village. Each would be a
// candidate with every other: 5,000 of them made 12.5 million pairs and
// filled 4 GiB. The index keeps its bounds (MaxBlock, MaxPairs, here
// smaller, so that the flood is quick) and says how many it crowded out,
// and the people of other names are matched as they would be without the
// flood.
func TestAFloodOfOneNameStaysBounded(t *testing.T) {
	const maxBlock, maxPairs = 120, 8
	const n = maxBlock + 2000 // more than MinPriorRecords past the block
	maria := func(i int) match.Person {
		return match.Person{ID: fmt.Sprintf("flood-%05d", i), Record: match.Missing, FullName: "Maria Pop", Sex: "female",
			Age: 30, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	}
	pedro := match.Person{ID: "pedro-report", Record: match.Missing, FullName: "Pedro Sho", Sex: "male", Age: 70, AgeKnown: true, Village: "Silver Creek", District: "Toledo"}
	shelter := match.Person{ID: "pedro-shelter", Record: match.Sheltered, FullName: "SHO, PEDRO", Sex: "male", Age: 71, AgeKnown: true, Village: "Silver Creek", District: "Toledo"}
	var people []match.Person
	people = append(people, pedro)
	for i := range n {
		people = append(people, maria(i))
	}
	people = append(people, shelter)

	// The reports past the block are not people to find Pedro Sho
	// among: his pair scores as it does with the block's reports alone.
	without, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	match.SetBounds(without, maxBlock, maxPairs)
	if _, err := without.AddAll(slices.Concat(people[:1+maxBlock], people[len(people)-1:])); err != nil {
		t.Fatal(err)
	}
	alone, ok := without.Pair("pedro-report", "pedro-shelter")
	if !ok || alone.Score < 0.9 {
		t.Fatalf("Pedro Sho's report and registration: %+v, want a pair of 0.9 or more", alone)
	}

	one, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	match.SetBounds(one, maxBlock, maxPairs)
	for _, p := range people {
		c, err := one.Add(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) > maxPairs {
			t.Fatalf("%s made %d candidates, more than %d", p.ID, len(c), maxPairs)
		}
	}
	all, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	match.SetBounds(all, maxBlock, maxPairs)
	if _, err := all.AddAll(people); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*match.Index{one, all} {
		// The k-th report of the flood has k-1 namesakes before it:
		// the first MaxPairs+1 keep all their pairs, the others are
		// crowded, past MaxPairs or past the block.
		if got, want := x.Crowded(), n-(maxPairs+1); got != want {
			t.Errorf("crowded %d, want %d", got, want)
		}
		cands := x.Candidates()
		// Of the first MaxBlock reports, the k-th pairs with the
		// min(k-1, MaxPairs) before it; the rest are in no block.
		want := 0
		for k := 1; k <= maxBlock; k++ {
			want += min(k-1, maxPairs)
		}
		pedros := 0
		for _, c := range cands {
			if c.A == "pedro-report" || c.B == "pedro-report" {
				pedros++
				if c.B != "pedro-shelter" || c.Kind != match.Found || c.Score != alone.Score {
					t.Errorf("Pedro Sho's pair %+v, want his registration, found, at %v as without the reports past the block", c, alone.Score)
				}
			}
		}
		if pedros != 1 || len(cands) != want+1 {
			t.Errorf("%d candidates, %d of Pedro Sho; want %d, one", len(cands), pedros, want+1)
		}
	}
	q, err := one.Query(maria(n))
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 0 {
		t.Errorf("a report typed past the full block is compared with it: %d candidates", len(q))
	}

	// The copies deleted, the block takes people again: a report of
	// Maria Pop and her registration are a pair, and nobody is crowded.
	for i := range n {
		if !one.Remove(maria(i).ID) {
			t.Fatalf("%s is not in the index", maria(i).ID)
		}
	}
	if c := one.Crowded(); c != 0 {
		t.Errorf("%d crowded once the copies are removed, want 0", c)
	}
	if _, err := one.Add(maria(n)); err != nil {
		t.Fatal(err)
	}
	registered := maria(n + 1)
	registered.Record = match.Sheltered
	if c, err := one.Add(registered); err != nil || len(c) != 1 || c[0].Kind != match.Found || c[0].Score < 0.5 {
		t.Errorf("Maria Pop's registration after the copies are deleted: %+v (%v), want her report, found", c, err)
	}
}
