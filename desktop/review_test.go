package desktop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// uiOver opens the app's window over a node that runs already (a
// cluster member's), as the app does over the node it runs.
func uiOver(t *testing.T, n *node.Node) *UI {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := test.NewTempApp(t)
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1024, 600))
	u := newUI(ctx, a, w, n, filepath.Join(t.TempDir(), "drafts"), true, nil)
	t.Cleanup(func() {
		u.bg.Wait()
		cancel()
		w.Close()
	})
	return u
}

// overlayTexts are the texts of the labels of the dialog on top of win.
func overlayTexts(win fyne.Window) []string {
	var texts func(o fyne.CanvasObject) []string
	texts = func(o fyne.CanvasObject) []string {
		switch x := o.(type) {
		case *widget.Label:
			return []string{x.Text}
		case *fyne.Container:
			var out []string
			for _, c := range x.Objects {
				out = append(out, texts(c)...)
			}
			return out
		case fyne.Widget:
			var out []string
			for _, c := range test.WidgetRenderer(x).Objects() {
				out = append(out, texts(c)...)
			}
			return out
		}
		return nil
	}
	if top := win.Canvas().Overlays().Top(); top != nil {
		return texts(top)
	}
	return nil
}

// reviewOn waits until n shows a record's review as decision and reason.
func reviewOn(t *testing.T, n *node.Node, id syncproto.RecordID, decision, reason string) *node.RecordReview {
	t.Helper()
	var r *node.RecordReview
	nodetest.Eventually(t, 60*time.Second, n.Self().Name+" shows the review "+decision, func() bool {
		v, err := n.Record(context.Background(), id)
		r = v.Review
		return err == nil && r != nil && r.Decision == decision && r.Reason == reason
	})
	return r
}

// reviewTitles are the first lines of the queue's rows.
func (p *reviewPanel) titles() []string {
	var out []string
	for _, it := range p.items {
		out = append(out, it.title)
	}
	return out
}

