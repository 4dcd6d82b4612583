package store

import (
	"context"
	"slices"
	"testing"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// A revocation a notice brought keeps the notice, to pass on; a notice
// whose signer is revoked is not passed on, and a later one by an
// unrevoked signer takes its place; a revocation kept before notices were
// (none) still revokes, and the ledger's revocations a node holds no
// notice of are those an HQ node signs.
func TestRevocationNoticesArePassedOn(t *testing.T) {
	s, _ := newStore(t, Options{})
	ctx := context.Background()
	thief, oldHQ, hq, other := syncproto.NodeID{1}, syncproto.NodeID{2}, syncproto.NodeID{3}, syncproto.NodeID{4}
	noticed := func() []syncproto.NodeID {
		t.Helper()
		m, err := s.NoticedRevocations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []syncproto.NodeID
		for id := range m {
			out = append(out, id)
		}
		slices.SortFunc(out, func(a, b syncproto.NodeID) int { return slices.Compare(a[:], b[:]) })
		return out
	}
	passed := func() [][]byte {
		t.Helper()
		l, err := s.RevocationNotices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	// A row as a node kept it before notices were kept.
	if err := s.AddRevocation(ctx, ledger.Revoke{Node: other, Reason: "old", At: 1}, nil, syncproto.NodeID{}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRevocation(ctx, ledger.Revoke{Node: thief, Reason: "stolen", At: 10, Trusted: syncproto.Vector{{Origin: thief, Lane: 3}: 4}}, []byte("by old hq"), oldHQ); err != nil {
		t.Fatal(err)
	}
	if got := passed(); len(got) != 1 || string(got[0]) != "by old hq" {
		t.Fatalf("passed on %q, want the one notice", got)
	}
	if got := noticed(); !slices.Equal(got, []syncproto.NodeID{thief}) {
		t.Fatalf("noticed %v", got)
	}
	// Headquarters revokes the HQ node that signed: its notice convinces
	// no one who knows, and is not passed on.
	if err := s.AddRevocation(ctx, ledger.Revoke{Node: oldHQ, Reason: "key lost", At: 20}, []byte("of old hq"), hq); err != nil {
		t.Fatal(err)
	}
	if got := passed(); len(got) != 1 || string(got[0]) != "of old hq" {
		t.Fatalf("passed on %q, want only the revocation of the old HQ", got)
	}
	// Another HQ node's notice of the same revocation takes its place; the
	// revocation stays what it was.
	if err := s.AddRevocation(ctx, ledger.Revoke{Node: thief, Reason: "stolen", At: 10, Trusted: syncproto.Vector{{Origin: thief, Lane: 3}: 4}}, []byte("by hq"), hq); err != nil {
		t.Fatal(err)
	}
	if got := passed(); len(got) != 2 || string(got[0]) != "of old hq" || string(got[1]) != "by hq" {
		t.Fatalf("passed on %q, want the newest first", got)
	}
	// A notice of a revocation that has one already changes nothing.
	if err := s.AddRevocation(ctx, ledger.Revoke{Node: thief, Reason: "other", At: 99}, []byte("again"), hq); err != nil {
		t.Fatal(err)
	}
	trusted, revoked, err := s.Revocation(ctx, thief)
	if err != nil || !revoked || trusted[syncproto.Stream{Origin: thief, Lane: 3}] != 4 {
		t.Fatalf("the thief's revocation: %v %v %v", trusted, revoked, err)
	}
	if got := passed(); len(got) != 2 || string(got[1]) != "by hq" {
		t.Fatalf("passed on %q after a second notice", got)
	}
	if got := noticed(); !slices.Equal(got, []syncproto.NodeID{thief, oldHQ}) {
		t.Fatalf("noticed %v", got)
	}
	if revoked, err := s.Revoked(ctx, other); err != nil || !revoked {
		t.Fatalf("a revocation kept without a notice: %v %v", revoked, err)
	}
	all, err := s.RevokedNodes(ctx)
	if err != nil || !slices.Equal(all, []syncproto.NodeID{thief, oldHQ, other}) {
		t.Fatalf("revoked nodes %v %v", all, err)
	}

	// The ledger's revocations: those with no notice to pass on are listed.
	if _, err := s.LedgerApply(ctx, 1, 1, func(tx ledger.Tx) error {
		for _, r := range []ledger.Revoke{{Node: thief, At: 10}, {Node: other, Reason: "old", At: 1, By: hq, Trusted: syncproto.Vector{{Origin: other, Lane: 2}: 7}}} {
			if err := tx.Revoke(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	un, err := s.UnnoticedRevocations(ctx)
	if err != nil || len(un) != 1 || un[0].Node != other || un[0].By != hq || un[0].Trusted[syncproto.Stream{Origin: other, Lane: 2}] != 7 {
		t.Fatalf("unnoticed %+v %v, want the old revocation alone", un, err)
	}
	if err := s.AddRevocation(ctx, ledger.Revoke{Node: other}, []byte("signed now"), hq); err != nil {
		t.Fatal(err)
	}
	if un, err := s.UnnoticedRevocations(ctx); err != nil || len(un) != 0 {
		t.Fatalf("unnoticed once signed: %+v %v", un, err)
	}
}
