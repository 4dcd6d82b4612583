//go:build !mutate

package node_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): Raft clusters that elect,
// lose and regain leaders and take snapshots. What a node admits is
// checked on the same paths by the tests that stay.

// A field laptop's records reach a relay, the ledger commits them through
// the relay, every voter gives them the same case numbers, and the laptop
// learns, at its next sync, that they are confirmed.
func TestLedgerCommitsAndReceiptsReachTheField(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 2, true)
	field := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ids := add(t, field, 5)
	ctx := context.Background()
	if st, _ := field.Node.Status(ctx); st.Unconfirmed != 5 {
		t.Fatalf("unconfirmed %d before any sync, want 5", st.Unconfirmed)
	}
	if _, err := field.Node.Sync(ctx, relays[0].Addr); err != nil {
		t.Fatal(err)
	}
	own := syncproto.Stream{Origin: field.Node.Self().ID, Lane: cayoDamage}
	for _, m := range []*nodetest.Member{hq, relays[0], relays[1]} {
		nodetest.Eventually(t, 10*time.Second, m.Name+" has the commit", func() bool { return committed(m)[own] == 5 })
	}
	for _, id := range ids {
		want, _ := hq.Node.CaseNumber(ctx, id)
		if len(want) != len("CYO-2026-000001") {
			t.Fatalf("case number %q", want)
		}
		for _, r := range relays {
			if got, _ := r.Node.CaseNumber(ctx, id); got != want {
				t.Fatalf("%s numbers %s as %q, hq as %q", r.Name, id, got, want)
			}
		}
	}
	// HQ signs receipts of what it holds (the relay hands it the
	// laptop's changes, as anti-entropy would); the other relay takes them
	// and passes them on: the laptop, which never met HQ, checks them
	// against its own chain.
	if _, err := relays[0].Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "hq signs its receipts", func() bool {
		st, _ := hq.Node.Status(ctx)
		return st.Receipts > 0
	})
	if _, err := relays[1].Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if st, _ := field.Node.Status(ctx); st.Unconfirmed != 5 {
		t.Fatalf("unconfirmed %d before the laptop met a node with HQ's receipts", st.Unconfirmed)
	}
	if _, err := field.Node.Sync(ctx, relays[1].Addr); err != nil {
		t.Fatal(err)
	}
	st, _ := field.Node.Status(ctx)
	if st.Unconfirmed != 0 {
		t.Fatalf("unconfirmed %d after syncing with a relay that holds HQ's receipts", st.Unconfirmed)
	}
	v, err := field.Node.Record(ctx, ids[0])
	if err != nil || v.Status != node.StatusConfirmed {
		t.Fatalf("record status %q %v", v.Status, err)
	}
	// A list says of each record what the record itself says: its case
	// number and status, here and on a relay (which made none of them).
	add(t, field, 1) // saved here only
	for _, m := range []*nodetest.Member{field, relays[0]} {
		listed := 0
		for v, err := range m.Node.Records(ctx, node.Query{}) {
			if err != nil {
				t.Fatal(err)
			}
			id, _ := syncproto.ParseRecordID(v.ID)
			one, err := m.Node.Record(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if v.Case != one.Case || v.Status != one.Status {
				t.Fatalf("%s lists %s with case %q, status %q; the record says %q, %q", m.Name, v.ID, v.Case, v.Status, one.Case, one.Status)
			}
			listed++
		}
		if listed < 5 {
			t.Fatalf("%s lists %d records", m.Name, listed)
		}
	}
}

func leaderOf(t *testing.T, ms ...*nodetest.Member) *nodetest.Member {
	t.Helper()
	var leader *nodetest.Member
	nodetest.Eventually(t, 10*time.Second, "a leader", func() bool {
		for _, m := range ms {
			if m.Running() && m.Daemon.Ledger() != nil && m.Daemon.Ledger().IsLeader() {
				leader = m
				return true
			}
		}
		return false
	})
	return leader
}

// The leader dies; another is elected; nothing committed is lost, and the
// ledger goes on committing.
func TestLeaderLossLosesNothingCommitted(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 2, true)
	field := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	own := func() syncproto.Stream { return syncproto.Stream{Origin: field.Node.Self().ID, Lane: cayoDamage} }
	add(t, field, 10)
	if _, err := field.Node.Sync(ctx, relays[0].Addr); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the first commit", func() bool { return committed(relays[1])[own()] == 10 })
	hq.Stop()
	leader := leaderOf(t, relays...)
	// A ledger state read as leadership settles may fail (committed is
	// then empty): what the new leader holds is read until it answers.
	nodetest.Eventually(t, 10*time.Second, "the new leader holds the first commit", func() bool {
		return committed(leader)[own()] == 10
	})
	add(t, field, 5)
	if _, err := field.Node.Sync(ctx, relays[1].Addr); err != nil {
		t.Fatal(err)
	}
	for _, r := range relays {
		nodetest.Eventually(t, 10*time.Second, r.Name+" commits after the election", func() bool { return committed(r)[own()] == 15 })
	}
	hq.Start()
	nodetest.Eventually(t, 10*time.Second, "the old leader catches up", func() bool { return committed(hq)[own()] == 15 })
}

