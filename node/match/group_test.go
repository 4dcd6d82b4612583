package match_test

import (
	"slices"
	"strings"
	"testing"

	"lifeline/node/match"
)

// asCompared is an index of people whose prior is the default prior whatever
// its size (PriorRecords 0), so that its pairs score as Compare scores
// them: these few records stand for a set of the default's size.
func asCompared(t *testing.T, people []match.Person) *match.Index {
	t.Helper()
	cfg := match.DefaultConfig()
	cfg.PriorRecords = 0
	x, err := match.NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.AddAll(people); err != nil {
		t.Fatal(err)
	}
	return x
}

// groupOf indexes people and groups their candidates at the default
// threshold, the candidates given in both orders; it fails the test if the
// two orders group differently.
func groupOf(t *testing.T, people []match.Person, decisions map[[2]string]match.Decision) []match.Candidate {
	t.Helper()
	x := asCompared(t, people)
	cands := x.Candidates()
	// A pair decided one person that the index did not find is given
	// too, as a node gives it.
	for k, d := range decisions {
		if d != match.Same || slices.ContainsFunc(cands, func(c match.Candidate) bool { return c.A == k[0] && c.B == k[1] }) {
			continue
		}
		if c, ok := x.Pair(k[0], k[1]); ok {
			cands = append(cands, c)
		}
	}
	decided := func(a, b string) match.Decision { return decisions[[2]string{min(a, b), max(a, b)}] }
	got := x.Group(cands, 0.5, decided)
	slices.Reverse(cands)
	again := x.Group(cands, 0.5, decided)
	if !slices.EqualFunc(got, again, func(a, b match.Candidate) bool { return a.A == b.A && a.B == b.B && a.Score == b.Score }) {
		t.Fatalf("grouped %v, the candidates reversed %v", pairsOf(got), pairsOf(again))
	}
	return got
}

func pairsOf(cs []match.Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.A+" "+c.B)
	}
	slices.Sort(out)
	return out
}

func toledo(id string, rec match.Record, name string, age int, village string) match.Person {
	return person(id, rec, name, "female", age, village, "Toledo")
}

// A report of Candelaria Tzib of no age matches the registrations of a
// Candelaria Tzib of 8 and one of 60 whose sex is not written: she is one
// person, registered once, so the stronger stands and the other does not.
// A second report, of the woman of 60, keeps that registration: it is the
// best of another person's report.
func TestGroupKeepsAReportsBestRegistration(t *testing.T) {
	r1 := toledo("r1", match.Missing, "Candelaria Tzib", -1, "San Antonio")
	girl := toledo("s1", match.Sheltered, "TZIB, CANDELARIA", 8, "San Antonio")
	woman := toledo("s2", match.Sheltered, "Candelaria Tzib", 60, "San Antonio")
	r2 := toledo("r2", match.Missing, "Candelária Tzib", 61, "San Antonio")
	woman.Sex, r2.Sex = "unknown", "unknown" // the girl's record says more
	people := []match.Person{r1, girl, woman, r2}
	for _, p := range [][2]match.Person{{r1, girl}, {r1, woman}, {r2, woman}} {
		if s := score(t, p[0], p[1]).Score; s < 0.5 {
			t.Fatalf("%s and %s score %.2f; the test needs both pairs above the threshold", p[0].ID, p[1].ID, s)
		}
	}
	if score(t, r1, girl).Score <= score(t, r1, woman).Score {
		t.Fatal("the test needs the girl of the report's own village to be the stronger match")
	}
	got := pairsOf(groupOf(t, people, nil))
	if want := []string{"r1 s1", "r2 s2"}; !slices.Equal(got, want) {
		t.Fatalf("grouped %v, want %v", got, want)
	}
}

