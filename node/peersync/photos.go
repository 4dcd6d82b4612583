package peersync

import (
	"context"
	"errors"
	"fmt"

	"lifeline/syncproto"
)

// Photos is what a session needs of a node's photos (docs/photos.md): what
// it lacks, what it may send the peer, and where chunks go. A session of
// protocol version 6 or later exchanges photos once both sides hold every
// record the session brings; a Config without Photos asks for none and
// sends none, and still speaks the protocol.
type Photos interface {
	// Wants is what this node lacks of the photos the records it holds
	// name, in the order it would have them sent (thumbnails first), each
	// from the offset it holds in part; at most syncproto.MaxPhotoWants.
	// It reserves what it returns for this session until Release.
	Wants(ctx context.Context) ([]syncproto.PhotoWant, error)
	// Read reads the chunk at off of a kind of a photo for the peer, with
	// the kind's size and hash; ErrNotServed when the peer may not have
	// it (not held here, or not of a record the peer may hold).
	Read(ctx context.Context, id syncproto.Hash, kind uint8, off uint64) (data []byte, size uint64, sum syncproto.Hash, err error)
	// Receive keeps a chunk the peer sent of what Wants asked for, which
	// the session has checked is the next one due; done once the kind is
	// whole and kept. An error wrapping ErrBadPhoto is the peer's doing;
	// another is this node's (a disk, the budget).
	Receive(ctx context.Context, c *syncproto.PhotoChunk) (done bool, err error)
	// Kept takes the peer's word that it now holds these full images,
	// which this node sent it whole in this session: headquarters' word
	// lets a laptop drop them when room runs out.
	Kept(ctx context.Context, full []syncproto.Hash) error
	// Unconfirmed are the full images this node holds and has no word
	// of headquarters' on, which a session of protocol version 7 or later
	// asks the peer about (at most syncproto.MaxPhotoWants).
	Unconfirmed(ctx context.Context) ([]syncproto.Hash, error)
	// Confirmations are the words of headquarters this node holds, or an
	// HQ node signs now, that it holds the full images of ids, with their
	// signers' certificates (at most syncproto.MaxHeldSigners): the
	// answer to a peer's Confirm.
	Confirmations(ctx context.Context, ids []syncproto.Hash) (certs [][]byte, held []syncproto.PhotoHeld, err error)
	// Confirmed checks the confirmations a peer sent of what this node
	// asked about and, only when every one is headquarters' word, marks
	// those full images confirmed and keeps the words to pass on. A
	// confirmation that does not check is an error wrapping
	// ErrBadConfirmation, the peer's doing, and none of them is kept.
	Confirmed(ctx context.Context, certs [][]byte, held []syncproto.PhotoHeld) error
	// Release gives up what Wants reserved.
	Release()
}

// ErrBadConfirmation is wrapped by Confirmed's refusal of what a peer sent
// as headquarters' word that it holds a full image.
var ErrBadConfirmation = errors.New("not headquarters' word")

// ErrNotServed: a kind of a photo the peer may not be sent from here.
var ErrNotServed = errors.New("photo not served to this peer")

// ErrBadPhoto is wrapped by Receive's refusal of what the peer sent: a
// photo that does not hash to what it was declared as, or is over the
// bounds of its kind.
var ErrBadPhoto = errors.New("photo refused")

// photoWant is the state of a photo asked for: the next offset due, and
// the size and hash its first chunk declared.
type photoWant struct {
	next   uint64
	size   uint64
	sum    syncproto.Hash
	begun  bool
	done   bool // whole, or given up for this session
	ignore bool // given up: its chunks are read and dropped
}

type wantKey struct {
	id   syncproto.Hash
	kind uint8
}

// askPhotos sends what this node lacks, and, from version 7, the full
// images it would have headquarters' word on; and notes both.
func (s *session) askPhotos(ctx context.Context, version uint16) error {
	var wants []syncproto.PhotoWant
	var confirm []syncproto.Hash
	if s.cfg.Photos != nil {
		var err error
		if wants, err = s.cfg.Photos.Wants(ctx); err != nil {
			return err
		}
		wants = wants[:min(len(wants), syncproto.MaxPhotoWants)]
		if version >= syncproto.ConfirmVersion {
			if confirm, err = s.cfg.Photos.Unconfirmed(ctx); err != nil {
				return err
			}
			confirm = confirm[:min(len(confirm), syncproto.MaxPhotoWants)]
		}
	}
	s.asked = make(map[wantKey]*photoWant, len(wants))
	for _, w := range wants {
		s.asked[wantKey{w.ID, w.Kind}] = &photoWant{next: w.Offset}
	}
	s.confirmAsked = make(map[syncproto.Hash]bool, len(confirm))
	for _, id := range confirm {
		s.confirmAsked[id] = true
	}
	s.send(ctx, s.ctrl, syncproto.MsgPhotoWants, &syncproto.PhotoWants{Wants: wants, Confirm: confirm})
	return nil
}

// photoKept is this node's PhotoKept: the full images of the peer's that
// came whole, and the confirmations it has of those the peer asked about.
func (s *session) photoKept(ctx context.Context) (*syncproto.PhotoKept, error) {
	m := &syncproto.PhotoKept{Full: s.keptFull}
	if len(s.peerConfirm) == 0 || s.cfg.Photos == nil {
		return m, nil
	}
	certs, held, err := s.cfg.Photos.Confirmations(ctx, s.peerConfirm)
	if err != nil {
		return nil, err
	}
	m.Certs, m.Held = certs, held
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("the confirmations held here: %w", err)
	}
	return m, nil
}

