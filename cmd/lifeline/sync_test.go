package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/node"
)

// deployment is an HQ with its certificate authority, in a temporary folder.
type deployment struct {
	dir string
	hq  string
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{dir: t.TempDir()}
	d.hq = filepath.Join(d.dir, "hq")
	ok(t, "", "init", "--data", d.hq, "--role", "hq", "--district", "Cayo", "--name", "hq-belmopan")
	ok(t, "", "ca", "init", "--data", d.hq)
	return d
}

// node makes and enrolls a node; enroll adds to the enroll command's
// flags (--voter).
func (d *deployment) node(t *testing.T, name, role, district string, enroll ...string) string {
	t.Helper()
	dir := filepath.Join(d.dir, name)
	ok(t, "", "init", "--data", dir, "--role", role, "--district", district, "--name", name)
	ok(t, "", append([]string{"enroll", "--data", dir, "--ca", d.hq}, enroll...)...)
	return dir
}

// serve starts `lifeline run --sync-addr` on a free loopback port and
// returns the address it serves.
func serve(t *testing.T, dir string) string {
	t.Helper()
	addr, _ := runNode(t, dir, "--sync-addr", "127.0.0.1:0", "--sync-idle", "5s")
	return addr
}

func digestOf(t *testing.T, dir string) string {
	return strings.TrimSpace(ok(t, "", "digest", "--data", dir))
}

// digestIn is a node's digest of the records of some scopes.
func digestIn(t *testing.T, dir, scopes string) string {
	return strings.TrimSpace(ok(t, "", "digest", "--data", dir, "--scope", scopes))
}

// addRecordsIn adds n damage assessments of a district.
func addRecordsIn(t *testing.T, dir string, n int, village, district string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		rec := strings.Replace(strings.Replace(assessment, `"Cayo"`, strconv.Quote(district), 1), "San Ignacio", fmt.Sprintf("%s %d", village, i), 1)
		ids = append(ids, strings.TrimSpace(ok(t, rec, "record", "add", "--data", dir, "--type", "damage-assessment")))
	}
	return ids
}

func addRecords(t *testing.T, dir string, n int, village string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		rec := strings.Replace(assessment, "San Ignacio", fmt.Sprintf("%s %d", village, i), 1)
		ids = append(ids, strings.TrimSpace(ok(t, rec, "record", "add", "--data", dir, "--type", "damage-assessment")))
	}
	return ids
}

// Two real lifeline processes on loopback sync both ways and end equal;
// concurrent edits on both sides converge with the conflict kept.
func TestSyncBetweenProcesses(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	ids := addRecords(t, field, 5, "Succotz")
	addRecords(t, d.hq, 2, "Belmopan")
	addr := serve(t, d.hq)

	out := ok(t, "", "sync", "--data", field, "--peer", addr)
	if !strings.Contains(out, "synced with hq-belmopan (hq, Cayo)") || !strings.Contains(out, "sent 5 changes, received 2") {
		t.Fatalf("sync said %q", out)
	}
	if digestOf(t, field) != digestOf(t, d.hq) {
		t.Fatal("digests differ after sync")
	}
	ok(t, `{"damage_level":4}`, "record", "update", "--data", field, "--id", ids[0], "--author", "Rosa Tzul")
	ok(t, `{"damage_level":1,"notes":"roof repaired"}`, "record", "update", "--data", d.hq, "--id", ids[0], "--author", "HQ analyst")
	ok(t, "", "sync", "--data", field, "--peer", addr)
	if digestOf(t, field) != digestOf(t, d.hq) {
		t.Fatal("digests differ after conflicting edits")
	}
	s := show(t, field, ids[0])
	if len(s.Conflicts["damage_level"]) != 2 || s.Fields["notes"] != "roof repaired" {
		t.Fatalf("after the conflict: %+v", s)
	}
	// A second session has nothing to do.
	if out := ok(t, "", "sync", "--data", field, "--peer", addr); !strings.Contains(out, "sent 0 changes, received 0") {
		t.Fatalf("an idle sync said %q", out)
	}
	// Setting the field decides the conflict, and says what it replaced.
	said := ok(t, `{"damage_level":3}`, "record", "update", "--data", d.hq, "--id", ids[0], "--author", "HQ analyst")
	for _, want := range []string{"decided the conflict on damage_level: the value set replaces ", `(Rosa Tzul, via cayo-07)`, `(HQ analyst, via hq-belmopan)`} {
		if !strings.Contains(said, want) {
			t.Fatalf("record update over the conflict said %q; want %q in it", said, want)
		}
	}
	if s := show(t, d.hq, ids[0]); len(s.Conflicts["damage_level"]) != 0 || s.Fields["damage_level"] != 3.0 {
		t.Fatalf("after deciding: %+v", s)
	}
}

// A node enrolled by another deployment's CA is refused before any record
// moves, in both directions, and the serving node goes on serving.
func TestSyncRefusesForeignNodes(t *testing.T) {
	d := newDeployment(t)
	addr := serve(t, d.hq)
	rogue := newDeployment(t)
	stranger := rogue.node(t, "stranger", "field", "Cayo")
	addRecords(t, stranger, 2, "Nowhere")
	before := digestOf(t, d.hq)
	fails(t, "", []string{"not signed by this deployment's CA"}, "sync", "--data", stranger, "--peer", addr)
	if digestOf(t, d.hq) != before {
		t.Fatal("a refused node's records reached HQ")
	}
	unenrolled := filepath.Join(d.dir, "new")
	ok(t, "", "init", "--data", unenrolled, "--role", "field", "--district", "Toledo", "--name", "new")
	fails(t, "", []string{"not enrolled", "lifeline enroll"}, "sync", "--data", unenrolled, "--peer", addr)
	// Random bytes, and a connection that says nothing, do not stop it.
	for _, junk := range [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n"), {0x16, 0x03, 0x01, 0xff, 0xff, 0, 0}, nil} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(junk)
		if junk != nil {
			c.Close()
		} else {
			defer c.Close()
		}
	}
	// HQ still serves its own.
	field := d.node(t, "tol-02", "field", "Toledo")
	ok(t, "", "sync", "--data", field, "--peer", addr)
}