// Two reports of Guillermo Bautista, one by his nickname with no age, one
// with his second surname and no village, each match his registration well but each
// other weakly: taken together they are one person, and the pair of the
// two reports is given, with the reason, at the score of the weaker of the
// two pairs that join them.
func TestGroupJoinsThroughThePersonsOtherRecords(t *testing.T) {
	male := func(p match.Person) match.Person { p.Sex = "male"; return p }
	memo := male(toledo("r1", match.Missing, "Memo Bautista", -1, "San Antonio"))
	full := male(toledo("r2", match.Missing, "Guillermo Bautista Shol", 45, ""))
	reg := male(toledo("s1", match.Sheltered, "BAUTISTA SHOL, GUILLERMO", 45, "San Antonio"))
	direct := score(t, memo, full).Score
	if direct >= 0.5 {
		t.Fatalf("the two reports score %.2f; the test needs them under the threshold", direct)
	}
	weaker := min(score(t, memo, reg).Score, score(t, full, reg).Score)
	if weaker < 0.5 {
		t.Fatalf("the reports score %.2f with the registration; the test needs both above the threshold", weaker)
	}
	got := groupOf(t, []match.Person{memo, full, reg}, nil)
	if want := []string{"r1 r2", "r1 s1", "r2 s1"}; !slices.Equal(pairsOf(got), want) {
		t.Fatalf("grouped %v, want %v", pairsOf(got), want)
	}
	for _, c := range got {
		if c.A != "r1" || c.B != "r2" {
			continue
		}
		if c.Kind != match.Duplicate || c.Score != weaker {
			t.Fatalf("the reports' pair is %s at %.3f, want duplicate at %.3f", c.Kind, c.Score, weaker)
		}
		if r := strings.Join(c.ReasonsIn("en"), "; "); !strings.HasPrefix(r, "matched through the person's other records; ") {
			t.Fatalf("reasons %q do not say the group joins them", r)
		}
	}
}

// Juan Coc of 45 and Juan Coc of 19, father and son, are each reported;
// a third report of Juan Coc gives no age, and matches both. The two with
// ages are two people, so it joins one of them, never both, and the father
// and son are never given as a pair. So too for a name so rare (Leonardo
// Johnson, in Toledo) that father and son, compared alone, weigh above
// the veto's −4 bits: ages too far apart part them in a group whatever
// the name.
func TestGroupKeepsTwoPeopleApart(t *testing.T) {
	male := func(p match.Person) match.Person { p.Sex = "male"; return p }
	for _, name := range [][3]string{{"Juan Coc", "JUAN COC", "Coc, Juan"}, {"Leonardo Johnson", "JOHNSON, LEONARDO", "Johnson Leonardo"}} {
		noAge := male(toledo("r1", match.Missing, name[0], -1, "San Pedro Columbia"))
		father := male(toledo("r2", match.Missing, name[1], 45, "San Pedro Columbia"))
		son := male(toledo("r3", match.Missing, name[2], 19, "San Pedro Columbia"))
		if score(t, noAge, father).Score < 0.5 || score(t, noAge, son).Score < 0.5 {
			t.Fatal("the test needs the report of no age above the threshold with both")
		}
		got := pairsOf(groupOf(t, []match.Person{noAge, father, son}, nil))
		if len(got) != 1 || got[0] == "r2 r3" {
			t.Fatalf("%s: grouped %v, want the report of no age with one of the two", name[0], got)
		}
	}
	c := score(t, male(toledo("r2", match.Missing, "JOHNSON, LEONARDO", 45, "San Pedro Columbia")), male(toledo("r3", match.Missing, "Johnson Leonardo", 19, "San Pedro Columbia")))
	if c.Weight < -4 {
		t.Fatalf("Leonardo Johnson of 45 and of 19 weigh %.1f bits; the test needs a name rare enough to weigh above −4", c.Weight)
	}
}