// A laptop's two records reach HQ and wait in its review queue, newest
// first, each naming the laptop that made it by its name. HQ asks for a
// correction of one (not without a reason) and approves the other; each
// leaves the queue at once, and the ledger writes the review into the
// record. The laptop, at its next sync, shows the correction asked for in
// its list and on the record, in English and in Spanish.
func TestReviewQueueAtHQAndTheReviewOnTheLaptop(t *testing.T) {
	ctx := context.Background()
	c := nodetest.New(t)
	hq := c.Add("hq-belmopan", syncproto.RoleHQ, "Belize", func(cfg *node.Config) { cfg.Bootstrap = true })
	nodetest.Eventually(t, 30*time.Second, "hq-belmopan leads the ledger", func() bool { return hq.Daemon.Ledger().IsLeader() })
	laptop := c.Add("cayo-laptop-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	succotz, err := laptop.Node.Add(ctx, "damage-assessment", recordsJSON("Cayo", "Succotz", 3), "ana")
	if err != nil {
		t.Fatal(err)
	}
	bulletTree, err := laptop.Node.Add(ctx, "damage-assessment", recordsJSON("Cayo", "Bullet Tree", 1), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}

	u := uiOver(t, hq.Node)
	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.review
	v.sides.Select(p.tab)
	if len(p.items) != 2 || p.items[0].id != bulletTree || p.items[1].id != succotz {
		t.Fatalf("queue %q, want Bullet Tree then Succotz", p.titles())
	}
	if p.msg.Text != "Records awaiting review: 2, newest first. Pick one to read it and decide." || p.tab.Text != "To review (2)" {
		t.Errorf("queue says %q, tab %q", p.msg.Text, p.tab.Text)
	}
	line := p.items[1].line
	if want := "Cayo · by ana, via cayo-laptop-07 · "; !strings.HasPrefix(line, want) || !strings.HasSuffix(line, " · Building damage assessment") {
		t.Errorf("row %q: want it to start %q and end with the type", line, want)
	}
	if laptopID := laptop.Node.Self().ID.String(); strings.Contains(line, laptopID[:8]) {
		t.Errorf("row %q names the laptop by its id", line)
	}

	// Asking for a correction needs a reason.
	p.list.Select(1)
	if p.picked != succotz.String() || !strings.Contains(strings.Join(labelTexts(p.detail), "\n"), "Succotz") {
		t.Fatalf("picked %s, showing %q", p.picked, labelTexts(p.detail))
	}
	test.Tap(p.correct)
	if !p.problem.Visible() || p.problem.Text != "Write what to correct, e.g. wrong village: the author reads it." || len(p.items) != 2 {
		t.Fatalf("a correction without a reason: problem %q (shown %v), queue %q", p.problem.Text, p.problem.Visible(), p.titles())
	}
	test.Tap(p.reject)
	if p.problem.Text != "Write why the record is rejected: the author reads it." {
		t.Errorf("a rejection without a reason: %q", p.problem.Text)
	}
	test.Type(p.reason, "wrong village")
	test.Tap(p.correct)
	if len(p.items) != 1 || p.items[0].id != bulletTree || p.picked != "" {
		t.Fatalf("after the correction asked, the queue holds %q, picked %q", p.titles(), p.picked)
	}
	if want := ": Needs correction (wrong village). The ledger records it shortly"; !strings.HasPrefix(p.result.Text, "Succotz") || !strings.Contains(p.result.Text, want) {
		t.Errorf("result %q, want the record's summary, then %q", p.result.Text, want)
	}
	got := reviewOn(t, hq.Node, succotz, node.ReviewNeedsCorrection, "wrong village")
	if got.By != "hq-belmopan" {
		t.Errorf("the review is by %q", got.By)
	}

	p.list.Select(0)
	test.Tap(p.approve)
	reviewOn(t, hq.Node, bulletTree, node.ReviewApproved, "")
	v.load()
	if len(p.items) != 0 || p.msg.Text != "No record awaits review." || p.tab.Text != "To review (0)" {
		t.Errorf("once both are reviewed, the queue holds %q and says %q, tab %q", p.titles(), p.msg.Text, p.tab.Text)
	}

	// The laptop learns of both at its next sync.
	if _, err := laptop.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	reviewOn(t, laptop.Node, succotz, node.ReviewNeedsCorrection, "wrong village")
	lu := uiOver(t, laptop.Node)
	rv := recordsScreenFor(t, lu)
	lines := map[string]string{}
	for _, r := range rv.shown {
		lines[r.summary] = rv.rowLine(r)
	}
	var succotzLine, bulletLine string
	for s, l := range lines {
		if strings.Contains(s, "Succotz") {
			succotzLine = l
		} else {
			bulletLine = l
		}
	}
	if !strings.HasPrefix(succotzLine, "⚠ Needs correction: wrong village · ") {
		t.Errorf("the list shows the record sent back as %q", succotzLine)
	}
	if !strings.HasSuffix(bulletLine, " · Approved") || strings.Contains(bulletLine, "⚠") {
		t.Errorf("the list shows the approved record as %q", bulletLine)
	}
	rv.status.SetSelectedIndex(5) // Needs correction
	lu.bg.Wait()
	if s := rv.summaries(); len(s) != 1 || !strings.Contains(s[0], "Succotz") {
		t.Errorf("records needing a correction: %q", s)
	}

	// On the record, in local time with its zone.
	at := got.At.Local().Format("2006-01-02 15:04 MST")
	rv.open(succotz.String())
	lu.bg.Wait()
	shown := strings.Join(labelTexts(rv.detail), "\n")
	if want := "Needs correction: wrong village — by hq-belmopan at " + at; !strings.Contains(shown, want) {
		t.Errorf("the record does not say %q:\n%s", want, shown)
	}
	// The kit this laptop holds is the one the record was made with.
	var kit string
	for _, k := range lu.node.Kits().Kits() {
		for _, ty := range k.Types {
			if ty.Name == "damage-assessment" {
				kit = fmt.Sprintf("Kit: %s %s, form version %d", k.Title.In("en"), k.Version, ty.Version)
			}
		}
	}
	if want := kit; !strings.Contains(shown, want) {
		t.Errorf("the record does not say %q:\n%s", want, shown)
	}

	if err := lu.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	rv = recordsScreenFor(t, lu)
	rv.open(succotz.String())
	lu.bg.Wait()
	shown = strings.Join(labelTexts(rv.detail), "\n")
	if want := "Necesita corrección: wrong village — por hq-belmopan el " + at; !strings.Contains(shown, want) {
		t.Errorf("in Spanish, the record does not say %q:\n%s", want, shown)
	}
	for _, r := range rv.shown {
		if r.id == succotz && !strings.HasPrefix(rv.rowLine(r), "⚠ Necesita corrección: wrong village · ") {
			t.Errorf("in Spanish, the list shows %q", rv.rowLine(r))
		}
	}

	// The author corrects the village: the record is no longer flagged
	// on the laptop, and waits in HQ's queue again, saying what was asked.
	if _, err := laptop.Node.Update(ctx, succotz, []byte(`{"village":"San José Succotz"}`), "ana"); err != nil {
		t.Fatal(err)
	}
	if err := lu.SetLang("en"); err != nil {
		t.Fatal(err)
	}
	rv = recordsScreenFor(t, lu)
	for _, r := range rv.shown {
		if r.id == succotz && (strings.Contains(rv.rowLine(r), "⚠") || !strings.HasSuffix(rv.rowLine(r), " · Corrected, waiting for review again")) {
			t.Errorf("corrected, the list shows %q", rv.rowLine(r))
		}
	}
	if _, err := laptop.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	v.load()
	if len(p.items) != 1 || p.items[0].id != succotz || !strings.HasPrefix(p.items[0].line, "Corrected (asked: wrong village) · ") {
		t.Fatalf("corrected, HQ's queue holds %q: %+v", p.titles(), p.items)
	}
}

// The queue's words in Spanish, and a review this node may not make said
// plainly: a relay lists only its district's records, and one not
// enrolled yet cannot sign a review.
func TestReviewQueueOfARelayIsItsDistricts(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleRelay, "Cayo")
	cayo := hqAdd(t, u, "damage-assessment", string(recordsJSON("Cayo", "Succotz", 2)))
	hqAdd(t, u, "damage-assessment", string(recordsJSON("Toledo", "San Antonio", 2)))
	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.review
	if len(p.items) != 1 || p.items[0].id != cayo {
		t.Fatalf("the Cayo relay's queue holds %q, want the Cayo record only", p.titles())
	}
	p.list.Select(0)
	test.Tap(p.approve)
	texts := strings.Join(overlayTexts(u.win), "\n")
	if !strings.Contains(texts, "This computer is not enrolled yet: a review is signed with the certificate enrollment gives.") {
		t.Errorf("a review by a node not enrolled says:\n%s", texts)
	}
	if rec, err := u.node.Record(ctx, cayo); err != nil || rec.Review != nil || len(p.items) != 1 {
		t.Errorf("after a refused review: review %+v (%v), queue %q", rec.Review, err, p.titles())
	}

	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	v = u.newHQView()
	u.win.SetContent(v.content())
	p = v.review
	if p.tab.Text != "Por revisar (1)" || p.msg.Text != "Registros por revisar: 1, del más reciente al más antiguo. Elija uno para leerlo y decidir." {
		t.Errorf("in Spanish: tab %q, queue %q", p.tab.Text, p.msg.Text)
	}
	p.list.Select(0)
	test.Tap(p.correct)
	if p.problem.Text != "Escriba qué corregir, p. ej. aldea equivocada: el autor lo lee." || p.correct.Text != "Necesita corrección" {
		t.Errorf("in Spanish: %q, button %q", p.problem.Text, p.correct.Text)
	}
	test.Type(p.reason, strings.Repeat("x", 501))
	test.Tap(p.reject)
	if p.problem.Text != "El motivo tiene 501 caracteres; como máximo 500: acórtelo." {
		t.Errorf("a reason too long: %q", p.problem.Text)
	}
}

