package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"lifeline/syncproto"
)

// The digest is a homomorphic set hash of the records (LtHash, Bellare and
// Micciancio's additive hash, in the form Facebook published): each record
// maps to an element of 1,024 16-bit lanes, 2,048 bytes of AES-256-CTR
// keystream under the SHA-256 of its digest entry (element, in
// derived.go); the accumulator is the sum
// of the elements, lane by lane mod 2^16; the digest is SHA-256 of the
// accumulator's 2,048 bytes, lanes little-endian. A record that changes
// takes its old element away and adds its new one, so that the digest
// stays current at the cost of one record, and two stores that hold the
// same records hold the same accumulator whatever the order they came in.
// Finding two sets of records with one sum is as hard as a lattice
// problem (short vectors in dimension 1,024) as long as the elements look
// random, which a pseudorandom function keyed by a collision-resistant
// hash gives. Definition 1 expanded the entry with BLAKE2X instead, four
// times the cost; a store computes the accumulators again when it opens.
const (
	ltLanes = 1024
	ltBytes = 2 * ltLanes
	// digestDefinition names the definition above and digestEntry's: a store
	// computes its accumulators again when it opens and finds another.
	digestDefinition = 2
)

// ltHash is an LtHash accumulator, or one record's element.
type ltHash [ltLanes]uint16

func (h *ltHash) add(o *ltHash) {
	for i := range h {
		h[i] += o[i]
	}
}

func (h *ltHash) sub(o *ltHash) {
	for i := range h {
		h[i] -= o[i]
	}
}

// bytes is the accumulator as stored and hashed: lanes little-endian.
func (h *ltHash) bytes() []byte {
	b := make([]byte, ltBytes)
	for i, v := range h {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func ltFrom(b []byte) (*ltHash, error) {
	if len(b) != ltBytes {
		return nil, fmt.Errorf("%w: a digest accumulator of %d bytes, not %d", ErrCorrupt, len(b), ltBytes)
	}
	var h ltHash
	for i := range h {
		h[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return &h, nil
}

// sum is the published digest of an accumulator.
func (h *ltHash) sum() syncproto.Hash { return sha256.Sum256(h.bytes()) }

// digestEntry is what the digest hashes for one record: its id, type,
// tombstone and every field's versions, winner first, with their values.
// appendEntry writes it; this type says what it writes, as
// syncproto.Marshal would.
type digestEntry struct {
	_       struct{} `cbor:",toarray"`
	ID      syncproto.RecordID
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
	Dot   syncproto.Dot
	Value []byte
}

// appendEntry writes a record's digest entry: the canonical CBOR of its
// digestEntry, by hand, since every record written is hashed.
func appendEntry(b []byte, r *Record) []byte {
	b = syncproto.AppendArray(b, 4)
	b = syncproto.AppendBytes(b, r.ID[:])
	b = syncproto.AppendText(b, r.Type)
	if r.Deleted {
		b = append(b, 0xf5)
	} else {
		b = append(b, 0xf4)
	}
	b = syncproto.AppendArray(b, len(r.Fields))
	for _, f := range r.Fields {
		b = syncproto.AppendArray(b, 2)
		b = syncproto.AppendText(b, f.Name)
		b = syncproto.AppendArray(b, len(f.Versions))
		for _, v := range f.Versions {
			b = syncproto.AppendArray(b, 2)
			b = syncproto.AppendDot(b, v.Stamp.Dot())
			b = syncproto.AppendBytes(b, v.Value)
		}
	}
	return b
}

// digestScope is the scope whose accumulator a record's element joins:
// its lane's (syncproto.LaneScope), in decimal, so that a node reads the
// digest of the scopes a peer keeps too.
func digestScope(r *Record) string { return ScopeKey(syncproto.LaneScope(r.Lane)) }

// ScopeKey names a scope's accumulator.
func ScopeKey(scope uint8) string { return strconv.Itoa(int(scope)) }

// Digest is the digest of every record, deleted ones included: equal on
// two nodes exactly when both show the same records. It reads the
// accumulators, not the records.
func (s *SQLite) Digest(ctx context.Context) (syncproto.Hash, error) {
	return s.digestWhere(ctx, "", nil)
}

// DigestOf is the digest of the records of the given scopes only: the sum
// of their accumulators, hashed as Digest hashes all of them. Scopes that
// hold no record add nothing.
func (s *SQLite) DigestOf(ctx context.Context, scopes []string) (syncproto.Hash, error) {
	if len(scopes) == 0 {
		return (&ltHash{}).sum(), nil
	}
	args := make([]any, len(scopes))
	for i, sc := range scopes {
		args[i] = sc
	}
	return s.digestWhere(ctx, " WHERE scope IN (?"+strings.Repeat(", ?", len(scopes)-1)+")", args)
}

func (s *SQLite) digestWhere(ctx context.Context, where string, args []any) (syncproto.Hash, error) {
	var acc ltHash
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		// Opening the store computed the accumulators; a newer Lifeline
		// that changed their definition refuses to be opened by this one.
		var version int
		if err := tx.QueryRowContext(ctx, `SELECT version FROM derived WHERE name = 'digest'`).Scan(&version); err != nil {
			return err
		}
		if version != digestDefinition {
			return fmt.Errorf("store %s: the digest was computed by definition %d, this Lifeline's is %d: open the store again to compute it", s.path, version, digestDefinition)
		}
		sums, err := queryAll(ctx, tx, func(r scanner) ([]byte, error) {
			var b []byte
			return b, r.Scan(&b)
		}, `SELECT sum FROM digests`+where, args...)
		if err != nil {
			return err
		}
		for _, b := range sums {
			h, err := ltFrom(b)
			if err != nil {
				return err
			}
			acc.add(h)
		}
		return nil
	})
	if err != nil {
		return syncproto.Hash{}, err
	}
	return acc.sum(), nil
}
