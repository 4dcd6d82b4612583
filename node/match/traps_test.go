package match_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"lifeline/node/match"
)

// person is a report or a registration for the tests; age < 0 is unknown.
func person(id string, rec match.Record, name, sex string, age int, village, district string) match.Person {
	return match.Person{ID: id, Record: rec, FullName: name, Sex: sex, Age: max(age, 0), AgeKnown: age >= 0, Village: village, District: district}
}

func score(t *testing.T, a, b match.Person) match.Candidate {
	t.Helper()
	c, ok := match.Compare(a, b, match.DefaultConfig())
	if !ok {
		t.Fatalf("%q and %q not compared", a.FullName, b.FullName)
	}
	return c
}

// The traps of Belizean names, each with the outcome a NEMO tracing
// officer would give.
func TestTraps(t *testing.T) {
	const M, S = match.Missing, match.Sheltered
	threshold := match.DefaultConfig().Threshold
	for _, tc := range []struct {
		what  string
		a, b  match.Person
		match bool
		far   bool // not only below the threshold: far below, a veto
	}{
		{"Q'eqchi' surname spelled by ear: Caal and Cal",
			person("a", M, "Juan Caal", "male", 34, "San Antonio", "Toledo"),
			person("b", S, "Juan Cal", "male", 34, "San Antonio", "Toledo"), true, false},
		{"surname-first upper-case list, second surname dropped, accents",
			person("a", M, "POP COC, MARIA", "female", 25, "San Antonio", "Toledo"),
			person("b", S, "María Pop", "female", 24, "San Antonio", "Toledo"), true, false},
		{"surname-first list without a comma, a middle name, a typo",
			person("a", M, "REYES YOALNDA CARMEN", "female", 8, "Benque Viejo", "Cayo"),
			person("b", S, "Reyes, Yolanda", "female", 8, "Benque Viejo", "Cayo"), true, false},
		{"surname-first list without a comma, two surnames and a middle name",
			person("a", S, "VILLANUEVA SHOMAN VERONICA MARIA", "female", 29, "San Ignacio", "Cayo"),
			person("b", M, "Veronica Villanueva Shoman", "female", 29, "Santa Elena", "Cayo"), true, false},
		{"a nickname, and the name it stands for mistyped: Liz and Elizabbeth",
			person("a", M, "Liz Smith", "female", 6, "Punta Gorda", "Toledo"),
			person("b", S, "ELIZABBETH SMITH", "female", 6, "Punta Gorda", "Toledo"), true, false},
		{"nickname: Memo is Guillermo",
			person("a", M, "Memo Garcia", "male", 41, "San Ignacio", "Cayo"),
			person("b", M, "Guillermo García", "male", 40, "San Ignacio", "Cayo"), true, false},
		{"Mennonite spelling: Dyck and Dueck",
			person("a", M, "Abraham Dyck", "male", 52, "Spanish Lookout", "Cayo"),
			person("b", S, "Abraham Dueck", "male", 52, "Spanish Lookout", "Cayo"), true, false},
		{"Sho written Xo, Tzib written Tsib",
			person("a", M, "Santiago Xo Tsib", "male", 19, "Crique Sarco", "Toledo"),
			person("b", S, "Santiago Sho Tzib", "male", 20, "Crique Sarco", "Toledo"), true, false},
		{"a typo in a short first name: Ana and Asa",
			person("a", M, "Ana Zúñiga", "female", 17, "San Ignacio", "Cayo"),
			person("b", S, "ASA ZÚÑIGA", "female", 17, "San Ignacio", "Cayo"), true, false},
		{"typo in a Creole name",
			person("a", M, "Wilbert Gentel", "male", 63, "Gales Point", "Belize"),
			person("b", S, "Wilbert Gentle", "male", 63, "Gales Point", "Belize"), true, false},
		{"apostrophes and case",
			person("a", M, "O'NEIL, DORLA", "female", 30, "Belize City", "Belize"),
			person("b", M, "Dorla ONeil", "female", 30, "Belize City", "Belize"), true, false},
		{"the same words, surname first without a comma, the first name inside",
			person("a", M, "Abel Wilfredo Guerrero Pérez", "male", -1, "San Antonio", "Toledo"),
			person("b", S, "GUERRERO PEREZ ABEL WILFREDO", "male", 28, "San Antonio", "Toledo"), true, false},
		{"a Mennonite nickname: Tina is Katharina",
			person("a", M, "Tina Friesen", "female", 57, "Blue Creek", "Orange Walk"),
			person("b", S, "Friesen, Katharina", "female", 58, "Blue Creek", "Orange Walk"), true, false},
		{"same common name, one a child of 8 and one a woman of 60",
			person("a", M, "Maria Pop", "female", 8, "San Antonio", "Toledo"),
			person("b", S, "Maria Pop", "female", 60, "San Antonio", "Toledo"), false, true},
		{"father and son: Juan Coc of 45 and of 19",
			person("a", M, "Juan Coc", "male", 45, "San Pedro Columbia", "Toledo"),
			person("b", S, "Juan Coc", "male", 19, "San Pedro Columbia", "Toledo"), false, true},
		{"same surnames, different first names",
			person("a", M, "Rosa Choc", "female", 30, "Big Falls", "Toledo"),
			person("b", S, "Juana Choc", "female", 30, "Big Falls", "Toledo"), false, false},
		{"the second surname dropped, as Spanish names drop it: Garcia for Garcia Martinez",
			person("a", M, "Rosa Garcia", "female", 31, "San Ignacio", "Cayo"),
			person("b", S, "Rosa García Martínez", "female", 30, "San Ignacio", "Cayo"), true, false},
		{"the first surname dropped, which a Spanish name keeps: Martinez for Garcia Martinez",
			person("a", M, "Rosa Martinez", "female", 31, "San Ignacio", "Cayo"),
			person("b", S, "Rosa García Martínez", "female", 30, "San Ignacio", "Cayo"), false, false},
		{"a brother and a sister of one age: Mario and María",
			person("a", M, "Mario Tzib", "male", 40, "Yo Creek", "Orange Walk"),
			person("b", S, "Maria Tzib", "female", 40, "Yo Creek", "Orange Walk"), false, false},
		{"a brother and a sister, the sex of neither given: Juan and Juana",
			person("a", M, "Juan Pop", "", 12, "San Antonio", "Toledo"),
			person("b", S, "Juana Pop", "", 12, "San Antonio", "Toledo"), false, false},
		{"a brother and a sister, hers alone given: Daniel and Danielle",
			person("a", M, "Daniel Flowers", "", 20, "Dangriga", "Stann Creek"),
			person("b", S, "Danielle Flowers", "female", 20, "Dangriga", "Stann Creek"), false, false},
		{"a brother and a sister: Alexander and Alexandra",
			person("a", M, "Alexander Neal", "", 10, "Belize City", "Belize"),
			person("b", S, "Alexandra Neal", "", 10, "Belize City", "Belize"), false, false},
		{"a brother and a sister: Glen and Glenda",
			person("a", M, "Glen Young", "", 10, "Belize City", "Belize"),
			person("b", S, "Glenda Young", "", 10, "Belize City", "Belize"), false, false},
		{"twin sisters María and Marta: two names, not one mistyped",
			person("a", M, "Maria Pop", "female", 8, "San Antonio", "Toledo"),
			person("b", S, "Marta Pop", "female", 8, "San Antonio", "Toledo"), false, false},
		{"brothers Marco and Mario",
			person("a", M, "Marco Cal", "male", 15, "San Antonio", "Toledo"),
			person("b", S, "Mario Cal", "male", 14, "San Antonio", "Toledo"), false, false},
		{"twin brothers of one first name, their second names differ: Juan Pablo and Juan Carlos",
			person("a", M, "Juan Pablo Coc", "male", 30, "San Antonio", "Toledo"),
			person("b", S, "Juan Carlos Coc", "male", 30, "San Antonio", "Toledo"), false, false},
		{"sisters María José and María Luisa",
			person("a", M, "Maria Jose Pop", "female", 30, "San Antonio", "Toledo"),
			person("b", S, "POP, MARIA LUISA", "female", 30, "San Antonio", "Toledo"), false, false},
		{"one second given name, the other record giving none",
			person("a", M, "Juan Pablo Coc", "male", 30, "San Antonio", "Toledo"),
			person("b", S, "Juan Coc", "male", 30, "San Antonio", "Toledo"), true, false},
		{"one second given name, as a nickname on the other: Guadalupe and Lupe",
			person("a", M, "Maria Guadalupe Chan", "female", 44, "Corozal", "Corozal"),
			person("b", S, "Maria Lupe Chan", "female", 44, "Corozal", "Corozal"), true, false},
		{"one name spelled by ear: Sean and Shawn",
			person("a", M, "Shawn Tillett", "male", 28, "Belize City", "Belize"),
			person("b", S, "Sean Tillett", "male", 28, "Belize City", "Belize"), true, false},
		{"one name spelled by ear: Dwayne and Duane",
			person("a", M, "Dwayne Reid", "male", 35, "Belize City", "Belize"),
			person("b", S, "Duane Reid", "male", 35, "Belize City", "Belize"), true, false},
		{"the Spanish y English writes j: Yesenia and Jessenia",
			person("a", M, "Yesenia Castillo", "female", 19, "San Ignacio", "Cayo"),
			person("b", S, "Jessenia Castillo", "female", 19, "San Ignacio", "Cayo"), true, false},
		{"one name in two languages: Arthur and Arturo",
			person("a", M, "Arthur Gillett", "male", 61, "Hattieville", "Belize"),
			person("b", S, "Arturo Gillett", "male", 61, "Hattieville", "Belize"), true, false},
		{"cousins: one surname in common, the others differ",
			person("a", M, "Maria Pop Coc", "female", 30, "Laguna", "Toledo"),
			person("b", S, "Maria Pop Bol", "female", 33, "Laguna", "Toledo"), false, false},
	} {
		c := score(t, tc.a, tc.b)
		if got := c.Score >= threshold; got != tc.match {
			t.Errorf("%s: %q and %q scored %.3f (match %v, want %v): %v", tc.what, tc.a.FullName, tc.b.FullName, c.Score, got, tc.match, c.ReasonsIn("en"))
		}
		if tc.far && c.Score > 0.05 {
			t.Errorf("%s: %q and %q scored %.3f, want far below the threshold", tc.what, tc.a.FullName, tc.b.FullName, c.Score)
		}
	}
}

