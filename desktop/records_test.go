package desktop

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/syncproto"
)

func recordsJSON(district, village string, level int) []byte {
	return fmt.Appendf(nil, `{"district":%q,"village":%q,"lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":%d,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"}`,
		district, village, level)
}

// recordsPeer enrolls u's node and a second field node of Cayo with one
// CA, so that they can exchange changes.
func recordsPeer(t *testing.T, u *UI) *node.Node {
	t.Helper()
	// Of the same district: only its laptops edit its damage
	// assessments.
	return enrolledPeer(t, enrollTestUI(t, u), "cayo-laptop-02", "Cayo")
}

// recordsBundle carries what from holds to to, by bundle.
func recordsBundle(t *testing.T, from, to *node.Node) {
	t.Helper()
	if _, err := to.ImportBundle(context.Background(), bundleOf(t, from)); err != nil {
		t.Fatal(err)
	}
}

// recordsSession runs one sync session from a to b over loopback: a's
// changes become sent.
func recordsSession(t *testing.T, a, b *node.Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- b.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a.String() }, nil)
	}()
	var err error
	select {
	case at := <-addr:
		_, err = a.Sync(ctx, at)
	case err = <-served:
	}
	cancel()
	<-served
	if err != nil {
		t.Fatal(err)
	}
}

// recordsScreenFor builds the Records screen in u's window and waits for
// its first list.
func recordsScreenFor(t *testing.T, u *UI) *recordsView {
	t.Helper()
	u.bg.Wait()
	v := u.newRecordsView()
	u.win.SetContent(v.content())
	u.bg.Wait()
	return v
}

// summaries are the first lines of the list's rows.
func (v *recordsView) summaries() []string {
	var out []string
	for i := range v.list.Length() {
		out = append(out, v.shown[i].summary)
	}
	return out
}

// labelTexts are the texts of every label under o.
func labelTexts(o fyne.CanvasObject) []string {
	switch x := o.(type) {
	case *widget.Label:
		return []string{x.Text}
	case *widget.Card:
		return labelTexts(x.Content)
	case *container.Scroll:
		return labelTexts(x.Content)
	case *fyne.Container:
		var out []string
		for _, c := range x.Objects {
			out = append(out, labelTexts(c)...)
		}
		return out
	}
	return nil
}

// recordsConflict makes a record both nodes changed differently: on u's
// node its village is in conflict between the two values.
func recordsConflict(t *testing.T, u *UI, peer *node.Node, here, there string) syncproto.RecordID {
	t.Helper()
	ctx := context.Background()
	id, err := u.node.Add(ctx, "damage-assessment", recordsJSON("Cayo", "Bullet Tree", 2), "ana")
	if err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, u.node, peer)
	if _, err := u.node.Update(ctx, id, fmt.Appendf(nil, `{"village":%q}`, here), "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Update(ctx, id, fmt.Appendf(nil, `{"village":%q}`, there), "ben"); err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, peer, u.node)
	rec, err := u.node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Conflicts["village"]) != 2 {
		t.Fatalf("village versions %+v, want two in conflict", rec.Conflicts)
	}
	return id
}

