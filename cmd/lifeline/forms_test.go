package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// kitsOn is what `kits list --json` says of a node's kits: version by name,
// and the record types of each.
func kitsOn(t *testing.T, dir string) (versions map[string]string, types map[string][]string) {
	t.Helper()
	var kits []struct {
		Name, Version string
		Types         []string
	}
	if err := json.Unmarshal([]byte(ok(t, "", "kits", "list", "--data", dir, "--json")), &kits); err != nil {
		t.Fatal(err)
	}
	versions, types = map[string]string{}, map[string][]string{}
	for _, k := range kits {
		versions[k.Name], types[k.Name] = k.Version, k.Types
	}
	return versions, types
}

// A form NEMO wrote in Excel, as ODK and Kobo read it, becomes a kit with
// `kits import`, is published at a running headquarters, reaches a field
// laptop in its next sync, and the laptop fills in records with it: one
// that keeps the form's constraint is saved, one that breaks it is refused
// with the form's own message, and a question asked only when another
// answer says so is refused when it does not.
func TestXLSFormKitReachesALaptop(t *testing.T) {
	// Its processes mostly wait (for sessions, gossip, elections):
	// it runs beside other such tests.
	t.Parallel()
	dir := t.TempDir()
	form := writeForm(t, dir, "well-check.xlsx", map[string][][]any{
		"survey": {
			{"type", "name", "label::English (en)", "label::Spanish (es)", "required", "relevant", "constraint", "constraint_message::English (en)", "constraint_message::Spanish (es)"},
			{"select_one d", "district", "District", "Distrito", "yes"},
			{"text", "village", "Village", "Aldea", "yes"},
			{"integer", "households", "Households served", "Familias atendidas", "yes", "", ". >= 1 and . <= 400",
				"A village well serves 1 to 400 households.", "Un pozo de aldea atiende de 1 a 400 familias."},
			{"select_one yn", "contaminated", "Water contaminated", "Agua contaminada", "yes"},
			{"text", "contamination", "What contaminates it", "Qué la contamina", "", "${contaminated} = 'yes'"},
		},
		"choices": {
			{"list_name", "name", "label::English (en)", "label::Spanish (es)"},
			{"d", "Belize", "Belize", "Belice"}, {"d", "Cayo", "Cayo", "Cayo"}, {"d", "Corozal", "Corozal", "Corozal"},
			{"d", "Orange Walk", "Orange Walk", "Orange Walk"}, {"d", "Stann Creek", "Stann Creek", "Stann Creek"}, {"d", "Toledo", "Toledo", "Toledo"},
			{"yn", "yes", "Yes", "Sí"}, {"yn", "no", "No", "No"},
		},
		"settings": {{"form_title", "form_id", "version"}, {"Well check", "well_check", "1.0"}},
	})
	kit := filepath.Join(dir, "well-check.yaml")
	if said := ok(t, "", "kits", "import", form, "--out", kit); !strings.Contains(said, "wrote kit well-check 1.0 to "+kit) {
		t.Fatalf("kits import said %q", said)
	}

	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	hqSync, _ := runNode(t, d.hq, "--sync-addr", "127.0.0.1:0", "--bootstrap", "--sync-idle", "10s")
	if said := ok(t, "", "kits", "publish", "--data", d.hq, kit); !strings.Contains(said, "kit well-check 1.0 queued") {
		t.Fatalf("kits publish said %q", said)
	}
	waitFor(t, 90*time.Second, "headquarters applies the kit it published", func() bool {
		v, _ := kitsOn(t, d.hq)
		return v["well-check"] == "1.0"
	})
	if v, _ := kitsOn(t, field); v["well-check"] != "" {
		t.Fatalf("the laptop holds well-check %s before any sync", v["well-check"])
	}
	ok(t, "", "sync", "--data", field, "--peer", hqSync)
	v, types := kitsOn(t, field)
	if v["well-check"] != "1.0" || len(types["well-check"]) != 1 {
		t.Fatalf("after its sync the laptop holds well-check %q, types %q", v["well-check"], types["well-check"])
	}
	typ := types["well-check"][0]

	good := `{"district":"Cayo","village":"Succotz","households":120,"contaminated":"yes","contamination":"flood water over the well head"}`
	id := strings.TrimSpace(ok(t, good, "record", "add", "--data", field, "--type", typ))
	var shown struct {
		Kit    string
		Fields map[string]any
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", field, "--id", id, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Kit != "well-check" || shown.Fields["households"] != float64(120) || shown.Fields["contamination"] != "flood water over the well head" {
		t.Fatalf("the laptop saved %+v", shown)
	}
	fails(t, `{"district":"Cayo","village":"Succotz","households":900,"contaminated":"no"}`,
		[]string{"households", "A village well serves 1 to 400 households."}, "record", "add", "--data", field, "--type", typ)
	fails(t, `{"district":"Cayo","village":"Succotz","households":12,"contaminated":"no","contamination":"none"}`,
		[]string{"contamination", "relevant"}, "record", "add", "--data", field, "--type", typ)

	// The record reaches headquarters under the kit it was written with.
	ok(t, "", "sync", "--data", field, "--peer", hqSync)
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", d.hq, "--id", id, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Kit != "well-check" || shown.Fields["village"] != "Succotz" {
		t.Fatalf("headquarters holds %+v", shown)
	}
}

