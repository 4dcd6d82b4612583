package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// exportWithPhotos runs record export --photos and returns what it said on
// standard error.
func exportWithPhotos(t *testing.T, dir, format, out, photoDir string) string {
	t.Helper()
	r := lifeline(t, "", "record", "export", "--data", dir, "--type", "damage-assessment", "--format", format, "--out", out, "--photos", photoDir)
	if r.code != 0 {
		t.Fatalf("record export --photos: exit %d: %s", r.code, r.stderr)
	}
	return r.stderr
}

// folder lists the names of the files in dir, sorted.
func folder(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// An export names a record's photos by their ids: in CSV one column,
// the ids separated by ";"; in GeoJSON an array property. With --photos,
// the folder holds each full image as <id>.jpg, whose SHA-256 is the id;
// a node that holds only thumbnails writes <id>.thumb.jpg; and a photo
// not here is said, not written.
func TestPhotoExport(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	field := d.node(t, "tol-03", "field", "Toledo")
	src := t.TempDir()
	files := []string{photoFile(t, src, 900, 600, 21), photoFile(t, src, 500, 700, 22)}
	hashes := added(t, ok(t, "", append([]string{"photo", "add", "--data", field}, files...)...))
	h1, h2 := hashes[files[0]], hashes[files[1]]
	elsewhere := strings.Repeat("5e", 32)
	rec := strings.Replace(assessment, `"Cayo"`, `"Toledo"`, 1)
	rec = strings.Replace(rec, `{`, fmt.Sprintf(`{"photos":[%q,%q,%q],`, h1, h2, elsewhere), 1)
	ok(t, rec, "record", "add", "--data", field, "--type", "damage-assessment")
	// A record without photos has an empty cell and no file.
	ok(t, strings.Replace(assessment, `"Cayo"`, `"Toledo"`, 1), "record", "add", "--data", field, "--type", "damage-assessment")

	out := t.TempDir()
	csvFile, pics := filepath.Join(out, "damage.csv"), filepath.Join(out, "photos")
	said := exportWithPhotos(t, field, "csv", csvFile, pics)
	if !strings.Contains(said, "wrote 2 photos to "+pics+": 2 full images") ||
		!strings.Contains(said, "1 photos named by the records are not on this node yet") || !strings.Contains(said, elsewhere) {
		t.Fatalf("export --photos said %q", said)
	}
	b, err := os.ReadFile(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "photos")
	if col < 0 || len(rows) != 3 {
		t.Fatalf("the CSV has no photos column, or not 2 records: %q", rows)
	}
	var cells []string
	for _, r := range rows[1:] {
		cells = append(cells, r[col])
	}
	slices.Sort(cells)
	if want := []string{"", h1 + ";" + h2 + ";" + elsewhere}; !slices.Equal(cells, want) {
		t.Fatalf("the photos column holds %q, want %q", cells, want)
	}
	if got, want := folder(t, pics), sorted(h1+".jpg", h2+".jpg"); !slices.Equal(got, want) {
		t.Fatalf("the photos folder holds %q, want %q", got, want)
	}
	for _, h := range []string{h1, h2} {
		b, err := os.ReadFile(filepath.Join(pics, h+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		if sha(b) != h {
			t.Fatalf("%s.jpg does not hash to its name", h)
		}
	}

	// Headquarters got the records and only the thumbnails, on a stick.
	stick := filepath.Join(t.TempDir(), "thumbs.bundle")
	ok(t, "", "bundle", "export", "--data", field, "--out", stick, "--photos", "thumbs")
	ok(t, "", "bundle", "import", "--data", d.hq, stick)
	geo, hqPics := filepath.Join(out, "damage.geojson"), filepath.Join(out, "hq-photos")
	said = exportWithPhotos(t, d.hq, "geojson", geo, hqPics)
	if !strings.Contains(said, "wrote 2 photos to "+hqPics+": 0 full images, 2 thumbnails only") {
		t.Fatalf("export --photos at headquarters said %q", said)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if b, err = os.ReadFile(geo); err == nil {
		err = json.Unmarshal(b, &fc)
	}
	if err != nil {
		t.Fatal(err)
	}
	var lists []string
	for _, f := range fc.Features {
		lists = append(lists, fmt.Sprintf("%#v", f.Properties["photos"]))
	}
	slices.Sort(lists)
	if want := fmt.Sprintf("%#v", []any{h1, h2, elsewhere}); len(lists) != 2 || lists[0] != "<nil>" || lists[1] != want {
		t.Fatalf("the GeoJSON photos properties are %q, want %s and none", lists, want)
	}
	if got, want := folder(t, hqPics), sorted(h1+".thumb.jpg", h2+".thumb.jpg"); !slices.Equal(got, want) {
		t.Fatalf("headquarters' photos folder holds %q, want %q", got, want)
	}
	for _, h := range []string{h1, h2} {
		b, err := os.ReadFile(filepath.Join(hqPics, h+".thumb.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, photoGet(t, field, h, true)) {
			t.Fatalf("%s.thumb.jpg is not the photo's thumbnail", h)
		}
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }
