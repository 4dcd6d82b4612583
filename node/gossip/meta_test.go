package gossip

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"lifeline/syncproto"
)

func TestMetaRoundTrip(t *testing.T) {
	full := testMeta("belize-city-relay")
	full.Role, full.District = "relay", "Belize"
	full.SyncAddr = "[fd00::12]:7400"
	full.Ledger, full.Raft = 1<<40, RaftVoter
	full.Vector = VectorDigest(syncproto.Vector{{Origin: full.Node, Lane: 1}: 17})
	minimal := testMeta("cayo-laptop-07")
	minimal.SyncAddr = ""
	for _, m := range []Meta{full, minimal} {
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeMeta(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, m)
		}
	}

	// Encode fills in the version.
	m := testMeta("x")
	m.Version = 0
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeMeta(b); err != nil || got.Version != MetaVersion {
		t.Errorf("version %d, %v; want %d", got.Version, err, MetaVersion)
	}
	m.Version = 2
	if _, err := m.Encode(); err == nil {
		t.Error("Encode wrote version 2")
	}
}

// A newer build appends fields: this one must read what it knows and ignore
// the rest.
func TestMetaIgnoresAppendedFields(t *testing.T) {
	want := testMeta("orange-walk-relay")
	b, err := want.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[uint64]cbor.RawMessage
	if err := syncproto.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	raw[13] = cbor.RawMessage{0x63, 'n', 'e', 'w'} // "new"
	raw[40] = cbor.RawMessage{0x18, 0x2a}          // 42
	b, err = syncproto.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestMetaOversized(t *testing.T) {
	m := testMeta("x")
	m.SyncAddr = strings.Repeat("a", 600) + ":7400"
	_, err := m.Encode()
	if err == nil || !errors.Is(err, ErrMeta) || !strings.Contains(err.Error(), "over memberlist's limit of 512") {
		t.Errorf("Encode of a %d-byte sync address: %v", len(m.SyncAddr), err)
	}
	// What no encoder should write is refused before it is parsed.
	if _, err := DecodeMeta(make([]byte, MetaMaxSize+1)); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("DecodeMeta of %d bytes: %v", MetaMaxSize+1, err)
	}
}

func TestDecodeMetaRefuses(t *testing.T) {
	// with encodes testMeta changed by f, skipping Encode's checks.
	with := func(f func(map[uint64]any)) []byte {
		m := testMeta("cayo-laptop-07")
		fields := map[uint64]any{1: m.Version, 2: m.Node[:], 3: m.Name, 4: m.Role, 5: m.District, 6: m.SyncAddr, 9: m.MinProto, 10: m.MaxProto}
		f(fields)
		b, err := syncproto.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"empty", "none", nil},
		{"garbage", "not a CBOR map", []byte("not cbor at all")},
		{"array", "not a CBOR map", []byte{0x82, 0x01, 0x02}},
		{"text keys", "not a CBOR map", mustMarshal(t, map[string]any{"version": 1, "role": "field"})},
		{"truncated", "not a CBOR map", with(func(map[uint64]any) {})[:20]},
		{"no version", "no version", with(func(f map[uint64]any) { delete(f, 1) })},
		{"version 0", "version 0", with(func(f map[uint64]any) { f[1] = 0 })},
		{"version 2", "update this node", with(func(f map[uint64]any) { f[1] = 2 })},
		{"version 300", "version (key 1)", with(func(f map[uint64]any) { f[1] = 300 })},
		{"unknown role", `role "medic"`, with(func(f map[uint64]any) { f[4] = "medic" })},
		{"no role", `role ""`, with(func(f map[uint64]any) { delete(f, 4) })},
		{"zero node", "node id: none", with(func(f map[uint64]any) { f[2] = make([]byte, 16) })},
		{"no node", "node id (key 2) is 0 bytes", with(func(f map[uint64]any) { delete(f, 2) })},
		{"short node", "node id (key 2) is 15 bytes", with(func(f map[uint64]any) { f[2] = make([]byte, 15) })},
		{"node as text", "node (key 2)", with(func(f map[uint64]any) { f[2] = "0123456789abcdef" })},
		{"no name", `name ""`, with(func(f map[uint64]any) { delete(f, 3) })},
		{"control in name", "control", with(func(f map[uint64]any) { f[3] = "a\x1b[31mb" })},
		{"bad sync address", "sync address", with(func(f map[uint64]any) { f[6] = "7400" })},
		{"port 0", "sync address", with(func(f map[uint64]any) { f[6] = "10.0.0.1:0" })},
		{"raft 3", "raft 3", with(func(f map[uint64]any) { f[8] = 3 })},
		{"protocols reversed", "protocol versions 2 to 1", with(func(f map[uint64]any) { f[9], f[10] = 2, 1 })},
		{"no protocols", "protocol versions 0 to 0", with(func(f map[uint64]any) { delete(f, 9); delete(f, 10) })},
		{"long digest", "vector digest", with(func(f map[uint64]any) { f[11] = make([]byte, 33) })},
		{"negative ledger", "ledger height", with(func(f map[uint64]any) { f[7] = -1 })},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeMeta(c.b)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrMeta) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want ErrMeta mentioning %q", err, c.want)
			}
		})
	}
	_, err := DecodeMeta(with(func(f map[uint64]any) { f[1] = 2 }))
	if !errors.Is(err, ErrNewerMeta) {
		t.Errorf("version 2: %v, want ErrNewerMeta", err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := syncproto.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectorDigest(t *testing.T) {
	a, b := syncproto.NodeIDFromKey([]byte("a")), syncproto.NodeIDFromKey([]byte("b"))
	v1 := syncproto.Vector{{Origin: a, Lane: 1}: 5, {Origin: b, Lane: 3}: 9}
	v2 := syncproto.Vector{{Origin: b, Lane: 3}: 9, {Origin: a, Lane: 1}: 5}
	v3 := syncproto.Vector{{Origin: b, Lane: 3}: 9, {Origin: a, Lane: 1}: 6}
	d1 := VectorDigest(v1)
	if len(d1) != VectorDigestLen {
		t.Fatalf("digest of %d bytes", len(d1))
	}
	if !bytes.Equal(d1, VectorDigest(v2)) {
		t.Error("equal vectors, different digests")
	}
	if bytes.Equal(d1, VectorDigest(v3)) {
		t.Error("different vectors, equal digests")
	}
	if !bytes.Equal(VectorDigest(nil), VectorDigest(syncproto.Vector{})) {
		t.Error("nil and empty vectors differ")
	}
}

func TestProfileByName(t *testing.T) {
	for name, want := range map[string]Profile{"lan": LAN, " WAN ": WAN, "Satellite": Satellite} {
		got, err := ProfileByName(name)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v", name, got, err)
		}
		if err := got.check(); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	if err := Test.check(); err != nil {
		t.Error(err)
	}
	if _, err := ProfileByName("radio"); err == nil || !strings.Contains(err.Error(), "one of lan, wan, satellite") {
		t.Errorf("radio: %v", err)
	}
	if LAN.ProbeInterval != time.Second || WAN.ProbeInterval != 5*time.Second || Satellite.SuspicionMult <= WAN.SuspicionMult {
		t.Errorf("profiles: LAN %+v WAN %+v Satellite %+v", LAN, WAN, Satellite)
	}
}