// A relay cut off from the other voters keeps taking records from the
// field; the majority goes on; once the link heals, the relay's records
// reach the ledger and every node ends equal.
func TestMinorityRelayCutOffThenHealed(t *testing.T) {
	net := &nodetest.Links{}
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) { cfg.Bootstrap, cfg.Cut = true, net.Filter("hq") })
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	var relays []*nodetest.Member
	for _, name := range []string{"relay-1", "relay-2"} {
		// Relays of Cayo: they keep every record of the test, all of Cayo.
		r := c.Add(name, syncproto.RoleRelay, "Cayo", func(cfg *node.Config) { cfg.Cut = net.Filter(name) })
		c.AddToLedger(r, true)
		relays = append(relays, r)
	}
	fieldA := c.Add("tol-02", syncproto.RoleField, "Toledo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	fieldB := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	streamOf := func(m *nodetest.Member) syncproto.Stream {
		return syncproto.Stream{Origin: m.Node.Self().ID, Lane: cayoDamage}
	}

	net.Cut("relay-2", "hq")
	net.Cut("relay-2", "relay-1")
	add(t, fieldA, 4)
	if _, err := fieldA.Node.Sync(ctx, relays[1].Addr); err != nil {
		t.Fatal(err) // the field still reaches the cut-off relay
	}
	add(t, fieldB, 3)
	if _, err := fieldB.Node.Sync(ctx, relays[0].Addr); err != nil {
		t.Fatal(err)
	}
	leader := leaderOf(t, hq, relays[0])
	nodetest.Eventually(t, 10*time.Second, "the majority commits", func() bool { return committed(leader)[streamOf(fieldB)] == 3 })
	// A record that reaches the majority after the cut-off relay got its
	// own is committed: in that time the cut-off relay's records would
	// have been too, had it reached the leader.
	add(t, fieldB, 1)
	if _, err := fieldB.Node.Sync(ctx, relays[0].Addr); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the majority commits a later record", func() bool { return committed(leader)[streamOf(fieldB)] == 4 })
	if got := committed(leader)[streamOf(fieldA)]; got != 0 {
		t.Fatalf("the ledger committed %d changes it could not have been told of", got)
	}

	net.Heal()
	for _, m := range []*nodetest.Member{hq, relays[0], relays[1]} {
		nodetest.Eventually(t, 15*time.Second, m.Name+" commits the cut-off relay's records", func() bool {
			v := committed(m)
			return v[streamOf(fieldA)] == 4 && v[streamOf(fieldB)] == 4
		})
	}
	// The data plane carries the records themselves.
	for _, pair := range [][2]*nodetest.Member{{relays[1], hq}, {relays[0], hq}, {relays[1], hq}} {
		if _, err := pair[0].Node.Sync(ctx, pair[1].Addr); err != nil {
			t.Fatal(err)
		}
	}
	if hq.Digest() != relays[0].Digest() || hq.Digest() != relays[1].Digest() {
		t.Fatal("digests differ after healing")
	}
}

// A node that joins after a snapshot gets the ledger from the snapshot,
// case numbers of records it never saw included.
func TestSnapshotRestoresIntoAFreshNode(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ids := add(t, hq, 30)
	nodetest.Eventually(t, 10*time.Second, "commit", func() bool {
		n, _ := hq.Node.CaseNumber(context.Background(), ids[29])
		return n != ""
	})
	if err := hq.Daemon.Ledger().Snapshot(); err != nil {
		t.Fatal(err)
	}
	fresh := c.Add("relay-9", syncproto.RoleRelay, "Belize", nil)
	c.AddToLedger(fresh, false)
	ctx := context.Background()
	nodetest.Eventually(t, 10*time.Second, "the fresh node restores", func() bool {
		for _, id := range ids {
			want, _ := hq.Node.CaseNumber(ctx, id)
			if got, _ := fresh.Node.CaseNumber(ctx, id); got != want {
				return false
			}
		}
		return true
	})
	st, _ := fresh.Node.Status(ctx)
	if st.Records["damage-assessment"] != 0 {
		t.Fatal("the ledger carried records; only sync should")
	}
}

