package store

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

const killWriterEnv = "LIFELINE_KILL_WRITER"

// killWriterMain is the writer process the kill test starts: it writes
// records as fast as it can, from several goroutines and in small bulk
// imports, and prints each record's id once the store has said it is saved.
// It is built with every tag, apart from the kill test (left out of a
// mutation run), because TestMain runs it.
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
	for n := 0; ; n++ {
		// Now and then a checkpoint copies the log into the database
		// beside the writers, so that a kill or a power cut may fall in
		// one (a running node checkpoints once the log is large).
		if n%4 == 3 {
			s.mdb.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
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