// Pop is a Q'eqchi' name, one Toledo family in several, rare in Corozal:
// two records agreeing on it say less in Toledo than in Corozal, by the
// ratio of the Maya's share of the two districts (0.62 and 0.07, Census
// 2010), log2(0.62/0.07) = 3.1 bits. A name every people bears (Martínez)
// says the same in both. Given names of one people count so too.
func TestNamesCommonInTheirDistrict(t *testing.T) {
	weight := func(name, village, district string) float64 {
		a := person("a", match.Missing, name, "male", 30, village, district)
		b := person("b", match.Sheltered, name, "male", 30, village, district)
		return score(t, a, b).Weight
	}
	toledo, corozal := weight("Juan Pop", "Santa Cruz", "Toledo"), weight("Juan Pop", "Santa Cruz", "Corozal")
	if d := corozal - toledo; d < 3.0 || d > 3.2 {
		t.Errorf("Juan Pop of Santa Cruz weighs %.2f bits in Toledo, %.2f in Corozal: %.2f apart, want 3.1", toledo, corozal, d)
	}
	toledo, corozal = weight("Juan Martínez", "Santa Cruz", "Toledo"), weight("Juan Martínez", "Santa Cruz", "Corozal")
	if toledo != corozal {
		t.Errorf("Juan Martínez of Santa Cruz weighs %.2f bits in Toledo, %.2f in Corozal, want the same", toledo, corozal)
	}
	// Franz is a Mennonite's name as Harder is: both say less in Orange
	// Walk, where Mennonites are 0.11 of the people, than in Belize
	// District, where they are 0.005: 2 × log2(0.11/0.005) = 8.9 bits.
	ow, bz := weight("Franz Harder", "Trinidad", "Orange Walk"), weight("Franz Harder", "Trinidad", "Belize")
	if d := bz - ow; d < 8.8 || d > 9.0 {
		t.Errorf("Franz Harder weighs %.2f bits in Orange Walk, %.2f in Belize District: %.2f apart, want 8.9", ow, bz, d)
	}
	// Dwight is a Creole's name as Flowers is: Creoles are 0.55 of Belize
	// District's people and 0.05 of Toledo's, 2 × log2(0.55/0.05) = 6.9.
	bz, toledo = weight("Dwight Flowers", "Trinidad", "Belize"), weight("Dwight Flowers", "Trinidad", "Toledo")
	if d := toledo - bz; d < 6.8 || d > 7.0 {
		t.Errorf("Dwight Flowers weighs %.2f bits in Belize District, %.2f in Toledo: %.2f apart, want 6.9", bz, toledo, d)
	}
}

