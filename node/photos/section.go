package photos

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// A bundle may carry photos in a section after its seal (docs/photos.md).
// The section is not under the bundle's seal: each photo in it is checked
// on its own, so that a damaged photo is refused and the records and the
// other photos are kept. Version 1:
//
//	magic   "LIFELINE-PHOTOS\n"
//	entries, each:
//	  kind    1 byte: 1 full image, 2 thumbnail (Kind's numbers)
//	  id      32 bytes: the photo's id (SHA-256 of its full image)
//	  sum     32 bytes: SHA-256 of the bytes that follow (the id, for a
//	          full image)
//	  length  4 bytes, big-endian, at most MaxStoredBytes
//	  sig     64 bytes: the bundle writer's Ed25519 signature of
//	          SectionSigPrefix, kind, id, sum and length, so that no one
//	          can pass a thumbnail off as another photo's
//	  bytes   length bytes
//	end     one 0 byte, then the end of the file
//
// Thumbnails come first, then full images: a file cut short still has
// every thumbnail it got to.

// SectionMagic opens a bundle's photo section.
const SectionMagic = "LIFELINE-PHOTOS\n"

// SectionSigPrefix starts what each entry's signature covers.
const SectionSigPrefix = "lifeline/bundle-photo/v1\x00"

// Bounds of a section read from a file.
const (
	MaxSectionEntries = 100_000
	MaxSectionBytes   = 2 << 30
)

// Level is what a bundle carries of photos.
type Level int

// The levels, as --photos names them.
const (
	NoPhotos Level = iota
	Thumbs
	FullPhotos
)

// ParseLevel reads none, thumbs or full.
func ParseLevel(s string) (Level, error) {
	switch s {
	case "none":
		return NoPhotos, nil
	case "thumbs":
		return Thumbs, nil
	case "full":
		return FullPhotos, nil
	}
	return 0, fmt.Errorf("photos %q: none, thumbs or full", s)
}

const entryHead = 1 + 32 + 32 + 4 + 64

func sigMessage(head []byte) []byte {
	return append([]byte(SectionSigPrefix), head[:1+32+32+4]...)
}

// Written says what WriteSection wrote.
type Written struct {
	Thumbs, Full int
	Bytes        int64
}

