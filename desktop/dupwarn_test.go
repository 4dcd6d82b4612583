package desktop

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fdesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/syncproto"
)

// What a Toledo laptop holds: a report of Maria Cal of San Antonio, the
// girl Maria Pop of the same village (a common name, another person), and
// a man of another village.
const (
	dupMariaCal = `{"full_name":"Maria Cal","sex":"female","age":34,"district":"Toledo","last_seen_place":"the river","last_seen_village":"San Antonio","status":"missing","reporter_name":"Juana Cal","reported_at":"2026-12-02T09:15:00-06:00"}`
	dupMariaPop = `{"full_name":"Maria Pop","sex":"female","age":8,"district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rosa Pop","reported_at":"2026-12-02T10:00:00-06:00"}`
	dupPedroSho = `{"full_name":"Pedro Sho","sex":"male","age":71,"district":"Toledo","last_seen_place":"his farm","last_seen_village":"Silver Creek","status":"missing","reporter_name":"Ana Sho","reported_at":"2026-12-02T11:00:00-06:00"}`
)

// fillMissing fills a new missing-person report as a responder would.
func fillMissing(t *testing.T, u *UI, name, age string) *form {
	t.Helper()
	fm := openType(t, u, "Missing persons", "Missing person")
	test.Type(fm.input(t, "full_name").entry, name)
	test.Type(fm.input(t, "age").entry, age)
	fm.input(t, "district").sel.SetSelected("Toledo")
	test.Type(fm.input(t, "last_seen_place").entry, "the market")
	test.Type(fm.input(t, "last_seen_village").entry, "San Antonio")
	fm.input(t, "status").sel.SetSelected("Missing")
	test.Type(fm.input(t, "reporter_name").entry, "Tomas Caal")
	test.Tap(fm.input(t, "reported_at").button)
	return fm
}

// A responder types a report of "CAAL, María", 35, of San Antonio: before
// it is saved, the laptop shows the report of Maria Cal, 34, it holds (Cal
// and Caal are one Q'eqchi' name), with who reported her and when, and
// not the girl Maria Pop. Cancel and Open that record save nothing; Save
// anyway saves. A report of someone the laptop holds nothing of saves at
// once.
func TestPossiblyAlreadyReportedIsShownBeforeSaving(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Toledo")
	ctx := context.Background()
	var cal syncproto.RecordID
	for _, data := range []string{dupMariaCal, dupMariaPop, dupPedroSho} {
		id, err := u.node.Add(ctx, node.MissingPersonType, []byte(data), "vol-12")
		if err != nil {
			t.Fatal(err)
		}
		if data == dupMariaCal {
			cal = id
		}
	}
	fm := fillMissing(t, u, "CAAL, María", "35")
	tapSave := func() {
		t.Helper()
		test.Tap(fm.saveBtn)
		u.bg.Wait()
	}
	tapSave()
	said := strings.Join(overlayTexts(u.win), "\n")
	if !strings.Contains(said, "Maria Cal, 34, San Antonio, Toledo — reported "+showStamp("2026-12-02T09:15:00-06:00", "")+" by Juana Cal") {
		t.Fatalf("the warning says %q, want Maria Cal's report with its reporter and time", said)
	}
	for _, not := range []string{"Pop", "Sho"} {
		if strings.Contains(said, not) {
			t.Errorf("the warning names %s: %q", not, said)
		}
	}
	if n := len(records(t, u, node.MissingPersonType)); n != 3 {
		t.Fatalf("%d reports held while the warning is on show, want the 3 held before", n)
	}

	test.Tap(overlayButton(u.win, "Cancel"))
	if n := len(records(t, u, node.MissingPersonType)); n != 3 || fm.input(t, "full_name").entry.Text != "CAAL, María" {
		t.Fatalf("after Cancel: %d reports, name %q; want 3 and the form as typed", n, fm.input(t, "full_name").entry.Text)
	}

	tapSave()
	test.Tap(overlayButton(u.win, "Open that record"))
	u.bg.Wait()
	if Tabs[u.tabs.SelectedIndex()] != "records" || u.screens.records.selected != cal.String() {
		t.Fatalf("Open that record shows tab %q, record %q; want Maria Cal's report %s", Tabs[u.tabs.SelectedIndex()], u.screens.records.selected, cal)
	}
	if n := len(records(t, u, node.MissingPersonType)); n != 3 {
		t.Fatalf("%d reports after Open that record, want 3", n)
	}

	tapSave()
	test.Tap(overlayButton(u.win, "Save anyway"))
	u.bg.Wait()
	if n := len(records(t, u, node.MissingPersonType)); n != 4 {
		t.Fatalf("%d reports after Save anyway, want 4", n)
	}

	fm = fillMissing(t, u, "Juan Coc", "45")
	tapSave()
	if n := len(records(t, u, node.MissingPersonType)); n != 5 {
		t.Fatalf("Juan Coc, of whom the laptop holds nothing: %d reports, want 5 saved at once; the form says %q", n, fm.summary.Text)
	}
}

