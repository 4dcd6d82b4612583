// Package gpkg writes OGC GeoPackage 1.3 files (OGC 12-128r18): SQLite
// databases that QGIS, ArcGIS and GDAL open as they are. It writes what
// Lifeline exports and nothing more: layers of points in WGS 84 (EPSG
// 4326), and tables of attributes without a location.
package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver
)

// The two numbers that make an SQLite file a GeoPackage 1.3 (Requirements
// 2 and 3): application_id 'GPKG' and user_version 10300.
const (
	ApplicationID = 0x47504B47
	UserVersion   = 10300
)

// SRS is the spatial reference system of every layer: WGS 84 longitude and
// latitude, as GPS devices and the kits' geo fields give them.
const SRS = 4326

// wgs84 is EPSG 4326's definition as the GeoPackage specification gives it
// (Table 21).
const wgs84 = `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],` +
	`PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]`

// The tables every GeoPackage holds (Requirements 10, 13, 21), and the
// three spatial reference systems it must define (Requirement 11).
const schema = `
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '` + wgs84 + `', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid'),
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
`

// Type is a column's declared type, one of those a GeoPackage allows
// (Table 1).
type Type string

const (
	Integer  Type = "INTEGER"
	Real     Type = "REAL"
	Boolean  Type = "BOOLEAN"  // 0 or 1
	Text     Type = "TEXT"     // UTF-8
	Date     Type = "DATE"     // 2024-11-27
	DateTime Type = "DATETIME" // 2024-11-27T11:35:23.000Z, in UTC
)

// Column is one column of a layer besides its fid and geom.
type Column struct {
	Name string
	Type Type
}

// Layer describes a table to write.
type Layer struct {
	Name        string // the table's name, as QGIS lists the layer
	Description string
	Columns     []Column
	// Points makes the table a layer of features with a point geometry
	// column geom; without it the table holds attributes only.
	Points bool
}

// Reserved column names: each table's key and geometry.
const (
	FID  = "fid"
	Geom = "geom"
)

// Writer writes a GeoPackage into a temporary file beside its path, and
// puts it at the path only when Commit has written it whole: a reader
// never sees half a GeoPackage.
type Writer struct {
	path, tmp string
	db        *sql.DB
	tx        *sql.Tx
	tables    map[string]*Table
	order     []*Table
}

// Create starts a GeoPackage that Commit will put at path, replacing a file
// there. Only its owner may read it: an export may carry personal data.
func Create(ctx context.Context, path string) (*Writer, error) {
	// The temporary file is beside the path as the system finds it, where
	// the rename puts it: filepath.Abs would join a relative path to the
	// shell's $PWD, links and all.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	f.Close()
	w := &Writer{path: path, tmp: f.Name(), tables: map[string]*Table{}}
	// A file: URI, so that a ? or # in the folder's name is part of the
	// name. The file is a new one no one else opens: no journal is needed,
	// as a failed export removes it.
	uri := "file:" + (&url.URL{Path: w.tmp}).EscapedPath() + "?_journal_mode=OFF&_synchronous=OFF&_foreign_keys=on"
	w.db, err = sql.Open("sqlite3", uri)
	if err == nil {
		w.db.SetMaxOpenConns(1)
		w.tx, err = w.begin(ctx)
	}
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return w, nil
}

func (w *Writer) begin(ctx context.Context) (*sql.Tx, error) {
	// The pragmas apply to the file, outside the transaction.
	if _, err := w.db.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", ApplicationID, UserVersion)); err != nil {
		return nil, err
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// Table is a layer being written.
type Table struct {
	layer   Layer
	insert  *sql.Stmt
	count   int
	minX    float64
	minY    float64
	maxX    float64
	maxY    float64
	located int
	args    []any
}

// quote is an SQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Add creates a table. Its name may not be one a GeoPackage reserves
// (gpkg_...) or one already added; its columns' names may not repeat or
// be fid or geom.
func (w *Writer) Add(ctx context.Context, l Layer) (*Table, error) {
	low := strings.ToLower(l.Name)
	switch {
	case l.Name == "" || strings.HasPrefix(low, "gpkg_") || strings.HasPrefix(low, "sqlite_") || strings.HasPrefix(low, "rtree_"):
		return nil, fmt.Errorf("gpkg: table name %q is reserved", l.Name)
	case w.tables[low] != nil:
		return nil, fmt.Errorf("gpkg: two tables called %q", l.Name)
	}
	seen := map[string]bool{FID: true, Geom: true}
	cols := []string{quote(FID) + " INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"}
	marks := []string{}
	names := []string{}
	if l.Points {
		cols = append(cols, quote(Geom)+" POINT")
		marks, names = append(marks, "?"), append(names, quote(Geom))
	}
	for _, c := range l.Columns {
		if seen[strings.ToLower(c.Name)] {
			return nil, fmt.Errorf("gpkg: table %q: column %q twice or reserved", l.Name, c.Name)
		}
		seen[strings.ToLower(c.Name)] = true
		switch c.Type {
		case Integer, Real, Boolean, Text, Date, DateTime:
		default:
			return nil, fmt.Errorf("gpkg: table %q: column %q of type %q, which a GeoPackage does not have", l.Name, c.Name, c.Type)
		}
		cols = append(cols, quote(c.Name)+" "+string(c.Type))
		marks, names = append(marks, "?"), append(names, quote(c.Name))
	}
	kind, srs := "attributes", any(nil)
	if l.Points {
		kind, srs = "features", SRS
	}
	stmts := []struct {
		sql  string
		args []any
	}{
		{"CREATE TABLE " + quote(l.Name) + " (" + strings.Join(cols, ", ") + ")", nil},
		{"INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, ?, ?, ?, ?)",
			[]any{l.Name, kind, l.Name, l.Description, srs}},
	}
	if l.Points {
		stmts = append(stmts, struct {
			sql  string
			args []any
		}{"INSERT INTO gpkg_geometry_columns VALUES (?, ?, 'POINT', ?, 0, 0)", []any{l.Name, Geom, SRS}})
	}
	for _, s := range stmts {
		if _, err := w.tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return nil, fmt.Errorf("gpkg: table %q: %w", l.Name, err)
		}
	}
	ins := "INSERT INTO " + quote(l.Name) + " DEFAULT VALUES"
	if len(names) > 0 {
		ins = "INSERT INTO " + quote(l.Name) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	}
	stmt, err := w.tx.PrepareContext(ctx, ins)
	if err != nil {
		return nil, fmt.Errorf("gpkg: table %q: %w", l.Name, err)
	}
	t := &Table{layer: l, insert: stmt, args: make([]any, 0, len(names))}
	w.tables[low] = t
	w.order = append(w.order, t)
	return t, nil
}