func TestRecordsFiltersNarrowTheList(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	ctx := context.Background()
	add := func(n *node.Node, district, village string) syncproto.RecordID {
		t.Helper()
		id, err := n.Add(ctx, "damage-assessment", recordsJSON(district, village, 2), "ana")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Succotz is sent to the peer by a session; Bullet Tree goes by a
	// stick, then is changed both here and there; San Antonio comes from
	// the peer; Punta Gorda is only saved here. (What a laptop took from
	// a stick is not taken as sent by its word: docs/sync.md, "Sent".)
	add(u.node, "Cayo", "Succotz")
	recordsSession(t, u.node, peer)
	recordsConflict(t, u, peer, "Bullet Tree North", "Bullet Tree South")
	recordsSession(t, u.node, peer)
	if _, err := u.node.Update(ctx, mustRecordID(t, u, "Bullet Tree"), []byte(`{"damage_level":3}`), "ana"); err != nil {
		t.Fatal(err)
	}
	// San Antonio of Cayo (Toledo has one too): a Cayo laptop keeps
	// another's records of Cayo, and the Toledo records it saved itself.
	sanAntonio := add(peer, "Cayo", "San Antonio")
	recordsBundle(t, peer, u.node)
	add(u.node, "Toledo", "Punta Gorda")

	v := recordsScreenFor(t, u)
	all := []string{"Punta Gorda · Thatch · 2", "San Antonio · Thatch · 2", "", "Succotz · Thatch · 2"}
	got := v.summaries()
	if len(got) != 4 || got[0] != all[0] || got[1] != all[1] || got[3] != all[3] || !strings.HasPrefix(got[2], "Bullet Tree") {
		t.Fatalf("all records, newest first: %q", got)
	}
	if v.count.Text != "4 records" {
		t.Fatalf("count %q", v.count.Text)
	}
	statuses := map[string]string{}
	for _, r := range v.shown {
		statuses[strings.Fields(r.summary)[0]] = v.statusText(r.status)
	}
	want := map[string]string{"Punta": "Saved here", "San": "Received from a peer", "Bullet": "Saved here", "Succotz": "Sent"}
	for k, s := range want {
		if statuses[k] != s {
			t.Errorf("%s: status %q, want %q", k, statuses[k], s)
		}
	}

	v.district.SetSelected("Toledo")
	u.bg.Wait()
	if got := v.summaries(); !slices.Equal(got, all[:1]) {
		t.Fatalf("in Toledo: %q", got)
	}
	v.district.SetSelected("Cayo")
	u.bg.Wait()
	if got := v.summaries(); len(got) != 3 || got[0] != all[1] || got[2] != all[3] {
		t.Fatalf("in Cayo: %q", got)
	}
	v.district.SetSelected("Toledo")
	v.status.SetSelected("Saved here")
	u.bg.Wait()
	if got := v.summaries(); !slices.Equal(got, all[:1]) {
		t.Fatalf("in Toledo, saved here: %q", got)
	}
	v.district.SetSelectedIndex(0)
	v.status.SetSelected("Sent")
	u.bg.Wait()
	if got := v.summaries(); !slices.Equal(got, all[3:]) {
		t.Fatalf("sent: %q", got)
	}
	v.status.SetSelected("Not confirmed at HQ")
	u.bg.Wait()
	if got := v.summaries(); len(got) != 3 || got[1] == all[1] {
		t.Fatalf("not confirmed: %q", got)
	}
	v.status.SetSelectedIndex(0)

	test.Type(v.search, "SUCCOTZ")
	u.bg.Wait()
	if got := v.summaries(); !slices.Equal(got, all[3:]) {
		t.Fatalf("searching SUCCOTZ: %q", got)
	}
	v.search.SetText("")
	test.Type(v.search, sanAntonio.String()[:13])
	u.bg.Wait()
	if got := v.summaries(); !slices.Equal(got, all[1:2]) {
		t.Fatalf("searching part of an id: %q", got)
	}
	v.search.SetText("vol-1")
	u.bg.Wait()
	if got := v.summaries(); len(got) != 4 {
		t.Fatalf("searching a field's text: %q", got)
	}
	v.search.SetText("")

	test.Tap(v.conflicts)
	u.bg.Wait()
	if got := v.summaries(); len(got) != 1 || !strings.HasPrefix(got[0], "Bullet Tree") || !v.shown[0].conflict {
		t.Fatalf("only conflicts: %q", got)
	}
	if line := v.rowLine(v.shown[0]); !strings.Contains(line, "In conflict") {
		t.Fatalf("the conflicted row says %q", line)
	}
	test.Tap(v.conflicts)

	v.limit = 2
	v.filter()
	u.bg.Wait()
	if got := v.count.Text; !strings.Contains(got, "2 of 4") || v.list.Length() != 2 {
		t.Fatalf("capped at 2: %q, %d rows", got, v.list.Length())
	}
}

// mustRecordID finds the record whose village starts with prefix.
func mustRecordID(t *testing.T, u *UI, prefix string) syncproto.RecordID {
	t.Helper()
	for rv, err := range u.node.Records(context.Background(), node.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		if village, _ := rv.Fields["village"].(string); strings.HasPrefix(village, prefix) {
			id, err := syncproto.ParseRecordID(rv.ID)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
	}
	t.Fatalf("no record in %s", prefix)
	return syncproto.RecordID{}
}

func TestRecordDetailShowsHistory(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ctx := context.Background()
	id, err := u.node.Add(ctx, "damage-assessment", recordsJSON("Cayo", "Succotz", 2), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.node.Update(ctx, id, []byte(`{"damage_level":4,"structure_type":"adobe"}`), "ben"); err != nil {
		t.Fatal(err)
	}
	v := recordsScreenFor(t, u)
	v.list.Select(0)
	u.bg.Wait()
	if v.record.ID != id.String() {
		t.Fatalf("detail shows %q, want %s", v.record.ID, id)
	}
	history := labelTexts(v.history)
	if len(history) != 4 {
		t.Fatalf("history %q, want two changes with a line each of what changed", history)
	}
	// Newest first: ben's change, then ana's.
	for i, who := range []string{"ben, via cayo-laptop-07 · Saved here", "ana, via cayo-laptop-07 · Saved here"} {
		if !strings.Contains(history[2*i], who) {
			t.Errorf("history entry %d: %q, want %q", i, history[2*i], who)
		}
	}
	if changed := history[1]; !strings.Contains(changed, "Damage level (0-4): 4") || !strings.Contains(changed, "Structure type: Adobe") {
		t.Errorf("ben's change: %q", changed)
	}
	if created := history[3]; !strings.Contains(created, "Village, town or city: Succotz") || !strings.Contains(created, "District: Cayo") {
		t.Errorf("ana's change: %q", created)
	}
	detail := strings.Join(labelTexts(v.detail), "\n")
	for _, want := range []string{"No case number yet", "Saved here", "Adobe", "Succotz"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail lacks %q:\n%s", want, detail)
		}
	}

	// In Spanish, the screen is built again and says the same in Spanish.
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	v = recordsScreenFor(t, u)
	v.list.Select(0)
	u.bg.Wait()
	if h := labelTexts(v.history); len(h) != 4 || !strings.Contains(h[0], "ben, vía cayo-laptop-07 · Guardado aquí") || !strings.Contains(h[1], "Tipo de estructura: Adobe") {
		t.Fatalf("history in Spanish %q", h)
	}
}

// A record edited a hundred and twenty times shows its 50 newest changes,
// newest first, and Older changes shows 50 more at a time, back to the
// record's making. Before, every change was laid out at once, each added
// to the box laying out all before it again: a record of 1,000 changes
// held the window 12 s, one of 200 changes of a long note 6 s, and another
// node may write as many.
func TestALongHistoryShowsInPieces(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ctx := context.Background()
	id, err := u.node.Add(ctx, "damage-assessment", recordsJSON("Cayo", "Succotz", 2), "ana")
	if err != nil {
		t.Fatal(err)
	}
	const edits = 120
	for i := 1; i <= edits; i++ {
		if _, err := u.node.Update(ctx, id, fmt.Appendf(nil, `{"notes":"visit %d"}`, i), "ben"); err != nil {
			t.Fatal(err)
		}
	}
	v := recordsScreenFor(t, u)
	v.open(id.String())
	u.bg.Wait()
	for _, want := range []struct {
		shown, newest, oldest int // visits; 0 is the record's making
		button                string
	}{
		{50, edits, edits - 49, "Older changes: 50 more of 71"},
		{100, edits, edits - 99, "Older changes: 21 more of 21"},
		{edits + 1, edits, 0, ""},
	} {
		h := labelTexts(v.history)
		if len(h) != 2*want.shown {
			t.Fatalf("%d changes shown, want %d", len(h)/2, want.shown)
		}
		if !strings.Contains(h[1], fmt.Sprintf("Notes: visit %d", want.newest)) {
			t.Errorf("the first change shown: %q", h[1])
		}
		last := fmt.Sprintf("Notes: visit %d", want.oldest)
		if want.oldest == 0 {
			last = "Village, town or city: Succotz"
		}
		if !strings.Contains(h[len(h)-1], last) {
			t.Errorf("the last change shown: %q, want %q", h[len(h)-1], last)
		}
		if want.button == "" {
			if v.older.Visible() {
				t.Errorf("Older changes shows with the whole history on show: %q", v.older.Text)
			}
			break
		}
		if !v.older.Visible() || v.older.Text != want.button {
			t.Fatalf("the button reads %q (shown %v), want %q", v.older.Text, v.older.Visible(), want.button)
		}
		test.Tap(v.older)
	}
}

func TestKeepThisResolvesAConflict(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	id := recordsConflict(t, u, peer, "Bullet Tree North", "Bullet Tree South")
	if _, err := u.node.Add(context.Background(), "damage-assessment", recordsJSON("Cayo", "Succotz", 1), "ana"); err != nil {
		t.Fatal(err)
	}
	v := recordsScreenFor(t, u)
	test.Tap(v.conflicts)
	u.bg.Wait()
	if v.list.Length() != 1 {
		t.Fatalf("records in conflict: %q", v.summaries())
	}
	v.list.Select(0)
	u.bg.Wait()
	keep := v.keep["village"]
	if len(keep) != 2 {
		t.Fatalf("%d keep buttons for the village, want one per version", len(keep))
	}
	// The columns say each version's value, who and where.
	detail := strings.Join(labelTexts(v.detail), "\n")
	for _, want := range []string{"Bullet Tree North", "Bullet Tree South", "by ana, via cayo-laptop-07", "by ben, via cayo-laptop-02"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the conflict lacks %q:\n%s", want, detail)
		}
	}
	south := slices.IndexFunc(v.record.Conflicts["village"], func(ver node.Version) bool { return ver.Text == "Bullet Tree South" })
	test.Tap(keep[south])
	u.bg.Wait()

	recordsResolved(t, u, id, "Bullet Tree South")
	if v.list.Length() != 0 || v.count.Text != "No record matches." {
		t.Fatalf("records in conflict after resolving: %q (%s)", v.summaries(), v.count.Text)
	}
	if len(v.keep) != 0 || v.record.Fields["village"] != "Bullet Tree South" {
		t.Fatalf("the detail still shows the conflict: %v", v.keep)
	}
	test.Tap(v.conflicts)
	u.bg.Wait()
	for _, r := range v.shown {
		if r.conflict {
			t.Fatalf("%s is still marked in conflict", r.summary)
		}
	}
}

// A version that comes while a person decides a conflict is not replaced
// unseen: keeping one of the two versions shown writes nothing, the person
// is told, and the record is shown again with the three versions. Before,
// the kept version replaced every version held when it was saved, the one
// never shown among them.
func TestAVersionThatCameWhileDecidingIsNotReplacedUnseen(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ca := enrollTestUI(t, u)
	peer := enrolledPeer(t, ca, "cayo-laptop-02", "Cayo")
	third := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo")
	ctx := context.Background()
	id, err := u.node.Add(ctx, "damage-assessment", recordsJSON("Cayo", "Bullet Tree", 2), "ana")
	if err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, u.node, peer)
	recordsBundle(t, u.node, third)
	// Each of three laptops sets the village, none seeing the others.
	for n, village := range map[*node.Node]string{u.node: "Bullet Tree North", peer: "Bullet Tree South", third: "Bullet Tree Falls"} {
		if _, err := n.Update(ctx, id, fmt.Appendf(nil, `{"village":%q}`, village), "ana"); err != nil {
			t.Fatal(err)
		}
	}
	recordsBundle(t, peer, u.node)
	v := recordsScreenFor(t, u)
	v.open(id.String())
	u.bg.Wait()
	if len(v.keep["village"]) != 2 {
		t.Fatalf("%d keep buttons for the village, want two", len(v.keep["village"]))
	}
	// The third laptop's version comes by a sync while the person looks.
	recordsBundle(t, third, u.node)
	south := slices.IndexFunc(v.record.Conflicts["village"], func(ver node.Version) bool { return ver.Text == "Bullet Tree South" })
	test.Tap(v.keep["village"][south])
	u.bg.Wait()

	rec, err := u.node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Conflicts["village"]) != 3 {
		t.Fatalf("after keeping one of the two shown, the village stands as %v with versions %+v; want the three still in conflict", rec.Fields["village"], rec.Conflicts["village"])
	}
	if said := strings.Join(overlayTexts(u.win), "\n"); !strings.Contains(said, "a version came that you had not seen") {
		t.Errorf("the person is told %q", said)
	}
	if len(v.keep["village"]) != 3 {
		t.Errorf("the record shown again has %d versions to keep, want 3", len(v.keep["village"]))
	}
	// Decided with the three in sight, it is.
	falls := slices.IndexFunc(v.record.Conflicts["village"], func(ver node.Version) bool { return ver.Text == "Bullet Tree Falls" })
	if falls < 0 {
		t.Fatalf("the versions shown: %+v", v.record.Conflicts["village"])
	}
	test.Tap(v.keep["village"][falls])
	u.bg.Wait()
	recordsResolved(t, u, id, "Bullet Tree Falls")
}

