package peersync

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"iter"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// The attacks of this file are made as an enrolled but malicious peer
// would make them (a stolen laptop keeps a valid certificate until it is
// revoked): one end of a connection driven by hand with syncproto's
// frames, the other a node's session. Each asserts the refusal, and that
// the session ended: its slot is free.

// rogue is the hand-driven end of a session.
type rogue struct {
	t    *testing.T
	conn net.Conn
	// got receives every frame the node sends, read as it comes so that
	// the node's writes never wait on the rogue.
	got chan rogueFrame
	wmu sync.Mutex
}

type rogueFrame struct {
	t   syncproto.MsgType
	msg any
}

// withRogue runs the node's side of a session with a rogue over a pipe. The
// returned channel gives the error the session ended with.
func withRogue(t *testing.T, cfg Config) (*rogue, <-chan error) {
	t.Helper()
	ours, theirs := net.Pipe()
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	ended := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), ours, cfg)
		ours.Close()
		ended <- err
	}()
	r := &rogue{t: t, conn: theirs, got: make(chan rogueFrame, 1024)}
	go func() {
		defer close(r.got)
		fr := syncproto.NewFrameReader(theirs)
		for {
			typ, body, err := fr.Read()
			if err != nil {
				return
			}
			msg, err := syncproto.Decode(typ, body)
			if err != nil {
				t.Errorf("the node sent a %s that does not decode: %v", typ, err)
				return
			}
			select {
			case r.got <- rogueFrame{typ, msg}:
			default: // a test that does not look is not held up
			}
		}
	}()
	return r, ended
}

// send writes a frame; it reports whether the node read it.
func (r *rogue) send(t syncproto.MsgType, msg any) bool {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	_, err := syncproto.WriteFrame(r.conn, t, msg)
	return err == nil
}

// hello opens the session as a node with nothing (or v).
func (r *rogue) hello(v syncproto.Vector) {
	h := syncproto.NewHello(syncproto.NodeID{0x66, 6}, v)
	h.MaxVersion = syncproto.PhotoVersion - 1 // records only: the rogue knows no photos
	h.Name, h.Role = "stolen-laptop", syncproto.RoleField
	if !r.send(syncproto.MsgHello, &h) {
		r.t.Fatal("the node did not read the hello")
	}
}

// next returns the next frame of type typ the node sends; false when it
// hung up first.
func (r *rogue) next(typ syncproto.MsgType) (any, bool) {
	for f := range r.got {
		if f.t == typ {
			return f.msg, true
		}
	}
	return nil, false
}

// await is next, on the test's goroutine.
func (r *rogue) await(typ syncproto.MsgType) any {
	r.t.Helper()
	m, ok := r.next(typ)
	if !ok {
		r.t.Fatalf("the node hung up before it sent a %s", typ)
	}
	return m
}

// ended waits for the node's session to end, and returns its error. A
// session that does not end fails the test (long after any budget of the
// test's own).
func ended(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the session did not end: its slot would never be freed")
		return nil
	}
}

func wantCode(t *testing.T, err error, code syncproto.ErrorCode, says string) {
	t.Helper()
	var pe *syncproto.ProtocolError
	if !errors.As(err, &pe) || pe.Code != code || pe.Remote || !strings.Contains(pe.Msg, says) {
		t.Fatalf("the session ended with %v, want %s saying %q", err, code, says)
	}
}

func newRing() *keyring { return &keyring{keys: map[syncproto.NodeID]*identity.Key{}} }

// Acknowledgements of batches never sent end the session with a protocol
// error, however many: nine once hung it for good (the ninth waited on a
// channel nothing read, the reader stopped, the idle deadline never fired).
func TestUnsolicitedAcksRefused(t *testing.T) {
	for _, n := range []int{9, 90} {
		ring := newRing()
		node := newPeer(t, ring, "relay")
		r, errc := withRogue(t, node.config(ring))
		r.hello(nil)
		go func() {
			for i := range n {
				if !r.send(syncproto.MsgAck, &syncproto.Ack{Seq: uint64(1 + i%3), Applied: 1000}) {
					return // the node hung up
				}
			}
		}()
		wantCode(t, ended(t, errc), syncproto.CodeUnexpected, "awaits none")
		if e, ok := r.await(syncproto.MsgError).(*syncproto.Error); !ok || e.Code != syncproto.CodeUnexpected {
			t.Fatalf("%d acks: the node told the rogue %+v", n, e)
		}
	}
}

