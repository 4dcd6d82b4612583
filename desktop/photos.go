package desktop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/photos"
	"lifeline/schemas"
)

// Photos in the app (docs/desktop.md, "Photos"): a photo field shows its
// photos as thumbnails, read from the node's store (never a full image
// decoded for a list), and adds photos through the node, which shrinks,
// turns upright, seals and keeps them before the field names their ids. A
// photo named but not held here is on its way: a record travels before
// its photos.

// Sizes of a thumbnail on screen: in a form or a record, in the records
// list.
const (
	thumbEdge     = 112
	listThumbEdge = 40
)

// photoExts are the files Add a folder and a drop take; the node refuses
// any other kind with a reason (HEIC among them).
var photoExts = []string{".jpg", ".jpeg", ".png"}

// photoField is the input of a photo field: the photos it names, as
// thumbnails each with Remove, and the buttons that add photos.
type photoField struct {
	u       *UI
	refs    []string
	changed func()
	tiles   *fyne.Container
	object  fyne.CanvasObject
}

func (u *UI) newPhotoField(changed func()) *photoField {
	p := &photoField{u: u, changed: changed}
	remove := widget.NewButtonWithIcon(u.T("photo.remove"), theme.DeleteIcon(), nil)
	cell := fyne.NewSize(max(thumbEdge, remove.MinSize().Width), thumbEdge+theme.Padding()+remove.MinSize().Height)
	p.tiles = container.NewGridWrap(cell)
	addFile := widget.NewButtonWithIcon(u.T("photo.add.file"), theme.FileImageIcon(), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil {
				u.showError(err)
				return
			}
			if r != nil {
				path := r.URI().Path()
				r.Close()
				p.addFiles([]string{path})
			}
		}, u.win)
		// HEIC shows, so that the node's refusal says how to make the phone
		// take JPEG.
		d.SetFilter(regularFiles{storage.NewExtensionFileFilter(append(slices.Clone(photoExts), ".heic", ".heif"))})
		d.Show()
	})
	addFolder := widget.NewButtonWithIcon(u.T("photo.add.folder"), theme.FolderOpenIcon(), func() {
		askFolder(u.win, func(dir string) { p.addFiles([]string{dir}) })
	})
	hint := widget.NewLabel(u.T("photo.drop.hint"))
	hint.Wrapping = fyne.TextWrapWord
	p.object = container.NewVBox(p.tiles, container.NewHBox(addFile, addFolder), hint)
	p.show()
	return p
}

// raw is what a draft keeps of the field: its references, one a line.
func (p *photoField) raw() []string { return []string{strings.Join(p.refs, "\n")} }

// set shows the references of a draft or a record, as raw gave them.
func (p *photoField) set(raw string) {
	p.refs = nil
	for line := range strings.Lines(raw) {
		if ref := strings.TrimSpace(line); ref != "" {
			p.refs = append(p.refs, ref)
		}
	}
	p.show()
}

// value is the field's value: the photos' references, nil for none.
func (p *photoField) value() any {
	if len(p.refs) == 0 {
		return nil
	}
	return slices.Clone(p.refs)
}

// add names photos the node keeps now; a photo named already is not
// named twice.
func (p *photoField) add(ids ...string) {
	for _, id := range ids {
		if !slices.Contains(p.refs, id) {
			p.refs = append(p.refs, id)
		}
	}
	p.show()
	p.changed()
}

func (p *photoField) remove(ref string) {
	p.refs = slices.DeleteFunc(p.refs, func(r string) bool { return r == ref })
	p.show()
	p.changed()
}

// show makes the tiles again: few, and each thumbnail a few kilobytes.
func (p *photoField) show() {
	p.tiles.Objects = nil
	for _, ref := range p.refs {
		remove := widget.NewButtonWithIcon(p.u.T("photo.remove"), theme.DeleteIcon(), func() { p.remove(ref) })
		p.tiles.Add(container.NewVBox(p.u.photoThumb(ref, thumbEdge), remove))
	}
	p.tiles.Refresh()
}

