package store

import (
	"context"
	"os"
	"sync"
	"testing"

	"lifeline/syncproto"
)

// The write-ahead log's bound as docs/architecture.md states it: 64 MiB
// plus one transaction. The transactions here carry at most one batch of
// changes (2 MiB of them, with their rows and index pages) or 64 records
// of 8 KiB.
const (
	walBound      = 64 << 20
	walLargestTxn = 8 << 20
)

// smallerLog runs a test with the log's bounds at a quarter of what they
// are, 8 MiB to checkpoint and 16 MiB to restart, so that a session
// several times as long as the bound is a quarter as long; it returns
// the bound the log then keeps, 16 MiB plus one transaction. The test
// must not run in parallel with others: the bounds are the package's.
func smallerLog(t *testing.T) int64 {
	checkpoint, restart := walCheckpointBytes, walRestartBytes
	walCheckpointBytes, walRestartBytes = walBound/8, walBound/4
	t.Cleanup(func() { walCheckpointBytes, walRestartBytes = checkpoint, restart })
	return walBound/4 + walLargestTxn
}

// walSize is the size of a store's write-ahead log file, 0 when there is
// none.
func walSize(t *testing.T, s *SQLite) int64 {
	t.Helper()
	fi, err := os.Stat(s.Path() + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// incoming is incomingOf for a goroutine other than the test's.
func incoming(runs []syncproto.Run) ([]Incoming, error) {
	var out []Incoming
	for _, r := range runs {
		for i, body := range r.Bodies {
			c, err := syncproto.DecodeChange(body)
			if err != nil {
				return nil, err
			}
			in := Incoming{Change: c, Body: body}
			if i == len(r.Bodies)-1 {
				in.Sig = r.Sig
			}
			out = append(out, in)
		}
	}
	return out, nil
}

// A node that receives a long sync session, twice as many bytes of
// changes as its log's bound, batch by batch, while it passes them on to
// a third node as a sender does (a read transaction per batch) and while
// its records are listed again and again, keeps its write-ahead log under
// the bound the whole time, and so does the node it passes them to. A log
// only copied into the database beside the writer would grow through the
// whole session: the copy never catches up with a writer that keeps
// committing. The bounds are a quarter of the real ones (smallerLog) and
// the session a third, 50 MB against a bound of 24 MiB: the same code
// keeps them, and the session outgrows the bound by as much as 150 MB
// outgrows 64 MiB and a transaction.
func TestLogBoundedThroughLongSession(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 150 MB")
	}
	ctx := context.Background()
	bound := smallerLog(t)
	origin, ko := newStore(t, Options{})
	relay, kr := newStore(t, Options{VerifyHead: verifier(ko)})
	laptop, _ := newStore(t, Options{VerifyHead: verifier(ko, kr)})
	notes := bigNotes(8 << 10)
	const records = 6144    // 50 MB of notes
	var originLargest int64 // the origin's log, as it writes them
	for n := 0; n < records; n += 64 {
		var edits []Edit
		for range 64 {
			edits = append(edits, edit(t, syncproto.NewRecordID(), true, "notes", notes))
		}
		if _, err := origin.Write(ctx, edits); err != nil {
			t.Fatal(err)
		}
		originLargest = max(originLargest, walSize(t, origin))
	}
	if originLargest > bound {
		t.Errorf("the writing node's log reached %d bytes", originLargest)
	}

	// The relay passes on what it has to the laptop while it receives,
	// until it has everything and the laptop too.
	received := make(chan struct{})
	sent := make(chan error, 1)
	var mu sync.Mutex
	var laptopLargest int64
	go func() {
		have := syncproto.Vector{}
		last := false // the relay holds everything: this pass is the last
		for {
			runs, next, err := relay.Outgoing(ctx, have, 1000)
			if err != nil {
				sent <- err
				return
			}
			if len(runs) == 0 {
				if last {
					sent <- nil
					return
				}
				select {
				case <-received:
					last = true
				case <-relay.Changed():
				}
				continue
			}
			in, err := incoming(runs)
			if err != nil {
				sent <- err
				return
			}
			if _, err := laptop.Apply(ctx, in); err != nil {
				sent <- err
				return
			}
			have = next
			if fi, err := os.Stat(laptop.Path() + "-wal"); err == nil {
				mu.Lock()
				laptopLargest = max(laptopLargest, fi.Size())
				mu.Unlock()
			}
		}
	}()
	// Someone lists the relay's records over and over meanwhile.
	listed := make(chan error, 1)
	go func() {
		for {
			for _, err := range relay.Records(ctx, Query{}) {
				if err != nil {
					listed <- err
					return
				}
			}
			select {
			case <-received:
				listed <- nil
				return
			default:
			}
		}
	}()
	have := syncproto.Vector{}
	var largest int64
	for {
		runs, next, err := origin.Outgoing(ctx, have, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 0 {
			break
		}
		if _, err := relay.Apply(ctx, incomingOf(t, runs)); err != nil {
			t.Fatal(err)
		}
		have = next
		largest = max(largest, walSize(t, relay))
	}
	close(received)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if err := <-listed; err != nil {
		t.Fatal(err)
	}
	// A reader still in the log after the restart's 2 s wait (a machine
	// so busy that a read of one batch takes that long) lets the log grow
	// by another walCheckpointBytes before the next try, as
	// docs/architecture.md says: each such restart widens the bound by
	// that much, and no more. A few may happen on a busy machine; readers
	// that keep the log through the session (a listing in one
	// transaction) would keep most of the restarts, and fail here.
	const mostKept = 3
	for name, s := range map[string]*SQLite{"receiving": relay, "third": laptop} {
		if n := s.restartsKept.Load(); n > mostKept {
			t.Errorf("readers kept %d of the %s node's restarts of its log from completing", n, name)
		}
	}
	kept := func(s *SQLite) int64 { return bound + s.restartsKept.Load()*walCheckpointBytes }
	if largest > kept(relay) {
		t.Errorf("the receiving node's log reached %d bytes while it received %d records of 8 KiB and passed them on (%d restarts kept by readers)",
			largest, records, relay.restartsKept.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if laptopLargest > kept(laptop) {
		t.Errorf("the third node's log reached %d bytes (%d restarts kept by readers)", laptopLargest, laptop.restartsKept.Load())
	}
	if digest(t, laptop) != digest(t, origin) {
		t.Fatal("the third node does not hold what the origin holds")
	}
	t.Logf("largest logs: origin %d bytes, relay %d, laptop %d; restarts kept by readers: relay %d, laptop %d",
		originLargest, largest, laptopLargest, relay.restartsKept.Load(), laptop.restartsKept.Load())
}
