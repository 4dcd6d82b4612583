package node_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// exportGeoPackage writes n's records of types to a new GeoPackage and
// opens it for reading.
func exportGeoPackage(t *testing.T, n *node.Node, opts node.ExportOptions, types ...string) (*sql.DB, string, []node.GeoPackageLayer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.gpkg")
	layers, err := n.ExportGeoPackage(context.Background(), path, types, opts)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path, layers
}

// columns are a table's column names in order.
func columns(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	return out
}

// row is one row of a query, each value as SQLite prints it ("NULL" for
// NULL), joined with "|".
func row(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

// Each type is a table, typed as the kit types its fields: a layer of
// points when the type has a location (NULL for a record without one), of
// attributes when it has none; a repeat's rows are a table joined by
// record_id; personal fields stay out unless asked for; a field in
// conflict holds the value that wins, and the conflict column names it.
func TestExportGeoPackage(t *testing.T) {
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	ctx := context.Background()
	mustAdd(t, n, "damage-assessment", `{"district":"Toledo","village":"Punta Gorda","lat":16.1,"lon":-88.8,"structure_type":"thatch",
		"damage_level":4,"household_size":7,"displaced":true,"needs":["water","tarpaulin"],"head_of_household":"Marta Chun",
		"reported_by":"vol-011","reported_at":"2026-11-18T09:00:00-06:00"}`)
	disputed := conflict(t, n)
	mustAdd(t, n, "shelter", `{"shelter_name":"Belmopan Comprehensive School","district":"Cayo","location":{"lat":17.251,"lon":-88.7668},"status":"open","occupancy":120,"capacity":400}`)
	unplaced := mustAdd(t, n, "shelter", `{"shelter_name":"Succotz RC School","district":"Cayo","status":"open","capacity":80}`)
	family := mustAdd(t, n, "shelter-registration", `{"shelter_name":"Benque Viejo RC School","district":"Cayo","family_head_name":"Ana Cho","members":2,
		"arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"M. Bol","household":[{"name":"Ana Cho","age":30},{"name":"Luis Cho","age":3}]}`)

	db, path, layers := exportGeoPackage(t, n, node.ExportOptions{})
	got := map[string]node.GeoPackageLayer{}
	for _, l := range layers {
		got[l.Name] = l
	}
	for name, want := range map[string]node.GeoPackageLayer{
		"damage-assessment":              {Name: "damage-assessment", Type: "damage-assessment", Points: true, Rows: 2},
		"shelter":                        {Name: "shelter", Type: "shelter", Points: true, Rows: 2},
		"shelter-registration":           {Name: "shelter-registration", Type: "shelter-registration", Rows: 1},
		"shelter-registration_household": {Name: "shelter-registration_household", Type: "shelter-registration", Repeat: "household", Rows: 2},
		"missing-person":                 {Name: "missing-person", Type: "missing-person", Points: true},
	} {
		if got[name] != want {
			t.Errorf("layer %s: %+v, want %+v", name, got[name], want)
		}
	}
	if s := row(t, db, `SELECT group_concat(table_name || ' ' || data_type, ', ') FROM (SELECT * FROM gpkg_contents WHERE table_name LIKE 'shelter%' ORDER BY table_name)`); s !=
		"shelter features, shelter-registration attributes, shelter-registration_household attributes, sheltered-person attributes" {
		t.Errorf("contents %q", s)
	}

	// The kit's fields in its order, without head_of_household and phone
	// (personal), between the record's own columns.
	wantCols := []string{"fid", "geom", "id", "case", "sync_status", "created", "updated", "district", "village", "address", "lat", "lon",
		"structure_type", "structure_use", "damage_level", "building_tag", "tag_reason", "household_size", "injured", "dead", "displaced",
		"needs", "notes", "photos", "reported_by", "reported_at", "conflict", "withheld"}
	if c := columns(t, db, "damage-assessment"); !slices.Equal(c, wantCols) {
		t.Errorf("damage-assessment columns %q\nwant %q", c, wantCols)
	}
	if s := row(t, db, `SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('damage-assessment') WHERE name IN ('geom', 'lat', 'damage_level', 'displaced', 'needs', 'reported_at', 'created')`); s !=
		"geom POINT, created DATETIME, lat REAL, damage_level INTEGER, displaced BOOLEAN, needs TEXT, reported_at DATETIME" {
		t.Errorf("column types %q", s)
	}
	if s := row(t, db, `SELECT damage_level || '|' || displaced || '|' || needs || '|' || reported_at || '|' || ifnull(conflict, 'NULL') || '|' || typeof(geom)
		FROM "damage-assessment" WHERE village = 'Punta Gorda'`); s != "4|1|water;tarpaulin|2026-11-18T15:00:00.000Z|NULL|blob" {
		t.Errorf("Punta Gorda %q", s)
	}
	// The other node's damage level 4 and note win: its change came later.
	v, err := n.Record(ctx, disputed)
	if err != nil {
		t.Fatal(err)
	}
	winning := v.Fields["damage_level"].(int64)
	if s := row(t, db, `SELECT damage_level || '|' || conflict FROM "damage-assessment" WHERE id = ?`, disputed.String()); s != "4|damage_level;notes" || winning != 4 {
		t.Errorf("the record in conflict reads %q (the node shows level %d)", s, winning)
	}
	if s := row(t, db, `SELECT ifnull(geom, 'NULL') || '|' || capacity FROM shelter WHERE id = ?`, unplaced.String()); s != "NULL|80" {
		t.Errorf("a shelter without a location reads %q, want a NULL geometry", s)
	}
	if s := row(t, db, `SELECT min_x || ' ' || min_y || ' ' || max_x || ' ' || max_y FROM gpkg_contents WHERE table_name = 'shelter'`); s != "-88.7668 17.251 -88.7668 17.251" {
		t.Errorf("shelter's envelope %q", s)
	}
	if s := row(t, db, `SELECT count(*) || '|' || min(created <= updated) FROM "damage-assessment" WHERE created LIKE '____-__-__T__:__:__.___Z'`); s != "2|1" {
		t.Errorf("created and updated %q", s)
	}
	if c := columns(t, db, "shelter-registration_household"); !slices.Equal(c, []string{"fid", "record_id", "row"}) {
		t.Errorf("household columns %q: every field of a household row is personal", c)
	}
	if s := row(t, db, `SELECT count(*) || '|' || min(h.record_id = r.id) || '|' || r.household_count FROM "shelter-registration_household" h JOIN "shelter-registration" r ON h.record_id = r.id`); s != "2|1|2" {
		t.Errorf("household rows joined %q", s)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Marta Chun", "Ana Cho", "Luis Cho"} {
		if bytes.Contains(b, []byte(name)) {
			t.Errorf("the export without personal data holds %q", name)
		}
	}

	db, _, layers = exportGeoPackage(t, n, node.ExportOptions{Personal: true}, "shelter-registration")
	if len(layers) != 2 {
		t.Errorf("one type asked for, layers %+v", layers)
	}
	if s := row(t, db, `SELECT count(*) FROM gpkg_contents`); s != "2" {
		t.Errorf("%s tables, want shelter-registration's two", s)
	}
	if s := row(t, db, `SELECT family_head_name FROM "shelter-registration" WHERE id = ?`, family.String()); s != "Ana Cho" {
		t.Errorf("with personal data, family_head_name %q", s)
	}
	if s := row(t, db, `SELECT group_concat(name || ' ' || age, ', ') FROM (SELECT * FROM "shelter-registration_household" ORDER BY age DESC)`); s != "Ana Cho 30, Luis Cho 3" {
		t.Errorf("with personal data, household rows %q", s)
	}

	if _, err := n.ExportGeoPackage(ctx, path, []string{"no-such-type"}, node.ExportOptions{}); !errors.Is(err, node.ErrUnknownType) {
		t.Errorf("an unknown type: %v", err)
	}
	if names, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*")); len(names) != 1 {
		t.Errorf("the folder holds %v, want the first export alone", names)
	}
}

