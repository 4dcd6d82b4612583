package gpkg_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"lifeline/node/gpkg"
)

// A point as GeoPackage binary, byte by byte from the specification
// (clause 2.1.3 and ISO 19125 WKB): -88.5 and 17.25 are exact in binary,
// so their IEEE 754 doubles can be written out by hand.
func TestGeometryOfAPoint(t *testing.T) {
	want := []byte{
		'G', 'P', // magic
		0x00,                   // version 1
		0x01,                   // flags: standard, not empty, no envelope, little-endian
		0xE6, 0x10, 0x00, 0x00, // srs_id 4326
		0x01,                   // WKB little-endian
		0x01, 0x00, 0x00, 0x00, // wkbPoint
		0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x56, 0xC0, // x = -88.5  = 0xC056200000000000
		0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x31, 0x40, // y = 17.25  = 0x4031400000000000
	}
	if got := gpkg.Geometry(gpkg.Point{X: -88.5, Y: 17.25}); !bytes.Equal(got, want) {
		t.Fatalf("geometry\n% x\nwant\n% x", got, want)
	}
}

func open(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func one[T any](t *testing.T, db *sql.DB, query string, args ...any) T {
	t.Helper()
	var v T
	if err := db.QueryRow(query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// A file written whole is a GeoPackage 1.3: its header numbers, the three
// spatial reference systems every one defines, a layer of points with its
// envelope, a table of attributes, and a NULL geometry for a feature with
// no place.
func TestWriteGeoPackage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "out.gpkg")
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := w.Add(ctx, gpkg.Layer{Name: "shelter", Description: "Shelters", Points: true,
		Columns: []gpkg.Column{{Name: "name", Type: gpkg.Text}, {Name: "beds", Type: gpkg.Integer}, {Name: "open", Type: gpkg.Boolean}}})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := w.Add(ctx, gpkg.Layer{Name: "relief", Columns: []gpkg.Column{{Name: "litres", Type: gpkg.Real}, {Name: "on", Type: gpkg.Date}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		at   *gpkg.Point
		name string
	}{{&gpkg.Point{X: -88.7668, Y: 17.251}, "Belmopan"}, {&gpkg.Point{X: -88.2, Y: 16.1}, "Punta Gorda"}, {nil, "Unplaced"}} {
		if err := pts.Insert(ctx, p.at, p.name, int64(40), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := attrs.Insert(ctx, nil, 12.5, "2026-11-27"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file is at its path before Commit: %v", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after Commit: %v %v, want a file only its owner reads", fi, err)
	}
	if names, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*")); len(names) != 1 {
		t.Fatalf("the folder holds %v, want the GeoPackage alone", names)
	}

	db := open(t, path)
	if id := one[int64](t, db, "PRAGMA application_id"); id != 0x47504B47 {
		t.Errorf("application_id %#x, want 'GPKG'", id)
	}
	if v := one[int64](t, db, "PRAGMA user_version"); v != 10300 {
		t.Errorf("user_version %d, want 10300", v)
	}
	if s := one[string](t, db, "SELECT group_concat(srs_id || ' ' || organization || ' ' || organization_coordsys_id, ',') FROM (SELECT * FROM gpkg_spatial_ref_sys ORDER BY srs_id)"); s != "-1 NONE -1,0 NONE 0,4326 EPSG 4326" {
		t.Errorf("spatial reference systems %q", s)
	}
	if s := one[string](t, db, "SELECT data_type || ' ' || srs_id || ' ' || min_x || ' ' || min_y || ' ' || max_x || ' ' || max_y FROM gpkg_contents WHERE table_name = 'shelter'"); s != "features 4326 -88.7668 16.1 -88.2 17.251" {
		t.Errorf("shelter's contents %q", s)
	}
	if s := one[string](t, db, "SELECT data_type || ' ' || ifnull(srs_id, 'NULL') || ' ' || ifnull(min_x, 'NULL') FROM gpkg_contents WHERE table_name = 'relief'"); s != "attributes NULL NULL" {
		t.Errorf("relief's contents %q", s)
	}
	if s := one[string](t, db, "SELECT table_name || ' ' || column_name || ' ' || geometry_type_name || ' ' || srs_id || ' ' || z || ' ' || m FROM gpkg_geometry_columns"); s != "shelter geom POINT 4326 0 0" {
		t.Errorf("geometry columns %q", s)
	}
	if n := one[int64](t, db, "SELECT count(*) FROM shelter WHERE geom IS NULL AND name = 'Unplaced'"); n != 1 {
		t.Errorf("%d features without a place have a NULL geometry, want 1", n)
	}
	if g := one[[]byte](t, db, "SELECT geom FROM shelter WHERE fid = 1"); !bytes.Equal(g, gpkg.Geometry(gpkg.Point{X: -88.7668, Y: 17.251})) {
		t.Errorf("geometry % x", g)
	}
	if s := one[string](t, db, "SELECT litres || ' ' || \"on\" FROM relief"); s != "12.5 2026-11-27" {
		t.Errorf("relief row %q", s)
	}
}

// A failed export leaves the file that was at the path as it was, and no
// temporary file beside it.
func TestAbortKeepsTheOldFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.gpkg")
	if err := os.WriteFile(path, []byte("yesterday's export"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := w.Add(ctx, gpkg.Layer{Name: "t", Columns: []gpkg.Column{{Name: "n", Type: gpkg.Integer}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Insert(ctx, nil, "seven"); !errors.Is(err, gpkg.ErrValue) {
		t.Fatalf("text into an INTEGER column: %v", err)
	}
	if err := tab.Insert(ctx, &gpkg.Point{X: 1, Y: 2}, int64(7)); err == nil {
		t.Fatal("a point into a table of attributes")
	}
	w.Abort()
	if b, err := os.ReadFile(path); err != nil || string(b) != "yesterday's export" {
		t.Fatalf("the old file reads %q (%v)", b, err)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 1 {
		t.Fatalf("the folder holds %v after Abort", names)
	}
}

// Names a GeoPackage reserves, or that would make two columns or tables
// one, are refused.
func TestNamesRefused(t *testing.T) {
	ctx := context.Background()
	w, err := gpkg.Create(ctx, filepath.Join(t.TempDir(), "out.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Add(ctx, gpkg.Layer{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []gpkg.Layer{
		{Name: "gpkg_contents"},
		{Name: "A"},
		{Name: "b", Columns: []gpkg.Column{{Name: "fid", Type: gpkg.Text}}},
		{Name: "c", Points: true, Columns: []gpkg.Column{{Name: "Geom", Type: gpkg.Text}}},
		{Name: "d", Columns: []gpkg.Column{{Name: "x", Type: gpkg.Text}, {Name: "x", Type: gpkg.Integer}}},
		{Name: "e", Columns: []gpkg.Column{{Name: "x", Type: "VARCHAR"}}},
	} {
		if _, err := w.Add(ctx, l); err == nil {
			t.Errorf("table %+v accepted", l)
		}
	}
}
