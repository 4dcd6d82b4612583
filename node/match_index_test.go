//go:build !mutate

package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// withDistrictKey syncs a laptop with HQ until it holds its district's
// data key, which its records are then sealed with.
func withDistrictKey(t *testing.T, m, hq *nodetest.Member, district string) {
	t.Helper()
	nodetest.Eventually(t, 30*time.Second, m.Name+" holds "+district+"'s data key", func() bool {
		if _, err := m.Node.Sync(context.Background(), hq.Addr); err != nil {
			t.Fatal(err)
		}
		_, ok := m.Node.DataKeys()[district]
		return ok
	})
}

// hqWithLaptop is a running HQ, leading its ledger, and a field laptop of
// district that holds the district's data key.
func hqWithLaptop(t *testing.T, name, district string) (hq, m *nodetest.Member) {
	t.Helper()
	c := nodetest.New(t)
	hq, _ = voters(t, c, 0, true)
	m = laptop(c, name, district, nil)
	withDistrictKey(t, m, hq, district)
	return hq, m
}

func reportedAt(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// HQ matched its people once; a report a laptop then sends it by sync,
// and the laptop's correction of that report, are each read by the next
// match as records written since it last looked: the pair is found, then
// no longer, and the index is never built again from the records.
func TestAPeopleRecordAdmittedBySyncIsMatchedWithoutRebuildingTheIndex(t *testing.T) {
	t.Parallel()
	hq, cayo := hqWithLaptop(t, "cayo-07", "Cayo")
	ctx := context.Background()
	a := mustAdd(t, hq.Node, "missing-person", reconcileMaria)
	if ms, err := hq.Node.Matches(ctx, 0.5); err != nil || len(ms) != 0 {
		t.Fatalf("one report matches %+v (%v), want nothing", ms, err)
	}
	if n := node.PeopleIndexBuilds(hq.Node); n != 1 {
		t.Fatalf("the index was built %d times by the first match, want 1", n)
	}

	b := mustAdd(t, cayo.Node, "missing-person", reconcileCoc)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	ms, err := hq.Node.Matches(ctx, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := ledger.PairOf(a, b)
	if len(ms) != 1 || ms[0].A != lo.String() || ms[0].B != hi.String() || ms[0].Kind != node.MatchDuplicate {
		t.Fatalf("after sync HQ matches %+v, want the two reports of María Coc as a duplicate", ms)
	}

	// The laptop finds it reported a man of another name, and corrects it.
	mustUpdate(t, cayo.Node, b, `{"full_name":"Pedro Sho","sex":"male","age":71}`)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if ms, err := hq.Node.Matches(ctx, 0.5); err != nil || len(ms) != 0 {
		t.Fatalf("after the correction HQ matches %+v (%v), want nothing", ms, err)
	}
	if n := node.PeopleIndexBuilds(hq.Node); n != 1 {
		t.Fatalf("the index was built %d times, want once: records that came later are read as the store says they were written", n)
	}
}

// A laptop of Cayo holds a report of María José Coc Caal. Typing another
// report of her, spelled otherwise, or registering her in a shelter, it is
// given that report with what a person needs to know it again; another
// name is given nothing. A laptop of Toledo, which holds the report but
// cannot open Cayo's names, is given nothing and told it left one out.
func TestPossiblyReportedFindsTheReportALaptopHolds(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	toledo := laptop(c, "toledo-02", "Toledo", nil)
	ctx := context.Background()
	withDistrictKey(t, cayo, hq, "Cayo")
	withDistrictKey(t, toledo, hq, "Toledo")
	a := mustAdd(t, cayo.Node, "missing-person", reconcileMaria)

	again := map[string]any{"full_name": "COC, Maria", "age": int64(35), "district": "Cayo", "last_seen_village": "Benque Viejo"}
	sheltered := map[string]any{"full_name": "Maria Jose Coc", "sex": "female", "age": int64(34), "home_village": "Benque Viejo", "home_district": "Cayo"}
	// A family registered at a shelter, María among its household, as
	// the form gives it: the row that may be her says who.
	family := map[string]any{"family_head_name": "Pedro Coc", "home_village": "Benque Viejo", "home_district": "Cayo", "shelter_name": "Benque Viejo RC School",
		"household": []map[string]any{{"name": "Pedro Coc", "sex": "male", "age": int64(40)}, {"name": "Maria Jose Coc", "sex": "female", "age": int64(34)}}}
	for typ, fields := range map[string]map[string]any{"missing-person": again, "sheltered-person": sheltered, "shelter-registration": family} {
		got, err := cayo.Node.PossiblyReported(ctx, typ, fields)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Records) != 1 || got.Withheld != 0 {
			t.Fatalf("a new %s of %v is given %+v, want the one report of María", typ, fields["full_name"], got)
		}
		r := got.Records[0]
		if r.ID != a.String() || r.Name != "María José Coc Caal" || r.Age != 34 || r.Village != "Benque Viejo" || r.District != "Cayo" ||
			r.By != "Juana Caal" || !reportedAt(r.At).Equal(time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC)) || r.Score < node.ReportedMinScore || len(r.Reasons) == 0 {
			t.Fatalf("a new %s is given %+v, want María's report as written", typ, r)
		}
		if want := map[string]string{"shelter-registration": "Maria Jose Coc"}[typ]; r.For != want {
			t.Fatalf("a new %s is given María's report for %q, want %q", typ, r.For, want)
		}
	}
	other := map[string]any{"full_name": "Pedro Sho", "sex": "male", "age": int64(71), "district": "Cayo", "last_seen_village": "Benque Viejo"}
	if got, err := cayo.Node.PossiblyReported(ctx, "missing-person", other); err != nil || len(got.Records) != 0 {
		t.Fatalf("Pedro Sho is given %+v (%v), want nothing", got, err)
	}
	// A neighbour reports her by her married name, and gives the name
	// she was born with as the one she is also known by: she is found by
	// that name, and by no other.
	married := map[string]any{"full_name": "Maria Choc", "also_known_as": "Maria Jose Coc", "sex": "female", "age": int64(34), "district": "Cayo", "last_seen_village": "Benque Viejo"}
	if got, err := cayo.Node.PossiblyReported(ctx, "missing-person", married); err != nil || len(got.Records) != 1 || got.Records[0].ID != a.String() {
		t.Fatalf("Maria Choc, also known as Maria Jose Coc, is given %+v (%v), want the report of María", got, err)
	}
	delete(married, "also_known_as")
	if got, err := cayo.Node.PossiblyReported(ctx, "missing-person", married); err != nil || len(got.Records) != 0 {
		t.Fatalf("Maria Choc is given %+v (%v), want nothing", got, err)
	}

	for _, m := range []*nodetest.Member{cayo, toledo} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	nodetest.Eventually(t, 30*time.Second, "Toledo's laptop holds the report of Cayo", func() bool {
		if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
		_, err := toledo.Node.Record(ctx, a)
		return err == nil
	})
	got, err := toledo.Node.PossiblyReported(ctx, "missing-person", again)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 0 || got.Withheld != 1 {
		t.Fatalf("Toledo's laptop is given %+v, want nothing and one record left out", got)
	}
}

