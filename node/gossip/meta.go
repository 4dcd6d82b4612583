package gossip

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"

	"github.com/fxamacker/cbor/v2"
	"github.com/hashicorp/memberlist"

	"lifeline/syncproto"
)

// MetaVersion is the version of Meta this build writes and the newest it
// reads. Fields are only ever appended, and a reader ignores fields newer
// than it knows, so adding one does not change the version; the version
// changes only when an old reader would misread new metadata.
const MetaVersion = 1

// MetaMaxSize bounds a member's encoded metadata; memberlist carries at most
// this much per member in every alive message.
const MetaMaxSize = memberlist.MetaMaxSize

// Raft membership a member has in the ledger's cluster.
const (
	RaftNone     = 0 // not part of the ledger's cluster
	RaftNonvoter = 1 // holds a copy of the ledger, does not vote
	RaftVoter    = 2 // votes
)

// Bounds on what a member may say about itself.
const (
	// MaxNameLen bounds a member's name and district, as in its certificate.
	MaxNameLen = 64
	// MaxDigestLen bounds Meta.Vector; VectorDigest gives 8 bytes, the bound
	// leaves room for a longer digest in a later build.
	MaxDigestLen = 32
)

var (
	// ErrMeta is wrapped by every error about metadata that does not
	// encode or decode.
	ErrMeta = errors.New("gossip metadata")
	// ErrNewerMeta is wrapped (with ErrMeta) when a member's metadata is of
	// a newer version than this build reads: this node must be updated to
	// work with it.
	ErrNewerMeta = errors.New("newer gossip metadata version")
)

// Meta is what a member tells the others about itself: one typed, versioned
// struct, encoded as CBOR with integer keys (append-only), at most
// MetaMaxSize bytes. None of it is proof of anything: the node checks who a
// peer is in the TLS handshake before it syncs.
type Meta struct {
	// Version is MetaVersion; Encode fills it in when it is zero.
	Version uint8 `cbor:"1,keyasint"`
	// Node is the member's node id; it is also its name in memberlist.
	Node syncproto.NodeID `cbor:"2,keyasint"`
	// Name is what people call the node, e.g. cayo-laptop-07.
	Name string `cbor:"3,keyasint"`
	// Role is field, relay or hq.
	Role     syncproto.Role `cbor:"4,keyasint"`
	District string         `cbor:"5,keyasint"`
	// SyncAddr is the host:port of the member's TLS sync (and ledger)
	// service, "" if it serves none (a laptop that only dials out).
	SyncAddr string `cbor:"6,keyasint,omitempty"`
	// Ledger is the member's ledger height.
	Ledger uint64 `cbor:"7,keyasint,omitempty"`
	// Raft is RaftNone, RaftNonvoter or RaftVoter.
	Raft uint8 `cbor:"8,keyasint,omitempty"`
	// MinProto and MaxProto are the sync protocol versions the member
	// speaks (syncproto.MinVersion, syncproto.MaxVersion).
	MinProto uint16 `cbor:"9,keyasint"`
	MaxProto uint16 `cbor:"10,keyasint"`
	// Vector is VectorDigest of the member's version vector: equal digests,
	// nothing to sync.
	Vector []byte `cbor:"11,keyasint,omitempty"`
	// Leaving: the member is leaving (Gossip.Leave): do not start a sync
	// with it. Gossip sets it; Config.Meta's value is ignored. It travels in
	// the metadata, not in a message of its own, because memberlist sends
	// and handles metadata updates ahead of its leave message: the others
	// know it is leaving when they hear it is gone, and report it left
	// rather than dead.
	Leaving bool `cbor:"12,keyasint,omitempty"`
}

// Encode gives the metadata as memberlist carries it. It refuses metadata
// that DecodeMeta would refuse, and anything over MetaMaxSize, so that a
// member never spreads what others ignore.
func (m Meta) Encode() ([]byte, error) {
	if m.Version == 0 {
		m.Version = MetaVersion
	}
	if m.Version != MetaVersion {
		return nil, fmt.Errorf("%w: version %d: this build writes version %d (leave Version zero)", ErrMeta, m.Version, MetaVersion)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	b, err := syncproto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w of %s: encode: %v", ErrMeta, m.Node, err)
	}
	if len(b) > MetaMaxSize {
		return nil, fmt.Errorf("%w of %s: %d bytes, over memberlist's limit of %d: shorten the name, district or sync address",
			ErrMeta, m.Node, len(b), MetaMaxSize)
	}
	return b, nil
}

// metaField decodes one key of the metadata map into its field.
type metaField struct {
	key  uint64
	name string
	ptr  any
}

