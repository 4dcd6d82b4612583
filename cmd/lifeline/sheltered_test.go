package main

import (
	"strings"
	"testing"
)

// Each person in a shelter is a record of their own, imported by the
// shelter's list: full_name, shelter_name, district and arrived_at are
// required, the rest optional; a line without one is refused with its
// number, and nothing of the file is saved.
func TestShelteredPeopleImport(t *testing.T) {
	dir := t.TempDir()
	data := dir + "/stann-creek-01"
	ok(t, "", "init", "--data", data, "--role", "field", "--district", "Stann Creek", "--name", "stann-creek-01")
	good := `{"full_name":"Elena Sho","sex":"female","age":67,"home_village":"San Ignacio","home_district":"Cayo","shelter_name":"Dangriga Town Hall","district":"Stann Creek","arrived_at":"2026-11-21T18:40:00-06:00"}
{"full_name":"Luis Sho","shelter_name":"Dangriga Town Hall","district":"Stann Creek","arrived_at":"2026-11-21T18:40:00-06:00"}
`
	bad := good + `{"full_name":"Rosa Tzul","shelter_name":"Dangriga Town Hall","district":"Stann Creek"}
`
	fails(t, "", []string{"line 3", "arrived_at", "nothing was imported"}, "record", "import", "--data", data, "--type", "sheltered-person", writeFile(t, dir, "bad.ndjson", bad))
	if out := ok(t, "", "record", "import", "--data", data, "--type", "sheltered-person", writeFile(t, dir, "good.ndjson", good)); !strings.Contains(out, "imported 2 records") {
		t.Fatalf("import said %q", out)
	}
	if out := ok(t, "", "record", "list", "--data", data, "--type", "sheltered-person"); !strings.Contains(out, "Elena Sho · Dangriga Town Hall · Stann Creek") || strings.Count(out, "\n") != 3 {
		t.Fatalf("list:\n%s", out)
	}
}
