package desktop

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/syncproto"
)

// The passphrases of the people of these tests. Every sign-in and every
// person added runs Argon2id, seconds under the race detector: the tests
// count them.
const (
	anaPass  = "mango trees by the river"
	luisPass = "the bridge at Santa Elena"
)

// signInAs signs in on the sign-in covering u's window.
func signInAs(t *testing.T, u *UI, who, passphrase string) {
	t.Helper()
	if !u.gate.isLocked() || u.gate.view.who == nil {
		t.Fatal("the window shows no sign-in")
	}
	v := u.gate.view
	if !slices.Contains(v.who.Options, who) {
		t.Fatalf("%s is not among %q", who, v.who.Options)
	}
	v.who.SetSelected(who)
	test.Type(v.pass, passphrase)
	test.Tap(v.button)
}

// saveDamage saves a damage assessment from the New record screen and
// returns who its first change is by.
func saveDamage(t *testing.T, u *UI, village string) string {
	t.Helper()
	before := len(records(t, u, "damage-assessment"))
	fm := fillDamage(t, u)
	fm.input(t, "village").entry.SetText(village)
	test.Type(fm.input(t, "damage_level").entry, "2")
	test.Type(fm.input(t, "household_size").entry, "3")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	for _, r := range records(t, u, "damage-assessment") {
		if r.Fields["village"] != village {
			continue
		}
		id, _ := syncproto.ParseRecordID(r.ID)
		rec, err := u.node.Record(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return rec.History[0].Author
	}
	t.Fatalf("no record of %s saved (%d before); the form says %q", village, before, fm.summary.Text)
	return ""
}

// A laptop where no one signs in writes as it always did, in the node's
// name. The first person added brings the sign-in; a wrong passphrase is
// refused there; the person signed in is named in the window and is the
// author of what is saved; switching person, and the lock after a quiet
// spell, bring the sign-in back, and the next person signed in is the
// author from then on.
func TestPeopleSignInAndAreTheAuthors(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	if u.RequireSignIn(); u.gate.isLocked() {
		t.Fatal("a laptop where no one signs in asks for a sign-in")
	}
	if by := saveDamage(t, u, "Succotz"); by != "cayo-laptop-07" {
		t.Fatalf("with no one signing in, a record is by %q, want the node's name", by)
	}

	open := findButton(u.header, "People…")
	if open == nil {
		t.Fatal("no People button above the tabs")
	}
	test.Tap(open)
	u.bg.Wait()
	pv := u.showPeople() // the one the button opened is not at hand
	if !strings.HasPrefix(pv.intro.Text, "No one signs in on this computer: its changes carry its name, cayo-laptop-07.") || len(pv.list.Objects) != 0 {
		t.Fatalf("with no one: %q, %d rows", pv.intro.Text, len(pv.list.Objects))
	}
	test.Type(pv.name, "Ana  Cho")
	test.Type(pv.pass, anaPass)
	test.Type(pv.pass2, anaPass+"!")
	test.Tap(pv.add)
	if pv.result.Text != "The two passphrases differ." {
		t.Fatalf("two passphrases that differ: %q", pv.result.Text)
	}
	pv.pass.SetText("short")
	pv.pass2.SetText("short")
	test.Tap(pv.add)
	if !strings.Contains(pv.result.Text, "at least 12") {
		t.Fatalf("a weak passphrase: %q", pv.result.Text)
	}
	pv.pass.SetText(anaPass)
	pv.pass2.SetText(anaPass)
	test.Tap(pv.add) // Argon2id 1

	l := u.gate
	if !l.isLocked() || l.view.who == nil || !strings.HasPrefix(l.view.intro.Text, "From now on, everyone who uses this computer signs in") {
		t.Fatal("adding the first person does not bring the sign-in, saying that everyone signs in from now on")
	}
	if l.view.who.Selected != "Ana Cho" {
		t.Fatalf("the one person is not picked: %q of %q", l.view.who.Selected, l.view.who.Options)
	}
	signInAs(t, u, "Ana Cho", luisPass) // Argon2id 2
	if !l.isLocked() || l.view.errLabel.Text != "Wrong passphrase for Ana Cho: try again." || l.view.pass.Text != "" {
		t.Fatalf("a wrong passphrase: locked %v, %q", l.isLocked(), l.view.errLabel.Text)
	}
	signInAs(t, u, "Ana Cho", anaPass) // Argon2id 3
	if l.isLocked() || u.signedIn() != "Ana Cho" {
		t.Fatalf("Ana did not sign in: %q", l.view.errLabel.Text)
	}
	if !slices.Contains(labelTexts(u.header), "Signed in: Ana Cho") {
		t.Fatalf("the window does not say who is signed in: %q", labelTexts(u.header))
	}
	if by := saveDamage(t, u, "Bullet Tree"); by != "Ana Cho" {
		t.Fatalf("Ana's record is by %q", by)
	}

	pv = u.showPeople()
	u.bg.Wait()
	if pv.intro.Text != "Everyone who uses this computer signs in; each change made here carries their name." || len(pv.list.Objects) != 1 {
		t.Fatalf("with Ana: %q, %d rows", pv.intro.Text, len(pv.list.Objects))
	}
	pv.name.SetText("Luis Sho")
	pv.pass.SetText(luisPass)
	pv.pass2.SetText(luisPass)
	test.Tap(pv.add) // Argon2id 4
	if pv.result.Text != "Luis Sho signs in here from now on." || len(pv.list.Objects) != 2 || l.isLocked() {
		t.Fatalf("adding Luis: %q, %d rows, locked %v", pv.result.Text, len(pv.list.Objects), l.isLocked())
	}
	pv.d.Hide()

	test.Tap(findButton(u.header, "Switch person"))
	if !l.isLocked() || u.signedIn() != "" || slices.Contains(labelTexts(u.header), "Signed in: Ana Cho") {
		t.Fatal("switching person leaves Ana signed in")
	}
	if !slices.Equal(l.view.who.Options, []string{"Ana Cho", "Luis Sho"}) || l.view.who.Selected != "" {
		t.Fatalf("the sign-in offers %q, picked %q", l.view.who.Options, l.view.who.Selected)
	}
	test.Tap(l.view.button)
	if l.view.errLabel.Text != "Choose your name." {
		t.Fatalf("no name picked: %q", l.view.errLabel.Text)
	}
	signInAs(t, u, "Luis Sho", luisPass) // Argon2id 5
	if l.isLocked() || u.signedIn() != "Luis Sho" {
		t.Fatalf("Luis did not sign in: %q", l.view.errLabel.Text)
	}
	if by := saveDamage(t, u, "Cristo Rey"); by != "Luis Sho" {
		t.Fatalf("after switching, the record is by %q", by)
	}

	// A quiet spell signs Luis out: the sign-in covers the window.
	now := time.Now()
	l.after, l.now, l.last = 10*time.Minute, func() time.Time { return now }, now
	l.tick()
	now = now.Add(10 * time.Minute)
	l.tick()
	if !l.isLocked() || u.signedIn() != "" || l.view.who == nil || !strings.HasPrefix(l.view.intro.Text, "Locked after 10 minutes without use") {
		t.Fatal("the quiet spell's lock is not the sign-in")
	}

	// No one signed in adds or removes a person: the sign-in says so.
	pv = u.showPeople()
	pv.name.SetText("Rosa Tzul")
	pv.pass.SetText(anaPass)
	pv.pass2.SetText(anaPass)
	test.Tap(pv.add)
	pv.remove("Ana Cho")
	if ps, _ := u.node.People(context.Background()); len(ps) != 2 || l.view.errLabel.Text != "Sign in to make changes on this computer." {
		t.Fatalf("with no one signed in, the people are %+v; the sign-in says %q", ps, l.view.errLabel.Text)
	}

	// Removing the people: one signed in no longer may change records, and
	// once no one is left, the laptop writes in its name again.
	u.setPerson("Luis Sho")
	l.unlock()
	pv = u.showPeople()
	pv.remove("Ana Cho")
	if pv.result.Text != "Ana Cho no longer signs in here." || len(pv.list.Objects) != 1 || l.isLocked() {
		t.Fatalf("removing Ana: %q, %d rows", pv.result.Text, len(pv.list.Objects))
	}
	pv.remove("Luis Sho")
	if pv.result.Text != "No one signs in on this computer any more: its changes carry its name again." || u.signedIn() != "" || l.isLocked() {
		t.Fatalf("removing the last person: %q, signed in %q", pv.result.Text, u.signedIn())
	}
	if by := saveDamage(t, u, "Santa Familia"); by != "cayo-laptop-07" {
		t.Fatalf("with no one left, a record is by %q", by)
	}
}

// Headquarters revokes a person on the laptop; the notice comes by
// bundle. The person signed in makes no more changes: the sign-in comes
// back, saying why, and no longer offers them.
func TestRevokedPersonCannotSignIn(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ca := enrollTestUI(t, u)
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "hq")
	if err := node.Init(ctx, cfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize"}); err != nil {
		t.Fatal(err)
	}
	hq, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer hq.Close()
	if err := hq.EnrollWith(ctx, ca); err != nil {
		t.Fatal(err)
	}

	if _, err := u.node.AddPerson(ctx, "Luis Sho", []byte(luisPass)); err != nil { // Argon2id 1
		t.Fatal(err)
	}
	u.RequireSignIn()
	signInAs(t, u, "Luis Sho", luisPass) // Argon2id 2
	if u.gate.isLocked() {
		t.Fatalf("Luis did not sign in: %q", u.gate.view.errLabel.Text)
	}

	if err := hq.RevokePerson(ctx, u.node.Self().ID, "Luis Sho", "passphrase overheard"); err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, hq, u.node)
	if ps, err := u.node.People(ctx); err != nil || len(ps) != 1 || !ps[0].Revoked {
		t.Fatalf("the laptop's people after the notice: %+v, %v", ps, err)
	}

	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "2")
	test.Type(fm.input(t, "household_size").entry, "3")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if n := len(records(t, u, "damage-assessment")); n != 0 {
		t.Fatalf("a revoked person saved %d records", n)
	}
	l := u.gate
	if !l.isLocked() || u.signedIn() != "" {
		t.Fatal("the revoked person stays signed in")
	}
	want := "Headquarters revoked Luis Sho on this computer: they can no longer sign in here. Ask your coordinator."
	if l.view.errLabel.Text != want {
		t.Fatalf("the sign-in says %q, want %q", l.view.errLabel.Text, want)
	}
	if len(l.view.who.Options) != 0 {
		t.Fatalf("the sign-in still offers %q", l.view.who.Options)
	}
	pv := u.showPeople()
	if got := labelTexts(pv.list); len(got) != 1 || !strings.HasSuffix(got[0], "revoked by headquarters: cannot sign in") {
		t.Fatalf("the People dialog lists %q", got)
	}
}

