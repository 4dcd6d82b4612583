package node_test

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"

	"lifeline/node/store"
	"lifeline/syncproto"
)

// The digest's definitions, restated apart from the store's code (see
// docs/sync.md). A record's entry is the CBOR array [id, type, deleted,
// [[field, [[dot, value]...]]...]], fields by name and versions winner
// first.
type digestEntry struct {
	_       struct{} `cbor:",toarray"`
	ID      [16]byte
	Type    string
	Deleted bool
	Fields  []digestField
}

type digestField struct {
	_        struct{} `cbor:",toarray"`
	Name     string
	Versions []digestVersion
}

type digestVersion struct {
	_     struct{} `cbor:",toarray"`
	Dot   []any
	Value []byte
}

func entryOf(t testing.TB, r store.Record) []byte {
	t.Helper()
	e := digestEntry{ID: r.ID, Type: r.Type, Deleted: r.Deleted}
	for _, f := range r.Fields {
		df := digestField{Name: f.Name}
		for _, v := range f.Versions {
			df.Versions = append(df.Versions, digestVersion{Dot: []any{v.Stamp.Origin[:], v.Stamp.Lane, v.Stamp.Seq}, Value: v.Value})
		}
		e.Fields = append(e.Fields, df)
	}
	b, err := syncproto.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// digestToday is the digest since schema version 10: SHA-256 of the sum,
// lane by lane mod 2^16, of each entry's 2,048-byte element read as 1,024
// little-endian 16-bit lanes. An element is the AES-256 encryptions of the
// counter blocks 0 to 127 (16 bytes, big-endian) under the key
// SHA-256("lifeline/digest/element/v2" || entry).
func digestToday(t testing.TB, records []store.Record) syncproto.Hash {
	t.Helper()
	var acc [1024]uint16
	for _, r := range records {
		key := sha256.Sum256(append([]byte("lifeline/digest/element/v2"), entryOf(t, r)...))
		blk, err := aes.NewCipher(key[:])
		if err != nil {
			t.Fatal(err)
		}
		var out [2048]byte
		for n := range 128 {
			var ctr [16]byte
			binary.BigEndian.PutUint64(ctr[8:], uint64(n))
			blk.Encrypt(out[16*n:], ctr[:])
		}
		for i := range acc {
			acc[i] += binary.LittleEndian.Uint16(out[2*i:])
		}
	}
	var b [2048]byte
	for i, v := range acc {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return sha256.Sum256(b[:])
}

// digestBefore10 is the digest the lifeline of schema versions 1 to 9
// printed: SHA-256 of the entries one after another, in id order.
func digestBefore10(t testing.TB, records []store.Record) syncproto.Hash {
	t.Helper()
	records = slices.Clone(records)
	slices.SortFunc(records, func(a, b store.Record) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	h := sha256.New()
	for _, r := range records {
		h.Write(entryOf(t, r))
	}
	var out syncproto.Hash
	h.Sum(out[:0])
	return out
}
