package gossip

import (
	"reflect"
	"testing"

	"lifeline/syncproto"
)

// FuzzDecodeMeta feeds DecodeMeta arbitrary bytes, as any holder of the
// gossip key can. It must not panic, and what it accepts must encode again
// (Encode checks what DecodeMeta checks) and decode to the same metadata.
func FuzzDecodeMeta(f *testing.F) {
	full := testMeta("belize-city-relay")
	full.Ledger, full.Raft = 99, RaftNonvoter
	full.Vector = VectorDigest(syncproto.Vector{{Origin: full.Node, Lane: 2}: 3})
	for _, m := range []Meta{testMeta("cayo-laptop-07"), full} {
		b, err := m.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0xa1, 0x01, 0x02}) // {1: 2}
	f.Add([]byte{0xbf, 0xff})       // indefinite-length map
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		again, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded %+v, which does not encode: %v", m, err)
		}
		m2, err := DecodeMeta(again)
		if err != nil {
			t.Fatalf("re-encoded metadata does not decode: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed metadata:\n%+v\n%+v", m, m2)
		}
	})
}
