package syncproto

import (
	"errors"
	"fmt"
)

// The sync protocol. Two nodes joined by a stream (mutual TLS, or a file
// for a bundle) exchange frames, each one message:
//
//	both:  Hello                        who I am, what I hold (version vector),
//	                                    the revocations HQ signed that I know
//	both:  Receipts                     HQ's receipts of what the ledger committed, that you hold
//	both:  Certs                        the certificates of the origins I will send
//	both:  Batch, Batch, ...            what you lack, stream by stream, lane 1 first
//	both:  Ack for each Batch received  once it is stored
//	both:  Done                         I have sent all and you acknowledged it
//	both:  PhotoWants, PhotoChunk, ..., PhotoDone, PhotoKept
//	                                    from version 6, the photos each lacks (photos.go)
//
// Either side may end the session with Error at any point. A session ends
// cleanly when each side has sent and received Done (from version 6,
// PhotoKept). Each batch is stored
// atomically, so a session cut at any byte loses at most the batches in
// flight, and the next session starts from the vectors.

// ProtocolName opens every Hello, so that a Lifeline node knows it is
// talking to another one and not to some other service on the port.
const ProtocolName = "lifeline-sync"

// Protocol versions this build speaks. Version history:
//
//	1: the first.
//	2: Receipts, signed by headquarters; a hello's Ledger is the receipts
//	   its sender holds, no longer a claim believed as it comes.
//	3: a hello's Held says what its sender holds aside, so that the peer
//	   stops offering it; a receiver enforces the window (Window,
//	   WindowBytes), refuses an acknowledgement of a batch it is not
//	   awaiting, and a second certs, receipts or done; a run carries at
//	   most MaxRunBytes; a vector at most MaxVectorEntries streams. A
//	   version 2 node cannot decode a hello with Held, so this build no
//	   longer speaks version 2.
//	4: a hello's Revocations carry the revocations headquarters signed
//	   that its sender knows, so that a node learns them from any peer.
//	   A version 3 node refuses a hello with a key it does not know, so
//	   this build no longer speaks version 3.
//	5: a hello's Grants carry the grants of data keys headquarters signed
//	   that its sender keeps, so that a node gets the keys of its
//	   district's personal fields from any peer; its Published, the kits
//	   headquarters published, so that they reach every laptop. A version 4 node refuses
//	   a hello with a key it does not know, so this build no longer
//	   speaks version 4.
//	6: after Done, photos: PhotoWants, PhotoChunk, PhotoDone, PhotoKept
//	   (photos.go).
//	   A session with a version 5 node negotiates 5 and carries records
//	   alone, as before; its photos travel on sticks, or once it is
//	   updated.
//	7: a PhotoWants's Confirm and a PhotoKept's Certs and Held carry
//	   headquarters' signed word that it holds full images, which relays
//	   pass on (photos.go). A version 6 node refuses a message with a key
//	   it does not know: with one, a session negotiates 6 and they are
//	   left out.
const (
	MinVersion = 5
	MaxVersion = 7
)

// MsgType numbers messages on the wire. ONLY APPEND TO THIS LIST: a number,
// once released, means the same message forever.
type MsgType uint8

const (
	MsgHello    MsgType = 1
	MsgCerts    MsgType = 2
	MsgBatch    MsgType = 3
	MsgAck      MsgType = 4
	MsgDone     MsgType = 5
	MsgError    MsgType = 6
	MsgSeal     MsgType = 7 // last frame of a bundle file
	MsgReceipts MsgType = 8
	// Photos, from version 6 (photos.go).
	MsgPhotoWants MsgType = 9
	MsgPhotoChunk MsgType = 10
	MsgPhotoDone  MsgType = 11
	MsgPhotoKept  MsgType = 12
)

func (t MsgType) String() string {
	switch t {
	case MsgHello:
		return "hello"
	case MsgCerts:
		return "certs"
	case MsgBatch:
		return "batch"
	case MsgAck:
		return "ack"
	case MsgDone:
		return "done"
	case MsgError:
		return "error"
	case MsgSeal:
		return "seal"
	case MsgReceipts:
		return "receipts"
	case MsgPhotoWants:
		return "photo wants"
	case MsgPhotoChunk:
		return "photo chunk"
	case MsgPhotoDone:
		return "photo done"
	case MsgPhotoKept:
		return "photo kept"
	}
	return fmt.Sprintf("message type %d", uint8(t))
}

