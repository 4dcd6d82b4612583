package peersync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"strings"
	"testing"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// After its seal a bundle may hold a photo section and nothing else: the
// section goes, whole, to the photo sink with the key that sealed the
// bundle, once the records are applied; a reader without a sink passes
// over it; any other bytes after the seal refuse the bundle whole.
func TestBundlePhotoSectionAfterTheSeal(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a := newPeer(t, ring, "a")
	for i := range 5 {
		a.write(t, syncproto.NewRecordID(), true, 1, "n", i)
	}
	good := exportBundle(t, ring, a)
	trust := bundleTrust{ring}
	ctx := context.Background()

	b := newPeer(t, ring, "b")
	junk := append(bytes.Clone(good), "LIFELINE-PHOTOZ\n"...)
	if _, err := ImportWithPhotos(ctx, bytes.NewReader(junk), b, trust, nil, nil); !errors.Is(err, ErrBundle) || !strings.Contains(err.Error(), "bytes after the seal") {
		t.Fatalf("bytes after the seal: %v", err)
	}
	if v, _ := b.Vector(ctx); len(v) != 0 {
		t.Fatal("a refused bundle applied changes")
	}

	section := PhotoSectionMagic + strings.Repeat("photo bytes ", 10000)
	with := append(bytes.Clone(good), section...)
	var got []byte
	var by ed25519.PublicKey
	sink := func(_ context.Context, r io.Reader, writer ed25519.PublicKey) PhotosRead {
		if v, _ := b.Vector(ctx); len(v) == 0 {
			t.Error("the photo section was read before the records were applied")
		}
		got, _ = io.ReadAll(r)
		by = writer
		return PhotosRead{Kept: 7}
	}
	res, err := ImportWithPhotos(ctx, bytes.NewReader(with), b, trust, nil, sink)
	if err != nil || res.Applied != 5 || res.Photos.Kept != 7 {
		t.Fatalf("a bundle with photos: %+v, %v", res, err)
	}
	if string(got) != section || !by.Equal(a.key.Public()) {
		t.Fatalf("the sink read %d bytes by %x, want the %d of the section by the writer", len(got), by, len(section))
	}
	c := newPeer(t, ring, "c")
	if res, err := Import(ctx, bytes.NewReader(with), c, trust); err != nil || res.Applied != 5 {
		t.Fatalf("a reader without a sink: %+v, %v", res, err)
	}
}
