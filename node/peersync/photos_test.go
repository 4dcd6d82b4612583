package peersync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lifeline/node/photos"
	"lifeline/syncproto"
)

// storePhotos is a node's photos as these tests need them: a real photo
// store, and the ids the records of the test name (the node's records are
// not read here: node's tests do that).
type storePhotos struct {
	s     *photos.Store
	names []string
	// kinds are the kinds it asks for of them: both when nil.
	kinds []photos.Kind
	// alter, if set, changes what is sent (a lying peer that hashes each
	// chunk it alters, so that only the whole shows it).
	alter   func(off uint64, b []byte) []byte
	release []func()
	kept    []syncproto.Hash // what the peer said it kept
	// unconfirmed is what this side asks headquarters' word on; words
	// (by certs) what it answers a peer's asking with, whatever was
	// asked; confirmed what it took from the peer.
	unconfirmed []syncproto.Hash
	certs       [][]byte
	words       []syncproto.PhotoHeld
	confirmed   []syncproto.PhotoHeld
}

func newStorePhotos(t testing.TB, names ...string) *storePhotos {
	var secret [32]byte
	copy(secret[:], t.Name())
	s, err := photos.Open(filepath.Join(t.TempDir(), "photos"), secret, photos.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &storePhotos{s: s, names: names}
}

func (p *storePhotos) Wants(ctx context.Context) ([]syncproto.PhotoWant, error) {
	var wants []syncproto.PhotoWant
	kinds := p.kinds
	if kinds == nil {
		kinds = []photos.Kind{photos.Thumb, photos.Full}
	}
	for _, k := range kinds {
		for _, id := range p.names {
			if info, err := p.s.Info(id); err == nil && info.Has(k) {
				continue
			}
			release, ok := p.s.Claim(id, k)
			if !ok {
				continue
			}
			p.release = append(p.release, release)
			held, err := p.s.Partial(id, k)
			if err != nil {
				return nil, err
			}
			h, _ := hex.DecodeString(id)
			wants = append(wants, syncproto.PhotoWant{ID: syncproto.Hash(h), Kind: uint8(k), Offset: uint64(held)})
		}
	}
	return wants, nil
}

func (p *storePhotos) Read(ctx context.Context, h syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error) {
	id := hex.EncodeToString(h[:])
	info, err := p.s.Info(id)
	if err != nil || !info.Has(photos.Kind(kind)) {
		return nil, 0, syncproto.Hash{}, ErrNotServed
	}
	sum := h
	if photos.Kind(kind) == photos.Thumb {
		b, _ := hex.DecodeString(info.ThumbHash)
		sum = syncproto.Hash(b)
	}
	data, size, err := p.s.ReadAt(id, photos.Kind(kind), int64(off), syncproto.PhotoChunkBytes)
	if p.alter != nil {
		data = p.alter(off, data)
	}
	return data, uint64(size), sum, err
}

func (p *storePhotos) Receive(ctx context.Context, c *syncproto.PhotoChunk) (bool, error) {
	_, done, err := p.s.ReceiveChunk("", hex.EncodeToString(c.ID[:]), photos.Kind(c.Kind), hex.EncodeToString(c.Sum[:]), int64(c.Size), int64(c.Offset), c.Data)
	if errors.Is(err, photos.ErrCorrupt) || errors.Is(err, photos.ErrOutOfPlace) {
		err = errors.Join(ErrBadPhoto, err)
	}
	return done, err
}

func (p *storePhotos) Kept(ctx context.Context, full []syncproto.Hash) error {
	p.kept = append(p.kept, full...)
	return nil
}

func (p *storePhotos) Unconfirmed(ctx context.Context) ([]syncproto.Hash, error) {
	return p.unconfirmed, nil
}

func (p *storePhotos) Confirmations(ctx context.Context, ids []syncproto.Hash) ([][]byte, []syncproto.PhotoHeld, error) {
	return p.certs, p.words, nil
}

func (p *storePhotos) Confirmed(ctx context.Context, certs [][]byte, held []syncproto.PhotoHeld) error {
	p.confirmed = append(p.confirmed, held...)
	return nil
}

func (p *storePhotos) Release() {
	for _, r := range p.release {
		r()
	}
	p.release = nil
}

// keep puts a JPEG of random pixels (w×h, large as a photo of rubble is)
// in the store as a full image, with its thumbnail, and returns its id.
// The thumbnail is the one another store's Add makes of the JPEG: of its
// pixels, within 1,600 on the long edge and so not shrunk.
func (p *storePhotos) keep(t testing.TB, w, h int, seed uint64) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	var full bytes.Buffer
	jpeg.Encode(&full, img, &jpeg.Options{Quality: 90})
	sum := sha256.Sum256(full.Bytes())
	id := hex.EncodeToString(sum[:])
	maker := newStorePhotos(t)
	a, err := maker.s.Add(bytes.NewReader(full.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := maker.s.Open(a.ID, photos.Thumb)
	if err != nil {
		t.Fatal(err)
	}
	thumb, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		kind photos.Kind
		sum  string
		b    []byte
	}{{photos.Full, id, full.Bytes()}, {photos.Thumb, a.ThumbHash, thumb}} {
		rc, err := p.s.Receive(id, k.kind, k.sum)
		if err != nil {
			t.Fatal(err)
		}
		rc.Write(k.b)
		if _, err := rc.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// cutConn reads until limit bytes have come, then cuts the link: what a
// satellite link dropping mid-photo does.
type cutConn struct {
	net.Conn
	limit int64 // 0: never
	n     atomic.Int64
}

func (c *cutConn) Read(p []byte) (int, error) {
	if c.limit > 0 {
		left := c.limit - c.n.Load()
		if left <= 0 {
			c.Conn.Close()
			return 0, io.ErrUnexpectedEOF
		}
		p = p[:min(int64(len(p)), left)]
	}
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// photoSession runs one session in which b receives photos from a, b's
// end cut after limit bytes (0: never); it returns the bytes b read and
// both ends' results.
func photoSession(t *testing.T, ring *keyring, a, b *peer, pa, pb Photos, limit int64) (int64, Result, Result, error, error) {
	t.Helper()
	ca, cb := net.Pipe()
	cut := &cutConn{Conn: cb, limit: limit}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ra, rb Result
	var ea, eb error
	var wg sync.WaitGroup
	wg.Add(2)
	cfgA, cfgB := a.config(ring), b.config(ring)
	cfgA.Photos, cfgB.Photos = pa, pb
	go func() { defer wg.Done(); ra, ea = Run(ctx, ca, cfgA); ca.Close() }()
	go func() { defer wg.Done(); rb, eb = Run(ctx, cut, cfgB); cb.Close() }()
	wg.Wait()
	return cut.n.Load(), ra, rb, ea, eb
}

// A photo sent over a link cut ten times mid-photo arrives whole, each
// session going on from the chunk after the last one kept: the bytes sent
// again stay under one chunk per cut, and the photo matches its id.
func TestPhotoResumesAcrossCuts(t *testing.T) {
	ring := newRing()
	a, b := newPeer(t, ring, "relay"), newPeer(t, ring, "laptop")
	pa := newStorePhotos(t)
	id := pa.keep(t, 1100, 880, 1)
	info, _ := pa.s.Info(id)
	size := info.Bytes[photos.Full]
	const cuts = 10
	if size < (cuts+2)*syncproto.PhotoChunkBytes {
		t.Fatalf("the test photo is %d bytes; want over %d chunks", size, cuts+2)
	}
	// What a session costs with no photo to send, and what a chunk's
	// frame adds to its bytes.
	n, _, _, ea, eb := photoSession(t, ring, a, b, pa, newStorePhotos(t), 0)
	if ea != nil || eb != nil {
		t.Fatal(ea, eb)
	}
	var frame bytes.Buffer
	syncproto.WriteFrame(&frame, syncproto.MsgPhotoChunk, syncproto.NewPhotoChunk(syncproto.Hash{}, syncproto.PhotoFull, syncproto.Hash{}, 1<<20, 0, make([]byte, syncproto.PhotoChunkBytes)))
	perChunk := int64(frame.Len() - syncproto.PhotoChunkBytes)
	const wantBytes = 64 // a want: its id, kind and offset
	base := n + wantBytes

	pb := newStorePhotos(t, id)
	pb.names = []string{id}
	var wasted, held int64
	for i := range cuts + 1 {
		limit := int64(0)
		if i < cuts {
			// Half way into the second chunk of this session.
			limit = base + syncproto.PhotoChunkBytes + perChunk + syncproto.PhotoChunkBytes/2
		}
		read, _, rb, _, eb := photoSession(t, ring, a, b, pa, pb, limit)
		if i < cuts && eb == nil {
			t.Fatalf("session %d was not cut", i)
		}
		if i == cuts && eb != nil {
			t.Fatalf("the last session: %v", eb)
		}
		now, _ := pb.s.Partial(id, photos.Full)
		if i == cuts {
			now = size
		}
		kept := now - held
		if kept <= 0 {
			t.Fatalf("session %d kept nothing more of the photo (%d bytes held)", i, held)
		}
		chunks := (kept + syncproto.PhotoChunkBytes - 1) / syncproto.PhotoChunkBytes
		// Everything read that is not the session's cost, a chunk kept,
		// or a thumbnail (the first session's) was sent for nothing.
		thumb := int64(0)
		if i == 0 {
			thumb = info.Bytes[photos.Thumb]
			chunks++
		}
		wasted += read - base - kept - chunks*perChunk - thumb
		held = now
		if rb.PhotoBytesIn != kept+thumb {
			t.Fatalf("session %d: %d photo bytes in, %d kept", i, rb.PhotoBytesIn, kept+thumb)
		}
	}
	if wasted >= cuts*syncproto.PhotoChunkBytes {
		t.Fatalf("%d bytes sent for nothing over %d cuts: more than a chunk (%d) per cut", wasted, cuts, syncproto.PhotoChunkBytes)
	}
	t.Logf("%d cuts: %d bytes sent again (%d a cut), of a photo of %d bytes", cuts, wasted, wasted/cuts, size)
	rc, err := pb.s.Open(id, photos.Full)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != id {
		t.Fatal("the photo that came does not match its id")
	}
	if p, _ := pb.s.Partials(); len(p) != 0 {
		t.Fatalf("partials left once the photo came: %v", p)
	}
}

// A peer that alters a chunk is refused: a chunk whose bytes do not match
// its hash ends the session at once, and one altered with its hash made
// to match is caught once the photo is whole. Nothing of it is listed,
// and an honest peer's session then brings the photo.
func TestAlteredPhotoRefused(t *testing.T) {
	ring := newRing()
	a, b := newPeer(t, ring, "relay"), newPeer(t, ring, "laptop")
	honest := newStorePhotos(t)
	id := honest.keep(t, 400, 300, 3)
	liar := &storePhotos{s: honest.s, alter: func(off uint64, d []byte) []byte {
		if off != syncproto.PhotoChunkBytes {
			return d
		}
		d = bytes.Clone(d)
		d[100] ^= 0x10
		return d
	}}
	pb := newStorePhotos(t, id)
	_, _, rb, _, eb := photoSession(t, ring, a, b, liar, pb, 0)
	var pe *syncproto.ProtocolError
	if !errors.As(eb, &pe) || pe.Code != syncproto.CodePhoto {
		t.Fatalf("an altered photo: %v, want a photo error", eb)
	}
	if rb.PhotosReceived != 1 { // the thumbnail, which came before
		t.Fatalf("received %d kinds of photos from the liar; want its thumbnail", rb.PhotosReceived)
	}
	if info, err := pb.s.Info(id); err != nil || info.Has(photos.Full) {
		t.Fatalf("after an altered photo: %+v, %v; want its thumbnail alone", info, err)
	}
	if held, _ := pb.s.Partial(id, photos.Full); held != 0 {
		t.Fatalf("%d bytes of the altered photo kept in part", held)
	}
	_, _, rb, ea, eb := photoSession(t, ring, a, b, honest, pb, 0)
	if ea != nil || eb != nil || rb.PhotosReceived != 1 {
		t.Fatalf("the honest session: %v, %v, %d received", ea, eb, rb.PhotosReceived)
	}
	if info, _ := pb.s.Info(id); !info.Has(photos.Full) {
		t.Fatal("the honest peer's photo was not kept")
	}
}

// A chunk not asked for, or not at the offset due, is refused and ends
// the session, saying so, with nothing of it kept.
func TestPhotoChunkOutOfPlaceRefused(t *testing.T) {
	ring := newRing()
	src := newStorePhotos(t)
	asked := src.keep(t, 400, 300, 4)
	other := src.keep(t, 200, 150, 5)
	chunk := func(id string, off uint64) *syncproto.PhotoChunk {
		h, _ := hex.DecodeString(id)
		data, size, _ := src.s.ReadAt(id, photos.Full, int64(off), syncproto.PhotoChunkBytes)
		return syncproto.NewPhotoChunk(syncproto.Hash(h), syncproto.PhotoFull, syncproto.Hash(h), uint64(size), off, data)
	}
	for _, c := range []struct {
		name  string
		chunk *syncproto.PhotoChunk
		says  string
	}{
		{"not asked for", chunk(other, 0), "which this node did not ask for"},
		{"a chunk ahead", chunk(asked, syncproto.PhotoChunkBytes), "the next asked for is at 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newPeer(t, ring, "laptop")
			pb := newStorePhotos(t, asked)
			cfg := b.config(ring)
			cfg.Photos = pb
			r, errc := withRogue(t, cfg)
			h := syncproto.NewHello(syncproto.NodeID{0x66, 6}, nil)
			h.Name, h.Role = "rogue-relay", syncproto.RoleRelay
			r.send(syncproto.MsgHello, &h)
			r.send(syncproto.MsgDone, &syncproto.Done{})
			wants := r.await(syncproto.MsgPhotoWants).(*syncproto.PhotoWants)
			if len(wants.Wants) != 2 {
				t.Fatalf("the node asked for %+v; want the thumbnail and the full image", wants.Wants)
			}
			r.send(syncproto.MsgPhotoChunk, c.chunk)
			wantCode(t, ended(t, errc), syncproto.CodePhoto, c.says)
			for _, id := range []string{asked, other} {
				if _, err := pb.s.Info(id); !errors.Is(err, photos.ErrNotFound) {
					t.Fatalf("photo %.8s: %v, want none of it here", id, err)
				}
				if held, _ := pb.s.Partial(id, photos.Full); held != 0 {
					t.Fatalf("photo %.8s: %d bytes kept in part", id, held)
				}
			}
		})
	}
}

// slowConn reads at most rate bytes a second, as a thin link delivers.
type slowConn struct {
	net.Conn
	rate int
}

func (c *slowConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p[:min(len(p), 4096)])
	time.Sleep(time.Duration(n) * time.Second / time.Duration(c.rate))
	return n, err
}

// A peer that takes a photo for longer than Idle, sending nothing back
// while it reads (a relay on a thin link), keeps the session: the
// sender's writes going through say the peer is there, though the
// sender's own read waits longer than Idle.
func TestSlowPhotoReceiverIsNotIdle(t *testing.T) {
	ring := newRing()
	a, b := newPeer(t, ring, "relay"), newPeer(t, ring, "laptop")
	pa := newStorePhotos(t)
	id := pa.keep(t, 1100, 880, 1)
	info, _ := pa.s.Info(id)
	size := info.Bytes[photos.Full]
	pb := newStorePhotos(t, id)
	pb.names = []string{id}
	// The full image alone: a thumbnail held is checked against the full
	// image as it comes, a decoding that takes over Idle under the race
	// detector.
	pb.kinds = []photos.Kind{photos.Full}

	const idle = 400 * time.Millisecond
	ca, cb := net.Pipe()
	// The photo takes about five times Idle to cross.
	slow := &slowConn{Conn: cb, rate: int(size * int64(time.Second) / int64(5*idle))}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfgA, cfgB := a.config(ring), b.config(ring)
	cfgA.Photos, cfgB.Photos = pa, pb
	cfgA.Idle, cfgB.Idle = idle, idle
	var ea, eb error
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	go func() { defer wg.Done(); _, ea = Run(ctx, ca, cfgA); ca.Close() }()
	go func() { defer wg.Done(); _, eb = Run(ctx, slow, cfgB); cb.Close() }()
	wg.Wait()
	if ea != nil || eb != nil {
		t.Fatalf("a photo read slowly ended the session after %v: sender %v; receiver %v", time.Since(start).Round(time.Millisecond), ea, eb)
	}
	got, err := pb.s.Info(id)
	if err != nil || !got.Has(photos.Full) || got.Bytes[photos.Full] != info.Bytes[photos.Full] {
		t.Fatalf("the photo did not arrive whole: %v, %v", got.Bytes, err)
	}
}

// From version 7, the full images a side asks headquarters' word on are
// answered in the peer's PhotoKept, and taken; a word of a photo it did
// not ask about ends the session, saying so, with nothing taken.
func TestConfirmationsAnswerWhatWasAsked(t *testing.T) {
	ring := newRing()
	a, b := newPeer(t, ring, "relay"), newPeer(t, ring, "laptop")
	pa, pb := newStorePhotos(t), newStorePhotos(t)
	asked := syncproto.Hash{0xab, 1}
	pb.unconfirmed = []syncproto.Hash{asked}
	pa.certs = [][]byte{{0x30}}
	pa.words = []syncproto.PhotoHeld{{ID: asked, Sig: make([]byte, 64)}}
	_, _, rb, ea, eb := photoSession(t, ring, a, b, pa, pb, 0)
	if ea != nil || eb != nil {
		t.Fatal(ea, eb)
	}
	if len(pb.confirmed) != 1 || pb.confirmed[0].ID != asked || rb.PhotosConfirmed != 1 || len(pa.confirmed) != 0 {
		t.Fatalf("the laptop took %d words (%d counted), the relay %d; want 1 and 0", len(pb.confirmed), rb.PhotosConfirmed, len(pa.confirmed))
	}

	pb.confirmed = nil
	pa.words = append(pa.words, syncproto.PhotoHeld{ID: syncproto.Hash{0xab, 2}, Sig: make([]byte, 64)})
	_, _, _, _, eb = photoSession(t, ring, a, b, pa, pb, 0)
	var pe *syncproto.ProtocolError
	if !errors.As(eb, &pe) || pe.Code != syncproto.CodePhoto || !strings.Contains(eb.Error(), "ab02000000000000, which this node did not ask about") {
		t.Fatalf("a word not asked about: %v", eb)
	}
	if len(pb.confirmed) != 0 {
		t.Fatal("words were taken from a PhotoKept that was refused")
	}
}
