package node_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// reviewField is the review field's value as its definition gives it
// (docs/ledger.md): a CBOR map {1: decision, 2: reason, 3: the reviewing
// node's id, 4: Unix milliseconds}.
type reviewField struct {
	Decision string           `cbor:"1,keyasint"`
	Reason   string           `cbor:"2,keyasint,omitempty"`
	Node     syncproto.NodeID `cbor:"3,keyasint"`
	At       int64            `cbor:"4,keyasint"`
}

// reviewOn waits until a node shows a record's review as want (decision
// and reason), and returns it.
func reviewOn(t *testing.T, m *nodetest.Member, id syncproto.RecordID, decision, reason string) *node.RecordReview {
	t.Helper()
	var r *node.RecordReview
	nodetest.Eventually(t, 60*time.Second, m.Name+" shows the review "+decision, func() bool {
		v, err := m.Node.Record(context.Background(), id)
		r = v.Review
		return err == nil && r != nil && r.Decision == decision && r.Reason == reason
	})
	return r
}

// HQ sends a laptop's record back for a correction, through the ledger;
// the laptop, no ledger member, sees it at its next sync. A relay of the
// record's district approves it later, and the laptop sees that instead.
// The laptop, and a relay of another district, may not review it.
func TestReviewReachesTheAuthorsLaptop(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, false)
	cayoRelay := relays[0]
	toledoRelay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if v, err := hq.Node.Record(ctx, id); err != nil || v.Review != nil || v.Review.State() != node.ReviewPending {
		t.Fatalf("a record nobody reviewed shows review %+v (%v)", v.Review, err)
	}

	if err := hq.Node.Review(ctx, id, node.ReviewNeedsCorrection, "wrong village"); err != nil {
		t.Fatal(err)
	}
	got := reviewOn(t, hq, id, "needs-correction", "wrong village")
	if got.By != "hq" || got.Node != hq.Node.Self().ID.String() {
		t.Fatalf("the review at HQ is by %q (%s), want hq", got.By, got.Node)
	}
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	got = reviewOn(t, cayo, id, "needs-correction", "wrong village")
	if got.By != "hq" {
		t.Fatalf("the laptop names the reviewer %q, want hq", got.By)
	}
	var listed []string
	for v, err := range cayo.Node.Reviewed(ctx, node.Query{}, node.ReviewNeedsCorrection) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, v.ID)
	}
	if len(listed) != 1 || listed[0] != id.String() {
		t.Fatalf("the laptop lists %v as needing a correction, want [%s]", listed, id)
	}
	v, err := cayo.Node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, shown := v.Fields[node.ReviewField]; shown {
		t.Fatal("the review is listed among the record's fields")
	}

	// Neither the laptop nor a relay of Toledo may review a Cayo record.
	if err := cayo.Node.Review(ctx, id, node.ReviewApproved, ""); !errors.Is(err, node.ErrNotReviewer) || !strings.Contains(err.Error(), "cayo-07 is a field node") {
		t.Fatalf("a laptop's review: %v", err)
	}
	handWhole(t, cayo, toledoRelay) // a Toledo relay does not sync Cayo's records
	err = toledoRelay.Node.Review(ctx, id, node.ReviewApproved, "")
	if !errors.Is(err, node.ErrNotReviewer) || !strings.Contains(err.Error(), "is of Cayo") {
		t.Fatalf("a Toledo relay's review of a Cayo record: %v", err)
	}
	if err := hq.Node.Review(ctx, id, node.ReviewRejected, ""); err == nil || !strings.Contains(err.Error(), "needs a reason") {
		t.Fatalf("a rejection with no reason: %v", err)
	}
	if err := hq.Node.Review(ctx, syncproto.NewRecordID(), node.ReviewApproved, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a review of an unknown record: %v", err)
	}

	// The Cayo relay approves, once it holds the record: the later review
	// replaces HQ's everywhere.
	if _, err := cayoRelay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if err := cayoRelay.Node.Review(ctx, id, node.ReviewApproved, ""); err != nil {
		t.Fatal(err)
	}
	reviewOn(t, cayoRelay, id, "approved", "")
	if _, err := cayo.Node.Sync(ctx, cayoRelay.Addr); err != nil {
		t.Fatal(err)
	}
	if got := reviewOn(t, cayo, id, "approved", ""); got.By != "relay-1" {
		t.Fatalf("the approval is by %q, want relay-1", got.By)
	}
	if qs, _ := cayo.Node.Quarantine(ctx, 0); len(qs) != 0 {
		t.Fatalf("the laptop kept reviews aside: %+v", qs)
	}
}