// DecodeMeta decodes and checks a member's metadata. It is bounded
// (MetaMaxSize, syncproto's decoder limits), refuses metadata of a newer
// version (ErrNewerMeta) and, as consul does with its servers' tags, reads
// the whole struct at this one boundary so that nothing else in the node
// handles raw gossip bytes. Keys this build does not know are fields a newer
// build appended: they are ignored.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) == 0 {
		return m, fmt.Errorf("%w: none (the member runs something other than Lifeline, or a build too old to say what it is)", ErrMeta)
	}
	if len(b) > MetaMaxSize {
		return m, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrMeta, len(b), MetaMaxSize)
	}
	// Decoding key by key, rather than into Meta directly, lets unknown keys
	// through (syncproto's decoder refuses unknown fields of a struct) and
	// lets the version be checked before anything else is believed.
	var raw map[uint64]cbor.RawMessage
	if err := syncproto.Unmarshal(b, &raw); err != nil {
		return m, fmt.Errorf("%w: not a CBOR map with integer keys: %v", ErrMeta, err)
	}
	vraw, ok := raw[1]
	if !ok {
		return m, fmt.Errorf("%w: no version (key 1)", ErrMeta)
	}
	if err := syncproto.Unmarshal(vraw, &m.Version); err != nil {
		return m, fmt.Errorf("%w: version (key 1): %v", ErrMeta, err)
	}
	if m.Version > MetaVersion {
		return m, fmt.Errorf("%w: %w: the member writes version %d, this build reads up to %d: update this node's Lifeline",
			ErrMeta, ErrNewerMeta, m.Version, MetaVersion)
	}
	if m.Version == 0 {
		return m, fmt.Errorf("%w: version 0 (versions start at 1)", ErrMeta)
	}
	var node, vector []byte
	fields := []metaField{
		{2, "node", &node}, {3, "name", &m.Name}, {4, "role", &m.Role}, {5, "district", &m.District},
		{6, "sync address", &m.SyncAddr}, {7, "ledger height", &m.Ledger}, {8, "raft", &m.Raft},
		{9, "min protocol", &m.MinProto}, {10, "max protocol", &m.MaxProto}, {11, "vector digest", &vector},
		{12, "leaving", &m.Leaving},
	}
	for _, f := range fields {
		v, ok := raw[f.key]
		if !ok {
			continue
		}
		if err := syncproto.Unmarshal(v, f.ptr); err != nil {
			return Meta{}, fmt.Errorf("%w: %s (key %d): %v", ErrMeta, f.name, f.key, err)
		}
	}
	// A byte string of the wrong length would be silently cut or padded if
	// decoded into the array directly.
	if len(node) != len(m.Node) {
		return Meta{}, fmt.Errorf("%w: node id (key 2) is %d bytes, not %d", ErrMeta, len(node), len(m.Node))
	}
	copy(m.Node[:], node)
	if len(vector) > 0 {
		m.Vector = vector
	}
	if err := m.check(); err != nil {
		return Meta{}, err
	}
	return m, nil
}

// check says what is wrong with metadata, all of it at once.
func (m Meta) check() error {
	var errs []error
	if m.Node.IsZero() {
		errs = append(errs, errors.New("node id: none given (it is derived from the node's key)"))
	}
	if err := checkText(m.Name, true); err != nil {
		errs = append(errs, fmt.Errorf("name %.80q: %v", m.Name, err))
	}
	if !m.Role.Valid() {
		errs = append(errs, fmt.Errorf("role %.80q: one of %s", m.Role, syncproto.RoleList()))
	}
	if err := checkText(m.District, false); err != nil {
		errs = append(errs, fmt.Errorf("district %.80q: %v", m.District, err))
	}
	if m.SyncAddr != "" {
		if err := checkHostPort(m.SyncAddr); err != nil {
			errs = append(errs, fmt.Errorf("sync address %.80q: %v", m.SyncAddr, err))
		}
	}
	if m.Raft > RaftVoter {
		errs = append(errs, fmt.Errorf("raft %d: one of %d (none), %d (non-voter), %d (voter)", m.Raft, RaftNone, RaftNonvoter, RaftVoter))
	}
	if m.MinProto == 0 || m.MinProto > m.MaxProto {
		errs = append(errs, fmt.Errorf("protocol versions %d to %d: set MinProto and MaxProto to syncproto.MinVersion and MaxVersion", m.MinProto, m.MaxProto))
	}
	if len(m.Vector) > MaxDigestLen {
		errs = append(errs, fmt.Errorf("vector digest: %d bytes, at most %d", len(m.Vector), MaxDigestLen))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w of %s: %w", ErrMeta, m.Node, errors.Join(errs...))
	}
	return nil
}

// checkText bounds a name or district and keeps control characters out of
// the logs and screens it is shown on.
func checkText(s string, required bool) error {
	switch {
	case required && s == "":
		return errors.New("empty")
	case len(s) > MaxNameLen:
		return fmt.Errorf("%d bytes, at most %d", len(s), MaxNameLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return errors.New("holds control characters")
	}
	return nil
}

// checkHostPort checks an address a peer is to dial: a host and a port.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("not host:port")
	}
	if host == "" || strings.IndexFunc(host, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return errors.New("no usable host")
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("port %q is not 1 to 65535", port)
	}
	return nil
}

// VectorDigestLen is the length of VectorDigest's digest.
const VectorDigestLen = 8

// VectorDigest is a short digest of a version vector: the first 8 bytes of
// the SHA-256 of its canonical CBOR. Two members with equal digests hold the
// same changes and need not sync; 8 bytes keep the metadata small, and a
// collision only delays a sync until either side writes again.
func VectorDigest(v syncproto.Vector) []byte {
	b, err := syncproto.Marshal(v)
	if err != nil {
		// A vector is an array of fixed-size entries; encoding one cannot
		// fail.
		panic(fmt.Sprintf("gossip: encode a version vector: %v", err))
	}
	sum := sha256.Sum256(b)
	return sum[:VectorDigestLen:VectorDigestLen]
}