// A laptop of Toledo holds a Cayo missing-person report whose personal
// fields it cannot open: exported with personal data, those fields are
// NULL, never the sealed bytes, and the withheld column names them.
func TestExportGeoPackageWithheld(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	toledo := c.Add("toledo-03", syncproto.RoleField, "Toledo", nil)
	meetHQ(t, hq, cayo, toledo)
	id, err := cayo.Node.Add(context.Background(), "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	syncOK(t, cayo, hq)
	syncOK(t, toledo, hq)

	db, _, _ := exportGeoPackage(t, toledo.Node, node.ExportOptions{Personal: true}, "missing-person")
	if s := row(t, db, `SELECT typeof(full_name) || '|' || typeof(medical_conditions) || '|' || typeof(reporter_phone) || '|' || last_seen_place || '|' || withheld
		FROM "missing-person" WHERE id = ?`, id.String()); s != "null|null|null|San Ignacio market|full_name;medical_conditions;reporter_name;reporter_phone" {
		t.Fatalf("the Toledo laptop's export reads %q", s)
	}
	db, _, _ = exportGeoPackage(t, cayo.Node, node.ExportOptions{Personal: true}, "missing-person")
	if s := row(t, db, `SELECT full_name || '|' || ifnull(withheld, 'NULL') FROM "missing-person"`); !strings.HasPrefix(s, canaryName+"|NULL") {
		t.Fatalf("the Cayo laptop's export reads %q", s)
	}
}

// An export never goes into the node's data folder: a path mistyped there
// would replace the database or a key while the node holds it open.
// Refused however the folder is named (through a link to it, or to a
// folder inside it), nothing is written, and the node reads its records
// as before.
func TestExportsStayOutOfTheDataFolder(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	id := mustAdd(t, n, "damage-assessment", plainAssessment)
	data := n.Config().DataDir
	if err := os.Mkdir(filepath.Join(data, "inner"), 0o700); err != nil {
		t.Fatal(err)
	}
	links := t.TempDir()
	for name, to := range map[string]string{"data": data, "inner": filepath.Join(data, "inner")} {
		if err := os.Symlink(to, filepath.Join(links, name)); err != nil {
			t.Fatal(err)
		}
	}
	before, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(data, "lifeline.db"),
		filepath.Join(data, "node.key"),
		filepath.Join(data, "belize.gpkg"),
		filepath.Join(data, "inner", "..", "lifeline.db"),
		filepath.Join(links, "data", "lifeline.db"),
		filepath.Join(links, "inner", "belize.gpkg"),
	} {
		if _, err := n.ExportGeoPackage(ctx, path, nil, node.ExportOptions{}); !errors.Is(err, node.ErrInDataFolder) {
			t.Errorf("a GeoPackage to %s: %v, want it refused", path, err)
		}
	}
	if _, err := n.ExportPhotos(ctx, nil, filepath.Join(data, "photos-out")); !errors.Is(err, node.ErrInDataFolder) {
		t.Errorf("photos into the data folder: %v, want them refused", err)
	}
	after, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the data folder held %d entries, and %d after the refused exports", len(before), len(after))
	}
	if _, err := n.Record(ctx, id); err != nil {
		t.Fatalf("the node after the refused exports: %v", err)
	}
	// Beside the data folder is anywhere else.
	if _, err := n.ExportGeoPackage(ctx, filepath.Join(filepath.Dir(data), "belize.gpkg"), nil, node.ExportOptions{}); err != nil {
		t.Errorf("a GeoPackage beside the data folder: %v", err)
	}
}
