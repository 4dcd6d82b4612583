package match_test

import (
	"testing"

	"lifeline/node/match"
)

// An index kept from one call to the next: a record corrected is taken out
// and added as it now reads, its old pairs gone; a record not yet saved
// is matched against the index without being added.
func TestIndexRemoveAndQuery(t *testing.T) {
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	maria := match.Person{ID: "r1", Record: match.Missing, FullName: "María Pop", Sex: "female", Age: 24, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	again := match.Person{ID: "r2", Record: match.Missing, FullName: "POP, MARIA", Sex: "female", Age: 25, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	pedro := match.Person{ID: "r2", Record: match.Missing, FullName: "Pedro Sho", Sex: "male", Age: 70, AgeKnown: true, Village: "Silver Creek", District: "Toledo"}
	sheltered := match.Person{ID: "s1", Record: match.Sheltered, FullName: "Maria Pop", Sex: "female", Age: 24, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	for _, p := range []match.Person{maria, again} {
		if _, err := x.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	if c := x.Candidates(); len(c) != 1 || c[0].A != "r1" || c[0].B != "r2" {
		t.Fatalf("candidates %+v, want r1 and r2", c)
	}

	got, err := x.Query(sheltered)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != match.Found || got[1].Kind != match.Found {
		t.Fatalf("a registration of Maria Pop not yet saved matches %+v, want both reports, as found", got)
	}
	if x.Len() != 2 || len(x.Candidates()) != 1 {
		t.Fatalf("the query added to the index: %d people, %+v", x.Len(), x.Candidates())
	}

	if !x.Remove("r2") || x.Remove("r2") || x.Removed() != 1 {
		t.Fatalf("r2 is removed once, and only once; %d removed", x.Removed())
	}
	if c := x.Candidates(); len(c) != 0 {
		t.Fatalf("after r2 is taken out, candidates %+v, want none", c)
	}
	if _, err := x.Add(pedro); err != nil {
		t.Fatalf("r2 added again as corrected: %v", err)
	}
	if c := x.Candidates(); len(c) != 0 || x.Len() != 2 {
		t.Fatalf("r2 corrected to Pedro Sho: %d people, candidates %+v; want 2 and none", x.Len(), c)
	}
	got, err = x.Query(sheltered)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].A != "r1" || got[0].B != "s1" {
		t.Fatalf("the registration now matches %+v, want r1 alone", got)
	}
	// A record matched as it is edited is not matched with itself.
	if got, err := x.Query(maria); err != nil || len(got) != 0 {
		t.Fatalf("r1 queried as it is matches %+v (%v), want none", got, err)
	}
}
