package syncproto

import (
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
// A chunk is a piece of PhotoChunkBytes of one kind (full image or
// thumbnail) of one photo, at an offset that is a multiple of it: a
// receiver keeps the chunks it got, and asks from the next one in the
// next session. A side sends only what it was asked for, and a receiver
// refuses a chunk it did not ask for, or at another offset than the next
// it needs.

// PhotoVersion is the first protocol version whose sessions carry photos.
const PhotoVersion = 6

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
// it sent.
type PhotoWants struct {
	Wants []PhotoWant `cbor:"1,keyasint"`
}

// Check bounds a PhotoWants: at most MaxPhotoWants, each a kind that
// travels, at a chunk's offset within MaxPhotoBytes, none twice.
func (m *PhotoWants) Check() error {
	if len(m.Wants) > MaxPhotoWants {
		return fmt.Errorf("%w: %d photos asked for, the limit is %d", ErrTooLarge, len(m.Wants), MaxPhotoWants)
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
// MaxPhotoWants, as asked).
type PhotoKept struct {
	Full []Hash `cbor:"1,keyasint,omitempty"`
}

// Check bounds a PhotoKept.
func (m *PhotoKept) Check() error {
	if len(m.Full) > MaxPhotoWants {
		return fmt.Errorf("%w: %d photos said kept, the limit is %d", ErrTooLarge, len(m.Full), MaxPhotoWants)
	}
	return nil
}
