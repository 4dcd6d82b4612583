package desktop

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node/photos"
	"lifeline/syncproto"
)

// photoJPEG writes a w×h JPEG whose pixels seed varies, as a camera's
// file, and returns its path.
func photoJPEG(t *testing.T, dir string, w, h, seed int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*seed + i/(4*w))
	}
	img.SetRGBA(0, 0, color.RGBA{uint8(seed), 0, 0, 255})
	path := filepath.Join(dir, fmt.Sprintf("IMG_%04d.jpg", seed))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return path
}

// objectsIn are the objects of type T under o, widgets' parts included.
func objectsIn[T any](o fyne.CanvasObject) []T {
	var out []T
	if x, ok := o.(T); ok {
		out = append(out, x)
	}
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			out = append(out, objectsIn[T](c)...)
		}
	case *container.Scroll:
		out = append(out, objectsIn[T](x.Content)...)
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			out = append(out, objectsIn[T](c)...)
		}
	}
	return out
}

// shownImages are the bytes of the photos under o (not of the icons).
func shownImages(o fyne.CanvasObject) [][]byte {
	var out [][]byte
	for _, img := range objectsIn[*canvas.Image](o) {
		if img.Resource != nil && img.Visible() && strings.HasSuffix(img.Resource.Name(), ".jpg") {
			out = append(out, img.Resource.Content())
		}
	}
	return out
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// stored reads a photo's full image, or thumbnail, from the node's store.
func stored(t *testing.T, u *UI, id string, thumb bool) []byte {
	t.Helper()
	r, err := u.node.Photo(id, thumb)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	if _, err := io.CopyBuffer(struct{ io.Writer }{&b}, r, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A photo added to a form's photo field is kept by the node, shrunk, its
// thumbnail shown in the field; the record saved holds its id; the list
// shows the thumbnail beside the record, the record view shows it, and
// tapped it opens the full image.
func TestPhotoFieldAddsShowsAndSaves(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "3")
	test.Type(fm.input(t, "household_size").entry, "5")
	pf := fm.input(t, "photos").photos
	pf.addFiles([]string{photoJPEG(t, t.TempDir(), 400, 300, 3)})
	u.bg.Wait()

	held, err := u.node.Photos()
	if err != nil || len(held) != 1 {
		t.Fatalf("the node holds %d photos (%v), want the one added", len(held), err)
	}
	id := held[0].Hash
	if full := stored(t, u, id, false); sha(full) != id {
		t.Fatal("the photo's id is not the SHA-256 of its full image")
	} else if c, err := jpeg.DecodeConfig(bytes.NewReader(full)); err != nil || c.Width != 400 || c.Height != 300 {
		t.Fatalf("the full image is %dx%d (%v), want 400×300", c.Width, c.Height, err)
	}
	if !slices.Equal(pf.refs, []string{id}) {
		t.Fatalf("the field names %q, want the photo's id %s", pf.refs, id)
	}
	thumb := stored(t, u, id, true)
	if c, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err != nil || c.Width != 256 || c.Height != 192 {
		t.Fatalf("the thumbnail is %dx%d (%v), want 256×192", c.Width, c.Height, err)
	}
	if shown := shownImages(pf.tiles); len(shown) != 1 || !bytes.Equal(shown[0], thumb) {
		t.Fatalf("the field shows %d images, want the photo's thumbnail", len(shown))
	}

	rec := fm.saveOne(t, u)
	if got := fmt.Sprint(rec.Fields["photos"]); got != fmt.Sprint([]any{id}) {
		t.Fatalf("the record's photos are %s, want [%s]", got, id)
	}
	if len(pf.refs) != 0 || len(shownImages(pf.tiles)) != 0 {
		t.Fatal("the form still shows the photo after saving")
	}

	v := u.screens.records
	u.bg.Wait()
	if len(v.shown) != 1 || v.shown[0].photo != id {
		t.Fatalf("the list's row names photo %q, want %s", v.shown[0].photo, id)
	}
	row := v.newRow()
	v.fillRow(0, row)
	if shown := shownImages(row); len(shown) != 1 || !bytes.Equal(shown[0], thumb) {
		t.Fatalf("the list's row shows %d images, want the thumbnail", len(shown))
	}

	v.open(rec.ID)
	u.bg.Wait()
	thumbs := objectsIn[*tappable](v.detail)
	if len(thumbs) != 1 || !bytes.Equal(shownImages(thumbs[0])[0], thumb) {
		t.Fatalf("the record shows %d photos, want its thumbnail", len(thumbs))
	}
	test.Tap(thumbs[0])
	u.bg.Wait()
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("tapping the thumbnail opened nothing")
	}
	if shown := shownImages(top); len(shown) != 1 || sha(shown[0]) != id {
		t.Fatalf("the viewer shows %d images, want the full image", len(shown))
	}
}

// A folder adds its JPEG and PNG files as a job behind the window, and a
// file dropped on the window goes to the form's photo field; Remove takes
// a photo out of the field, and the draft keeps what the field names.
func TestPhotoFieldFolderDropAndRemove(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, "Initial damage assessment", "Building damage assessment")
	pf := fm.input(t, "photos").photos
	dir := t.TempDir()
	a := photoJPEG(t, dir, 300, 200, 5)
	photoJPEG(t, dir, 200, 300, 6)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a photo"), 0o600)
	pf.addFiles([]string{dir})
	u.bg.Wait()
	if len(pf.refs) != 2 {
		t.Fatalf("the folder added %d photos, want its 2 JPEGs", len(pf.refs))
	}
	if got := u.jobs.label.Text; got != "2 of 2 photos added." {
		t.Fatalf("the status line says %q", got)
	}
	first := pf.refs[0]
	if fromA := sha(stored(t, u, first, false)); fromA != first {
		t.Fatal("the first photo's id is not the hash of its full image")
	}

	dropped := photoJPEG(t, t.TempDir(), 400, 400, 7)
	u.tabs.SelectIndex(0)
	u.dropPhotos(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(dropped)})
	u.bg.Wait()
	if len(pf.refs) != 3 {
		t.Fatalf("after a drop the field names %d photos, want 3", len(pf.refs))
	}
	// The same file again is the same photo, named once.
	u.dropPhotos(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(a)})
	u.bg.Wait()
	if len(pf.refs) != 3 {
		t.Fatalf("a photo added twice is named %d times", len(pf.refs)-2)
	}

	var remove *widget.Button
	for _, btn := range objectsIn[*widget.Button](pf.tiles) {
		if btn.Text == "Remove" {
			remove = btn
			break
		}
	}
	test.Tap(remove)
	if len(pf.refs) != 2 || slices.Contains(pf.refs, first) {
		t.Fatalf("Remove left %q", pf.refs)
	}
	d := readDraft(t, u, fm)
	if got := strings.Fields(strings.Join(d["photos"], "\n")); !slices.Equal(got, pf.refs) {
		t.Fatalf("the draft keeps photos %q, want %q", got, pf.refs)
	}
}

