package desktop

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lifeline/syncproto"
)

// The GeoPackage export writes a new file into the folder picked, named
// after the type and the day like the other exports, with the type's
// records as a layer and personal data only when the box is ticked.
func TestHQExportGeoPackage(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 3, 5))
	hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 1, 2))
	v := u.newHQView()
	dir := t.TempDir()
	v.exportGeoPackageTo(dir, "damage-assessment", false)
	files, _ := filepath.Glob(filepath.Join(dir, "damage-assessment-*.gpkg"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	if v.result.Text != "Records written: 2, to "+files[0]+"." {
		t.Errorf("result %q", v.result.Text)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// An SQLite file whose application_id (offset 68) is 'GPKG'.
	if !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) || string(b[68:72]) != "GPKG" || bytes.Contains(b, []byte("Marta Chun")) {
		t.Fatalf("not a GeoPackage without personal data: header %q, application_id %q", b[:16], b[68:72])
	}
	db, err := sql.Open("sqlite3", "file:"+files[0]+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "damage-assessment" WHERE geom IS NOT NULL`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d located records (%v), want 2", n, err)
	}

	// A second export the same day does not overwrite the first.
	v.exportGeoPackageTo(dir, "damage-assessment", true)
	second := strings.TrimSuffix(files[0], ".gpkg") + "-2.gpkg"
	if b, err := os.ReadFile(second); err != nil || !bytes.Contains(b, []byte("Marta Chun")) {
		t.Errorf("with personal data ticked, %s lacks the head of household (%v)", second, err)
	}
}
