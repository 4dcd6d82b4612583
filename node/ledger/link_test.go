package ledger_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// A link's bytes in the ledger, built from CBOR's definition (RFC 8949): a
// map (major type 5) of integer keys in order, byte strings of 16 bytes
// (major type 2) for the ids, text (major type 3), an unsigned integer for
// the time. Every member decodes these bytes from old log entries forever:
// a changed key, number or encoding must fail here.
func TestLinkEncodingGolden(t *testing.T) {
	var a, b syncproto.RecordID
	var node syncproto.NodeID
	for i := range a {
		a[i] = byte(0x20 + i)
		b[i] = byte(0x40 + i)
		node[i] = byte(0x10 + i)
	}
	l := &ledger.Link{A: a, B: b, Decision: "linked", Node: node, District: "Toledo", At: 1_796_486_520_000}
	text := func(s string) []byte { return append([]byte{0x60 | byte(len(s))}, s...) }
	want := slices.Concat(
		[]byte{0xa6},             // map of 6 pairs
		[]byte{0x01, 0x50}, a[:], // 1: record a, bytes(16)
		[]byte{0x02, 0x50}, b[:], // 2: record b, bytes(16)
		[]byte{0x03}, text("linked"),
		[]byte{0x04, 0x50}, node[:], // 4: the deciding node, bytes(16)
		[]byte{0x05}, text("Toledo"),
		binary.BigEndian.AppendUint64([]byte{0x06, 0x1b}, 1_796_486_520_000), // 6: the time, as 8 bytes
	)
	entry, err := ledger.Encode(ledger.CmdLink, l)
	if err != nil {
		t.Fatal(err)
	}
	if entry[0] != 9 {
		t.Fatalf("a link's type byte is %d, want 9", entry[0])
	}
	if !bytes.Equal(entry[1:], want) {
		t.Fatalf("a link encodes as\n %x\nwant\n %x", entry[1:], want)
	}
	var back ledger.Link
	if err := syncproto.Unmarshal(want, &back); err != nil || back != *l {
		t.Fatalf("the golden bytes decode as %+v, %v", back, err)
	}
	// HQ linking records of two districts names none: key 5 is left out.
	l.District = ""
	if b, err := syncproto.Marshal(l); err != nil || b[0] != 0xa5 {
		t.Fatalf("a link with no district encodes as %x (%v), want a map of 5 pairs", b, err)
	}
}

