package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A kit whose record type has a repeat of casualties (a personal name and
// an age), published at a running headquarters: `record export --format
// geojson` writes each building's casualties as a list of rows, their
// names only with --personal.
func TestRecordExportGeoJSONRows(t *testing.T) {
	kit, err := os.ReadFile("../../fieldkits/kits/damage-assessment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(kit)
	// A 9 written before the kit's and the type's versions puts them far
	// after the ones built in, whatever those are (1.1.0 becomes 91.1.0).
	for _, edit := range [][2]string{
		{"\nversion: ", "\nversion: 9"},
		{"  - name: damage-assessment\n    version: ", "  - name: damage-assessment\n    version: 9"},
		{"      - name: reported_by\n", `      - name: casualties
        type: repeat
        label: {en: Casualties, es: Víctimas}
        fields:
          - {name: name, type: text, personal: true, label: {en: Name, es: Nombre}}
          - {name: age, type: integer, min: 0, max: 120, label: {en: Age, es: Edad}}

      - name: reported_by
`},
	} {
		if !strings.Contains(s, edit[0]) {
			t.Fatalf("the kit file has no %q", edit[0])
		}
		s = strings.Replace(s, edit[0], edit[1], 1)
	}
	file := filepath.Join(t.TempDir(), "damage-assessment.yaml")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}

	d := newDeployment(t)
	runNode(t, d.hq, "--sync-addr", "127.0.0.1:0", "--bootstrap", "--sync-idle", "10s")
	ok(t, "", "kits", "publish", "--data", d.hq, file)
	waitFor(t, 90*time.Second, "headquarters applies the kit with casualties", func() bool {
		v, _ := kitsOn(t, d.hq)
		return strings.HasPrefix(v["damage-assessment"], "9")
	})
	ok(t, `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":4,"household_size":5,
		"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","casualties":[{"name":"Marta Chun","age":34},{"name":"Luis Chun","age":6}]}`,
		"record", "add", "--data", d.hq, "--type", "damage-assessment")

	rows := func(args ...string) ([]map[string]any, string) {
		t.Helper()
		out := ok(t, "", append([]string{"record", "export", "--data", d.hq, "--type", "damage-assessment", "--format", "geojson"}, args...)...)
		var fc struct {
			Features []struct {
				Properties struct{ Casualties []map[string]any }
			}
		}
		if err := json.Unmarshal([]byte(out), &fc); err != nil || len(fc.Features) != 1 {
			t.Fatalf("the export (%v):\n%s", err, out)
		}
		list := fc.Features[0].Properties.Casualties
		for _, r := range list {
			if id, _ := r["row"].(string); len(id) != 16 {
				t.Fatalf("a row without its id: %v", r)
			}
			delete(r, "row")
		}
		return list, out
	}
	got, out := rows()
	if want := []map[string]any{{"age": 34.0}, {"age": 6.0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("without --personal the casualties are %v, want %v", got, want)
	}
	if strings.Contains(out, "Chun") {
		t.Errorf("a name is exported without --personal:\n%s", out)
	}
	got, _ = rows("--personal")
	if want := []map[string]any{{"name": "Marta Chun", "age": 34.0}, {"name": "Luis Chun", "age": 6.0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("with --personal the casualties are %v, want %v", got, want)
	}
}
