package node_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A report is a claim: whoever holds an enrolled laptop can report a child
// missing, with their own phone as the reporter's, having seen her in a
// shelter. A found proposal says what to check before the reporter is
// told where the person is: that the person found is a child (by the
// report's age, or by the age of the person in the registration the
// report matches, not of the rest of the family), and that the report was
// written on a laptop, or by a person on it, that headquarters has since
// revoked, or its reporter's contact changed there.
func TestAFoundProposalSaysWhatToCheckFirst(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	laptop := c.Add("tol-66", syncproto.RoleField, "Toledo", nil)
	meetHQ(t, hq, laptop)
	ctx := context.Background()

	onLaptop := func(data string) syncproto.RecordID {
		t.Helper()
		id, err := laptop.Node.Add(ctx, "missing-person", []byte(data), "Rosa Tzul")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Of no age: the girl by her family's registration, her mother too.
	girl := onLaptop(`{"full_name":"Ana Tzib","sex":"female","district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reporter_phone":"+501 600 0000","reported_at":"2026-11-21T08:00:00-06:00"}`)
	mother := onLaptop(`{"full_name":"Juana Tzib Coc","sex":"female","district":"Toledo","last_seen_place":"the market","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:10:00-06:00"}`)
	// Of 16 by the report, 19 by the registration: a child by the one.
	boy := onLaptop(`{"full_name":"Pedro Tzib","sex":"male","age":16,"district":"Toledo","last_seen_place":"the river","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:20:00-06:00"}`)
	syncOK(t, laptop, hq)
	family := mustAdd(t, hq.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Juana Tzib Coc","members":2,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193",
		"household":[{"name":"Juana Tzib Coc","sex":"female","age":38},{"name":"Ana Tzib","sex":"female","age":7}]}`)
	pedro := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Pedro Tzib","sex":"male","age":19,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:45:00-06:00"}`)
	// An adult, reported at HQ.
	father := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Cristobal Tzib","sex":"male","age":41,"district":"Toledo","last_seen_place":"the farm","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:30:00-06:00"}`)
	cristobal := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Cristóbal Tzib","sex":"male","age":41,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:50:00-06:00"}`)

	// A true report, made at HQ, whose reporter's phone the laptop
	// changes.
	grandmother := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"district":"Toledo","last_seen_place":"her house","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reporter_phone":"+501 600 0000","reported_at":"2026-11-21T08:40:00-06:00"}`)
	elena := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:55:00-06:00"}`)
	syncOK(t, laptop, hq)
	if _, err := laptop.Node.Update(ctx, grandmother, []byte(`{"reporter_phone":"+501 699 9999"}`), "Rosa Tzul"); err != nil {
		t.Fatal(err)
	}
	syncOK(t, laptop, hq)

	cautions := func(missing, shelter syncproto.RecordID) []node.Caution {
		t.Helper()
		p, err := hq.Node.ProposeFound(ctx, shelter, missing) // either order
		if err != nil {
			t.Fatal(err)
		}
		if p.Missing != missing.String() {
			t.Fatalf("proposal of %s names %s the missing person", missing, p.Missing)
		}
		return p.Cautions
	}
	want := func(what string, got []node.Caution, want ...node.Caution) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: cautions %+v, want %+v", what, got, want)
		}
	}
	child := func(age int) node.Caution { return node.Caution{Code: node.CautionChild, Age: age} }
	want("the girl of no age, in her family's registration as 7", cautions(girl, family), child(7))
	want("her mother of no age, in the same registration as 38", cautions(mother, family))
	want("the boy of 16, registered as 19", cautions(boy, pedro), child(16))
	want("the father of 41, registered as 41", cautions(father, cristobal))
	// The laptop not known stolen yet: the phone it changed is named.
	changed := node.Caution{Code: node.CautionContactChanged, Node: "tol-66", Person: "Rosa Tzul"}
	if p, err := hq.Node.ProposeFound(ctx, grandmother, elena); err != nil || p.ReporterPhone != "+501 699 9999" || !reflect.DeepEqual(p.Cautions, []node.Caution{changed}) {
		t.Fatalf("the grandmother's proposal: %+v, %v; want the laptop's phone, and who changed it", p, err)
	}

	// The laptop is stolen: its reports, kept since they came before, are
	// to be checked.
	if err := hq.Node.Revoke(ctx, laptop.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ knows of the revocation", func() bool { return revoked(t, hq.Node, laptop.Node.Self().ID) })
	stolen := node.Caution{Code: node.CautionRevokedNode, Node: "tol-66"}
	want("the girl's report, of the stolen laptop", cautions(girl, family), child(7), stolen)
	want("the mother's report, of the stolen laptop", cautions(mother, family), stolen)
	want("the father's report, of HQ", cautions(father, cristobal))
	want("the grandmother's report, of HQ, its reporter's phone of the stolen laptop", cautions(grandmother, elena),
		changed, node.Caution{Code: node.CautionRevokedNode, Node: "tol-66", Contact: true})

	// Its person too, as she was written on the reports.
	if err := hq.Node.RevokePerson(ctx, laptop.Node.Self().ID, "rosa tzul", "reported people she had not seen"); err != nil {
		t.Fatal(err)
	}
	want("the mother's report, of a revoked person", cautions(mother, family), stolen,
		node.Caution{Code: node.CautionRevokedPerson, Node: "tol-66", Person: "Rosa Tzul"})
	want("the father's report, of another person", cautions(father, cristobal))
	want("the grandmother's report, its reporter's phone of a revoked person", cautions(grandmother, elena),
		changed, node.Caution{Code: node.CautionRevokedNode, Node: "tol-66", Contact: true},
		node.Caution{Code: node.CautionRevokedPerson, Node: "tol-66", Person: "Rosa Tzul", Contact: true})
}