// A link applies when HQ, or a relay of the district it names, signed it
// in its own name; a field laptop, a relay of another district, or a
// signer naming another node is refused by every member. A malformed link
// (a record with itself, out of order, an unknown decision) is refused
// before its signer is looked at.
func TestLinksNeedALinker(t *testing.T) {
	d := newDeployment(t)
	relay := nodetest.Credentials(t, d.ca, "relay-cayo", syncproto.RoleRelay) // of Cayo
	laptop := nodetest.Credentials(t, d.ca, "cayo-07", syncproto.RoleField)
	link := func(by *identity.Credentials, district string) *ledger.Link {
		a, b := ledger.PairOf(syncproto.NewRecordID(), syncproto.NewRecordID())
		return &ledger.Link{A: a, B: b, Decision: ledger.LinkLinked, Node: by.Claims.Node, District: district, At: 1}
	}
	s := newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	var index uint64
	for _, c := range []struct {
		what string
		by   *identity.Credentials
		l    *ledger.Link
		ok   bool
	}{
		{"HQ, of any district", d.hq, link(d.hq, ""), true},
		{"a relay, of its district", relay, link(relay, "Cayo"), true},
		{"a relay, of another district", relay, link(relay, "Toledo"), false},
		{"a relay, of records of two districts", relay, link(relay, ""), false},
		{"a field laptop, of its district", laptop, link(laptop, "Cayo"), false},
		{"a relay, in HQ's name", relay, link(d.hq, "Cayo"), false},
	} {
		index++
		err := fsm.Apply(signed(t, index, c.by, ledger.CmdLink, c.l)).Err
		if c.ok && err != nil {
			t.Errorf("%s: refused: %v", c.what, err)
		}
		if !c.ok && !errors.Is(err, ledger.ErrNotLinker) {
			t.Errorf("%s: %v, want a refusal wrapping ErrNotLinker", c.what, err)
		}
	}
	links, err := s.Links(context.Background())
	if err != nil || len(links) != 2 {
		t.Fatalf("the ledger holds %d links (%v), want the 2 allowed", len(links), err)
	}

	r := syncproto.NewRecordID()
	lo, hi := ledger.PairOf(syncproto.NewRecordID(), syncproto.NewRecordID())
	for _, c := range []struct {
		what string
		l    ledger.Link
		err  string
	}{
		{"a record with itself", ledger.Link{A: r, B: r, Decision: "linked", Node: d.hq.Claims.Node}, "linked with itself"},
		{"out of order", ledger.Link{A: hi, B: lo, Decision: "linked", Node: d.hq.Claims.Node}, "out of order"},
		{"an unknown decision", ledger.Link{A: lo, B: hi, Decision: "maybe", Node: d.hq.Claims.Node}, "none of linked, different, unlinked"},
		{"no deciding node", ledger.Link{A: lo, B: hi, Decision: "linked"}, "no deciding node"},
	} {
		b, err := ledger.Sign(ledger.CmdLink, &c.l, d.hq.Cert.NotBefore.Add(1), d.hq.Cert.Raw, d.hq.Key.Signer())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ledger.Decode(b); !errors.Is(err, ledger.ErrLink) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.what, err, c.err)
		}
	}
	bare, err := ledger.Encode(ledger.CmdLink, link(d.hq, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledger.Decode(bare); err == nil || !strings.Contains(err.Error(), "did not sign") {
		t.Fatalf("an unsigned link decodes: %v", err)
	}
}

// A pair's state is the last decision applied, whatever the decisions'
// own times say (clocks of two reviewers differ): for any sequence of
// decisions on a few pairs, each pair ends with the last one in the log's
// order, and a snapshot restored into a fresh store holds the same.
func TestLinkLastAppliedWins(t *testing.T) {
	d := newDeployment(t)
	// One store for every run (a store is slow to make): each run decides
	// on pairs of its own, after the entries of the runs before.
	s, fresh := newStore(t), newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	var index uint64
	rapid.Check(t, func(rt *rapid.T) {
		var pairs [3][2]syncproto.RecordID
		for i := range pairs {
			pairs[i][0], pairs[i][1] = ledger.PairOf(syncproto.NewRecordID(), syncproto.NewRecordID())
		}
		n := rapid.IntRange(1, 12).Draw(rt, "decisions")
		want := map[[2]syncproto.RecordID]string{}
		for range n {
			p := pairs[rapid.IntRange(0, len(pairs)-1).Draw(rt, "pair")]
			dec := rapid.SampledFrom(ledger.LinkDecisions).Draw(rt, "decision")
			at := rapid.Int64Range(1, 1000).Draw(rt, "at") // unordered clocks
			l := &ledger.Link{A: p[0], B: p[1], Decision: dec, Node: d.hq.Claims.Node, At: at}
			index++
			if err := fsm.Apply(signed(t, index, d.hq, ledger.CmdLink, l)).Err; err != nil {
				rt.Fatal(err)
			}
			want[p] = dec
		}
		if err := fresh.LedgerRestore(context.Background(), bytes.NewReader(snapshotBytes(t, s)), d.ca.Cert); err != nil {
			rt.Fatal(err)
		}
		for _, st := range []*store.SQLite{s, fresh} {
			for _, p := range pairs {
				l, ok, err := st.LinkOf(context.Background(), p[1], p[0]) // either order
				if err != nil || ok != (want[p] != "") || ok && l.Decision != want[p] {
					rt.Fatalf("pair %s %s: %+v %v %v, want %q", p[0], p[1], l, ok, err, want[p])
				}
			}
		}
	})
	all, err := fresh.Links(context.Background())
	if err != nil || len(all) == 0 || !slices.IsSortedFunc(all, func(x, y ledger.Link) int { return bytes.Compare(x.A[:], y.A[:]) }) {
		t.Fatalf("the restored store lists %d links (%v), not in order", len(all), err)
	}
}

func ExamplePairOf() {
	a := syncproto.RecordID{2}
	b := syncproto.RecordID{1}
	lo, hi := ledger.PairOf(a, b)
	fmt.Println(lo[0], hi[0])
	// Output: 1 2
}

// A link entry from a peer is untrusted bytes: whatever they are, Decode
// does not panic, and a link it returns is one every member may apply:
// two records in order, a known decision, a deciding node.
func FuzzLinkDecode(f *testing.F) {
	lo, hi := ledger.PairOf(syncproto.RecordID{1}, syncproto.RecordID{2})
	for _, d := range ledger.LinkDecisions {
		b, err := syncproto.Marshal(&ledger.Link{A: lo, B: hi, Decision: d, Node: syncproto.NodeID{3}, District: "Cayo", At: 1})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, _, err := ledger.Decode(append([]byte{byte(ledger.CmdLink)}, body...)); err == nil {
			t.Fatal("an unsigned link decoded")
		}
		// In an envelope (its signature is checked when applied, not
		// here), the body reaches the link's own checks.
		entry, err := ledger.Encode(ledger.CmdSigned, &ledger.Signed{Type: ledger.CmdLink, Body: body, At: 1, Cert: []byte{1}, Sig: make([]byte, 64)})
		if err != nil {
			return
		}
		_, cmd, err := ledger.Decode(entry)
		if err != nil {
			return
		}
		l, ok := cmd.(*ledger.Decision).Cmd.(*ledger.Link)
		if !ok {
			t.Fatalf("a link decoded as %T", cmd.(*ledger.Decision).Cmd)
		}
		if bytes.Compare(l.A[:], l.B[:]) >= 0 || ledger.CheckLinkDecision(l.Decision) != nil || l.Node.IsZero() {
			t.Fatalf("a link decoded that no member may apply: %+v", l)
		}
	})
}

