package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The kit's logic holds for records given on the command line: a shelter's
// occupancy above its capacity is refused with the kit's message, the
// spaces left are computed, a family's children under 5 cannot outnumber
// its members, and a household member's pregnancy is asked of women of 12
// to 50 only. record import holds each line to the same rules.
func TestRecordAddFollowsKitLogic(t *testing.T) {
	dir := newNode(t)
	shelter := func(capacity, occupancy int) string {
		b, _ := json.Marshal(map[string]any{"shelter_name": "Benque Viejo RC School", "district": "Cayo", "capacity": capacity, "occupancy": occupancy})
		return string(b)
	}
	fails(t, shelter(100, 140), []string{"occupancy", "Occupancy cannot be more than the shelter's capacity", "rule constraint"},
		"record", "add", "--data", dir, "--type", "shelter")
	fails(t, `{"shelter_name": "Benque Viejo RC School", "district": "Cayo", "capacity": 100, "spaces_left": 7}`, []string{"spaces_left", "rule calculate"},
		"record", "add", "--data", dir, "--type", "shelter")
	id := strings.TrimSpace(ok(t, shelter(100, 40), "record", "add", "--data", dir, "--type", "shelter"))
	var view struct {
		Fields map[string]any `json:"fields"`
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", id, "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if got := view.Fields["spaces_left"]; got != float64(60) {
		t.Errorf("spaces_left = %v, want 60 (100 - 40)", got)
	}
	fails(t, `{"occupancy": 101}`, []string{"Occupancy cannot be more than the shelter's capacity"}, "record", "update", "--data", dir, "--id", id)
	ok(t, `{"occupancy": 90}`, "record", "update", "--data", dir, "--id", id)
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", id, "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if got := view.Fields["spaces_left"]; got != float64(10) {
		t.Errorf("spaces_left after the update = %v, want 10", got)
	}

	family := func(extra string) string {
		return `{"shelter_name": "Benque Viejo RC School", "district": "Cayo", "family_head_name": "Ana Cho", "members": 2, "arrived_at": "2026-11-21T18:40:00-06:00", "registered_by": "M. Bol"` + extra + "}\n"
	}
	fails(t, family(`, "household": [{"name": "Luis Cho", "sex": "male", "age": 40, "pregnant": true}]`), []string{"pregnant", "rule relevant"},
		"record", "add", "--data", dir, "--type", "shelter-registration")
	fails(t, family(`, "children_under_5": 3`), []string{"There cannot be more children under 5 than family members"},
		"record", "add", "--data", dir, "--type", "shelter-registration")
	fam := strings.TrimSpace(ok(t, family(`, "household": [{"name": "Ana Cho", "sex": "female", "age": 30, "pregnant": true}, {"name": "Luis Cho", "sex": "male", "age": 3}]`),
		"record", "add", "--data", dir, "--type", "shelter-registration"))
	var rows struct {
		Fields struct {
			Household []map[string]any `json:"household"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", fam, "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	if h := rows.Fields.Household; len(h) != 2 || h[0]["age"] != float64(30) || h[1]["age"] != float64(3) || len(h[0]["row"].(string)) != 16 {
		t.Errorf("the household as JSON: %v, want Ana (30) then Luis (3), each with its row id", h)
	}

	bad := family("") + family(`, "children_under_5": 3`)
	fails(t, "", []string{"line 2", "There cannot be more children under 5 than family members", "nothing was imported"},
		"record", "import", "--data", dir, "--type", "shelter-registration", writeFile(t, t.TempDir(), "bad.ndjson", bad))
	if out := ok(t, "", "record", "import", "--data", dir, "--type", "shelter-registration", writeFile(t, t.TempDir(), "good.ndjson", family("")+family(`, "children_under_5": 1`))); !strings.Contains(out, "imported 2 records") {
		t.Fatalf("import said %q", out)
	}
}