// recordsResolved checks that the record id u's node holds is in conflict
// no more, and has the village want.
func recordsResolved(t *testing.T, u *UI, id syncproto.RecordID, want string) {
	t.Helper()
	rec, err := u.node.Record(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Conflicts) != 0 || rec.Fields["village"] != want {
		t.Fatalf("village %v, want %s; conflicts %+v", rec.Fields["village"], want, rec.Conflicts)
	}
}

func TestATypedValueResolvesAConflict(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	id := recordsConflict(t, u, peer, "Bullet Tree North", "Bullet Tree South")
	v := recordsScreenFor(t, u)
	v.list.Select(0)
	u.bg.Wait()
	entry, use := v.typed["village"], v.use["village"]
	if entry == nil || use == nil {
		t.Fatal("no entry to type the village in")
	}
	test.Type(entry, "Bullet Tree Falls")
	test.Tap(use)
	u.bg.Wait()
	recordsResolved(t, u, id, "Bullet Tree Falls")
	if len(v.shown) != 1 || v.shown[0].conflict {
		t.Fatalf("the list still marks the conflict: %+v", v.shown)
	}
}

// A value and an author from another node that carry escape sequences and
// a right-to-left override are shown escaped, in the list and in the
// detail; the author is shown with the node that vouched for it.
func TestTextFromAnotherNodeIsShownEscaped(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	ctx := context.Background()
	village, _ := json.Marshal("Bullet Tree\x1b[2J\u202ehtroN")
	data := bytes.Replace(recordsJSON("Cayo", "Bullet Tree", 2), []byte(`"Bullet Tree"`), village, 1)
	id, err := peer.Add(ctx, "damage-assessment", data, "HQ Director\u202e")
	if err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, peer, u.node)
	v := recordsScreenFor(t, u)
	v.list.Select(0)
	u.bg.Wait()
	if v.record.ID != id.String() {
		t.Fatalf("detail shows %q, want %s", v.record.ID, id)
	}
	texts := append(labelTexts(v.detail), v.summaries()...)
	all := strings.Join(texts, "\n")
	for _, s := range texts {
		if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' || unicode.In(r, unicode.Cf) }) {
			t.Errorf("a label shows a hidden character: %q", s)
		}
	}
	for _, want := range []string{`Bullet Tree\x1b[2J\u202ehtroN`, `HQ Director\u202e, via cayo-laptop-02`} {
		if !strings.Contains(all, want) {
			t.Errorf("the screen does not show %q:\n%s", want, all)
		}
	}
}

