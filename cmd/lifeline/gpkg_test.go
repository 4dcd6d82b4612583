package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lifeline/node/nodetest"
)

// gdalTools are the programs that read a GeoPackage as QGIS does: GDAL's
// ogrinfo and ogr2ogr, and its GeoPackage validator (python3-gdal, which
// gdal-bin brings).
type gdalTools struct{ ogrinfo, ogr2ogr, python, validator string }

// needGDAL finds GDAL's tools. Without them the test skips, saying how to
// install them, except in CI (CI set), where it fails.
func needGDAL(t *testing.T) gdalTools {
	t.Helper()
	var g gdalTools
	var missing []string
	for _, p := range []struct {
		name string
		path *string
	}{{"ogrinfo", &g.ogrinfo}, {"ogr2ogr", &g.ogr2ogr}, {"python3", &g.python}} {
		path, err := exec.LookPath(p.name)
		if err != nil {
			missing = append(missing, p.name)
		}
		*p.path = path
	}
	// Debian's own python3 runs the validator with GDAL's bindings, for its
	// checks that use them.
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		g.python = "/usr/bin/python3"
	}
	for _, p := range []string{"/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", "/usr/share/doc/python3-gdal/examples/validate_gpkg.py"} {
		if _, err := os.Stat(p); err == nil {
			g.validator = p
			break
		}
	}
	if g.validator == "" {
		missing = append(missing, "validate_gpkg.py")
	}
	if len(missing) > 0 {
		nodetest.SkipOrFail(t, "the GeoPackage test needs "+strings.Join(missing, ", ")+": sudo apt-get install -y gdal-bin python3-gdal (make deps installs them)")
	}
	return g
}

// run runs a GDAL tool that must succeed and say no warning or error.
func (g gdalTools) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.String())
	}
	for line := range strings.Lines(stderr.String()) {
		if strings.Contains(line, "Warning") || strings.Contains(line, "ERROR") {
			t.Fatalf("%s %s says: %s", filepath.Base(name), strings.Join(args, " "), stderr.String())
		}
	}
	return string(out)
}

// ogrLayer is a layer as ogrinfo -so describes it.
type ogrLayer struct {
	geometry string
	features string
	fields   []string // "name: Type"
}

// ogrSummary reads ogrinfo -so -al's description of every layer.
func ogrSummary(text string) map[string]*ogrLayer {
	layers := map[string]*ogrLayer{}
	var cur *ogrLayer
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "Layer name: "); ok {
			cur = &ogrLayer{}
			layers[name] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if g, ok := strings.CutPrefix(line, "Geometry: "); ok {
			cur.geometry = g
		} else if n, ok := strings.CutPrefix(line, "Feature Count: "); ok {
			cur.features = n
		} else if name, typ, ok := strings.Cut(line, ": "); ok && strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == "" && strings.HasSuffix(typ, ")") {
			typ, _, _ = strings.Cut(typ, " (")
			cur.fields = append(cur.fields, name+": "+typ)
		}
	}
	return layers
}

