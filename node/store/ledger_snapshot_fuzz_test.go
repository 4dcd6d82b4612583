package store

import (
	"bytes"
	"context"
	"encoding/pem"
	"testing"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// A ledger snapshot is what a leader sends a member that fell behind, and
// a voter may lie. Whatever the bytes, restoring them refuses or replaces
// the ledger whole: a refused snapshot leaves the ledger as it was, and
// one taken leaves a ledger whose own snapshot restores to itself.
func FuzzLedgerRestore(f *testing.F) {
	st := syncproto.Stream{Origin: syncproto.NodeID{1}, Lane: 3}
	ca, hq := hqCert(f)
	rec := syncproto.RecordID{2, 15: 9}
	full := ledgerSnapshot{
		Applied: 41, Term: 2,
		Streams: []snapStream{{Stream: st, Seq: 12, Head: syncproto.Hash{7}}},
		Cases:   []snapCase{{Record: rec, Number: "CYO-2026-000001"}},
		CaseSeq: []snapCaseSeq{{Prefix: "CYO-2026", Last: 1}},
		Revoked: []ledger.Revoke{{Node: syncproto.NodeID{3}, Reason: "stolen", At: 1_764_000_000_000, By: syncproto.NodeID{4}, Trusted: syncproto.Vector{st: 5}}},
		Kits:    []ledger.Kit{{Name: "road-status", Version: "1.1.0", Body: []byte("kit: road-status\n")}},
		Resolutions: []ledger.Resolve{{Record: rec, Field: "status", Change: syncproto.Dot{Origin: syncproto.NodeID{4}, Lane: 3, Seq: 2},
			By: "Ana Cho", At: 1_764_000_000_001}},
		Log:      []LogEntry{{Position: 1, Entry: 40, Stream: st, First: 1, Last: 12, Head: syncproto.Hash{7}}},
		Enrolled: []snapEnrolled{{Node: hq.Node, Name: hq.Name, Role: hq.Role, District: hq.District, Cert: hq.Cert}},
		Members:  []snapMember{{Node: syncproto.NodeID{4}, Voter: true, Addr: "127.0.0.1:7000"}},
		Links:    []ledger.Link{{A: rec, B: syncproto.RecordID{5, 15: 1}, Decision: ledger.LinkLinked, Node: syncproto.NodeID{4}, At: 1_764_000_000_002}},
		Decided:  []snapDecided{{Digest: [32]byte{9, 31: 1}}, {Digest: [32]byte{10}, Refused: true}},
	}
	seed, err := syncproto.Marshal(&full)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []ledgerSnapshot{full, {}} {
		b, err := syncproto.Marshal(&s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := newStore(t, Options{})
		snapshot := func(t *testing.T) []byte {
			var buf bytes.Buffer
			if err := s.LedgerSnapshot(ctx, &buf); err != nil {
				t.Fatalf("a snapshot of the ledger as it stands: %v", err)
			}
			return buf.Bytes()
		}
		// The ledger before: one of every kind of state.
		if err := s.LedgerRestore(ctx, bytes.NewReader(seed), ca.Cert); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t)
		if err := s.LedgerRestore(ctx, bytes.NewReader(b), ca.Cert); err != nil {
			if after := snapshot(t); !bytes.Equal(before, after) {
				t.Fatalf("a refused snapshot (%v) changed the ledger", err)
			}
			return
		}
		taken := snapshot(t)
		if err := s.LedgerRestore(ctx, bytes.NewReader(taken), ca.Cert); err != nil {
			t.Fatalf("the ledger's own snapshot does not restore: %v", err)
		}
		if again := snapshot(t); !bytes.Equal(taken, again) {
			t.Fatal("the ledger's own snapshot restored to another ledger")
		}
	})
}

// hqCert is a CA, and the certificate of an HQ node of Belize it signed.
func hqCert(t testing.TB) (*identity.CA, NodeCert) {
	t.Helper()
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	claims := identity.Claims{Node: key.ID(), Name: "hq", Role: syncproto.RoleHQ, District: "Belize"}
	req, err := key.Request(claims)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := ca.Sign(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(bundle)
	return ca, NodeCert{Node: claims.Node, Name: claims.Name, Role: claims.Role, District: claims.District, Cert: block.Bytes}
}