// A girl reported three times, the reports linked as one person: found in
// a shelter by one of them, the proposal lists the other two with their
// reporters, a child by the one report that gives her age; confirming
// writes found into the report still missing, and leaves the one another
// responder already wrote found injured as it is.
func TestConfirmingFoundWritesThePersonsOtherReports(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	byNeighbour := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Tzib","sex":"female","district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reporter_phone":"+501 600 0000","reporter_relationship":"neighbour","reported_at":"2026-11-21T08:00:00-06:00"}`)
	byCousin := mustAdd(t, hq.Node, "missing-person", `{"full_name":"TZIB, ANA LUISA","sex":"female","age":7,"district":"Toledo","last_seen_place":"home","last_seen_village":"San Antonio","status":"missing","reporter_name":"Luis Tzib","reporter_phone":"+501 611 1111","reporter_relationship":"cousin","reported_at":"2026-11-22T10:00:00-06:00"}`)
	byClinic := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Luisa Tzib","sex":"female","district":"Toledo","last_seen_place":"the clinic","last_seen_village":"San Antonio","status":"found-injured","found_at_place":"Punta Gorda Hospital","reporter_name":"Nurse Bol","reported_at":"2026-11-22T12:00:00-06:00"}`)
	shelter := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Tzib","sex":"female","home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-23T18:40:00-06:00"}`)
	for _, pair := range [][2]syncproto.RecordID{{byNeighbour, byCousin}, {byCousin, byClinic}} {
		if _, err := hq.Node.Link(ctx, pair[0], pair[1], ledger.LinkLinked); err != nil {
			t.Fatal(err)
		}
	}
	// The ledger gives case numbers as it commits the records, apart from
	// the links: the proposal is read once both are in.
	nodetest.Eventually(t, 30*time.Second, "the ledger holds the three reports linked, the cousin's with its case number", func() bool {
		l, err := hq.Node.LinkedWith(ctx, byNeighbour)
		n, _ := hq.Node.CaseNumber(ctx, byCousin)
		return err == nil && len(l) == 2 && n != ""
	})

	p, err := hq.Node.ProposeFound(ctx, byNeighbour, shelter)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]node.LinkedReport{}
	for _, l := range p.Linked {
		got[l.ID] = l
	}
	cousin, clinic := got[byCousin.String()], got[byClinic.String()]
	if len(p.Linked) != 2 || cousin.Status != "missing" || cousin.ReporterPhone != "+501 611 1111" || cousin.ReporterRelationship != "cousin" ||
		clinic.Status != "found-injured" || clinic.ReporterName != "Nurse Bol" || cousin.Case == "" {
		t.Fatalf("the proposal's linked reports: %+v; want the cousin's, missing, with his phone and its case number, and the clinic's, found injured", p.Linked)
	}
	if !reflect.DeepEqual(p.Cautions, []node.Caution{{Code: node.CautionChild, Age: 7}}) {
		t.Fatalf("cautions %+v; want a child of 7, by the cousin's report", p.Cautions)
	}

	if _, _, err := hq.Node.ConfirmFound(ctx, byNeighbour, shelter, "Rosa Tzul"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id            syncproto.RecordID
		status, place string
	}{
		{byNeighbour, "found-safe", "Punta Gorda Town Hall"},
		{byCousin, "found-safe", "Punta Gorda Town Hall"},
		{byClinic, "found-injured", "Punta Gorda Hospital"},
	} {
		r, err := hq.Node.Record(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Fields["status"] != tc.status || r.Fields["found_at_place"] != tc.place {
			t.Errorf("report %s after confirming: %v at %v; want %s at %s", tc.id, r.Fields["status"], r.Fields["found_at_place"], tc.status, tc.place)
		}
	}
}