// A laptop of Toledo holds reports of Juan Coc of 45 and of Juan Coc of
// 19, father and son, of San Pedro Columbia. A report of Juan Coc typed
// with no age may be either: the laptop says so, and that an age would
// tell which. With an age, or with only one of them held, it does not ask.
func TestPossiblyReportedAsksTheAgeThatTellsNamesakesApart(t *testing.T) {
	t.Parallel()
	_, toledo := hqWithLaptop(t, "toledo-02", "Toledo")
	ctx := context.Background()
	report := func(name string, age int) string {
		return `{"full_name":"` + name + `","sex":"male","age":` + fmt.Sprint(age) + `,"district":"Toledo","last_seen_place":"the farm","last_seen_village":"San Pedro Columbia","status":"missing","reporter_name":"Rosa Coc","reported_at":"2026-11-21T08:00:00-06:00"}`
	}
	typed := func(age any) map[string]any {
		f := map[string]any{"full_name": "JUAN COC", "sex": "male", "district": "Toledo", "last_seen_village": "San Pedro Columbia"}
		if age != nil {
			f["age"] = age
		}
		return f
	}
	father := mustAdd(t, toledo.Node, "missing-person", report("Juan Coc", 45))
	got, err := toledo.Node.PossiblyReported(ctx, "missing-person", typed(nil))
	if err != nil || len(got.Records) != 1 || got.Records[0].ID != father.String() || len(got.AskAge) != 0 {
		t.Fatalf("with the father alone held, a report of no age is given %+v (%v); want his report, and no question of age", got, err)
	}
	mustAdd(t, toledo.Node, "missing-person", report("Coc, Juan", 19))
	got, err = toledo.Node.PossiblyReported(ctx, "missing-person", typed(nil))
	if err != nil || len(got.Records) != 2 || len(got.AskAge) != 1 || got.AskAge[0] != "JUAN COC" {
		t.Fatalf("with father and son held, a report of no age is given %+v (%v); want both, and the age asked of JUAN COC", got, err)
	}
	got, err = toledo.Node.PossiblyReported(ctx, "missing-person", typed(int64(44)))
	if err != nil || len(got.AskAge) != 0 {
		t.Fatalf("a report of 44 is given %+v (%v); want no question of age", got, err)
	}
	// A family at a shelter, its grandfather's age not written: the
	// question names him.
	family := map[string]any{"family_head_name": "Rosa Coc", "home_village": "San Pedro Columbia", "home_district": "Toledo", "shelter_name": "San Pedro Columbia RC School",
		"household": []map[string]any{{"name": "Rosa Coc", "sex": "female", "age": int64(40)}, {"name": "Juan Coc", "sex": "male"}}}
	got, err = toledo.Node.PossiblyReported(ctx, "shelter-registration", family)
	if err != nil || len(got.AskAge) != 1 || got.AskAge[0] != "Juan Coc" {
		t.Fatalf("a family with Juan Coc of no age is given %+v (%v); want the age asked of Juan Coc", got, err)
	}
}

