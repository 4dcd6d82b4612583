package desktop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

var testPassphrase = "correct horse battery staple"

// The first start: the first HQ makes the certificate authority, and a
// field laptop set up with the HQ folder comes out enrolled, with the
// identity the form gave.
func TestSetupMakesAndEnrollsNodes(t *testing.T) {
	ctx := context.Background()
	test.NewTempApp(t)
	dir := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "hq")
	hq, err := Create(ctx, cfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize"}, Enrollment{MakeCA: true, Passphrase: []byte(testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	if !hq.Enrolled() {
		t.Fatal("the first HQ is not enrolled with its own authority")
	}
	hq.Close()

	v := newSetupView("en")
	test.Type(v.name, "x") // the computer's name is offered; the user changes it
	v.name.SetText("")
	test.Type(v.name, "tol-laptop-02")
	v.role.SetSelected(text("en", "role.field"))
	v.district.SetSelected("Toledo")
	if len(v.enroll.Options) != 2 {
		t.Fatalf("a field laptop is offered %v", v.enroll.Options)
	}
	v.enroll.SetSelected(text("en", "setup.hqdir"))
	if _, _, err := v.values(); err == nil || !strings.Contains(err.Error(), "HQ folder") {
		t.Fatalf("no HQ folder chosen: %v", err)
	}
	v.folder = cfg.DataDir
	test.Type(v.pass, testPassphrase)
	id, e, err := v.values()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = filepath.Join(dir, "field")
	n, err := Create(ctx, cfg, id, e)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	self := n.Self()
	if !n.Enrolled() || self.Name != "tol-laptop-02" || self.Role != syncproto.RoleField || self.District != "Toledo" {
		t.Fatalf("made %+v, enrolled %v", self, n.Enrolled())
	}

	// Headquarters is offered to make the authority; a field laptop is not.
	// A new authority's passphrase is typed twice, and long enough.
	v.role.SetSelected(text("en", "role.hq"))
	if len(v.enroll.Options) != 3 {
		t.Fatalf("HQ is offered %v", v.enroll.Options)
	}
	v.enroll.SetSelected(text("en", "setup.makeca"))
	if !v.pass2.Visible() {
		t.Fatal("a new authority's passphrase is asked once")
	}
	test.Type(v.pass2, testPassphrase+"!")
	if _, _, err := v.values(); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("two passphrases that differ: %v", err)
	}
	v.pass.SetText("hurricane")
	v.pass2.SetText("hurricane")
	if _, _, err := v.values(); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("a short passphrase: %v", err)
	}
	v.pass2.SetText(testPassphrase)
	v.pass.SetText(testPassphrase)
	if _, e, err := v.values(); err != nil || !e.MakeCA || string(e.Passphrase) != testPassphrase {
		t.Fatalf("%+v, %v", e, err)
	}
	v.role.SetSelected(text("en", "role.field"))
	if v.pass2.Visible() {
		t.Fatal("a field laptop is asked for a new authority's passphrase")
	}
}

// A laptop set up in the field from the CA folder on a USB stick, with no
// HQ folder at hand, comes out enrolled with the gossip key; a wrong
// passphrase leaves it made but not enrolled, and says so.
func TestSetupEnrollsFromACAFolder(t *testing.T) {
	ctx := context.Background()
	test.NewTempApp(t)
	dir := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "hq")
	if err := node.Init(ctx, cfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize"}); err != nil {
		t.Fatal(err)
	}
	hq, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stick := filepath.Join(dir, "usb", "ca")
	if _, err := hq.InitCA(ctx, node.CAOptions{Dir: stick, Passphrase: func() ([]byte, error) { return []byte(testPassphrase), nil }}); err != nil {
		t.Fatal(err)
	}
	hq.Close()

	cfg.DataDir = filepath.Join(dir, "wrong")
	n, err := Create(ctx, cfg, node.Identity{Name: "tol-laptop-03", Role: syncproto.RoleField, District: "Toledo"}, Enrollment{Folder: stick, Passphrase: []byte("not the passphrase")})
	if n == nil || err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("a wrong passphrase: node %v, %v", n, err)
	}
	n.Close()

	cfg.DataDir = filepath.Join(dir, "field")
	n, err = Create(ctx, cfg, node.Identity{Name: "tol-laptop-02", Role: syncproto.RoleField, District: "Toledo"}, Enrollment{Folder: stick, Passphrase: []byte(testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !n.Enrolled() || n.Credentials().Claims.District != "Toledo" {
		t.Fatal("the laptop is not enrolled as the form said")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "gossip.keys")); err != nil {
		t.Fatalf("no gossip key installed: %v", err)
	}
}

// A mistake in the form is said in words, and nothing is made.
func TestSetupRefusesABadForm(t *testing.T) {
	test.NewTempApp(t)
	v := newSetupView("es")
	v.name.SetText("   ")
	if _, _, err := v.values(); err == nil || !strings.Contains(err.Error(), "node name") {
		t.Fatalf("an empty name: %v", err)
	}
	// An HQ folder that holds no node: the node is made and kept, and the
	// error names the folder.
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "field")
	bogus := t.TempDir()
	n, err := Create(context.Background(), cfg, node.Identity{Name: "cayo-07", Role: syncproto.RoleField, District: "Cayo"}, Enrollment{Folder: bogus})
	if n == nil || err == nil || !strings.Contains(err.Error(), bogus) {
		t.Fatalf("node %v, error %v", n, err)
	}
	defer n.Close()
	if n.Enrolled() {
		t.Fatal("enrolled with no authority")
	}
}

