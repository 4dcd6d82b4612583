package node_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/node/peersync"
	"lifeline/node/photos"
	"lifeline/syncproto"
)

// Photos as a modified laptop sends them: the relay asks for what its
// records name, and the laptop answers with bytes no honest node makes.

// noiseJPEG is a w×h JPEG of random pixels.
func noiseJPEG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, 5))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSize is a JPEG whose frame header (SOF0: marker, length, precision,
// then height and width, big-endian) says w×h, found by walking the
// segments from the start of the file.
func withSize(t *testing.T, jpg []byte, w, h int) []byte {
	t.Helper()
	out := bytes.Clone(jpg)
	for p := 2; p+4 <= len(out) && out[p] == 0xFF; p += 2 + int(binary.BigEndian.Uint16(out[p+2:])) {
		if out[p+1] == 0xC0 {
			binary.BigEndian.PutUint16(out[p+5:], uint16(h))
			binary.BigEndian.PutUint16(out[p+7:], uint16(w))
			return out
		}
	}
	t.Fatal("no SOF0 segment")
	return nil
}

// madeUpPhoto is a photo id no node holds.
func madeUpPhoto(seed string) node.Photo {
	sum := sha256.Sum256([]byte(seed))
	return node.Photo{Hash: hex.EncodeToString(sum[:])}
}

// serveKind answers for one kind of one photo with b, chunk by chunk,
// and serves nothing else.
func serveKind(p node.Photo, k uint8, b []byte) func(syncproto.Hash, uint8, uint64) ([]byte, uint64, syncproto.Hash, error) {
	return func(id syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error) {
		if hex.EncodeToString(id[:]) != p.Hash || kind != k {
			return nil, 0, syncproto.Hash{}, peersync.ErrNotServed
		}
		end := min(off+syncproto.PhotoChunkBytes, uint64(len(b)))
		return b[off:end], uint64(len(b)), sha256.Sum256(b), nil
	}
}

// A thumbnail is never dropped, and is decoded wherever its record is
// listed: a laptop that answers for the thumbnails of the photos its
// records name with one of 2 MiB, and one whose header says 6,000 × 6,000
// pixels, has both refused by the relay, which keeps nothing of them and
// goes on syncing.
func TestThumbnailsOverTheirBoundsAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	log := &syncBuffer{}
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", func(cfg *node.Config) { cfg.Log = slog.New(slog.NewTextHandler(log, nil)) })
	thief := laptop(c, "cayo-66", "Cayo", nil)
	heavy, wide := madeUpPhoto("heavy"), madeUpPhoto("wide")
	if _, err := thief.Node.Add(ctx, "damage-assessment", []byte(photoRecord(heavy, wide)), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := thief.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	small := noiseJPEG(t, 64, 48, 1)
	for _, f := range []struct {
		what  string
		photo node.Photo
		thumb []byte
	}{
		{"a thumbnail of 2 MiB", heavy, append(bytes.Clone(small), make([]byte, 2<<20)...)},
		{"a thumbnail of 6,000 × 6,000 pixels", wide, withSize(t, small, 6000, 6000)},
	} {
		msg := refusedBy(t, log, thief.Node, func() {
			node.SyncServingPhotos(thief.Node, ctx, relay.Addr, serveKind(f.photo, syncproto.PhotoThumb, f.thumb))
		})
		if !strings.Contains(msg, "photo too large") {
			t.Errorf("%s: the relay logged %q; want it to say the photo is too large", f.what, msg)
		}
		s, err := relay.Node.PhotoStore()
		if err != nil {
			t.Fatal(err)
		}
		if info, err := s.Info(f.photo.Hash); err == nil && info.Has(photos.Thumb) {
			t.Errorf("%s: the relay keeps it (%d bytes)", f.what, info.Bytes[photos.Thumb])
		}
	}
	if _, arriving, err := relay.Node.PhotosWaiting(); err != nil || arriving != 0 {
		t.Fatalf("the relay holds %d photos in part (%v); want none", arriving, err)
	}
	honestPhotoReaches(t, c, relay, 300, 200, 7)
}

// A full image whose bytes hash to its id but are no JPEG is the peer's
// doing: the relay refuses it, ending the session, and keeps nothing of
// it, not even in part: kept, it would be asked for from its last chunk in
// every session after, and its bytes stay on the disk for good.
func TestAFullImageThatIsNoJPEGIsDroppedWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	log := &syncBuffer{}
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", func(cfg *node.Config) { cfg.Log = slog.New(slog.NewTextHandler(log, nil)) })
	thief := laptop(c, "cayo-66", "Cayo", nil)
	junk := bytes.Repeat([]byte("not a photo "), 3*syncproto.PhotoChunkBytes/12+5)
	sum := sha256.Sum256(junk)
	p := node.Photo{Hash: hex.EncodeToString(sum[:])}
	if _, err := thief.Node.Add(ctx, "damage-assessment", []byte(photoRecord(p)), "x"); err != nil {
		t.Fatal(err)
	}
	msg := refusedBy(t, log, thief.Node, func() {
		node.SyncServingPhotos(thief.Node, ctx, relay.Addr, serveKind(p, syncproto.PhotoFull, junk))
	})
	if !strings.Contains(msg, "no JPEG") {
		t.Errorf("the relay logged %q; want it to say the photo is no JPEG", msg)
	}
	s, err := relay.Node.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(p.Hash); err == nil && info.Has(photos.Full) {
		t.Fatal("the relay keeps it")
	}
	if held, err := s.Partial(p.Hash, photos.Full); err != nil || held != 0 {
		t.Fatalf("the relay holds %d bytes of it in part (%v); want none", held, err)
	}
}

