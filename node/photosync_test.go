package node_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// photoOf adds a photo of random pixels to a node (a JPEG the test
// makes), and returns its id.
func addNoisePhoto(t *testing.T, n *node.Node, w, h int, seed uint64) node.Photo {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	p, err := n.AddPhoto(context.Background(), &b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// photoKinds says which kinds of a photo a node holds, checked against the
// photo's id and thumb hash.
func photoKinds(t *testing.T, n *node.Node, p node.Photo) (thumb, full bool) {
	t.Helper()
	for _, k := range []bool{true, false} {
		rc, err := n.Photo(p.Hash, k)
		if err != nil {
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		sum := sha256.Sum256(b)
		want := p.Hash
		if k {
			want = p.ThumbHash
		}
		if err != nil || hex.EncodeToString(sum[:]) != want {
			t.Fatalf("the %v kind of %.8s does not match its hash (%v)", map[bool]string{true: "thumbnail", false: "full"}[k], p.Hash, err)
		}
		if k {
			thumb = true
		} else {
			full = true
		}
	}
	return thumb, full
}

// Photos travel in sessions after the records: a relay takes the
// thumbnails and full images of the records it holds; another laptop
// takes thumbnails alone, and a full image once a person opens it
// (FetchPhoto); a photo no record names, or only a record of another
// district, goes nowhere.
func TestPhotosTravelInSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	a := laptop(c, "cayo-07", "Cayo", nil)
	b := laptop(c, "cayo-08", "Cayo", nil)
	big := addNoisePhoto(t, a.Node, 900, 700, 1)
	small := addNoisePhoto(t, a.Node, 300, 200, 2)
	lone := addNoisePhoto(t, a.Node, 200, 100, 3) // named by no record
	if big.Bytes < 3*syncproto.PhotoChunkBytes {
		t.Fatalf("the big photo is %d bytes; want several chunks", big.Bytes)
	}
	rec := fmt.Sprintf(`{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[%q,%q]}`, big.Hash, small.Hash)
	if _, err := a.Node.Add(ctx, "damage-assessment", []byte(rec), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	res, err := a.Node.Sync(ctx, relay.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 1 || res.PhotosSent != 4 {
		t.Fatalf("the laptop sent %d changes and %d kinds of photos; want 1 and 4 (two thumbnails, two full images)", res.Sent, res.PhotosSent)
	}
	for _, p := range []node.Photo{big, small} {
		if thumb, full := photoKinds(t, relay.Node, p); !thumb || !full {
			t.Fatalf("the relay holds thumbnail %v, full image %v of %.8s; want both", thumb, full, p.Hash)
		}
	}
	if thumb, full := photoKinds(t, relay.Node, lone); thumb || full {
		t.Fatal("a photo no record names travelled")
	}

	if _, err := b.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	for _, p := range []node.Photo{big, small} {
		if thumb, full := photoKinds(t, b.Node, p); !thumb || full {
			t.Fatalf("another laptop holds thumbnail %v, full image %v of %.8s; want the thumbnail alone", thumb, full, p.Hash)
		}
	}
	got, err := b.Node.FetchPhoto(ctx, big.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != big.Hash || got.Bytes != big.Bytes {
		t.Fatalf("fetched %+v, want %+v", got, big)
	}
	if _, full := photoKinds(t, b.Node, big); !full {
		t.Fatal("the fetched photo is not here")
	}
	if _, full := photoKinds(t, b.Node, small); full {
		t.Fatal("a full image not asked for came with the one fetched")
	}
}

// A relay of another district is sent neither the records of Cayo nor
// their photos, even when a record of its own names one and it asks.
func TestPhotosFollowTheRecordsScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	cayo := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	toledo := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	a := laptop(c, "cayo-07", "Cayo", nil)
	p := addNoisePhoto(t, a.Node, 300, 200, 4)
	rec := fmt.Sprintf(`{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[%q]}`, p.Hash)
	if _, err := a.Node.Add(ctx, "damage-assessment", []byte(rec), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Node.Sync(ctx, cayo.Addr); err != nil {
		t.Fatal(err)
	}
	if thumb, full := photoKinds(t, cayo.Node, p); !thumb || !full {
		t.Fatal("the photo did not reach Cayo's relay")
	}
	// Toledo's relay has a record of its own naming the photo, and so
	// asks Cayo's relay for it, which holds it only of a Cayo record.
	theirs := fmt.Sprintf(`{"district":"Toledo","village":"San Antonio","lat":16.24,"lon":-89.03,"structure_type":"concrete block","damage_level":2,"household_size":5,"reported_by":"vol-1","reported_at":"2026-11-18T14:05:00-06:00","photos":[%q]}`, p.Hash)
	if _, err := toledo.Node.Add(ctx, "damage-assessment", []byte(theirs), "Luis Bol"); err != nil {
		t.Fatal(err)
	}
	res, err := toledo.Node.Sync(ctx, cayo.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.PhotosReceived != 0 {
		t.Fatalf("Toledo's relay received %d kinds of a Cayo photo", res.PhotosReceived)
	}
	if thumb, full := photoKinds(t, toledo.Node, p); thumb || full {
		t.Fatal("a photo of a Cayo record reached Toledo's relay")
	}
}

// A laptop writes records naming more photos than a session asks for
// (syncproto.MaxPhotoWants), that no node holds, with ids made to sort
// first. The relay asks for them once, then for the photos it has not
// asked for yet: an honest laptop's real photo still reaches it.
func TestPhotosNoNodeHoldsDoNotStarveTheRealOnes(t *testing.T) {
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	forger := laptop(c, "cayo-66", "Cayo", nil)
	honest := laptop(c, "cayo-08", "Cayo", nil)
	const perRecord = 10
	for i := range syncproto.MaxPhotoWants/perRecord + 1 {
		var ids []string
		for j := range perRecord {
			ids = append(ids, fmt.Sprintf("%q", fmt.Sprintf("0000%060x", i*perRecord+j)))
		}
		rec := fmt.Sprintf(`{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[%s]}`, strings.Join(ids, ","))
		if _, err := forger.Node.Add(ctx, "damage-assessment", []byte(rec), "x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := forger.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	real := addNoisePhoto(t, honest.Node, 300, 200, 2)
	rec := fmt.Sprintf(`{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[%q]}`, real.Hash)
	if _, err := honest.Node.Add(ctx, "damage-assessment", []byte(rec), "Ana"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := honest.Node.Sync(ctx, relay.Addr); err != nil {
			t.Fatal(err)
		}
	}
	if thumb, full := photoKinds(t, relay.Node, real); !thumb || !full {
		t.Fatalf("after two sessions the relay holds the honest laptop's photo: thumbnail %v, full %v; want both", thumb, full)
	}
}

// What the records name of photos is kept as they change: after records
// naming photos are added, edited to name others, edited on the node
// itself, and deleted, and after the node starts again, it names what the
// test wrote, as a read of every record does.
func TestPhotoReferencesFollowTheChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	a := laptop(c, "cayo-07", "Cayo", nil)
	var p []string
	for i := range 4 {
		p = append(p, addNoisePhoto(t, a.Node, 64, 48, uint64(10+i)).Hash)
	}
	var same func(step string, want ...string)
	record := func(names ...string) []byte {
		list := `"` + strings.Join(names, `","`) + `"`
		return []byte(`{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[` + list + `]}`)
	}
	check := func(step string, want ...string) {
		t.Helper()
		if _, err := a.Node.Sync(ctx, relay.Addr); err != nil {
			t.Fatal(err)
		}
		same(step, want...)
	}
	same = func(step string, want ...string) {
		t.Helper()
		kept, err := node.PhotoRefs(relay.Node, ctx)
		if err != nil {
			t.Fatal(err)
		}
		read, err := node.PhotoRefsRead(relay.Node, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(kept, read) {
			t.Fatalf("%s: the kept index says\n%v\na read of every record\n%v", step, kept, read)
		}
		if got := slices.Sorted(maps.Keys(kept)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Fatalf("%s: photos named %.8q, want %.8q", step, got, want)
		}
	}
	one, err := a.Node.Add(ctx, "damage-assessment", record(p[0], p[1]), "Ana Cho")
	if err != nil {
		t.Fatal(err)
	}
	check("a record naming two photos", p[0], p[1])
	if _, err := a.Node.Update(ctx, one, []byte(`{"photos":["`+p[2]+`"]}`), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	two, err := a.Node.Add(ctx, "damage-assessment", record(p[1]), "Ana Cho")
	if err != nil {
		t.Fatal(err)
	}
	check("the first edited to name another, a second naming one of the first's", p[1], p[2])
	if _, err := relay.Node.Update(ctx, two, []byte(`{"photos":["`+p[3]+`"]}`), "relay desk"); err != nil {
		t.Fatal(err)
	}
	check("the second edited on the relay", p[2], p[3])
	if err := a.Node.Delete(ctx, one, "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	check("the first deleted", p[3])
	// The relay started again reads what its store kept.
	relay.Stop()
	relay.Start()
	same("the relay started again", p[3])
}

// A sealed value is checked by the node that opens it, not as it came: a
// district's laptop, modified, seals into a missing-person report more
// photos than the field takes (ten), made up to be asked of every peer.
// The node that opens the value takes it to name none of them; a value the
// field takes names its photos.
func TestASealedValueOfMorePhotosThanItsFieldTakesNamesNone(t *testing.T) {
	ctx := context.Background()
	n := nodetest.Open(t, "relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	rec := syncproto.NewRecordID()
	made := func(k int) []string {
		var ids []string
		for i := range k {
			ids = append(ids, fmt.Sprintf("%064x", 0xf00+i))
		}
		return ids
	}
	report := func(ids []string) store.Record {
		raw, err := syncproto.Marshal(ids)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := node.SealAs(n, ctx, "Cayo", rec, "photos", raw)
		if err != nil {
			t.Fatal(err)
		}
		v := store.Version{Value: sealed, Stamp: store.Stamp{Origin: syncproto.NodeID{0xc7}, Lane: 1, Seq: 1}}
		return store.Record{ID: rec, Type: "missing-person", Kit: "missing-persons", Fields: []store.FieldView{{Name: "photos", Versions: []store.Version{v}}}}
	}
	if got := node.PhotosNamed(n, report(made(11))); len(got) != 0 {
		t.Fatalf("a sealed value of 11 photos names %d", len(got))
	}
	if got, want := node.PhotosNamed(n, report(made(10))), made(10); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Fatalf("a sealed value of 10 photos names %.10q, want %.10q", got, want)
	}
}