// peerConfirmed checks the confirmations the peer sent: each of a full
// image this node asked about, and each headquarters' word (Confirmed).
// Any other is the peer's fault and ends the session, nothing of it kept.
func (s *session) peerConfirmed(ctx context.Context, m *syncproto.PhotoKept) error {
	if len(m.Held) == 0 {
		return nil
	}
	for _, h := range m.Held {
		if !s.confirmAsked[h.ID] {
			return &syncproto.ProtocolError{Code: syncproto.CodePhoto, Msg: fmt.Sprintf("a confirmation of photo %x, which this node did not ask about; refused, nothing confirmed", h.ID[:8])}
		}
	}
	if s.cfg.Photos == nil {
		return nil
	}
	err := s.cfg.Photos.Confirmed(ctx, m.Certs, m.Held)
	if errors.Is(err, ErrBadConfirmation) {
		return &syncproto.ProtocolError{Code: syncproto.CodePhoto, Msg: fmt.Sprintf("%v; refused, nothing confirmed", err), Err: err}
	}
	if err == nil {
		s.mu.Lock()
		s.res.PhotosConfirmed += len(m.Held)
		s.mu.Unlock()
	}
	return err
}

// sendPhotos sends, in order, the chunks of what the peer asked for that
// it may have, then PhotoDone. Memory holds one chunk at a time: each is
// read from the store when the writer is ready for it.
func (s *session) sendPhotos(ctx context.Context, wants []syncproto.PhotoWant) error {
	var done syncproto.PhotoDone
	for _, w := range wants {
		if s.cfg.Photos == nil {
			done.Absent++
			continue
		}
		off := w.Offset
		for {
			data, size, sum, err := s.cfg.Photos.Read(ctx, w.ID, w.Kind, off)
			if errors.Is(err, ErrNotServed) {
				done.Absent++
				break
			}
			if err != nil {
				return err
			}
			if off == w.Offset && off >= size {
				// Asked from past its end: the peer's partial is of
				// another declaration; it will ask again from the start.
				done.Absent++
				break
			}
			c := syncproto.NewPhotoChunk(w.ID, w.Kind, sum, size, off, data)
			if err := c.Check(); err != nil {
				return fmt.Errorf("photo %x held here: %w", w.ID[:8], err)
			}
			s.send(ctx, s.data, syncproto.MsgPhotoChunk, c)
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			off += uint64(len(data))
			if off >= size {
				done.Sent++
				s.mu.Lock()
				s.res.PhotosSent++
				if w.Kind == syncproto.PhotoFull {
					s.sentFull[w.ID] = true
				}
				s.mu.Unlock()
				break
			}
		}
	}
	s.send(ctx, s.ctrl, syncproto.MsgPhotoDone, &done)
	return nil
}

// takeChunk checks a chunk the peer sent against what this node asked
// for, and keeps it. A chunk not asked for, out of place, or a photo not
// matching its hash or its kind's bounds is the peer's fault and ends the
// session (syncproto.CodePhoto); what was kept stays, and a photo that did
// not match is dropped whole. A failure of this node's own (the disk, the
// budget) gives up that photo for this session, and the session goes on.
func (s *session) takeChunk(ctx context.Context, c *syncproto.PhotoChunk) error {
	bad := func(format string, args ...any) error {
		return &syncproto.ProtocolError{Code: syncproto.CodePhoto, Msg: fmt.Sprintf(format, args...)}
	}
	w := s.asked[wantKey{c.ID, c.Kind}]
	switch {
	case w == nil:
		return bad("a chunk of photo %x (kind %d), which this node did not ask for", c.ID[:8], c.Kind)
	case w.done && !w.ignore:
		return bad("a chunk of photo %x (kind %d) at offset %d after it came whole", c.ID[:8], c.Kind, c.Offset)
	case w.ignore:
		return nil
	case c.Offset != w.next:
		return bad("a chunk of photo %x (kind %d) at offset %d; the next asked for is at %d", c.ID[:8], c.Kind, c.Offset, w.next)
	case w.begun && (c.Size != w.size || c.Sum != w.sum):
		return bad("a chunk of photo %x (kind %d) declares %d bytes, its first chunk %d", c.ID[:8], c.Kind, c.Size, w.size)
	}
	w.begun, w.size, w.sum = true, c.Size, c.Sum
	whole, err := s.cfg.Photos.Receive(ctx, c)
	switch {
	case errors.Is(err, ErrBadPhoto):
		return &syncproto.ProtocolError{Code: syncproto.CodePhoto, Msg: fmt.Sprintf("photo %x (kind %d): %v; refused, nothing of it kept", c.ID[:8], c.Kind, err), Err: err}
	case err != nil:
		s.cfg.Log.Warn("sync: a photo is not kept; the next session asks for it again", "photo", fmt.Sprintf("%x", c.ID[:8]), "kind", c.Kind, "err", err)
		w.done, w.ignore = true, true
		s.mu.Lock()
		s.res.PhotosRefused++
		s.mu.Unlock()
		return nil
	}
	w.next += uint64(len(c.Data))
	s.mu.Lock()
	s.res.PhotoBytesIn += int64(len(c.Data))
	if whole {
		w.done = true
		s.res.PhotosReceived++
		if c.Kind == syncproto.PhotoFull {
			s.keptFull = append(s.keptFull, c.ID)
		}
	}
	s.mu.Unlock()
	return nil
}

// peerKept passes on what the peer says it kept of the full images this
// node sent it whole; it says nothing of others.
func (s *session) peerKept(ctx context.Context, m *syncproto.PhotoKept) error {
	s.mu.Lock()
	var full []syncproto.Hash
	for _, id := range m.Full {
		if s.sentFull[id] {
			full = append(full, id)
		}
	}
	s.mu.Unlock()
	if len(full) == 0 || s.cfg.Photos == nil {
		return nil
	}
	return s.cfg.Photos.Kept(ctx, full)
}
