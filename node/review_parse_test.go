package node

import (
	"strings"
	"testing"

	"lifeline/syncproto"
)

// A review field's value comes from peers: anything that is not a
// review's map, within its bounds, is refused, never a panic.
func FuzzParseReview(f *testing.F) {
	ok, _ := syncproto.Marshal(&reviewValue{Decision: "needs-correction", Reason: "wrong village", Node: syncproto.NodeID{1}, At: 1})
	f.Add(ok)
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa1, 0x01, 0x68, 'a', 'p', 'p', 'r', 'o', 'v', 'e', 'd'})
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := parseReview(raw)
		if err == nil && (len(raw) > maxReviewValue || v.Node.IsZero() || v.At <= 0) {
			t.Fatalf("took %x as %+v", raw, v)
		}
	})
}

func TestParseReview(t *testing.T) {
	enc := func(v any) []byte {
		b, err := syncproto.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type extra struct {
		reviewValue
		More int `cbor:"5,keyasint"`
	}
	for _, c := range []struct {
		what string
		raw  []byte
		err  string
	}{
		{"a correction asked for", enc(&reviewValue{Decision: "needs-correction", Reason: "wrong village", Node: syncproto.NodeID{1}, At: 1}), ""},
		{"no reviewer", enc(&reviewValue{Decision: "approved", At: 1}), "no reviewer"},
		{"no time", enc(&reviewValue{Decision: "approved", Node: syncproto.NodeID{1}}), "no time"},
		{"an unknown decision", enc(&reviewValue{Decision: "maybe", Node: syncproto.NodeID{1}, At: 1}), "none of"},
		{"a reason too long", enc(&reviewValue{Decision: "rejected", Reason: strings.Repeat("x", 501), Node: syncproto.NodeID{1}, At: 1}), "at most 500"},
		{"an unknown key", enc(&extra{reviewValue{Decision: "approved", Node: syncproto.NodeID{1}, At: 1}, 2}), "not a review's CBOR map"},
		{"text", enc("approved"), "not a review's CBOR map"},
		{"too many bytes", enc(&reviewValue{Decision: "rejected", Reason: strings.Repeat("€", 800), Node: syncproto.NodeID{1}, At: 1}), "at most 2200"},
	} {
		_, err := parseReview(c.raw)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v, want %q", c.what, err, c.err)
		}
	}
}