// Confirming found writes the person's reports together: when one of them
// cannot take the update, none is written found, and the error names the
// one that could not.
func TestReportsWrittenFoundTogetherOrNotAtAll(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	report := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Tzib","sex":"female","district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:00:00-06:00"}`)
	// A registration has no status: an update that sets one is refused.
	shelter := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Tzib","sex":"female","home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-23T18:40:00-06:00"}`)
	before, err := hq.Node.Record(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.UpdateAll(hq.Node, ctx, []syncproto.RecordID{report, shelter}, []byte(`{"status":"found-safe","found_at_place":"Punta Gorda Town Hall"}`), "Rosa Tzul", false)
	if err == nil || !strings.Contains(err.Error(), shelter.String()) || !strings.Contains(err.Error(), "none of the 2 records was written") {
		t.Fatalf("updating a report and a registration with a status: %v; want a refusal naming the registration", err)
	}
	after, err := hq.Node.Record(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	if after.Fields["status"] != "missing" || len(after.History) != len(before.History) {
		t.Fatalf("the report after the refused update: %v, %d changes; want missing, %d changes", after.Fields["status"], len(after.History), len(before.History))
	}
}

// A report whose status is in conflict (a clinic's laptop wrote her found
// deceased while HQ wrote her found injured) is not confirmed found over
// the conflict: the proposal shows each version, confirming is refused and
// writes nothing, and once a person has decided the conflict on the
// record it goes through, the proposal saying what the report said.
func TestAStatusInConflictIsDecidedBeforeFound(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	clinic := c.Add("tol-clinic", syncproto.RoleField, "Toledo", nil)
	meetHQ(t, hq, clinic)
	ctx := context.Background()
	report := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"district":"Toledo","last_seen_place":"her house","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:40:00-06:00"}`)
	shelter := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:55:00-06:00"}`)
	syncOK(t, clinic, hq)
	// Each writes the status without having seen the other's.
	if _, err := clinic.Node.Update(ctx, report, []byte(`{"status":"found-deceased","found_at_place":"Punta Gorda Hospital"}`), "Nurse Bol"); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, hq.Node, report, `{"status":"found-injured","found_at_place":"the clinic at San Antonio"}`)
	syncOK(t, clinic, hq)

	p, err := hq.Node.ProposeFound(ctx, report, shelter)
	if err != nil {
		t.Fatal(err)
	}
	conflicts := map[string][]string{}
	for _, c := range p.Cautions {
		if c.Code == node.CautionConflict {
			v := slices.Clone(c.Values)
			slices.Sort(v)
			conflicts[c.Field] = v
		}
	}
	wantConflicts := map[string][]string{
		"status":         {"Found deceased", "Found injured"},
		"found_at_place": {"Punta Gorda Hospital", "the clinic at San Antonio"},
	}
	if !reflect.DeepEqual(conflicts, wantConflicts) {
		t.Fatalf("the proposal's conflicts: %+v (cautions %+v); want %v", conflicts, p.Cautions, wantConflicts)
	}
	before, err := hq.Node.Record(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = hq.Node.ConfirmFound(ctx, report, shelter, "Rosa Tzul")
	if !errors.Is(err, node.ErrUndecided) || !strings.Contains(err.Error(), "Found deceased") || !strings.Contains(err.Error(), report.String()) {
		t.Fatalf("confirming found over the conflict: %v; want it refused, naming the report and its versions", err)
	}
	after, err := hq.Node.Record(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.History) != len(before.History) || len(after.Conflicts["status"]) != 2 {
		t.Fatalf("the refused confirmation wrote: %d changes (was %d), status versions %+v", len(after.History), len(before.History), after.Conflicts["status"])
	}
	// A conflict that arrives after the proposal was read, as the writes
	// are made, refuses them too.
	if _, err := node.UpdateAll(hq.Node, ctx, []syncproto.RecordID{report}, []byte(`{"status":"found-safe","found_at_place":"Punta Gorda Town Hall"}`), "Rosa Tzul", true); !errors.Is(err, node.ErrUndecided) {
		t.Fatalf("the confirmation's writes over the conflict: %v; want them refused as undecided", err)
	}

	// A person reads both and decides: the clinic at San Antonio treated
	// her, and the hospital's record was of another woman. The proposal
	// says she was found already, and where, and confirming (she has
	// since gone to the shelter) writes over it.
	mustUpdate(t, hq.Node, report, `{"status":"found-injured","found_at_place":"the clinic at San Antonio"}`)
	p, err = hq.Node.ProposeFound(ctx, report, shelter)
	if err != nil {
		t.Fatal(err)
	}
	was := node.Caution{Code: node.CautionStatus, Values: []string{"Found injured", "the clinic at San Antonio"}}
	if !reflect.DeepEqual(p.Cautions, []node.Caution{was}) {
		t.Fatalf("the proposal once the conflict is decided: cautions %+v; want only %+v", p.Cautions, was)
	}
	if _, _, err := hq.Node.ConfirmFound(ctx, report, shelter, "Rosa Tzul"); err != nil {
		t.Fatalf("confirming found once the conflict is decided: %v", err)
	}
	r, err := hq.Node.Record(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	if r.Fields["status"] != "found-safe" || r.Fields["found_at_place"] != "Punta Gorda Town Hall" || len(r.Conflicts) != 0 {
		t.Fatalf("the report once confirmed: %v at %v, conflicts %+v", r.Fields["status"], r.Fields["found_at_place"], r.Conflicts)
	}
}

// Links are made one pair at a time, by any person at HQ or a relay of
// the district, or by a stolen relay: a chain of them can join a district's
// every report. A person confirmed found writes found safe into each
// report of the group still missing; so confirming is refused, writing
// nothing, when the group holds more reports than the matcher ever takes
// for one person (64), and goes through once a link is undone. The
// proposal is refused too, naming no one to tell: before, it listed every
// report of the chain, each reporter's name and phone as whom to tell.
func TestConfirmingFoundIsRefusedForMoreReportsThanOnePersonHas(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	const bound = 64
	reports := make([]syncproto.RecordID, bound+1)
	for i := range reports {
		reports[i] = mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Tzib","sex":"female","district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:00:00-06:00"}`)
	}
	shelter := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Tzib","sex":"female","home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-23T18:40:00-06:00"}`)
	for i := 1; i < len(reports); i++ {
		if _, err := hq.Node.Link(ctx, reports[i-1], reports[i], ledger.LinkLinked); err != nil {
			t.Fatal(err)
		}
	}
	grouped := func(n int) {
		t.Helper()
		nodetest.Eventually(t, 60*time.Second, "the ledger holds the reports linked", func() bool {
			l, err := hq.Node.LinkedWith(ctx, reports[0])
			return err == nil && len(l) == n-1
		})
	}
	grouped(bound + 1)
	status := func(id syncproto.RecordID) string {
		v, err := hq.Node.RecordBrief(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := v.Fields["status"].(string)
		return s
	}

	if p, err := hq.Node.ProposeFound(ctx, reports[0], shelter); !errors.Is(err, node.ErrTooManyLinked) || len(p.Linked) != 0 || p.ReporterName != "" {
		t.Fatalf("the proposal of a report linked with %d others: %d linked reports, reporter %q (%v); want it refused", bound, len(p.Linked), p.ReporterName, err)
	}
	if _, _, err := hq.Node.ConfirmFound(ctx, reports[0], shelter, "Rosa Tzul"); !errors.Is(err, node.ErrTooManyLinked) {
		t.Fatalf("confirming found a report linked with %d others: %v; want it refused", bound, err)
	}
	for _, id := range reports {
		if s := status(id); s != "missing" {
			t.Fatalf("report %s is %q after the refusal, want missing", id, s)
		}
	}

	if _, err := hq.Node.Link(ctx, reports[bound-1], reports[bound], ledger.LinkUnlinked); err != nil {
		t.Fatal(err)
	}
	grouped(bound)
	if _, _, err := hq.Node.ConfirmFound(ctx, reports[0], shelter, "Rosa Tzul"); err != nil {
		t.Fatalf("confirming found a report linked with %d others: %v", bound-1, err)
	}
	for i, id := range reports {
		if want := map[bool]string{true: "found-safe", false: "missing"}[i < bound]; status(id) != want {
			t.Fatalf("report %d of the chain is %q, want %s", i, status(id), want)
		}
	}
}

// A shelter's registration is a claim too: a stolen laptop can register a
// person in a shelter where they are not, change the shelter's name of a
// true registration, rename its person as someone reported, or add them to
// a family's, and confirming would write the report found safe there and
// tell the family so. Once headquarters revoked the laptop, or the person
// on it, the proposal says the registration, or where it places the
// person, was written there.
func TestAFoundProposalSaysWhoWroteTheRegistration(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	laptop := c.Add("tol-67", syncproto.RoleField, "Toledo", nil)
	meetHQ(t, hq, laptop)
	ctx := context.Background()

	report := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Cristobal Tzib","sex":"male","age":41,"district":"Toledo","last_seen_place":"the farm","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:30:00-06:00"}`)
	other := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"district":"Toledo","last_seen_place":"her house","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:40:00-06:00"}`)
	// A true registration, made at HQ, whose shelter the laptop changes.
	elena := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:55:00-06:00"}`)
	syncOK(t, laptop, hq)
	// A true registration of another man, made at HQ, that the laptop
	// renames as the man reported; and a true family's, made at HQ, to
	// which it adds the girl reported.
	pedro := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Pedro Sho","sex":"male","age":52,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00"}`)
	girl := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Tzib","sex":"female","age":30,"district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:00:00-06:00"}`)
	family := mustAdd(t, hq.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Juana Tzib Coc","members":1,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193",
		"household":[{"name":"Juana Tzib Coc","sex":"female","age":58}]}`)
	// And a family's, of its head alone, whose head it renames.
	head := mustAdd(t, hq.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Luis Bol","members":3,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193"}`)
	syncOK(t, laptop, hq)
	if _, err := laptop.Node.Update(ctx, head, []byte(`{"family_head_name":"Cristobal Tzib"}`), "Rosa Tzul"); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.Node.Update(ctx, pedro, []byte(`{"full_name":"Cristobal Tzib","age":41}`), "Rosa Tzul"); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.Node.Update(ctx, family, []byte(`{"household":[{"name":"Ana Tzib","sex":"female","age":30}]}`), "Rosa Tzul"); err != nil {
		t.Fatal(err)
	}
	// A registration the laptop makes up.
	made, err := laptop.Node.Add(ctx, "sheltered-person", []byte(`{"full_name":"Cristóbal Tzib","sex":"male","age":41,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Barranco School","district":"Toledo","arrived_at":"2026-11-21T18:50:00-06:00"}`), "Rosa Tzul")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.Node.Update(ctx, elena, []byte(`{"shelter_name":"Barranco School"}`), "Rosa Tzul"); err != nil {
		t.Fatal(err)
	}
	syncOK(t, laptop, hq)

	cautions := func(missing, shelter syncproto.RecordID) []node.Caution {
		t.Helper()
		p, err := hq.Node.ProposeFound(ctx, missing, shelter)
		if err != nil {
			t.Fatal(err)
		}
		return p.Cautions
	}
	want := func(what string, got []node.Caution, want ...node.Caution) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: cautions %+v, want %+v", what, got, want)
		}
	}
	want("a registration of a laptop not known stolen", cautions(report, made))
	want("a shelter's name changed on a laptop not known stolen", cautions(other, elena))
	want("a registration renamed on a laptop not known stolen", cautions(report, pedro))
	want("a family's row added on a laptop not known stolen", cautions(girl, family))
	want("a family's head renamed on a laptop not known stolen", cautions(report, head))

	if err := hq.Node.Revoke(ctx, laptop.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ knows of the revocation", func() bool { return revoked(t, hq.Node, laptop.Node.Self().ID) })
	want("the registration the stolen laptop made", cautions(report, made),
		node.Caution{Code: node.CautionRevokedNode, Node: "tol-67", Shelter: true})
	want("the shelter's name the stolen laptop wrote", cautions(other, elena),
		node.Caution{Code: node.CautionRevokedNode, Node: "tol-67", Shelter: true, Contact: true})
	want("the name the stolen laptop wrote in a registration", cautions(report, pedro),
		node.Caution{Code: node.CautionRevokedNode, Node: "tol-67", Shelter: true, Contact: true})
	want("the row the stolen laptop added to a family's registration", cautions(girl, family),
		node.Caution{Code: node.CautionRevokedNode, Node: "tol-67", Shelter: true, Contact: true})
	want("the head the stolen laptop renamed in a family's registration", cautions(report, head),
		node.Caution{Code: node.CautionRevokedNode, Node: "tol-67", Shelter: true, Contact: true})

	if err := hq.Node.RevokePerson(ctx, laptop.Node.Self().ID, "rosa tzul", "registered people she had not seen"); err != nil {
		t.Fatal(err)
	}
	want("the registration of a revoked person", cautions(report, made),
		node.Caution{Code: node.CautionRevokedNode, Node: "tol-67", Shelter: true},
		node.Caution{Code: node.CautionRevokedPerson, Node: "tol-67", Person: "Rosa Tzul", Shelter: true})
}