// addFiles adds the photos of paths, a folder standing for every JPEG
// and PNG in it, through the node. Several are added as a job behind the
// window, each named in the field once it is kept, so that a job
// cancelled keeps those already added.
func (p *photoField) addFiles(paths []string) {
	u := p.u
	files, err := u.photoFiles(paths)
	if err != nil {
		u.showError(err)
		return
	}
	switch {
	case len(files) == 0:
		u.showError(errors.New(u.T("photo.err.none")))
		return
	case len(files) == 1:
		var id string
		u.run(u.T("photo.adding"), func(ctx context.Context) error {
			ph, err := u.node.AddPhotoFile(ctx, files[0])
			id = ph.Hash
			return err
		}, func(err error) {
			if err == nil {
				p.add(id)
			}
		})
		return
	}
	var added int
	var failed []string
	work := func(ctx context.Context, progress func(string)) error {
		for i, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			progress(fmt.Sprintf("%d/%d", i+1, len(files)))
			ph, err := u.node.AddPhotoFile(ctx, f)
			if err != nil {
				failed = append(failed, node.Printable(err.Error()))
				continue
			}
			added++
			u.do(func() { p.add(ph.Hash) })
		}
		return nil
	}
	done := func(err error) string {
		if err != nil {
			return ""
		}
		msg := fmt.Sprintf(u.T("photo.added"), added, len(files))
		if len(failed) > 0 {
			msg += " " + fmt.Sprintf(u.T("photo.failed"), strings.Join(failed, "; "))
		}
		return msg
	}
	u.job(fmt.Sprintf(u.T("photo.adding.n"), len(files)), work, done)
}

// photoFiles are the files of paths, each folder's JPEG and PNG files (not
// those of its subfolders) in name order in its place. Only regular files
// are read, links to them included: opening a pipe waits for a writer,
// and a folder's pipe named like a photo, or one dropped, would hold the
// work adding it for good, and the window with it. A path that is no
// regular file is refused, saying so; a folder's are left out.
func (u *UI) photoFiles(paths []string) ([]string, error) {
	var files []string
	for _, path := range paths {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf(u.T("photo.err.notfile"), path)
			}
			files = append(files, path)
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !slices.Contains(photoExts, strings.ToLower(filepath.Ext(e.Name()))) {
				continue
			}
			file := filepath.Join(path, e.Name())
			if fi, err := os.Stat(file); err == nil && fi.Mode().IsRegular() {
				files = append(files, file)
			}
		}
	}
	return files, nil
}

// dropPhotos adds files dropped on the window to the photo field of the
// form on show: the one under the pointer, else the first the form asks.
func (u *UI) dropPhotos(pos fyne.Position, uris []fyne.URI) {
	if u.covered() {
		return
	}
	var fm *form
	if u.tabs != nil && u.tabs.Selected() != nil {
		switch u.tabs.Selected().Text {
		case u.T("tab.new"):
			fm = u.recordForm()
		case u.T("tab.records"):
			if v := u.screens.records; v != nil {
				fm = v.editing
			}
		}
	}
	var target *photoField
	if fm != nil {
		target = fm.photoFieldAt(pos)
	}
	if target == nil {
		u.showError(errors.New(u.T("photo.err.noform")))
		return
	}
	var paths []string
	for _, uri := range uris {
		if uri.Scheme() == "file" {
			paths = append(paths, uri.Path())
		}
	}
	target.addFiles(paths)
}

// photoFieldAt is the photo field of the form under pos, in the window's
// coordinates, else the first one on show; nil if none is.
func (fm *form) photoFieldAt(pos fyne.Position) *photoField {
	var first *photoField
	for _, ff := range fm.allFields() {
		p := ff.input.photos
		if p == nil || !ff.box.Visible() || !ff.relevant {
			continue
		}
		if first == nil {
			first = p
		}
		if d := fyne.CurrentApp().Driver(); d != nil {
			at, size := d.AbsolutePositionForObject(ff.box), ff.box.Size()
			if pos.X >= at.X && pos.Y >= at.Y && pos.X < at.X+size.Width && pos.Y < at.Y+size.Height {
				return p
			}
		}
	}
	return first
}

// photoThumb shows a photo's thumbnail, which opens the photo when
// tapped; a photo not here says it is on its way, and a reference that
// is no photo id (a file name an older form kept) shows as it is.
func (u *UI) photoThumb(ref string, edge float32) fyne.CanvasObject {
	box := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	box.SetMinSize(fyne.NewSquareSize(edge))
	var content fyne.CanvasObject
	if b, err := u.thumbBytes(ref); err == nil {
		content = photoImage(ref+".thumb.jpg", b, edge)
	} else {
		msg := u.T("photo.onitsway")
		if photos.ValidID(ref) != nil {
			msg = node.Printable(ref)
		}
		l := widget.NewLabel(msg)
		l.Wrapping, l.Alignment = fyne.TextWrapWord, fyne.TextAlignCenter
		content = container.NewStack(box, container.NewCenter(l))
	}
	return newTappable(content, func() { u.showPhoto(ref) })
}

