package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/peersync"
	"lifeline/syncproto"
)

// receiptsAt waits until HQ has signed receipts of n streams.
func receiptsAt(t *testing.T, hq *nodetest.Member, n int) {
	t.Helper()
	nodetest.Eventually(t, 30*time.Second, "hq signs its receipts", func() bool {
		st, _ := hq.Node.Status(context.Background())
		return st.Receipts >= n
	})
}

// A new Toledo laptop starts from one snapshot written by Toledo's relay:
// the national records and Toledo's, none of Cayo's, equal to what HQ
// holds of them, each change shown confirmed at HQ; the session after it brings
// nothing more, and later sessions bring what came after.
func TestNewLaptopStartsFromASnapshot(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	relayTol := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	tol := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()

	cayoIDs := addIn(t, cayo, "Cayo", 3)
	tolIDs := addIn(t, tol, "Toledo", 4)
	person := mustAdd(t, cayo.Node, "missing-person", missingInToledo)
	for _, m := range []*nodetest.Member{cayo, tol} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	receiptsAt(t, hq, 3) // Cayo's damage, the missing person, Toledo's damage
	res, err := relayTol.Node.Sync(ctx, hq.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot != 5 || res.Received != 5 {
		t.Fatalf("Toledo's relay received %d changes, %d by snapshot; want Toledo's 4 and the missing person, by snapshot", res.Received, res.Snapshot)
	}

	fresh := laptop(c, "tol-09", "Toledo", nil)
	res, err = fresh.Node.Sync(ctx, relayTol.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot != 5 || res.Received != 5 || !res.Equal {
		t.Fatalf("the new laptop's first sync: %d changes received, %d by snapshot, in step %v; want 5, all by snapshot, true", res.Received, res.Snapshot, res.Equal)
	}
	for _, id := range cayoIDs {
		if holds(fresh, id) {
			t.Fatalf("the new Toledo laptop received Cayo's record %s", id)
		}
	}
	for _, id := range append(tolIDs, person) {
		v, err := fresh.Node.Record(ctx, id)
		if err != nil {
			t.Fatalf("the new laptop lacks %s: %v", id, err)
		}
		for _, h := range v.History {
			if h.Status != node.StatusConfirmed {
				t.Fatalf("a change of record %s shows %q on the new laptop; HQ's receipt came with it", id, h.Status)
			}
		}
	}
	if fresh.DigestOf(fresh) != hq.DigestOf(fresh) {
		t.Fatal("the new laptop differs from HQ in what it keeps")
	}

	// Afterwards, sessions as usual.
	later := addIn(t, tol, "Toledo", 1)[0]
	if _, err := tol.Node.Sync(ctx, relayTol.Addr); err != nil {
		t.Fatal(err)
	}
	res, err = fresh.Node.Sync(ctx, relayTol.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot != 0 || res.Received != 1 || !holds(fresh, later) {
		t.Fatalf("the laptop's next sync: %d received, %d by snapshot; want the one new change by session", res.Received, res.Snapshot)
	}
}

// A relay that holds less of a stream than headquarters' receipt of it
// says (a liar, or a node that lost changes) writes a snapshot that is
// refused whole; the new laptop then syncs from the first change, and
// holds what the relay holds. The same file, by stick, is refused too.
func TestSnapshotCutShortIsRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	writer := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()

	first := addIn(t, writer, "Cayo", 3)
	if _, err := writer.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	rest := addIn(t, writer, "Cayo", 2)
	if _, err := writer.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	receiptsAt(t, hq, 1)
	rs, err := node.Receipts(hq.Node, ctx)
	if err != nil || len(rs) != 1 || rs[0].Seq != 5 {
		t.Fatalf("HQ's receipts: %+v %v; want one, of the laptop's 5 changes", rs, err)
	}
	if err := node.PutReceipts(relay.Node, ctx, rs); err != nil {
		t.Fatal(err)
	}

	fresh := laptop(c, "cayo-11", "Cayo", nil)
	path := filepath.Join(t.TempDir(), "cayo.snapshot")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Node.ExportSnapshot(ctx, f, fresh.Node.Credentials().Claims); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := fresh.Node.ImportSnapshot(ctx, path); !errors.Is(err, peersync.ErrSnapshot) {
		t.Fatalf("a snapshot cut short of HQ's receipt: %v", err)
	}
	if holds(fresh, first[0]) {
		t.Fatal("a refused snapshot left records behind")
	}

	res, err := fresh.Node.Sync(ctx, relay.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot != 0 || res.Received != 3 {
		t.Fatalf("after the refused snapshot: %d received, %d by snapshot; want the relay's 3 by session", res.Received, res.Snapshot)
	}
	if !holds(fresh, first[2]) || holds(fresh, rest[0]) {
		t.Fatal("the laptop does not hold what the relay holds")
	}
}

// A snapshot is written for the certificate that asks: another
// district's laptop is given none of this one's district records.
func TestSnapshotForAnotherDistrict(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	addIn(t, cayo, "Cayo", 2)
	mustAdd(t, cayo.Node, "missing-person", missingInToledo)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	receiptsAt(t, hq, 2)
	path := filepath.Join(t.TempDir(), "toledo.snapshot")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := hq.Node.ExportSnapshot(ctx, f, identity.Claims{Role: syncproto.RoleField, District: "Toledo"})
	f.Close()
	if err != nil || res.Changes != 1 {
		t.Fatalf("HQ's snapshot for a Toledo laptop: %+v %v; want the missing person alone", res, err)
	}
	tol := laptop(c, "tol-02", "Toledo", nil)
	got, err := tol.Node.ImportSnapshot(ctx, path)
	if err != nil || got.Applied != 1 {
		t.Fatalf("the Toledo laptop's import: %+v %v", got, err)
	}
}
