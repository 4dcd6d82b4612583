package syncproto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
)

// Photos travel after records, in protocol version 6 (docs/photos.md). Once
// a side has sent its Done and read the peer's, it holds every record the
// session brings, and it asks for the photos those records name that it
// lacks:
//
//	both:  PhotoWants                    the photos I lack, thumbnails first, from an offset
//	both:  PhotoChunk, PhotoChunk, ...   what you asked for and I may send you, in order
//	both:  PhotoDone                     I have sent all I will of what you asked
//	both:  PhotoKept                     I have kept what you sent (after your PhotoDone),
//	                                     and these full images are now here
//
// A session ends once each side has sent and read PhotoKept: a sender
// knows what came, and a laptop whose full images headquarters says it
// keeps may drop them when room runs out.
//
// From version 7 (ConfirmVersion), headquarters' word travels through
// relays too, signed: a PhotoWants's Confirm lists full images its sender
// holds and has no word of headquarters' on, and the peer's PhotoKept
// answers with the PhotoHeld it has of them, each an HQ node's signature
// over PhotoHeldMessage (headquarters signs them as it answers; a relay
// passes on those it took from headquarters). A relay cannot make one: a
// laptop that believed a forgery would drop the only copy of a photo.
// A chunk is a piece of PhotoChunkBytes of one kind (full image or
// thumbnail) of one photo, at an offset that is a multiple of it: a
// receiver keeps the chunks it got, and asks from the next one in the
// next session. A side sends only what it was asked for, and a receiver
// refuses a chunk it did not ask for, or at another offset than the next
// it needs.

// PhotoVersion is the first protocol version whose sessions carry photos.
const PhotoVersion = 6

// ConfirmVersion is the first protocol version whose sessions carry
// headquarters' signed word that it holds full images (PhotoHeld).
const ConfirmVersion = 7

// Bounds on photos in a session.
const (
	// PhotoChunkBytes is the size of every chunk but a photo's last.
	PhotoChunkBytes = 64 << 10
	// MaxPhotoBytes bounds one kind of one photo (what a photo store
	// keeps of it).
	MaxPhotoBytes = 16 << 20
	// MaxPhotoWants bounds one PhotoWants: what does not fit is asked in
	// the next session.
	MaxPhotoWants = 4096
)

// The kinds of a photo that travel, numbered as the photo store and the
// bundle's photo section number them.
const (
	PhotoFull  uint8 = 1 // the full image; its SHA-256 is the photo's id
	PhotoThumb uint8 = 2 // the thumbnail
)

// PhotoWant asks for one kind of one photo from Offset on.
type PhotoWant struct {
	ID     Hash   `cbor:"1,keyasint"`
	Kind   uint8  `cbor:"2,keyasint"`
	Offset uint64 `cbor:"3,keyasint,omitempty"`
}

// PhotoWants is what a side asks of its peer, in the order it would have
// it sent. CBOR keys are append-only.
type PhotoWants struct {
	Wants []PhotoWant `cbor:"1,keyasint"`
	// Confirm, from version 7, are full images the sender holds and has
	// no word of headquarters' on: the peer's PhotoKept answers with the
	// PhotoHeld it has of them (at most MaxPhotoWants).
	Confirm []Hash `cbor:"2,keyasint,omitempty"`
}

// Check bounds a PhotoWants: at most MaxPhotoWants, each a kind that
// travels, at a chunk's offset within MaxPhotoBytes, none twice; and at
// most MaxPhotoWants confirmations asked for, none twice.
func (m *PhotoWants) Check() error {
	if len(m.Wants) > MaxPhotoWants {
		return fmt.Errorf("%w: %d photos asked for, the limit is %d", ErrTooLarge, len(m.Wants), MaxPhotoWants)
	}
	if err := distinct(m.Confirm, "confirmation asked for"); err != nil {
		return err
	}
	seen := make(map[PhotoWant]bool, len(m.Wants))
	for i, w := range m.Wants {
		switch {
		case w.Kind != PhotoFull && w.Kind != PhotoThumb:
			return fmt.Errorf("%w: photo want %d: kind %d", ErrMalformed, i, w.Kind)
		case w.Offset%PhotoChunkBytes != 0 || w.Offset >= MaxPhotoBytes:
			return fmt.Errorf("%w: photo want %d: offset %d is not a chunk's within %d bytes", ErrMalformed, i, w.Offset, MaxPhotoBytes)
		}
		k := PhotoWant{ID: w.ID, Kind: w.Kind}
		if seen[k] {
			return fmt.Errorf("%w: photo want %d asks for %x twice", ErrMalformed, i, w.ID[:8])
		}
		seen[k] = true
	}
	return nil
}