// A laptop whose clock runs five minutes fast wins a conflict over an edit
// made at the same moment: the app says its version was stamped ahead of
// this laptop's clock, so that the person deciding knows why it came first.
func TestConflictVersionStampedAheadIsMarked(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ca := enrollTestUI(t, u)
	const fast = 5 * time.Minute
	peer := enrolledPeer(t, ca, "cayo-laptop-02", "Cayo", func(c *node.Config) { c.ClockOffset = fast })
	id := recordsConflict(t, u, peer, "Bullet Tree North", "Bullet Tree South")

	rec, err := u.node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	vers := rec.Conflicts["village"]
	if vers[0].Text != "Bullet Tree South" {
		t.Fatalf("the fast laptop's version does not come first: %+v", vers)
	}
	// Stamped five minutes ahead, less the moments between the edit and
	// its arrival.
	if got := vers[0].Ahead; got > fast || got < fast-10*time.Second {
		t.Errorf("the fast laptop's version is marked %v ahead, want about %v", got, fast)
	}
	if vers[1].Ahead != 0 {
		t.Errorf("this laptop's own version is marked %v ahead", vers[1].Ahead)
	}

	v := recordsScreenFor(t, u)
	v.open(id.String())
	u.bg.Wait()
	detail := strings.Join(labelTexts(v.detail), "\n")
	if want := fmt.Sprintf("Stamped %s ahead of this laptop's clock", vers[0].Ahead); strings.Count(detail, want) != 1 {
		t.Errorf("want the one version stamped ahead marked %q:\n%s", want, detail)
	}
	// Its own edit back in the same record is not marked, once decided.
	if _, err := u.node.Update(ctx, id, []byte(`{"village":"Bullet Tree"}`), "ana"); err != nil {
		t.Fatal(err)
	}
	if rec, err = u.node.Record(ctx, id); err != nil || len(rec.Conflicts) != 0 {
		t.Fatalf("after deciding: %+v, %v", rec.Conflicts, err)
	}
}