// Point is a place in WGS 84: X the longitude, Y the latitude, in degrees.
type Point struct{ X, Y float64 }

// ErrValue means a value a table cannot hold.
var ErrValue = errors.New("gpkg: value not of its column's type")

// Insert writes a row: its point (nil for a feature without a location, and
// always for a table of attributes) and a value per column, in the layer's
// order. A value is nil (NULL), or of the Go type its column takes: int64
// for INTEGER, float64 for REAL, bool for BOOLEAN, string for the others.
func (t *Table) Insert(ctx context.Context, at *Point, values ...any) error {
	if len(values) != len(t.layer.Columns) {
		return fmt.Errorf("gpkg: table %q: %d values for %d columns", t.layer.Name, len(values), len(t.layer.Columns))
	}
	t.args = t.args[:0]
	if t.layer.Points {
		if at == nil {
			t.args = append(t.args, nil)
		} else {
			if math.IsNaN(at.X) || math.IsNaN(at.Y) || math.IsInf(at.X, 0) || math.IsInf(at.Y, 0) {
				return fmt.Errorf("%w: table %q: point %v is not a place", ErrValue, t.layer.Name, *at)
			}
			t.args = append(t.args, Geometry(*at))
			if t.located == 0 {
				t.minX, t.maxX, t.minY, t.maxY = at.X, at.X, at.Y, at.Y
			}
			t.minX, t.maxX = min(t.minX, at.X), max(t.maxX, at.X)
			t.minY, t.maxY = min(t.minY, at.Y), max(t.maxY, at.Y)
			t.located++
		}
	} else if at != nil {
		return fmt.Errorf("gpkg: table %q holds attributes only, not points", t.layer.Name)
	}
	for i, v := range values {
		c := t.layer.Columns[i]
		ok := v == nil
		switch v.(type) {
		case int64:
			ok = c.Type == Integer
		case float64:
			ok = c.Type == Real
		case bool:
			ok = c.Type == Boolean
		case string:
			ok = c.Type == Text || c.Type == Date || c.Type == DateTime
		}
		if !ok {
			return fmt.Errorf("%w: table %q, column %q (%s): %T", ErrValue, t.layer.Name, c.Name, c.Type, v)
		}
		t.args = append(t.args, v)
	}
	if _, err := t.insert.ExecContext(ctx, t.args...); err != nil {
		return fmt.Errorf("gpkg: table %q: %w", t.layer.Name, err)
	}
	t.count++
	return nil
}

// Rows is how many rows were inserted.
func (t *Table) Rows() int { return t.count }

// Geometry is a point as GeoPackage binary (section 2.1.3): the header
// 'G' 'P', version 0, flags 0x01 (little-endian, no envelope: a point's
// envelope is itself), the SRS id, then the point as little-endian WKB.
func Geometry(p Point) []byte {
	b := make([]byte, 0, 8+21)
	b = append(b, 'G', 'P', 0, 0x01)
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(SRS)))
	b = append(b, 0x01)                        // WKB little-endian
	b = binary.LittleEndian.AppendUint32(b, 1) // wkbPoint
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.X))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Y))
	return b
}

// Commit writes each layer's envelope into gpkg_contents, closes the file
// and puts it at the path. After an error nothing is left of it.
func (w *Writer) Commit(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	for _, t := range w.order {
		t.insert.Close()
		if t.located == 0 {
			continue
		}
		if _, err := w.tx.ExecContext(ctx, "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
			t.minX, t.minY, t.maxX, t.maxY, t.layer.Name); err != nil {
			return fmt.Errorf("gpkg: %w", err)
		}
	}
	if err := w.tx.Commit(); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.tx = nil
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.db = nil
	f, err := os.OpenFile(w.tmp, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	// The permissions are the temporary file's: its owner's alone.
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp, w.path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	dir := filepath.Dir(w.tmp)
	w.tmp = ""
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort gives up the GeoPackage: its temporary file is removed and the
// path left as it was. It does nothing after Commit.
func (w *Writer) Abort() {
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
	if w.db != nil {
		w.db.Close()
		w.db = nil
	}
	if w.tmp != "" {
		os.Remove(w.tmp)
		w.tmp = ""
	}
}