// What a refusal of the node says on the sign-in, in both languages.
func TestSignInRefusalsAreSaid(t *testing.T) {
	for _, c := range []struct {
		lang string
		err  error
		want string
	}{
		{"en", fmt.Errorf("Luis Sho: %w", node.ErrPersonRevoked), "Headquarters revoked Luis Sho on this computer: they can no longer sign in here. Ask your coordinator."},
		{"es", fmt.Errorf("Luis Sho: %w", node.ErrPersonRevoked), "La sede revocó a Luis Sho en esta computadora: ya no puede iniciar sesión aquí. Consulte a su coordinador."},
		{"en", fmt.Errorf("Luis Sho: %w", node.ErrPassphrase), "Wrong passphrase for Luis Sho: try again."},
		{"es", fmt.Errorf("Luis Sho: %w", node.ErrNoPerson), "Luis Sho ya no inicia sesión en esta computadora."},
		{"en", node.ErrSignIn, "Sign in to make changes on this computer."},
		{"en", errors.New("disk full\x1b[2J"), `disk full\x1b[2J`},
	} {
		if got := signInRefused(c.lang, "Luis Sho", c.err); got != c.want {
			t.Errorf("%s, %v: %q, want %q", c.lang, c.err, got, c.want)
		}
	}
}

// The app tells people apart as the node does: Ana Σ and Ana ς are two
// people (Σ is σ in lower case, not ς), alike as a looser comparison finds
// them. Ana Σ, removed, makes no more changes, though Ana ς stays.
func TestARemovedPersonIsNotTakenForAnother(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	for _, name := range []string{"Ana Σ", "Ana ς"} {
		if _, err := u.node.AddPerson(ctx, name, []byte(anaPass)); err != nil { // Argon2id 1, 2
			t.Fatal(err)
		}
	}
	u.setPerson("Ana Σ")
	if who, err := u.author(ctx); err != nil || who != "Ana Σ" {
		t.Fatalf("Ana Σ signed in makes changes as %q: %v", who, err)
	}
	if err := u.node.RemovePerson(ctx, "Ana Σ"); err != nil {
		t.Fatal(err)
	}
	if who, err := u.author(ctx); !errors.Is(err, node.ErrNoPerson) {
		t.Fatalf("Ana Σ, removed, still makes changes as %q (%v)", who, err)
	}
}