// "Marvin García" is Marvin of the García family, not a García whose
// surname is Marvin: it is not proposed for "GARCÍA MARTÍNEZ PACO".
func TestSurnameIsNotReadAsFirstName(t *testing.T) {
	a := person("a", match.Missing, "GARCÍA MARTÍNEZ PACO", "male", -1, "San Felipe", "Orange Walk")
	b := person("b", match.Sheltered, "Marvin García", "male", 18, "San Felipe", "Orange Walk")
	if c := score(t, a, b); c.Score >= match.DefaultConfig().Threshold {
		t.Errorf("%q and %q scored %.3f: %v", a.FullName, b.FullName, c.Score, c.ReasonsIn("en"))
	}
}

// San Antonio is a village of Cayo and one of Toledo: two reports from
// the two are less alike than two from the one.
func TestSameVillageNameOtherDistrict(t *testing.T) {
	a := person("a", match.Missing, "Pedro Sho", "male", 40, "San Antonio", "Toledo")
	same := person("b", match.Missing, "Pedro Sho", "male", 40, "San Antonio", "Toledo")
	other := person("c", match.Missing, "Pedro Sho", "male", 40, "San Antonio", "Cayo")
	if s, o := score(t, a, same).Score, score(t, a, other).Score; !(o < s) {
		t.Errorf("San Antonio, Toledo twice scored %.3f; San Antonio in Toledo and in Cayo %.3f, want lower", s, o)
	}
	c := score(t, a, other)
	if want := "San Antonio in Cayo and in Toledo, different places"; !contains(c.ReasonsIn("en"), want) {
		t.Errorf("reasons %q lack %q", c.ReasonsIn("en"), want)
	}
}

