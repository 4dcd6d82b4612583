package match_test

import (
	"slices"
	"testing"

	"lifeline/node/match"
)

func hasReason(c match.Candidate, code string) bool {
	return slices.ContainsFunc(c.Reasons, func(r match.Reason) bool { return r.Code == code })
}

// indexed is the candidates an index of the default configuration makes
// of people, added together.
func indexed(t *testing.T, people ...match.Person) []match.Candidate {
	t.Helper()
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	got, err := x.AddAll(people)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// What a clerk writes for a name not known (an injured person who cannot
// say it, a newborn not yet named) is not a name: two records of
// "Unknown" of one age and village are not one person by their names, and
// neither is in any block, so the index pairs them with nobody.
func TestANameNotKnownIsNotAName(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range [][2]string{
		{"Unknown", "UNKNOWN"},
		{"Desconocido", "desconocido"},
		{"N/A", "n/a"},
		{"Baby Pop", "Baby Pop"},
		{"Pop, Baby Girl", "Baby Pop"},
		{"Unknown Pop", "Unknown Pop"},
		{"Sin nombre", "SIN NOMBRE"},
	} {
		a := person("a", match.Missing, tc[0], "female", 0, "San Antonio", "Toledo")
		b := person("b", match.Sheltered, tc[1], "female", 0, "San Antonio", "Toledo")
		c := score(t, a, b)
		if c.Score >= threshold || hasReason(c, "name-same") || hasReason(c, "name-same-folded") {
			t.Errorf("%q and %q: scored %.3f, %v; want no name agreeing, under the threshold", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
		if got := indexed(t, a, b); len(got) != 0 {
			t.Errorf("%q and %q: the index pairs them: %v", tc[0], tc[1], got)
		}
	}
	// A name is not taken for one (Nana, Una, Baby's surname).
	a := person("a", match.Missing, "Nana Babb", "female", 70, "Dangriga", "Stann Creek")
	b := person("b", match.Sheltered, "NANA BABB", "female", 70, "Dangriga", "Stann Creek")
	if c := score(t, a, b); c.Score < threshold {
		t.Errorf("Nana Babb: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
}

// Jr. and Sr. are written to tell a father from his son of one name: two
// records whose generations differ are two people, whatever else agrees,
// and taken together a report that names neither joins one of them, not
// both. A generation written on one record only says nothing.
func TestGenerationsOfOneName(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	male := func(p match.Person) match.Person { p.Sex = "male"; return p }
	sr := male(toledo("r1", match.Missing, "Juan Coc Sr.", -1, "San Pedro Columbia"))
	jr := male(toledo("s1", match.Sheltered, "COC, JUAN JR", -1, "San Pedro Columbia"))
	c := score(t, sr, jr)
	if c.Score >= 0.05 || !hasReason(c, "name-generation") {
		t.Errorf("Juan Coc Sr. and Jr.: scored %.3f, %v; want far under the threshold, saying why", c.Score, c.ReasonsIn("en"))
	}
	if got, want := c.ReasonsIn("en")[len(c.Reasons)-1], "Sr. and Jr., two generations of one name"; !slices.Contains(c.ReasonsIn("en"), want) {
		t.Errorf("reasons %v, want %q (last %q)", c.ReasonsIn("en"), want, got)
	}
	// Sr. before a name is the Spanish señor, not a generation.
	for _, tc := range [][2]string{{"Juan Coc Jr.", "Juan Coc"}, {"Juan Coc II", "JUAN COC JR"}, {"Juan Coc Junior", "Juan Coc"}, {"Sr. Juan Coc", "Juan Coc Jr."}} {
		a := male(toledo("r1", match.Missing, tc[0], 19, "San Pedro Columbia"))
		b := male(toledo("s1", match.Sheltered, tc[1], 19, "San Pedro Columbia"))
		if c := score(t, a, b); c.Score < threshold || hasReason(c, "name-generation") {
			t.Errorf("%q and %q: scored %.3f, %v; want a match", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
	}
	noAge := male(toledo("r2", match.Missing, "Juan Coc", -1, "San Pedro Columbia"))
	got := pairsOf(groupOf(t, []match.Person{noAge, sr, jr}, nil))
	if len(got) != 1 || got[0] == "r1 s1" {
		t.Errorf("grouped %v, want the report of no generation with one of the two", got)
	}
}

// An initial ("J. Coc") agrees with a first name it begins, and with one
// whose nickname it begins (W. and Bill, who is William), weakly: enough
// with the rest of a record, less than a nickname. An initial of another
// letter disagrees. The abbreviations of registers (Ma., Wm., Fco.) stand
// for their names.
func TestInitialsAndAbbreviations(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range []struct {
		a, b  string
		match bool
	}{
		{"J. Coc", "Juan Coc", true},
		{"Coc, J.", "JUAN COC", true},
		{"W. Flowers", "Bill Flowers", true},
		{"P. Coc", "Juan Coc", false},
		{"Ma. Pop", "María Pop", true},
		{"Wm. Flowers", "William Flowers", true},
		{"Fco. Cal", "Francisco Caal", true},
		{"Chas. Young", "Charles Young", true},
	} {
		a := person("a", match.Missing, tc.a, "", 34, "San Antonio", "Toledo")
		b := person("b", match.Sheltered, tc.b, "", 34, "San Antonio", "Toledo")
		c := score(t, a, b)
		if got := c.Score >= threshold; got != tc.match {
			t.Errorf("%q and %q: scored %.3f, %v; want a match %v", tc.a, tc.b, c.Score, c.ReasonsIn("en"), tc.match)
		}
	}
	initial := score(t, person("a", match.Missing, "J. Coc", "", 34, "San Antonio", "Toledo"), person("b", match.Sheltered, "Juan Coc", "", 34, "San Antonio", "Toledo"))
	nick := score(t, person("a", match.Missing, "Chepe Coc", "", 34, "San Antonio", "Toledo"), person("b", match.Sheltered, "José Coc", "", 34, "San Antonio", "Toledo"))
	if initial.Weight >= nick.Weight || !hasReason(initial, "first-initial") {
		t.Errorf("J. and Juan weigh %.1f bits (%v), Chepe and José %.1f: want an initial weighing less", initial.Weight, initial.ReasonsIn("en"), nick.Weight)
	}
}

// What a person is called, written between quotes or brackets (Guillermo
// "Memo" Pop, Lennox (Dread) Flowers), stands for their first name: a
// report of Memo Pop finds him as a nickname would, and one of Dread
// Flowers finds Lennox though no table says Dread is Lennox. A stray mark
// is only a mark.
func TestWhatAPersonIsCalled(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range [][2]string{
		{`Guillermo "Memo" Pop`, "Memo Pop"},
		{"Lennox (Dread) Flowers", "Dread Flowers"},
		{"FLOWERS, LENNOX (DREAD)", "Dread Flowers"},
		{"Juan “Chino” Coc", "CHINO COC"},
		{"Lennox (Dread) Flowers", "Lennox Flowers"},
		{`Juan "Chino Coc`, "Juan Coc"},
		{"Lennox Flowers aka Dread", "Dread Flowers"},
		{"Juan Coc alias Chino", "Chino Coc"},
		{"Juan Coc, conocido como Chino", "Chino Coc"},
		{"Flowers, Lennox a.k.a. Dread", "Lennox Flowers"},
	} {
		a := person("a", match.Missing, tc[0], "male", 40, "Belize City", "Belize")
		b := person("b", match.Sheltered, tc[1], "male", 40, "Belize City", "Belize")
		c := score(t, a, b)
		if c.Score < threshold || hasReason(c, "first-differ") {
			t.Errorf("%q and %q: scored %.3f, %v; want a match", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
		if got := indexed(t, a, b); len(got) != 1 {
			t.Errorf("%q and %q: the index gives %v; want the pair", tc[0], tc[1], got)
		}
	}
	a := person("a", match.Missing, "Lennox (Dread) Flowers", "male", 40, "Belize City", "Belize")
	b := person("b", match.Sheltered, "Kevin Flowers", "male", 40, "Belize City", "Belize")
	if c := score(t, a, b); c.Score >= threshold {
		t.Errorf("Lennox (Dread) Flowers and Kevin Flowers: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
}

// A name of three words without a comma may be written surname first
// with a middle name ("POP SEBASTIANA CANDELARIA"), but not when a word
// before the one read as the first name is a given name: "Jennifer
// Adriana Santos" is Jennifer, not Adriana with a surname Jennifer. She may
// be called Adriana, her second given name, which is another reading and
// says so.
func TestAGivenNameIsNotReadAsASurname(t *testing.T) {
	a := person("a", match.Missing, "Adriana Santos", "female", 19, "Dangriga", "Stann Creek")
	b := person("b", match.Sheltered, "Jennifer Adriana Santos", "female", 19, "Dangriga", "Stann Creek")
	if c := score(t, a, b); hasReason(c, "name-surname-first") || !hasReason(c, "name-second-given") {
		t.Errorf("Adriana Santos and Jennifer Adriana Santos: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
	a = person("a", match.Missing, "Sebastiana Pop", "female", 19, "San Antonio", "Toledo")
	b = person("b", match.Sheltered, "POP SEBASTIANA CANDELARIA", "female", 19, "San Antonio", "Toledo")
	if c := score(t, a, b); !hasReason(c, "name-surname-first") || c.Score < match.DefaultConfig().Threshold {
		t.Errorf("Sebastiana Pop and POP SEBASTIANA CANDELARIA: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
}

// Nicknames of Belize's three languages of names stand for the name: a
// Mestizo Meche is Mercedes, a Creole Patsy is Patricia, a Mennonite Abe
// is Abraham and Henry is Heinrich.
func TestNicknamesOfThreeLanguages(t *testing.T) {
	for _, tc := range []struct{ a, b, village, district string }{
		{"Meche Cowo", "Mercedes Cowo", "Corozal Town", "Corozal"},
		{"Chabela Tun", "Isabel Tun", "San José", "Orange Walk"},
		{"Patsy Tillett", "Patricia Tillett", "Belize City", "Belize"},
		{"Dot Usher", "Dorothy Usher", "Belize City", "Belize"},
		{"Abe Friesen", "Abraham Friesen", "Blue Creek", "Orange Walk"},
		{"Henry Thiessen", "Heinrich Thiessen", "Spanish Lookout", "Cayo"},
		{"Jake Dueck", "Jacob Dyck", "Spanish Lookout", "Cayo"},
		{"Neil Penner", "Cornelius Penner", "Spanish Lookout", "Cayo"},
		{"Nettie Friesen", "Aganetha Friesen", "Shipyard", "Orange Walk"},
		{"Rigo Bol", "Rigoberto Bol", "San Antonio", "Toledo"},
		{"Fredo Chan", "Alfredo Chan", "San Antonio", "Cayo"},
		{"Neto Mai", "Ernesto Mai", "Sarteneja", "Corozal"},
	} {
		a := person("a", match.Missing, tc.a, "", 40, tc.village, tc.district)
		b := person("b", match.Sheltered, tc.b, "", 41, tc.village, tc.district)
		c := score(t, a, b)
		if !hasReason(c, "first-nickname") || c.Score < match.DefaultConfig().Threshold {
			t.Errorf("%q and %q: scored %.3f, %v; want a nickname, a match", tc.a, tc.b, c.Score, c.ReasonsIn("en"))
		}
	}
}

// A Creole name written down by a Spanish-speaking clerk, or the other way
// round, is the same name in the other language, though the two are
// spelled too far apart to be alike: George is Jorge, Lawrence Lorenzo.
func TestANameInTheOtherLanguage(t *testing.T) {
	for _, tc := range [][2]string{
		{"George Usher", "Jorge Usher"},
		{"Lawrence Tillett", "Lorenzo Tillett"},
		{"Jane Flowers", "Juana Flowers"},
		{"Philip Gentle", "Felipe Gentle"},
		{"Catherine Arnold", "Catalina Arnold"},
		{"Christopher Lamb", "Cristóbal Lamb"},
	} {
		a := person("a", match.Missing, tc[0], "", 40, "Hattieville", "Belize")
		b := person("b", match.Sheltered, tc[1], "", 41, "Hattieville", "Belize")
		c := score(t, a, b)
		if !hasReason(c, "first-nickname") || c.Score < match.DefaultConfig().Threshold {
			t.Errorf("%q and %q: scored %.3f, %v; want one name in two languages, a match", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
	}
}

// Two given names are written as one word as often as two: Mary Ann and
// Maryann, Juan Pablo and Juanpablo are one first name. Two surnames are
// not read so.
func TestTwoGivenNamesWrittenAsOne(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range [][2]string{
		{"Mary Ann Young", "Maryann Young"},
		{"YOUNG, MARY ANN", "Maryann Young"},
		{"Annmarie Flowers", "Ann Marie Flowers"},
		{"Juan Pablo Coc", "Juanpablo Coc"},
		{"Rose Mary Gentle", "Rosemary Gentle"},
	} {
		a := person("a", match.Missing, tc[0], "", 40, "Hattieville", "Belize")
		b := person("b", match.Sheltered, tc[1], "", 41, "Hattieville", "Belize")
		c := score(t, a, b)
		if !hasReason(c, "first-joined") || c.Score < threshold {
			t.Errorf("%q and %q: scored %.3f, %v; want one first name, a match", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
		if got := indexed(t, a, b); len(got) != 1 {
			t.Errorf("%q and %q: the index pairs them %d times, want once", tc[0], tc[1], len(got))
		}
	}
	a := person("a", match.Missing, "Maryann Young", "", 40, "Hattieville", "Belize")
	b := person("b", match.Sheltered, "YOUNG, MARY ANN", "", 41, "Hattieville", "Belize")
	const said = "Mary Ann and Maryann, one first name written in two words and in one"
	if got := score(t, a, b).ReasonsIn("en"); len(got) == 0 || got[0] != said {
		t.Errorf("Maryann Young and YOUNG, MARY ANN: %q, want first %q", got, said)
	}
	a = person("a", match.Missing, "Maria Pop Coc", "", 40, "San Antonio", "Toledo")
	b = person("b", match.Sheltered, "Mariapop Coc", "", 40, "San Antonio", "Toledo")
	if c := score(t, a, b); hasReason(c, "first-joined") {
		t.Errorf("Maria Pop Coc and Mariapop Coc: %v", c.ReasonsIn("en"))
	}
	a = person("a", match.Missing, "Mary Ann Young", "female", 8, "Hattieville", "Belize")
	b = person("b", match.Sheltered, "Maryann Young", "female", 60, "Hattieville", "Belize")
	if c := score(t, a, b); c.Score >= threshold {
		t.Errorf("a girl of 8 and a woman of 60: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
}

// A title a person is addressed by is not part of the name: Sister Maria
// Tillett is Maria Tillett, and Teacher Coc and Rev. Young are Coc and
// Young. Nor are the words of a household reported under its head's name
// (Juan Pop and family), or of a widow's (vda. de Coc).
func TestTitlesAreNotNames(t *testing.T) {
	for _, tc := range [][2]string{
		{"Sister Maria Tillett", "Maria Tillett"},
		{"Rev. John Young", "John Young"},
		{"Pastor Young, John", "JOHN YOUNG"},
		{"Teacher Ana Coc", "Ana Coc"},
		{"Hna. Rosa Chen", "Rosa Chen"},
		{"Juan Pop and family", "Juan Pop"},
		{"Juan Pop y familia", "POP, JUAN"},
		{"Maria Pop Vda. de Coc", "Maria Pop Coc"},
	} {
		a := person("a", match.Missing, tc[0], "", 40, "San Antonio", "Toledo")
		b := person("b", match.Sheltered, tc[1], "", 41, "San Antonio", "Toledo")
		if c := score(t, a, b); !hasReason(c, "name-same-folded") || c.Score < match.DefaultConfig().Threshold {
			t.Errorf("%q and %q: scored %.3f, %v; want the same name, a match", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
	}
}

// A register abbreviates a middle name as it does a first: José Ma. Coc
// is José María Coc, and the reason says so, not that Ma is a surname
// spelled otherwise.
func TestAMiddleNameAbbreviated(t *testing.T) {
	for _, tc := range [][2]string{
		{"Jose Ma. Coc", "José María Coc"},
		{"COC, JOSE MA.", "Jose Maria Coc"},
		{"Juan Fco. Pop", "Juan Francisco Pop"},
	} {
		a := person("a", match.Missing, tc[0], "", 40, "San Antonio", "Toledo")
		b := person("b", match.Sheltered, tc[1], "", 41, "San Antonio", "Toledo")
		c := score(t, a, b)
		if !hasReason(c, "name-abbreviated") || c.Score < match.DefaultConfig().Threshold {
			t.Errorf("%q and %q: scored %.3f, %v; want an abbreviation, a match", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
	}
}

// A person of two given names is often called by the second: the
// neighbour reports Elena Cowo, the shelter registers María Elena Cowo.
// The reading by the second name alone finds them, in one block and over
// the threshold, and says so; it weighs less than the name as written, so
// that of a Maria Elena and an Elena of one surname, ages far apart, no
// pair is made.
func TestCalledByTheSecondGivenName(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range []struct{ a, b, village, district string }{
		{"Elena Cowo", "María Elena Cowo", "Corozal Town", "Corozal"},
		{"José Novelo", "NOVELO, JUAN JOSE", "Orange Walk Town", "Orange Walk"},
		{"Isabel Tillett", "Mary Isabel Tillett", "Belize City", "Belize"},
	} {
		a := person("a", match.Missing, tc.a, "", 40, tc.village, tc.district)
		b := person("b", match.Sheltered, tc.b, "", 41, tc.village, tc.district)
		c := score(t, a, b)
		if !hasReason(c, "name-second-given") || c.Score < threshold {
			t.Errorf("%q and %q: scored %.3f, %v; want the second given name read, a match", tc.a, tc.b, c.Score, c.ReasonsIn("en"))
		}
		if got := indexed(t, a, b); len(got) != 1 {
			t.Errorf("%q and %q: the index pairs them %d times, want once", tc.a, tc.b, len(got))
		}
		exact := score(t, a, person("b", match.Sheltered, tc.a, "", 41, tc.village, tc.district))
		if c.Weight >= exact.Weight {
			t.Errorf("%q and %q weigh %.1f bits, as much as the name written alike (%.1f)", tc.a, tc.b, c.Weight, exact.Weight)
		}
	}
	a := person("a", match.Missing, "Elena Cowo", "female", 8, "Corozal Town", "Corozal")
	b := person("b", match.Sheltered, "María Elena Cowo", "female", 60, "Corozal Town", "Corozal")
	if c := score(t, a, b); c.Score >= threshold {
		t.Errorf("a girl of 8 and a woman of 60: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
	// Two given names are needed: Pop is a surname, not a name to be
	// called by.
	a = person("a", match.Missing, "Pop Coc", "", 40, "San Antonio", "Toledo")
	b = person("b", match.Sheltered, "Maria Pop Coc", "", 40, "San Antonio", "Toledo")
	if c := score(t, a, b); hasReason(c, "name-second-given") {
		t.Errorf("Pop Coc and Maria Pop Coc: %v", c.ReasonsIn("en"))
	}
}

// Surnames with a particle are written three ways: De la Cruz, Dela Cruz
// and Delacruz are one name, and so are De León and Deleon; Mac Kenzie,
// MacKenzie and McKenzie are one too. Delgado keeps its del.
func TestSurnamesWithAParticle(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range [][2]string{
		{"Juan Delacruz", "Juan de la Cruz"},
		{"Jose Dela Cruz", "JOSE DE LA CRUZ"},
		{"Rosa Deleon", "Rosa De León"},
		{"Mary Mac Kenzie", "Mary McKenzie"},
		{"MACKENZIE, MARY", "Mary McKenzie"},
	} {
		a := person("a", match.Missing, tc[0], "", 40, "Belize City", "Belize")
		b := person("b", match.Sheltered, tc[1], "", 41, "Belize City", "Belize")
		if c := score(t, a, b); c.Score < threshold {
			t.Errorf("%q and %q: scored %.3f, %v; want a match", tc[0], tc[1], c.Score, c.ReasonsIn("en"))
		}
	}
	a := person("a", match.Missing, "Juan Delgado", "", 40, "Belize City", "Belize")
	b := person("b", match.Sheltered, "Juan Gado", "", 41, "Belize City", "Belize")
	if c := score(t, a, b); c.Score >= threshold {
		t.Errorf("Juan Delgado and Juan Gado: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
}

// A reporter who gives the name a person goes by besides their name
// (also_known_as on a missing-person report) is read: one word is what the
// first name is called, two or more another name, married or maiden. A
// shelter clerk who writes that name finds the report, through a block of
// its own; without it the two are two people.
func TestAlsoKnownAs(t *testing.T) {
	threshold := match.DefaultConfig().Threshold
	for _, tc := range []struct{ name, aka, sheltered, reason string }{
		{"Guadalupe Chan", "Chila", "Chila Chan", "first-nickname"},
		{"Maria Pop", "Maria Bol", "Maria Bol", "name-aka"},
		{"Maria Pop", "BOL, MARIA", "Bol Maria", "name-aka"},
		{"Sharon Young", "Sharon Flowers", "Flowers, Sharon", "name-aka"},
		{"Unknown", "Chino Coc", "Chino Coc", "name-same"},
	} {
		a := person("a", match.Missing, tc.name, "", 34, "San Antonio", "Toledo")
		b := person("b", match.Sheltered, tc.sheltered, "", 35, "San Antonio", "Toledo")
		if c := score(t, a, b); c.Score >= threshold {
			t.Fatalf("%q and %q without the other name: scored %.3f, %v", tc.name, tc.sheltered, c.Score, c.ReasonsIn("en"))
		}
		a.AlsoKnownAs = tc.aka
		c := score(t, a, b)
		if c.Score < threshold || !hasReason(c, tc.reason) {
			t.Errorf("%q known as %q and %q: scored %.3f, %v; want a match, %s", tc.name, tc.aka, tc.sheltered, c.Score, c.ReasonsIn("en"), tc.reason)
		}
		if got := indexed(t, a, b); len(got) != 1 {
			t.Errorf("%q known as %q and %q: the index pairs them %d times, want once", tc.name, tc.aka, tc.sheltered, len(got))
		}
	}
	// What is written for no other name is none.
	a := person("a", match.Missing, "Maria Pop", "", 34, "San Antonio", "Toledo")
	b := person("b", match.Sheltered, "Maria Pop", "", 35, "San Antonio", "Toledo")
	plain := score(t, a, b)
	for _, none := range []string{"N/A", "none", "Ninguno", "-", "x"} {
		a.AlsoKnownAs = none
		if c := score(t, a, b); c.Weight != plain.Weight {
			t.Errorf("known as %q: weighs %.2f bits, %.2f without", none, c.Weight, plain.Weight)
		}
	}
	// Two reports that each give the married name agree through it.
	a = person("a", match.Missing, "Maria Pop", "", 34, "San Antonio", "Toledo")
	a.AlsoKnownAs = "Maria Bol"
	b = person("b", match.Missing, "Maria Choc", "", 35, "San Antonio", "Toledo")
	b.AlsoKnownAs = "Maria Bol"
	if c := score(t, a, b); c.Score < threshold {
		t.Errorf("two reports known as Maria Bol: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
	// Another name does not make a girl of 8 a woman of 60.
	a = person("a", match.Missing, "Maria Pop", "female", 8, "San Antonio", "Toledo")
	a.AlsoKnownAs = "Maria Bol"
	b = person("b", match.Sheltered, "Maria Bol", "female", 60, "San Antonio", "Toledo")
	if c := score(t, a, b); c.Score >= threshold {
		t.Errorf("a girl of 8 known as Maria Bol and a woman of 60: scored %.3f, %v", c.Score, c.ReasonsIn("en"))
	}
}
