package desktop

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A laptop holds only the thumbnails of another laptop's photos; when a
// person opens one, the viewer asks the relay for the full image and shows
// it: the bytes whose SHA-256 is the photo's id, as the relay holds them.
func TestOpenedPhotoFetchesItsFullImage(t *testing.T) {
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	field := func(cfg *node.Config) { cfg.SyncAddr = "" }
	a := c.Add("cayo-laptop-07", syncproto.RoleField, "Cayo", field)
	b := c.Add("cayo-laptop-08", syncproto.RoleField, "Cayo", field)

	img := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7 % 251)
	}
	var pic bytes.Buffer
	if err := jpeg.Encode(&pic, img, nil); err != nil {
		t.Fatal(err)
	}
	p, err := a.Node.AddPhoto(ctx, &pic)
	if err != nil {
		t.Fatal(err)
	}
	rec := fmt.Sprintf(`{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[%q]}`, p.Hash)
	id, err := a.Node.Add(ctx, "damage-assessment", []byte(rec), "Ana Cho")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node.Node{a.Node, b.Node} {
		if _, err := n.Sync(ctx, relay.Addr); err != nil {
			t.Fatal(err)
		}
	}
	if rc, err := b.Node.Photo(p.Hash, false); err == nil {
		rc.Close()
		t.Fatal("the other laptop holds the full image before anyone opened it")
	}
	rc, err := relay.Node.Photo(p.Hash, false)
	if err != nil {
		t.Fatalf("the relay lacks the full image: %v", err)
	}
	want, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sha(want) != p.Hash {
		t.Fatal("the relay's full image is not the photo its id names")
	}

	u := uiOver(t, b.Node)
	v := u.screens.records
	u.bg.Wait()
	v.open(id.String())
	u.bg.Wait()
	thumbs := objectsIn[*tappable](v.detail)
	if len(thumbs) != 1 {
		t.Fatalf("the record view shows %d photos, want 1", len(thumbs))
	}
	test.Tap(thumbs[0])
	u.bg.Wait()
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no viewer opened")
	}
	if shown := shownImages(top); len(shown) != 1 || !bytes.Equal(shown[0], want) {
		t.Fatalf("the viewer shows %d images, not the full image fetched (texts %q)", len(shown), strings.Join(overlayTexts(u.win), " | "))
	}
	if rc, err := b.Node.Photo(p.Hash, false); err != nil {
		t.Fatalf("the full image opened is not kept on the laptop: %v", err)
	} else {
		rc.Close()
	}
}