// A node headquarters revokes is refused by every node that knows.
func TestRevokedNodeRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	field := c.Add("stolen", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	if _, err := field.Node.Sync(ctx, relays[0].Addr); err != nil {
		t.Fatal(err)
	}
	if err := hq.Node.Queue(ctx, ledger.CmdRevoke, &ledger.Revoke{Node: field.Node.Self().ID, Reason: "laptop stolen", By: hq.Node.Self().ID}); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the relay refuses the revoked node", func() bool {
		_, err := field.Node.Sync(ctx, relays[0].Addr)
		return err != nil
	})
}

// A relay may forward commits to the leader, not what only headquarters
// decides: a compromised relay cannot revoke nodes or publish kits.
func TestRelayCannotForwardHQCommands(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	ctx := context.Background()
	victim := hq.Node.Self().ID
	revoke := &ledger.Revoke{Node: victim, Reason: "forged", By: relays[0].Node.Self().ID}
	bare, err := ledger.Encode(ledger.CmdRevoke, revoke)
	if err != nil {
		t.Fatal(err)
	}
	creds := relays[0].Node.Credentials()
	signed, err := ledger.Sign(ledger.CmdRevoke, revoke, time.Now(), creds.Cert.Raw, relays[0].Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	for what, entry := range map[string][]byte{"unsigned": bare, "signed by the relay": signed} {
		err = forwardToHQ(t, relays[0], hq, entry)
		if err == nil || !strings.Contains(err.Error(), "headquarters") {
			t.Fatalf("a relay forwarded a revocation %s: %v", what, err)
		}
		// Refused for good, not failed for now: a queue that sent it
		// drops it rather than sending it again at every tick.
		if !errors.Is(err, ledger.ErrRefused) {
			t.Fatalf("a relay's revocation %s: %v; want it refused by the ledger, not failed", what, err)
		}
	}
	if revoked, _ := hq.Node.IsRevoked(ctx, victim); revoked {
		t.Fatal("the ledger revoked a node on a relay's word")
	}
}

// Headquarters enrolls a laptop by carrying files and decides a conflict;
// the ledger carries both to the relays: the relay knows the laptop before
// it ever connects, and shows who decided the conflict.
func TestEnrollmentsAndDecisionsGoThroughTheLedger(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	relay := relays[0]
	ctx := context.Background()
	// HQ's folder holds the deployment's CA, as `lifeline ca init` leaves it.
	caDir := filepath.Join(hq.Config.DataDir, node.CADir)
	if err := c.CA.Save(caDir, testPassphrase); err != nil {
		t.Fatal(err)
	}
	ca, err := node.OpenAuthority(hq.Config.DataDir, passphrase(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}

	cfg := nodetest.Config(t.TempDir())
	if err := node.Init(ctx, cfg, node.Identity{Name: "tol-02", Role: syncproto.RoleField, District: "Toledo"}); err != nil {
		t.Fatal(err)
	}
	laptop, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer laptop.Close()
	req, err := laptop.EnrollmentRequest()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := hq.Node.SignEnrollment(ctx, ca, req, node.SignOptions{Role: syncproto.RoleField, District: "Toledo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := laptop.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the relay knows the new laptop", func() bool {
		known, _ := relay.Node.KnownNodes(ctx)
		for _, k := range known {
			if k.Node == laptop.Self().ID && k.Name == "tol-02" {
				return true
			}
		}
		return false
	})

	// Two laptops change one field without seeing each other's change.
	a := c.Add("cayo-01", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	b := c.Add("cayo-02", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	id := add(t, a, 1)[0]
	for _, m := range []*nodetest.Member{a, b} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range []*nodetest.Member{a, b} {
		if _, err := m.Node.Update(ctx, id, fmt.Appendf(nil, `{"damage_level":%d}`, 3+i), m.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	v, err := hq.Node.Record(ctx, id)
	if err != nil || len(v.Conflicts["damage_level"]) != 2 {
		t.Fatalf("hq sees conflicts %v (%v), want two versions of damage_level", v.Conflicts, err)
	}
	decided, err := hq.Node.Update(ctx, id, []byte(`{"damage_level":4}`), "Duty officer Ramos")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the relay shows the decision", func() bool {
		v, err := relay.Node.Record(ctx, id)
		return err == nil && len(v.Conflicts) == 0 && len(v.Decisions) == 1 &&
			v.Decisions[0].Field == "damage_level" && v.Decisions[0].By == "Duty officer Ramos" &&
			v.Decisions[0].Change == fmt.Sprintf("%s:%d", decided.Origin, decided.Seq)
	})
}