// findButton is the button under o that says label, or nil.
func findButton(o fyne.CanvasObject, label string) *widget.Button {
	switch x := o.(type) {
	case *widget.Button:
		if x.Text == label {
			return x
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := findButton(c, label); b != nil {
				return b
			}
		}
	}
	return nil
}

// A personal value this node holds no key to (a Cayo laptop sealed it
// with its own key before it met headquarters) shows as what it is on
// every screen: the record, its history, the list and its search, a
// conflict, which it never offers to keep, HQ's queue and its export.
func TestWithheldValueShowsItsText(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleHQ, "Belize")
	ca := enrollTestUI(t, u)
	cayo := enrolledPeer(t, ca, "cayo-laptop-02", "Cayo")
	cayo2 := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo")
	id, err := cayo.Add(ctx, "missing-person", []byte(`{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"Succotz","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`), "ana")
	if err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, cayo, cayo2)
	if _, err := cayo.Update(ctx, id, []byte(`{"full_name":"Maria Pop Chub"}`), "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := cayo2.Update(ctx, id, []byte(`{"full_name":"María Pop"}`), "ben"); err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, cayo, u.node)
	recordsBundle(t, cayo2, u.node)
	rec, err := u.node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Fields["full_name"].(node.Withheld); !ok || len(rec.Conflicts["full_name"]) != 2 {
		t.Fatalf("HQ reads full_name %#v, versions %d: the test needs it withheld and in conflict", rec.Fields["full_name"], len(rec.Conflicts["full_name"]))
	}
	const withheld = "personal data of another district"

	v := recordsScreenFor(t, u)
	v.search.SetText(withheld)
	u.bg.Wait()
	if len(v.shown) != 1 || v.shown[0].id != id {
		t.Fatalf("searching for what is shown finds %q", v.summaries())
	}
	v.open(id.String())
	u.bg.Wait()
	texts := strings.Join(labelTexts(v.detail), "\n")
	if !strings.Contains(texts, "Succotz") || strings.Count(texts, withheld) < 4 || strings.Contains(texts, "Maria") || strings.Contains(texts, "{}") {
		t.Fatalf("the record shows:\n%s", texts)
	}
	if !strings.Contains(strings.Join(labelTexts(v.history), "\n"), "Full name: "+withheld) {
		t.Fatalf("the history shows %q", labelTexts(v.history))
	}
	if len(v.keep["full_name"]) != 0 || v.typed["full_name"] != nil || findButton(container.NewVBox(v.detail), "Keep this") != nil {
		t.Fatal("a withheld value is offered to keep, or to type over")
	}
	if !strings.Contains(texts, "this computer cannot read these versions") {
		t.Fatalf("the conflict does not say why it is not resolved here:\n%s", texts)
	}
	v.resolve("full_name", node.Withheld{})
	u.bg.Wait()
	if after, _ := u.node.Record(ctx, id); len(after.History) != len(rec.History) {
		t.Fatal("a withheld value was written back")
	}

	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	v = u.screens.records
	v.open(id.String())
	u.bg.Wait()
	if texts := strings.Join(labelTexts(v.detail), "\n"); !strings.Contains(texts, "datos personales de otro distrito") || strings.Contains(texts, withheld) {
		t.Fatalf("in Spanish the record shows:\n%s", texts)
	}
	if err := u.SetLang("en"); err != nil {
		t.Fatal(err)
	}

	hv := u.newHQView()
	u.bg.Wait()
	if len(hv.conflicts) != 1 || !strings.Contains(hv.conflicts[0].details, withheld) {
		t.Fatalf("HQ's queue: %+v", hv.conflicts)
	}
	dir := t.TempDir()
	hv.exportTo(dir, "missing-person", hqCSV, true)
	files, _ := filepath.Glob(filepath.Join(dir, "missing-person-*.csv"))
	if len(files) != 1 {
		t.Fatalf("export: %v; the screen says %q", files, hv.result.Text)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV %q (%v)", rows, err)
	}
	col := slices.Index(rows[0], "full_name")
	if col < 0 || rows[1][col] != withheld {
		t.Fatalf("the export's full_name: %q", rows)
	}
}

