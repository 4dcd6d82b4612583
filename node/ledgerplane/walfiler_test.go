package ledgerplane

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// entries are log entries first to last, each saying which write made it.
func entries(first, last uint64, term uint64, tag string) []*raft.Log {
	var out []*raft.Log
	for i := first; i <= last; i++ {
		out = append(out, &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("%s %d", tag, i))})
	}
	return out
}

// openWAL opens the log in dir, with truncatedFiler as a member does
// (own), or with raft-wal's own filer.
func openWAL(t *testing.T, dir string, own bool) (*wal.WAL, func()) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	meta := &metadb.BoltMetaDB{}
	var w *wal.WAL
	var err error
	if own {
		w, err = wal.Open(dir, wal.WithMetaStore(meta), wal.WithSegmentFiler(newTruncatedFiler(dir)))
	} else {
		w, err = wal.Open(dir, wal.WithMetaStore(meta))
	}
	if err != nil {
		meta.Close()
		t.Fatal(err)
	}
	return w, func() { w.Close(); meta.Close() }
}

// truncateTail writes 1 to 20 in term 1, then what a new leader does: the
// tail from 15 cleared, 15 to 25 written again in term 2.
func truncateTail(t *testing.T, dir string, own bool) {
	t.Helper()
	w, done := openWAL(t, dir, own)
	defer done()
	if err := w.StoreLogs(entries(1, 20, 1, "first")); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteRange(15, 20); err != nil {
		t.Fatal(err)
	}
	if err := w.StoreLogs(entries(15, 25, 2, "leader")); err != nil {
		t.Fatal(err)
	}
}

// A member whose log's tail was cleared (a new leader's entries replaced
// ones never committed) reads its whole log again after a restart: the
// entries before the cut as first written, those after as the leader
// wrote them.
func TestLogReadsAfterItsTailWasCleared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	truncateTail(t, dir, true)
	w, done := openWAL(t, dir, true)
	defer done()
	for i := uint64(1); i <= 25; i++ {
		want := fmt.Sprintf("first %d", i)
		if i >= 15 {
			want = fmt.Sprintf("leader %d", i)
		}
		var l raft.Log
		if err := w.GetLog(i, &l); err != nil {
			t.Fatalf("entry %d after a restart: %v", i, err)
		}
		if string(l.Data) != want {
			t.Fatalf("entry %d is %q, want %q", i, l.Data, want)
		}
	}
	if last, _ := w.LastIndex(); last != 25 {
		t.Fatalf("last index %d, want 25", last)
	}
	// It goes on taking entries after the restart.
	if err := w.StoreLogs(entries(26, 30, 2, "leader")); err != nil {
		t.Fatal(err)
	}
}

// What the filer is for: raft-wal's own cannot read such a log back (and
// Raft panics on it at start). Should raft-wal learn to, this fails, and
// truncatedFiler can go.
func TestRaftWALAloneCannotReadALogWhoseTailWasCleared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	truncateTail(t, dir, false)
	w, done := openWAL(t, dir, false)
	defer done()
	var l raft.Log
	err := w.GetLog(1, &l)
	if err == nil || !strings.Contains(err.Error(), "no index block") {
		t.Fatalf("raft-wal read entry 1 back (%v): its tail truncation is fixed, and truncatedFiler is no longer needed", err)
	}
}