// A person's decisions hold: once the report's best registration is
// decided another person, the next best stands; two records decided one
// person are joined whatever the matcher thinks, keeping their own score,
// and the records that match either join them.
func TestGroupFollowsDecisions(t *testing.T) {
	r1 := toledo("r1", match.Missing, "Candelaria Tzib", -1, "San Antonio")
	girl := toledo("s1", match.Sheltered, "TZIB, CANDELARIA", 8, "San Antonio")
	woman := toledo("s2", match.Sheltered, "Candelaria Tzib", 60, "San Antonio")
	people := []match.Person{r1, girl, woman}
	got := pairsOf(groupOf(t, people, map[[2]string]match.Decision{{"r1", "s1"}: match.Different}))
	if want := []string{"r1 s2"}; !slices.Equal(got, want) {
		t.Fatalf("with r1 s1 decided different, grouped %v, want %v", got, want)
	}

	// Petrona Chok, reported twice from Punta Gorda, is the Petrona
	// Chuk of Barranco on a shelter's list with no age: too little for
	// the matcher, one person for whoever met her.
	rep := toledo("r1", match.Missing, "Petrona Chok", 19, "Punta Gorda")
	rep2 := toledo("r2", match.Missing, "Petrona Chok", 19, "Punta Gorda")
	reg := toledo("s1", match.Sheltered, "Petrona Chuk", -1, "Barranco")
	if s := score(t, rep, reg).Score; s >= 0.5 {
		t.Fatalf("r1 s1 scores %.2f; the test needs it under the threshold", s)
	}
	got2 := groupOf(t, []match.Person{rep, rep2, reg}, map[[2]string]match.Decision{{"r1", "s1"}: match.Same})
	if want := []string{"r1 r2", "r1 s1", "r2 s1"}; !slices.Equal(pairsOf(got2), want) {
		t.Fatalf("with r1 s1 decided one person, grouped %v, want %v", pairsOf(got2), want)
	}
	for _, c := range got2 {
		if c.A == "r1" && c.B == "s1" && c.Score != score(t, rep, reg).Score {
			t.Fatalf("the pair decided one person scores %.3f, its own score is %.3f", c.Score, score(t, rep, reg).Score)
		}
	}
}

// asideOf is groupOf for GroupAside: the pairs grouped, which must be
// Group's, and those set aside, which must not depend on the order of the
// candidates either.
func asideOf(t *testing.T, people []match.Person, decisions map[[2]string]match.Decision) (grouped, aside []match.Candidate) {
	t.Helper()
	want := groupOf(t, people, decisions)
	x := asCompared(t, people)
	decided := func(a, b string) match.Decision { return decisions[[2]string{min(a, b), max(a, b)}] }
	cands := x.Candidates()
	grouped, aside = x.GroupAside(cands, 0.5, decided)
	if !slices.Equal(pairsOf(grouped), pairsOf(want)) {
		t.Fatalf("GroupAside grouped %v, Group %v", pairsOf(grouped), pairsOf(want))
	}
	slices.Reverse(cands)
	_, again := x.GroupAside(cands, 0.5, decided)
	if !slices.EqualFunc(aside, again, func(a, b match.Candidate) bool {
		return a.A == b.A && a.B == b.B && a.Score == b.Score && a.Reasons[0].Code == b.Reasons[0].Code
	}) {
		t.Fatalf("set aside %v, the candidates reversed %v", pairsOf(aside), pairsOf(again))
	}
	return grouped, aside
}