func TestDefaultNodeName(t *testing.T) {
	for host, want := range map[string]string{"Cayo-Laptop-07": "cayo-laptop-07", "nemo.local": "nemo-local", "": "field-laptop", "..": "field-laptop"} {
		if got := defaultName(host); got != want {
			t.Errorf("host %q: %q, want %q", host, got, want)
		}
	}
}

// lockedBuffer is what a headless node writes, read while it runs.
type lockedBuffer = nodetest.Output

// Where there is no display, the node runs without its window: it makes
// itself on first use, says why it has no window, reports records as they
// arrive, and stops cleanly.
func TestHeadlessRunsTheNode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Watch = 20 * time.Millisecond
	cfg.GossipAddr = "127.0.0.1:0" // not enrolled: it must not gossip
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- Headless(ctx, cfg, node.Identity{Name: "field-test", Role: syncproto.RoleField, District: "Cayo"}, "no display (DISPLAY is not set)", &out)
	}()
	waitFor(t, &out, "without its window")
	if s := out.String(); !strings.Contains(s, "made a new field node") || !strings.Contains(s, "not enrolled yet") {
		t.Fatalf("the node says:\n%s", s)
	}
	// Another process (here, another handle) saves a record; the running
	// node reports it.
	plain := cfg
	plain.GossipAddr = ""
	other, err := node.Open(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	id, err := other.Add(ctx, "damage-assessment", []byte(damageRecord), "vol-1")
	other.Close()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, "record "+id.String())
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the node stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not stop")
	}
}

func waitFor(t *testing.T, out *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the node never said %q; it said:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// On a computer whose system speaks Spanish, the set-up does from the
// start; its language button switches it, keeping what was typed and
// chosen, and the node is made in the language last chosen.
func TestSetupSpeaksTheSystemLanguage(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "es_ES.UTF-8")
	w := test.NewTempWindow(t, nil)
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "node")
	made := make(chan node.Config, 1)
	s := newSetup(context.Background(), w, cfg, SystemLang(), func(n *node.Node, cfg node.Config) {
		n.Close()
		made <- cfg
	})
	if w.Title() != "Lifeline — Configurar esta computadora" || s.v.start.Text != "Comenzar" || s.v.langBtn.Text != "English" {
		t.Fatalf("under LANG=es_ES.UTF-8 the set-up is %q, its buttons %q and %q", w.Title(), s.v.start.Text, s.v.langBtn.Text)
	}
	s.v.name.SetText("tol-relay-01")
	s.v.role.SetSelected("Relevo distrital")
	s.v.district.SetSelected("Toledo")
	test.Type(s.v.keyPass, "half a passphr")

	s.v.langBtn.OnTapped()
	v := s.v
	if w.Title() != "Lifeline — Set up this computer" || v.start.Text != "Start" || v.langBtn.Text != "Español" {
		t.Fatalf("switched, the set-up is %q, its buttons %q and %q", w.Title(), v.start.Text, v.langBtn.Text)
	}
	if v.name.Text != "tol-relay-01" || v.role.Selected != "District relay" || v.district.Selected != "Toledo" ||
		v.keyPass.Text != "half a passphr" || v.keyWarn.Visible() {
		t.Fatalf("switched, the form holds %q, %q, %q, %q (warning shown: %v)", v.name.Text, v.role.Selected, v.district.Selected, v.keyPass.Text, v.keyWarn.Visible())
	}

	v.langBtn.OnTapped()
	s.v.keyPass.SetText("")
	s.v.start.OnTapped()
	select {
	case cfg := <-made:
		if cfg.Lang != "es" {
			t.Fatalf("the node was made in %q", cfg.Lang)
		}
	case <-time.After(30 * time.Second * nodetest.Patience):
		t.Fatalf("no node made; the form says %q", s.v.errLabel.Text)
	}
}
