// Package drill runs the hurricane drill: a deployment of real `lifeline`
// processes, each in a network namespace of its own on this machine, that
// keeps recording while the drill cuts districts off, kills the Raft
// leader and laptops with kill -9, thins links, fills a disk, moves a
// clock, walks a bundle to HQ and attacks every port; after each step it
// checks that every record a laptop acknowledged is at HQ, that every
// node holds the same records, that no process crashed and no store is
// damaged, and reports it.
package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"lifeline/drill/netlab"
	"lifeline/syncproto"
)

// Config is a drill.
type Config struct {
	// Bin is the lifeline binary the nodes run.
	Bin string
	// Dir is where the nodes' data folders and logs go.
	Dir string
	// Short runs the drill that make test runs: five nodes, fewer kills,
	// shorter spells.
	Short bool
	// Steps names the steps to run (all when empty): see Steps.
	Steps []string
	// Log hears what the drill does, as it does it.
	Log io.Writer
}

// Steps are the drill's steps, in the order they run.
var Steps = []string{"partition", "leader", "thin", "kill", "disk", "bundle", "attack", "clock"}

// Drill is one run.
type Drill struct {
	cfg    Config
	lab    *netlab.Lab
	nodes  []*Node
	hq     *Node
	report *Report

	mu     sync.Mutex
	acked  map[string][]string // by laptop: ids of records the tool said it saved
	paused bool
	resume chan struct{}
	// writing is the record add in flight, by laptop, for kill -9.
	writing map[string]*os.Process
	// diskSize is the size of relay-toledo's small disk, as mount says it.
	diskSize string
	// mounts are the small disks mounted, for close.
	mounts []string
}

func (d *Drill) logf(format string, args ...any) {
	if d.cfg.Log != nil {
		fmt.Fprintf(d.cfg.Log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

// syncEvery is how often nodes look for peers.
func (d *Drill) syncEvery() time.Duration { return 5 * time.Second }

// node returns the node called name.
func (d *Drill) node(name string) *Node {
	for _, n := range d.nodes {
		if n.Name == name {
			return n
		}
	}
	panic("drill: no node " + name)
}

func (d *Drill) laptops() []*Node {
	var out []*Node
	for _, n := range d.nodes {
		if n.Role.Field() {
			out = append(out, n)
		}
	}
	return out
}

// Run runs the drill and returns its report; the error says why the drill
// could not run at all (a failed step is in the report).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Bin == "" {
		return nil, errors.New("drill: no lifeline binary given")
	}
	if len(cfg.Steps) == 0 {
		cfg.Steps = Steps
	}
	for _, s := range cfg.Steps {
		if !slices.Contains(Steps, s) {
			return nil, fmt.Errorf("drill: no step %q (steps: %s)", s, strings.Join(Steps, ", "))
		}
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "logs"), 0o700); err != nil {
		return nil, err
	}
	l, err := newLab()
	if err != nil {
		return nil, err
	}
	d := &Drill{cfg: cfg, lab: l, acked: map[string][]string{}, writing: map[string]*os.Process{},
		report: &Report{Started: time.Now(), Short: cfg.Short}}
	defer d.close()
	if err := d.setUp(ctx); err != nil {
		return d.report, fmt.Errorf("drill: setting up: %w", err)
	}
	wctx, stopWriters := context.WithCancel(ctx)
	var writers sync.WaitGroup
	for _, n := range d.laptops() {
		writers.Add(1)
		go func() {
			defer writers.Done()
			d.write(wctx, n)
		}()
	}
	for _, name := range cfg.Steps {
		if ctx.Err() != nil {
			break
		}
		d.step(ctx, name)
	}
	stopWriters()
	writers.Wait()
	d.final(ctx)
	d.report.Took = time.Since(d.report.Started)
	return d.report, nil
}

// close stops every node and removes the network.
func (d *Drill) close() {
	var wg sync.WaitGroup
	for _, n := range d.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.signal(syscall.SIGTERM)
		}()
	}
	wg.Wait()
	d.mu.Lock()
	for _, m := range d.mounts {
		exec.Command("umount", "-l", m).Run()
	}
	d.mu.Unlock()
	d.lab.Close()
}

