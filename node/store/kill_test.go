package store

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

const killWriterEnv = "LIFELINE_KILL_WRITER"

// killWriterMain is the writer process the kill test starts: it writes
// records as fast as it can, from several goroutines and in small bulk
// imports, and prints each record's id once the store has said it is saved.
func killWriterMain() {
	dir := os.Getenv(killWriterEnv)
	key, err := identity.Load(filepath.Join(dir, identity.KeyFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := Open(context.Background(), filepath.Join(dir, FileName), Options{Key: key})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	ack := func(ids ...syncproto.RecordID) {
		mu.Lock()
		defer mu.Unlock()
		var b strings.Builder
		for _, id := range ids {
			b.WriteString(id.String())
			b.WriteByte('\n')
		}
		os.Stdout.WriteString(b.String())
	}
	notes, _ := syncproto.Marshal(strings.Repeat("roof gone, family at the church; ", 20))
	mk := func(id syncproto.RecordID) Edit {
		return Edit{Record: id, Create: true, Lane: 3, Kit: "damage-assessment", Type: "damage-assessment", Version: 1,
			Fields: []syncproto.FieldChange{{Name: "notes", Value: notes}}}
	}
	for range 4 {
		go func() {
			for {
				id := syncproto.NewRecordID()
				if _, err := s.Write(context.Background(), []Edit{mk(id)}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				ack(id)
			}
		}()
	}
	for {
		ids := make([]syncproto.RecordID, 50)
		var seq iter.Seq2[Edit, error] = func(yield func(Edit, error) bool) {
			for i := range ids {
				ids[i] = syncproto.NewRecordID()
				if !yield(mk(ids[i]), nil) {
					return
				}
			}
		}
		if _, err := s.Import(context.Background(), seq); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		ack(ids...)
	}
}

// A writer killed with SIGKILL at random moments, again and again, never
// loses a record it reported saved, never leaves a gap in its sequence, and
// leaves a database that passes SQLite's integrity check.
func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	kills := 40
	if testing.Short() {
		kills = 10
	}
	s, key := newStore(t, Options{})
	dir := filepath.Dir(s.Path())
	if err := key.Save(filepath.Join(dir, identity.KeyFile)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	acked := map[syncproto.RecordID]bool{}
	for round := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killWriterEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it write for a while (it must have acknowledged something),
		// then kill it wherever it is.
		deadline := time.After(10 * time.Second)
		first := true
		wait := time.Duration(5+rand.IntN(120)) * time.Millisecond
		var timer <-chan time.Time
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: the writer stopped by itself: %s", round, stderr.String())
				}
				if id, err := syncproto.ParseRecordID(l); err == nil {
					acked[id] = true
				}
				if first {
					first = false
					timer = time.After(wait)
				}
			case <-timer:
				break read
			case <-deadline:
				t.Fatalf("round %d: no write acknowledged in 10s: %s", round, stderr.String())
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		// Ids already in the pipe were acknowledged before the kill.
		for l := range lines {
			if id, err := syncproto.ParseRecordID(l); err == nil && len(l) == 36 {
				acked[id] = true
			}
		}
		cmd.Wait()
	}
	s, err := Open(context.Background(), filepath.Join(dir, FileName), Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q %v", res, err)
	}
	for id := range acked {
		if _, err := s.Record(ctx, id); err != nil {
			t.Fatalf("record %s was acknowledged, then lost: %v", id, err)
		}
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
	t.Logf("%d kills, %d acknowledged records, all present; %d changes in the log", kills, len(acked), n)
}
