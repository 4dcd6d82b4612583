package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// verifier checks heads against the keys of the stores given, as a node's
// trust does.
func verifier(keys ...*identity.Key) func(syncproto.Stream, uint64, syncproto.Hash, []byte) error {
	return func(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
		for _, k := range keys {
			if k.ID() == st.Origin {
				if !identity.VerifyHead(k.Public(), st, seq, head, sig) {
					return errors.New("signature does not verify")
				}
				return nil
			}
		}
		return errors.New("origin unknown")
	}
}

// bigNotes is a text of n bytes that does not compress.
func bigNotes(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// drain passes everything from has that a peer holding have lacks, batch by
// batch as a session would, checking each batch against the protocol's
// bounds; it returns the batches' sizes in changes.
func drain(t *testing.T, from, to *SQLite, have syncproto.Vector, max int) []int {
	t.Helper()
	ctx := context.Background()
	var sizes []int
	for {
		runs, next, err := from.Outgoing(ctx, have, max)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 0 {
			return sizes
		}
		b, err := syncproto.NewBatch(uint64(len(sizes)+1), runs)
		if err != nil {
			t.Fatalf("batch %d: %v", len(sizes)+1, err)
		}
		var frame bytes.Buffer
		if _, err := syncproto.WriteFrame(&frame, syncproto.MsgBatch, b); err != nil {
			t.Fatalf("batch %d: %v", len(sizes)+1, err)
		}
		if _, err := b.Runs(); err != nil {
			t.Fatalf("batch %d, as a peer reads it: %v", len(sizes)+1, err)
		}
		if b.Size > maxBatchBytes+syncproto.MaxRunBytes {
			t.Fatalf("batch %d holds %d bytes", len(sizes)+1, b.Size)
		}
		n := 0
		for _, r := range runs {
			n += len(r.Bodies)
		}
		sizes = append(sizes, n)
		if _, err := to.Apply(ctx, incomingOf(t, runs)); err != nil {
			t.Fatalf("batch %d: %v", len(sizes), err)
		}
		have = next
	}
}

// Changes as large as a change may be travel, as many to a batch as its
// bound in bytes allows.
func TestLargestChangesTravel(t *testing.T) {
	ctx := context.Background()
	a, ka := newStore(t, Options{})
	b, _ := newStore(t, Options{VerifyHead: verifier(ka)})
	var edits []Edit
	for range 12 {
		edits = append(edits, edit(t, syncproto.NewRecordID(), true, "notes", bigNotes(syncproto.MaxChangeBytes-512)))
	}
	if _, err := a.Write(ctx, edits); err != nil {
		t.Fatal(err)
	}
	sizes := drain(t, a, b, syncproto.Vector{}, 1000)
	if len(sizes) < 2 {
		t.Fatalf("12 changes of 256 KiB in batches of %v", sizes)
	}
	if digest(t, a) != digest(t, b) {
		t.Fatal("the changes did not travel")
	}
}

// A node's own stream is cut wherever the bound in bytes falls, its head
// there signed as it goes, whatever the commits that wrote it signed: 60
// changes of 100 KiB under one commit's signature would be a run too large
// to pass on.
func TestOwnStreamCutAnywhere(t *testing.T) {
	ctx := context.Background()
	a, ka := newStore(t, Options{})
	b, _ := newStore(t, Options{VerifyHead: verifier(ka)})
	var edits []Edit
	for range 60 {
		edits = append(edits, edit(t, syncproto.NewRecordID(), true, "notes", bigNotes(100<<10)))
	}
	if _, err := a.Write(ctx, edits); err != nil { // one commit, one signature
		t.Fatal(err)
	}
	sizes := drain(t, a, b, syncproto.Vector{}, 1000)
	if len(sizes) < 3 {
		t.Fatalf("batches of %v changes", sizes)
	}
	if digest(t, a) != digest(t, b) {
		t.Fatal("b does not hold what a holds")
	}
}

// A batch ends at the first signed head past its count of changes, as it
// always has: a thousand changes of an import signed every 256 go in
// batches of 1,024.
func TestOutgoingCountEndsAtSignedHead(t *testing.T) {
	ctx := context.Background()
	a, ka := newStore(t, Options{})
	b, _ := newStore(t, Options{VerifyHead: verifier(ka)})
	var edits []Edit
	for i := range 2100 {
		edits = append(edits, edit(t, syncproto.NewRecordID(), true, "household_size", i))
	}
	if _, err := a.Import(ctx, imported(t, edits...)); err != nil {
		t.Fatal(err)
	}
	if sizes := drain(t, a, b, syncproto.Vector{}, 1000); len(sizes) != 3 || sizes[0] != 1024 || sizes[1] != 1024 || sizes[2] != 52 {
		t.Fatalf("batches of %v changes, want 1024, 1024, 52", sizes)
	}
}

// A stretch under one signature larger than a run may carry (stored
// before runs were bounded) cannot be passed on: Outgoing says so, and
// only once the batch would hold nothing else.
func TestUnsendableStretch(t *testing.T) {
	ctx := context.Background()
	origin, ko := newStore(t, Options{})
	relay, _ := newStore(t, Options{VerifyHead: verifier(ko)})
	notes := bigNotes(200 << 10)
	var edits []Edit
	for range 25 {
		edits = append(edits, edit(t, syncproto.NewRecordID(), true, "notes", notes))
	}
	if _, err := origin.Write(ctx, edits); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Apply(ctx, missing(t, origin, syncproto.Vector{})); err != nil {
		t.Fatal(err)
	}
	e := edit(t, syncproto.NewRecordID(), true, "village", "Bullet Tree")
	e.Lane = 1
	if _, err := relay.Write(ctx, []Edit{e}); err != nil {
		t.Fatal(err)
	}
	runs, next, err := relay.Outgoing(ctx, syncproto.Vector{}, 1000)
	if err != nil || len(runs) != 1 || runs[0].Stream.Lane != 1 {
		t.Fatalf("the first batch: %d runs, %v", len(runs), err)
	}
	_, _, err = relay.Outgoing(ctx, next, 1000)
	var ue *UnsendableError
	if !errors.As(err, &ue) || ue.Stream != lane3(origin) || ue.After != 0 || ue.Bytes <= syncproto.MaxRunBytes {
		t.Fatalf("the stretch of 5 MB: %v", err)
	}
}

// What a node holds aside is, per stream, the held changes that follow its
// head without a gap.
func TestHeldAside(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	ahead := time.Duration(0)
	clock := syncproto.NewClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(ahead) }, 0)
	a, ka := newStore(t, Options{Clock: clock})
	b, _ := newStore(t, Options{VerifyHead: verifier(ka)})
	c, _ := newStore(t, Options{VerifyHead: verifier(ka)})
	if _, err := a.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "village", "Succotz")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	ahead = 24 * time.Hour
	mu.Unlock()
	for range 3 {
		if _, err := a.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "village", "Benque")}); err != nil {
			t.Fatal(err)
		}
	}
	in := missing(t, a, syncproto.Vector{})
	if res, err := b.Apply(ctx, in); err != nil || res.Applied != 1 || res.Held != 3 {
		t.Fatalf("b: %+v %v", res, err)
	}
	if v, err := b.HeldAside(ctx); err != nil || len(v) != 1 || v[lane3(a)] != 4 {
		t.Fatalf("b holds aside %v (%v), want %s:4", v, err, lane3(a))
	}
	// Held after a gap (a bundle carried out of order): the next change is
	// not held aside, so it is still wanted.
	if _, err := c.ApplyAll(ctx, func(yield func([]Incoming, error) bool) { yield(in[2:], nil) }, true); err != nil {
		t.Fatal(err)
	}
	if v, err := c.HeldAside(ctx); err != nil || len(v) != 0 {
		t.Fatalf("c holds aside %v (%v), want none", v, err)
	}
}
