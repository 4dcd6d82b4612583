package fieldkits

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"lifeline/schemas"
)

func TestEmbeddedKitsLoad(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"damage-assessment": true, "shelter-registration": true, "missing-persons": true,
		"relief-distribution": true, "asset-tracking": true, "road-status": true,
	}
	for _, k := range c.Kits() {
		delete(want, k.Name)
		for _, ty := range k.Types {
			if ty.Kit != k.Name {
				t.Errorf("type %s is not linked to kit %s", ty.Name, k.Name)
			}
			if got, ok := c.Type(ty.Name); !ok || got != ty {
				t.Errorf("catalogue does not find type %s", ty.Name)
			}
		}
	}
	for name := range want {
		t.Errorf("kit %s is missing", name)
	}
}

// Every record type names the district it concerns with Belize's six
// districts, so that HQ can count by district and sync can filter by it.
func TestEveryTypeHasTheDistricts(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range c.TypeNames() {
		ty, _ := c.Type(name)
		f, ok := ty.Field("district")
		if !ok || f.Type != schemas.Choice {
			t.Errorf("%s: no district choice field", name)
			continue
		}
		for _, d := range schemas.Districts {
			if _, ok := f.Choice(d); !ok {
				t.Errorf("%s.district: no choice %q", name, d)
			}
		}
	}
}

// The missing-persons kit syncs before anything else: on a thin link, people
// come before property.
func TestMissingPersonsSyncFirst(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	mp, ok := c.Type("missing-person")
	if !ok {
		t.Fatal("no missing-person type")
	}
	for _, name := range c.TypeNames() {
		ty, _ := c.Type(name)
		if ty.Kit != "missing-persons" && ty.Priority <= mp.Priority {
			t.Errorf("%s has priority %d, not after missing-person's %d", name, ty.Priority, mp.Priority)
		}
	}
}

// The benchmark workload's 50,000 damage assessments are accepted as they are.
func TestWorkloadAccepted(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ty, _ := c.Type("damage-assessment")
	f, err := os.Open("testdata/workload.ndjson.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(z)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() && n < 50000 {
		n++
		in, err := ty.ParseJSON(sc.Bytes(), schemas.Create)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if in.ID == "" || len(in.Fields) != 13 {
			t.Fatalf("line %d: id %q, %d fields", n, in.ID, len(in.Fields))
		}
	}
	if n != 50000 {
		t.Fatalf("read %d records, want 50000 (%v)", n, sc.Err())
	}
}

