package ledger_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A review's bytes in the ledger, built from CBOR's definition (RFC 8949):
// a map (major type 5) of integer keys in order, text (major type 3), byte
// strings of 16 bytes (major type 2) for the ids, an unsigned integer for
// the time. Every member decodes these bytes from old log entries forever:
// a changed key or encoding must fail here.
func TestReviewEncodingGolden(t *testing.T) {
	var rec syncproto.RecordID
	var node syncproto.NodeID
	for i := range rec {
		rec[i] = byte(0x40 + i)
		node[i] = byte(0x10 + i)
	}
	r := &ledger.Review{Record: rec, Decision: "needs-correction", Reason: "wrong village", Node: node, District: "Cayo", At: 1_796_486_520_000}
	text := func(s string) []byte { return append([]byte{0x60 | byte(len(s))}, s...) }
	if len("needs-correction") >= 24 || len("wrong village") >= 24 {
		t.Fatal("the golden texts must be shorter than 24 bytes for their one-byte heads")
	}
	want := slices.Concat(
		[]byte{0xa6},               // map of 6 pairs
		[]byte{0x01, 0x50}, rec[:], // 1: record, bytes(16)
		[]byte{0x02}, text("needs-correction"),
		[]byte{0x03}, text("wrong village"),
		[]byte{0x04, 0x50}, node[:], // 4: reviewer, bytes(16)
		[]byte{0x05}, text("Cayo"),
		binary.BigEndian.AppendUint64([]byte{0x06, 0x1b}, 1_796_486_520_000), // 6: the time, as 8 bytes
	)
	entry, err := ledger.Encode(ledger.CmdReview, r)
	if err != nil {
		t.Fatal(err)
	}
	if entry[0] != 8 {
		t.Fatalf("a review's type byte is %d, want 8", entry[0])
	}
	if !bytes.Equal(entry[1:], want) {
		t.Fatalf("a review encodes as\n %x\nwant\n %x", entry[1:], want)
	}
	var back ledger.Review
	if err := syncproto.Unmarshal(want, &back); err != nil || back != *r {
		t.Fatalf("the golden bytes decode as %+v, %v", back, err)
	}
	// An approval carries no reason: key 3 is left out.
	r.Decision, r.Reason = "approved", ""
	b, err := syncproto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0xa5 || bytes.Contains(b, []byte{0x03, 0x60}) {
		t.Fatalf("an approval encodes as %x, want a map of 5 pairs, no reason", b)
	}
}

func TestCheckReview(t *testing.T) {
	for _, c := range []struct {
		decision, reason, err string
	}{
		{"approved", "", ""},
		{"needs-correction", "wrong village", ""},
		{"rejected", "a duplicate of CYO-2026-000012", ""},
		{"needs-correction", strings.Repeat("é", 500), ""},
		{"needs-correction", strings.Repeat("é", 501), "a reason of 501 characters; at most 500"},
		{"needs-correction", "  ", "needs a reason"},
		{"rejected", "", "needs a reason"},
		{"maybe", "", "none of approved, needs-correction, rejected"},
		{"rejected", "two\nlines", "control character"},
		{"rejected", "bad \xff utf-8", "not UTF-8"},
	} {
		err := ledger.CheckReview(c.decision, c.reason)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ledger.ErrReview)) {
			t.Errorf("CheckReview(%q, %.20q) = %v, want %q", c.decision, c.reason, err, c.err)
		}
	}
}

// A review applies when HQ, or a relay of the district it names, signed it
// in its own name; a field laptop, a relay of another district, or a
// signer naming another reviewer is refused by every member.
func TestReviewsNeedAReviewer(t *testing.T) {
	d := newDeployment(t)
	relay := nodetest.Credentials(t, d.ca, "relay-cayo", syncproto.RoleRelay) // of Cayo
	laptop := nodetest.Credentials(t, d.ca, "cayo-07", syncproto.RoleField)
	review := func(by *identity.Credentials, district string) *ledger.Review {
		return &ledger.Review{Record: syncproto.NewRecordID(), Decision: "needs-correction", Reason: "wrong village", Node: by.Claims.Node, District: district, At: 1}
	}
	s := newStore(t)
	fsm := ledger.NewFSM(s, d.ca.Cert, nil)
	var index uint64
	apply := func(by *identity.Credentials, r *ledger.Review) error {
		index++
		return fsm.Apply(signed(t, index, by, ledger.CmdReview, r)).Err
	}
	for _, c := range []struct {
		what string
		by   *identity.Credentials
		r    *ledger.Review
		ok   bool
	}{
		{"HQ, of any district", d.hq, review(d.hq, "Toledo"), true},
		{"a relay, of its district", relay, review(relay, "Cayo"), true},
		{"a relay, of another district", relay, review(relay, "Toledo"), false},
		{"a relay, of a record of no district", relay, review(relay, ""), false},
		{"a field laptop, of its district", laptop, review(laptop, "Cayo"), false},
		{"a relay, in HQ's name", relay, review(d.hq, "Cayo"), false},
	} {
		err := apply(c.by, c.r)
		if c.ok && err != nil {
			t.Errorf("%s: refused: %v", c.what, err)
		}
		if !c.ok && !errors.Is(err, ledger.ErrNotReviewer) {
			t.Errorf("%s: %v, want a refusal wrapping ErrNotReviewer", c.what, err)
		}
	}
	// Unsigned, a review is refused whoever proposes it.
	bare, err := ledger.Encode(ledger.CmdReview, review(d.hq, "Cayo"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledger.Decode(bare); err == nil || !strings.Contains(err.Error(), "did not sign") {
		t.Fatalf("an unsigned review decodes: %v", err)
	}
}
