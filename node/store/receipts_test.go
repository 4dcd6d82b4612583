package store

import (
	"context"
	"testing"
	"time"

	"lifeline/syncproto"
)

// Marking what a peer holds reads only the streams this node holds and
// writes only those that move, however long the peer's vector.
func TestMarkSentOnlyStreamsHeld(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	for range 3 {
		if _, err := s.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "household_size", 1)}); err != nil {
			t.Fatal(err)
		}
	}
	peer := syncproto.Vector{lane3(s): 2}
	for i := range syncproto.MaxVectorEntries - 1 {
		peer[syncproto.Stream{Origin: syncproto.NodeID{byte(i >> 16), byte(i >> 8), byte(i), 1}, Lane: 1}] = 9
	}
	if err := s.MarkSent(ctx, peer); err != nil {
		t.Fatal(err)
	}
	sent, err := s.Sent(ctx)
	if err != nil || len(sent) != 1 || sent[lane3(s)] != 2 {
		t.Fatalf("sent %v %v", sent, err)
	}
	var n int
	if err := s.rdb.QueryRow(`SELECT count(*) FROM streams`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d streams after marking a vector of %d (%v)", n, len(peer), err)
	}
	// Marking it again moves nothing, and takes no write lock: a hello does
	// not wait on, nor hold up, this node's saves.
	if err := s.lockWrite(); err != nil {
		t.Fatal(err)
	}
	marked := make(chan error, 1)
	go func() { marked <- s.MarkSent(ctx, peer) }()
	select {
	case err := <-marked:
		s.unlockWrite()
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		s.unlockWrite()
		t.Fatal("marking a vector that moves nothing waited for the write lock")
	}
	if err := s.MarkSent(ctx, syncproto.Vector{lane3(s): 9}); err != nil {
		t.Fatal(err)
	}
	if sent, _ := s.Sent(ctx); sent[lane3(s)] != 3 {
		t.Fatalf("sent %v: never past what this node holds", sent)
	}
}
