package photos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"time"

	"lifeline/node/atomicfile"
)

// Receiver writes a photo that arrives in pieces (from a bundle, later a
// session), sealed as it comes, so that memory holds one piece and the
// image's first bytes: nothing is kept until Commit finds the bytes hash
// to what they were announced as.
type Receiver struct {
	s        *Store
	id       string
	kind     Kind
	sum      string
	n        int64
	h        hash.Hash
	head     []byte // the first bytes, for the image's header; a thumbnail's all
	counted  int64  // bytes of it the budget counts already, held in part
	scans    scans
	pw       *io.PipeWriter
	done     chan error
	finished bool
}

// headBytes is what Commit reads an image's header from.
const headBytes = 64 << 10

// Receive starts writing a kind (Full or Thumb) of photo id whose bytes
// hash (SHA-256, hex) to sum: id itself for a full image. The caller
// writes the bytes, then calls Commit, or Abort to give up.
func (s *Store) Receive(id string, k Kind, sum string) (*Receiver, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	if err := ValidID(sum); err != nil {
		return nil, fmt.Errorf("the %s's hash: %w", k, err)
	}
	switch {
	case k == Full && sum != id:
		return nil, fmt.Errorf("%w: a full image's hash is the photo's id", ErrCorrupt)
	case k != Full && k != Thumb:
		return nil, fmt.Errorf("photos: a %s is not received", k)
	}
	if err := os.MkdirAll(filepath.Join(s.dir, id[:2]), 0o700); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	r := &Receiver{s: s, id: id, kind: k, sum: sum, h: sha256.New(), pw: pw, done: make(chan error, 1)}
	go func() {
		err := atomicfile.WriteFunc(s.path(id, k)+".part", 0o600, func(w io.Writer) error {
			sw, err := newSealWriter(w, &s.secret, ad(id, k))
			if err != nil {
				return err
			}
			if _, err := io.Copy(sw, pr); err != nil {
				return err
			}
			return sw.Close()
		})
		pr.CloseWithError(err)
		r.done <- err
	}()
	return r, nil
}

// Write takes the next bytes.
func (r *Receiver) Write(p []byte) (int, error) {
	if r.n+int64(len(p)) > maxBytes(r.kind) {
		return 0, fmt.Errorf("%w: a %s over %d KiB", ErrTooLarge, r.kind, maxBytes(r.kind)>>10)
	}
	if r.kind == Thumb {
		r.head = append(r.head, p...)
	} else if len(r.head) < headBytes {
		r.head = append(r.head, p[:min(len(p), headBytes-len(r.head))]...)
	}
	r.h.Write(p)
	r.scans.Write(p)
	n, err := r.pw.Write(p)
	r.n += int64(n)
	return n, err
}

// maxBytes bounds the bytes of a kind received.
func maxBytes(k Kind) int64 {
	if k == Thumb {
		return MaxThumbBytes
	}
	return MaxStoredBytes
}

var errAborted = errors.New("photo not received whole")

// Abort gives up the photo: nothing of it is kept.
func (r *Receiver) Abort() {
	if r.finished {
		return
	}
	r.finished = true
	r.pw.CloseWithError(errAborted)
	<-r.done
	os.Remove(r.s.path(r.id, r.kind) + ".part")
}

// Commit keeps the photo if its bytes hash to what was announced and make
// a JPEG within the bounds of its kind; else it keeps nothing.
func (r *Receiver) Commit() (Photo, error) {
	if r.finished {
		return Photo{}, errAborted
	}
	if got := hex.EncodeToString(r.h.Sum(nil)); got != r.sum {
		r.Abort()
		return Photo{}, fmt.Errorf("%w: the %s of %s hashes to %s", ErrCorrupt, r.kind, r.id, got)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.head))
	switch {
	case err != nil:
		err = fmt.Errorf("%w: %v", ErrFormat, err)
	case int64(cfg.Width)*int64(cfg.Height) > MaxPixels:
		err = fmt.Errorf("%w: %d×%d", ErrTooLarge, cfg.Width, cfg.Height)
	case r.kind == Thumb && max(cfg.Width, cfg.Height) > MaxThumbEdge:
		err = fmt.Errorf("%w: a thumbnail of %d×%d, over %d pixels on its long edge", ErrTooLarge, cfg.Width, cfg.Height, MaxThumbEdge)
	default:
		err = r.scans.check()
	}
	if err != nil {
		r.Abort()
		return Photo{}, fmt.Errorf("photos: the %s of %s is no JPEG this store keeps: %w", r.kind, r.id, err)
	}
	if r.kind == Thumb {
		if err := r.s.checkThumb(r.id, r.head); err != nil {
			r.Abort()
			return Photo{}, fmt.Errorf("photos: %w", err)
		}
	}
	r.finished = true
	r.pw.Close()
	if err := <-r.done; err != nil {
		os.Remove(r.s.path(r.id, r.kind) + ".part")
		return Photo{}, err
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	part := s.path(r.id, r.kind) + ".part"
	defer os.Remove(part)
	p, err := s.info(r.id)
	switch {
	case errors.Is(err, ErrNotFound):
		p = Photo{ID: r.id, Added: time.Now().UTC()}
	case err != nil:
		return Photo{}, err
	case p.Has(r.kind):
		return p, nil
	}
	if r.kind == Thumb {
		if p.ThumbHash != "" && p.ThumbHash != r.sum {
			return Photo{}, fmt.Errorf("%w: a thumbnail of %s that is not the one this store holds", ErrCorrupt, r.id)
		}
		p.ThumbHash = r.sum
	} else {
		p.Width, p.Height = cfg.Width, cfg.Height
		if err := s.room(r.n - r.counted); err != nil {
			return Photo{}, err
		}
	}
	if err := os.Rename(part, s.path(r.id, r.kind)); err != nil {
		return Photo{}, err
	}
	// The rename is made durable before the metadata lists the kind.
	if d, err := os.Open(filepath.Dir(part)); err == nil {
		d.Sync()
		d.Close()
	}
	if err := s.writeMeta(p); err != nil {
		return Photo{}, err
	}
	if r.kind == Full {
		s.dropBadThumb(r.id)
	}
	return s.info(r.id)
}
