//go:build !mutate

package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A relay of Toledo, which the ledger lets decide on people of Toledo,
// signs a link of two reports of Cayo in Toledo's name and has a member
// forward it: the ledger takes it, since it cannot see the records, but
// no node that holds them lets it stand. The pair stays undecided and
// ungrouped at HQ and at the relay, and HQ's own decision then stands.
func TestARelaysLinkOfAnotherDistrictsPeopleDoesNotStand(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	toledo := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	a, b := mustAdd(t, cayo.Node, "missing-person", reconcileMaria), mustAdd(t, cayo.Node, "missing-person", reconcileCoc)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := relays[0].Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	lo, hi := ledger.PairOf(a, b)
	self := toledo.Node.Self()
	l := &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: self.ID, District: "Toledo", At: time.Now().UnixMilli()}
	entry, err := ledger.Sign(ledger.CmdLink, l, time.Now(), toledo.Node.Credentials().Cert.Raw, toledo.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := forwardToHQ(t, relays[0], hq, entry); err != nil {
		t.Fatalf("the ledger refused a relay's link in its own district's name: %v", err)
	}
	// The ledger applied it on every member...
	for _, m := range []*nodetest.Member{hq, relays[0]} {
		nodetest.Eventually(t, 30*time.Second, m.Name+" applied the Toledo relay's link", func() bool {
			links, err := node.LedgerLinks(m.Node, ctx)
			return err == nil && len(links) == 1 && links[0].Node == self.ID
		})
	}
	// ...and on none does it stand.
	for _, m := range []*nodetest.Member{hq, relays[0]} {
		if s, err := m.Node.LinkState(ctx, a, b); err != nil || s != "" {
			t.Fatalf("%s holds the pair %q (%v), want undecided", m.Name, s, err)
		}
		if g, err := m.Node.LinkedWith(ctx, a); err != nil || len(g) != 0 {
			t.Fatalf("%s groups %s with %+v (%v), want alone", m.Name, a, g, err)
		}
		ms, err := m.Node.Matches(ctx, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ms {
			if p.Decision != "" {
				t.Fatalf("%s: the match %+v carries the Toledo relay's decision", m.Name, p)
			}
		}
	}
	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "HQ's link stands", func() bool {
		g, err := hq.Node.LinkedWith(ctx, a)
		return err == nil && len(g) == 1 && g[0].ID == b.String()
	})
}