// Bounds on what a peer may send.
const (
	// MaxFrame bounds one frame: a message type byte and its CBOR.
	MaxFrame = 8 << 20
	// MaxBatchBytes bounds a batch's payload once decompressed.
	MaxBatchBytes = 32 << 20
	// MaxBatchChanges bounds the changes of one batch.
	MaxBatchChanges = 8192
	// MaxRunBytes bounds the changes of one run, their bodies' bytes added
	// up. A run is vouched for by one signature, at its end, so a node can
	// pass on only whole runs: every run it accepts must fit one batch, and
	// that batch one frame, however badly the changes compress.
	MaxRunBytes = 4 << 20
	// Window is how many batches a sender may have unacknowledged; a
	// receiver refuses one more. WindowBytes bounds their payloads, once
	// decompressed (their Size), added up: what a receiver holds for a
	// session before it has stored and acknowledged it.
	Window      = 4
	WindowBytes = MaxBatchBytes
	// MaxCerts bounds the certificates of one Certs message.
	MaxCerts = 4096
	// MaxCertBytes bounds one certificate.
	MaxCertBytes = 16 << 10
	// MaxMessageLen bounds an error's message and other texts.
	MaxMessageLen = 1024
)

// Hello is the first message of each side. CBOR keys are append-only.
type Hello struct {
	Protocol   string `cbor:"1,keyasint"`
	MinVersion uint16 `cbor:"2,keyasint"`
	MaxVersion uint16 `cbor:"3,keyasint"`
	Node       NodeID `cbor:"4,keyasint"`
	Name       string `cbor:"5,keyasint,omitempty"`
	Role       Role   `cbor:"6,keyasint,omitempty"`
	District   string `cbor:"7,keyasint,omitempty"`
	// Kits is a digest of the kits the sender knows, so that a peer can
	// tell whether they read records alike.
	Kits []byte `cbor:"8,keyasint,omitempty"`
	// Vector is everything the sender holds.
	Vector Vector `cbor:"9,keyasint"`
	// Time is the sender's clock, in Unix milliseconds, so that a receiver
	// can warn of a clock far off before it holds the sender's changes.
	Time int64 `cbor:"10,keyasint,omitempty"`
	// Ledger is, per stream, the highest sequence the sender holds a
	// receipt of: the peer sends the receipts beyond it.
	Ledger Vector `cbor:"11,keyasint,omitempty"`
	// Held is, per stream whose next change the sender holds aside
	// (stamped too far ahead of its clock to merge yet), the last change
	// it holds aside in sequence from there. The peer does not offer
	// those changes again, only what follows them.
	Held Vector `cbor:"12,keyasint,omitempty"`
	// Revocations are the revocations headquarters signed that the sender
	// knows, each the signed notice as headquarters made it: the receiver
	// checks each one itself (a peer relays them, it does not vouch for
	// them) and applies those that check before it stores anything the
	// session brings.
	Revocations Notices `cbor:"13,keyasint,omitempty"`
	// Grants are the grants of data keys headquarters signed that the
	// sender keeps, one per district, each the signed notice as
	// headquarters made it: the receiver checks each one itself, keeps
	// the newer ones and opens those made for it.
	Grants GrantNotices `cbor:"14,keyasint,omitempty"`
	// Published are the kits headquarters published that the sender
	// keeps, each the signed decision as headquarters made it: the
	// receiver checks each one and takes the newer ones before any record
	// the session brings, which may need them.
	Published KitNotices `cbor:"15,keyasint,omitempty"`
}

// Check verifies a Hello's shape.
func (h *Hello) Check() error {
	switch {
	case h.Protocol != ProtocolName:
		return &ProtocolError{Code: CodeNotLifeline, Msg: fmt.Sprintf("the peer speaks %.40q, not %s", h.Protocol, ProtocolName)}
	case h.Node.IsZero():
		return fmt.Errorf("%w: hello without a node id", ErrMalformed)
	case len(h.Name) > MaxNameLen || len(h.Role) > MaxNameLen || len(h.District) > MaxNameLen || len(h.Kits) > 64:
		return fmt.Errorf("%w: hello with an oversized field", ErrMalformed)
	case h.MinVersion > h.MaxVersion:
		return fmt.Errorf("%w: hello offers versions %d to %d", ErrMalformed, h.MinVersion, h.MaxVersion)
	}
	return nil
}