// photoImage is an image of JPEG bytes, scaled to fit and at least edge
// pixels on its sides.
func photoImage(name string, b []byte, edge float32) *canvas.Image {
	img := canvas.NewImageFromResource(fyne.NewStaticResource(name, b))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSquareSize(edge))
	return img
}

// thumbBytes reads a photo's thumbnail from the node's store.
func (u *UI) thumbBytes(ref string) ([]byte, error) { return u.photoBytes(ref, true) }

func (u *UI) photoBytes(ref string, thumb bool) ([]byte, error) {
	if err := photos.ValidID(ref); err != nil {
		return nil, err
	}
	r, err := u.node.Photo(ref, thumb)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// Read in the store's sealed chunks: each read opens a whole chunk.
	var b bytes.Buffer
	piece := make([]byte, 64<<10)
	for {
		n, err := r.Read(piece)
		b.Write(piece[:n])
		switch {
		case b.Len() > photos.MaxStoredBytes:
			return nil, fmt.Errorf("photo %s: larger than %d bytes", ref, photos.MaxStoredBytes)
		case err == io.EOF:
			return b.Bytes(), nil
		case err != nil:
			return nil, err
		}
	}
}

// showPhoto opens a photo in a dialog the size of the window: its full
// image, or its thumbnail while the full image is on its way, or words
// that say it is on its way.
func (u *UI) showPhoto(ref string) {
	u.background(func() {
		full, errFull := u.photoBytes(ref, false)
		var thumb []byte
		if errFull != nil {
			thumb, _ = u.thumbBytes(ref)
		}
		u.do(func() {
			var content fyne.CanvasObject
			note := ""
			switch {
			case errFull == nil:
				content = photoImage(ref+".jpg", full, thumbEdge)
			case photos.ValidID(ref) != nil:
				note = fmt.Sprintf(u.T("photo.notid"), node.Printable(ref))
			case !errors.Is(errFull, photos.ErrNotFound):
				note = fmt.Sprintf(u.T("photo.err.read"), node.Printable(errFull.Error()))
			case thumb != nil:
				content = photoImage(ref+".thumb.jpg", thumb, thumbEdge)
				note = u.T("photo.thumbonly")
			default:
				note = u.T("photo.onitsway.long")
			}
			var top fyne.CanvasObject
			if note != "" {
				l := widget.NewLabel(note)
				l.Wrapping = fyne.TextWrapWord
				top = l
			}
			if content == nil {
				content = layout.NewSpacer()
			}
			// A full image not here is asked of the relays and
			// headquarters this computer knows, now that a person
			// opened it: a laptop takes others' full images only so.
			fetch := errors.Is(errFull, photos.ErrNotFound) && photos.ValidID(ref) == nil
			status := widget.NewLabel("")
			status.Wrapping = fyne.TextWrapWord
			notes := container.NewVBox(status)
			if fetch {
				status.SetText(u.T("photo.fetching"))
				if top != nil {
					notes.Objects = []fyne.CanvasObject{top, status}
				}
				top = notes
			}
			holder := container.NewStack(content)
			d := dialog.NewCustom(u.T("photo.title"), u.T("photo.close"), container.NewBorder(top, nil, nil, nil, holder), u.win)
			size := u.win.Canvas().Size()
			d.Resize(fyne.NewSize(size.Width*0.9, size.Height*0.9))
			d.Show()
			if fetch {
				u.fetchPhoto(ref, d, holder, notes, status)
			}
		})
	})
}

// fetchPhotoWithin bounds how long an opened photo's full image is asked
// for; closing the viewer stops asking at once.
const fetchPhotoWithin = 2 * time.Minute

