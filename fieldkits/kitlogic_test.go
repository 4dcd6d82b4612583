package fieldkits

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/schemas"
)

// Every version of a kit that nodes were given stays replaceable by the
// kit built in now: testdata/released holds those versions as they were
// shipped, and each embedded kit must keep their promises.
func TestEmbeddedKitsSucceedReleasedVersions(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/released/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no released kits: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		old, err := Parse(filepath.Base(file), data)
		if err != nil {
			t.Fatal(err)
		}
		if want := old.Name + "-" + old.Version + ".yaml"; filepath.Base(file) != want {
			t.Fatalf("%s holds %s %s: name it %s", file, old.Name, old.Version, want)
		}
		k, ok := c.Kit(old.Name)
		if !ok {
			t.Fatalf("kit %s was released and is no longer built in", old.Name)
		}
		if errs := k.CheckSuccessor(old); len(errs) > 0 {
			t.Errorf("%s %s does not succeed %s: %v", k.Name, k.Version, old.Version, errs)
		}
	}
}

// kitApply parses js for type name of the embedded kits and applies its
// logic, over cur (nil for a new record), and returns the rules broken.
func kitApply(t *testing.T, name string, cur schemas.Values, js string, mode schemas.Mode) (schemas.Values, []string, error) {
	t.Helper()
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ty, _ := c.Type(name)
	in, err := ty.ParseJSON([]byte(js), mode)
	if err != nil {
		t.Fatalf("%s does not parse: %v", js, err)
	}
	err = ty.Apply(cur, &in, mode, schemas.Today(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)))
	var rules []string
	var ve *schemas.ValidationError
	if errors.As(err, &ve) {
		for _, e := range ve.Errs {
			rules = append(rules, e.Field+":"+e.Rule)
		}
	}
	v := schemas.Values{}
	for k, x := range cur {
		v[k] = x
	}
	for _, f := range in.Fields {
		v[f.Name] = f.Value
	}
	return v, rules, err
}

// A missing person's place found is asked only once the person is found
// (safe, injured or deceased) or reunited: a place found given for a
// person still missing is refused.
func TestMissingPersonFoundAtPlaceOnlyOnceFound(t *testing.T) {
	const person = `{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"Succotz ferry","reporter_name":"Ana Pop","reported_at":"2026-11-20T10:00:00Z"`
	if _, rules, _ := kitApply(t, "missing-person", nil, person+`,"status":"missing","found_at_place":"Ladyville shelter"}`, schemas.Create); !slices.Equal(rules, []string{"found_at_place:relevant"}) {
		t.Errorf("a place found for a person still missing: rules %q, want found_at_place:relevant", rules)
	}
	for _, status := range []string{"found-safe", "found-injured", "found-deceased", "reunited"} {
		if _, _, err := kitApply(t, "missing-person", nil, person+`,"status":"`+status+`","found_at_place":"Ladyville shelter"}`, schemas.Create); err != nil {
			t.Errorf("status %s with a place found: %v", status, err)
		}
	}
	missing, _, err := kitApply(t, "missing-person", nil, person+`,"status":"missing"}`, schemas.Create)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kitApply(t, "missing-person", missing, `{"status":"found-safe","found_at_place":"Ladyville shelter"}`, schemas.Update); err != nil {
		t.Errorf("found safe, with the place, in one update: %v", err)
	}
	if _, rules, _ := kitApply(t, "missing-person", missing, `{"found_at_place":"Ladyville shelter"}`, schemas.Update); !slices.Equal(rules, []string{"found_at_place:relevant"}) {
		t.Errorf("a place found alone while missing: rules %q", rules)
	}
}

// A building's tag follows the damage: a building of severe damage or
// destroyed is not tagged green, and one tagged unsafe says why.
func TestDamageAssessmentTag(t *testing.T) {
	const building = `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"`
	_, rules, err := kitApply(t, "damage-assessment", nil, building+`,"damage_level":3,"building_tag":"inspected"}`, schemas.Create)
	if !slices.Equal(rules, []string{"building_tag:constraint"}) || !strings.Contains(err.Error(), "is not tagged green") {
		t.Errorf("severe damage tagged green: %v", err)
	}
	if _, rules, _ := kitApply(t, "damage-assessment", nil, building+`,"damage_level":4,"building_tag":"unsafe"}`, schemas.Create); !slices.Equal(rules, []string{"tag_reason:required"}) {
		t.Errorf("tagged unsafe without a reason: rules %q", rules)
	}
	if _, rules, _ := kitApply(t, "damage-assessment", nil, building+`,"damage_level":1,"building_tag":"inspected","tag_reason":"none"}`, schemas.Create); !slices.Equal(rules, []string{"tag_reason:relevant"}) {
		t.Errorf("a reason for a green tag: rules %q", rules)
	}
	for _, js := range []string{
		building + `,"damage_level":1,"building_tag":"inspected"}`,
		building + `,"damage_level":2,"building_tag":"restricted"}`, // a reason is asked, not required
		building + `,"damage_level":4,"building_tag":"unsafe","tag_reason":"roof beams cracked"}`,
		building + `,"damage_level":3}`, // no tag posted yet
	} {
		if _, _, err := kitApply(t, "damage-assessment", nil, js, schemas.Create); err != nil {
			t.Errorf("%s: %v", js, err)
		}
	}
	// A green building found worse on a second visit is tagged again.
	green, _, err := kitApply(t, "damage-assessment", nil, building+`,"damage_level":1,"building_tag":"inspected"}`, schemas.Create)
	if err != nil {
		t.Fatal(err)
	}
	if _, rules, _ := kitApply(t, "damage-assessment", green, `{"damage_level":3}`, schemas.Update); !slices.Equal(rules, []string{"building_tag:constraint"}) {
		t.Errorf("damage raised under a green tag: rules %q", rules)
	}
	if _, _, err := kitApply(t, "damage-assessment", green, `{"damage_level":3,"building_tag":"unsafe","tag_reason":"walls leaning"}`, schemas.Update); err != nil {
		t.Errorf("damage raised and tagged again: %v", err)
	}
}
