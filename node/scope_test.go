package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/node/peersync"
	"lifeline/syncproto"
)

const missingInToledo = `{"full_name":"Maria Pop","district":"Toledo","last_seen_place":"Punta Gorda market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`

// bundleFile writes a member's whole bundle to a file.
func bundleFile(t *testing.T, from *nodetest.Member) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := from.Node.ExportBundle(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// handBundle writes a member's whole bundle and imports it at another,
// scopes applied.
func handBundle(t *testing.T, from, to *nodetest.Member) peersync.ImportResult {
	t.Helper()
	res, err := to.Node.ImportBundle(context.Background(), bundleFile(t, from))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// holds says whether a member holds a record.
func holds(m *nodetest.Member, id syncproto.RecordID) bool {
	_, err := m.Node.Record(context.Background(), id)
	return err == nil
}

// A Toledo laptop never receives Cayo's damage assessments, by session
// with HQ, by session with a relay, or by HQ's bundle; it receives the
// national records and Toledo's. What a Toledo responder writes in Cayo
// reaches HQ through Toledo's relay, and Cayo's nodes from there.
func TestLaptopKeepsItsDistrictAndNationalRecords(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	relayTol := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	relayCayo := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	tol := laptop(c, "tol-02", "Toledo", nil)
	tol2 := laptop(c, "tol-05", "Toledo", nil)
	ctx := context.Background()

	cayoIDs := addIn(t, cayo, "Cayo", 3)
	tolIDs := addIn(t, tol2, "Toledo", 2)
	person := mustAdd(t, cayo.Node, "missing-person", missingInToledo)
	for _, m := range []*nodetest.Member{cayo, tol2} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*nodetest.Member{relayTol, relayCayo} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	// By session with HQ.
	res, err := tol.Node.Sync(ctx, hq.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Equal {
		t.Fatalf("a session of what the laptop keeps did not end in step: %+v", res)
	}
	for _, id := range cayoIDs {
		if holds(tol, id) || holds(relayTol, id) {
			t.Fatalf("a Toledo node received Cayo's record %s", id)
		}
		if !holds(relayCayo, id) {
			t.Fatalf("Cayo's relay lacks Cayo's record %s", id)
		}
	}
	for _, id := range append(tolIDs, person) {
		if !holds(tol, id) || !holds(relayTol, id) {
			t.Fatalf("a Toledo node lacks %s", id)
		}
	}
	if holds(relayCayo, tolIDs[0]) {
		t.Fatal("Cayo's relay received Toledo's record")
	}
	if tol.DigestOf(tol) != hq.DigestOf(tol) || relayTol.DigestOf(relayTol) != hq.DigestOf(relayTol) {
		t.Fatal("a Toledo node differs from HQ in what it keeps")
	}
	// By session with a relay, and by HQ's whole bundle: nothing more.
	if _, err := tol.Node.Sync(ctx, relayTol.Addr); err != nil {
		t.Fatal(err)
	}
	if got := handBundle(t, hq, tol); got.OutOfScope != 3 || got.Applied != 0 {
		t.Fatalf("HQ's bundle at the Toledo laptop: %d changes left out, %d applied; want Cayo's 3 left out and nothing new", got.OutOfScope, got.Applied)
	}
	for _, id := range cayoIDs {
		if holds(tol, id) {
			t.Fatalf("the Toledo laptop received Cayo's record %s", id)
		}
	}

	// A Toledo responder sent to Cayo writes there: the record reaches HQ
	// through Toledo's relay, then Cayo's nodes, and no other Toledo node.
	there := addIn(t, tol, "Cayo", 1)[0]
	if _, err := tol.Node.Sync(ctx, relayTol.Addr); err != nil {
		t.Fatal(err)
	}
	if !holds(relayTol, there) {
		t.Fatal("the Toledo relay did not carry its laptop's Cayo record")
	}
	if _, err := relayTol.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if !holds(hq, there) {
		t.Fatal("the record a Toledo responder wrote in Cayo did not reach HQ")
	}
	for _, m := range []*nodetest.Member{relayCayo, cayo, tol2} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	if !holds(relayCayo, there) || !holds(cayo, there) {
		t.Fatal("Cayo's nodes lack the record written in Cayo by a Toledo responder")
	}
	if holds(tol2, there) {
		t.Fatal("another Toledo laptop received a Cayo record")
	}
	if st, _ := tol.Node.Status(ctx); st.Unconfirmed != 0 && st.Records["damage-assessment"] != 3 {
		t.Fatalf("the Toledo laptop: %+v", st)
	}
}

// A peer that ignores scopes and sends a Toledo laptop Cayo's records is
// refused: the session ends with a scope error, nothing of the batch is
// stored, and the laptop goes on syncing with honest peers.
func TestPeerSendingAnotherDistrictIsRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	tol := c.Add("tol-02", syncproto.RoleField, "Toledo", nil) // serves sync
	ctx := context.Background()
	ids := addIn(t, cayo, "Cayo", 2)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	_, err := node.SyncOfferingAll(hq.Node, ctx, tol.Addr)
	var pe *syncproto.ProtocolError
	if !errors.As(err, &pe) || pe.Code != syncproto.CodeScope {
		t.Fatalf("a session sending Cayo's records to a Toledo laptop: %v, want a scope error", err)
	}
	for _, id := range ids {
		if holds(tol, id) {
			t.Fatalf("the Toledo laptop stored Cayo's record %s", id)
		}
	}
	// A positive control: the same peer, honest, syncs.
	person := mustAdd(t, hq.Node, "missing-person", missingInToledo)
	if _, err := tol.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if !holds(tol, person) {
		t.Fatal("the Toledo laptop lacks the national record after an honest session")
	}
}

// A responder moves from Toledo to Cayo: headquarters signs the laptop a
// certificate of Cayo, and from its next session it receives Cayo's
// records and is in step with HQ in Cayo's scope; what it held of Toledo
// stays, and its new records are of Cayo.
func TestLaptopMovedToAnotherDistrictConverges(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	tol := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	cayoIDs := addIn(t, cayo, "Cayo", 3)
	tolIDs := addIn(t, tol, "Toledo", 2)
	for _, m := range []*nodetest.Member{cayo, tol} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	if holds(tol, cayoIDs[0]) {
		t.Fatal("the Toledo laptop holds a Cayo record before it moved")
	}

	req, err := tol.Node.EnrollmentRequestIn("cayo")
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := c.CA.Sign(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	tol.Stop()
	n, err := node.Open(ctx, tol.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	n.Close()
	tol.Start()

	res, err := tol.Node.Sync(ctx, hq.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Equal {
		t.Fatalf("the moved laptop's session did not end in step: %+v", res)
	}
	for _, id := range append(cayoIDs, tolIDs...) {
		if !holds(tol, id) {
			t.Fatalf("the moved laptop lacks %s", id)
		}
	}
	if tol.DigestOf(tol) != hq.DigestOf(tol) {
		t.Fatal("the moved laptop differs from HQ in Cayo's scope")
	}
	mine := mustAdd(t, tol.Node, "damage-assessment", `{"village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":1,"household_size":2,"reported_by":"vol-1","reported_at":"2026-11-21T10:00:00Z","district":"Cayo"}`)
	if _, err := tol.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if !holds(cayo, mine) {
		t.Fatal("a Cayo laptop lacks the moved responder's Cayo record")
	}
}

// A relay the ledger names a voter may lead it, and a leader commits only
// the changes it holds: a Toledo voter keeps Cayo's records too (the
// drill's leader step has such a relay lead and commit every laptop's); a
// Toledo relay that does not vote keeps Toledo's alone.
func TestVoterRelayKeepsEveryScope(t *testing.T) {
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Belize", func(cfg *node.Config) { cfg.Bootstrap = true })
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	voter := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	c.AddToLedger(voter, true)
	other := c.Add("relay-toledo-2", syncproto.RoleRelay, "Toledo", nil)
	c.AddToLedger(other, false)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	nodetest.Eventually(t, 10*time.Second, "both relays know who votes", func() bool {
		return slices.Equal(voter.Node.Scopes(), []uint8(nil)) && len(other.Node.Scopes()) == 2
	})
	ids := addIn(t, cayo, "Cayo", 2)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*nodetest.Member{voter, other} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if !holds(voter, id) {
			t.Fatalf("the voting Toledo relay lacks Cayo's record %s", id)
		}
		if holds(other, id) {
			t.Fatalf("the Toledo relay that does not vote holds Cayo's record %s", id)
		}
	}
	if voter.DigestOf(voter) != hq.DigestOf(voter) {
		t.Fatal("the voting relay differs from HQ")
	}
}