// A relay of Toledo signs, in Toledo's name, a decision on a pair of Cayo
// that headquarters decided, and then on one that Cayo's relay decided,
// and has a member forward each. The ledger cannot see the records, but
// it holds the district the decision in place names: a relay's decision
// takes the place only of one naming its own district, so each is refused
// on every member and the pair stays as decided. Before, the ledger put
// the Toledo relay's decision in its place; no node let that stand, and
// the pair was left undecided: HQ's link undone by a relay of elsewhere.
func TestARelayCannotUndoADecisionOnAnotherDistrictsPeople(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	cayoRelay := relays[0]
	members := []*nodetest.Member{hq, cayoRelay}
	toledo := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	a, b := mustAdd(t, cayo.Node, "missing-person", reconcileMaria), mustAdd(t, cayo.Node, "missing-person", reconcileCoc)
	for _, m := range []*nodetest.Member{cayo, cayoRelay} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	holds := func(want string) {
		t.Helper()
		nodetest.Eventually(t, 30*time.Second, "both members hold the pair "+want, func() bool {
			s := linkStates(t, members, a, b)
			return s[0] == want && s[1] == want
		})
	}
	// toledoDecides has the Toledo relay's decision forwarded, and waits
	// until both members have applied as far as HQ, the leader, then had.
	toledoDecides := func(decision string) {
		t.Helper()
		lo, hi := ledger.PairOf(a, b)
		at := time.Now()
		l := &ledger.Link{A: lo, B: hi, Decision: decision, Node: toledo.Node.Self().ID, District: "Toledo", At: at.UnixMilli()}
		entry, err := ledger.Sign(ledger.CmdLink, l, at, toledo.Node.Credentials().Cert.Raw, toledo.Node.Key().Signer())
		if err != nil {
			t.Fatal(err)
		}
		if err := forwardToHQ(t, cayoRelay, hq, entry); !errors.Is(err, ledger.ErrRefused) {
			t.Fatalf("the Toledo relay's %s of two reports of Cayo, forwarded: %v; want it refused", decision, err)
		}
		height := hq.Daemon.Ledger().Status().Height
		nodetest.Eventually(t, 30*time.Second, "the relay applies as far as HQ", func() bool {
			return cayoRelay.Daemon.Ledger().Status().Height >= height
		})
	}

	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	holds(ledger.LinkLinked)
	toledoDecides(ledger.LinkUnlinked)
	if s := linkStates(t, members, a, b); s[0] != ledger.LinkLinked || s[1] != ledger.LinkLinked {
		t.Fatalf("after the Toledo relay's unlink the pair is %v on HQ and Cayo's relay; want HQ's link to stand", s)
	}
	for _, m := range members {
		if g, err := m.Node.LinkedWith(ctx, a); err != nil || len(g) != 1 || g[0].ID != b.String() {
			t.Fatalf("%s groups %s with %+v (%v), want %s as HQ linked", m.Name, a, g, err, b)
		}
	}

	// Cayo's relay may decide again on HQ's decision of Cayo's people.
	if _, err := cayoRelay.Node.Link(ctx, a, b, ledger.LinkDifferent); err != nil {
		t.Fatal(err)
	}
	holds(ledger.LinkDifferent)
	toledoDecides(ledger.LinkLinked)
	if s := linkStates(t, members, a, b); s[0] != ledger.LinkDifferent || s[1] != ledger.LinkDifferent {
		t.Fatalf("after the Toledo relay's link the pair is %v on HQ and Cayo's relay; want Cayo's relay's decision to stand", s)
	}

	// HQ's decision naming no district, as before HQ named one, is HQ's
	// to decide again: Cayo's relay is told so before it signs.
	lo, hi := ledger.PairOf(a, b)
	at := time.Now()
	entry, err := ledger.Sign(ledger.CmdLink, &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: hq.Node.Self().ID, At: at.UnixMilli()},
		at, hq.Node.Credentials().Cert.Raw, hq.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := forwardToHQ(t, cayoRelay, hq, entry); err != nil {
		t.Fatal(err)
	}
	holds(ledger.LinkLinked)
	if _, err := cayoRelay.Node.Link(ctx, a, b, ledger.LinkUnlinked); !errors.Is(err, node.ErrNotReconciler) {
		t.Fatalf("Cayo's relay unlinking what HQ linked naming no district: %v; want it refused", err)
	}
}

