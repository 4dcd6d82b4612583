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

// Pairs that score well are found by the index too, whatever the slips
// that keep them from sharing the obvious block: a surname mistyped in its
// second letter (its first sound changes), a first name mistyped that the
// other record writes as a name standing for another (Elizabeth for
// Isabel), a nickname mistyped that begins otherwise than the name it
// stands for (Grreta for Greta, Margaretha), a name written surname first
// with a middle name, a name whose surname reads as a title.
func TestIndexFindsPairsThatScoreWell(t *testing.T) {
	for _, pair := range [][2]match.Person{
		{person("r1", match.Missing, "Cestillo, Ana", "female", 47, "Red Bank", "Stann Creek"), person("s1", match.Sheltered, "Ana Castillo", "female", 47, "Red Bank", "Stann Creek")},
		{person("r1", match.Missing, "Cawich, Elizabeth Sandra", "female", 70, "", "Belize"), person("s1", match.Sheltered, "Elzabeth Cawich", "female", 70, "", "Belize")},
		{person("r1", match.Missing, "Margaretha Fehr", "female", 36, "Blue Creek", "Orange Walk"), person("s1", match.Sheltered, "Grreta Fehr", "female", 36, "Blue Creek", "Orange Walk")},
		{person("r1", match.Missing, "SALAZAR, JOSÉ", "male", 24, "Trial Farm", "Orange Walk"), person("s1", match.Sheltered, "Prpe Salazar", "male", 24, "Trial Farm", "Orange Walk")},
		{person("r1", match.Missing, "Pop, Sebastiana Candelaria", "female", 14, "", "Corozal"), person("s1", match.Sheltered, "Pop Sebastiana Candelaria", "female", 15, "", "Corozal")},
		{person("r1", match.Missing, "Jessenia Castillo", "female", 19, "San Ignacio", "Cayo"), person("s1", match.Sheltered, "Yesenia Castillo", "female", 19, "San Ignacio", "Cayo")},
		{person("r1", match.Missing, "Karla Briceno", "female", 33, "Orange Walk", "Orange Walk"), person("s1", match.Sheltered, "Carla Briceño", "female", 33, "Orange Walk", "Orange Walk")},
		{person("r1", match.Missing, "Sheryl Usher", "female", 41, "Belize City", "Belize"), person("s1", match.Sheltered, "Cheryl Usher", "female", 41, "Belize City", "Belize")},
		{person("r1", match.Missing, "Kristina Reyes", "female", 16, "Benque Viejo", "Cayo"), person("s1", match.Sheltered, "Cristina Reyes", "female", 16, "Benque Viejo", "Cayo")},
		{person("r1", match.Missing, "Magdalena Ms", "female", 25, "San Roman", "Stann Creek"), person("s1", match.Sheltered, "Magdalena Mes", "female", 25, "San Roman", "Stann Creek")},
	} {
		c, ok := match.Compare(pair[0], pair[1], match.DefaultConfig())
		if !ok || c.Score < 0.5 {
			t.Fatalf("%q and %q score %.2f; the test needs them above the threshold", pair[0].FullName, pair[1].FullName, c.Score)
		}
		x, err := match.NewIndex(match.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.AddAll(pair[:]); err != nil {
			t.Fatal(err)
		}
		if got := x.Candidates(); len(got) != 1 {
			t.Errorf("%q and %q score %.2f, but the index finds %+v", pair[0].FullName, pair[1].FullName, c.Score, got)
		}
	}
}