// Reviews written outside the ledger, by nodes that may not make them: a
// laptop reviewing a record of its own district, a laptop writing a review
// in HQ's name, a relay reviewing a record of another district. HQ keeps
// each aside, with the reason, and the record shows no review.
func TestForgedReviewsAreRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	toledoRelay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	id := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	handWhole(t, cayo, toledoRelay) // a Toledo relay does not sync Cayo's records
	lane := syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))
	forge := func(m *nodetest.Member, in syncproto.NodeID) {
		t.Helper()
		value, err := syncproto.Marshal(&reviewField{Decision: "approved", Node: in, At: time.Now().UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		if err := node.WriteEdit(m.Node, ctx, store.Edit{Record: id, Lane: lane, Kit: "damage-assessment", Type: "damage-assessment", Version: 1,
			Fields: []syncproto.FieldChange{{Name: node.ReviewField, Value: value}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	forge(cayo, cayo.Node.Self().ID)
	forge(cayo, hq.Node.Self().ID)
	forge(toledoRelay, toledoRelay.Node.Self().ID)

	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cayo-07":      "reviews a record of Cayo; only headquarters or a relay of Cayo reviews it, and cayo-07 is a field node of Cayo",
		"relay-toledo": "reviews a record of Cayo; only headquarters or a relay of Cayo reviews it, and relay-toledo is a relay node of Toledo",
	}
	inHQsName := false
	for _, q := range qs {
		if !q.Final {
			t.Errorf("a forged review waits aside: %+v", q)
		}
		if strings.HasPrefix(q.Reason, "a review in the name of node "+hq.Node.Self().ID.String()) {
			inHQsName = true
			continue
		}
		if q.Reason != want[q.Origin] {
			t.Errorf("kept aside from %s: %q, want %q", q.Origin, q.Reason, want[q.Origin])
		}
		delete(want, q.Origin)
	}
	if len(qs) != 3 || !inHQsName || len(want) != 0 {
		t.Fatalf("HQ kept aside %d changes (%+v); want the three forged reviews", len(qs), qs)
	}
	if v, err := hq.Node.Record(ctx, id); err != nil || v.Review != nil {
		t.Fatalf("the record at HQ shows review %+v (%v), want none", v.Review, err)
	}
}

// HQ moves a missing person reported in Cayo to Toledo, and Toledo's relay
// reviews the report, as a relay of the record's district may. A node that
// takes the review before the move shows it once the move comes: before,
// it kept the review aside for good, and showed the report as waiting for
// review while every other node showed it reviewed.
func TestAReviewThatOvertakesTheMoveThatAllowsItStandsWhenTheMoveComes(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	relay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	late := laptop(c, "cayo-09", "Cayo", nil)
	ctx := context.Background()
	person := mustAdd(t, cayo.Node, "missing-person", `{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"San Ignacio market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`)
	for _, m := range []*nodetest.Member{cayo, relay, late} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	mustUpdate(t, hq.Node, person, `{"district":"Toledo"}`)
	if _, err := relay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	value, err := syncproto.Marshal(&reviewField{Decision: "approved", Node: relay.Node.Self().ID, At: time.Now().UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.WriteEdit(relay.Node, ctx, store.Edit{Record: person, Lane: syncproto.MakeLane(1, syncproto.National), Kit: "missing-persons", Type: "missing-person", Version: 1,
		Fields: []syncproto.FieldChange{{Name: node.ReviewField, Value: value}}}); err != nil {
		t.Fatal(err)
	}
	// The relay's changes alone, without HQ's move.
	have, err := hq.Node.Vector(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for st := range have {
		if st.Origin == relay.Node.Self().ID {
			delete(have, st)
		}
	}
	handBeyond(t, relay, late, have)
	for _, m := range []*nodetest.Member{relay, late} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*nodetest.Member{hq, late} {
		v, err := m.Node.Record(ctx, person)
		if err != nil || v.Review == nil || v.Review.Decision != "approved" {
			t.Fatalf("the report on %s shows review %+v (%v); want the relay's, as everywhere", m.Name, v.Review, err)
		}
		if n, err := m.Node.QuarantineCount(ctx); err != nil || n != 0 {
			t.Fatalf("%s keeps %d changes aside (%v)", m.Name, n, err)
		}
	}
}