// A family registered at a Toledo shelter travels in Toledo's scope, and
// is Toledo's for the write policy whatever its district field says. A
// stolen Toledo laptop sets the field to Cayo. Toledo's relay's link of
// the family with a Toledo report still stands on HQ, the relay still
// reviews the registration, and a relay of Cayo, which votes and so holds
// it, may neither link it with a report of Cayo nor review it: its own
// node refuses, and its link, signed by hand and forwarded, does not
// stand on HQ. Before, a decision took a district record's district from
// the field: the laptop's edit undid the Toledo relay's decisions on it
// everywhere, and handed them to Cayo's.
func TestADistrictFieldMovesNoRecordOutOfItsDistrictsDecisions(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	cayoRelay := relays[0]
	toledoRelay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	thief := laptop(c, "tol-66", "Toledo", nil)
	ctx := context.Background()
	report := mustAdd(t, toledo.Node, "missing-person", `{"full_name":"Ana Luisa Tzib","sex":"female","age":7,"district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rosa Tzib","reported_at":"2026-11-21T08:00:00-06:00"}`)
	family := mustAdd(t, toledo.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Cristóbal Tzib","members":2,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193",
		"household":[{"name":"Ana Tzib","sex":"female","age":7}]}`)
	cayoReport := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Tzib","sex":"female","age":7,"district":"Cayo","last_seen_place":"the market","last_seen_village":"Benque Viejo","status":"missing","reporter_name":"Juana Caal","reported_at":"2026-11-21T09:00:00-06:00"}`)
	for _, m := range []*nodetest.Member{toledo, thief} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	// decide signs a link as by would, and has the Cayo relay forward it
	// until every member applied it.
	decide := func(by *nodetest.Member, a, b syncproto.RecordID, district string) {
		t.Helper()
		lo, hi := ledger.PairOf(a, b)
		at := time.Now()
		l := &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: by.Node.Self().ID, District: district, At: at.UnixMilli()}
		entry, err := ledger.Sign(ledger.CmdLink, l, at, by.Node.Credentials().Cert.Raw, by.Node.Key().Signer())
		if err != nil {
			t.Fatal(err)
		}
		if err := forwardToHQ(t, cayoRelay, hq, entry); err != nil {
			t.Fatalf("the ledger refused %s's link in its own district's name: %v", by.Name, err)
		}
		for _, m := range []*nodetest.Member{hq, cayoRelay} {
			nodetest.Eventually(t, 30*time.Second, m.Name+" applied "+by.Name+"'s link", func() bool {
				l, ok, err := node.LedgerLinkOf(m.Node, ctx, a, b)
				return err == nil && ok && l.Node == by.Node.Self().ID
			})
		}
	}
	decide(toledoRelay, report, family, "Toledo")
	if s, err := hq.Node.LinkState(ctx, report, family); err != nil || s != ledger.LinkLinked {
		t.Fatalf("HQ holds the Toledo relay's link as %q (%v)", s, err)
	}

	mustUpdate(t, thief.Node, family, `{"district":"Cayo"}`)
	if _, err := thief.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if f, _ := hq.Node.Record(ctx, family); f.Fields["district"] != "Cayo" {
		t.Fatalf("the thief's edit at HQ: district %v", f.Fields["district"])
	}
	if s, err := hq.Node.LinkState(ctx, report, family); err != nil || s != ledger.LinkLinked {
		t.Fatalf("once a Toledo laptop set the family's district to Cayo, HQ holds the Toledo relay's link as %q (%v); want it to stand", s, err)
	}
	if g, err := hq.Node.LinkedWith(ctx, report); err != nil || len(g) != 1 || g[0].ID != family.String() {
		t.Fatalf("HQ groups the report with %+v (%v), want the family", g, err)
	}
	handWhole(t, hq, toledoRelay)
	if err := toledoRelay.Node.Review(ctx, family, node.ReviewApproved, ""); err != nil {
		t.Fatalf("the Toledo relay's review of the family: %v", err)
	}

	if _, err := cayoRelay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := cayoRelay.Node.Record(ctx, family); err != nil {
		t.Fatalf("the Cayo relay, a voter, holds the family: %v", err)
	}
	if _, err := cayoRelay.Node.Link(ctx, cayoReport, family, ledger.LinkLinked); !errors.Is(err, node.ErrNotReconciler) {
		t.Fatalf("the Cayo relay's link of a Cayo report with a Toledo family: %v; want it refused", err)
	}
	if err := cayoRelay.Node.Review(ctx, family, node.ReviewApproved, ""); !errors.Is(err, node.ErrNotReviewer) {
		t.Fatalf("the Cayo relay's review of a Toledo family: %v; want it refused", err)
	}
	decide(cayoRelay, cayoReport, family, "Cayo")
	if s, err := hq.Node.LinkState(ctx, cayoReport, family); err != nil || s != "" {
		t.Fatalf("HQ holds the Cayo relay's link of a Toledo family as %q (%v); want it not to stand", s, err)
	}
}

