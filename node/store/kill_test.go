//go:build !mutate

package store

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/node/internal/lazyfs"
	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): killing a writer process
// and cutting a store's power check the durability of what SQLite was
// told to save, not how a change merges.

// writer is a process running killWriterMain on the store in a folder.
type writer struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr strings.Builder
}

func startWriter(t *testing.T, dir string) *writer {
	t.Helper()
	w := &writer{cmd: exec.Command(os.Args[0], "-test.run=^$"), lines: make(chan string, 1<<16)}
	w.cmd.Env = append(os.Environ(), killWriterEnv+"="+dir)
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stderr = &w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	return w
}

// ack records an acknowledged id; a line cut short by a kill is none.
func ack(acked map[syncproto.RecordID]bool, line string) {
	if id, err := syncproto.ParseRecordID(line); err == nil && len(line) == 36 {
		acked[id] = true
	}
}

// kill ends the writer with SIGKILL and records the ids it acknowledged
// before, those still in the pipe included.
func (w *writer) kill(acked map[syncproto.RecordID]bool) {
	w.cmd.Process.Signal(syscall.SIGKILL)
	for l := range w.lines {
		ack(acked, l)
	}
	w.cmd.Wait()
}

// failure ends the writer, if it still runs, and returns what it said on
// standard error.
func (w *writer) failure() string {
	w.cmd.Process.Kill()
	w.cmd.Wait()
	return w.stderr.String()
}

// checkAcknowledged opens the store in dir as it was left and checks that
// it opens, passes SQLite's integrity check, holds every acknowledged
// record, has no gap in its sequence, and rebuilds its records from the
// change log.
func checkAcknowledged(t *testing.T, dir string, key *identity.Key, acked map[syncproto.RecordID]bool) int64 {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(dir, FileName), Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q %v", res, err)
	}
	lost := 0
	for id := range acked {
		if _, err := s.Record(ctx, id); err != nil {
			if lost++; lost <= 3 {
				t.Errorf("record %s was acknowledged, then lost: %v", id, err)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged records lost", lost, len(acked))
	}
	var n, maxSeq int64
	if err := s.rdb.QueryRow(`SELECT count(*), max(id) & ((1 << 40) - 1) FROM changes`).Scan(&n, &maxSeq); err != nil {
		t.Fatal(err)
	}
	v, _ := s.Vector(ctx)
	if uint64(n) != v[lane3(s)] || n != maxSeq {
		t.Fatalf("%d changes, highest sequence %d, vector %d: a gap or a lost head", n, maxSeq, v[lane3(s)])
	}
	if err := s.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

// writerStore creates a store whose key the writer process can read.
func writerStore(t *testing.T) (string, *identity.Key) {
	s, key := newStore(t, Options{})
	dir := filepath.Dir(s.Path())
	if err := key.Save(filepath.Join(dir, identity.KeyFile)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return dir, key
}

// A writer killed with SIGKILL at random moments, again and again, never
// loses a record it reported saved, never leaves a gap in its sequence, and
// leaves a database that passes SQLite's integrity check. The kernel keeps
// what the writer wrote: this is no power cut (see
// TestPowerCutLosesNoAcknowledgedWrite).
func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	kills := 40
	if testing.Short() {
		kills = 10
	}
	dir, key := writerStore(t)
	acked := map[syncproto.RecordID]bool{}
	for round := range kills {
		w := startWriter(t, dir)
		// Let it write for a while (it must have acknowledged something),
		// then kill it wherever it is.
		deadline := time.After(10 * time.Second)
		first := true
		wait := time.Duration(5+rand.IntN(120)) * time.Millisecond
		var timer <-chan time.Time
	read:
		for {
			select {
			case l, ok := <-w.lines:
				if !ok {
					t.Fatalf("round %d: the writer stopped by itself: %s", round, w.failure())
				}
				ack(acked, l)
				if first {
					first = false
					timer = time.After(wait)
				}
			case <-timer:
				break read
			case <-deadline:
				t.Fatalf("round %d: no write acknowledged in 10s: %s", round, w.failure())
			}
		}
		w.kill(acked)
	}
	n := checkAcknowledged(t, dir, key, acked)
	t.Logf("%d kills, %d acknowledged records, all present; %d changes in the log", kills, len(acked), n)
}

// The power goes while a writer is busy, again and again: what the disk
// had not been told to sync is lost, as on a laptop whose battery dies.
// Every record the store said was saved is still there, the store opens
// and passes SQLite's integrity check, and its sequence has no gap. The
// store lives on lazyfs, which holds every write in memory until the file
// is fsynced; a cut drops the rest (in some cuts, part of the rest reached
// the disk anyway). kill -9 alone cannot tell synchronous=FULL from OFF;
// this can: with OFF the first cut loses every record written since the
// store was opened.
func TestPowerCutLosesNoAcknowledgedWrite(t *testing.T) {
	cuts := 12
	if testing.Short() {
		cuts = 4
	}
	dir, key := writerStore(t)
	acked := map[syncproto.RecordID]bool{}
	var syncs, lost int64
	for round := range cuts {
		lz, mnt := lazyfs.MountTest(t, dir)
		w := startWriter(t, mnt)
		// Cut after a number of acknowledged records, wherever the writer
		// then is: in a commit, between two, in a checkpoint.
		want := 1 + rand.IntN(300)
		for got := 0; got < want; got++ {
			l, ok := <-w.lines
			if !ok {
				t.Fatalf("round %d: the writer stopped by itself (the store did not open after the cut?): %s", round, w.failure())
			}
			ack(acked, l)
		}
		w.kill(acked)
		var keep func() bool
		if round%2 == 1 {
			keep = func() bool { return rand.IntN(2) == 0 }
		}
		if err := lz.Crash(keep); err != nil {
			t.Fatal(err)
		}
		syncs += lz.Syncs()
		lost += lz.Lost()
	}
	n := checkAcknowledged(t, dir, key, acked)
	t.Logf("%d power cuts, %d acknowledged records, all present; %d changes in the log; %d fsyncs, %d unsynced pages lost",
		cuts, len(acked), n, syncs, lost)
}