// The GeoPackage of every type opens in GDAL, as QGIS opens it, without a
// warning, and passes GDAL's validator: a layer of points per type with a
// location, the number of records written, the kit's fields typed (the
// personal ones out unless asked for), a record without a location with no
// geometry; and it converts to GeoJSON with the values written.
func TestGeoPackageExport(t *testing.T) {
	t.Parallel()
	gdal := needGDAL(t)
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment")
	ok(t, destroyed, "record", "add", "--data", dir, "--type", "damage-assessment")
	ok(t, openShelter, "record", "add", "--data", dir, "--type", "shelter")
	ok(t, `{"shelter_name":"Succotz RC School","district":"Cayo","status":"open","capacity":80}`, "record", "add", "--data", dir, "--type", "shelter")
	ok(t, missingPerson, "record", "add", "--data", dir, "--type", "missing-person")

	out := filepath.Join(t.TempDir(), "belize.gpkg")
	r := lifeline(t, "", "record", "export", "--data", dir, "--format", "gpkg", "--out", out)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "2 damage-assessment records, ") || !strings.Contains(r.stderr, "1 missing-person record, ") ||
		!strings.Contains(r.stderr, " to "+out+"\n") || strings.Contains(r.stderr, "personal data") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the GeoPackage: %v %v, want a file its owner alone reads", fi, err)
	}
	gdal.run(t, gdal.python, gdal.validator, "--extra", "--warning-as-error", out)
	gdal.run(t, gdal.ogrinfo, "-ro", "-al", out)
	layers := ogrSummary(gdal.run(t, gdal.ogrinfo, "-ro", "-so", "-al", out))

	for name, want := range map[string][2]string{
		"damage-assessment": {"Point", "2"}, "shelter": {"Point", "2"}, "missing-person": {"Point", "1"},
		"road-segment": {"Point", "0"}, "relief-distribution": {"None", "0"}, "shelter-registration_household": {"None", "0"},
	} {
		l := layers[name]
		if l == nil || l.geometry != want[0] || l.features != want[1] {
			t.Errorf("layer %s: %+v, want geometry %s and %s features", name, l, want[0], want[1])
		}
	}
	// The kit's fields, in its order, head_of_household and phone left out
	// (personal); GDAL's names of the types: integers are 64-bit.
	want := []string{"id: String", "case: String", "sync_status: String", "created: DateTime", "updated: DateTime",
		"district: String", "village: String", "address: String", "lat: Real", "lon: Real", "structure_type: String",
		"structure_use: String", "damage_level: Integer64", "building_tag: String", "tag_reason: String", "household_size: Integer64",
		"injured: Integer64", "dead: Integer64", "displaced: Integer(Boolean)", "needs: String", "notes: String", "photos: String",
		"reported_by: String", "reported_at: DateTime", "conflict: String", "withheld: String"}
	if l := layers["damage-assessment"]; l == nil || !slices.Equal(l.fields, want) {
		t.Errorf("damage-assessment fields\n%q\nwant\n%q", l, want)
	}
	if b, _ := os.ReadFile(out); strings.Contains(string(b), "Marta Chun") {
		t.Error("personal data in the GeoPackage without --personal")
	}

	type feature struct {
		Geometry *struct {
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	geojson := func(path, layer string) []feature {
		t.Helper()
		var fc struct{ Features []feature }
		text := gdal.run(t, gdal.ogr2ogr, "-f", "GeoJSON", "/vsistdout/", path, layer)
		if err := json.Unmarshal([]byte(text), &fc); err != nil {
			t.Fatalf("ogr2ogr's GeoJSON: %v\n%s", err, text)
		}
		return fc.Features
	}
	found := false
	for _, f := range geojson(out, "damage-assessment") {
		p := f.Properties
		if p["village"] != "San Ignacio" {
			continue
		}
		found = true
		if f.Geometry == nil || !slices.Equal(f.Geometry.Coordinates, []float64{-89.0696, 17.1588}) || p["district"] != "Cayo" ||
			p["damage_level"] != 2.0 || p["household_size"] != 5.0 || p["displaced"] != false || p["needs"] != "water;tarpaulin" ||
			p["structure_type"] != "concrete block" || p["reported_at"] != "2024-11-18T20:05:00Z" || p["sync_status"] != "saved" {
			t.Errorf("San Ignacio as GeoJSON: %+v %+v", f.Geometry, p)
		}
	}
	if !found {
		t.Error("no San Ignacio assessment in the GeoJSON")
	}
	if fs := geojson(out, "missing-person"); len(fs) != 1 || fs[0].Geometry != nil || fs[0].Properties["last_seen_place"] != "Punta Gorda market" {
		t.Errorf("a missing person with no location: %+v", fs)
	} else if _, ok := fs[0].Properties["full_name"]; ok {
		t.Errorf("a personal field without --personal: %+v", fs[0].Properties)
	}

	// With --personal, of one type, over the earlier file.
	r = lifeline(t, "", "record", "export", "--data", dir, "--format", "gpkg", "--type", "damage-assessment", "--personal", "--out", out)
	if r.code != 0 || r.stderr != "wrote 2 damage-assessment records to "+out+", personal data included: keep the file where only the response team reads it\n" {
		t.Fatalf("with --personal: exit %d, stderr %q", r.code, r.stderr)
	}
	layers = ogrSummary(gdal.run(t, gdal.ogrinfo, "-ro", "-so", "-al", out))
	if len(layers) != 1 || layers["damage-assessment"] == nil || !slices.Contains(layers["damage-assessment"].fields, "head_of_household: String") {
		t.Fatalf("one type with personal data: %v", layers)
	}
	heads := 0
	for _, f := range geojson(out, "damage-assessment") {
		if f.Properties["head_of_household"] == "Marta Chun" && f.Properties["phone"] == "=1+1" {
			heads++
		}
	}
	if heads != 1 {
		t.Error("with --personal, Marta Chun is not the head of the Punta Gorda household")
	}

	fails(t, "", []string{"--out", "gpkg"}, "record", "export", "--data", dir, "--format", "gpkg")
	fails(t, "", []string{"no-such-type"}, "record", "export", "--data", dir, "--format", "gpkg", "--type", "no-such-type", "--out", out)
	if names, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(names) != 1 {
		t.Fatalf("after a refused export the folder holds %v, want the earlier GeoPackage alone", names)
	}
}