// The warning says how many people records it could not compare, in
// Spanish too.
func TestPossiblyAlreadyReportedSaysWhatItLeftOut(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Toledo")
	fm := openType(t, u, "Missing persons", "Missing person")
	found := node.Reporting{Withheld: 2, Records: []node.Reported{{ID: "x", Type: node.ShelteredPersonType, Name: "Maria Cal", Age: -1,
		Village: "San Antonio", District: "Toledo", At: "2026-12-02T09:15:00-06:00", By: "Punta Gorda Town Hall", Reasons: []string{"same name"}}}}
	fm.showPossiblyReported(found, func() {})
	said := strings.Join(overlayTexts(u.win), "\n")
	for _, want := range []string{"Maria Cal, San Antonio, Toledo — in a shelter since " + showStamp("2026-12-02T09:15:00-06:00", "") + " (Punta Gorda Town Hall)",
		"2 people records of other districts were not compared"} {
		if !strings.Contains(said, want) {
			t.Errorf("the warning says %q, want %q", said, want)
		}
	}
	test.Tap(overlayButton(u.win, "Cancel"))
	if err := u.node.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	fm.showPossiblyReported(found, func() {})
	said = strings.Join(overlayTexts(u.win), "\n")
	if !strings.Contains(said, "2 registros de personas de otros distritos no se compararon") || overlayButton(u.win, "Guardar de todos modos") == nil {
		t.Errorf("in Spanish the warning says %q", said)
	}
}

// A family registered at a shelter is checked person by person: the
// warning says which of its people each record may be, in Spanish too.
func TestPossiblyAlreadyReportedSaysWhichOfAFamily(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Toledo")
	fm := openType(t, u, "Shelter registration", "Family registration at a shelter")
	found := node.Reporting{Records: []node.Reported{{ID: "x", Type: node.MissingPersonType, For: "Ana Tzib", Name: "Ana Luisa Tzib", Age: 7,
		Village: "San Antonio", District: "Toledo", At: "2026-11-21T08:00:00-06:00", By: "Rosa Tzib", Reasons: []string{"first name Ana on both"}}}}
	fm.showPossiblyReported(found, func() {})
	said := strings.Join(overlayTexts(u.win), "\n")
	if want := "Ana Tzib may be: Ana Luisa Tzib, 7, San Antonio, Toledo — reported " + showStamp("2026-11-21T08:00:00-06:00", "") + " by Rosa Tzib"; !strings.Contains(said, want) {
		t.Errorf("the warning says %q, want %q", said, want)
	}
	test.Tap(overlayButton(u.win, "Cancel"))
	if err := u.node.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	fm.showPossiblyReported(found, func() {})
	if said := strings.Join(overlayTexts(u.win), "\n"); !strings.Contains(said, "Ana Tzib puede ser: Ana Luisa Tzib") {
		t.Errorf("in Spanish the warning says %q", said)
	}
}

// The laptop holds reports of Juan Coc of 45 and of 19, father and son.
// A report of Juan Coc typed with no age lists both, and asks for the age
// that tells which of them this is; typed with 45, it does not ask.
func TestPossiblyAlreadyReportedAsksTheAgeOfANamesake(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Toledo")
	ctx := context.Background()
	for _, age := range []string{"45", "19"} {
		data := `{"full_name":"Juan Coc","sex":"male","age":` + age + `,"district":"Toledo","last_seen_place":"the farm","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rosa Coc","reported_at":"2026-12-02T09:15:00-06:00"}`
		if _, err := u.node.Add(ctx, node.MissingPersonType, []byte(data), "vol-12"); err != nil {
			t.Fatal(err)
		}
	}
	ask := "JUAN COC: these are people of one name and of ages too far apart to be one person. Ask for the age"
	fm := fillMissing(t, u, "JUAN COC", "")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	said := strings.Join(overlayTexts(u.win), "\n")
	if !strings.Contains(said, "Juan Coc, 45, San Antonio") || !strings.Contains(said, "Juan Coc, 19, San Antonio") || !strings.Contains(said, ask) {
		t.Fatalf("a report of no age is warned %q; want both reports, and the age asked for", said)
	}
	test.Tap(overlayButton(u.win, "Cancel"))
	test.Type(fm.input(t, "age").entry, "45")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if said := strings.Join(overlayTexts(u.win), "\n"); !strings.Contains(said, "Juan Coc, 45, San Antonio") || strings.Contains(said, "Ask for the age") {
		t.Fatalf("a report of 45 is warned %q; want the father's report, and no question", said)
	}
}