// fetchPhoto asks the node's relays and headquarters for a photo's full
// image and shows it in the viewer's holder when it comes, the notes of
// its absence taken away, or says on status that it did not.
func (u *UI) fetchPhoto(ref string, d dialog.Dialog, holder, notes *fyne.Container, status *widget.Label) {
	ctx, stop := context.WithTimeout(u.ctx, fetchPhotoWithin)
	d.SetOnClosed(stop)
	u.background(func() {
		defer stop()
		_, err := u.node.FetchPhoto(ctx, ref)
		var full []byte
		if err == nil {
			full, err = u.photoBytes(ref, false)
		}
		u.do(func() {
			if err != nil {
				status.SetText(u.T("photo.fetch.none"))
				return
			}
			notes.Hide()
			holder.Objects = []fyne.CanvasObject{photoImage(ref+".jpg", full, thumbEdge)}
			holder.Refresh()
		})
	})
}

// photoStrip shows a record's photos, as thumbnails that open them.
func (u *UI) photoStrip(refs []string) fyne.CanvasObject {
	strip := container.NewGridWrap(fyne.NewSquareSize(thumbEdge))
	for _, ref := range refs {
		strip.Add(u.photoThumb(ref, thumbEdge))
	}
	return strip
}

// photoRefs are the references a photo field's value holds.
func photoRefs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var refs []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				refs = append(refs, s)
			}
		}
		return refs
	}
	return nil
}

// tappable runs onTap when its content is tapped.
type tappable struct {
	widget.BaseWidget
	content fyne.CanvasObject
	onTap   func()
}

func newTappable(content fyne.CanvasObject, onTap func()) *tappable {
	t := &tappable{content: content, onTap: onTap}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tappable) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.content) }

func (t *tappable) Tapped(*fyne.PointEvent) { t.onTap() }

// firstPhoto is the id of the first photo a record names in a field of
// its type, "" for none.
func firstPhoto(n *node.Node, rv node.RecordView) string {
	t, ok := n.Kits().Type(rv.Type)
	if !ok {
		return ""
	}
	for _, f := range t.Fields {
		if f.Type != schemas.Photo {
			continue
		}
		for _, ref := range photoRefs(rv.Fields[f.Name]) {
			if photos.ValidID(ref) == nil {
				return ref
			}
		}
	}
	return ""
}

// fillThumb shows the thumbnail of photo id in a row of the records list:
// none for a record without photos, a picture icon while it is on its way.
func (v *recordsView) fillThumb(img *canvas.Image, id string) {
	if id == "" {
		img.Hide()
		return
	}
	res, ok := v.thumbs[id]
	if !ok {
		if b, err := v.u.thumbBytes(id); err == nil {
			if v.thumbs == nil {
				v.thumbs = map[string]fyne.Resource{}
			}
			res = fyne.NewStaticResource(id+".thumb.jpg", b)
			v.thumbs[id] = res
		} else {
			res = theme.FileImageIcon() // on its way: read again at the next fill
		}
	}
	img.Resource = res
	img.Show()
	img.Refresh()
}

// hqPhotoExport writes, when Headquarters' "Photos too" is ticked, the
// photos of the records an export wrote into a folder beside its file,
// as record export --photos does (Node.ExportPhotos).
type hqPhotoExport struct {
	u    *UI
	on   bool
	refs []string
	dir  string
	res  node.PhotosExported
}

// newPhotoExport reads the box on the UI thread, before the job runs.
func (v *hqView) newPhotoExport() *hqPhotoExport {
	return &hqPhotoExport{u: v.u, on: v.photos.Checked}
}

// options are the export's options, gathering the photos it names.
func (e *hqPhotoExport) options(personal bool) node.ExportOptions {
	opts := node.ExportOptions{Personal: personal}
	if e.on {
		opts.Photo = func(ref string) { e.refs = append(e.refs, ref) }
	}
	return opts
}

// write writes the photos beside the export's file: a folder of its name
// and "-photos", removed again if it was new and the writing failed.
func (e *hqPhotoExport) write(ctx context.Context, file string) error {
	if !e.on {
		return nil
	}
	e.dir = strings.TrimSuffix(file, filepath.Ext(file)) + "-photos"
	_, existed := os.Stat(e.dir)
	res, err := e.u.node.ExportPhotos(ctx, e.refs, e.dir)
	if err != nil && errors.Is(existed, os.ErrNotExist) {
		os.RemoveAll(e.dir)
	}
	e.res = res
	return err
}

// said is what the end of the export says of the photos.
func (e *hqPhotoExport) said() string {
	if !e.on {
		return ""
	}
	return " " + fmt.Sprintf(e.u.T("hq.exported.photos"), e.res.Full, e.res.Thumbs, e.dir, len(e.res.Absent)+len(e.res.NotIDs))
}