// A laptop that names another's photo sends the relay its first chunk
// under another size than the photo's, and stops. The honest laptop that
// holds the photo is then asked for it from the second chunk, under the
// photo's own size: nothing says which of the two lied, so the relay drops
// what it holds in part and goes on, and the next session brings the photo
// whole. Before, the relay refused the honest laptop's chunk as out of
// place, ending each of its sessions, and the photo never came.
func TestAPartialPoisonedByOnePeerDoesNotBlockThePhoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	honest := laptop(c, "cayo-08", "Cayo", nil)
	p := addNoisePhoto(t, honest.Node, 900, 700, 9)
	if p.Bytes < 3*syncproto.PhotoChunkBytes {
		t.Fatalf("the photo is %d bytes; want several chunks", p.Bytes)
	}
	if _, err := thief.Node.Add(ctx, "damage-assessment", []byte(photoRecord(p)), "x"); err != nil {
		t.Fatal(err)
	}
	lie := uint64(p.Bytes) + syncproto.PhotoChunkBytes
	node.SyncServingPhotos(thief.Node, ctx, relay.Addr, func(id syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error) {
		if hex.EncodeToString(id[:]) != p.Hash || kind != syncproto.PhotoFull || off > 0 {
			return nil, 0, syncproto.Hash{}, peersync.ErrNotServed
		}
		return make([]byte, syncproto.PhotoChunkBytes), lie, id, nil
	})
	s, err := relay.Node.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}
	if held, err := s.Partial(p.Hash, photos.Full); err != nil || held != syncproto.PhotoChunkBytes {
		t.Fatalf("the relay holds %d bytes of the photo in part (%v); want the thief's chunk", held, err)
	}
	if _, err := honest.Node.Add(ctx, "damage-assessment", []byte(photoRecord(p)), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := honest.Node.Sync(ctx, relay.Addr); err != nil {
			t.Fatalf("the honest laptop's session %d: %v", i+1, err)
		}
	}
	if thumb, full := photoKinds(t, relay.Node, p); !thumb || !full {
		t.Fatalf("the relay holds the honest laptop's photo: thumbnail %v, full image %v; want both", thumb, full)
	}
}

// diskBytes is what the files under dir take, by their sizes.
func diskBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A laptop names seven photos no one holds, and sends the relay 2 MiB of
// each, declared as 3 MiB, and no more: what a relay holds in part stays
// until the rest comes. It counts in the photo budget as a whole photo
// does: with 12 MiB (below a peer's least share, one photo of the largest
// size, so that the budget is what bounds it), the relay takes five and
// gives up the others, and an honest laptop's photo still comes. Before,
// the seven took 14 MiB of a disk the budget bounds at 12, and as many
// more at every session.
func TestPhotosHeldInPartCountInTheBudget(t *testing.T) {
	t.Parallel()
	const limit, declared, sent = 12 << 20, 3 << 20, 2 << 20
	c, relay, s, held := photosLeftInPart(t, 7, limit, declared, sent)
	dir := filepath.Join(relay.Config.DataDir, node.PhotosDir)
	if used := diskBytes(t, dir); held != 5 || used > limit {
		t.Fatalf("the relay holds %d photos in part, its photos take %d MiB of disk; want 5, within the budget of %d MiB", held, used>>20, limit>>20)
	}
	if b, err := s.Budget(); err != nil || b.Used < 5*sent {
		t.Fatalf("the budget counts %d MiB used (%v); want what is held in part", b.Used>>20, err)
	}
	honestPhotoReaches(t, c, relay, 900, 700, 11)
}

