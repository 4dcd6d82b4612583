// Package nodetest runs clusters of Lifeline nodes in one process for
// tests and benchmarks: real stores on disk, real mutual TLS and Raft over
// loopback, timers shortened so that elections take milliseconds.
package nodetest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// TB is what the harness needs of its caller: *testing.T and *testing.B
// are one, and a program that is not a test (the benchmark) provides its
// own.
type TB interface {
	Helper()
	// Fatal and Fatalf report a failure and stop the caller's goroutine.
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	// Errorf reports a failure and goes on.
	Errorf(format string, args ...any)
	// Cleanup registers a function to run when the caller is done.
	Cleanup(func())
	// TempDir is a new empty folder, removed when the caller is done.
	TempDir() string
}

// Cluster is a deployment: a certificate authority and its nodes.
type Cluster struct {
	t    TB
	dir  string
	CA   *identity.CA
	Keys [][]byte // the gossip keys
	mu   sync.Mutex
	all  []*Member
}

// Member is one node of a cluster, running or stopped.
type Member struct {
	c      *Cluster
	Name   string
	Config node.Config
	Node   *node.Node
	Daemon *node.Daemon // while it runs
	Addr   string       // its sync address once running
	Gossip string       // its gossip address once running
}

// New makes an empty cluster in a temporary folder.
func New(t TB) *Cluster {
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	key, err := gossip.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, dir: t.TempDir(), CA: ca, Keys: [][]byte{key}}
	t.Cleanup(c.StopAll)
	return c
}

// Config is the configuration tests run nodes with: loopback, port 0,
// short timers, no gossip unless a test sets GossipAddr.
func Config(dir string) node.Config {
	cfg := node.DefaultConfig()
	cfg.DataDir = dir
	cfg.SyncAddr = "127.0.0.1:0"
	cfg.Watch = 20 * time.Millisecond
	cfg.SyncIdle = 20 * time.Second
	cfg.SyncEvery = 100 * time.Millisecond
	cfg.GossipTimers = &gossip.Test
	// Raft's timers are Raft's own defaults halved: shorter ones made a
	// leader starved of CPU (the race detector, packages tested side by
	// side on two cores) lose its lease and the ledger stop committing
	// through one election after another.
	cfg.Raft = node.RaftConfig{
		Heartbeat: 500 * time.Millisecond, Election: 500 * time.Millisecond, LeaderLease: 250 * time.Millisecond,
		Commit: 5 * time.Millisecond, SnapshotThreshold: 64, SegmentSize: 1 << 20, ProposeEvery: 30 * time.Millisecond,
	}
	return cfg
}

// Open makes a node named name in a folder of the test's, with the
// default configuration changed by edit, if not nil, and opens it, not
// enrolled and not started: a store with its kits, for tests of what is
// read from one. It is closed when the test ends.
func Open(t TB, name string, role syncproto.Role, district string, edit func(*node.Config)) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), name)
	if edit != nil {
		edit(&cfg)
	}
	return OpenConfig(t, cfg, name, role, district)
}