// A child is a child by the report's age or the registration's. A relay
// of Cayo holds a girl of 7 registered at a Toledo shelter (people in
// shelters are national records) but cannot open her age, personal data
// of Toledo, and is asked, by hand, what finding a report of Cayo that
// gives no age in her registration proposes. It does not propose it: it
// cannot tell a child, and names no reporter. Before, it named the
// reporter, with no caution of a child. HQ, which opens both, proposes
// it with the caution.
func TestAProposalIsNotMadeWhereTheAgeCannotBeRead(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, false)
	relay := relays[0]
	ctx := context.Background()
	girl := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Tzib","sex":"female","age":7,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-23T18:40:00-06:00"}`)
	report := mustAdd(t, relay.Node, "missing-person", `{"full_name":"Ana Tzib","sex":"female","district":"Cayo","last_seen_place":"the market","last_seen_village":"Benque Viejo","status":"missing","reporter_name":"Marta Coc","reporter_phone":"+501 600 0000","reported_at":"2026-11-21T08:00:00-06:00"}`)
	nodetest.Eventually(t, 30*time.Second, "the relay holds the girl's registration, and HQ the report", func() bool {
		if _, err := relay.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
		_, errG := relay.Node.Record(ctx, girl)
		_, errR := hq.Node.Record(ctx, report)
		return errG == nil && errR == nil
	})
	if v, _ := relay.Node.Record(ctx, girl); v.Fields["age"] != (node.Withheld{}) {
		t.Fatalf("the Cayo relay reads the girl's age as %v", v.Fields["age"])
	}
	p, err := relay.Node.ProposeFound(ctx, report, girl)
	if !errors.Is(err, node.ErrNotReconciler) || p.ReporterName != "" || p.ReporterPhone != "" {
		t.Fatalf("the Cayo relay proposes %+v (%v); want it refused, naming no reporter", p, err)
	}
	if _, _, err := relay.Node.ConfirmFound(ctx, report, girl, "Rosa Tzul"); !errors.Is(err, node.ErrNotReconciler) {
		t.Fatalf("the Cayo relay confirms found: %v; want it refused", err)
	}
	nodetest.Eventually(t, 30*time.Second, "HQ opens the report", func() bool {
		if _, err := relay.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
		v, err := hq.Node.Record(ctx, report)
		return err == nil && v.Fields["reporter_name"] == "Marta Coc"
	})
	p, err = hq.Node.ProposeFound(ctx, report, girl)
	if err != nil || !slices.ContainsFunc(p.Cautions, func(c node.Caution) bool { return c.Code == node.CautionChild && c.Age == 7 }) {
		t.Fatalf("HQ proposes %+v (%v); want the caution of a child of 7", p, err)
	}
}

// A relay links a report with a registration, and is then stolen:
// headquarters revokes it. Its link still stands, as what a node wrote
// before its revocation does, and the proposal would name the reporter on
// its word alone: it now says whose link the pair stands on.
func TestAFoundProposalSaysALinkIsOfARevokedRelay(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	relay := relays[0]
	ctx := context.Background()
	report := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"district":"Cayo","last_seen_place":"her house","last_seen_village":"Succotz","status":"missing","reporter_name":"Marta Coc","reporter_phone":"+501 600 0000","reported_at":"2026-11-21T08:40:00-06:00"}`)
	person := mustAdd(t, hq.Node, "sheltered-person", `{"full_name":"Elena Tzib","sex":"female","age":70,"home_village":"Succotz","home_district":"Cayo","shelter_name":"San Ignacio Hall","district":"Cayo","arrived_at":"2026-11-21T18:55:00-06:00"}`)
	if _, err := relay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Node.Link(ctx, report, person, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the relay's link stands at HQ", func() bool {
		g, err := hq.Node.LinkedWith(ctx, report)
		return err == nil && len(g) == 1 && g[0].ID == person.String()
	})
	linker := node.Caution{Code: node.CautionRevokedLinker, Node: relay.Name}
	names := func(cs []node.Caution) bool {
		return slices.ContainsFunc(cs, func(c node.Caution) bool { return reflect.DeepEqual(c, linker) })
	}
	if p, err := hq.Node.ProposeFound(ctx, report, person); err != nil || names(p.Cautions) {
		t.Fatalf("before the relay is revoked: cautions %+v (%v)", p.Cautions, err)
	}
	if err := hq.Node.Revoke(ctx, relay.Node.Self().ID, "stolen from the district office"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the relay revoked", func() bool {
		gone, _ := hq.Node.IsRevoked(ctx, relay.Node.Self().ID)
		return gone
	})
	p, err := hq.Node.ProposeFound(ctx, report, person)
	if err != nil {
		t.Fatal(err)
	}
	if !names(p.Cautions) {
		t.Fatalf("the proposal of a pair a revoked relay linked: cautions %+v, want %+v among them", p.Cautions, linker)
	}
}
