package desktop

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"lifeline/fieldkits"
	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// missingPersonsAfter is the built-in missing-persons kit file as HQ
// would publish its next version: a minor version up, a new title, and a
// new optional question, which makes the type's version one up.
func missingPersonsAfter(t *testing.T) (file []byte, version string, typeVersion uint32) {
	t.Helper()
	cat, err := fieldkits.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	k, ok := cat.Kit("missing-persons")
	if !ok {
		t.Fatal("no built-in missing-persons kit")
	}
	ty, _ := cat.Type("missing-person")
	var major, minor int
	if _, err := fmt.Sscanf(k.Version, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("built-in version %q: %v", k.Version, err)
	}
	version, typeVersion = fmt.Sprintf("%d.%d.0", major, minor+1), ty.Version+1
	b, err := os.ReadFile("../fieldkits/kits/missing-persons.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, r := range [][2]string{
		{"\nversion: " + k.Version + "\n", "\nversion: " + version + "\n"},
		{"  en: Missing persons\n", "  en: Missing and sought persons\n"},
		{fmt.Sprintf("    version: %d\n", ty.Version), fmt.Sprintf("    version: %d\n", typeVersion)},
		{"      - name: reporter_name\n", "      - name: school\n        type: text\n        max: 120\n        label: {en: School attended, es: Escuela a la que asiste}\n\n      - name: reporter_name\n"},
	} {
		if strings.Count(s, r[0]) != 1 {
			t.Fatalf("the built-in kit holds %q %d times, want once", r[0], strings.Count(s, r[0]))
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	return []byte(s), version, typeVersion
}

// A responder is halfway through a missing-person report when a newer
// kit, published at HQ, comes by sync. The app takes it at once: the
// header says what came, the form asks the new question and still holds
// what was typed, and the record saved is of the new version of its
// kind; the record saved before the update keeps the version it was made
// with.
func TestKitUpdateArrivesWithAFormHalfFilled(t *testing.T) {
	ctx := context.Background()
	c := nodetest.New(t)
	hq := c.Add("hq-belmopan", syncproto.RoleHQ, "Belize", func(cfg *node.Config) { cfg.Bootstrap = true })
	nodetest.Eventually(t, 30*time.Second, "hq-belmopan leads the ledger", func() bool { return hq.Daemon.Ledger().IsLeader() })
	laptop := c.Add("cayo-laptop-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	// Two sessions: the first brings the laptop's certificate to HQ, the
	// second the data keys HQ then grants it.
	for range 2 {
		if _, err := laptop.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	oldType, _ := laptop.Node.Kits().Type("missing-person")
	before, err := laptop.Node.Add(ctx, "missing-person", []byte(`{"full_name":"Juan Coc","district":"Cayo","last_seen_place":"the river","status":"missing","reporter_name":"Rosa Coc","reported_at":"2026-11-21T08:00:00-06:00"}`), "ana")
	if err != nil {
		t.Fatal(err)
	}

	u := uiOver(t, laptop.Node)
	fm := openType(t, u, "Missing persons", "Missing person")
	test.Type(fm.input(t, "full_name").entry, "Maria Pop")
	test.Type(fm.input(t, "last_seen_place").entry, "Punta Gorda market")

	file, version, typeVersion := missingPersonsAfter(t)
	if _, err := hq.Node.PublishKit(ctx, "missing-persons.yaml", file); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "HQ applies the kit it published", func() bool {
		k, _ := hq.Node.Kits().Kit("missing-persons")
		return k.Version == version
	})
	res, err := laptop.Node.Sync(ctx, hq.Addr)
	if err != nil || res.Kits != 1 {
		t.Fatalf("the laptop's session took %d kits (%v), want 1", res.Kits, err)
	}
	u.Refresh() // as the running app does when a session ends

	if got := strings.Join(labelTexts(u.header), "\n"); !strings.Contains(got, "New from headquarters: Missing and sought persons "+version+".") {
		t.Errorf("the header says %q, not which kit came", got)
	}
	fm = u.recordForm()
	if fm == nil {
		t.Fatal("no form on show after the update")
	}
	if fm.t.Name != "missing-person" || fm.t.Version != typeVersion {
		t.Fatalf("after the update the form on show is of %s version %d, want missing-person version %d", fm.t.Name, fm.t.Version, typeVersion)
	}
	if got := fm.input(t, "full_name").entry.Text; got != "Maria Pop" {
		t.Errorf("full_name %q after the update, want what was typed", got)
	}
	if got := fm.input(t, "last_seen_place").entry.Text; got != "Punta Gorda market" {
		t.Errorf("last_seen_place %q after the update, want what was typed", got)
	}
	test.Type(fm.input(t, "school").entry, "Holy Cross")
	fm.input(t, "district").sel.SetSelected("Cayo")
	fm.input(t, "status").sel.SetSelected("Missing")
	test.Type(fm.input(t, "reporter_name").entry, "Ana Pop")
	test.Tap(fm.input(t, "reported_at").button)
	test.Tap(fm.saveBtn)
	u.bg.Wait()

	var saved *node.RecordView
	for _, r := range records(t, u, "missing-person") {
		if r.Fields["full_name"] == "Maria Pop" {
			saved = &r
		}
	}
	if saved == nil {
		t.Fatalf("nothing saved; the form says %q", fm.summary.Text)
	}
	if saved.Version != typeVersion || saved.Fields["school"] != "Holy Cross" {
		t.Errorf("the record saved is of version %d with school %v, want version %d with Holy Cross", saved.Version, saved.Fields["school"], typeVersion)
	}
	old, err := laptop.Node.Record(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	if old.Version != oldType.Version {
		t.Errorf("the record saved before the update is of version %d, want %d", old.Version, oldType.Version)
	}
}