// PhotoChunk is a piece of one kind of one photo.
type PhotoChunk struct {
	ID   Hash  `cbor:"1,keyasint"`
	Kind uint8 `cbor:"2,keyasint"`
	// Sum is the SHA-256 of the whole kind: the id, for a full image; the
	// thumb hash, for a thumbnail.
	Sum Hash `cbor:"3,keyasint"`
	// Size is the whole kind's bytes.
	Size   uint64 `cbor:"4,keyasint"`
	Offset uint64 `cbor:"5,keyasint"`
	Data   []byte `cbor:"6,keyasint"`
	// DataSum is the SHA-256 of Data: a chunk is checked on its own before
	// it is kept, and the whole against Sum once it is all here.
	DataSum Hash `cbor:"7,keyasint"`
}

// Check verifies a chunk's shape and its bytes against its DataSum: a kind
// that travels, a full image's sum its id, a size within MaxPhotoBytes,
// an offset that is a chunk's, every chunk but the last PhotoChunkBytes
// long and none past the size.
func (c *PhotoChunk) Check() error {
	n := uint64(len(c.Data))
	switch {
	case c.Kind != PhotoFull && c.Kind != PhotoThumb:
		return fmt.Errorf("%w: a photo chunk of kind %d", ErrMalformed, c.Kind)
	case c.Kind == PhotoFull && c.Sum != c.ID:
		return fmt.Errorf("%w: photo %x: a full image's hash must be the photo's id", ErrMalformed, c.ID[:8])
	case c.Size == 0 || c.Size > MaxPhotoBytes:
		return fmt.Errorf("%w: photo %x of %d bytes, the limit is %d", ErrTooLarge, c.ID[:8], c.Size, MaxPhotoBytes)
	case c.Offset%PhotoChunkBytes != 0:
		return fmt.Errorf("%w: photo %x: a chunk at offset %d, not a multiple of %d", ErrMalformed, c.ID[:8], c.Offset, PhotoChunkBytes)
	case n == 0 || n > PhotoChunkBytes:
		return fmt.Errorf("%w: photo %x: a chunk of %d bytes, from 1 to %d", ErrMalformed, c.ID[:8], n, PhotoChunkBytes)
	case c.Offset >= c.Size || n > c.Size-c.Offset:
		return fmt.Errorf("%w: photo %x: a chunk of %d bytes at offset %d, past its declared size of %d", ErrMalformed, c.ID[:8], n, c.Offset, c.Size)
	case n < PhotoChunkBytes && c.Offset+n != c.Size:
		return fmt.Errorf("%w: photo %x: a short chunk of %d bytes at offset %d, not its last (size %d)", ErrMalformed, c.ID[:8], n, c.Offset, c.Size)
	case sha256.Sum256(c.Data) != c.DataSum:
		return fmt.Errorf("%w: photo %x: the chunk at offset %d does not match its hash", ErrMalformed, c.ID[:8], c.Offset)
	}
	return nil
}

// NewPhotoChunk makes the chunk of data at offset of a kind of a photo.
func NewPhotoChunk(id Hash, kind uint8, sum Hash, size, offset uint64, data []byte) *PhotoChunk {
	return &PhotoChunk{ID: id, Kind: kind, Sum: sum, Size: size, Offset: offset, Data: data, DataSum: sha256.Sum256(data)}
}