// A laptop names ten photos no one holds, and sends the relay all but the
// last chunk of each, declared as 4 MiB: ten of them, 39.4 MiB, left a
// budget of 40 MiB too little for any honest photo over 0.6 MiB, for as
// long as the laptop was not revoked and photos/partial/ not emptied. What
// one peer begins and does not end now declares at most its share, a
// quarter of the budget and at least 16 MiB: the relay holds four of them,
// and an honest laptop's photo of 1,600 × 1,200 pixels of noise, about
// 3 MiB, comes whole.
func TestAPeersPhotosInPartKeepToItsShare(t *testing.T) {
	t.Parallel()
	const declared = 4 << 20
	c, relay, _, held := photosLeftInPart(t, 10, 40<<20, declared, declared-syncproto.PhotoChunkBytes)
	if held*declared > 16<<20 {
		t.Fatalf("the relay holds %d of the thief's photos in part, %d MiB declared; want at most 16 MiB", held, held*declared>>20)
	}
	honestPhotoReaches(t, c, relay, 1600, 1200, 13)
}

// photosLeftInPart has a Cayo relay with a photo budget of limit bytes
// synced with by a thief's laptop that names n photos no one holds and
// serves the first sent bytes of each, declared as declared bytes, and no
// more. It gives the relay's photo store and how many of the photos it
// holds in part.
func photosLeftInPart(t *testing.T, n int, limit, declared, sent uint64) (*nodetest.Cluster, *nodetest.Member, *photos.Store, int) {
	t.Helper()
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	s, err := relay.Node.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetBudget(int64(limit >> 20)); err != nil {
		t.Fatal(err)
	}
	var fake []node.Photo
	for i := range n {
		fake = append(fake, madeUpPhoto(fmt.Sprint("part ", i)))
	}
	if _, err := thief.Node.Add(ctx, "damage-assessment", []byte(photoRecord(fake...)), "x"); err != nil {
		t.Fatal(err)
	}
	node.SyncServingPhotos(thief.Node, ctx, relay.Addr, func(id syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error) {
		if kind != syncproto.PhotoFull || off >= sent {
			return nil, 0, syncproto.Hash{}, peersync.ErrNotServed
		}
		return make([]byte, syncproto.PhotoChunkBytes), declared, id, nil
	})
	held := 0
	for _, p := range fake {
		if n, err := s.Partial(p.Hash, photos.Full); err != nil {
			t.Fatal(err)
		} else if n > 0 {
			held++
		}
	}
	return c, relay, s, held
}