func TestReasonsInTwoLanguages(t *testing.T) {
	a := person("r1", match.Missing, "POP COC, MARIA", "female", 25, "", "Toledo")
	b := person("r2", match.Missing, "María Pop Coc", "female", 24, "", "Toledo")
	c := score(t, a, b)
	if c.A != "r1" || c.B != "r2" || c.Kind != match.Duplicate {
		t.Errorf("pair %s %s %s, want r1 r2 duplicate", c.A, c.B, c.Kind)
	}
	en := []string{"same name ignoring accents, case and order", "ages 25 and 24", "both female", "both Toledo"}
	es := []string{"mismo nombre sin contar acentos, mayúsculas ni orden", "edades 25 y 24", "los dos de sexo femenino", "los dos en Toledo"}
	if got := c.ReasonsIn("en"); strings.Join(got, "; ") != strings.Join(en, "; ") {
		t.Errorf("English reasons %q, want %q", got, en)
	}
	if got := c.ReasonsIn("es"); strings.Join(got, "; ") != strings.Join(es, "; ") {
		t.Errorf("Spanish reasons %q, want %q", got, es)
	}
	n := score(t, person("a", match.Missing, "Memo Garcia", "male", 41, "", ""), person("b", match.Sheltered, "Guillermo García", "male", 41, "", ""))
	if n.Kind != match.Found || !contains(n.ReasonsIn("en"), "Memo is a name for Guillermo") || !contains(n.ReasonsIn("es"), "Memo es un nombre de Guillermo") {
		t.Errorf("kind %s, reasons %q / %q", n.Kind, n.ReasonsIn("en"), n.ReasonsIn("es"))
	}
}

