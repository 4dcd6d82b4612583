package desktop

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/syncproto"
)

const damageRecord = `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":2,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"}`

// enrolledPeer opens a second node, enrolled with ca, beside the app's,
// its configuration changed by edit.
func enrolledPeer(t *testing.T, ca *identity.CA, name, district string, edit ...func(*node.Config)) *node.Node {
	t.Helper()
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), name)
	for _, e := range edit {
		e(&cfg)
	}
	if err := node.Init(ctx, cfg, node.Identity{Name: name, Role: syncproto.RoleField, District: district}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.EnrollWith(ctx, ca); err != nil {
		t.Fatal(err)
	}
	return n
}

// enrollTestUI makes a CA and enrolls the app's node with it.
func enrollTestUI(t *testing.T, u *UI) *identity.CA {
	t.Helper()
	ca, err := identity.NewCA("NEMO")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.node.EnrollWith(context.Background(), ca); err != nil {
		t.Fatal(err)
	}
	return ca
}

// bundleOf writes everything n holds to a bundle file, and says where.
func bundleOf(t *testing.T, n *node.Node) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), n.Self().Name+".bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.ExportBundle(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A responder with no network carries records by USB stick: the app reads
// another node's bundle, and writes one back encrypted for the node chosen,
// which reads it; a node not chosen cannot, and nothing is in the clear on
// the stick.
func TestBundlesCarryRecordsBothWays(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ca := enrollTestUI(t, u)
	peer := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo") // of Cayo: it keeps Cayo's assessments
	other := enrolledPeer(t, ca, "cayo-laptop-05", "Cayo")
	v := u.newSyncView()
	u.bg.Wait()
	if got := v.readerChoices(ctx); len(got) != 0 {
		t.Fatalf("a laptop that met no one offers to write for %v", got)
	}

	theirs, err := peer.Add(ctx, "damage-assessment", []byte(strings.Replace(damageRecord, "Succotz", "San Antonio", 1)), "vol-2")
	if err != nil {
		t.Fatal(err)
	}
	v.importBundle(bundleOf(t, peer))
	u.bg.Wait()
	if _, err := u.node.Record(ctx, theirs); err != nil {
		t.Fatalf("the app's node lacks the peer's record: %v", err)
	}
	if want := fmt.Sprintf("%d changes new here", 1); !strings.Contains(v.result.Text, want) {
		t.Fatalf("the app says %q, want %q", v.result.Text, want)
	}

	mine, err := u.node.Add(ctx, "damage-assessment", []byte(damageRecord), "vol-1")
	if err != nil {
		t.Fatal(err)
	}
	v.load()
	u.bg.Wait()
	if !strings.Contains(v.summary.Text, "1 changes made here are not confirmed") {
		t.Fatalf("summary %q", v.summary.Text)
	}
	choices := v.readerChoices(ctx)
	i := slices.IndexFunc(choices, func(c readerChoice) bool { return strings.HasPrefix(c.label, "cayo-laptop-03 ") })
	if len(choices) != 1 || i != 0 || !slices.Equal(choices[0].names, []string{peer.Self().ID.String()}) {
		t.Fatalf("the app offers to write for %v; it knows cayo-laptop-03 alone", choices)
	}
	usb := t.TempDir()
	v.exportBundle(usb, choices[0])
	u.bg.Wait()
	files, _ := filepath.Glob(filepath.Join(usb, "lifeline-cayo-laptop-07-*.bundle"))
	if len(files) != 1 || !strings.Contains(v.result.Text, files[0]) || !strings.Contains(v.result.Text, "only cayo-laptop-03 (field, Cayo) and this laptop") {
		t.Fatalf("bundle files %v; the app says %q", files, v.result.Text)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), identity.AgeMagic) || strings.Contains(string(raw), "Succotz") || strings.Contains(string(raw), "vol-1") {
		t.Fatal("the bundle on the stick is not encrypted")
	}
	if _, err := other.ImportBundle(ctx, files[0]); !errors.Is(err, node.ErrNotForThisNode) {
		t.Fatalf("a node the bundle is not for imported it: %v", err)
	}
	if _, err := peer.ImportBundle(ctx, files[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Record(ctx, mine); err != nil {
		t.Fatalf("the peer lacks the record the bundle carried: %v", err)
	}
}

// A damaged bundle is refused with a message naming the file, and nothing
// is lost.
func TestDamagedBundleRefused(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	bad := filepath.Join(t.TempDir(), "bad.bundle")
	if err := os.WriteFile(bad, []byte("not a bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := u.newSyncView()
	var got error
	v.importBundleThen(bad, func(err error) { got = err })
	u.bg.Wait()
	if got == nil || !strings.Contains(got.Error(), bad) {
		t.Fatalf("import of a damaged bundle: %v", got)
	}
}

// A node that is not enrolled says so on the Sync screen, and how to carry
// records meanwhile.
func TestNotEnrolledSaysSo(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	u.tabs.SelectIndex(2)
	if !strings.Contains(screenTexts(u.win.Content()), "not enrolled yet") {
		t.Fatal("the Sync screen does not say the node is not enrolled")
	}
}

// screenTexts joins the texts of the labels shown in o, the way a person
// reads the screen.
func screenTexts(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case fyne.Widget:
			r := test.WidgetRenderer(w)
			for _, c := range r.Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return b.String()
}

// A laptop enrolled the long way: the app writes its request into a
// folder, headquarters signs it, and the app installs the certificate.
func TestEnrollmentByRequestAndCertificate(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	hqCfg := node.DefaultConfig()
	hqCfg.DataDir = filepath.Join(t.TempDir(), "hq")
	hq, err := Create(ctx, hqCfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize"}, Enrollment{MakeCA: true, Passphrase: []byte(testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	defer hq.Close()
	v := u.newSyncView()
	usb := t.TempDir()
	v.writeRequest(usb)
	req, err := os.ReadFile(filepath.Join(usb, "cayo-laptop-07.request"))
	if err != nil {
		t.Fatalf("no request in the folder (the app says %q): %v", v.result.Text, err)
	}
	ca, err := node.OpenAuthority(hqCfg.DataDir, func() ([]byte, error) { return []byte(testPassphrase), nil })
	if err != nil {
		t.Fatal(err)
	}
	cert, err := hq.SignEnrollment(ctx, ca, req, node.SignOptions{Role: syncproto.RoleField, District: "Cayo"})
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(usb, "cayo-laptop-07.cert")
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	v.installCert(certFile)
	if !u.node.Enrolled() || !strings.Contains(v.result.Text, "Enrolled") {
		t.Fatalf("enrolled %v; the app says %q", u.node.Enrolled(), v.result.Text)
	}
}

// A stick handed over may hold, under the name the request takes, a
// link to a file of this laptop: its node's own key, say, whose path is
// the default. Writing the request replaces the link on the stick, and
// the file it pointed to stays as it was.
func TestARequestWrittenOnAStickReplacesALinkNotItsTarget(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	keyFile := filepath.Join(u.node.Config().DataDir, identity.KeyFile)
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	usb := t.TempDir()
	planted := filepath.Join(usb, "cayo-laptop-07.request")
	if err := os.Symlink(keyFile, planted); err != nil {
		t.Fatal(err)
	}
	u.newSyncView().writeRequest(usb)
	if after, err := os.ReadFile(keyFile); err != nil || !bytes.Equal(after, key) {
		t.Fatalf("the node's key file was written through the stick's link (%v):\n%s", err, after)
	}
	fi, err := os.Lstat(planted)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the request on the stick is not a file of its own: %v %v", fi, err)
	}
	req, err := os.ReadFile(planted)
	if err != nil || !bytes.HasPrefix(req, []byte("-----BEGIN ")) {
		t.Fatalf("the request on the stick reads %q (%v)", req, err)
	}
}

// Records from a file: saved as one batch, and the app says how many were
// new.
func TestImportFileSavesItsRecords(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	file := filepath.Join(t.TempDir(), "damage.ndjson")
	lines := strings.Repeat(damageRecord+"\n", 3)
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	v := u.newSyncView()
	if v.typeByTitle(v.typeTitles()[0]) == "" {
		t.Fatal("a type's title does not lead back to it")
	}
	v.importFile("damage-assessment", file)
	n := 0
	for _, err := range u.node.Records(ctx, node.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 || !strings.Contains(v.result.Text, "3 new records") {
		t.Fatalf("%d records; the app says %q", n, v.result.Text)
	}
}

// A file ending in .gz is read through gzip, as the command line's
// record import reads it: a district office sends its records compressed
// over a thin link.
func TestImportFileReadsAGzippedFile(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	file := filepath.Join(t.TempDir(), "damage.ndjson.gz")
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write([]byte(strings.Repeat(damageRecord+"\n", 2))); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	u.newSyncView().importFile("damage-assessment", file)
	n := 0
	for _, err := range u.node.Records(ctx, node.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d records saved of a gzipped file of 2", n)
	}
}

// The peers table names a peer by its certificate, and shows its error
// escaped; a peer whose certificate is not known is shown by its id.
func TestPeersAreShownByTheirCertificates(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	recordsSession(t, u.node, peer)
	v := u.newSyncView()
	u.bg.Wait()
	if len(v.rows) != 1 {
		t.Fatalf("peers %+v", v.rows)
	}
	if got := v.cell(widget.TableCellID{Row: 1, Col: 0}); got != "cayo-laptop-02" {
		t.Errorf("the peer is shown as %q", got)
	}
	v.rows[0].Name, v.rows[0].Error = "", "peer says: \x1b]0;owned\x07"
	if got := v.cell(widget.TableCellID{Row: 1, Col: 0}); got != "node "+v.rows[0].Node[:8]+"…" {
		t.Errorf("a peer with no known certificate is shown as %q", got)
	}
	if got := v.cell(widget.TableCellID{Row: 1, Col: 4}); !strings.Contains(got, `peer says: \x1b]0;owned\x07`) {
		t.Errorf("the peer's error is shown as %q", got)
	}
}

// A laptop whose certificate ends within two weeks says so on the Sync
// screen, with the way to renew it; one signed for a season does not.
func TestCertificateEndingSoonSaysSo(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		valid time.Duration
		warns bool
	}{
		{10 * 24 * time.Hour, true},
		{120 * 24 * time.Hour, false},
	} {
		u := newTestUI(t, syncproto.RoleField, "Cayo")
		ca, err := identity.NewCA("NEMO")
		if err != nil {
			t.Fatal(err)
		}
		req, err := u.node.EnrollmentRequest()
		if err != nil {
			t.Fatal(err)
		}
		cert, err := ca.Sign(req, tc.valid)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.node.Install(ctx, cert); err != nil {
			t.Fatal(err)
		}
		v := u.newSyncView()
		screen := v.content()
		u.bg.Wait()
		ends := time.Now().Add(tc.valid).Local().Format("2006-01-02")
		text := screenTexts(screen)
		if warns := strings.Contains(text, "certificate ends "+ends); warns != tc.warns {
			t.Fatalf("signed for %v, the Sync screen warns: %v\n%s", tc.valid, warns, text)
		}
	}
}

// The command the app prints for headquarters runs as it is, pasted into
// a shell, though the stick's folder, HQ's folder and the district hold
// spaces and quotes; once the certificate it writes is installed, the
// Sync screen says the node is enrolled, and no longer that it is not.
func TestSignCommandRunsAsPrinted(t *testing.T) {
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "lifeline")
	if out, err := exec.Command("go", "build", "-o", bin, "lifeline/cmd/lifeline").CombinedOutput(); err != nil {
		t.Fatalf("building lifeline: %v\n%s", err, out)
	}
	hqCfg := node.DefaultConfig()
	hqCfg.DataDir = filepath.Join(t.TempDir(), "NEMO's HQ $HOME", "hq data")
	hq, err := Create(ctx, hqCfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize"}, Enrollment{MakeCA: true, Passphrase: []byte(testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	hq.Close()

	u := newTestUI(t, syncproto.RoleField, "Orange Walk")
	usb := filepath.Join(t.TempDir(), "USB stick 'Orange Walk'")
	if err := os.Mkdir(usb, 0o700); err != nil {
		t.Fatal(err)
	}
	v := u.newSyncView()
	screen := v.content()
	v.writeRequest(usb)
	lines := strings.Split(v.result.Text, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "lifeline ca sign --data ") {
		t.Fatalf("the app says %q", v.result.Text)
	}
	sh := exec.Command("sh", "-c", lines[1])
	sh.Dir = t.TempDir()
	sh.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LIFELINE_DATA="+hqCfg.DataDir, "LIFELINE_CA_PASSPHRASE="+testPassphrase)
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", lines[1], err, out)
	}
	if !strings.Contains(string(out), "signed cayo-laptop-07") {
		t.Fatalf("%s says:\n%s", lines[1], out)
	}
	v.installCert(filepath.Join(usb, "cayo-laptop-07.crt"))
	if self := u.node.Self(); !u.node.Enrolled() || self.District != "Orange Walk" {
		t.Fatalf("enrolled %v as %+v; the app says %q", u.node.Enrolled(), self, v.result.Text)
	}
	said := screenTexts(screen)
	if strings.Contains(said, "not enrolled") || strings.Count(said, "Enrolled.") != 1 {
		t.Fatalf("once enrolled, the Sync screen says:\n%s", said)
	}
	if got := bannerSays(u); !strings.Contains(got, "must start again") {
		t.Fatalf("once enrolled, the banner says %q", got)
	}
}

// Words that a shell would read otherwise are quoted, and only those.
func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"cayo-laptop-07.request":    "cayo-laptop-07.request",
		"/media/usb/a.request":      "/media/usb/a.request",
		"Orange Walk":               "'Orange Walk'",
		"USB stick 'Cayo'":          `'USB stick '\''Cayo'\'''`,
		"$HOME":                     "'$HOME'",
		"a;rm -rf x":                "'a;rm -rf x'",
		"":                          "''",
		"back`tick`":                "'back`tick`'",
		"new\nline":                 "'new\nline'",
		"C:\\Users\\ana\\x.request": `'C:\Users\ana\x.request'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// A laptop enrolled again as the replacement of a stolen one may carry its
// name, and the stolen one is not revoked yet. The app that knows both
// offers them apart, each with its node id and its certificate's end, so
// that the responder does not hand the stick meant for the replacement to
// the thief under the same name, as the command line asks for the id.
func TestTwoNodesOfOneNameAreOfferedApart(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ca := enrollTestUI(t, u)
	stolen := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo")
	again := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo")
	v := u.newSyncView()
	for _, n := range []*node.Node{stolen, again} {
		v.importBundle(bundleOf(t, n))
		u.bg.Wait()
	}
	choices := v.readerChoices(ctx)
	if len(choices) != 2 || choices[0].label == choices[1].label {
		t.Fatalf("the two laptops of one name are offered as %q", choices)
	}
	for _, n := range []*node.Node{stolen, again} {
		id := n.Self().ID.String()
		i := slices.IndexFunc(choices, func(c readerChoice) bool { return slices.Equal(c.names, []string{id}) })
		if i < 0 || !strings.Contains(choices[i].label, id[:8]) || !strings.Contains(choices[i].label, n.Credentials().Cert.NotAfter.Format(time.DateOnly)) {
			t.Fatalf("%s is offered as %q, which does not say its id and its certificate's end", id, choices)
		}
	}
}

// A stick handed over may hold a pipe, or a link to a device, under a
// bundle's name. Fyne's file dialog opens each file it lists, on the UI
// thread, to choose its icon, and opening a pipe waits for a writer:
// before, the window hung for good as soon as the stick's folder was
// shown. The dialogs that pick a file to read list regular files only,
// links to them included.
func TestFileDialogsOfferRegularFilesOnly(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	usb := t.TempDir()
	if err := os.WriteFile(filepath.Join(usb, "hq.bundle"), []byte("bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hq.bundle", filepath.Join(usb, "again.bundle")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(usb, "relay.bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(usb, "zero.bundle")); err != nil {
		t.Fatal(err)
	}
	d := fileAsk(u.win, func(string) {})
	dir, err := storage.ListerForURI(storage.NewFileURI(usb))
	if err != nil {
		t.Fatal(err)
	}
	d.SetLocation(dir)
	d.Show()
	// The dialog names the files without their extension, a line each.
	shown := screenTexts(u.win.Canvas().Overlays().Top())
	lines := strings.Split(shown, "\n")
	for name, want := range map[string]bool{"hq": true, "again": true, "relay": false, "zero": false} {
		if slices.Contains(lines, name) != want {
			t.Errorf("%s.bundle offered: %v, want %v; the dialog shows\n%s", name, !want, want, shown)
		}
	}
}
