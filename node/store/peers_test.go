package store

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"lifeline/syncproto"
)

// Gossip can tell of any number of members: of those no certificate has
// named, the latest heard of are kept, MaxUnnamedPeers of them, and every
// peer a certificate named is kept whatever their number.
func TestPeersGossipAloneToldOfAreBounded(t *testing.T) {
	s, _ := newStore(t, Options{})
	ctx := context.Background()
	id := func(i int) (n syncproto.NodeID) {
		binary.BigEndian.PutUint32(n[:], uint32(i))
		return n
	}
	t0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	named := []Peer{
		{Node: id(1 << 20), Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize", Addr: "10.0.0.1:7946", Seen: t0},
		{Node: id(1<<20 + 1), Name: "cayo-relay", Role: syncproto.RoleRelay, District: "Cayo", Addr: "10.0.0.2:7946", Seen: t0},
	}
	for _, p := range named {
		if err := s.PutPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	const told = MaxUnnamedPeers + 100
	for i := range told {
		if err := s.PutPeer(ctx, Peer{Node: id(i), Addr: "10.0.1.9:7946", Seen: t0.Add(time.Duration(i) * time.Second), State: "alive"}); err != nil {
			t.Fatal(err)
		}
	}
	peers, err := s.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[syncproto.NodeID]bool{}
	for _, p := range peers {
		kept[p.Node] = true
	}
	if len(peers) != MaxUnnamedPeers+len(named) {
		t.Errorf("%d peers kept of %d told of and %d named, want %d", len(peers), told, len(named), MaxUnnamedPeers+len(named))
	}
	for _, p := range named {
		if !kept[p.Node] {
			t.Errorf("%s, named by its certificate, was dropped", p.Name)
		}
	}
	// The latest told of are the ones kept.
	for i := told - MaxUnnamedPeers; i < told; i++ {
		if !kept[id(i)] {
			t.Fatalf("the member told of %d-th of %d was dropped, want the last %d kept", i+1, told, MaxUnnamedPeers)
		}
	}
}