func TestTwoRegistrationsAreNotPaired(t *testing.T) {
	a := person("a", match.Sheltered, "Juan Caal", "male", 34, "San Antonio", "Toledo")
	b := person("b", match.Sheltered, "Juan Caal", "male", 34, "San Antonio", "Toledo")
	if _, ok := match.Compare(a, b, match.DefaultConfig()); ok {
		t.Error("two shelter registrations were paired")
	}
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []match.Person{a, b} {
		if c, err := x.Add(p); err != nil || len(c) != 0 {
			t.Fatalf("Add(%s) = %v, %v; want no candidates", p.ID, c, err)
		}
	}
	m := person("c", match.Missing, "Juan Cal", "male", 33, "San Antonio", "Toledo")
	c, err := x.Add(m)
	if err != nil || len(c) != 2 {
		t.Fatalf("the report made %d candidates (%v), want 2 (each registration)", len(c), err)
	}
	for _, k := range c {
		if k.Kind != match.Found {
			t.Errorf("candidate %s-%s is %s, want found", k.A, k.B, k.Kind)
		}
	}
}

func TestRefused(t *testing.T) {
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ok := person("a", match.Missing, "Juan Caal", "male", 34, "San Antonio", "Toledo")
	if _, err := x.Add(ok); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Add(ok); !errors.Is(err, match.ErrDuplicateID) {
		t.Errorf("the same id twice: %v, want ErrDuplicateID", err)
	}
	for _, tc := range []struct {
		p    match.Person
		want string
	}{
		{person("", match.Missing, "x", "", 1, "", ""), "no id"},
		{person("b", match.Missing, strings.Repeat("Pop ", 200), "", 1, "", ""), "full name is 800 bytes, over 480"},
		{person("c", match.Missing, "Juan", "man", 1, "", ""), `sex "man" is none of`},
		{person("d", match.Missing, "Juan", "", 131, "", ""), "age 131 is outside 0 to 130"},
		{person("e", match.Missing, "Juan \xff", "", 1, "", ""), "full name is not valid UTF-8"},
		{person("f", 0, "Juan", "", 1, "", ""), "neither missing-person nor sheltered-person"},
	} {
		_, err := x.Add(tc.p)
		if !errors.Is(err, match.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%+v) = %v, want ErrInvalid saying %q", tc.p, err, tc.want)
		}
	}
	if x.Len() != 1 {
		t.Errorf("index holds %d people, want 1", x.Len())
	}
}

func contains(ss []string, s string) bool {
	for _, t := range ss {
		if t == s {
			return true
		}
	}
	return false
}

// Places as Belizeans write them: PG for Punta Gorda, Benque for Benque
// Viejo del Carmen, Mango Creek for Independence, "Toledo District" and
// "Distrito de Toledo" for Toledo, are the same place.
func TestPlacesAsBelizeansWriteThem(t *testing.T) {
	for _, tc := range [][4]string{
		{"PG", "Toledo", "Punta Gorda", "Toledo"},
		{"Benque", "Cayo", "Benque Viejo del Carmen", "Cayo"},
		{"Mango Creek", "Stann Creek", "Independence Village", "Stann Creek"},
		{"San Pedro", "Belize", "Ambergris Caye", "Belize District"},
		{"Punta Gorda", "Toledo District", "Punta Gorda Town", "Distrito de Toledo"},
		{"Dangriga", "Stan Creek", "Dangriga", "Stann Creek"},
		{"Sta. Cruz", "Toledo", "Santa Cruz", "Toledo"},
		{"Sn Jose", "Orange Walk", "San José", "Orange Walk"},
		{"St. Margaret", "Stann Creek", "Saint Margaret Village", "Stann Creek"},
		{"BZ City", "Belize", "Belize City", "Belize"},
		{"OW Town", "Orange Walk", "Orange Walk Town", "Orange Walk"},
	} {
		a := person("a", match.Missing, "Juan Pop", "male", 30, tc[0], tc[1])
		b := person("b", match.Sheltered, "Juan Pop", "male", 30, tc[2], tc[3])
		c := score(t, a, b)
		if !slices.ContainsFunc(c.Reasons, func(r match.Reason) bool { return r.Code == "place-same" }) {
			t.Errorf("%s, %s and %s, %s: %v; want the same place", tc[0], tc[1], tc[2], tc[3], c.ReasonsIn("en"))
		}
	}
}