// WriteSection writes the section of the photos at level (thumbnails, or
// thumbnails and full images) the store holds that keep says to (every
// one when nil), each entry signed with sign.
func (s *Store) WriteSection(w io.Writer, level Level, keep func(id string) bool, sign func([]byte) []byte) (Written, error) {
	var res Written
	if level == NoPhotos {
		return res, nil
	}
	list, err := s.List()
	if err != nil {
		return res, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(SectionMagic); err != nil {
		return res, err
	}
	kinds := []Kind{Thumb}
	if level == FullPhotos {
		kinds = append(kinds, Full)
	}
	for _, k := range kinds {
		for _, p := range list {
			if !p.Has(k) || keep != nil && !keep(p.ID) {
				continue
			}
			sum := p.ID
			if k == Thumb {
				sum = p.ThumbHash
			}
			if ValidID(sum) != nil {
				continue
			}
			n, err := s.writeEntry(bw, p.ID, k, sum, sign)
			if errors.Is(err, ErrNotFound) {
				continue // dropped by the budget meanwhile
			}
			if err != nil {
				return res, err
			}
			res.Bytes += n
			if k == Thumb {
				res.Thumbs++
			} else {
				res.Full++
			}
		}
	}
	if err := bw.WriteByte(0); err != nil {
		return res, err
	}
	return res, bw.Flush()
}

func (s *Store) writeEntry(w io.Writer, id string, k Kind, sum string, sign func([]byte) []byte) (int64, error) {
	f, err := s.open(id, k)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	head := make([]byte, 0, entryHead)
	head = append(head, byte(k))
	idb, _ := hex.DecodeString(id)
	sb, _ := hex.DecodeString(sum)
	head = append(head, idb...)
	head = append(head, sb...)
	head = binary.BigEndian.AppendUint32(head, uint32(f.size))
	head = append(head, sign(sigMessage(head))...)
	if _, err := w.Write(head); err != nil {
		return 0, err
	}
	// The store's own file is trusted no more than a peer's: what is
	// written is what hashes to sum, or the reader refuses it.
	n, err := io.Copy(w, &sealedReader{sealedFile: f})
	if err == nil && n != f.size {
		err = fmt.Errorf("photos: %s of %s: %d of %d bytes", k, id, n, f.size)
	}
	return n, err
}

// Read says what ReadSection did.
type Read struct {
	Kept    int      // photos kept (a thumbnail and a full image count one each)
	Had     int      // already held
	Refused int      // refused, each for a reason in Reasons
	Reasons []string // the first few reasons
}

func (r *Read) refuse(format string, args ...any) {
	r.Refused++
	if len(r.Reasons) < 10 {
		r.Reasons = append(r.Reasons, fmt.Sprintf(format, args...))
	}
}

// ErrSection is wrapped by the error of a section that cannot be read on:
// the photos read before it are kept.
var ErrSection = errors.New("bad photo section")

// ReadSection reads a photo section (from its magic on) into the store:
// each photo is kept if its signature verifies (verify, with the bundle
// writer's key) and its bytes hash to its sum; a photo that does not is
// refused and the next one read. A section whose structure is broken
// (a cut file, a forged entry, bounds passed) ends with ErrSection, the
// photos before kept.
func (s *Store) ReadSection(r io.Reader, verify func(msg, sig []byte) bool) (Read, error) {
	var res Read
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(SectionMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != SectionMagic {
		return res, fmt.Errorf("%w: it does not start with %q", ErrSection, SectionMagic[:len(SectionMagic)-1])
	}
	var total int64
	head := make([]byte, entryHead)
	for i := 0; ; i++ {
		if _, err := io.ReadFull(br, head[:1]); err != nil {
			return res, fmt.Errorf("%w: entry %d: the file ends before the section does: it was cut short", ErrSection, i)
		}
		if head[0] == 0 {
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
				return res, fmt.Errorf("%w: bytes after its end", ErrSection)
			}
			return res, nil
		}
		if i >= MaxSectionEntries {
			return res, fmt.Errorf("%w: over %d photos", ErrSection, MaxSectionEntries)
		}
		if _, err := io.ReadFull(br, head[1:]); err != nil {
			return res, fmt.Errorf("%w: entry %d: the file ends inside it: it was cut short", ErrSection, i)
		}
		k := Kind(head[0])
		id := hex.EncodeToString(head[1:33])
		sum := hex.EncodeToString(head[33:65])
		n := int64(binary.BigEndian.Uint32(head[65:69]))
		switch {
		case k != Full && k != Thumb:
			return res, fmt.Errorf("%w: entry %d: kind %d is no photo kind", ErrSection, i, k)
		case n > MaxStoredBytes:
			return res, fmt.Errorf("%w: entry %d: a %s of %d bytes (at most %d)", ErrSection, i, k, n, MaxStoredBytes)
		case total+n > MaxSectionBytes:
			return res, fmt.Errorf("%w: over %d GiB of photos", ErrSection, MaxSectionBytes>>30)
		case !verify(sigMessage(head), head[69:]):
			// Its length cannot be trusted either: nothing after it can.
			return res, fmt.Errorf("%w: entry %d (%s of %s): the signature does not verify: the file was altered", ErrSection, i, k, id)
		}
		total += n
		if err := s.readEntry(br, id, k, sum, n, &res); err != nil {
			return res, fmt.Errorf("%w: entry %d (%s of %s): %w", ErrSection, i, k, id, err)
		}
	}
}

// readEntry reads one entry's bytes into the store; an error is one that
// stops the section.
func (s *Store) readEntry(r io.Reader, id string, k Kind, sum string, n int64, res *Read) error {
	if p, err := s.info(id); err == nil && p.Has(k) {
		res.Had++
		_, err := io.CopyN(io.Discard, r, n)
		return cut(err)
	}
	var rc *Receiver
	var err error
	if n > maxBytes(k) {
		err = fmt.Errorf("%w: a %s of %d bytes, the limit is %d KiB", ErrTooLarge, k, n, maxBytes(k)>>10)
	} else {
		rc, err = s.Receive(id, k, sum)
	}
	if err != nil {
		res.refuse("%s of %s: %v", k, id, err)
		_, err := io.CopyN(io.Discard, r, n)
		return cut(err)
	}
	if _, err := io.CopyN(rc, r, n); err != nil {
		rc.Abort()
		return cut(err)
	}
	if _, err := rc.Commit(); err != nil {
		res.refuse("%s of %s: %v", k, id, err)
		return nil
	}
	res.Kept++
	return nil
}

func cut(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("the file ends inside it: it was cut short")
	}
	return err
}