// PhotoDone ends what a side sends of photos: how many of the kinds asked
// for it sent whole or in part, and how many it did not (not held, or not
// of a record the asker may hold).
type PhotoDone struct {
	Sent   uint32 `cbor:"1,keyasint,omitempty"`
	Absent uint32 `cbor:"2,keyasint,omitempty"`
}

// PhotoKept says a side has kept what the peer sent, up to the peer's
// PhotoDone: Full are the full images that came whole (at most
// MaxPhotoWants, as asked). From version 7, Held answers the peer's
// Confirm: headquarters' signed word, for the full images of it that an
// HQ node said it holds, with the signers' certificates. CBOR keys are
// append-only.
type PhotoKept struct {
	Full  []Hash      `cbor:"1,keyasint,omitempty"`
	Certs [][]byte    `cbor:"2,keyasint,omitempty"`
	Held  []PhotoHeld `cbor:"3,keyasint,omitempty"`
}

// PhotoHeld is an HQ node's word that headquarters holds a photo's full
// image whole: its Ed25519 signature over PhotoHeldMessage(ID), by the
// node whose certificate is PhotoKept.Certs[Signer]. The id is the full
// image's SHA-256, so the word is of those bytes and no others.
type PhotoHeld struct {
	_      struct{} `cbor:",toarray"`
	ID     Hash
	Signer uint16
	Sig    []byte
}

// MaxHeldSigners bounds the certificates of one PhotoKept: the HQ nodes
// whose word it passes on.
const MaxHeldSigners = MaxReceiptSigners

// Check bounds a PhotoKept: at most MaxPhotoWants full images and as
// many confirmations, none twice, each by one of at most MaxHeldSigners
// certificates and with a signature's length.
func (m *PhotoKept) Check() error {
	if len(m.Full) > MaxPhotoWants {
		return fmt.Errorf("%w: %d photos said kept, the limit is %d", ErrTooLarge, len(m.Full), MaxPhotoWants)
	}
	if len(m.Held) > MaxPhotoWants || len(m.Certs) > MaxHeldSigners {
		return fmt.Errorf("%w: %d confirmations by %d signers, the limits are %d and %d", ErrTooLarge, len(m.Held), len(m.Certs), MaxPhotoWants, MaxHeldSigners)
	}
	for i, der := range m.Certs {
		if len(der) == 0 || len(der) > MaxCertBytes {
			return fmt.Errorf("%w: certificate %d of the confirmations holds %d bytes, from 1 to %d", ErrMalformed, i+1, len(der), MaxCertBytes)
		}
	}
	ids := make([]Hash, len(m.Held))
	for i, h := range m.Held {
		switch {
		case int(h.Signer) >= len(m.Certs):
			return fmt.Errorf("%w: the confirmation of photo %x names signer %d of %d", ErrMalformed, h.ID[:8], h.Signer, len(m.Certs))
		case len(h.Sig) != ed25519.SignatureSize:
			return fmt.Errorf("%w: the confirmation of photo %x has a signature of %d bytes", ErrMalformed, h.ID[:8], len(h.Sig))
		}
		ids[i] = h.ID
	}
	return distinct(ids, "confirmation")
}

// distinct bounds a list of photo ids at MaxPhotoWants and refuses one
// named twice.
func distinct(ids []Hash, what string) error {
	if len(ids) > MaxPhotoWants {
		return fmt.Errorf("%w: %d photos in a %s list, the limit is %d", ErrTooLarge, len(ids), what, MaxPhotoWants)
	}
	seen := make(map[Hash]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return fmt.Errorf("%w: photo %x twice in a %s list", ErrMalformed, id[:8], what)
		}
		seen[id] = true
	}
	return nil
}

// PhotoHeldMessage is what an HQ node signs in a PhotoHeld:
// "lifeline/photo-held/v1", a 0 byte, and the photo's id (the SHA-256 of
// its full image).
func PhotoHeldMessage(id Hash) []byte {
	const domain = "lifeline/photo-held/v1\x00"
	return append([]byte(domain), id[:]...)
}