// A value typed to settle a conflict is the words of whoever typed it:
// the next person to sign in does not find it in the box, to settle the
// conflict with it in their name. Ana signed in again finds hers.
func TestAValueTypedForAConflictIsNotTheNextPersons(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	id := recordsConflict(t, u, peer, "Bullet Tree North", "Bullet Tree South")
	for _, p := range []struct{ name, pass string }{{"Ana Cho", anaPass}, {"Luis Sho", luisPass}} {
		if _, err := u.node.AddPerson(ctx, p.name, []byte(p.pass)); err != nil {
			t.Fatal(err)
		}
	}
	u.RequireSignIn()
	signInAs(t, u, "Ana Cho", anaPass)
	v := u.screens.records
	v.open(id.String())
	u.bg.Wait()
	entry := v.typed["village"]
	if entry == nil {
		t.Fatal("no entry to type the village in")
	}
	test.Type(entry, "Bullet Tree Falls")
	test.Tap(findButton(u.header, "Switch person"))
	signInAs(t, u, "Ana Cho", anaPass)
	if entry.Text != "Bullet Tree Falls" {
		t.Fatalf("Ana signed in again finds the value she typed as %q", entry.Text)
	}
	test.Tap(findButton(u.header, "Switch person"))
	signInAs(t, u, "Luis Sho", luisPass)
	if entry.Text != "" {
		t.Fatalf("Luis finds Ana's value %q in the box, to settle the conflict with as his", entry.Text)
	}
}

// An author another node chose that reads as a byline of its own is shown
// quoted before the node that vouches for it: a laptop writing as "Ana
// Cho, via hq-belmopan" does not pass its change for headquarters'.
func TestAnAuthorDressedAsAnotherBylineIsQuoted(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	if _, err := peer.Add(context.Background(), "damage-assessment", recordsJSON("Cayo", "Bullet Tree", 2), "Ana Cho, via hq-belmopan"); err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, peer, u.node)
	v := recordsScreenFor(t, u)
	v.list.Select(0)
	u.bg.Wait()
	all := strings.Join(labelTexts(v.detail), "\n")
	if !strings.Contains(all, `"Ana Cho, via hq-belmopan", via cayo-laptop-02`) || strings.Contains(all, "Ana Cho, via hq-belmopan, via") {
		t.Errorf("the history does not show the author quoted before cayo-laptop-02:\n%s", all)
	}
}