// NewHello starts a Hello offering this build's versions.
func NewHello(node NodeID, v Vector) Hello {
	return Hello{Protocol: ProtocolName, MinVersion: MinVersion, MaxVersion: MaxVersion, Node: node, Vector: v}
}

// Negotiate picks the version both sides speak: the highest in common.
func Negotiate(local, remote Hello) (uint16, error) {
	if err := remote.Check(); err != nil {
		return 0, err
	}
	switch {
	case remote.MaxVersion < local.MinVersion:
		return 0, &ProtocolError{Code: CodeTooOld, Msg: fmt.Sprintf("the peer speaks versions %d to %d; this node needs at least %d: update the peer", remote.MinVersion, remote.MaxVersion, local.MinVersion)}
	case remote.MinVersion > local.MaxVersion:
		return 0, &ProtocolError{Code: CodeUnknownVersion, Msg: fmt.Sprintf("the peer speaks versions %d to %d; this node knows up to %d: update this node", remote.MinVersion, remote.MaxVersion, local.MaxVersion)}
	}
	return min(local.MaxVersion, remote.MaxVersion), nil
}

// Certs carries DER certificates of origins whose changes follow, so that
// the receiver can check their signatures.
type Certs struct {
	Certs [][]byte `cbor:"1,keyasint"`
}

// Check bounds a Certs message.
func (c *Certs) Check() error {
	if len(c.Certs) > MaxCerts {
		return fmt.Errorf("%w: %d certificates, the limit is %d", ErrTooLarge, len(c.Certs), MaxCerts)
	}
	for _, der := range c.Certs {
		if len(der) == 0 || len(der) > MaxCertBytes {
			return fmt.Errorf("%w: a certificate of %d bytes", ErrMalformed, len(der))
		}
	}
	return nil
}

// Codecs for a batch's payload.
const (
	CodecNone uint8 = 0
	CodecZstd uint8 = 1
)

// Batch carries runs of changes, compressed. Seq numbers the batches of one
// session from 1, so that acknowledgements name them.
type Batch struct {
	Seq     uint64 `cbor:"1,keyasint"`
	Codec   uint8  `cbor:"2,keyasint"`
	Size    uint32 `cbor:"3,keyasint"` // payload size once decompressed
	Payload []byte `cbor:"4,keyasint"`
}

// Run is consecutive changes of one stream, with the origin's signature over
// the stream's chain head at the last of them: one signature for the run.
type Run struct {
	Stream Stream   `cbor:"1,keyasint"`
	First  uint64   `cbor:"2,keyasint"` // sequence of Bodies[0]
	Bodies [][]byte `cbor:"3,keyasint"` // each a change's canonical bytes
	Sig    []byte   `cbor:"4,keyasint"`
}

// Check verifies a run's shape (the changes themselves are decoded and
// checked one by one).
func (r *Run) Check() error {
	switch {
	case r.Stream.Origin.IsZero() || !ValidLane(r.Stream.Lane):
		return fmt.Errorf("%w: run of stream %s", ErrMalformed, r.Stream)
	case r.First == 0:
		return fmt.Errorf("%w: run of %s starts at sequence 0", ErrMalformed, r.Stream)
	case len(r.Bodies) == 0:
		return fmt.Errorf("%w: empty run of %s", ErrMalformed, r.Stream)
	case len(r.Sig) != 64:
		return fmt.Errorf("%w: run of %s has a signature of %d bytes, not 64", ErrMalformed, r.Stream, len(r.Sig))
	}
	return nil
}

// Last is the sequence of the run's last change.
func (r *Run) Last() uint64 { return r.First + uint64(len(r.Bodies)) - 1 }

// Bytes is the size of the run's changes, added up.
func (r *Run) Bytes() int {
	n := 0
	for _, b := range r.Bodies {
		n += len(b)
	}
	return n
}

