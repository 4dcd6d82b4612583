package desktop

import (
	"encoding/json"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"lifeline/syncproto"
)

func TestQuickNewDamageFormHasTheLaptopsDistrict(t *testing.T) {
	for _, district := range []string{"Cayo", "Toledo"} {
		u := newTestUI(t, syncproto.RoleField, district)
		fm := openType(t, u, "Initial damage assessment", "Building damage assessment")
		if got := fm.input(t, "district").sel.Selected; got != district {
			t.Errorf("a new form on a %s laptop shows district %q, want %q", district, got, district)
		}
		// The responder may change it.
		fm.input(t, "district").sel.SetSelected("Belize")
		if got := fm.input(t, "district").raw(); len(got) != 1 || got[0] != "Belize" {
			t.Errorf("district changed to Belize reads %q", got)
		}
	}
}

func TestQuickSavedAssessorIsInTheNextFormButNoPersonalField(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "3")
	test.Type(fm.input(t, "household_size").entry, "5")
	test.Type(fm.input(t, "head_of_household").entry, "Maria Tzul")
	test.Type(fm.input(t, "phone").entry, "6101234")
	rec := fm.saveOne(t, u)
	if rec.Fields["reported_by"] != "vol-193" {
		t.Fatalf("saved reported_by %#v, want vol-193", rec.Fields["reported_by"])
	}

	for _, next := range []*form{fm, u.openForm(fm.t)} {
		if got := next.input(t, "reported_by").entry.Text; got != "vol-193" {
			t.Errorf("the next new form has assessor %q, want vol-193", got)
		}
		for _, name := range []string{"head_of_household", "phone", "village", "damage_level"} {
			if got := next.input(t, name).entry.Text; got != "" {
				t.Errorf("the next new form holds %s %q, want it empty", name, got)
			}
		}
	}
	b, err := u.readDraftFile(fm.rememberedFile())
	if err != nil {
		t.Fatalf("what is remembered cannot be read: %v", err)
	}
	if s := string(b); strings.Contains(s, "Maria") || strings.Contains(s, "6101234") {
		t.Errorf("a personal field is remembered: %s", s)
	}
}

func TestQuickSaveAndStartAnotherKeepsTheLocation(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	fm.input(t, "district").sel.SetSelected("Belize") // not the laptop's
	test.Type(fm.input(t, "damage_level").entry, "4")
	test.Type(fm.input(t, "household_size").entry, "5")
	test.Type(fm.input(t, "head_of_household").entry, "Maria Tzul")
	if fm.againBtn.Text != "Save and start another (keep location)" {
		t.Errorf("the button reads %q", fm.againBtn.Text)
	}
	test.Tap(fm.againBtn)
	u.bg.Wait()
	recs := records(t, u, fm.t.Name)
	if len(recs) != 1 {
		t.Fatalf("%d records saved, want 1; the form says %q", len(recs), fm.summary.Text)
	}
	want := map[string]any{
		"district":       "Belize",
		"village":        "San Ignacio",
		"lat":            17.1589,
		"lon":            -89.0696,
		"damage_level":   int64(4),
		"structure_type": "stilted timber",
		"reported_by":    "vol-193",
	}
	for name, w := range want {
		if recs[0].Fields[name] != w {
			t.Errorf("saved %s = %#v, want %#v", name, recs[0].Fields[name], w)
		}
	}

	if got := fm.input(t, "district").sel.Selected; got != "Belize" {
		t.Errorf("the new form has district %q, want Belize kept", got)
	}
	for name, w := range map[string]string{"village": "San Ignacio", "lat": "17.1589", "lon": "-89.0696", "reported_by": "vol-193", "damage_level": "", "household_size": "", "head_of_household": ""} {
		if got := fm.input(t, name).entry.Text; got != w {
			t.Errorf("the new form has %s %q, want %q", name, got, w)
		}
	}
	if got := fm.input(t, "structure_type").sel.Selected; got != "" {
		t.Errorf("the new form has structure_type %q, want it empty", got)
	}
	// The kept location is the new form's draft: it survives the app
	// closing.
	b, err := u.readDraftFile(fm.draftFile())
	if err != nil {
		t.Fatalf("no draft of the new form: %v", err)
	}
	var d map[string][]string
	if err := json.Unmarshal(b, &d); err != nil || len(d["village"]) != 1 || d["village"][0] != "San Ignacio" {
		t.Errorf("the new form's draft %s lacks the village kept (%v)", b, err)
	}

	// The next record is the second one, with only what changed typed.
	test.Type(fm.input(t, "damage_level").entry, "2")
	test.Type(fm.input(t, "household_size").entry, "3")
	fm.input(t, "structure_type").sel.SetSelected("Timber on stilts")
	test.Tap(fm.input(t, "reported_at").button)
	test.Tap(fm.againBtn)
	u.bg.Wait()
	if recs := records(t, u, fm.t.Name); len(recs) != 2 {
		t.Fatalf("%d records after the second save, want 2; the form says %q", len(recs), fm.summary.Text)
	}
}

func TestQuickInSpanishTheDistrictAndButtonShowTheKitsLabels(t *testing.T) {
	u := newTestUI(t, syncproto.RoleRelay, "Belize")
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	fm := openType(t, u, "Evaluación inicial de daños", "Evaluación de daños a la edificación")
	if got := fm.input(t, "district").sel.Selected; got != "Belice" {
		t.Errorf("a new form on a Belize relay shows district %q, want the kit's Spanish label Belice", got)
	}
	if got := fm.input(t, "district").raw(); len(got) != 1 || got[0] != "Belize" {
		t.Errorf("the district kept reads %q, want the value Belize", got)
	}
	if fm.againBtn.Text != "Guardar y empezar otro (mantener ubicación)" {
		t.Errorf("the button reads %q in Spanish", fm.againBtn.Text)
	}
}