// OpenConfig makes and opens a node of cfg, as Open does.
func OpenConfig(t TB, cfg node.Config, name string, role syncproto.Role, district string) *node.Node {
	t.Helper()
	ctx := context.Background()
	if err := node.Init(ctx, cfg, node.Identity{Name: name, Role: role, District: district}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// Add makes, enrolls and starts a node. edit, if not nil, adjusts its
// configuration first.
func (c *Cluster) Add(name string, role syncproto.Role, district string, edit func(*node.Config)) *Member {
	c.t.Helper()
	cfg := Config(filepath.Join(c.dir, name))
	if edit != nil {
		edit(&cfg)
	}
	ctx := context.Background()
	if err := node.Init(ctx, cfg, node.Identity{Name: name, Role: role, District: district}); err != nil {
		c.t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := n.EnrollWith(ctx, c.CA); err != nil {
		c.t.Fatal(err)
	}
	if err := n.InstallGossipKeys(c.Keys); err != nil {
		c.t.Fatal(err)
	}
	n.Close()
	m := &Member{c: c, Name: name, Config: cfg}
	c.mu.Lock()
	c.all = append(c.all, m)
	c.mu.Unlock()
	m.Start()
	return m
}

// Start opens and runs the member's node: it serves once Start returns.
func (m *Member) Start() {
	t := m.c.t
	t.Helper()
	n, err := node.Open(context.Background(), m.Config)
	if err != nil {
		t.Fatal(err)
	}
	m.Node = n
	d, err := n.Start(context.Background(), nil)
	if err != nil {
		n.Close()
		t.Fatalf("%s did not start: %v", m.Name, err)
	}
	m.Daemon, m.Addr, m.Gossip = d, d.Addr(), d.GossipAddr()
}

// Stop stops the member's node and closes its store.
func (m *Member) Stop() {
	if m.Daemon == nil {
		return
	}
	if err := m.Daemon.Stop(); err != nil {
		m.c.t.Errorf("%s: %v", m.Name, err)
	}
	m.Node.Close()
	m.Daemon = nil
	// A restart listens where it did: the ledger's configuration names the
	// address.
	if m.Addr != "" {
		m.Config.SyncAddr = m.Addr
	}
	if m.Gossip != "" {
		m.Config.GossipAddr = m.Gossip
	}
}

// Running reports whether the member runs.
func (m *Member) Running() bool { return m.Daemon != nil }

// StopAll stops every running member.
func (c *Cluster) StopAll() {
	c.mu.Lock()
	all := append([]*Member(nil), c.all...)
	c.mu.Unlock()
	for _, m := range all {
		m.Stop()
	}
}

// Members returns every member added.
func (c *Cluster) Members() []*Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Member(nil), c.all...)
}

// AddToLedger makes m a member of the ledger (a voter or not), as
// headquarters decides it: a running HQ member signs m's enrollment, with
// m's address, and the leader adds m there. It waits until the leader's
// configuration has m so.
func (c *Cluster) AddToLedger(m *Member, voter bool) {
	c.t.Helper()
	c.Decide(ledger.CmdEnroll, &ledger.Enroll{Cert: m.Node.Credentials().Cert.Raw, Voter: voter, Addr: m.Addr})
	Eventually(c.t, 30*time.Second, "the ledger has "+m.Name, func() bool {
		for _, l := range c.Members() {
			if !l.Running() || l.Daemon.Ledger() == nil || !l.Daemon.Ledger().IsLeader() {
				continue
			}
			servers, err := l.Daemon.Ledger().Servers()
			if err != nil {
				return false
			}
			for _, s := range servers {
				if s.ID == m.Node.Self().ID.String() && s.Voter == voter {
					return true
				}
			}
		}
		return false
	})
}

// Decide has a running HQ member queue one of headquarters' decisions,
// signed with its key.
func (c *Cluster) Decide(t ledger.CommandType, cmd any) {
	c.t.Helper()
	for _, hq := range c.Members() {
		if hq.Running() && hq.Node.Self().Role.Decides() {
			if err := hq.Node.Queue(context.Background(), t, cmd); err != nil {
				c.t.Fatal(err)
			}
			return
		}
	}
	c.t.Fatal("no headquarters runs to decide")
}

// Patience multiplies every wait of Eventually. A wait is a bound on
// liveness, not a measure of speed: it returns as soon as its condition
// holds, and a machine running every package's race-detected tests on two
// cores can take several times as long as an idle one to get there.
const Patience = 4

// Eventually polls cond until it holds or Patience times within passes.
func Eventually(t TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	within *= Patience
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v", what, within)
}

// Digest is a member's digest, as hex.
func (m *Member) Digest() string {
	d, err := m.Node.Digest(context.Background())
	if err != nil {
		m.c.t.Fatal(err)
	}
	return fmt.Sprintf("%x", d)
}

// DigestOf is the digest, as hex, of the records a member holds of the
// scopes another member keeps every record of: equal on both once they
// are in step.
func (m *Member) DigestOf(other *Member) string {
	d, err := m.Node.DigestOf(context.Background(), other.Node.Scopes())
	if err != nil {
		m.c.t.Fatal(err)
	}
	return fmt.Sprintf("%x", d)
}

// Links is a network whose links between named nodes can be cut and
// healed: Filter gives a node's Config.Cut.
type Links struct {
	mu  sync.Mutex
	off map[[2]string]bool
}

// Cut cuts the link between a and b, both ways.
func (l *Links) Cut(a, b string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off == nil {
		l.off = map[[2]string]bool{}
	}
	l.off[[2]string{a, b}], l.off[[2]string{b, a}] = true, true
}

// Heal restores every link.
func (l *Links) Heal() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off = nil
}

// Filter is the Cut function of the node called self.
func (l *Links) Filter(self string) func(peer string) bool {
	return func(peer string) bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.off[[2]string{self, peer}]
	}
}
