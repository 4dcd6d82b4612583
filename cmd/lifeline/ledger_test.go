package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/node"
)

// runNode starts `lifeline run` on a data folder and returns the sync and
// gossip addresses it prints ("" for what it does not serve).
func runNode(t *testing.T, dir string, args ...string) (syncAddr, gossipAddr string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--data", dir}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "stderr.log")
	errf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errf.Close()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("== %s's log:\n%s", filepath.Base(dir), tail(b, 3000))
		}
	})
	wantSync := strings.Contains(strings.Join(args, " "), "--sync-addr")
	wantGossip := strings.Contains(strings.Join(args, " "), "--gossip-addr")
	ready := make(chan [2]string, 1)
	go func() {
		var s, g string
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "serving sync on "); ok {
				s = a
			}
			if a, ok := strings.CutPrefix(sc.Text(), "gossiping on "); ok {
				g = a
			}
			if !sent && (s != "" || !wantSync) && (g != "" || !wantGossip) {
				ready <- [2]string{s, g}
				sent = true
			}
		}
	}()
	select {
	case a := <-ready:
		return a[0], a[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("lifeline run --data %s did not start", dir)
	}
	return "", ""
}

// The ledger's commands as an HQ officer runs them, against real running
// processes found by gossip: receipts and case numbers reach the laptop,
// a kit published at HQ reaches the relay, the gossip key is rotated with
// nobody restarting, and a revoked laptop is refused.
func TestLedgerCommandsAgainstRunningNodes(t *testing.T) {
	// Its processes mostly wait (for sessions, gossip, elections):
	// it runs beside other such tests.
	t.Parallel()
	d := newDeployment(t)
	relay := d.node(t, "relay-cayo", "relay", "Cayo", "--voter")
	field := d.node(t, "cayo-07", "field", "Cayo")
	timers := []string{"--gossip-profile", "lan", "--sync-every", "500ms", "--sync-idle", "10s"}
	hqSync, hqGossip := runNode(t, d.hq, append([]string{"--sync-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0", "--bootstrap"}, timers...)...)
	relaySync, _ := runNode(t, relay, append([]string{"--sync-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0", "--join", hqGossip}, timers...)...)
	ids := addRecords(t, field, 3, "Succotz")
	runNode(t, field, append([]string{"--gossip-addr", "127.0.0.1:0", "--join", hqGossip}, timers...)...)

	waitFor(t, 60*time.Second, "the laptop's records are confirmed", func() bool { return nodeStatus(t, field).Unconfirmed == 0 })
	var shown struct{ Case, Status string }
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", field, "--id", ids[0], "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Status != "confirmed" {
		t.Fatalf("record status %q on the laptop, want confirmed", shown.Status)
	}
	if !strings.HasPrefix(ok(t, "", "record", "show", "--data", relay, "--id", ids[0], "--json"), "{") {
		t.Fatal("the relay cannot show the laptop's record")
	}
	text := ok(t, "", "status", "--data", field)
	if !strings.Contains(text, "every change made here is confirmed by the ledger at HQ") {
		t.Fatalf("status says:\n%s", text)
	}
	waitFor(t, 30*time.Second, "the relay follows the ledger as a voter", func() bool {
		st := nodeStatus(t, relay)
		return st.Raft != nil && st.Raft.Voter && st.Raft.State == "Follower" && st.Raft.Leader != "" && st.Raft.Height > 0
	})

	// The relay lists what the ledger committed: the laptop's three records.
	var log []struct {
		Name        string
		First, Last uint64
	}
	if err := json.Unmarshal([]byte(ok(t, "", "ledger", "log", "--data", relay, "--json")), &log); err != nil {
		t.Fatal(err)
	}
	laptop := uint64(0)
	for _, l := range log {
		if l.Name == "cayo-07" {
			laptop += l.Last - l.First + 1
		}
	}
	if laptop != 3 {
		t.Fatalf("the ledger log on the relay counts %d of the laptop's changes, want 3: %+v", laptop, log)
	}
	fails(t, "", []string{"cayo-07 is a field node"}, "ledger", "log", "--data", field)

	// New laptops start from HQ's snapshot: by stick, and over the network
	// on their first sync.
	// By stick, the snapshot is encrypted for the laptop, enrolled first:
	// HQ knows its key once the ledger committed its enrollment.
	stick := filepath.Join(t.TempDir(), "cayo.snapshot")
	byStick := d.node(t, "cayo-12", "field", "Cayo")
	byLink := d.node(t, "cayo-14", "field", "Cayo")
	fails(t, "", []string{"--to", "required"}, "snapshot", "export", "--data", d.hq, "--district", "cayo", "--out", stick)
	var out string
	waitFor(t, 30*time.Second, "HQ encrypts a snapshot for cayo-12", func() bool {
		r := lifeline(t, "", "snapshot", "export", "--data", d.hq, "--to", "cayo-12", "--out", stick)
		out = r.stdout
		return r.code == 0
	})
	if !strings.Contains(out, "a snapshot for a Cayo field laptop, 3 changes") || !strings.Contains(out, "encrypted for cayo-12, hq-belmopan (this node)") {
		t.Fatalf("snapshot export said %q", out)
	}
	// Another Cayo laptop, not named, cannot read it, and stays fresh.
	fails(t, "", []string{"nothing applied", "encrypted for other nodes", "it is for hq-belmopan (hq, Cayo) and 1 other node this one does not know", "this node is cayo-14"}, "snapshot", "import", "--data", byLink, stick)
	if out := ok(t, "", "snapshot", "import", "--data", byStick, stick); !strings.Contains(out, "3 changes, 3 new") || strings.Contains(out, "against 0 receipts") {
		t.Fatalf("snapshot import said %q", out)
	}
	if out := ok(t, "", "sync", "--data", byLink, "--peer", hqSync); !strings.Contains(out, "received 3") || !strings.Contains(out, "3 of the changes received came in the peer's snapshot") {
		t.Fatalf("a new laptop's first sync said %q", out)
	}
	for _, dir := range []string{byStick, byLink} {
		if digestIn(t, dir, "kept") != digestIn(t, d.hq, "national,Cayo") {
			t.Fatalf("%s differs from HQ after its snapshot", filepath.Base(dir))
		}
	}
	fails(t, "", []string{"--district \"Gotham\": not one of"}, "snapshot", "export", "--data", d.hq, "--to", "cayo-12", "--district", "Gotham", "--out", stick)
	fails(t, "", []string{"--district is required", "does not name one field laptop"}, "snapshot", "export", "--data", d.hq, "--to", "hq", "--out", stick)
	fails(t, "", []string{"--to nobody", "no node \"nobody\""}, "snapshot", "export", "--data", d.hq, "--to", "nobody", "--out", stick)

	// A new version of a kit, published at HQ, reaches the relay's catalogue.
	kit, err := os.ReadFile("../../fieldkits/kits/road-status.yaml")
	if err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "road-status.yaml")
	if err := os.WriteFile(newer, []byte(strings.Replace(string(kit), "version: 1.0.0", "version: 1.1.0", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out = ok(t, "", "kits", "publish", "--data", d.hq, newer)
	if !strings.Contains(out, "road-status 1.1.0 queued") {
		t.Fatalf("kits publish said %q", out)
	}
	waitFor(t, 30*time.Second, "the relay carries road-status 1.1.0", func() bool {
		var kits []struct{ Name, Version string }
		json.Unmarshal([]byte(ok(t, "", "kits", "list", "--data", relay, "--json")), &kits)
		for _, k := range kits {
			if k.Name == "road-status" {
				return k.Version == "1.1.0"
			}
		}
		return false
	})
	fails(t, "", []string{"only headquarters publishes kits"}, "kits", "publish", "--data", relay, newer)

	// A new gossip key, with every node running.
	keysOf := func(dir string) [][]byte {
		keys, _ := node.GossipKeys(dir, nil)
		return keys
	}
	old := keysOf(field)
	if len(old) != 1 {
		t.Fatalf("the laptop holds %d gossip keys, want the one enrollment gave", len(old))
	}
	ok(t, "", "gossip", "rotate", "--data", d.hq, "--step", "500ms")
	for _, dir := range []string{d.hq, relay, field} {
		waitFor(t, 30*time.Second, filepath.Base(dir)+" holds only the new key", func() bool {
			k := keysOf(dir)
			return len(k) == 1 && !bytes.Equal(k[0], old[0])
		})
	}

	// The laptop is stolen: HQ revokes it, and the relay refuses it.
	out = ok(t, "", "revoke", "--data", d.hq, "--node", "cayo-07", "--reason", "laptop stolen")
	if !strings.Contains(out, "revocation of") {
		t.Fatalf("revoke said %q", out)
	}
	waitFor(t, 30*time.Second, "the relay refuses the revoked laptop", func() bool {
		return lifeline(t, "", "sync", "--data", field, "--peer", relaySync).code != 0
	})
	// What it wrote before is listed for review: its three records, not
	// HQ's own.
	hqOwn := addRecords(t, d.hq, 1, "Bullet Tree")
	var listed []struct{ ID string }
	if err := json.Unmarshal([]byte(ok(t, "", "record", "list", "--data", d.hq, "--written-on", "cayo-07", "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range listed {
		got = append(got, r.ID)
	}
	slices.Sort(got)
	if want := slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) || slices.Contains(got, hqOwn[0]) {
		t.Fatalf("record list --written-on cayo-07 lists %q, want the laptop's %q", got, want)
	}
	fails(t, "", []string{"--written-on: no node \"cayo-99\""}, "record", "list", "--data", d.hq, "--written-on", "cayo-99")

	// A decision the ledger refuses (a field laptop, revoked, made a
	// voter) is queued, since the command cannot know: the status of
	// HQ's node says it was refused once the running node tried it.
	ok(t, "", "ledger", "member", "--data", d.hq, "--node", "cayo-07", "--voter")
	waitFor(t, 30*time.Second, "HQ's status says the ledger refused the command", func() bool {
		return strings.Contains(ok(t, "", "status", "--data", d.hq), "ledger refused a command queued here, dropped from the queue: member at ")
	})
}

// A laptop enrolled again, as a replacement, carries the name of the one
// it replaces: HQ does not pick one of the two by a list's order to
// revoke, or to list what it wrote, nor encrypt a stick for both. It names
// both, and asks for the id.
func TestANameOfTwoNodesAsksForTheID(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	stolen := d.node(t, "tol-02", "field", "Toledo")
	replacement := filepath.Join(d.dir, "tol-02-replacement")
	ok(t, "", "init", "--data", replacement, "--role", "field", "--district", "Toledo", "--name", "tol-02")
	ok(t, "", "enroll", "--data", replacement, "--ca", d.hq)
	// HQ meets both.
	addr := serve(t, d.hq)
	ok(t, "", "sync", "--data", stolen, "--peer", addr)
	ok(t, "", "sync", "--data", replacement, "--peer", addr)
	idOf := func(dir string) string {
		var s struct {
			ID string `json:"node"`
		}
		if err := json.Unmarshal([]byte(ok(t, "", "status", "--data", dir, "--json")), &s); err != nil || s.ID == "" {
			t.Fatalf("status --json of %s: %q, %v", dir, s.ID, err)
		}
		return s.ID
	}
	a, b := idOf(stolen), idOf(replacement)
	for _, args := range [][]string{
		{"revoke", "--data", d.hq, "--node", "tol-02", "--reason", "laptop stolen"},
		{"record", "list", "--data", d.hq, "--written-on", "tol-02"},
	} {
		fails(t, "", []string{`2 nodes are named "tol-02"`, a + " (field, Toledo, certificate until ", b, "give the id of the one you mean"}, args...)
	}
	ok(t, "", "record", "list", "--data", d.hq, "--written-on", a)
	// Nor is a stick encrypted for both.
	stick := filepath.Join(t.TempDir(), "tol-02.bundle")
	fails(t, "", []string{`2 nodes headquarters did not revoke are named "tol-02"`, a + " (field, Toledo)", b, "give the id of the one you mean"},
		"bundle", "export", "--data", d.hq, "--to", "tol-02", "--out", stick)
	if out := ok(t, "", "bundle", "export", "--data", d.hq, "--to", b, "--out", stick); !strings.Contains(out, "tol-02") {
		t.Fatalf("bundle export --to the replacement's id said %q", out)
	}
}