// uplinkShape is a district office's uplink to HQ: 2 Mbit/s each way.
var uplinkShape = netlab.Shape{Rate: "2mbit", Burst: "64kbit", Latency: "400ms"}

// setUp makes the deployment: HQ (which makes the authority and starts the
// ledger), relays and laptops, enrolled with HQ's folder, each in its own
// namespace, on sites joined by district uplinks.
func (d *Drill) setUp(ctx context.Context) error {
	type spec struct {
		name             string
		role             syncproto.Role
		district, site   string
		voter, bootstrap bool
	}
	specs := []spec{
		{"hq", syncproto.RoleHQ, "Belize", "hq", true, true},
		{"relay-cayo", syncproto.RoleRelay, "Cayo", "cayo", true, false},
		{"relay-toledo", syncproto.RoleRelay, "Toledo", "toledo", true, false},
		{"cayo-1", syncproto.RoleField, "Cayo", "cayo", false, false},
		{"tol-1", syncproto.RoleField, "Toledo", "toledo", false, false},
	}
	if !d.cfg.Short {
		specs = append(specs,
			spec{"hq-alt", syncproto.RoleHQ, "Belize", "hq", true, false},
			spec{"relay-stann", syncproto.RoleRelay, "Stann Creek", "stann", true, false},
			spec{"cayo-2", syncproto.RoleField, "Cayo", "cayo", false, false},
			spec{"sck-1", syncproto.RoleField, "Stann Creek", "stann", false, false},
		)
	}
	sites := []string{}
	for _, s := range specs {
		if !slices.Contains(sites, s.site) {
			sites = append(sites, s.site)
		}
	}
	for _, s := range sites {
		if err := d.lab.Site(s); err != nil {
			return err
		}
		if s != "hq" {
			if err := d.lab.Uplink(s, "hq", uplinkShape); err != nil {
				return err
			}
		}
	}
	for i, s := range specs {
		ip := fmt.Sprintf("10.77.%d.%d", slices.Index(sites, s.site)+1, i+10)
		ns, err := d.lab.Host(s.name, s.site, ip+"/16")
		if err != nil {
			return err
		}
		n := &Node{Name: s.name, Role: s.role, District: s.district, Site: s.site, IP: ip, NS: ns,
			Dir: filepath.Join(d.cfg.Dir, s.name), Voter: s.voter, Bootstrap: s.bootstrap, d: d}
		if s.name == "relay-toledo" {
			// Its disk is the one the drill fills: room for what the drill
			// writes (the records, Raft's log, whose segments are made
			// whole in advance, and snapshots), and little more.
			size := "256m"
			if d.cfg.Short {
				size = "192m"
			}
			d.diskSize = size
			if err := d.smallDisk(n.Dir, size); err != nil {
				return err
			}
			n.Dir = filepath.Join(n.Dir, "node")
		}
		d.nodes = append(d.nodes, n)
		if s.bootstrap {
			d.hq = n
		}
	}
	for _, n := range d.nodes {
		if _, err := n.lifeline(ctx, "", "init", "--data", n.Dir, "--role", string(n.Role), "--district", n.District, "--name", n.Name); err != nil {
			return err
		}
		if n == d.hq {
			if _, err := n.lifeline(ctx, "", "ca", "init", "--data", n.Dir); err != nil {
				return err
			}
			continue
		}
		enroll := []string{"enroll", "--data", n.Dir, "--ca", d.hq.Dir}
		if n.Voter {
			enroll = append(enroll, "--voter") // headquarters decides who votes
		}
		if n.Role.Decides() {
			enroll = append(enroll, "--hq") // the alternate HQ, on purpose
		}
		if _, err := n.lifeline(ctx, "", enroll...); err != nil {
			return err
		}
	}
	d.logf("deployment: %d nodes in namespaces %s-*", len(d.nodes), d.lab.Prefix)
	for _, n := range d.nodes {
		if err := n.start(); err != nil {
			return err
		}
		if n == d.hq {
			if err := d.waitFor(ctx, time.Minute, "hq leads the ledger", func() bool {
				st, err := n.status(ctx)
				return err == nil && st.Raft != nil && st.Raft.State == "Leader"
			}); err != nil {
				return err
			}
		}
	}
	voters := 0
	for _, n := range d.nodes {
		if n.Voter {
			voters++
		}
	}
	return d.waitFor(ctx, 2*time.Minute, fmt.Sprintf("%d voters in the ledger", voters), func() bool {
		n := 0
		for _, m := range d.nodes {
			if !m.Voter {
				continue
			}
			st, err := m.status(ctx)
			if err == nil && st.Raft != nil && st.Raft.Voter && st.Raft.Leader != "" {
				n++
			}
		}
		return n == voters
	})
}