// A stolen Toledo relay signs, in Toledo's name, links that no node would
// make: a Toledo report with a Toledo damage assessment, with a record no
// node holds, and two people in shelters; a member forwards each and the
// ledger takes them, as it holds no records. On HQ, which holds the
// records, none stands: the report stays alone, its record lists no one,
// and the people in shelters stay two. Before, a relay's decision stood
// but for a record held of another district: any records, and made-up
// ones, joined a report's group.
func TestARelaysLinkOfRecordsThatAreNoPairOfPeopleDoesNotStand(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	toledoRelay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	report := mustAdd(t, toledo.Node, "missing-person", `{"full_name":"Ana Luisa Tzib","sex":"female","age":7,"district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rosa Tzib","reported_at":"2026-11-21T08:00:00-06:00"}`)
	damage := mustAdd(t, toledo.Node, "damage-assessment", strings.NewReplacer("Cayo", "Toledo", "Succotz", "San Antonio").Replace(assessment))
	sheltered := func(name string) syncproto.RecordID {
		return mustAdd(t, toledo.Node, "sheltered-person", `{"full_name":"`+name+`","sex":"female","home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-23T18:40:00-06:00"}`)
	}
	s1, s2 := sheltered("Ana Tzib"), sheltered("Juana Tzib")
	madeUp := syncproto.NewRecordID()
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	pairs := [][2]syncproto.RecordID{{report, damage}, {report, madeUp}, {s1, s2}}
	for _, p := range pairs {
		lo, hi := ledger.PairOf(p[0], p[1])
		at := time.Now()
		l := &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: toledoRelay.Node.Self().ID, District: "Toledo", At: at.UnixMilli()}
		entry, err := ledger.Sign(ledger.CmdLink, l, at, toledoRelay.Node.Credentials().Cert.Raw, toledoRelay.Node.Key().Signer())
		if err != nil {
			t.Fatal(err)
		}
		if err := forwardToHQ(t, relays[0], hq, entry); err != nil {
			t.Fatalf("the ledger refused a relay's link in its own district's name: %v", err)
		}
	}
	nodetest.Eventually(t, 30*time.Second, "HQ applied the Toledo relay's links", func() bool {
		links, err := node.LedgerLinks(hq.Node, ctx)
		return err == nil && len(links) == len(pairs)
	})
	for _, p := range pairs {
		if s, err := hq.Node.LinkState(ctx, p[0], p[1]); err != nil || s != "" {
			t.Errorf("HQ holds the Toledo relay's link of %s and %s as %q (%v); want it not to stand", p[0], p[1], s, err)
		}
	}
	for _, id := range []syncproto.RecordID{report, s1} {
		if g, err := hq.Node.LinkedWith(ctx, id); err != nil || len(g) != 0 {
			t.Errorf("HQ groups %s with %+v (%v), want alone", id, g, err)
		}
	}
}

