package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/syncproto"
)

func newStore(t *testing.T) *store.SQLite {
	t.Helper()
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Create(context.Background(), filepath.Join(t.TempDir(), store.FileName),
		store.Self{ID: key.ID(), Name: "hq", Role: "hq", District: "Cayo"}, store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func entry(t *testing.T, index uint64, typ ledger.CommandType, cmd any) ledger.Entry {
	t.Helper()
	b, err := ledger.Encode(typ, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Entry{Index: index, Term: 1, Data: b}
}

// deployment is a CA and an HQ node of it, to sign decisions.
type deployment struct {
	ca *identity.CA
	hq *identity.Credentials
}

func newDeployment(t *testing.T) deployment {
	t.Helper()
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	return deployment{ca: ca, hq: nodetest.Credentials(t, ca, "hq", syncproto.RoleHQ)}
}

// signed is the entry of a decision signed by who, at index milliseconds
// from now: two decisions alike are two decisions only when signed at two
// times, as a node signs them (its signTime).
func signed(t *testing.T, index uint64, who *identity.Credentials, typ ledger.CommandType, cmd any) ledger.Entry {
	t.Helper()
	b, err := ledger.Sign(typ, cmd, time.Now().Add(time.Duration(index)*time.Millisecond), who.Cert.Raw, who.Key.Signer())
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Entry{Index: index, Term: 1, Data: b}
}

func snapshotBytes(t *testing.T, s *store.SQLite) []byte {
	var buf bytes.Buffer
	if err := s.LedgerSnapshot(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFSMCommitsAndNumbersCases(t *testing.T) {
	s := newStore(t)
	d := newDeployment(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	st := syncproto.Stream{Origin: syncproto.NodeID{1}, Lane: 1}
	r1, r2, r3 := syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID()
	r4, r5 := syncproto.NewRecordID(), syncproto.NewRecordID()
	log := []ledger.Entry{
		entry(t, 1, ledger.CmdCommit, &ledger.Commit{
			Ranges: []ledger.Range{{Stream: st, From: 1, To: 10, Head: syncproto.Hash{10}}},
			New:    []ledger.NewRecord{{Record: r1, District: "CYO", Year: 2026}, {Record: r2, District: "CYO", Year: 2026}},
		}),
		// A stale proposal (from 5) and one with a gap (from 20) commit nothing.
		entry(t, 2, ledger.CmdCommit, &ledger.Commit{Ranges: []ledger.Range{{Stream: st, From: 5, To: 12}, {Stream: st, From: 20, To: 30}}}),
		// A record numbered once is not numbered again, nor one named
		// twice in an entry; the numbers of each district follow the
		// entry's order.
		entry(t, 3, ledger.CmdCommit, &ledger.Commit{
			Ranges: []ledger.Range{{Stream: st, From: 11, To: 12, Head: syncproto.Hash{12}}},
			New: []ledger.NewRecord{{Record: r4, District: "CYO", Year: 2026}, {Record: r1, District: "TOL", Year: 2026},
				{Record: r3, District: "TOL", Year: 2026}, {Record: r5, District: "CYO", Year: 2026}, {Record: r3, District: "TOL", Year: 2026}},
		}),
		{Index: 4, Term: 1, Data: []byte{200, 1, 2}}, // unknown: refused, but passed
		signed(t, 5, d.hq, ledger.CmdRevoke, &ledger.Revoke{Node: syncproto.NodeID{7}, Reason: "laptop stolen", At: 1, By: d.hq.Claims.Node}),
	}
	wantCommitted := []int{10, 0, 2, 0, 0}
	for i, l := range log {
		res := fsm.Apply(l)
		if res.Committed != wantCommitted[i] {
			t.Fatalf("entry %d committed %d changes, want %d", l.Index, res.Committed, wantCommitted[i])
		}
	}
	ctx := context.Background()
	state, err := s.Ledger(ctx)
	if err != nil || state.Applied != 5 || state.Committed[st] != 12 {
		t.Fatalf("state %+v %v", state, err)
	}
	for id, want := range map[syncproto.RecordID]string{r1: "CYO-2026-000001", r2: "CYO-2026-000002",
		r3: "TOL-2026-000001", r4: "CYO-2026-000003", r5: "CYO-2026-000004"} {
		if got, _ := s.CaseNumber(ctx, id); got != want {
			t.Errorf("case number %q, want %q", got, want)
		}
	}
	if revoked, _ := s.Revoked(ctx, syncproto.NodeID{7}); !revoked {
		t.Fatal("revocation not recorded")
	}
	// The canonical ledger lists what was committed, in commit order.
	entries, err := s.LedgerLog(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.LogEntry{
		{Position: 1, Entry: 1, Stream: st, First: 1, Last: 10, Head: syncproto.Hash{10}},
		{Position: 2, Entry: 3, Stream: st, First: 11, Last: 12, Head: syncproto.Hash{12}},
	}
	if len(entries) != len(want) || entries[0] != want[0] || entries[1] != want[1] {
		t.Fatalf("ledger log %+v, want %+v", entries, want)
	}
	if after, _ := s.LedgerLog(ctx, 1, 0); len(after) != 1 || after[0] != want[1] {
		t.Fatalf("ledger log after position 1: %+v", after)
	}
	// Applying an entry again (a replay after restart) changes nothing.
	before := snapshotBytes(t, s)
	fsm.Apply(log[0])
	if !bytes.Equal(before, snapshotBytes(t, s)) {
		t.Fatal("a replayed entry changed the ledger")
	}
	// A snapshot restored into a fresh node gives the same ledger, and the
	// fresh node goes on from there.
	fresh := newStore(t)
	if err := ledger.NewFSM(fresh, d.ca.Cert, nil).Restore(bytes.NewReader(before)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, snapshotBytes(t, fresh)) {
		t.Fatal("the restored ledger differs")
	}
	next := entry(t, 6, ledger.CmdCommit, &ledger.Commit{New: []ledger.NewRecord{{Record: syncproto.NewRecordID(), District: "CYO", Year: 2026}}})
	ledger.NewFSM(fresh, d.ca.Cert, nil).Apply(next)
	fsm.Apply(next)
	if !bytes.Equal(snapshotBytes(t, s), snapshotBytes(t, fresh)) {
		t.Fatal("the restored node and the original diverge after the same entry")
	}
	if got, _ := fresh.LedgerLog(ctx, 0, 0); len(got) != 2 || got[1] != want[1] {
		t.Fatalf("the restored ledger log: %+v", got)
	}
	// Neither holds the stream's changes, which reach a member by sync:
	// none is confirmed here before it arrives, as the history committed
	// (the store's TestACommitConfirmsTheHistoryItNames).
	for _, m := range []*store.SQLite{s, fresh} {
		if conf, _ := m.Confirmed(ctx); conf[st] != 0 {
			t.Fatalf("confirmed %v of changes not held", conf)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := ledger.Encode(ledger.CmdCommit, &ledger.Commit{Ranges: []ledger.Range{{Stream: syncproto.Stream{Origin: syncproto.NodeID{1}, Lane: 1}, From: 1, To: 2}}})
	f.Add(b)
	f.Add([]byte{3})
	f.Fuzz(func(t *testing.T, data []byte) {
		ledger.Decode(data) // must not panic
	})
}

// fullDisk is a store whose disk is full until freed.
type fullDisk struct {
	*store.SQLite
	mu    sync.Mutex
	full  bool
	tries int
}

func (f *fullDisk) LedgerApply(ctx context.Context, index, term uint64, fn func(ledger.Tx) error) (bool, error) {
	f.mu.Lock()
	full := f.full
	f.tries++
	f.mu.Unlock()
	if full {
		return false, errors.New("store: the disk is full; nothing was saved")
	}
	return f.SQLite.LedgerApply(ctx, index, term, fn)
}

func (f *fullDisk) set(full bool) {
	f.mu.Lock()
	f.full = full
	f.mu.Unlock()
}

func (f *fullDisk) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

// waitTries waits until the FSM tried to save n times.
func (f *fullDisk) waitTries(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.attempts() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the entry was tried %d times, not %d", f.attempts(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// applyOnFullDisk starts an FSM applying, on a full disk, the commit of
// changes 1 to 3 of stream st; its result comes on done.
func applyOnFullDisk(t *testing.T) (s *fullDisk, fsm *ledger.FSM, st syncproto.Stream, done <-chan ledger.Result) {
	s = &fullDisk{SQLite: newStore(t), full: true}
	fsm = ledger.NewFSM(s, nil, nil)
	st = syncproto.Stream{Origin: syncproto.NodeID{1}, Lane: 1}
	res := make(chan ledger.Result, 1)
	go func() {
		res <- fsm.Apply(entry(t, 1, ledger.CmdCommit, &ledger.Commit{Ranges: []ledger.Range{{Stream: st, From: 1, To: 3}}}))
	}()
	return s, fsm, st, res
}

// An entry the store cannot save (a full disk) waits, and applies once
// space is freed: no crash, nothing skipped.
func TestFSMWaitsForAFullDisk(t *testing.T) {
	s, _, st, done := applyOnFullDisk(t)
	s.waitTries(t, 3)
	select {
	case res := <-done:
		t.Fatalf("the entry returned while the disk was full: %+v", res)
	default:
	}
	s.set(false)
	res := <-done
	if res.Err != nil || res.Committed != 3 {
		t.Fatalf("after space was freed: %+v", res)
	}
	if state, _ := s.Ledger(context.Background()); state.Applied != 1 || state.Committed[st] != 3 {
		t.Fatalf("ledger state %+v", state)
	}
}

// A shutdown does not wait for a full disk: the entry, and every one
// after it, is left for the next start, in order.
func TestFSMStopLeavesEntriesForTheNextStart(t *testing.T) {
	s, fsm, st, done := applyOnFullDisk(t)
	s.waitTries(t, 1)
	fsm.Stop()
	if res := <-done; res.Err == nil {
		t.Fatal("a stopped entry reported success")
	}
	s.set(false)
	if res := fsm.Apply(entry(t, 2, ledger.CmdCommit, &ledger.Commit{Ranges: []ledger.Range{{Stream: st, From: 1, To: 3}}})); res.Err == nil {
		t.Fatal("an entry after one given up was applied")
	}
	if state, _ := s.Ledger(context.Background()); state.Applied != 0 {
		t.Fatalf("applied %d after a stop, want 0: the next start applies them in order", state.Applied)
	}
}

// Only headquarters decides: a decision is applied only under the
// signature of an HQ node of this deployment, not revoked, over exactly
// the bytes applied; everything else is refused alike on every member and
// changes nothing.
func TestDecisionsNeedHeadquartersSignature(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	relay := nodetest.Credentials(t, d.ca, "relay-cayo", syncproto.RoleRelay)
	otherHQ := nodetest.Credentials(t, newDeployment(t).ca, "hq", syncproto.RoleHQ)
	laptop := syncproto.NodeID{7}
	revoke := &ledger.Revoke{Node: laptop, Reason: "laptop stolen"}
	var err error

	// HQ signed the revocation of another node; the body is swapped for
	// the laptop's, the signature kept.
	tampered := signed(t, 4, d.hq, ledger.CmdRevoke, &ledger.Revoke{Node: syncproto.NodeID{8}, Reason: "laptop stolen"})
	var sg ledger.Signed
	if err := syncproto.Unmarshal(tampered.Data[1:], &sg); err != nil {
		t.Fatal(err)
	}
	if sg.Body, err = syncproto.Marshal(revoke); err != nil {
		t.Fatal(err)
	}
	if tampered.Data, err = ledger.Encode(ledger.CmdSigned, &sg); err != nil {
		t.Fatal(err)
	}
	bare, err := ledger.Encode(ledger.CmdRevoke, revoke)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what  string
		entry ledger.Entry
	}{
		{"signed by a relay", signed(t, 1, relay, ledger.CmdRevoke, revoke)},
		{"signed by another deployment's HQ", signed(t, 2, otherHQ, ledger.CmdRevoke, revoke)},
		{"not signed", ledger.Entry{Index: 3, Term: 1, Data: bare}},
		{"altered after signing", tampered},
	} {
		t.Run(c.what, func(t *testing.T) {
			s := newStore(t)
			before := snapshotBytes(t, s)
			res := ledger.NewFSM(s, d.ca.Cert, nil).Apply(c.entry)
			if res.Err == nil {
				t.Fatal("applied")
			}
			if revoked, _ := s.Revoked(ctx, laptop); revoked {
				t.Fatal("the laptop was revoked")
			}
			after := snapshotBytes(t, s)
			var a, b struct {
				Applied uint64 `cbor:"1,keyasint"`
			}
			syncproto.Unmarshal(before, &a)
			syncproto.Unmarshal(after, &b)
			if b.Applied != c.entry.Index {
				t.Fatalf("the refused entry was not passed (applied %d)", b.Applied)
			}
		})
	}

	// An HQ that headquarters revoked decides nothing more.
	s := newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	alt := nodetest.Credentials(t, d.ca, "hq-alt", syncproto.RoleHQ)
	if res := fsm.Apply(signed(t, 1, d.hq, ledger.CmdRevoke, &ledger.Revoke{Node: alt.Claims.Node, Reason: "stolen"})); res.Err != nil {
		t.Fatal(res.Err)
	}
	if res := fsm.Apply(signed(t, 2, alt, ledger.CmdRevoke, &ledger.Revoke{Node: d.hq.Claims.Node, Reason: "coup"})); !errors.Is(res.Err, ledger.ErrNotHQ) {
		t.Fatalf("a revoked HQ's decision: %v", res.Err)
	}
	if revoked, _ := s.Revoked(ctx, d.hq.Claims.Node); revoked {
		t.Fatal("a revoked HQ revoked headquarters")
	}
	if res := fsm.Apply(signed(t, 3, d.hq, ledger.CmdRevoke, revoke)); res.Err != nil {
		t.Fatal(res.Err)
	}
	if revoked, _ := s.Revoked(ctx, laptop); !revoked {
		t.Fatal("headquarters' own revocation was not applied")
	}
}

// Enrollments name a certificate of this deployment; relays and HQ
// enrolled are the ledger's members (HQ voters, relays as HQ decided), a
// field laptop never; a revocation removes a member; the members survive
// a snapshot.
func TestMembershipIsWhatHeadquartersDecided(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	s := newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	relay := nodetest.Credentials(t, d.ca, "relay-cayo", syncproto.RoleRelay)
	voter := nodetest.Credentials(t, d.ca, "relay-toledo", syncproto.RoleRelay)
	laptop := nodetest.Credentials(t, d.ca, "cayo-07", syncproto.RoleField)
	stranger := nodetest.Credentials(t, newDeployment(t).ca, "relay-x", syncproto.RoleRelay)
	index := uint64(0)
	apply := func(typ ledger.CommandType, cmd any) error {
		index++
		return fsm.Apply(signed(t, index, d.hq, typ, cmd)).Err
	}
	for _, e := range []*ledger.Enroll{{Cert: d.hq.Cert.Raw}, {Cert: relay.Cert.Raw}, {Cert: voter.Cert.Raw, Voter: true}, {Cert: laptop.Cert.Raw}} {
		if err := apply(ledger.CmdEnroll, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := apply(ledger.CmdEnroll, &ledger.Enroll{Cert: stranger.Cert.Raw, Voter: true}); err == nil {
		t.Fatal("an enrollment of another deployment's certificate was applied")
	}
	if err := apply(ledger.CmdMember, &ledger.Member{Node: laptop.Claims.Node, Voter: true}); err == nil {
		t.Fatal("a field laptop was made a member")
	}
	want := map[syncproto.NodeID]bool{d.hq.Claims.Node: true, relay.Claims.Node: false, voter.Claims.Node: true}
	members := func(s *store.SQLite) map[syncproto.NodeID]bool {
		m, err := s.LedgerMembers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		voters := map[syncproto.NodeID]bool{}
		for id, mm := range m {
			voters[id] = mm.Voter
		}
		return voters
	}
	if got := members(s); !maps.Equal(got, want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	if err := apply(ledger.CmdMember, &ledger.Member{Node: relay.Claims.Node, Voter: true}); err != nil {
		t.Fatal(err)
	}
	if err := apply(ledger.CmdRevoke, &ledger.Revoke{Node: voter.Claims.Node, Reason: "stolen"}); err != nil {
		t.Fatal(err)
	}
	want = map[syncproto.NodeID]bool{d.hq.Claims.Node: true, relay.Claims.Node: true}
	if got := members(s); !maps.Equal(got, want) {
		t.Fatalf("members after a promotion and a revocation %v, want %v", got, want)
	}
	if err := apply(ledger.CmdMember, &ledger.Member{Node: voter.Claims.Node, Voter: true}); err == nil {
		t.Fatal("a revoked relay was made a member again")
	}
	fresh := newStore(t)
	if err := ledger.NewFSM(fresh, d.ca.Cert, nil).Restore(bytes.NewReader(snapshotBytes(t, s))); err != nil {
		t.Fatal(err)
	}
	if got := members(fresh); !maps.Equal(got, want) {
		t.Fatalf("members after a restore %v, want %v", got, want)
	}
}

// The ledger keeps the highest version of each kit: a lower or equal
// version (an older decision replayed, a downgrade) is refused and changes
// nothing; versions compare number by number.
func TestLedgerKeepsTheHighestKitVersion(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	s := newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	index := uint64(0)
	publish := func(version, body string) error {
		index++
		return fsm.Apply(signed(t, index, d.hq, ledger.CmdKit, &ledger.Kit{Name: "road-status", Version: version, Body: []byte(body)})).Err
	}
	for _, c := range []struct {
		version string
		applied bool
	}{
		{"1.1.0", true},
		{"1.0.0", false}, // a downgrade
		{"1.1", false},   // the same version, written otherwise
		{"1.9", true},
		{"1.10", true}, // after 1.9: numbers, not text
		{"1.9.9", false},
		{"1.x", false}, // not a version
		{"", false},
	} {
		err := publish(c.version, "body of "+c.version)
		if (err == nil) != c.applied {
			t.Fatalf("version %q: applied %v (%v), want %v", c.version, err == nil, err, c.applied)
		}
		kits, err := s.PublishedKits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(kits) != 1 || string(kits[0].Body) != "body of "+kits[0].Version {
			t.Fatalf("the ledger holds %+v", kits)
		}
	}
	kits, _ := s.PublishedKits(ctx)
	if kits[0].Version != "1.10" {
		t.Fatalf("the ledger holds version %s, want 1.10", kits[0].Version)
	}
}

// A decision's signed bytes apply once. A relay HQ made a voter and later
// a non-voter is not made a voter again by the first decision sent again
// (a member replaying the log it holds), on this member or on one that
// starts from this member's snapshot; a new decision of the same is
// applied, since HQ signed it anew.
func TestADecisionAppliesOnce(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	s := newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	relay := nodetest.Credentials(t, d.ca, "relay-cayo", syncproto.RoleRelay)
	voter := func(s *store.SQLite) bool {
		m, err := s.LedgerMembers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m[relay.Claims.Node].Voter
	}
	sign := func(cmd *ledger.Member, at time.Time) []byte {
		b, err := ledger.Sign(ledger.CmdMember, cmd, at, d.hq.Cert.Raw, d.hq.Key.Signer())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	index := uint64(0)
	apply := func(fsm *ledger.FSM, b []byte) error {
		index++
		return fsm.Apply(ledger.Entry{Index: index, Term: 1, Data: b}).Err
	}
	if err := apply(fsm, signed(t, 0, d.hq, ledger.CmdEnroll, &ledger.Enroll{Cert: relay.Cert.Raw}).Data); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	promote, demote := sign(&ledger.Member{Node: relay.Claims.Node, Voter: true}, now), sign(&ledger.Member{Node: relay.Claims.Node}, now.Add(time.Second))
	for _, b := range [][]byte{promote, demote} {
		if err := apply(fsm, b); err != nil {
			t.Fatal(err)
		}
	}
	if voter(s) {
		t.Fatal("the relay is a voter after HQ made it a non-voter")
	}
	// A member that starts from this one's snapshot, taken now.
	fresh := newStore(t)
	restored := ledger.NewFSM(fresh, d.ca.Cert, nil)
	if err := restored.Restore(bytes.NewReader(snapshotBytes(t, s))); err != nil {
		t.Fatal(err)
	}
	replay := ledger.Entry{Index: index + 1, Term: 1, Data: promote}
	index++
	for what, m := range map[string]*ledger.FSM{"this member": fsm, "a member restored from its snapshot": restored} {
		if err := m.Apply(replay).Err; !errors.Is(err, ledger.ErrApplied) || !strings.Contains(err.Error(), "applied already") {
			t.Fatalf("the promotion sent again to %s: %v; want it refused as applied already", what, err)
		}
	}
	if voter(s) || voter(fresh) {
		t.Fatal("the promotion sent again made the relay a voter")
	}
	if !bytes.Equal(snapshotBytes(t, s), snapshotBytes(t, fresh)) {
		t.Fatal("the member and the one restored from its snapshot hold different ledgers after the same refused entry")
	}
	if err := apply(fsm, sign(&ledger.Member{Node: relay.Claims.Node, Voter: true}, now.Add(2*time.Second))); err != nil || !voter(s) {
		t.Fatalf("HQ's new promotion: %v, voter %v; want it applied", err, voter(s))
	}
	// A decision refused (a node the ledger never enrolled) is refused
	// again as it was, not taken for one applied.
	stranger := nodetest.Credentials(t, d.ca, "relay-new", syncproto.RoleRelay)
	early := sign(&ledger.Member{Node: stranger.Claims.Node, Voter: true}, now.Add(3*time.Second))
	if err := apply(fsm, early); err == nil || errors.Is(err, ledger.ErrApplied) {
		t.Fatalf("a membership of a node never enrolled: %v; want it refused", err)
	}
	if err := apply(fsm, early); !errors.Is(err, ledger.ErrRefused) || errors.Is(err, ledger.ErrApplied) || !strings.Contains(err.Error(), "refused already") {
		t.Fatalf("the refused membership sent again: %v; want it refused as refused already", err)
	}
}

// A member that catches up by a snapshot (new, or back from an outage
// longer than the log kept) knows every node the ledger enrolled, as one
// that applied the enrollments does: their certificates are those its
// sessions check peers and changes against. Before, a restore left them
// out, and such a relay did not know that a laptop had been moved to
// another district, nor a relay enrolled meanwhile, until a peer brought
// the certificates.
func TestARestoredMemberKnowsTheNodesTheLedgerEnrolled(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	s := newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	relay := nodetest.Credentials(t, d.ca, "relay-cayo", syncproto.RoleRelay)
	laptop := nodetest.Credentials(t, d.ca, "cayo-07", syncproto.RoleField)
	for i, c := range []*identity.Credentials{relay, laptop} {
		if err := fsm.Apply(signed(t, uint64(i+1), d.hq, ledger.CmdEnroll, &ledger.Enroll{Cert: c.Cert.Raw})).Err; err != nil {
			t.Fatal(err)
		}
	}
	fresh := newStore(t)
	if err := ledger.NewFSM(fresh, d.ca.Cert, nil).Restore(bytes.NewReader(snapshotBytes(t, s))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*identity.Credentials{relay, laptop} {
		for name, st := range map[string]*store.SQLite{"the member that applied the log": s, "the member that restored": fresh} {
			n, found, err := st.Node(ctx, c.Claims.Node)
			if err != nil || !found || !bytes.Equal(n.Cert, c.Cert.Raw) || n.District != "Cayo" || !n.NotAfter.Equal(c.Cert.NotAfter) {
				t.Fatalf("%s knows %s as %+v (found %v, %v); want its enrolled certificate", name, c.Claims.Name, n, found, err)
			}
		}
	}
	// A snapshot enrolling a certificate of another CA, which no log of
	// this deployment makes (a voter's lie), is refused whole: the
	// certificate is not taken for the node it names.
	other := newDeployment(t)
	forged := newStore(t)
	stranger := nodetest.Credentials(t, other.ca, "hq-x", syncproto.RoleHQ)
	if err := ledger.NewFSM(forged, other.ca.Cert, nil).Apply(signed(t, 1, other.hq, ledger.CmdEnroll, &ledger.Enroll{Cert: stranger.Cert.Raw})).Err; err != nil {
		t.Fatal(err)
	}
	before := snapshotBytes(t, fresh)
	if err := ledger.NewFSM(fresh, d.ca.Cert, nil).Restore(bytes.NewReader(snapshotBytes(t, forged))); err == nil {
		t.Fatal("a snapshot enrolling another CA's certificate was restored")
	}
	if _, found, _ := fresh.Node(ctx, stranger.Claims.Node); found || !bytes.Equal(before, snapshotBytes(t, fresh)) {
		t.Fatal("a refused snapshot changed the ledger or the certificates known")
	}
}