// honestPhotoReaches has an honest Cayo laptop send relay a record with a
// photo of w×h pixels: its thumbnail and full image reach the relay.
func honestPhotoReaches(t *testing.T, c *nodetest.Cluster, relay *nodetest.Member, w, h int, seed uint64) {
	t.Helper()
	ctx := context.Background()
	honest := laptop(c, "cayo-08", "Cayo", nil)
	p := addNoisePhoto(t, honest.Node, w, h, seed)
	if _, err := honest.Node.Add(ctx, "damage-assessment", []byte(photoRecord(p)), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	if _, err := honest.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if thumb, full := photoKinds(t, relay.Node, p); !thumb || !full {
		t.Fatalf("the honest laptop's photo reached the relay: thumbnail %v, full image %v; want both", thumb, full)
	}
}

// withBar is a JPEG of the picture b with a white bar drawn across its
// middle third: what a modified node may pass off as a photo's thumbnail.
func withBar(t *testing.T, b []byte) []byte {
	t.Helper()
	src, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(src.Bounds())
	draw.Draw(img, img.Rect, src, src.Bounds().Min, draw.Src)
	h := img.Rect.Dy()
	draw.Draw(img, image.Rect(0, h/3, img.Rect.Dx(), 2*h/3), image.NewUniform(color.White), image.Point{}, draw.Src)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A laptop names an honest laptop's photo in a record of its own and
// sends the relay, which lacks it, another picture as its thumbnail. The
// relay holds it until the full image comes from the honest laptop,
// checks it against the full image then, and drops it; the laptop's next
// try is refused as it comes, ending its session; and the honest laptop's
// thumbnail comes in the next session. Before, the first thumbnail that
// came was kept for good, and passed on to every node that asked.
func TestAThumbnailNotOfItsPhotoDoesNotStay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	log := &syncBuffer{}
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", func(cfg *node.Config) { cfg.Log = slog.New(slog.NewTextHandler(log, nil)) })
	thief := laptop(c, "cayo-66", "Cayo", nil)
	honest := laptop(c, "cayo-08", "Cayo", nil)
	p := addNoisePhoto(t, honest.Node, 900, 700, 21)
	if _, err := honest.Node.Add(ctx, "damage-assessment", []byte(photoRecord(p)), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	rc, err := honest.Node.Photo(p.Hash, true)
	if err != nil {
		t.Fatal(err)
	}
	thumb, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	forged := withBar(t, thumb)
	if _, err := thief.Node.Add(ctx, "damage-assessment", []byte(photoRecord(p)), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := node.SyncServingPhotos(thief.Node, ctx, relay.Addr, serveKind(p, syncproto.PhotoThumb, forged)); err != nil {
		t.Fatal(err)
	}
	s, err := relay.Node.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(p.Hash); err != nil || !info.Has(photos.Thumb) {
		t.Fatalf("before the full image, the relay holds %+v (%v); want the thumbnail, unchecked", info, err)
	}
	if _, err := honest.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(p.Hash); err != nil || info.Has(photos.Thumb) || !info.Has(photos.Full) {
		t.Fatalf("after the full image, the relay holds %+v (%v); want the full image and no thumbnail", info, err)
	}
	msg := refusedBy(t, log, thief.Node, func() {
		node.SyncServingPhotos(thief.Node, ctx, relay.Addr, serveKind(p, syncproto.PhotoThumb, forged))
	})
	if !strings.Contains(msg, "thumbnail not of its photo") {
		t.Errorf("the relay logged %q; want it to say the thumbnail is not of its photo", msg)
	}
	if _, err := honest.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if thumb, full := photoKinds(t, relay.Node, p); !thumb || !full {
		t.Fatalf("the relay holds the honest laptop's photo: thumbnail %v, full image %v; want both", thumb, full)
	}
}

// A laptop names 400 photos no one holds, and answers for their
// thumbnails with 116 KiB of noise each: a thumbnail comes whatever the
// budget and is never dropped, so the 400 took 46 MiB of a relay's budget
// of 40, and no honest full image came after them (and a node asks for
// 4,096 a session, 1 GiB of thumbnails). The thumbnails of the photos one
// writer names now take at most its share, a quarter of the budget and at
// least 16 MiB: after three sessions of the laptop's, the relay holds no
// more of them, and an honest laptop's photo comes whole.
func TestThumbnailsOfMadeUpPhotosKeepToTheirWritersShare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	s, err := relay.Node.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}
	const limit = 40 << 20
	if err := s.SetBudget(limit >> 20); err != nil {
		t.Fatal(err)
	}
	var fake []node.Photo
	for r := range 40 {
		var ps []node.Photo
		for i := range 10 {
			ps = append(ps, madeUpPhoto(fmt.Sprint("flood ", r, " ", i)))
		}
		if _, err := thief.Node.Add(ctx, "damage-assessment", []byte(photoRecord(ps...)), "x"); err != nil {
			t.Fatal(err)
		}
		fake = append(fake, ps...)
	}
	thumb := noiseJPEG(t, 512, 384, 3)
	for range 3 {
		if _, err := node.SyncServingPhotos(thief.Node, ctx, relay.Addr, func(id syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error) {
			if kind != syncproto.PhotoThumb {
				return nil, 0, syncproto.Hash{}, peersync.ErrNotServed
			}
			end := min(off+syncproto.PhotoChunkBytes, uint64(len(thumb)))
			return thumb[off:end], uint64(len(thumb)), sha256.Sum256(thumb), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var held int64
	for _, p := range fake {
		if info, err := s.Info(p.Hash); err == nil && info.Has(photos.Thumb) {
			held += info.Bytes[photos.Thumb]
		}
	}
	if held == 0 || held > 16<<20 {
		t.Fatalf("the relay holds %.1f MiB of thumbnails of the laptop's made-up photos; want some, at most 16 MiB", float64(held)/(1<<20))
	}
	honestPhotoReaches(t, c, relay, 900, 700, 17)
}
