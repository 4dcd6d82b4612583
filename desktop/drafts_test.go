package desktop

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"lifeline/syncproto"
)

// goldenDraft is a fixed key, nonce, file name and contents, and the sealed
// file they make.
var goldenDraft = struct {
	key         [32]byte
	nonce       []byte
	name, plain string
	sealed      string // hex
}{
	key:   [32]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
	nonce: must(hex.DecodeString("404142434445464748494a4b4c4d4e4f5051525354555657")),
	name:  "missing-person.draft",
	plain: `{"full_name":["Ana"]}`,
	// The format's definition, field by field. The sealing was computed
	// apart from this code: HChaCha20 of the key and the nonce's first 16
	// bytes, then RFC 8439's ChaCha20-Poly1305 under that subkey, with 4
	// zero bytes and the nonce's last 8 as its nonce, and
	// "LLdraft" 0x01 "missing-person.draft" as additional data.
	sealed: hex.EncodeToString([]byte("LLdraft")) + // magic
		"01" + // version
		"404142434445464748494a4b4c4d4e4f5051525354555657" + // nonce
		"af1b6305bc8c2678ee99e29c95c747d3fcdb8f996ef2a863bf" + // the 21 bytes of contents, sealed
		"3f8ed472a4108846f9ae0d3a", // and the 16 of the tag: 41 bytes above
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The sealed draft format, version 1, byte for byte. Drafts sealed before
// must still open after any change here.
func TestSealedDraftGolden(t *testing.T) {
	g := goldenDraft
	if got := hex.EncodeToString(sealDraft(&g.key, g.nonce, g.name, []byte(g.plain))); got != g.sealed {
		t.Fatalf("sealed\n%s\nwant\n%s", got, g.sealed)
	}
	plain, err := openDraft(&g.key, g.name, must(hex.DecodeString(g.sealed)))
	if err != nil || string(plain) != g.plain {
		t.Fatalf("the golden draft opens to %q, %v", plain, err)
	}
}

// What the seal binds: every byte, the file's name, the key, the version.
func TestDraftThatIsNotTheOneSealedDoesNotOpen(t *testing.T) {
	g := goldenDraft
	sealed := must(hex.DecodeString(g.sealed))
	for i := range sealed {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		if _, err := openDraft(&g.key, g.name, b); !errors.Is(err, errDraft) {
			t.Errorf("byte %d flipped: %v", i, err)
		}
	}
	for n := range len(sealed) {
		if _, err := openDraft(&g.key, g.name, sealed[:n]); !errors.Is(err, errDraft) {
			t.Errorf("cut to %d bytes: %v", n, err)
		}
	}
	other := g.key
	other[0] ^= 1
	for what, err := range map[string]error{
		"another name":         second(openDraft(&g.key, "damage-assessment.draft", sealed)),
		"the kind last opened": second(openDraft(&g.key, openTypeName, sealed)),
		"another key":          second(openDraft(&other, g.name, sealed)),
		"clear JSON":           second(openDraft(&g.key, g.name, []byte(g.plain))),
		"too large":            second(openDraft(&g.key, g.name, append(bytes.Clone(sealed), make([]byte, maxDraft)...))),
	} {
		if !errors.Is(err, errDraft) {
			t.Errorf("%s: %v", what, err)
		}
	}
	if _, err := openDraft(&g.key, g.name, append([]byte("LLdraft\x02"), sealed[8:]...)); err == nil || !strings.Contains(err.Error(), "format 2") {
		t.Errorf("version 2: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

// Whatever a drafts folder holds, reading it fails cleanly or gives what
// was sealed, never panics.
func FuzzOpenDraft(f *testing.F) {
	g := goldenDraft
	f.Add(must(hex.DecodeString(g.sealed)))
	f.Add([]byte(g.plain))
	f.Add([]byte("LLdraft\x01"))
	f.Add([]byte("LLdraft\x02"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			t.Skip() // the bound on size is tested apart
		}
		plain, err := openDraft(&g.key, g.name, b)
		if err != nil {
			if !errors.Is(err, errDraft) {
				t.Fatalf("an error that is not errDraft: %v", err)
			}
			return
		}
		// Only what the key sealed opens: sealing it again with its
		// nonce gives the same bytes.
		if again := sealDraft(&g.key, b[8:draftHeaderLen], g.name, plain); !bytes.Equal(again, b) {
			t.Fatalf("%x opened to %q, which seals as %x", b, plain, again)
		}
	})
}

// reopen is the app closed and opened again over the same node and drafts.
func reopen(u *UI) *UI {
	u2 := newUI(u.ctx, u.app, u.win, u.node, u.drafts, u.inline, u.post)
	u2.bg.Wait()
	return u2
}

// holding lists the files under dir (every folder down) whose bytes hold s.
func holding(t *testing.T, dir, s string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A distinctive value typed in a personal field is nowhere on disk in the
// drafts folder, and comes back when the app opens again.
func TestPersonalValueTypedIsSealedInItsDraft(t *testing.T) {
	const canary = "Qzxv Canary-4417 Wbnt"
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, "Missing persons", "Missing person")
	if !fm.input(t, "full_name").field.Personal {
		t.Fatal("full_name is not personal in the kit: pick another field")
	}
	test.Type(fm.input(t, "full_name").entry, canary)
	test.Type(fm.input(t, "medical_conditions").entry, "diabetes; "+canary)
	if _, err := os.Stat(fm.draftFile()); err != nil {
		t.Fatalf("no draft while typing: %v", err)
	}
	if found := holding(t, u.drafts, canary); len(found) > 0 {
		t.Fatalf("the typed value is in the clear in %q", found)
	}
	if found := holding(t, u.drafts, "missing-person"); len(found) > 0 {
		t.Errorf("the kind last opened is in the clear in %q", found)
	}

	again := reopen(u).recordForm()
	if again == nil || again.t.Name != "missing-person" {
		t.Fatal("the app does not open the form last used")
	}
	if got := again.input(t, "full_name").entry.Text; got != canary {
		t.Errorf("full_name %q after a restart, want %q", got, canary)
	}
	if got := again.input(t, "medical_conditions").entry.Text; got != "diabetes; "+canary {
		t.Errorf("medical_conditions %q after a restart", got)
	}
	if again.summary.Visible() {
		t.Errorf("the form says %q", again.summary.Text)
	}
}

// What an older app wrote in the clear is read once, and kept sealed.
func TestClearDraftOfAnOlderAppIsSealed(t *testing.T) {
	const canary = "Qzxv Canary-9021 Wbnt"
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	u.bg.Wait()
	clear := map[string]string{
		"missing-person.json":                  `{"full_name":["` + canary + `"],"sex":["female"]}`,
		openTypeName:                           "missing-person\n",
		".missing-person.json.2210583.tmp":     `{"full_name":["` + canary + `"]}`, // a write a kill cut short
		"damage-assessment.json":               "{not JSON, " + canary,
		"relief-distribution.json.set-aside-1": "kept: not the app's to judge",
	}
	if err := os.MkdirAll(u.drafts, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, s := range clear {
		if err := os.WriteFile(filepath.Join(u.drafts, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	fm := reopen(u).recordForm()
	if fm == nil || fm.t.Name != "missing-person" {
		t.Fatal("the app does not open the form last used, from its clear file")
	}
	if got := fm.input(t, "full_name").entry.Text; got != canary {
		t.Errorf("full_name %q from the clear draft", got)
	}
	if got := fm.input(t, "sex").sel.Selected; got != "Female" {
		t.Errorf("sex %q from the clear draft", got)
	}
	if found := holding(t, u.drafts, canary); len(found) > 0 {
		t.Errorf("the value is still in the clear in %q", found)
	}
	entries, err := os.ReadDir(u.drafts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "missing-person.draft open relief-distribution.json.set-aside-1"; got != want {
		t.Errorf("the drafts folder holds %s, want %s", got, want)
	}
}

// A draft that does not open is set aside with a word on the form, which
// starts empty and works.
func TestDraftThatDoesNotOpenIsSetAside(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, "Missing persons", "Missing person")
	test.Type(fm.input(t, "full_name").entry, "Ana")
	sealed, err := os.ReadFile(fm.draftFile())
	if err != nil {
		t.Fatal(err)
	}
	otherKey := [32]byte{7}
	for what, b := range map[string][]byte{
		"altered":           append(bytes.Clone(sealed[:len(sealed)-1]), sealed[len(sealed)-1]^1),
		"another node's":    sealDraft(&otherKey, make([]byte, 24), filepath.Base(fm.draftFile()), []byte(`{"full_name":["Ana"]}`)),
		"another kind's":    must(u.readDraftFile(fm.draftFile())), // written below as a damage assessment's
		"not a form":        nil,
		"in another format": append([]byte("LLdraft\x09"), sealed[8:]...),
	} {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			u.drafts = dir
			if err := u.writeDraftFile(u.openTypeFile(), []byte("missing-person\n")); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "missing-person.draft")
			switch what {
			case "another kind's":
				if err := u.writeDraftFile(filepath.Join(dir, "damage-assessment.draft"), b); err != nil {
					t.Fatal(err)
				}
				b = must(os.ReadFile(filepath.Join(dir, "damage-assessment.draft")))
			case "not a form":
				if err := u.writeDraftFile(path, []byte("[1, 2]")); err != nil {
					t.Fatal(err)
				}
				b = must(os.ReadFile(path))
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}

			fm := reopen(u).recordForm()
			if fm == nil || fm.t.Name != "missing-person" {
				t.Fatal("the form last used does not open")
			}
			if !fm.summary.Visible() || !strings.Contains(fm.summary.Text, "does not open") || !strings.Contains(fm.summary.Text, "missing-person.draft.set-aside-") {
				t.Errorf("the form says %q (shown: %v)", fm.summary.Text, fm.summary.Visible())
			}
			if got := fm.input(t, "full_name").entry.Text; got != "" {
				t.Errorf("full_name %q from a draft that does not open", got)
			}
			aside, _ := filepath.Glob(path + ".set-aside-*")
			if len(aside) != 1 || !bytes.Equal(must(os.ReadFile(aside[0])), b) {
				t.Fatalf("set aside: %q", aside)
			}
			test.Type(fm.input(t, "full_name").entry, "Luis")
			if got := must(u.readDraftFile(path)); !strings.Contains(string(got), "Luis") {
				t.Errorf("the new draft holds %q", got)
			}
		})
	}
}

// Each person's drafts are their own. A form typed before anyone signs in
// goes to the first person who does; what Ana types, unsaved, is not on
// Luis's screen when he signs in, and is on hers when she signs in again;
// his stays in his folder. The folders name no one. Once the last person
// is removed, the drafts of the one signed in are the laptop's again.
func TestDraftsBelongToWhoTypedThem(t *testing.T) {
	const (
		before = "Qzxv Before-1180 Wbnt"
		anas   = "Qzxv Ana-4417 Wbnt"
		luiss  = "Qzxv Luis-9021 Wbnt"
	)
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, "Missing persons", "Missing person")
	test.Type(fm.input(t, "full_name").entry, before)

	for _, p := range []struct{ name, pass string }{{"Ana Cho", anaPass}, {"Luis Sho", luisPass}} {
		if _, err := u.node.AddPerson(ctx, p.name, []byte(p.pass)); err != nil { // Argon2id 1, 2
			t.Fatal(err)
		}
	}
	u.RequireSignIn()
	if fm := u.recordForm(); fm != nil {
		t.Fatalf("with no one signed in, the %s form is on show", fm.t.Name)
	}
	signInAs(t, u, "Ana Cho", anaPass) // Argon2id 3
	fm = u.recordForm()
	if fm == nil || fm.t.Name != "missing-person" || fm.input(t, "full_name").entry.Text != before {
		t.Fatal("the first person signed in does not find the form typed before anyone signed in")
	}
	if left, _ := filepath.Glob(filepath.Join(u.drafts, "*"+draftExt)); len(left) > 0 {
		t.Errorf("drafts left in the shared folder: %q", left)
	}
	fm.input(t, "full_name").entry.SetText(anas)
	fm.input(t, "medical_conditions").entry.SetText("asthma")

	test.Tap(findButton(u.header, "Switch person"))
	if fm := u.recordForm(); fm != nil {
		t.Fatalf("after Ana signed out, the %s form is on show", fm.t.Name)
	}
	signInAs(t, u, "Luis Sho", luisPass) // Argon2id 4
	if fm := u.recordForm(); fm != nil {
		t.Fatalf("Luis, who picked no form, is shown Ana's %s form", fm.t.Name)
	}
	fm = openType(t, u, "Missing persons", "Missing person")
	if got, med := fm.input(t, "full_name").entry.Text, fm.input(t, "medical_conditions").entry.Text; got != "" || med != "" {
		t.Fatalf("Luis's form holds %q, %q", got, med)
	}
	test.Type(fm.input(t, "full_name").entry, luiss)

	test.Tap(findButton(u.header, "Switch person"))
	signInAs(t, u, "Ana Cho", anaPass) // Argon2id 5
	fm = u.recordForm()
	if fm == nil || fm.t.Name != "missing-person" {
		t.Fatal("Ana signed in again does not find the form she left")
	}
	if got, med := fm.input(t, "full_name").entry.Text, fm.input(t, "medical_conditions").entry.Text; got != anas || med != "asthma" {
		t.Fatalf("Ana's form holds %q, %q", got, med)
	}

	anaDir, luisDir := filepath.Join(u.drafts, u.personDrafts("Ana Cho")), filepath.Join(u.drafts, u.personDrafts("Luis Sho"))
	if anaDir == luisDir || u.personDrafts("  ana   CHO ") != u.personDrafts("Ana Cho") {
		t.Fatal("a person's folder is not theirs alone, or not found by their name folded")
	}
	luisDraft := filepath.Join(luisDir, "missing-person.draft")
	if got := string(must(u.readDraftFile(luisDraft))); !strings.Contains(got, luiss) || strings.Contains(got, anas) {
		t.Errorf("Luis's folder holds %q", got)
	}
	if found := holding(t, u.drafts, "Qzxv"); len(found) > 0 {
		t.Errorf("a typed value is in the clear in %q", found)
	}
	err := filepath.WalkDir(u.drafts, func(path string, d fs.DirEntry, err error) error {
		for _, name := range []string{"ana", "cho", "luis", "sho"} {
			if strings.Contains(strings.ToLower(d.Name()), name) {
				t.Errorf("%s names someone", path)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Luis's draft, put in Ana's folder, does not open there.
	stolen := filepath.Join(anaDir, "missing-person.draft")
	if err := os.WriteFile(stolen, must(os.ReadFile(luisDraft)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := u.readDraftFile(stolen); !errors.Is(err, errDraft) {
		t.Errorf("Luis's draft opens in Ana's folder: %v", err)
	}
	fm.writeDraft() // Ana's own, back in her folder

	pv := u.showPeople()
	pv.remove("Luis Sho")
	pv.remove("Ana Cho")
	if u.signedIn() != "" || u.gate.isLocked() {
		t.Fatal("with no one left, the laptop still signs in")
	}
	fm = u.recordForm()
	if fm == nil || fm.input(t, "full_name").entry.Text != anas || filepath.Dir(fm.draftFile()) != u.drafts {
		t.Fatal("once no one signs in, the form of the last one signed in is not the laptop's")
	}
	if _, err := os.Stat(luisDraft); err != nil {
		t.Errorf("Luis's draft, kept for when he is added again: %v", err)
	}
}