// A review's reason one person typed is not left for the next person to
// send in their own name: it is cleared when someone else signs in, and
// kept for the person who typed it.
func TestAReasonTypedIsNotTheNextPersons(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleHQ, "Belize")
	for _, p := range []struct{ name, pass string }{{"Ana Cho", anaPass}, {"Luis Sho", luisPass}} {
		if _, err := u.node.AddPerson(ctx, p.name, []byte(p.pass)); err != nil {
			t.Fatal(err)
		}
	}
	u.RequireSignIn()
	signInAs(t, u, "Ana Cho", anaPass)
	if u.screens.hq == nil {
		t.Fatal("HQ's node shows no Headquarters screen")
	}
	reason := u.screens.hq.review.reason
	test.Type(reason, "wrong village")
	test.Tap(findButton(u.header, "Switch person"))
	signInAs(t, u, "Ana Cho", anaPass)
	if reason.Text != "wrong village" {
		t.Fatalf("Ana signed in again finds the reason she typed as %q", reason.Text)
	}
	test.Tap(findButton(u.header, "Switch person"))
	signInAs(t, u, "Luis Sho", luisPass)
	if reason.Text != "" {
		t.Fatalf("Luis finds Ana's reason %q in the box, to send as his", reason.Text)
	}
}

// A person removed from the laptop since they signed in makes no more
// reviews there, as they make no more changes: the sign-in comes back and
// says why, and the record stays in the queue.
func TestARemovedPersonReviewsNoMore(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleHQ, "Belize")
	enrollTestUI(t, u)
	for _, p := range []struct{ name, pass string }{{"Ana Cho", anaPass}, {"Luis Sho", luisPass}} {
		if _, err := u.node.AddPerson(ctx, p.name, []byte(p.pass)); err != nil {
			t.Fatal(err)
		}
	}
	u.RequireSignIn()
	signInAs(t, u, "Luis Sho", luisPass)
	hqAdd(t, u, "damage-assessment", string(recordsJSON("Cayo", "Succotz", 2)))
	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.review
	if len(p.items) != 1 {
		t.Fatalf("the queue holds %q, want the one record", p.titles())
	}
	if err := u.node.RemovePerson(ctx, "Luis Sho"); err != nil {
		t.Fatal(err)
	}
	p.list.Select(0)
	test.Tap(p.approve)
	u.bg.Wait()
	if !u.gate.isLocked() || len(p.items) != 1 {
		t.Fatalf("Luis, removed, reviewed: sign-in shown %v, queue %q", u.gate.isLocked(), p.titles())
	}
}