// readDraft reads the draft of a form.
func readDraft(t *testing.T, u *UI, fm *form) map[string][]string {
	t.Helper()
	b, err := u.readDraftFile(fm.draftFile())
	if err != nil {
		t.Fatal(err)
	}
	var d map[string][]string
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// A photo a record names that is not on this computer yet is on its way,
// in both languages, in the record and in the viewer, not an error; one
// whose thumbnail came but not its full image opens as its thumbnail. The
// Edit form shows the same photos, takes a file dropped on the window, and
// saves the photos it names.
func TestPhotoOnItsWayAndEdited(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	u.bg.Wait()
	elsewhere, thumbOnly := strings.Repeat("7c", 32), strings.Repeat("3d", 32)
	var small bytes.Buffer
	if err := jpeg.Encode(&small, image.NewRGBA(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	store, err := u.node.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := store.Receive(thumbOnly, photos.Thumb, sha(small.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rcv.Write(small.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := rcv.Commit(); err != nil {
		t.Fatal(err)
	}
	obj := fmt.Sprintf(`{"district": "Cayo", "village": "Bullet Tree", "lat": 17.19, "lon": -89.1,
		"structure_type": "thatch", "damage_level": 2, "household_size": 4, "displaced": true,
		"reported_by": "vol-9", "reported_at": "2024-11-27T05:00:00-06:00", "photos": [%q, %q]}`, elsewhere, thumbOnly)
	id, err := u.node.Add(u.ctx, "damage-assessment", []byte(obj), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, short, long, thumb string }{
		{"en", "On its way", "This photo is on its way", "the full photo is on its way"},
		{"es", "En camino", "Esta foto está en camino", "la foto completa está en camino"},
	} {
		if err := u.SetLang(c.lang); err != nil {
			t.Fatal(err)
		}
		v := u.screens.records
		u.bg.Wait()
		v.open(id.String())
		u.bg.Wait()
		thumbs := objectsIn[*tappable](v.detail)
		if len(thumbs) != 2 || !slices.Contains(labelTextsIn(thumbs[0]), c.short) {
			t.Fatalf("%s: the record shows %d photos, the first %q, want %q", c.lang, len(thumbs), labelTextsIn(thumbs[0]), c.short)
		}
		if shown := shownImages(thumbs[1]); len(shown) != 1 || !bytes.Equal(shown[0], small.Bytes()) {
			t.Fatalf("%s: the photo whose thumbnail came does not show it", c.lang)
		}
		test.Tap(thumbs[0])
		u.bg.Wait()
		if said := strings.Join(overlayTexts(u.win), "\n"); !strings.Contains(said, c.long) {
			t.Fatalf("%s: the viewer says %q, want %q", c.lang, said, c.long)
		}
		u.win.Canvas().Overlays().Top().Hide()
		test.Tap(thumbs[1])
		u.bg.Wait()
		top := u.win.Canvas().Overlays().Top()
		if said := strings.Join(overlayTexts(u.win), "\n"); !strings.Contains(said, c.thumb) {
			t.Fatalf("%s: the viewer of a thumbnail says %q, want %q", c.lang, said, c.thumb)
		}
		if shown := shownImages(top); len(shown) != 1 || !bytes.Equal(shown[0], small.Bytes()) {
			t.Fatalf("%s: the viewer does not show the thumbnail while the full image is on its way", c.lang)
		}
		top.Hide()
	}

	fm := editRecord(t, u, id)
	pf := fm.input(t, "photos").photos
	if !slices.Equal(pf.refs, []string{elsewhere, thumbOnly}) {
		t.Fatalf("the Edit form names photos %q", pf.refs)
	}
	u.tabs.SelectIndex(1)
	u.dropPhotos(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(photoJPEG(t, t.TempDir(), 120, 90, 9))})
	u.bg.Wait()
	if len(pf.refs) != 3 {
		t.Fatalf("a photo dropped on the Edit form: it names %q", pf.refs)
	}
	added := pf.refs[2]
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	rec, err := u.node.Record(u.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(rec.Fields["photos"]), fmt.Sprint([]any{elsewhere, thumbOnly, added}); got != want {
		t.Fatalf("after the edit the record's photos are %s, want %s", got, want)
	}
	if sha(stored(t, u, added, false)) != added {
		t.Fatal("the photo added in the edit is not in the store under its hash")
	}
}

func labelTextsIn(o fyne.CanvasObject) []string {
	var out []string
	for _, l := range objectsIn[*widget.Label](o) {
		out = append(out, l.Text)
	}
	return out
}

// Headquarters' export with "Photos too" writes, beside its file, a folder
// of the records' photos, each full image named by its SHA-256, and says
// how many photos are not here yet.
func TestPhotoHQExportWritesTheImages(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	u.bg.Wait()
	ph, err := u.node.AddPhotoFile(u.ctx, photoJPEG(t, t.TempDir(), 160, 120, 11))
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := strings.Repeat("e1", 32)
	obj := fmt.Sprintf(`{"district": "Cayo", "village": "Bullet Tree", "lat": 17.19, "lon": -89.1,
		"structure_type": "thatch", "damage_level": 2, "household_size": 4, "displaced": true,
		"reported_by": "vol-9", "reported_at": "2024-11-27T05:00:00-06:00", "photos": [%q, %q]}`, ph.Hash, elsewhere)
	if _, err := u.node.Add(u.ctx, "damage-assessment", []byte(obj), "test"); err != nil {
		t.Fatal(err)
	}
	v := u.newHQView()
	v.photos.SetChecked(true)
	dir := t.TempDir()
	v.exportTo(dir, "damage-assessment", hqCSV, false)
	u.bg.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "damage-assessment-*.csv"))
	if len(files) != 1 {
		t.Fatalf("files %v; the screen says %q", files, v.result.Text)
	}
	pics := strings.TrimSuffix(files[0], ".csv") + "-photos"
	entries, err := os.ReadDir(pics)
	if err != nil || len(entries) != 1 || entries[0].Name() != ph.Hash+".jpg" {
		t.Fatalf("the photos folder holds %v (%v), want %s.jpg", entries, err, ph.Hash)
	}
	b, err := os.ReadFile(filepath.Join(pics, ph.Hash+".jpg"))
	if err != nil || sha(b) != ph.Hash {
		t.Fatalf("the image written does not hash to its name (%v)", err)
	}
	if want := fmt.Sprintf("Photos: 1 full images and 0 thumbnails only (named .thumb.jpg: the full photo is not here yet) in %s; 1 not on this computer yet.", pics); !strings.HasSuffix(v.result.Text, want) {
		t.Fatalf("the screen says %q, want it to end %q", v.result.Text, want)
	}
}

// A pipe named like a photo, in a folder of photos or dropped on the
// window, is not opened: opening it waits for a writer, and the photo's
// progress dialog, or the status line's job, waited with it for good.
// The folder's photos are added without it; the pipe dropped is refused,
// saying what it is.
func TestAPipeNamedLikeAPhotoIsNotOpened(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, "Initial damage assessment", "Building damage assessment")
	pf := fm.input(t, "photos").photos
	dir := t.TempDir()
	photoJPEG(t, dir, 300, 200, 5)
	pipe := filepath.Join(dir, "IMG_2043.jpg")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	pf.addFiles([]string{dir})
	u.bg.Wait()
	if len(pf.refs) != 1 {
		t.Fatalf("the folder added %d photos, want its one JPEG", len(pf.refs))
	}
	u.dropPhotos(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(pipe)})
	u.bg.Wait()
	if len(pf.refs) != 1 {
		t.Fatalf("after the pipe's drop the field names %d photos", len(pf.refs))
	}
	if said := screenTexts(u.win.Canvas().Overlays().Top()); !strings.Contains(said, "IMG_2043.jpg is not a file but a pipe or a device") {
		t.Fatalf("the pipe dropped is refused saying %q", said)
	}
}