// Ana's Save, on the warning, is hers. She walks away with it on show;
// the quiet spell signs her out, and Luis signs in: the warning is gone,
// so that he cannot save her report in his name (nor learn of it), and
// her report is still in her form when she signs in again.
func TestTheWarningLeftOpenIsNotTheNextPersons(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Toledo")
	if _, err := u.node.Add(ctx, node.MissingPersonType, []byte(dupMariaCal), "vol-12"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, pass string }{{"Ana Cho", anaPass}, {"Luis Sho", luisPass}} {
		if _, err := u.node.AddPerson(ctx, p.name, []byte(p.pass)); err != nil { // Argon2id 1, 2
			t.Fatal(err)
		}
	}
	u.RequireSignIn()
	signInAs(t, u, "Ana Cho", anaPass) // Argon2id 3
	fm := fillMissing(t, u, "CAAL, María", "35")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if overlayButton(u.win, "Save anyway") == nil {
		t.Fatal("no warning on show for Ana's report")
	}

	l := u.gate
	now := time.Now()
	l.after, l.now, l.last = 10*time.Minute, func() time.Time { return now }, now
	l.tick()
	now = now.Add(10 * time.Minute)
	l.tick()
	if !l.isLocked() || u.signedIn() != "" {
		t.Fatal("the quiet spell did not sign Ana out")
	}
	signInAs(t, u, "Luis Sho", luisPass) // Argon2id 4
	if l.isLocked() || u.signedIn() != "Luis Sho" {
		t.Fatalf("Luis did not sign in: %q", l.view.errLabel.Text)
	}
	if b := overlayButton(u.win, "Save anyway"); b != nil {
		test.Tap(b)
		u.bg.Wait()
		t.Fatalf("Ana's warning is on show to Luis; Save anyway there saved %d reports", len(records(t, u, node.MissingPersonType))-1)
	}

	test.Tap(findButton(u.header, "Switch person"))
	signInAs(t, u, "Ana Cho", anaPass) // Argon2id 5
	if fm := u.recordForm(); fm == nil || fm.input(t, "full_name").entry.Text != "CAAL, María" {
		t.Fatal("Ana signed in again does not find the report she typed")
	}
}

// queuedThread plays the UI thread for a window whose work runs behind
// it: what the work hands to the UI waits in a queue until the test runs
// it, so that the test acts between the work and what it shows.
type queuedThread struct {
	mu sync.Mutex
	q  []func()
}

func (j *queuedThread) post(f func()) {
	j.mu.Lock()
	j.q = append(j.q, f)
	j.mu.Unlock()
}

// drain runs what the work hands to the UI, and what that starts, until
// no work runs and nothing waits.
func (j *queuedThread) drain(u *UI) {
	for {
		u.bg.Wait()
		j.mu.Lock()
		q := j.q
		j.q = nil
		j.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, f := range q {
			f()
		}
	}
}

// Ctrl+S pressed twice on a report of a missing person, the second time
// while the laptop still looks for a report of her it may hold, saves one
// report, as it does for any other record: the check is part of the save
// under way. Before, each press checked, and each check saved.
func TestASecondCtrlSWhileCheckingSavesOneReport(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "node")
	if err := node.Init(ctx, cfg, node.Identity{Name: "toledo-laptop-03", Role: syncproto.RoleField, District: "Toledo"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	th := &queuedThread{}
	a := test.NewTempApp(t)
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1000, 700))
	u := newUI(ctx, a, w, n, filepath.Join(t.TempDir(), "drafts"), false, th.post)
	t.Cleanup(func() {
		th.drain(u)
		cancel()
		w.Close()
		n.Close()
	})
	th.drain(u)
	fm := fillMissing(t, u, "Maria Cal", "34")
	th.drain(u)
	ctrlS := &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	u.win.Canvas().Unfocus()
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlS)
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlS) // the first check not done
	th.drain(u)
	if n := len(records(t, u, node.MissingPersonType)); n != 1 {
		t.Fatalf("two presses of Ctrl+S saved %d reports, want 1; the form says %q", n, fm.summary.Text)
	}
}

// Ctrl+S pressed again while the warning is on show saves nothing and
// shows no second warning beneath it, whose Save anyway would save the
// report a second time.
func TestCtrlSWhileTheWarningIsOnShowSavesNothing(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Toledo")
	if _, err := u.node.Add(context.Background(), node.MissingPersonType, []byte(dupMariaCal), "vol-12"); err != nil {
		t.Fatal(err)
	}
	fillMissing(t, u, "CAAL, María", "35")
	ctrlS := &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	u.win.Canvas().Unfocus()
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlS)
	u.bg.Wait()
	if overlayButton(u.win, "Save anyway") == nil {
		t.Fatalf("no warning on show: %q", overlayTexts(u.win))
	}
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlS)
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(saveAnotherShortcut)
	u.bg.Wait()
	for b := overlayButton(u.win, "Save anyway"); b != nil; b = overlayButton(u.win, "Save anyway") {
		test.Tap(b)
		u.bg.Wait()
	}
	if n := len(records(t, u, node.MissingPersonType)); n != 2 {
		t.Fatalf("%d reports held after Save anyway on every warning shown, want Maria Cal's and the one typed", n)
	}
}
