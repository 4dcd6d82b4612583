package store

import (
	"errors"
	"fmt"
	"time"

	"lifeline/syncproto"
)

// Errors a caller can act on.
var (
	// ErrNotFound: no record has the id.
	ErrNotFound = errors.New("no such record")
	// ErrExists: a new record's id is already taken.
	ErrExists = errors.New("record already exists")
	// ErrNotStore: the file is not a Lifeline store (another program's
	// database, or not a database at all).
	ErrNotStore = errors.New("not a Lifeline store")
	// ErrCorrupt: the store is damaged (truncated, overwritten); restore it
	// from a backup or sync it again from a peer.
	ErrCorrupt = errors.New("store is damaged")
	// ErrNewer: the store was written by a newer Lifeline.
	ErrNewer = errors.New("store is from a newer Lifeline")
	// ErrGap: a change came before the changes its origin made earlier.
	ErrGap = errors.New("change out of sequence")
	// ErrChain: a change does not link to its origin's previous change.
	ErrChain = errors.New("change breaks its origin's hash chain")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrUnseen: an edit decides a field whose versions are not those its
	// writer saw: one came, or was replaced, while a person decided.
	ErrUnseen = errors.New("a version came that was not seen")
)

// ChainError is ErrChain of one change: the stream whose changes, as they
// came, do not link to the chain held here, and why.
type ChainError struct {
	Dot syncproto.Dot
	Err error
}

func (e *ChainError) Error() string { return fmt.Sprintf("%v: %s: %v", ErrChain, e.Dot, e.Err) }

func (e *ChainError) Unwrap() []error { return []error{ErrChain, e.Err} }

// Self is this node as its store records it.
type Self struct {
	ID       syncproto.NodeID
	Name     string
	Role     syncproto.Role
	District string
	Created  string
}

// Edit is one local edit of one record, before it becomes a change.
type Edit struct {
	Record syncproto.RecordID
	// Create makes a new record; Write fails with ErrExists if the id is
	// taken, Import skips it. Otherwise the record must exist.
	Create bool
	// Lane is the sync priority of the record's type: the stream of this
	// node the change joins.
	Lane    uint8
	Kit     string
	Type    string
	Version uint32
	Author  string
	// Fields are the values set, sorted by name, each one CBOR item. Their
	// bases are filled in by the store: the heads this node holds, so that
	// an edit made after seeing a conflict resolves it.
	Fields []syncproto.FieldChange
	// Seen holds, for a field a person decides, the versions they saw it
	// in conflict between: the edit replaces those, and Write refuses it
	// (ErrUnseen) when the field's heads are others by then, so that a
	// version that came while they decided is not replaced unseen.
	Seen map[string][]syncproto.Dot
}

// Written says what a saved edit became.
type Written struct {
	Dot syncproto.Dot
	HLC syncproto.HLC
}

// ImportResult counts what an import did.
type ImportResult struct {
	Added   int // new records
	Skipped int // ids already present, left as they are
}

// Incoming is a change received from another node, with the bytes its origin
// wrote and, where the sender had it, the origin's signature over the chain
// head at this change.
type Incoming struct {
	Change syncproto.Change
	Body   []byte
	Sig    []byte
	// BodySum, when set, is SHA-256(Body), computed by the caller where it
	// has a core to spare; the store then only links the chain.
	BodySum *syncproto.Hash
	// From is the node that brought the change: the sync peer its
	// certificate names, or the bundle's writer. A change held after a
	// gap, which nothing can check until the gap closes, counts in From's
	// share of the held table (MaxHeldPerOrigin), not in its origin's.
	From syncproto.NodeID
}

// ApplyResult counts what an Apply did.
type ApplyResult struct {
	Applied    int // new changes taken: merged, or kept aside (Quarantined counts those)
	Duplicates int // changes already held
	Held       int // changes stamped too far ahead, kept but not merged
	// Quarantined counts changes kept aside: their signature checks, but
	// the write policy or their kit refuses them (see Admission).
	Quarantined int
	// Dropped counts changes neither merged nor held: their origin's share
	// of the held table is full (MaxHeldPerOrigin).
	Dropped int
}

// Version is one value of a field: the value and the change that set it.
type Version struct {
	Value  []byte // CBOR
	Stamp  Stamp
	Author string
	// Ahead is how far its origin stamped it past this node's clock when
	// it merged here, 0 when not past by more than a clock observes.
	Ahead time.Duration
}

// FieldView is one field of a record as people see it: the winning version
// first, then the others it is in conflict with.
type FieldView struct {
	Name     string
	Versions []Version
}

// Record is a record as it stands now.
type Record struct {
	ID   syncproto.RecordID
	Type string
	Kit  string
	Lane uint8 // of the record's first change
	// First is the record's first change (least HLC, then origin and
	// sequence), the one that created it, wherever it was stored first.
	First     syncproto.Dot
	Version   uint32
	Deleted   bool
	Updated   syncproto.HLC
	Conflicts int
	Fields    []FieldView // sorted by name, the tombstone field among them
	// What a list shows beside a record; Records fills them, Record
	// leaves them empty. Case is the case number the ledger gave it, ""
	// when none yet; Own is the latest change this node made of it in
	// each lane, which says how far this node's changes of it got.
	Case string
	Own  []syncproto.Dot
}

// Query selects records.
type Query struct {
	Type string // all types when empty
	// OnlyConflict selects the records with a field in conflict, deleted
	// ones among them.
	OnlyConflict bool
	WithDeleted  bool
	Newest       bool // newest first (by when they were first stored here)
	Limit        int  // at most this many; 0 for all
	// After, when not zero, selects only the records first stored here
	// after that one (before it, with Newest): the next page of a listing
	// that ended at it, read without reading the pages before again.
	After syncproto.RecordID
	// WrittenBy, when not zero, selects only the records a change of that
	// node wrote: those it created, edited or deleted. After a laptop is
	// revoked, they are what to review.
	WrittenBy syncproto.NodeID
}
