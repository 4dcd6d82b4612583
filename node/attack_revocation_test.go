package node_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// Revocations travel in every session's hello and every bundle, so that a
// laptop that never hears gossip from headquarters learns them from any
// peer or stick: a stolen laptop cannot sync through it. A list a peer
// passes on is checked notice by notice, as gossip's notices are: a forged
// one changes nothing, and the session goes on.

// noticesOf are the revocation notices m passes on.
func noticesOf(t *testing.T, m *node.Node) [][]byte {
	t.Helper()
	l, err := node.RevocationNotices(m, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func revoked(t *testing.T, m *node.Node, id syncproto.NodeID) bool {
	t.Helper()
	ok, err := m.IsRevoked(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// keptAsideFor says whether n keeps aside a change for its origin's
// revocation, and holds none of records.
func keptAsideFor(t *testing.T, n *node.Node, records []syncproto.RecordID) {
	t.Helper()
	ctx := context.Background()
	for _, id := range records {
		if _, err := n.Record(ctx, id); err == nil {
			t.Fatalf("%s holds record %s, written after its origin was revoked", n.Self().Name, id)
		}
	}
	qs, err := n.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if strings.Contains(q.Reason, "revoked") {
			return
		}
	}
	t.Fatalf("%s keeps aside %+v, nothing for a revocation", n.Self().Name, qs)
}

// Headquarters revokes a stolen laptop. A laptop that never hears gossip
// syncs with the relay, which learnt the revocation from the ledger and
// HQ's signed notice by syncing with HQ: it learns it from the relay's
// hello. The thief is then refused in the handshake, whichever side dials;
// the records it wrote after the revocation, carried by a third laptop
// that had not heard, are kept aside, and that laptop's own records come.
// That laptop, which now holds both the thief's records and the
// revocation, brings both to a fourth in one session: the revocation
// applies first, and the records are kept aside there too.
func TestStolenLaptopRefusedByALaptopThatNeverHeardGossip(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	relay := relays[0]
	thief := c.Add("cayo-66", syncproto.RoleField, "Cayo", nil)
	unaware := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	carrier := laptop(c, "cayo-12", "Cayo", nil)
	fourth := c.Add("cayo-09", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	thiefID := thief.Node.Self().ID

	before := add(t, thief, 2)
	if _, err := thief.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if err := hq.Node.Revoke(ctx, thiefID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ signs the revocation as it applies it", func() bool {
		return len(noticesOf(t, hq.Node)) == 1
	})
	nodetest.Eventually(t, 10*time.Second, "the relay knows of the revocation from the ledger", func() bool {
		return revoked(t, relay.Node, thiefID)
	})
	if _, err := relay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if got, want := noticesOf(t, relay.Node), noticesOf(t, hq.Node); len(got) != 1 || !bytes.Equal(got[0], want[0]) {
		t.Fatal("the relay does not pass on HQ's notice as HQ signed it")
	}
	// The laptop below can take from the relay only what the relay holds:
	// a failure here says the relay lacked the thief's earlier records, not
	// the laptop's session.
	nodetest.Eventually(t, 10*time.Second, "the relay holds the thief's records from before the revocation", func() bool {
		for _, id := range before {
			if _, err := relay.Node.Record(ctx, id); err != nil {
				return false
			}
		}
		return true
	})

	// The thief writes on; a laptop that has not heard takes it.
	after := add(t, thief, 1)
	if _, err := carrier.Node.Sync(ctx, thief.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := carrier.Node.Record(ctx, after[0]); err != nil {
		t.Fatalf("the carrier did not take the thief's record: %v", err)
	}

	if revoked(t, unaware.Node, thiefID) {
		t.Fatal("the laptop knew of the revocation before any session")
	}
	res, err := unaware.Node.Sync(ctx, relay.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revocations != 1 || !revoked(t, unaware.Node, thiefID) {
		t.Fatalf("the laptop learnt %d revocations from the relay's hello", res.Revocations)
	}
	for _, id := range before {
		if _, err := unaware.Node.Record(ctx, id); err != nil {
			t.Fatalf("the laptop lacks the thief's record %s from before the revocation: %v", id, err)
		}
	}

	// The thief, dialling or dialled, is refused in the handshake.
	if _, err := thief.Node.Sync(ctx, unaware.Addr); err == nil {
		t.Fatal("the laptop took a session from the revoked thief")
	}
	if _, err := unaware.Node.Sync(ctx, thief.Addr); err == nil {
		t.Fatal("the laptop synced with the revoked thief")
	}
	if _, err := unaware.Node.Record(ctx, after[0]); err == nil {
		t.Fatal("the thief's record reached the laptop")
	}

	// Carried by a laptop that had not heard, the thief's record is kept
	// aside; the carrier's own comes, and the session ends well.
	mine := add(t, carrier, 1)
	if _, err := carrier.Node.Sync(ctx, unaware.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := unaware.Node.Record(ctx, mine[0]); err != nil {
		t.Fatalf("the carrier's own record did not come: %v", err)
	}
	keptAsideFor(t, unaware.Node, after)
	if !revoked(t, carrier.Node, thiefID) {
		t.Fatal("the carrier did not learn of the revocation from the laptop's hello")
	}
	if res, err := carrier.Node.Sync(ctx, fourth.Addr); err != nil || res.Sent == 0 {
		t.Fatalf("the carrier's session with a fourth laptop: %+v %v", res, err)
	}
	if !revoked(t, fourth.Node, thiefID) {
		t.Fatal("the fourth laptop did not learn of the revocation")
	}
	if _, err := fourth.Node.Record(ctx, mine[0]); err != nil {
		t.Fatalf("the carrier's own record did not reach the fourth laptop: %v", err)
	}
	keptAsideFor(t, fourth.Node, after)
}

// exportTo writes a bundle of everything n holds to a file.
func exportTo(t *testing.T, n *node.Node, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := n.ExportBundle(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// A bundle written at headquarters teaches a laptop that meets no network
// the revocation, with no daemon running, as the command line imports it.
// A laptop that took a thief's records before it heard, and then heard,
// writes a bundle that carries both the revocation and the records: the
// laptop that imports it learns the revocation first, and keeps the
// records aside.
func TestRevocationTravelsInBundles(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	thief := c.Add("cayo-66", syncproto.RoleField, "Cayo", nil)
	carrier := laptop(c, "cayo-12", "Cayo", nil)
	first := laptop(c, "cayo-07", "Cayo", nil)
	second := laptop(c, "cayo-08", "Cayo", nil)
	ctx := context.Background()
	thiefID := thief.Node.Self().ID

	if err := hq.Node.Revoke(ctx, thiefID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ signs the revocation as it applies it", func() bool {
		return len(noticesOf(t, hq.Node)) == 1
	})
	after := add(t, thief, 1)
	if _, err := carrier.Node.Sync(ctx, thief.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := carrier.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if !revoked(t, carrier.Node, thiefID) {
		t.Fatal("the carrier did not learn of the revocation from HQ's hello")
	}
	mine := add(t, carrier, 1)

	fromHQ := exportTo(t, hq.Node, "hq.bundle")
	fromCarrier := exportTo(t, carrier.Node, "carrier.bundle")
	for _, m := range []*nodetest.Member{first, second} {
		m.Stop()
	}
	open := func(m *nodetest.Member) *node.Node {
		n, err := node.Open(ctx, m.Config)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}

	n := open(first)
	res, err := n.ImportBundle(ctx, fromHQ)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revocations != 1 || !revoked(t, n, thiefID) {
		t.Fatalf("HQ's bundle taught %d revocations", res.Revocations)
	}
	if got, want := noticesOf(t, n), noticesOf(t, hq.Node); len(got) != 1 || !bytes.Equal(got[0], want[0]) {
		t.Fatal("the laptop does not pass on HQ's notice as HQ signed it")
	}

	n = open(second)
	res, err = n.ImportBundle(ctx, fromCarrier)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revocations != 1 || !revoked(t, n, thiefID) {
		t.Fatalf("the carrier's bundle taught %d revocations", res.Revocations)
	}
	if _, err := n.Record(ctx, mine[0]); err != nil {
		t.Fatalf("the carrier's own record did not come: %v", err)
	}
	keptAsideFor(t, n, after)
}

// A peer passes on a list of forged revocations of an honest laptop:
// signed by a field laptop, by a relay, HQ's notice altered after it was
// signed, and one signed by an HQ node headquarters revoked (which the
// same list says, after it). Each is refused and changes nothing; the
// genuine notice in the list is applied, and the session completes.
func TestForgedRevocationsChangeNothing(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	lostHQ := c.Add("hq-2", syncproto.RoleHQ, "Belize", nil)
	liar := laptop(c, "cayo-66", "Cayo", nil)
	receiver := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	victim := laptop(c, "cayo-08", "Cayo", nil)
	ctx := context.Background()
	victimID, lostID := victim.Node.Self().ID, lostHQ.Node.Self().ID

	byLostHQ := node.SignedRevocation(lostHQ.Node, victimID)
	if err := hq.Node.Revoke(ctx, lostID, "key lost"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ signs the revocation as it applies it", func() bool {
		return len(noticesOf(t, hq.Node)) == 1
	})
	genuine := noticesOf(t, hq.Node)[0]
	forged := map[string][]byte{
		"signed by a revoked HQ node": byLostHQ,
		"signed by a field laptop":    node.SignedRevocation(liar.Node, victimID),
		"signed by a relay":           node.SignedRevocation(relays[0].Node, victimID),
		"altered after signing":       node.AlterRevocation(genuine, victimID),
	}
	list := [][]byte{byLostHQ, forged["signed by a field laptop"], forged["signed by a relay"], forged["altered after signing"], genuine}

	mine := add(t, liar, 1)
	if _, err := node.SyncPassing(liar.Node, ctx, receiver.Addr, list); err != nil {
		t.Fatalf("a forged list ended the session: %v", err)
	}
	if _, err := receiver.Node.Record(ctx, mine[0]); err != nil {
		t.Fatalf("the liar's own record did not come: %v", err)
	}
	if revoked(t, receiver.Node, victimID) {
		t.Fatal("a forged notice revoked the victim")
	}
	if !revoked(t, receiver.Node, lostID) {
		t.Fatal("the genuine notice in the list was not applied")
	}
	if got := noticesOf(t, receiver.Node); len(got) != 1 || !bytes.Equal(got[0], genuine) {
		t.Fatalf("the receiver passes on %d notices, want HQ's alone", len(got))
	}
	// Each forgery alone, to a laptop that knows nothing: refused, and the
	// session completes.
	for what, msg := range forged {
		fresh := c.Add("fresh-"+strings.ReplaceAll(what, " ", "-"), syncproto.RoleField, "Cayo", nil)
		if _, err := node.SyncPassing(liar.Node, ctx, fresh.Addr, [][]byte{genuine, msg}); err != nil {
			t.Fatalf("%s: the session ended: %v", what, err)
		}
		if revoked(t, fresh.Node, victimID) {
			t.Fatalf("a revocation %s revoked the victim", what)
		}
		if _, err := fresh.Node.Record(ctx, mine[0]); err != nil {
			t.Fatalf("%s: the liar's own record did not come: %v", what, err)
		}
	}
}

// A hello with more revocations than the protocol allows is refused with
// an error that says so, and the node goes on serving honest peers.
func TestTooManyRevocationsRefused(t *testing.T) {
	c := nodetest.New(t)
	receiver := c.Add("relay-1", syncproto.RoleRelay, "Cayo", nil)
	liar := laptop(c, "cayo-66", "Cayo", nil)
	honest := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	list := make([][]byte, syncproto.MaxRevocations+1)
	for i := range list {
		list[i] = []byte{byte(i)}
	}
	if _, err := node.SyncPassing(liar.Node, ctx, receiver.Addr, list); err == nil {
		t.Fatal("a hello of too many revocations was taken")
	}
	says := fmt.Sprintf("a revocation list of %d notices, the limit is %d", syncproto.MaxRevocations+1, syncproto.MaxRevocations)
	nodetest.Eventually(t, 10*time.Second, "the relay says why it ended the session", func() bool {
		st, err := receiver.Node.Status(ctx)
		if err != nil {
			return false
		}
		for _, p := range st.Peers {
			if p.Name == liar.Name && strings.Contains(p.Error, says) {
				return true
			}
		}
		return false
	})
	mine := add(t, honest, 1)
	if _, err := honest.Node.Sync(ctx, receiver.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := receiver.Node.Record(ctx, mine[0]); err != nil {
		t.Fatal(err)
	}
}

// A bundle imported from the command line, by another process, while the
// laptop's node runs: the running node refuses the thief's later records,
// though it had checked its earlier ones and knew it unrevoked then.
func TestRevocationImportedByAnotherProcess(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	thief := c.Add("cayo-66", syncproto.RoleField, "Cayo", nil)
	running := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	carrier := laptop(c, "cayo-12", "Cayo", nil)
	ctx := context.Background()
	thiefID := thief.Node.Self().ID

	add(t, thief, 1)
	if _, err := thief.Node.Sync(ctx, running.Addr); err != nil {
		t.Fatal(err) // the running node checks the thief's records, unrevoked
	}
	if err := hq.Node.Revoke(ctx, thiefID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ signs the revocation as it applies it", func() bool {
		return len(noticesOf(t, hq.Node)) == 1
	})
	after := add(t, thief, 1)
	if _, err := carrier.Node.Sync(ctx, thief.Addr); err != nil {
		t.Fatal(err)
	}

	cli, err := node.Open(ctx, running.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if res, err := cli.ImportBundle(ctx, exportTo(t, hq.Node, "hq.bundle")); err != nil || res.Revocations != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	nodetest.Eventually(t, 10*time.Second, "the running node refuses the thief's record the carrier brings", func() bool {
		if _, err := carrier.Node.Sync(ctx, running.Addr); err != nil {
			t.Fatal(err)
		}
		qs, _ := running.Node.Quarantine(ctx, 0)
		return len(qs) > 0
	})
	keptAsideFor(t, running.Node, after)
}

// A thief who holds a revoked laptop sends headquarters a renewal, its
// request made with the laptop's key under the laptop's name and district,
// as a responder whose certificate ends would. HQ's node refuses to sign
// it, saying the node was revoked: a signed file would carry the gossip
// keys HQ uses now, encrypted to the thief's key, and a certificate of a
// new season for the peers that have not heard of the revocation.
func TestARevokedNodeIsNotSignedAgain(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	ctx := context.Background()
	if err := c.CA.Save(filepath.Join(hq.Config.DataDir, node.CADir), testPassphrase); err != nil {
		t.Fatal(err)
	}
	ca, err := node.OpenAuthority(hq.Config.DataDir, passphrase(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	field := node.SignOptions{Role: syncproto.RoleField, District: "Cayo"}
	renewal, err := thief.Node.EnrollmentRequest()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hq.Node.SignEnrollment(ctx, ca, renewal, field); err != nil {
		t.Fatalf("the laptop's renewal before it was revoked: %v", err)
	}
	if err := hq.Node.Revoke(ctx, thief.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ knows of the revocation", func() bool {
		return revoked(t, hq.Node, thief.Node.Self().ID)
	})
	bundle, err := hq.Node.SignEnrollment(ctx, ca, renewal, field)
	if err == nil || !strings.Contains(err.Error(), "revoked") || !strings.Contains(err.Error(), "cayo-66") {
		t.Fatalf("a revoked laptop's renewal: %d bytes signed, error %v; want it refused, naming the laptop as revoked", len(bundle), err)
	}
}
