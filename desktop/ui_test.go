package desktop

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/syncproto"
)

// newTestUI opens a new node of the role in a temporary folder and builds
// the app over it with Fyne's test driver (no display needed). Background
// work runs in line (see UI.inline): when a call that starts work returns,
// the work and its updates of the screen are done.
func newTestUI(t *testing.T, role syncproto.Role, district string) *UI {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "node")
	if err := node.Init(ctx, cfg, node.Identity{Name: "cayo-laptop-07", Role: role, District: district}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1000, 700))
	u := newUI(ctx, a, w, n, filepath.Join(dir, "drafts"), true, nil)
	t.Cleanup(func() {
		u.bg.Wait()
		cancel()
		w.Close()
		n.Close()
	})
	return u
}

func TestLanguageSwitchRelabelsTheApp(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	if got := u.tabs.Items[0].Text; got != "New record" {
		t.Fatalf("first tab %q", got)
	}
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	if got := u.tabs.Items[0].Text; got != "Nuevo registro" {
		t.Fatalf("first tab in Spanish %q", got)
	}
	if len(u.tabs.Items) != 4 {
		t.Fatalf("HQ sees %d tabs, want 4 (with headquarters')", len(u.tabs.Items))
	}
}

// A language switch keeps the Records screen as it was: its filters, its
// search and the record picked.
func TestLanguageSwitchKeepsTheRecordsScreen(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	var succotz syncproto.RecordID
	for _, village := range []string{"Succotz", "Bullet Tree"} {
		id, err := u.node.Add(ctx, "damage-assessment", recordsJSON("Cayo", village, 2), "ana")
		if err != nil {
			t.Fatal(err)
		}
		if village == "Succotz" {
			succotz = id
		}
	}
	u.Refresh()
	u.tabs.SelectIndex(1)
	v := u.screens.records
	v.district.SetSelected("Cayo")
	v.status.SetSelected("Saved here")
	v.search.SetText("succotz")
	v.open(succotz.String())
	if got := v.summaries(); len(got) != 1 {
		t.Fatalf("filtered, the list shows %q", got)
	}

	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	w := u.screens.records
	if w == v || u.tabs.SelectedIndex() != 1 {
		t.Fatalf("after the switch: the same screen %v, tab %d", w == v, u.tabs.SelectedIndex())
	}
	if w.district.Selected != "Cayo" || w.status.Selected != "Guardado aquí" || w.search.Text != "succotz" || w.selected != succotz.String() {
		t.Fatalf("in Spanish the Records screen shows %q, %q, %q, record %q", w.district.Selected, w.status.Selected, w.search.Text, w.selected)
	}
	if got := w.summaries(); len(got) != 1 || !strings.Contains(got[0], "Succotz") {
		t.Fatalf("in Spanish the list shows %q", got)
	}
}