// A stolen Toledo relay links, in Toledo's name, its district's reports
// all with all: 2,016 decisions, each of which stands. Reading the
// records linked with another report, as every record's screen does on
// every member, costs what that report's own links cost, however many the
// ledger holds of others. Before, it read and checked every decision the
// ledger held: 2.3 s for a report linked with no one, on 10,000 of them.
func TestARecordsLinksCostWhatItsOwnLinksCost(t *testing.T) {
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Toledo", nil)
	relay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	hq.Stop()
	ctx := context.Background()
	n, err := node.Open(ctx, hq.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	report := func(name string) syncproto.RecordID {
		return mustAdd(t, n, "missing-person", `{"full_name":"`+name+`","sex":"female","age":7,"district":"Toledo","last_seen_place":"the school","status":"missing","reporter_name":"Rosa Tzib","reported_at":"2026-11-21T08:00:00-06:00"}`)
	}
	lone, other := report("Ana Tzib"), report("Ana Luisa Tzib")
	var flood []syncproto.RecordID
	for i := range 64 {
		flood = append(flood, report(fmt.Sprintf("Juana Coc %d", i)))
	}
	at := time.Now()
	link := func(a, b syncproto.RecordID) []byte {
		lo, hi := ledger.PairOf(a, b)
		at = at.Add(time.Millisecond)
		l := &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: relay.Node.Self().ID, District: "Toledo", At: at.UnixMilli()}
		entry, err := ledger.Sign(ledger.CmdLink, l, at, relay.Node.Credentials().Cert.Raw, relay.Node.Key().Signer())
		if err != nil {
			t.Fatal(err)
		}
		return entry
	}
	entries := [][]byte{link(lone, other)}
	for i := range flood {
		for j := i + 1; j < len(flood); j++ {
			entries = append(entries, link(flood[i], flood[j]))
		}
	}
	const few = 10
	if err := node.ApplyLedger(n, c.CA.Cert, 1, entries[:few]); err != nil {
		t.Fatal(err)
	}
	linked := func() {
		g, err := n.LinkedWith(ctx, lone)
		if err != nil || len(g) != 1 || g[0].ID != other.String() {
			t.Fatalf("the lone report is linked with %+v (%v), want the other", g, err)
		}
	}
	before := testing.AllocsPerRun(5, linked)
	if err := node.ApplyLedger(n, c.CA.Cert, few+1, entries[few:]); err != nil {
		t.Fatal(err)
	}
	if g, err := n.LinkedWith(ctx, flood[0]); err != nil || len(g) != len(flood)-1 {
		t.Fatalf("the flood's first report is linked with %d records (%v), want %d", len(g), err, len(flood)-1)
	}
	after := testing.AllocsPerRun(5, linked)
	if after > 2*before {
		t.Fatalf("reading a report's one link took %.0f allocations with %d decisions in the ledger, %.0f with %d: want it not to grow with others' links",
			after, len(entries), before, few)
	}
}

// A stolen Toledo relay marks its district's reports all different from
// one another: 2,016 decisions on 64 people, each of which stands.
// Matching, which reads every decision to take the pairs together, reads
// each person once to check them, not each decision's two. Before, each
// decision read its two records again: 363 allocations a decision.
func TestAFloodOfDecisionsCostsMatchingAReadOfEachPerson(t *testing.T) {
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Toledo", nil)
	relay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	hq.Stop()
	ctx := context.Background()
	n, err := node.Open(ctx, hq.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var flood []syncproto.RecordID
	for i := range 64 {
		flood = append(flood, mustAdd(t, n, "missing-person", fmt.Sprintf(`{"full_name":"Juana Coc %d","sex":"female","age":7,"district":"Toledo","last_seen_place":"the school","status":"missing","reporter_name":"Rosa Tzib","reported_at":"2026-11-21T08:00:00-06:00"}`, i)))
	}
	at := time.Now()
	var entries [][]byte
	for i := range flood {
		for j := i + 1; j < len(flood); j++ {
			lo, hi := ledger.PairOf(flood[i], flood[j])
			at = at.Add(time.Millisecond)
			l := &ledger.Link{A: lo, B: hi, Decision: ledger.LinkDifferent, Node: relay.Node.Self().ID, District: "Toledo", At: at.UnixMilli()}
			entry, err := ledger.Sign(ledger.CmdLink, l, at, relay.Node.Credentials().Cert.Raw, relay.Node.Key().Signer())
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, entry)
		}
	}
	const few = 10
	if err := node.ApplyLedger(n, c.CA.Cert, 1, entries[:few]); err != nil {
		t.Fatal(err)
	}
	match := func() {
		if _, err := n.Matching(ctx, 0.5); err != nil {
			t.Fatal(err)
		}
	}
	match() // builds the index
	before := testing.AllocsPerRun(3, match)
	if err := node.ApplyLedger(n, c.CA.Cert, few+1, entries[few:]); err != nil {
		t.Fatal(err)
	}
	if s, err := n.LinkState(ctx, flood[0], flood[63]); err != nil || s != ledger.LinkDifferent {
		t.Fatalf("the relay's last decision is %q here (%v)", s, err)
	}
	const perDecision = 50
	if after := testing.AllocsPerRun(3, match); after > before+perDecision*float64(len(entries)-few) {
		t.Fatalf("matching took %.0f allocations with %d decisions in the ledger, %.0f with %d: over %d a decision more",
			after, len(entries), before, few, perDecision)
	}
}