// A sync killed mid-stream keeps what it stored before the kill, and the
// next sync brings only the rest. Each kill comes as soon as the field
// node has stored records from that sync, as its own status counts them
// (the field commits a batch of about a thousand at a time, so three kills
// leave much of the 8,000 to the last sync).
func TestSyncKilledMidStreamResumes(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	workload := filepath.Join("..", "..", "fieldkits", "testdata", "workload.ndjson.gz")
	lines := filepath.Join(t.TempDir(), "some.ndjson")
	const total = 8000
	// Every assessment of Cayo, so that the Cayo laptop keeps them all.
	data := regexp.MustCompile(`"district":"[^"]*"`).ReplaceAll(gunzipLines(t, workload, total), []byte(`"district":"Cayo"`))
	os.WriteFile(lines, data, 0o600)
	ok(t, "", "record", "import", "--data", d.hq, "--type", "damage-assessment", lines)
	addr := serve(t, d.hq)

	// The field node, opened here beside the sync processes, as the
	// desktop app would be.
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = field
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	status := func() node.Status {
		st, err := n.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	held := func() int { return status().Records["damage-assessment"] }

	prev := 0
	for i := range 3 {
		cmd := exec.Command(bin, "sync", "--data", field, "--peer", addr)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		want := prev + 1
		deadline := time.Now().Add(2 * time.Minute)
		for held() < want {
			select {
			case <-exited:
				t.Fatalf("sync %d ended by itself before the field held %d records (it holds %d): %s", i, want, held(), out.String())
			default:
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				<-exited
				t.Fatalf("sync %d: the field holds %d records after 2 minutes, want %d to cut the sync: %s", i, held(), want, out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		got := held()
		if got < want || got >= total {
			t.Fatalf("killed sync %d: the field holds %d of %d records (cut at %d): it was not cut mid-stream", i, got, total, want)
		}
		t.Logf("sync %d killed once the field held %d records", i, got)
		prev = got
	}

	before := status().Changes
	out := ok(t, "", "sync", "--data", field, "--peer", addr)
	var received, again int
	if i := strings.Index(out, "received "); i < 0 {
		t.Fatalf("sync said %q", out)
	} else if _, err := fmt.Sscanf(out[i:], "received %d (%d already here)", &received, &again); err != nil {
		t.Fatalf("sync said %q: %v", out, err)
	}
	after := status()
	if received != after.Changes-before || received > total-prev || again != 0 {
		t.Fatalf("the last sync received %d changes, %d of them already here (the field went from %d to %d) where it lacked %d records of %d",
			received, again, before, after.Changes, total-prev, total)
	}
	if digestOf(t, field) != digestOf(t, d.hq) {
		t.Fatal("digests differ after the killed syncs and a last one")
	}
	if got := after.Records["damage-assessment"]; got != total {
		t.Fatalf("%d records after resuming, want %d", got, total)
	}
	t.Logf("the last sync received %d changes", received)
}

func lifelineOut(t *testing.T, args ...string) (string, int) {
	r := lifeline(t, "", args...)
	return r.stdout, r.code
}

func gunzipLines(t *testing.T, path string, n int) []byte {
	t.Helper()
	out, err := exec.Command("sh", "-c", fmt.Sprintf("zcat %s | head -%d", path, n)).Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A laptop enrolled from the CA folder alone, on a stick, holds no HQ
// node's certificate; its first session with HQ brings it, even where HQ
// has written nothing of its own, so that the laptop's next bundle is
// encrypted for HQ by default.
func TestALaptopEnrolledFromTheCAFolderLearnsHQInASession(t *testing.T) {
	dir := t.TempDir()
	hq, ca, field := filepath.Join(dir, "hq"), filepath.Join(dir, "stick", "ca"), filepath.Join(dir, "tol-02")
	ok(t, "", "init", "--data", hq, "--role", "hq", "--district", "Cayo", "--name", "hq-belmopan")
	ok(t, "", "ca", "init", "--data", hq, "--out", ca)
	ok(t, "", "init", "--data", field, "--role", "field", "--district", "Toledo", "--name", "tol-02")
	ok(t, "", "enroll", "--data", field, "--ca", ca)
	addRecords(t, field, 1, "Punta Gorda")
	stick := filepath.Join(dir, "tol-02.bundle")
	fails(t, "", []string{"--to hq", "knows no headquarters node"}, "bundle", "export", "--data", field, "--out", stick)
	ok(t, "", "sync", "--data", field, "--peer", serve(t, hq))
	if out := ok(t, "", "bundle", "export", "--data", field, "--out", stick); !strings.Contains(out, "encrypted for hq-belmopan, tol-02 (this node)") {
		t.Fatalf("bundle export after a session with HQ said %q", out)
	}
}

// Bundles carry the same changes with no network: a full bundle, an
// incremental one for a vector, imported twice, in any order; a cut or
// altered bundle is refused whole.
func TestBundles(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "tol-02", "field", "Toledo")
	dir := t.TempDir()
	addRecords(t, field, 3, "Punta Gorda")
	full := filepath.Join(dir, "full.bundle")
	// Encrypted for headquarters by default: the laptop learnt the key of
	// the HQ node that enrolled it from its enrollment file.
	if out := ok(t, "", "bundle", "export", "--data", field, "--out", full); !strings.Contains(out, "3 changes") || !strings.Contains(out, "encrypted for hq-belmopan, tol-02 (this node)") {
		t.Fatalf("bundle export said %q", out)
	}
	if raw, _ := os.ReadFile(full); !strings.HasPrefix(string(raw), "age-encryption.org/v1\n") || strings.Contains(string(raw), "Punta Gorda") || strings.Contains(string(raw), "LIFELINE-BUNDLE") {
		t.Fatal("the bundle is not encrypted")
	}
	// A Toledo relay, not named, cannot read it.
	relay := d.node(t, "relay-toledo", "relay", "Toledo")
	fails(t, "", []string{"nothing applied", "encrypted for other nodes", "it is for hq-belmopan (hq, Cayo) and 1 other node this one does not know", "this node is relay-toledo"}, "bundle", "import", "--data", relay, full)
	if digestOf(t, relay) == digestOf(t, field) {
		t.Fatal("the relay applied a bundle not for it")
	}
	fails(t, "", []string{"--to relay:Toledo", "knows no relay of Toledo"}, "bundle", "export", "--data", field, "--out", filepath.Join(dir, "x.bundle"), "--to", "relay:Toledo")
	fails(t, "", []string{"--to", "names no one"}, "bundle", "export", "--data", field, "--out", filepath.Join(dir, "x.bundle"), "--to", ",")
	if _, err := os.Stat(filepath.Join(dir, "x.bundle")); err == nil {
		t.Fatal("a refused export left a file")
	}

	if out := ok(t, "", "bundle", "import", "--data", d.hq, full); strings.Contains(out, "not encrypted") {
		t.Fatalf("bundle import said %q", out)
	}
	vec := filepath.Join(dir, "hq.vector")
	ok(t, "", "vector", "--data", d.hq, "--out", vec)

	// The second bundle holds what HQ lacks now; the third what HQ will
	// lack once it has the second (computed on a copy of HQ).
	addRecords(t, field, 2, "San Antonio")
	second := filepath.Join(dir, "second.bundle")
	ok(t, "", "bundle", "export", "--data", field, "--out", second, "--for", vec)
	hqCopy := filepath.Join(dir, "hq-copy")
	if out, err := exec.Command("cp", "-r", d.hq, hqCopy).CombinedOutput(); err != nil {
		t.Fatal(string(out))
	}
	ok(t, "", "bundle", "import", "--data", hqCopy, second)
	ok(t, "", "vector", "--data", hqCopy, "--out", vec)
	addRecords(t, field, 1, "Barranco")
	third := filepath.Join(dir, "third.bundle")
	ok(t, "", "bundle", "export", "--data", field, "--out", third, "--for", vec)

	// Damaged copies of the third are refused, and change nothing.
	good, _ := os.ReadFile(third)
	before := digestOf(t, d.hq)
	for name, bad := range map[string][]byte{
		"cut":      good[:len(good)-40],
		"tampered": append(append(append([]byte(nil), good[:len(good)/2]...), good[len(good)/2]^0x20), good[len(good)/2+1:]...),
		"foreign":  []byte("PK\x03\x04 this is a zip file"),
	} {
		path := filepath.Join(dir, name+".bundle")
		os.WriteFile(path, bad, 0o600)
		fails(t, "", []string{"nothing applied"}, "bundle", "import", "--data", d.hq, path)
		if digestOf(t, d.hq) != before {
			t.Fatalf("a %s bundle changed HQ", name)
		}
	}
	// The third before the second: it waits for its predecessors, then
	// both are in.
	out := ok(t, "", "bundle", "import", "--data", d.hq, third)
	if !strings.Contains(out, "1 waiting") {
		t.Fatalf("an early bundle: %q", out)
	}
	ok(t, "", "bundle", "import", "--data", d.hq, second)
	if digestOf(t, d.hq) != digestOf(t, field) {
		t.Fatal("digests differ after the bundles")
	}
	again := ok(t, "", "bundle", "import", "--data", d.hq, full)
	if !strings.Contains(again, "0 new") || digestOf(t, d.hq) != digestOf(t, field) {
		t.Fatalf("importing a bundle again: %q", again)
	}
	fi1, _ := os.Stat(full)
	fi3, _ := os.Stat(third)
	if fi3.Size() >= fi1.Size() {
		t.Fatalf("the bundle for a vector (%d bytes) is not smaller than the full one (%d)", fi3.Size(), fi1.Size())
	}
}