// A relay whose certificate ended, and that headquarters never revoked,
// signs links stamped back to when the certificate was valid. Every
// member judges the certificate by when the entry reached the ledger, as
// the entry says (the time its leader appended it), not by the stamp the
// signer chose nor by the member's own clock: the link appended after the
// certificate ended is refused, the one appended before it is applied,
// and two members applying the same entries hold the same links.
func TestALinkOfACertificateThatEndedIsRefusedWhateverItsStamp(t *testing.T) {
	d := newDeployment(t)
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	req, err := key.Request(identity.Claims{Node: key.ID(), Name: "relay-cayo", Role: syncproto.RoleRelay, District: "Cayo"})
	if err != nil {
		t.Fatal(err)
	}
	start := d.ca.Cert.NotBefore.Add(time.Minute)
	end := start.Add(time.Hour)
	bundle, err := d.ca.SignAt(req, start, end)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(bundle)
	link := func(appended time.Time) ledger.Entry {
		a, b := ledger.PairOf(syncproto.NewRecordID(), syncproto.NewRecordID())
		stamp := start.Add(30 * time.Minute) // within the certificate's validity
		e, err := ledger.Sign(ledger.CmdLink, &ledger.Link{A: a, B: b, Decision: ledger.LinkLinked, Node: key.ID(), District: "Cayo", At: stamp.UnixMilli()},
			stamp, block.Bytes, key.Signer())
		if err != nil {
			t.Fatal(err)
		}
		return ledger.Entry{Term: 1, At: appended, Data: e}
	}
	entries := []ledger.Entry{link(end.Add(-time.Minute)), link(end.Add(time.Second)), link(end.Add(24 * time.Hour))}
	for _, s := range []*store.SQLite{newStore(t), newStore(t)} {
		fsm := ledger.NewFSM(s, d.ca.Cert, nil)
		for i, e := range entries {
			e.Index = uint64(i + 1)
			err := fsm.Apply(e).Err
			if i == 0 && err != nil {
				t.Fatalf("a link appended while its certificate was valid: %v", err)
			}
			if i > 0 && (!errors.Is(err, ledger.ErrNotHQ) || !strings.Contains(err.Error(), "ended")) {
				t.Fatalf("a link appended at %s, after its certificate ended at %s: %v; want it refused", e.At, end, err)
			}
		}
		if links, err := s.Links(context.Background()); err != nil || len(links) != 1 {
			t.Fatalf("the ledger holds %d links (%v), want the 1 appended in time", len(links), err)
		}
	}
}