// Ages as reporters give them are a year or two off, or a guess of a
// decade; a child's age is known closer. Too far apart for one person:
// more than ten years, or more than five for a child under 13.
func TestAgesApart(t *testing.T) {
	for _, tc := range []struct {
		a, b  int
		apart bool
	}{
		{45, 19, true}, {8, 60, true}, {25, 24, false}, {30, 40, false}, {30, 41, true},
		{8, 13, false}, {8, 14, true}, {12, 18, true}, {13, 19, false}, {0, 5, false}, {0, 6, true},
	} {
		if got := match.AgesApart(tc.a, tc.b); got != tc.apart || match.AgesApart(tc.b, tc.a) != got {
			t.Errorf("ages %d and %d apart: %v, want %v either way", tc.a, tc.b, got, tc.apart)
		}
	}
}

// A village as reporters write it: with its district, with "Village", in
// parts with a landmark, abbreviated. Each is the village it names, as
// Toledo's tracing officer reads it, and weighs as that village does;
// a district named in the village is the record's district when it gives
// none, so that San Antonio, Toledo is not the San Antonio of Cayo.
func TestVillagesAsReportersWriteThem(t *testing.T) {
	const M, S = match.Missing, match.Sheltered
	plain := func(village, district string) match.Candidate {
		return score(t, person("a", M, "Maria Pop", "female", 30, village, district), person("b", S, "Maria Pop", "female", 31, "San Antonio", "Toledo"))
	}
	want := plain("San Antonio", "Toledo")
	for _, tc := range []struct{ village, district string }{
		{"San Antonio, Toledo", ""}, {"San Antonio, Toledo", "Toledo"}, {"San Antonio Village, Toledo District", "Toledo"},
		{"San Antonio Toledo", ""}, {"near the church, San Antonio", "Toledo"}, {"Sn. Antonio (Toledo)", ""}, {"SAN ANTONIO - TOLEDO", ""},
	} {
		c := plain(tc.village, tc.district)
		if c.Score != want.Score || !slices.Contains(c.ReasonsIn("en"), "both San Antonio, Toledo") {
			t.Errorf("%q of %q: %.3f %q; want %.3f, both San Antonio, Toledo", tc.village, tc.district, c.Score, c.ReasonsIn("en"), want.Score)
		}
	}
	if c := plain("San Antonio, Toledo", "Cayo"); c.Score != plain("San Antonio", "Cayo").Score {
		t.Errorf("San Antonio, Toledo of Cayo (the district as given) scores %.3f, San Antonio of Cayo %.3f", c.Score, plain("San Antonio", "Cayo").Score)
	}
	// San Antonio of Cayo is another place than San Antonio, Toledo.
	cayo := score(t, person("a", M, "Maria Pop", "female", 30, "San Antonio", "Cayo"), person("b", S, "Maria Pop", "female", 31, "San Antonio, Toledo", ""))
	if !slices.Contains(cayo.ReasonsIn("en"), "San Antonio in Toledo and in Cayo, different places") || cayo.Score >= want.Score {
		t.Errorf("San Antonio of Cayo and San Antonio, Toledo: %.3f %q", cayo.Score, cayo.ReasonsIn("en"))
	}
	// A district alone, or a town named as its district, is the town.
	for _, tc := range [][2]string{{"Belize", "Belize City"}, {"Orange Walk Town", "Orange Walk"}, {"Corozal Town", "Corozal"}, {"Ladyville, Belize", "Ladyville"}} {
		district := map[string]string{"Orange Walk": "Orange Walk", "Corozal": "Corozal"}[tc[1]]
		if district == "" {
			district = "Belize"
		}
		a := score(t, person("a", M, "Mary Young", "female", 30, tc[0], district), person("b", S, "Mary Young", "female", 31, tc[1], district))
		b := score(t, person("a", M, "Mary Young", "female", 30, tc[1], district), person("b", S, "Mary Young", "female", 31, tc[1], district))
		if a.Score != b.Score {
			t.Errorf("%q and %q score %.3f, the same village written alike %.3f: %q", tc[0], tc[1], a.Score, b.Score, a.ReasonsIn("en"))
		}
	}
	// Crique Sarco as an English speaker writes it.
	creek := score(t, person("a", M, "Maria Pop", "female", 30, "Creek Sarco", "Toledo"), person("b", S, "Maria Pop", "female", 31, "Crique Sarco", "Toledo"))
	same := score(t, person("a", M, "Maria Pop", "female", 30, "Crique Sarco", "Toledo"), person("b", S, "Maria Pop", "female", 31, "Crique Sarco", "Toledo"))
	if creek.Score != same.Score {
		t.Errorf("Creek Sarco and Crique Sarco: %.3f %q; Crique Sarco on both %.3f", creek.Score, creek.ReasonsIn("en"), same.Score)
	}
	// A landmark is not a village.
	if c := plain("the market", "Toledo"); c.Score >= want.Score || !slices.Contains(c.ReasonsIn("en"), "San Antonio and the market, both Toledo") {
		t.Errorf("the market and San Antonio: %.3f %q", c.Score, c.ReasonsIn("en"))
	}
}