// An edit and a review go round between a laptop and headquarters, each a
// real process: HQ sends the laptop's record back for a correction, the
// laptop sees why at its next sync, corrects the field, and HQ then holds
// the corrected value with the record waiting for review again.
func TestCorrectionRoundTrip(t *testing.T) {
	// Its processes mostly wait (for sessions, gossip, elections):
	// it runs beside other such tests.
	t.Parallel()
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	hqSync, _ := runNode(t, d.hq, "--sync-addr", "127.0.0.1:0", "--bootstrap", "--sync-idle", "10s")
	ids := addRecords(t, field, 2, "Succotz")
	ok(t, "", "sync", "--data", field, "--peer", hqSync)

	ok(t, "", "record", "review", "--data", d.hq, "--id", ids[0], "--decision", "needs-correction", "--reason", "wrong village: this is Benque Viejo")
	type shown struct {
		Fields map[string]any
		Review *struct {
			Decision, Reason string
			Corrected        bool
		}
	}
	show := func(dir string) shown {
		var s shown
		if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", ids[0], "--json")), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	listed := func(dir, review string) []string {
		var recs []struct{ ID string }
		if err := json.Unmarshal([]byte(ok(t, "", "record", "list", "--data", dir, "--review", review, "--json")), &recs); err != nil {
			t.Fatal(err)
		}
		var l []string
		for _, r := range recs {
			l = append(l, r.ID)
		}
		slices.Sort(l)
		return l
	}
	waitFor(t, 90*time.Second, "HQ writes the review into the record", func() bool { return show(d.hq).Review != nil })
	ok(t, "", "sync", "--data", field, "--peer", hqSync)
	if s := show(field); s.Review == nil || s.Review.Decision != "needs-correction" || s.Review.Reason != "wrong village: this is Benque Viejo" || s.Review.Corrected {
		t.Fatalf("the laptop shows review %+v", s.Review)
	}
	if l := listed(field, "needs-correction"); !slices.Equal(l, []string{ids[0]}) {
		t.Fatalf("the laptop lists %q as needing a correction, want %s", l, ids[0])
	}

	ok(t, `{"village":"Benque Viejo"}`, "record", "update", "--data", field, "--id", ids[0], "--author", "vol-193")
	ok(t, "", "sync", "--data", field, "--peer", hqSync)
	s := show(d.hq)
	if s.Fields["village"] != "Benque Viejo" {
		t.Fatalf("HQ holds village %v after the correction", s.Fields["village"])
	}
	if s.Review == nil || s.Review.Decision != "needs-correction" || !s.Review.Corrected {
		t.Fatalf("HQ shows review %+v after the correction", s.Review)
	}
	want := []string{ids[0], ids[1]}
	slices.Sort(want)
	if l := listed(d.hq, "pending"); !slices.Equal(l, want) {
		t.Fatalf("HQ's records to review are %q, want the corrected one and the one never reviewed %q", l, want)
	}
	if l := listed(d.hq, "needs-correction"); len(l) != 0 {
		t.Fatalf("HQ still lists %q as needing a correction", l)
	}
	if out := ok(t, "", "record", "show", "--data", d.hq, "--id", ids[0]); !strings.Contains(out, "corrected since, waiting for review again") {
		t.Fatalf("record show at HQ:\n%s", out)
	}
	table := ok(t, "", "record", "list", "--data", d.hq, "--review", "pending")
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, ids[0]) && (!strings.HasSuffix(strings.TrimSpace(line), "corrected, to review again") || strings.Contains(line, "needs correction")) {
			t.Fatalf("record list flags the corrected record as %q", line)
		}
	}
	if !strings.Contains(table, ids[0]) {
		t.Fatalf("record list --review pending leaves out the corrected record:\n%s", table)
	}
}