// The pairs a person deciding must see beside a match are those the
// grouping set aside for it: every pair scored 0.5 or more that it did not
// group, undecided, each saying first why it was set aside.
func TestGroupAsideShowsTheNamesakesOfAStrongerMatch(t *testing.T) {
	male := func(p match.Person) match.Person { p.Sex = "male"; return p }
	// expect checks that the pairs set aside are want, each at its own
	// score with the reason why first, and that no pair the index found
	// is neither grouped, set aside nor decided.
	expect := func(t *testing.T, people []match.Person, decisions map[[2]string]match.Decision, why string, want ...string) {
		t.Helper()
		grouped, aside := asideOf(t, people, decisions)
		if got := pairsOf(aside); !slices.Equal(got, want) {
			t.Fatalf("set aside %v, want %v", got, want)
		}
		for _, c := range aside {
			own, _ := match.Compare(pick(people, c.A), pick(people, c.B), match.DefaultConfig())
			if c.Score != own.Score || c.Reasons[0].Code != why || !slices.Equal(c.ReasonsIn("en")[1:], own.ReasonsIn("en")) {
				t.Fatalf("%s %s set aside at %.3f with %q, want its own %.3f with %q first, then %q", c.A, c.B, c.Score, c.ReasonsIn("en"), own.Score, why, own.ReasonsIn("en"))
			}
		}
		for _, c := range asCompared(t, people).Candidates() {
			k := c.A + " " + c.B
			if decisions[[2]string{c.A, c.B}] == match.Undecided && !slices.Contains(pairsOf(grouped), k) && !slices.Contains(want, k) {
				t.Fatalf("%s, found at %.3f, is neither grouped nor set aside", k, c.Score)
			}
		}
	}

	// The report of Candelaria Tzib of no age joins the girl of 8; the
	// woman of 60, and her own report, are set aside for it: one person
	// is registered once.
	r1 := toledo("r1", match.Missing, "Candelaria Tzib", -1, "San Antonio")
	girl := toledo("s1", match.Sheltered, "TZIB, CANDELARIA", 8, "San Antonio")
	woman := toledo("s2", match.Sheltered, "Candelaria Tzib", 60, "San Antonio")
	r2 := toledo("r2", match.Missing, "Candelária Tzib", 61, "San Antonio")
	woman.Sex, r2.Sex = "unknown", "unknown"
	expect(t, []match.Person{r1, girl, woman, r2}, nil, match.AsideRegistered, "r1 r2", "r1 s2")
	if got := (match.Reason{Code: match.AsideRegistered}).In("en"); got != "set aside: a stronger match gives the person another shelter registration" {
		t.Fatalf("the reason reads %q", got)
	}

	// Juan Coc of no age joins his father or his son; the other pair is
	// set aside, for their ages.
	for _, name := range [][3]string{{"Juan Coc", "JUAN COC", "Coc, Juan"}, {"Leonardo Johnson", "JOHNSON, LEONARDO", "Johnson Leonardo"}} {
		noAge := male(toledo("r1", match.Missing, name[0], -1, "San Pedro Columbia"))
		father := male(toledo("r2", match.Missing, name[1], 45, "San Pedro Columbia"))
		son := male(toledo("r3", match.Missing, name[2], 19, "San Pedro Columbia"))
		people := []match.Person{noAge, father, son}
		grouped := pairsOf(groupOf(t, people, nil))
		if len(grouped) != 1 {
			t.Fatalf("%s: grouped %v", name[0], grouped)
		}
		other := map[string]string{"r1 r2": "r1 r3", "r1 r3": "r1 r2"}[grouped[0]]
		expect(t, people, nil, match.AsideAges, other)
	}

	// A report of no age and a registration of 45, whose other report a
	// person decided is another man: set aside for the decision.
	noAge := male(toledo("r1", match.Missing, "Juan Coc", -1, "San Pedro Columbia"))
	reg := male(toledo("s1", match.Sheltered, "JUAN COC", 45, "San Pedro Columbia"))
	other := male(toledo("r2", match.Missing, "Coc, Juan", 45, "San Pedro Columbia"))
	if score(t, other, reg).Score <= score(t, noAge, reg).Score {
		t.Fatal("the test needs the report with the age to be the stronger match")
	}
	expect(t, []match.Person{noAge, reg, other}, map[[2]string]match.Decision{{"r1", "r2"}: match.Different}, match.AsideDecided, "r1 s1")
}

func pick(people []match.Person, id string) match.Person {
	for _, p := range people {
		if p.ID == id {
			return p
		}
	}
	return match.Person{}
}