// A report of Ana Teresa Bol, 52, of San Antonio is found in two
// registrations: Ana Bol, 52, and an Ana Bol of no age, both of San
// Antonio. She is registered once: HQ lists the stronger alone, and sets
// the other aside beside it, saying why. Once a person decides that pair
// is two people, the other registration is listed, and the pair decided
// stays listed with its decision.
func TestAReportIsListedWithItsBestRegistrationUntilThatIsDecidedDifferent(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	report := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Teresa Bol","sex":"female","age":52,"district":"Toledo","last_seen_place":"the church","last_seen_village":"San Antonio","status":"missing","reporter_name":"Luis Bol","reported_at":"2026-11-21T08:00:00-06:00"}`)
	same := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Bol","sex":"female","age":52,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00"}`)
	noAge := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Bol","sex":"female","home_village":"San Antonio","home_district":"Toledo","shelter_name":"San Antonio RC School","district":"Toledo","arrived_at":"2026-11-22T10:00:00-06:00"}`)
	pairs := func() map[string]string {
		ms, err := hq.Node.Matches(ctx, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range ms {
			out[m.A+" "+m.B] = m.Decision
		}
		return out
	}
	key := func(a, b syncproto.RecordID) string {
		lo, hi := ledger.PairOf(a, b)
		return lo.String() + " " + hi.String()
	}
	if got := pairs(); len(got) != 1 || got[key(report, same)] != "" {
		t.Fatalf("HQ lists %v, want the report with Ana Bol, 52, alone", got)
	}
	// Beside it, whoever decides sees the other Ana Bol, set aside.
	aside := func() []node.Match {
		m, err := hq.Node.Matching(ctx, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		return m.SetAside
	}
	if got := aside(); len(got) != 1 || got[0].A+" "+got[0].B != key(report, noAge) || !got[0].SetAside || got[0].Decision != "" ||
		len(got[0].Reasons) == 0 || got[0].Reasons[0] != "set aside: a stronger match gives the person another shelter registration" {
		t.Fatalf("HQ sets aside %+v, want the report with the Ana Bol of no age, saying why", got)
	}
	if _, err := hq.Node.Link(ctx, report, same, ledger.LinkDifferent); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the ledger holds the pair different", func() bool {
		s, err := hq.Node.LinkState(ctx, report, same)
		return err == nil && s == ledger.LinkDifferent
	})
	got := pairs()
	if d, ok := got[key(report, noAge)]; len(got) != 2 || !ok || d != "" || got[key(report, same)] != ledger.LinkDifferent {
		t.Fatalf("after different, HQ lists %v; want the pair decided, and the report with the Ana Bol of no age", got)
	}
	if got := aside(); len(got) != 0 {
		t.Fatalf("after different, HQ sets aside %+v, want none: the pair decided is listed as such", got)
	}
}

// Two reports of Guillermo Bautista, one by his nickname with no age, one
// with his second surname and no village, each match his registration in
// a shelter but not each other: HQ lists the two reports as a pair too,
// saying that the person's other records join them, so that whoever
// decides sees every report of him.
func TestReportsOfOnePersonAreListedThroughTheirRegistration(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	memo := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Memo Bautista","sex":"male","district":"Toledo","last_seen_place":"the bus stop","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rosa Bautista","reported_at":"2026-11-21T08:00:00-06:00"}`)
	full := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Guillermo Bautista Shol","sex":"male","age":45,"district":"Toledo","last_seen_place":"Punta Gorda market","status":"missing","reporter_name":"Carlos Shol","reported_at":"2026-11-21T11:30:00-06:00"}`)
	mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"BAUTISTA SHOL, GUILLERMO","sex":"male","age":45,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00"}`)
	ms, err := hq.Node.Matches(ctx, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := ledger.PairOf(memo, full)
	var reports *node.Match
	for i, m := range ms {
		if m.A == lo.String() && m.B == hi.String() {
			reports = &ms[i]
		}
	}
	if len(ms) != 3 || reports == nil {
		t.Fatalf("HQ lists %+v; want three pairs, the two reports among them", ms)
	}
	if reports.Kind != node.MatchDuplicate || len(reports.Reasons) == 0 || reports.Reasons[0] != "matched through the person's other records" {
		t.Fatalf("the reports' pair is %+v; want a duplicate joined through the person's other records", *reports)
	}
}
