package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"lifeline/fieldkits"
)

// writeForm writes an XLSForm with the given sheets to dir/name.
func writeForm(t *testing.T, dir, name string, sheets map[string][][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for _, s := range []string{"survey", "choices", "settings"} {
		rows, ok := sheets[s]
		if !ok {
			continue
		}
		if _, err := f.NewSheet(s); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(s, cell, &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKitsImport(t *testing.T) {
	dir := t.TempDir()
	form := writeForm(t, dir, "shelter-check.xlsx", map[string][][]any{
		"survey": {
			{"type", "name", "label::English (en)", "label::Spanish (es)", "required", "relevant", "constraint"},
			{"start", "start"},
			{"select_one d", "district", "District", "Distrito", "yes"},
			{"integer", "occupants", "Occupants", "Ocupantes", "yes", "", ". >= 0"},
			{"note", "thanks", "Thank you", "Gracias"},
			{"text", "overflow_site", "Where the overflow goes", "Adónde va el exceso", "", "${occupants} > 100"},
			{"begin_repeat", "rooms", "Rooms", "Cuartos"},
			{"integer", "beds", "Beds", "Camas"},
			{"end_repeat"},
		},
		"choices": {
			{"list_name", "name", "label::English (en)", "label::Spanish (es)"},
			{"d", "Belize", "Belize", "Belice"}, {"d", "Cayo", "Cayo", "Cayo"}, {"d", "Corozal", "Corozal", "Corozal"},
			{"d", "Orange Walk", "Orange Walk", "Orange Walk"}, {"d", "Stann Creek", "Stann Creek", "Stann Creek"}, {"d", "Toledo", "Toledo", "Toledo"},
		},
		"settings": {{"form_title", "form_id", "version"}, {"Shelter check", "shelter_check", "1.2"}},
	})
	out := filepath.Join(dir, "shelter-check.yaml")
	said := ok(t, "", "kits", "import", form, "--out", out)
	for _, w := range []string{
		"wrote kit shelter-check 1.2 to " + out + ": 5 fields",
		"survey row 2: start (start) is not carried",
		"survey row 5: note thanks is not carried",
		"settings: the form_title text has no language",
	} {
		if !strings.Contains(said, w) {
			t.Fatalf("kits import said\n%s\nwithout %q", said, w)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	k, err := fieldkits.Parse("shelter-check.yaml", data)
	if err != nil {
		t.Fatalf("the kit written is refused by the loader: %v\n%s", err, data)
	}
	if f, _ := k.Types[0].Field("overflow_site"); f == nil || f.Relevant != "${occupants} > 100" {
		t.Fatalf("the relevant is not carried:\n%s", data)
	}

	// Headquarters takes the kit to publish.
	d := newDeployment(t)
	if said := ok(t, "", "kits", "publish", "--data", d.hq, out); !strings.Contains(said, "kit shelter-check 1.2 queued") {
		t.Fatalf("kits publish said %q", said)
	}
	// A form named as a kit the binary carries would take its type's name.
	fails(t, "", []string{"cannot become a kit here", "damage-assessment"}, "kits", "import", form, "--out", filepath.Join(dir, "x.yaml"), "--kit", "damage-assessment")
}

func TestKitsImportRefuses(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "kit.yaml")
	notXLSX := filepath.Join(dir, "form.xlsx")
	if err := os.WriteFile(notXLSX, []byte("type,name,label\ntext,a,A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fails(t, "", []string{"form.xlsx", "not an .xlsx workbook"}, "kits", "import", notXLSX, "--out", out)
	dup := writeForm(t, dir, "dup.xlsx", map[string][][]any{"survey": {
		{"type", "name", "label"}, {"text", "a", "A"}, {"text", "a", "B"},
	}})
	fails(t, "", []string{"survey row 3, column B (name): the name a is also the name of row 2"}, "kits", "import", dup, "--out", out)
	missing := writeForm(t, dir, "missing.xlsx", map[string][][]any{"survey": {
		{"type", "name", "label"}, {"select_one colours", "c", "C"},
	}})
	fails(t, "", []string{"the list colours is not on the choices sheet"}, "kits", "import", missing, "--out", out)
	r := fails(t, "", []string{"--out is required"}, "kits", "import", dup)
	if r.code != 2 {
		t.Fatalf("exit %d for a usage mistake, want 2", r.code)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused form left a kit file: %v", err)
	}
}
