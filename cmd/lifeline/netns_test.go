package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/drill/netlab"
	"lifeline/node"
)

// newLab makes the test's network of namespaces (see netlab), removed
// when the test ends. It skips the test where namespaces cannot be made
// (not root, no ip command), and fails it there in CI.
func newLab(t *testing.T) *netlab.Lab {
	t.Helper()
	l, err := netlab.New("ll")
	if errors.Is(err, netlab.ErrUnavailable) {
		netlab.Skip(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// start runs lifeline in the namespace, its output in a log file that the
// test prints if it fails.
func start(t *testing.T, ns, name string, args ...string) {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := netlab.Command(context.Background(), ns, bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() {
		// The signal reaches the node (see netlab.Command), which leaves
		// the gossip and stops.
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			out, _ := os.ReadFile(logFile)
			t.Logf("== %s's log:\n%s", name, tail(out, 4000))
		}
	})
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// nodeStatus is what `lifeline status --json` says.
func nodeStatus(t *testing.T, dir string) node.Status {
	t.Helper()
	var st node.Status
	out := ok(t, "", "status", "--data", dir, "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v: %s", err, out)
	}
	return st
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("%s: %.1fs", what, time.Since(start).Seconds()) }()
	deadline := start.Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A deployment of real lifeline processes, each in its own network
// namespace: HQ, a Cayo relay and laptop on the headquarters' site, and a
// Toledo relay and laptop behind a rate-limited district uplink. The nodes
// find each other from one join address; the Toledo link is cut; both sides
// keep recording (the Toledo relay takes its laptop's records without
// quorum); the link heals and, with nobody typing an address or restarting
// anything, every node ends with the same records and the Toledo laptop
// learns that the ledger committed its changes.
func TestPartitionedDistrictHealsInNamespaces(t *testing.T) {
	// Its processes mostly wait (for sessions, gossip, elections):
	// it runs beside other such tests.
	t.Parallel()
	l := newLab(t)
	d := newDeployment(t)
	relayCayo := d.node(t, "relay-cayo", "relay", "Cayo", "--voter")
	fieldCayo := d.node(t, "cayo-07", "field", "Cayo")
	relayTol := d.node(t, "relay-toledo", "relay", "Toledo", "--voter")
	fieldTol := d.node(t, "tol-02", "field", "Toledo")

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Site("hq"))
	must(l.Site("tol"))
	must(l.Uplink("tol", "hq", netlab.Shape{Rate: "4mbit", Burst: "32kbit", Latency: "400ms"}))
	type host struct {
		dir, name, ip string
		extra         []string
	}
	hosts := []host{
		{d.hq, "hq", "10.44.0.1", []string{"--bootstrap"}},
		{relayCayo, "relay-cayo", "10.44.0.2", nil},
		{fieldCayo, "cayo-07", "10.44.0.3", nil},
		{relayTol, "relay-toledo", "10.44.0.11", nil},
		{fieldTol, "tol-02", "10.44.0.12", nil},
	}
	for _, h := range hosts {
		site := "hq"
		if strings.HasSuffix(h.ip, ".11") || strings.HasSuffix(h.ip, ".12") {
			site = "tol"
		}
		ns, err := l.Host(h.name, site, h.ip+"/24")
		must(err)
		args := append([]string{"run", "--data", h.dir,
			"--sync-addr", h.ip + ":7420", "--gossip-addr", h.ip + ":7946", "--join", "10.44.0.1:7946",
			"--gossip-profile", "lan", "--sync-every", "1s", "--sync-idle", "10s"}, h.extra...)
		start(t, ns, h.name, args...)
	}
	all := []string{d.hq, relayCayo, fieldCayo, relayTol, fieldTol}
	// Each node keeps the national records and its district's: in step,
	// it holds the same of those as the first node named.
	scopes := map[string]string{d.hq: "national,Cayo,Toledo", relayCayo: "national,Cayo", fieldCayo: "national,Cayo",
		relayTol: "national,Toledo", fieldTol: "national,Toledo"}
	equal := func(dirs ...string) func() bool {
		return func() bool {
			for _, dir := range dirs[1:] {
				if digestIn(t, dir, scopes[dir]) != digestIn(t, dirs[0], scopes[dir]) {
					return false
				}
			}
			return true
		}
	}

	// Found by gossip from one address: both relays join the ledger as
	// voters, and records flow everywhere.
	waitFor(t, 90*time.Second, "both relays follow HQ's ledger as voters", func() bool {
		for _, dir := range []string{relayCayo, relayTol} {
			st := nodeStatus(t, dir)
			if st.Raft == nil || !st.Raft.Voter || st.Raft.Leader == "" {
				return false
			}
		}
		return true
	})
	addRecordsIn(t, fieldTol, 2, "Punta Gorda", "Toledo")
	waitFor(t, 60*time.Second, "a Toledo record reaches every node that keeps Toledo's", equal(all...))
	if n := nodeStatus(t, d.hq).Records["damage-assessment"]; n != 2 {
		t.Fatalf("HQ holds %d assessments, want Toledo's 2", n)
	}
	if n := nodeStatus(t, fieldCayo).Records["damage-assessment"]; n != 0 {
		t.Fatalf("the Cayo laptop holds %d assessments of Toledo", n)
	}

	// Toledo's uplink is cut, long enough for each side to give the other
	// up for lost; both sides record.
	must(l.SetUplink("tol", false))
	gone := func(dir, peer string) func() bool {
		return func() bool {
			for _, p := range nodeStatus(t, dir).Peers {
				if p.Name == peer {
					return p.Gossip == "dead"
				}
			}
			return false
		}
	}
	waitFor(t, 60*time.Second, "HQ gives the Toledo relay up for lost", gone(d.hq, "relay-toledo"))
	waitFor(t, 60*time.Second, "the Toledo relay gives HQ up for lost", gone(relayTol, "hq-belmopan"))
	addRecords(t, fieldCayo, 10, "Succotz")
	addRecords(t, d.hq, 3, "Belmopan")
	var tolIDs []string
	for i := range 10 {
		rec := strings.Replace(strings.Replace(assessment, `"Cayo"`, `"Toledo"`, 1), "San Ignacio", fmt.Sprintf("San Antonio %d", i), 1)
		tolIDs = append(tolIDs, strings.TrimSpace(ok(t, rec, "record", "add", "--data", fieldTol, "--type", "damage-assessment")))
	}
	addRecordsIn(t, relayTol, 3, "Punta Gorda office", "Toledo")
	waitFor(t, 60*time.Second, "the Cayo side converges while Toledo is cut off", equal(d.hq, relayCayo, fieldCayo))
	waitFor(t, 60*time.Second, "the Toledo relay takes its laptop's records without quorum", equal(relayTol, fieldTol))
	if digestIn(t, d.hq, "national,Toledo") == digestIn(t, relayTol, "national,Toledo") {
		t.Fatal("the two sides of a cut link hold the same records")
	}
	if st := nodeStatus(t, fieldTol); st.Unconfirmed < 10 {
		t.Fatalf("the Toledo laptop says %d changes unconfirmed while its district is cut off, want at least 10", st.Unconfirmed)
	}

	// The link heals: nobody restarts anything.
	must(l.SetUplink("tol", true))
	waitFor(t, 120*time.Second, "all five nodes hold the same records after the link heals", equal(all...))
	waitFor(t, 120*time.Second, "the Toledo laptop learns the ledger committed its changes", func() bool {
		return nodeStatus(t, fieldTol).Unconfirmed == 0
	})
	var shown struct {
		Case   string `json:"case"`
		Status string `json:"status"`
	}
	out := ok(t, "", "record", "show", "--data", fieldTol, "--id", tolIDs[0], "--json")
	if err := json.NewDecoder(bytes.NewReader([]byte(out))).Decode(&shown); err != nil {
		t.Fatal(err)
	}
	if shown.Status != "confirmed" {
		t.Fatalf("record made in Toledo during the cut: status %q, want confirmed", shown.Status)
	}
	hqView := ok(t, "", "record", "show", "--data", d.hq, "--id", tolIDs[0], "--json")
	if !strings.Contains(hqView, `"case": "TOL-2`) {
		t.Fatalf("HQ gave the Toledo record no Toledo case number: %s", hqView)
	}
}