// Ack acknowledges a batch once it is stored: how many of its changes were
// new, already here, or held for being stamped ahead of the receiver's clock.
type Ack struct {
	Seq        uint64 `cbor:"1,keyasint"`
	Applied    uint32 `cbor:"2,keyasint"`
	Duplicates uint32 `cbor:"3,keyasint,omitempty"`
	Held       uint32 `cbor:"4,keyasint,omitempty"`
}

// Done says the sender has sent everything the receiver lacked and had it
// acknowledged. Vector is what the sender holds now.
type Done struct {
	Vector Vector `cbor:"1,keyasint"`
}

// ErrorCode classifies why a session ended. ONLY APPEND TO THIS LIST.
type ErrorCode uint16

const (
	CodeInternal       ErrorCode = 1 // the sender failed; try again later
	CodeNotLifeline    ErrorCode = 2 // the peer is not a Lifeline node
	CodeTooOld         ErrorCode = 3 // the peer's protocol is older than this node accepts
	CodeUnknownVersion ErrorCode = 4 // the peer's protocol is newer than this node knows
	CodeMalformed      ErrorCode = 5 // a frame or message did not decode
	CodeNotEnrolled    ErrorCode = 6 // an origin or the peer has no valid certificate
	CodeRevoked        ErrorCode = 7 // an origin or the peer is revoked
	CodeBadChain       ErrorCode = 8 // a change breaks its chain or its signature
	CodeGap            ErrorCode = 9 // a change came before the ones before it
	CodeTimeout        ErrorCode = 10
	CodeUnexpected     ErrorCode = 11 // a message out of order
	CodeShutdown       ErrorCode = 12 // the sender is stopping
	CodeBudget         ErrorCode = 13 // the session used up its time or frames; the next one goes on
	CodeScope          ErrorCode = 14 // a batch brought a stream of a scope the receiver does not keep
	CodePhoto          ErrorCode = 15 // a photo chunk not asked for, out of place, or not matching its hash
	CodeRefused        ErrorCode = 16 // the ledger refused a forwarded entry; sending it again is refused again
	CodeApplied        ErrorCode = 17 // the ledger applied the forwarded decision already: it is done
)

var codeNames = map[ErrorCode]string{
	CodeInternal: "internal", CodeNotLifeline: "not-lifeline", CodeTooOld: "too-old",
	CodeUnknownVersion: "unknown-version", CodeMalformed: "malformed", CodeNotEnrolled: "not-enrolled",
	CodeRevoked: "revoked", CodeBadChain: "bad-chain", CodeGap: "gap", CodeTimeout: "timeout",
	CodeUnexpected: "unexpected", CodeShutdown: "shutdown", CodeBudget: "budget",
	CodeScope: "scope", CodePhoto: "photo", CodeRefused: "refused",
	CodeApplied: "applied",
}

func (c ErrorCode) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code %d", uint16(c))
}

// Error ends a session, saying why.
type Error struct {
	Code    ErrorCode `cbor:"1,keyasint"`
	Message string    `cbor:"2,keyasint,omitempty"`
}

// ProtocolError is a session-ending error, sent or received.
type ProtocolError struct {
	Code   ErrorCode
	Msg    string
	Remote bool  // the peer sent it
	Err    error // the local cause, if any
}

func (e *ProtocolError) Unwrap() error { return e.Err }

func (e *ProtocolError) Error() string {
	who := "sync"
	if e.Remote {
		who = "the peer"
	}
	return fmt.Sprintf("%s: %s: %s", who, e.Code, e.Msg)
}

// Is lets errors.Is match on the code alone.
func (e *ProtocolError) Is(target error) bool {
	var t *ProtocolError
	return errors.As(target, &t) && t.Code == e.Code && t.Msg == ""
}

// Seal ends a bundle file: the hash of every byte before it, signed by the
// node that wrote the bundle, so that a cut or altered file is refused
// whole before anything in it is applied.
type Seal struct {
	Hash Hash   `cbor:"1,keyasint"`
	Node NodeID `cbor:"2,keyasint"`
	Sig  []byte `cbor:"3,keyasint"`
}

// SealMessage is what a bundle's writer signs.
func SealMessage(h Hash) []byte {
	return append([]byte("lifeline/bundle/v1"), h[:]...)
}
