package store

import (
	"bytes"
	"context"
	"testing"
)

// Two HQ nodes each make a grant of Cayo's keys of one epoch in the same
// millisecond. Two nodes that receive them in opposite orders keep the
// same one, and so does every node they pass it to. Before, each kept the
// one it got first, and neither took the other's: a node whose grant
// carried one HQ node's key never got the other's, and never read what
// was sealed with it.
func TestGrantsIssuedAtOnceAreKeptAlikeEverywhere(t *testing.T) {
	ctx := context.Background()
	a := Grant{District: "Cayo", Epoch: 1, Issued: 1_796_694_000_000, Notice: []byte("a grant signed by hq")}
	b := Grant{District: "Cayo", Epoch: 1, Issued: 1_796_694_000_000, Notice: []byte("a grant signed by hq-2")}
	var kept [][]byte
	for _, order := range [][]Grant{{a, b}, {b, a}} {
		s, _ := newStore(t, Options{})
		for _, g := range order {
			if _, err := s.PutGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		g, ok, err := s.Grant(ctx, "Cayo")
		if err != nil || !ok {
			t.Fatalf("no grant kept: %v", err)
		}
		if order[0].Replaces(g) || order[1].Replaces(g) || !g.Replaces(Grant{District: "Cayo", Epoch: 1, Issued: g.Issued}) {
			t.Errorf("the grant kept, %q, is replaced by one of the two", g.Notice)
		}
		kept = append(kept, g.Notice)
	}
	if !bytes.Equal(kept[0], kept[1]) {
		t.Fatalf("a node that got the grants in one order keeps %q, one that got them in the other %q", kept[0], kept[1])
	}
}