// A Spanish name keeps its first surname, the father's, and drops the
// second: a record that has only the second of another's two is told so,
// and weighs less than one that has only the first.
func TestTheFirstSurnameIsTheOneKept(t *testing.T) {
	reg := person("r", match.Sheltered, "Rosa García Martínez", "female", 30, "San Ignacio", "Cayo")
	first := score(t, person("a", match.Missing, "Rosa Garcia", "female", 30, "San Ignacio", "Cayo"), reg)
	second := score(t, person("b", match.Missing, "ROSA MARTINEZ", "female", 30, "San Ignacio", "Cayo"), reg)
	if want := "surname Garcia on both, one also Martinez"; !contains(first.ReasonsIn("en"), want) {
		t.Errorf("reasons %q lack %q", first.ReasonsIn("en"), want)
	}
	if want := "surname Martinez on both, the first surname Garcia left out of one"; !contains(second.ReasonsIn("en"), want) {
		t.Errorf("reasons %q lack %q", second.ReasonsIn("en"), want)
	}
	if want := "apellido Martinez en los dos, el primer apellido Garcia falta en uno"; !contains(second.ReasonsIn("es"), want) {
		t.Errorf("reasons %q lack %q", second.ReasonsIn("es"), want)
	}
	// Garcia and Martinez are as common as each other: what parts the
	// two is which of the two surnames was left out.
	if first.Weight-second.Weight < 2 {
		t.Errorf("Rosa Garcia weighs %.1f bits, Rosa Martinez %.1f: want the first surname kept to weigh more by 2 bits or more", first.Weight, second.Weight)
	}
}

// A wife may write her husband's surname after de, and is known by it as
// often as by her own: María Coc is as likely María Pop de Coc as she is
// María Coc Pop, who kept her first surname, and more likely than María
// Pop Coc, who kept only her second. De la Cruz is a surname, not a
// husband.
func TestAWifeIsKnownByHerHusbandsName(t *testing.T) {
	const M, S = match.Missing, match.Sheltered
	report := person("a", M, "MARIA COC", "female", 35, "San Antonio", "Toledo")
	reg := func(name string) match.Person { return person("r", S, name, "female", 35, "San Antonio", "Toledo") }
	kept := score(t, report, reg("María Coc Pop"))
	for _, name := range []string{"María Pop de Coc", "POP DE COC, MARIA"} {
		husbands := score(t, report, reg(name))
		if math.Abs(husbands.Weight-kept.Weight) > 1e-9 || husbands.Score < match.DefaultConfig().Threshold {
			t.Errorf("María Coc against %s: %.2f bits (%.3f, %q); want %.2f, as against María Coc Pop", name, husbands.Weight, husbands.Score, husbands.ReasonsIn("en"), kept.Weight)
		}
	}
	if second := score(t, report, reg("María Pop Coc")); kept.Weight-second.Weight < 2 {
		t.Errorf("María Coc: %.1f bits against María Coc Pop, %.1f against María Pop Coc; want her first surname kept to weigh more by 2 bits or more", kept.Weight, second.Weight)
	}
	cruz := score(t, person("e", M, "Rosa Cruz", "female", 30, "Benque Viejo", "Cayo"), person("r", S, "Rosa García de la Cruz", "female", 30, "Benque Viejo", "Cayo"))
	if want := "surname Cruz on both, the first surname Garcia left out of one"; !contains(cruz.ReasonsIn("en"), want) {
		t.Errorf("Rosa García de la Cruz and Rosa Cruz: reasons %q lack %q", cruz.ReasonsIn("en"), want)
	}
}