// waitFor polls cond every half second until it holds or within passes.
func (d *Drill) waitFor(ctx context.Context, within time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v: %s", within, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// Records the laptops write: damage assessments, and missing persons
// (life safety, the first lane to sync).
const (
	damageJSON  = `{"district":%q,"village":"Village %d","lat":17.1,"lon":-88.9,"structure_type":"thatch","damage_level":%d,"household_size":%d,"displaced":true,"reported_by":"drill","reported_at":"2026-11-20T10:00:00Z","notes":%q}`
	missingJSON = `{"full_name":"Person %d","district":%q,"last_seen_place":"Market","status":"missing","reporter_name":"Drill","reported_at":"2026-11-20T10:00:00Z"}`
)

// write keeps a laptop recording until ctx ends: one record at a time
// through the lifeline tool, as a responder's app would, each counted as
// acknowledged once the tool says it is saved.
func (d *Drill) write(ctx context.Context, n *Node) {
	for i := 0; ctx.Err() == nil; i++ {
		d.waitResumed(ctx)
		if ctx.Err() != nil {
			return
		}
		typ, body := "damage-assessment", fmt.Sprintf(damageJSON, n.District, i, i%5, 1+i%7, strings.Repeat("roof gone, walls standing ", 8))
		if i%4 == 3 {
			typ, body = "missing-person", fmt.Sprintf(missingJSON, i, n.District)
		}
		if id, err := d.add(ctx, n, typ, body); err == nil {
			d.mu.Lock()
			d.acked[n.Name] = append(d.acked[n.Name], id)
			d.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// add saves one record on a laptop through the lifeline tool and returns
// its id; the process is kept where kill -9 can reach it.
func (d *Drill) add(ctx context.Context, n *Node, typ, body string, env ...string) (string, error) {
	cmd := execTool(ctx, n, env, body, "record", "add", "--data", n.Dir, "--type", typ, "--author", "drill")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	d.mu.Lock()
	d.writing[n.Name] = cmd.Process
	d.mu.Unlock()
	err := cmd.Wait()
	d.mu.Lock()
	delete(d.writing, n.Name)
	d.mu.Unlock()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// pause stops the laptops writing (after the record in flight) until
// resumed: digests can only be equal while nothing new is written.
func (d *Drill) pause() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.paused {
		d.paused, d.resume = true, make(chan struct{})
	}
}

func (d *Drill) unpause() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.paused {
		d.paused = false
		close(d.resume)
	}
}

func (d *Drill) waitResumed(ctx context.Context) {
	d.mu.Lock()
	paused, ch := d.paused, d.resume
	d.mu.Unlock()
	if paused {
		select {
		case <-ctx.Done():
		case <-ch:
		}
	}
}

// ackedCount is how many records the laptops acknowledged.
func (d *Drill) ackedIDs() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]string{}
	for laptop, ids := range d.acked {
		for _, id := range ids {
			out[id] = laptop
		}
	}
	return out
}

// converge pauses the writers and waits until every running node holds
// the same records as HQ of the scopes it keeps (national, and its
// district's), returning how long it took.
func (d *Drill) converge(ctx context.Context, within time.Duration) (time.Duration, error) {
	d.pause()
	start := time.Now()
	// A record add in flight when the pause came finishes first.
	time.Sleep(300 * time.Millisecond)
	var last map[string]string
	err := d.waitFor(ctx, within, "every node holds the same records", func() bool {
		last = map[string]string{}
		for _, n := range d.nodes {
			if n.clockMoved {
				continue // the others hold its changes: see heldAt
			}
			dg, err := n.digest(ctx, n.scopes())
			if err != nil {
				return false
			}
			at, err := d.hq.digest(ctx, n.scopes())
			if err != nil {
				return false
			}
			last[n.Name] = at
			if dg != at {
				last[n.Name] = "differs"
			}
		}
		for _, dg := range last {
			if dg == "differs" {
				return false
			}
		}
		return true
	})
	if err != nil {
		var differ []string
		for name, dg := range last {
			if dg == "differs" {
				differ = append(differ, name)
			}
		}
		slices.Sort(differ)
		return time.Since(start), fmt.Errorf("%w (differing from hq: %s)", err, strings.Join(differ, ", "))
	}
	return time.Since(start), nil
}

// step runs one step and checks what survived it.
func (d *Drill) step(ctx context.Context, name string) {
	s := &StepReport{Name: name}
	d.report.Steps = append(d.report.Steps, s)
	d.logf("step %s", name)
	start := time.Now()
	var err error
	switch name {
	case "partition":
		err = d.partition(ctx, s)
	case "leader":
		err = d.killLeader(ctx, s)
	case "thin":
		err = d.thinLink(ctx, s)
	case "kill":
		err = d.killLaptop(ctx, s)
	case "disk":
		err = d.fillDisk(ctx, s)
	case "bundle":
		err = d.walkBundle(ctx, s)
	case "attack":
		err = d.attack(ctx, s)
	case "clock":
		err = d.jumpClock(ctx, s)
	}
	if err != nil {
		s.Failures = append(s.Failures, err.Error())
	}
	if !s.checked {
		d.check(ctx, s, 3*time.Minute)
	}
	s.Took = time.Since(start)
	d.unpause()
	d.logf("step %s: %s", name, s.summary())
}

// check converges the nodes and records what survived: acknowledged
// records at HQ, conflicts, crashes, panics, store integrity.
func (d *Drill) check(ctx context.Context, s *StepReport, within time.Duration) {
	s.checked = true
	took, err := d.converge(ctx, within)
	s.Converged = took
	if err != nil {
		s.Diverged = true
		s.Failures = append(s.Failures, err.Error())
	}
	acked := d.ackedIDs()
	s.Acked = len(acked)
	at, err := d.hq.ids(ctx)
	if err != nil {
		s.Failures = append(s.Failures, err.Error())
	}
	for id, laptop := range acked {
		if at[id] {
			s.AtHQ++
			continue
		}
		// A record not at HQ may be held (its laptop's clock ran ahead):
		// kept, not merged yet, not lost.
		if d.heldAt(laptop) {
			s.Held++
			continue
		}
		s.Lost++
		if len(s.LostIDs) < 10 {
			s.LostIDs = append(s.LostIDs, laptop+":"+id)
		}
	}
	if st, err := d.hq.status(ctx); err == nil {
		s.Conflicts = st.Conflicts
	}
	for _, n := range d.nodes {
		n.mu.Lock()
		crashes := append([]string(nil), n.crashes...)
		n.crashes = nil
		n.mu.Unlock()
		s.Crashes = append(s.Crashes, crashes...)
		// Each step reports the panics that happened since the last one.
		_, panics := n.logged(panicLine)
		s.Panics += panics - n.panicsSeen
		n.panicsSeen = panics
		if res := n.check(ctx); res != "ok" {
			s.Integrity = append(s.Integrity, n.Name+": "+res)
		}
	}
}

// heldAt reports whether the drill set a laptop's clock wrong: its later
// records are held by the others until their time comes.
func (d *Drill) heldAt(laptop string) bool { return d.node(laptop).clockMoved }

// final runs a last check once the writers stopped.
func (d *Drill) final(ctx context.Context) {
	s := &StepReport{Name: "final"}
	d.report.Steps = append(d.report.Steps, s)
	start := time.Now()
	d.check(ctx, s, 5*time.Minute)
	s.Took = time.Since(start)
	d.logf("final: %s", s.summary())
}

// restart starts a node again after the drill stopped it.
func (d *Drill) restart(n *Node) error {
	if n.running() {
		return nil
	}
	return n.start()
}

// jitter is a random duration in [lo, hi).
func jitter(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}