func TestKitFileErrorsNameFileLineAndField(t *testing.T) {
	good, err := embedded.ReadFile(FileName("damage-assessment"))
	if err != nil {
		t.Fatal(err)
	}
	lineOfText := func(s string) int {
		i := strings.Index(string(good), s)
		if i < 0 {
			t.Fatalf("%q not in the kit", s)
		}
		return strings.Count(string(good[:i]), "\n") + 1
	}
	for _, tc := range []struct {
		name      string
		from, to  string
		line      int
		wantField string
		wantMsg   string
	}{
		{"bounds reversed", "        min: 0\n        max: 4\n", "        min: 5\n        max: 4\n",
			lineOfText("        max: 4\n"), "damage-assessment/damage-assessment.damage_level", "max 4 is below min 5"},
		{"unknown field type", "type: bool\n", "type: boolean\n",
			lineOfText("type: bool\n"), "damage-assessment/damage-assessment.displaced", `"boolean" is not a field type`},
		{"missing spanish", "label: {en: Dead, es: Fallecidos}", "label: {en: Dead}",
			lineOfText("label: {en: Dead, es: Fallecidos}"), "damage-assessment/damage-assessment.dead", "Spanish"},
		{"misspelt key", "        required: true\n        max: 80\n", "        requird: true\n        max: 80\n",
			lineOfText("        required: true\n        max: 80\n"), "", "requird"},
		{"bad priority", "priority: 3", "priority: 0",
			lineOfText("priority: 3"), "damage-assessment/damage-assessment", "sync priority"},
		{"summary names no field", "summary: [village,", "summary: [villages,",
			lineOfText("summary: [village,"), "damage-assessment/damage-assessment", `"villages"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			if bad == string(good) {
				t.Fatalf("%q not in the kit", tc.from)
			}
			_, err := LoadFS(fstest.MapFS{"ida.yaml": {Data: []byte(bad)}})
			var ke *Error
			if !errors.As(err, &ke) || !errors.Is(err, ErrKit) {
				t.Fatalf("got %v, want a kit Error", err)
			}
			if ke.File != "ida.yaml" || ke.Line != tc.line || ke.Field != tc.wantField || !strings.Contains(ke.Msg, tc.wantMsg) {
				t.Fatalf("got %q (file %s line %d field %q), want line %d field %q mentioning %q",
					err, ke.File, ke.Line, ke.Field, tc.line, tc.wantField, tc.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "ida.yaml:") {
				t.Fatalf("error does not start with file:line: %q", err)
			}
		})
	}
}

func TestDuplicateTypeAcrossKitsRefused(t *testing.T) {
	good, err := embedded.ReadFile(FileName("damage-assessment"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(good), "kit: damage-assessment", "kit: damage-copy", 1)
	_, err = LoadFS(fstest.MapFS{"a.yaml": {Data: good}, "b.yaml": {Data: []byte(other)}})
	if err == nil || !strings.Contains(err.Error(), `"damage-assessment" is declared by kit`) {
		t.Fatalf("got %v", err)
	}
}

func TestMalformedYAML(t *testing.T) {
	_, err := LoadFS(fstest.MapFS{"x.yaml": {Data: []byte("kit: a\ntypes:\n  - name: [\n")}})
	var ke *Error
	if !errors.As(err, &ke) || ke.Line == 0 {
		t.Fatalf("got %v, want an error with a line", err)
	}
	_, err = LoadFS(fstest.MapFS{"empty.yaml": {Data: nil}})
	if err == nil || !strings.Contains(err.Error(), "empty.yaml") {
		t.Fatalf("got %v", err)
	}
}

func TestPublishedKitReplacesOlder(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := embedded.ReadFile(FileName("road-status"))
	newer := strings.Replace(string(data), "version: 1.0.0", "version: 1.10.0", 1)
	newer = strings.Replace(newer, "en: Road status", "en: Road and bridge status", 1)
	k, err := Parse("road-status.yaml", []byte(newer))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := c.With([]*schemas.Kit{k})
	if err != nil {
		t.Fatal(err)
	}
	ty, _ := c2.Type("road-segment")
	if ty.Kit != "road-status" || len(c2.Kits()) != len(c.Kits()) {
		t.Fatal("the published kit did not replace the embedded one")
	}
	for _, kk := range c2.Kits() {
		if kk.Name == "road-status" && kk.Version != "1.10.0" {
			t.Fatalf("version %s", kk.Version)
		}
	}
	older := strings.Replace(string(data), "version: 1.0.0", "version: 0.9", 1)
	ko, _ := Parse("road-status.yaml", []byte(older))
	c3, _ := c.With([]*schemas.Kit{ko})
	for _, kk := range c3.Kits() {
		if kk.Name == "road-status" && kk.Version != "1.0.0" {
			t.Fatal("an older kit replaced a newer one")
		}
	}
}

// A new version of a kit replaces the one a node holds only if it keeps
// every promise of it; the refusal names the file, the line, the kit, the
// type and the field.
func TestParseUpdate(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := embedded.ReadFile(FileName("missing-persons"))
	kit := string(data)
	held, _ := c.Kit("missing-persons")
	next := nextMinor(t, held.Version)
	newer := strings.Replace(kit, "version: "+held.Version, "version: "+next, 1)

	k, err := c.ParseUpdate("missing-persons.yaml", []byte(newer))
	if err != nil || k.Version != next {
		t.Fatalf("a compatible update: %v", err)
	}
	if _, err := c.ParseUpdate("missing-persons.yaml", data); !errors.Is(err, ErrNotNewer) || !errors.Is(err, ErrKit) {
		t.Fatalf("the version held here: %v", err)
	}
	downgrade := strings.Replace(kit, "version: "+held.Version, "version: 0.9.0", 1)
	if _, err := c.ParseUpdate("missing-persons.yaml", []byte(downgrade)); !errors.Is(err, ErrNotNewer) {
		t.Fatalf("a downgrade: %v", err)
	}

	// full_name is no longer personal.
	cleared := strings.Replace(newer, "        required: true\n        personal: true\n        max: 120", "        required: true\n        max: 120", 1)
	if cleared == newer {
		t.Fatal("the kit file changed: full_name's lines are not found")
	}
	_, err = c.ParseUpdate("missing-persons.yaml", []byte(cleared))
	var ke *Error
	if !errors.As(err, &ke) || !errors.Is(err, ErrIncompatible) {
		t.Fatalf("personal cleared: %v", err)
	}
	if ke.Field != "missing-persons/missing-person.full_name" || ke.Line != lineOfText(newer, "- name: full_name") {
		t.Fatalf("the error is at %d, %q: %v", ke.Line, ke.Field, err)
	}
	for _, want := range []string{"missing-persons.yaml:", "personal", next + " may not replace " + held.Version} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}

	// The name of a family's household member, a field of the rows of a
	// repeat, is no longer personal.
	data, _ = embedded.ReadFile(FileName("shelter-registration"))
	held, _ = c.Kit("shelter-registration")
	rows := strings.NewReplacer("version: "+held.Version, "version: "+nextMinor(t, held.Version),
		"  - name: shelter-registration\n    version: 2\n", "  - name: shelter-registration\n    version: 3\n",
		"            required: true\n            personal: true\n            max: 120", "            required: true\n            max: 120").Replace(string(data))
	if strings.Count(rows, "personal: true") != strings.Count(string(data), "personal: true")-1 || !strings.Contains(rows, "shelter-registration\n    version: 3") {
		t.Fatal("the kit file changed: the household member's name is not found")
	}
	_, err = c.ParseUpdate("shelter-registration.yaml", []byte(rows))
	if !errors.As(err, &ke) || !errors.Is(err, ErrIncompatible) || ke.Field != "shelter-registration/shelter-registration.household.name" || !strings.Contains(err.Error(), "personal") {
		t.Fatalf("personal cleared on a row's field: %v", err)
	}

	// A kit this node does not hold yet is new: nothing to replace.
	other := strings.NewReplacer("kit: missing-persons", "kit: missing-persons-drill", "name: missing-person\n", "name: missing-person-drill\n").Replace(kit)
	if _, err := c.ParseUpdate("drill.yaml", []byte(other)); err != nil {
		t.Fatalf("a new kit: %v", err)
	}
}

// lineOfText is the line (from 1) of the first line holding s.
func lineOfText(text, s string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}

// nextMinor is the version after v in its second number: 1.2.0 for 1.1.0.
func nextMinor(t *testing.T, v string) string {
	t.Helper()
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("version %q: %v", v, err)
	}
	return fmt.Sprintf("%d.%d.0", major, minor+1)
}