// An acknowledgement of a batch already acknowledged is refused too.
func TestRepeatedAckRefused(t *testing.T) {
	ring := newRing()
	node := newPeer(t, ring, "relay")
	for i := range 10 {
		node.write(t, syncproto.NewRecordID(), true, 2, "n", i)
	}
	r, errc := withRogue(t, node.config(ring))
	r.hello(nil)
	b := r.await(syncproto.MsgBatch).(*syncproto.Batch)
	ack := &syncproto.Ack{Seq: b.Seq, Applied: 10}
	r.send(syncproto.MsgAck, ack)
	r.send(syncproto.MsgAck, ack)
	wantCode(t, ended(t, errc), syncproto.CodeUnexpected, "awaits none")
}

// A peer that keeps a session alive with a frame now and then, each well
// within the idle limit, is ended by the session's budget: in time, then
// in frames.
func TestSlowDripEndedByBudget(t *testing.T) {
	for _, budget := range []string{"time", "frames"} {
		ring := newRing()
		node := newPeer(t, ring, "relay")
		cfg := node.config(ring)
		cfg.Idle = time.Minute
		if budget == "time" {
			cfg.MaxDuration = 300 * time.Millisecond
		} else {
			cfg.MaxFrames = 40
		}
		r, errc := withRogue(t, cfg)
		r.hello(nil)
		stop := make(chan struct{})
		go func() {
			// Empty batches, each within the window once acknowledged: the
			// protocol allows every one of them.
			for seq := uint64(1); ; seq++ {
				b, _ := syncproto.NewBatch(seq, nil)
				if !r.send(syncproto.MsgBatch, b) {
					return
				}
				if _, ok := r.next(syncproto.MsgAck); !ok {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		wantCode(t, ended(t, errc), syncproto.CodeBudget, "budget")
		close(stop)
	}
}

// blocking is a store whose ApplyAll waits until the session ends: a
// receiver busy storing while batches keep coming.
type blocking struct{ *peer }

func (b blocking) ApplyAll(ctx context.Context, _ iter.Seq2[[]store.Incoming, error], _ bool) ([]store.ApplyResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A sender that has more batches unacknowledged than the window is
// refused, at once, even while the receiver stores.
func TestWindowOverrunRefused(t *testing.T) {
	ring := newRing()
	node := newPeer(t, ring, "relay")
	cfg := node.config(ring)
	cfg.Store = blocking{node}
	r, errc := withRogue(t, cfg)
	r.hello(nil)
	go func() {
		for seq := uint64(1); seq <= syncproto.Window+1; seq++ {
			b, _ := syncproto.NewBatch(seq, nil)
			if !r.send(syncproto.MsgBatch, b) {
				return
			}
		}
	}()
	wantCode(t, ended(t, errc), syncproto.CodeUnexpected, "the window is 4")
}

// A message that comes once, sent again, is refused as it is read, as a
// batch past the window is, even while the receiver stores: the reader
// does not hold copies of it decoded, 8 MiB each, until the loop is free.
func TestRepeatsRefusedAsTheyAreRead(t *testing.T) {
	for _, m := range []struct {
		t   syncproto.MsgType
		msg any
	}{
		{syncproto.MsgCerts, &syncproto.Certs{}},
		{syncproto.MsgReceipts, &syncproto.Receipts{}},
		{syncproto.MsgDone, &syncproto.Done{}},
		{syncproto.MsgHello, ptr(syncproto.NewHello(syncproto.NodeID{0x66, 6}, nil))},
	} {
		ring := newRing()
		node := newPeer(t, ring, "relay")
		cfg := node.config(ring)
		cfg.Store = blocking{node}
		r, errc := withRogue(t, cfg)
		r.hello(nil)
		go func() {
			b, _ := syncproto.NewBatch(1, nil)
			if !r.send(syncproto.MsgBatch, b) {
				return
			}
			if r.send(m.t, m.msg) {
				r.send(m.t, m.msg)
			}
		}()
		wantCode(t, ended(t, errc), syncproto.CodeUnexpected, "a second "+m.t.String())
	}
}

func ptr[T any](v T) *T { return &v }

// The window counts bytes too: batches whose payloads add up past
// WindowBytes are refused before they are decompressed.
func TestWindowBytes(t *testing.T) {
	s := &session{}
	half := &syncproto.Batch{Seq: 1, Size: syncproto.WindowBytes / 2}
	if err := s.admit(half); err != nil {
		t.Fatal(err)
	}
	half2 := &syncproto.Batch{Seq: 2, Size: syncproto.WindowBytes / 2}
	if err := s.admit(half2); err != nil {
		t.Fatal(err)
	}
	if err := s.admit(&syncproto.Batch{Seq: 3, Size: 1}); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("a batch past the window's bytes: %v", err)
	}
	s.acknowledged(half)
	if err := s.admit(&syncproto.Batch{Seq: 3, Size: 1}); err != nil {
		t.Fatalf("once one is acknowledged: %v", err)
	}
	if err := s.admit(&syncproto.Batch{Seq: 3, Size: 1}); err == nil {
		t.Fatal("batch 3 twice")
	}
}

// vectorOf makes a vector of n streams of made-up origins.
func vectorOf(n int) syncproto.Vector {
	v := make(syncproto.Vector, n)
	for i := range n {
		var id syncproto.NodeID
		binary.BigEndian.PutUint32(id[:], uint32(i/syncproto.MaxPriority)+1)
		id[15] = 0xee
		v[syncproto.Stream{Origin: id, Lane: uint8(1 + i%syncproto.MaxPriority)}] = 5
	}
	return v
}

// counting is a store that records the largest vectors a session hands it.
type counting struct {
	*peer
	mu           sync.Mutex
	marked, have int
}

func (c *counting) MarkSent(ctx context.Context, v syncproto.Vector) error {
	c.mu.Lock()
	c.marked = max(c.marked, len(v))
	c.mu.Unlock()
	return c.peer.MarkSent(ctx, v)
}

func (c *counting) Outgoing(ctx context.Context, have syncproto.Vector, n int) ([]syncproto.Run, syncproto.Vector, error) {
	c.mu.Lock()
	c.have = max(c.have, len(have))
	c.mu.Unlock()
	return c.peer.Outgoing(ctx, have, n)
}

// A hello whose vector has more streams than a vector may is refused,
// saying so; one with as many as it may makes the node work only on the
// streams it holds.
func TestHelloVectorsBounded(t *testing.T) {
	ring := newRing()
	node := newPeer(t, ring, "relay")
	r, errc := withRogue(t, node.config(ring))
	r.hello(vectorOf(syncproto.MaxVectorEntries + 1))
	wantCode(t, ended(t, errc), syncproto.CodeMalformed, "a version vector of 32769 streams, the limit is 32768")

	for i := range 3 {
		node.write(t, syncproto.NewRecordID(), true, uint8(1+i), "n", i)
	}
	held, _ := node.Vector(context.Background())
	c := &counting{peer: node}
	cfg := node.config(ring)
	cfg.Store = c
	r, errc = withRogue(t, cfg)
	v := vectorOf(syncproto.MaxVectorEntries)
	for st := range held { // the peer holds one of them already
		delete(v, syncproto.Stream{Origin: syncproto.NodeID{0, 0, 0, 1, 15: 0xee}, Lane: 1})
		v[st] = 1
		break
	}
	h := syncproto.NewHello(syncproto.NodeID{0x66, 6}, v)
	h.MaxVersion = syncproto.PhotoVersion - 1 // records only: the rogue knows no photos
	h.Ledger, h.Role = vectorOf(syncproto.MaxVectorEntries), syncproto.RoleRelay
	r.send(syncproto.MsgHello, &h)
	go func() {
		for f := range r.got {
			switch m := f.msg.(type) {
			case *syncproto.Batch:
				r.send(syncproto.MsgAck, &syncproto.Ack{Seq: m.Seq, Applied: 1})
			case *syncproto.Done:
				r.send(syncproto.MsgDone, &syncproto.Done{})
			}
		}
	}()
	if err := ended(t, errc); err != nil {
		t.Fatalf("a hello of %d streams: %v", syncproto.MaxVectorEntries, err)
	}
	if c.marked > len(held) || c.have > len(held) {
		t.Fatalf("the node holds %d streams, but marked %d and sent against %d of the peer's", len(held), c.marked, c.have)
	}
}

// notes is a text of n bytes that does not compress.
func notes(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// A stolen laptop sends a relay 180 changes of 200 KiB, in small batches,
// each within every bound: the relay accepts them, and passes them on to a
// laptop in batches bounded in bytes, with its own record. Counted only in
// changes, the relay's batch to the laptop was 36 MB, and every session
// from it failed.
func TestPoisonStreamPassedOn(t *testing.T) {
	ring := newRing()
	thief, relay, laptop := newPeer(t, ring, "thief"), newPeer(t, ring, "relay"), newPeer(t, ring, "laptop")
	for range 180 {
		thief.write(t, syncproto.NewRecordID(), true, 1, "n", notes(200<<10))
	}
	send := func(from, to *peer, batch int) (Result, Result) {
		t.Helper()
		ca, cb := net.Pipe()
		defer ca.Close()
		defer cb.Close()
		var ra, rb Result
		var ea, eb error
		var wg sync.WaitGroup
		wg.Add(2)
		fc, tc := from.config(ring), to.config(ring)
		fc.BatchChanges, tc.BatchChanges = batch, 1000
		go func() { defer wg.Done(); ra, ea = Run(context.Background(), ca, fc); ca.Close() }()
		go func() { defer wg.Done(); rb, eb = Run(context.Background(), cb, tc); cb.Close() }()
		wg.Wait()
		if ea != nil || eb != nil {
			t.Fatalf("%s to %s: %v; %v", from.name, to.name, ea, eb)
		}
		return ra, rb
	}
	if _, rr := send(thief, relay, 5); rr.Received != 180 {
		t.Fatalf("the relay took %d of the thief's 180 changes", rr.Received)
	}
	own := syncproto.NewRecordID()
	relay.write(t, own, true, 2, "n", "the relay's own")
	rr, rl := send(relay, laptop, 1000)
	if rl.Received != 181 || rr.BytesOut < 180*100<<10 {
		t.Fatalf("the laptop took %d changes, %d bytes", rl.Received, rr.BytesOut)
	}
	if _, err := laptop.Record(context.Background(), own); err != nil {
		t.Fatalf("the relay's own record: %v", err)
	}
	if relay.digest(t) != laptop.digest(t) {
		t.Fatal("the laptop does not hold what the relay holds")
	}
}

// newSkewed is a peer whose clock runs a day ahead.
func newSkewed(t *testing.T, ring *keyring, name string) *peer {
	t.Helper()
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ring.mu.Lock()
	ring.keys[key.ID()] = key
	ring.mu.Unlock()
	clock := syncproto.NewClock(func() time.Time { return time.Now().Add(24 * time.Hour) }, 0)
	s, err := store.Create(context.Background(), t.TempDir()+"/"+store.FileName,
		store.Self{ID: key.ID(), Name: name, Role: "field", District: "Cayo"},
		store.Options{Key: key, VerifyHead: ring.verify, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &peer{SQLite: s, key: key, name: name}
}

// Changes a receiver holds aside (stamped ahead of its clock) are not in
// its vector; its hello says it holds them, and the sender does not offer
// them again, session after session, over the same thin link. What the
// sender writes after them is sent once, and held behind them.
func TestHeldAsideNotOfferedAgain(t *testing.T) {
	ring := newRing()
	ahead, relay := newSkewed(t, ring, "ahead"), newPeer(t, ring, "relay")
	for i := range 20 {
		ahead.write(t, syncproto.NewRecordID(), true, 1, "n", i)
	}
	ra, rr, ea, er := pair(t, ring, ahead, relay)
	if ea != nil || er != nil || rr.PeerHeld != 20 || ra.Held != 20 {
		t.Fatalf("the first session: %v %v\n%+v\n%+v", ea, er, ra, rr)
	}
	for i := range 3 {
		more := 5 * i // none the first time
		for j := range more {
			ahead.write(t, syncproto.NewRecordID(), true, 1, "n", j)
		}
		ra, rr, ea, er = pair(t, ring, ahead, relay)
		if ea != nil || er != nil {
			t.Fatal(ea, er)
		}
		if ra.Sent != more || rr.PeerHeld != more || rr.Duplicates != 0 || ra.Skipped != 1 || ra.Equal {
			t.Fatalf("held changes offered again: sent %d of %d new, held %d, duplicates %d, skipped %d, equal %v",
				ra.Sent, more, rr.PeerHeld, rr.Duplicates, ra.Skipped, ra.Equal)
		}
	}
}
