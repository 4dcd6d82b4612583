package peersync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// keyring is the test's stand-in for enrollment: which public key each node
// has. It verifies heads the way a node's trust does.
type keyring struct {
	mu   sync.Mutex
	keys map[syncproto.NodeID]*identity.Key
}

func (k *keyring) verify(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
	k.mu.Lock()
	key := k.keys[st.Origin]
	k.mu.Unlock()
	if key == nil {
		return fmt.Errorf("origin %s is not enrolled", st.Origin)
	}
	if !identity.VerifyHead(key.Public(), st, seq, head, sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

func (k *keyring) Certs(context.Context, []syncproto.NodeID) ([][]byte, error) { return nil, nil }
func (k *keyring) AddCerts(context.Context, [][]byte) error                    { return nil }
func (k *keyring) AddReceipts(context.Context, *syncproto.Receipts) (int, error) {
	return 0, errors.New("the keyring holds no headquarters")
}
func (k *keyring) AddGrants(context.Context, [][]byte) (int, error) { return 0, nil }

func (k *keyring) AddKits(context.Context, [][]byte) (int, error) { return 0, nil }

func (k *keyring) AddRevocations(context.Context, [][]byte) ([]syncproto.NodeID, error) {
	return nil, nil
}

type peer struct {
	*store.SQLite
	key  *identity.Key
	name string
}

func newPeer(t testing.TB, ring *keyring, name string) *peer {
	t.Helper()
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ring.mu.Lock()
	ring.keys[key.ID()] = key
	ring.mu.Unlock()
	s, err := store.Create(context.Background(), filepath.Join(t.TempDir(), store.FileName),
		store.Self{ID: key.ID(), Name: name, Role: "field", District: "Cayo"},
		store.Options{Key: key, VerifyHead: ring.verify})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &peer{SQLite: s, key: key, name: name}
}

func (p *peer) config(ring *keyring) Config {
	return Config{Hello: syncproto.Hello{Node: p.key.ID(), Name: p.name, Role: "field", District: "Cayo"},
		Store: p, Trust: ring, BatchChanges: 50, Idle: 60 * time.Second}
}

func (p *peer) write(t testing.TB, id syncproto.RecordID, create bool, lane uint8, field string, value any) {
	t.Helper()
	v, err := syncproto.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Write(context.Background(), []store.Edit{{Record: id, Create: create, Lane: lane, Kit: "k", Type: fmt.Sprintf("lane%d", lane),
		Version: 1, Author: p.name, Fields: []syncproto.FieldChange{{Name: field, Value: v}}}})
	if err != nil {
		t.Fatal(err)
	}
}

func (p *peer) digest(t testing.TB) syncproto.Hash {
	d, err := p.Digest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pair runs one session between a and b joined in memory.
func pair(t testing.TB, ring *keyring, a, b *peer) (Result, Result, error, error) {
	t.Helper()
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	var ra, rb Result
	var ea, eb error
	var wg sync.WaitGroup
	wg.Add(2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { defer wg.Done(); ra, ea = Run(ctx, ca, a.config(ring)); ca.Close() }()
	go func() { defer wg.Done(); rb, eb = Run(ctx, cb, b.config(ring)); cb.Close() }()
	wg.Wait()
	return ra, rb, ea, eb
}

func TestSessionBothWaysConverges(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(t, ring, "a"), newPeer(t, ring, "b")
	var ids []syncproto.RecordID
	for i := range 300 {
		id := syncproto.NewRecordID()
		ids = append(ids, id)
		a.write(t, id, true, uint8(1+i%3), "n", i)
	}
	for i := range 40 {
		b.write(t, syncproto.NewRecordID(), true, 2, "m", i)
	}
	ra, rb, ea, eb := pair(t, ring, a, b)
	if ea != nil || eb != nil {
		t.Fatal(ea, eb)
	}
	if ra.Sent != 300 || rb.Received != 300 || rb.Sent != 40 || ra.Received != 40 || !ra.Equal || !rb.Equal {
		t.Fatalf("a %+v\nb %+v", ra, rb)
	}
	if a.digest(t) != b.digest(t) {
		t.Fatal("digests differ after a clean session")
	}
	// Concurrent edits of one field on both sides: after a session both
	// keep both values, and agree.
	a.write(t, ids[0], false, 1, "n", "from a")
	b.write(t, ids[0], false, 1, "n", "from b")
	if _, _, ea, eb := pair(t, ring, a, b); ea != nil || eb != nil {
		t.Fatal(ea, eb)
	}
	rec, err := b.Record(context.Background(), ids[0])
	if err != nil || rec.Conflicts != 1 {
		t.Fatalf("conflict not kept: %+v %v", rec, err)
	}
	if a.digest(t) != b.digest(t) {
		t.Fatal("digests differ after the conflict")
	}
	// Nothing to send: the session is short.
	ra, _, ea, eb = pair(t, ring, a, b)
	if ea != nil || eb != nil || ra.Sent != 0 || ra.BytesOut > 1000 {
		t.Fatalf("an idle session: %+v %v %v", ra, ea, eb)
	}
}

// Lane 1 (life safety) goes before everything else, whatever order the
// changes were written in.
func TestLifeSafetyFirst(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a := newPeer(t, ring, "a")
	for i := range 200 {
		a.write(t, syncproto.NewRecordID(), true, 5, "asset", i)
	}
	for i := range 10 {
		a.write(t, syncproto.NewRecordID(), true, 1, "missing", i)
	}
	runs, _, err := a.Outgoing(context.Background(), syncproto.Vector{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 || runs[0].Stream.Lane != 1 {
		t.Fatalf("the first run is lane %d", runs[0].Stream.Lane)
	}
	for _, r := range runs {
		if r.Stream.Lane != 1 {
			t.Fatalf("a lane %d run in the first batch while lane 1 waits", r.Stream.Lane)
		}
	}
}

// A session cut off mid-stream keeps what it stored before the cut, and
// the next session sends only the rest. Each cut comes once the receiver
// has stored a given number of changes: the receiver's store then takes no
// more, and the connection is closed with batches still on their way.
func TestInterruptedSessionResumes(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(t, ring, "a"), newPeer(t, ring, "b")
	const total = 600
	for i := range total {
		a.write(t, syncproto.NewRecordID(), true, 3, "n", strings.Repeat(syncproto.NewRecordID().String(), 1+i%3))
	}
	stream := syncproto.Stream{Origin: a.key.ID(), Lane: 3}
	held := func() uint64 {
		v, err := b.Vector(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return v[stream]
	}
	var prev uint64
	for _, cutAt := range []uint64{100, 250, 400} {
		ca, cb := net.Pipe()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		gate := &gatedStore{Store: b, stream: stream, after: cutAt, reached: make(chan struct{})}
		cfg := b.config(ring)
		cfg.Store = gate
		var wg sync.WaitGroup
		var ea, eb error
		wg.Add(2)
		go func() { defer wg.Done(); _, ea = Run(ctx, ca, a.config(ring)); ca.Close() }()
		go func() { defer wg.Done(); _, eb = Run(ctx, cb, cfg); cb.Close() }()
		select {
		case <-gate.reached:
		case <-ctx.Done():
			t.Fatalf("b never stored %d changes (it holds %d)", cutAt, held())
		}
		ca.Close()
		cb.Close()
		cancel()
		wg.Wait()
		if ea == nil || eb == nil {
			t.Fatalf("a session cut after %d changes succeeded: %v, %v", cutAt, ea, eb)
		}
		got := held()
		if got < cutAt || got <= prev || got >= total {
			t.Fatalf("after the cut at %d changes b holds %d (before the session %d, of %d): the cut session kept nothing or was not cut",
				cutAt, got, prev, total)
		}
		prev = got
	}
	ra, rb, ea, eb := pair(t, ring, a, b)
	if ea != nil || eb != nil || !ra.Equal || !rb.Equal {
		t.Fatal(ea, eb, ra, rb)
	}
	if ra.Sent != total-int(prev) || rb.Received != ra.Sent || rb.Duplicates != 0 {
		t.Fatalf("the resumed session sent %d (received %d, %d duplicates) where b lacked %d of %d: something was sent twice or not at all",
			ra.Sent, rb.Received, rb.Duplicates, total-int(prev), total)
	}
	if held() != total || a.digest(t) != b.digest(t) {
		t.Fatalf("b holds %d of %d changes after resuming, or the digests differ", held(), total)
	}
}

// gatedStore is a receiver's store that, once it holds after changes of
// stream, says so on reached and stores nothing more: every later
// ApplyAll waits for the session to end and fails.
type gatedStore struct {
	Store
	stream  syncproto.Stream
	after   uint64
	reached chan struct{}
	closed  bool
	mu      sync.Mutex
}

func (g *gatedStore) ApplyAll(ctx context.Context, batches iter.Seq2[[]store.Incoming, error], holdGaps bool) ([]store.ApplyResult, error) {
	g.mu.Lock()
	shut := g.closed
	g.mu.Unlock()
	if shut {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	res, err := g.Store.ApplyAll(ctx, batches, holdGaps)
	if v, verr := g.Store.Vector(ctx); verr == nil && v[g.stream] >= g.after {
		g.mu.Lock()
		if !g.closed {
			g.closed = true
			close(g.reached)
		}
		g.mu.Unlock()
	}
	return res, err
}

// A peer that stops talking is timed out.
func TestStalledPeerTimesOut(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a := newPeer(t, ring, "a")
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	go func() { // reads everything, says nothing
		buf := make([]byte, 4096)
		for {
			if _, err := cb.Read(buf); err != nil {
				return
			}
		}
	}()
	cfg := a.config(ring)
	cfg.Idle = 200 * time.Millisecond
	start := time.Now()
	_, err := Run(context.Background(), ca, cfg)
	if !errors.Is(err, &syncproto.ProtocolError{Code: syncproto.CodeTimeout}) {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the stalled session lasted far longer than its idle limit")
	}
}

// Changes whose bytes were altered, or whose signature is another node's,
// are refused: one that does not decode ends the session with a typed
// error, a run that does not link to its origin's signed head is left out
// of the session; nothing of either is stored.
func TestForgedAndTamperedChangesRefused(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(t, ring, "a"), newPeer(t, ring, "b")
	for i := range 5 {
		a.write(t, syncproto.NewRecordID(), true, 2, "n", i)
	}
	out, _, err := a.Outgoing(context.Background(), syncproto.Vector{}, 100)
	if err != nil || len(out) == 0 {
		t.Fatal(out, err)
	}
	// One run of all five, vouched for by the last one's signature.
	whole := syncproto.Run{Stream: out[0].Stream, First: 1, Sig: out[len(out)-1].Sig}
	for _, r := range out {
		whole.Bodies = append(whole.Bodies, r.Bodies...)
	}
	runs := []syncproto.Run{whole}
	mallory, _ := identity.NewKey()
	for name, edit := range map[string]func(r *syncproto.Run){
		"tampered body": func(r *syncproto.Run) {
			r.Bodies[2] = bytes.Replace(bytes.Clone(r.Bodies[2]), []byte{0x01}, []byte{0x02}, 1)
		},
		"signature of another key": func(r *syncproto.Run) {
			r.Sig = mallory.SignHead(2, 5, syncproto.Hash{})
		},
		"replayed run at another place": func(r *syncproto.Run) {
			r.Bodies[0], r.Bodies[1] = r.Bodies[1], r.Bodies[0]
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := runs[0]
			r.Bodies = append([][]byte(nil), r.Bodies...)
			edit(&r)
			err := sendRaw(t, ring, b, []syncproto.Run{r})
			var pe *syncproto.ProtocolError
			// sendRaw hangs up once it has its ack and the node's done:
			// a node that left the run out goes on, and may find it gone.
			hungUp := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.ErrClosedPipe)
			if err != nil && !hungUp && (!errors.As(err, &pe) || pe.Code != syncproto.CodeMalformed) {
				t.Fatalf("got %v, want none or a malformed error", err)
			}
			if v, _ := b.Vector(context.Background()); len(v) != 0 {
				t.Fatalf("a refused batch left %v behind", v)
			}
		})
	}
	// The untouched run is accepted: the refusals were for the forgeries.
	if err := sendRaw(t, ring, b, runs); err != nil {
		t.Fatal(err)
	}
}

// sendRaw plays a peer that sends hand-made runs to b, and returns the error
// b ended the session with.
func sendRaw(t *testing.T, ring *keyring, b *peer, runs []syncproto.Run) error {
	t.Helper()
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), cb, b.config(ring))
		errc <- err
	}()
	fake := syncproto.NewHello(syncproto.NodeID{9}, nil)
	fake.MaxVersion = syncproto.PhotoVersion - 1 // records only
	syncproto.WriteFrame(ca, syncproto.MsgHello, &fake)
	batch, err := syncproto.NewBatch(1, runs)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		syncproto.WriteFrame(ca, syncproto.MsgBatch, batch)
		syncproto.WriteFrame(ca, syncproto.MsgDone, &syncproto.Done{})
	}()
	r := syncproto.NewFrameReader(ca)
	acked, done := false, false
	for !(acked && done) {
		typ, _, err := r.Read()
		if err != nil || typ == syncproto.MsgError {
			break
		}
		acked = acked || typ == syncproto.MsgAck
		done = done || typ == syncproto.MsgDone
	}
	ca.Close()
	return <-errc
}
