package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// L1: the ledger. HQ bootstraps it, two relays join as voters; all three
// are real nodes in this process (SQLite on disk, mutual TLS and Raft over
// loopback), run by the nodetest harness with a deployment's Raft timers.
//
// P1: a partition between two groups of five gossiping nodes heals; how
// long until all five hold the same records.
func init() {
	register(workload{name: "L1-ledger", rows: ledgerWorkloads})
	register(workload{name: "P1-partition", rows: partitionWorkload})
}

// benchTB is what the nodetest harness needs, outside a test: folders under
// the workload's own, a Fatal that stops the workload with its message, and
// cleanups run when the workload ends.
type benchTB struct {
	dir      string
	mu       sync.Mutex
	dirs     int
	cleanups []func()
	errs     []string
}

// fatal is what benchTB.Fatal panics with; harness turns it into an error.
type fatal struct{ msg string }

func (f fatal) Error() string { return f.msg }

func (b *benchTB) Helper()                   {}
func (b *benchTB) Fatal(args ...any)         { panic(fatal{fmt.Sprint(args...)}) }
func (b *benchTB) Fatalf(f string, a ...any) { panic(fatal{fmt.Sprintf(f, a...)}) }

func (b *benchTB) Errorf(f string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, fmt.Sprintf(f, a...))
}

func (b *benchTB) Cleanup(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleanups = append(b.cleanups, f)
}

func (b *benchTB) TempDir() string {
	b.mu.Lock()
	b.dirs++
	dir := filepath.Join(b.dir, fmt.Sprintf("t%03d", b.dirs))
	b.mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	return dir
}

// harness runs fn with a benchTB. A Fatal ends fn with its message as the
// error; the cleanups run afterwards, last registered first, whatever
// happened.
func harness(dir string, fn func(tb *benchTB) ([]namedResult, error)) (rows []namedResult, err error) {
	tb := &benchTB{dir: dir}
	defer func() {
		p := recover()
		for i := len(tb.cleanups) - 1; i >= 0; i-- {
			tb.cleanups[i]()
		}
		if p != nil {
			f, ok := p.(fatal)
			if !ok {
				panic(p)
			}
			err = f
		}
		if err == nil && len(tb.errs) > 0 {
			err = errors.New(strings.Join(tb.errs, "; "))
		}
	}()
	return fn(tb)
}

// deployed gives a node the timers of a deployment on one LAN, in place
// of the harness's test timers: Raft, the watch and sync intervals are
// node.DefaultConfig's; gossip uses the "lan" profile (memberlist's LAN
// defaults).
func deployed(cfg *node.Config) {
	def := node.DefaultConfig()
	cfg.Raft = def.Raft
	cfg.Watch = def.Watch
	cfg.SyncIdle = def.SyncIdle
	cfg.SyncEvery = def.SyncEvery
	cfg.GossipTimers = nil
	cfg.GossipProfile = "lan"
}

// ledgerCluster starts HQ, which bootstraps the ledger, and two relays
// that it adds as voters.
func ledgerCluster(tb *benchTB) (*nodetest.Cluster, *nodetest.Member, []*nodetest.Member) {
	c := nodetest.New(tb)
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) {
		deployed(cfg)
		cfg.Bootstrap = true
	})
	nodetest.Eventually(tb, 30*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	var relays []*nodetest.Member
	for _, name := range []string{"relay-1", "relay-2"} {
		r := c.Add(name, syncproto.RoleRelay, "Toledo", func(cfg *node.Config) { deployed(cfg) })
		c.AddToLedger(r, true)
		relays = append(relays, r)
	}
	return c, hq, relays
}

func ledgerWorkloads(ctx context.Context, e *env) ([]namedResult, error) {
	var rows []namedResult
	for _, origins := range []int{1, 200} {
		r, err := harness(filepath.Join(e.tmp, fmt.Sprint(origins)), func(tb *benchTB) ([]namedResult, error) {
			return ledgerCommits(ctx, e, tb, origins)
		})
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("ledger, %d origins: %w", origins, err)
		}
	}
	return rows, nil
}

// ledgerCommits puts the 50,000 records into relay-1 and times how long
// the ledger takes to commit them on all three voters. With one origin,
// relay-1 imports them itself (one stream). With many, as many field nodes
// each import their share and hand it over in a bundle; a collecting node
// gathers the bundles into one, which relay-1 imports: one transaction
// holding every origin's stream.
func ledgerCommits(ctx context.Context, e *env, tb *benchTB, origins int) ([]namedResult, error) {
	c, hq, relays := ledgerCluster(tb)
	voters := []*nodetest.Member{hq, relays[0], relays[1]}
	relay := relays[0]
	var bundle string
	if origins > 1 {
		var err error
		if bundle, err = fieldBundle(ctx, e, tb, c.CA, origins); err != nil {
			return nil, err
		}
	}
	before := hq.Daemon.Ledger().Status().Height
	var stored time.Time
	if origins == 1 {
		f, err := os.Open(e.damage)
		if err != nil {
			return nil, err
		}
		res, err := relay.Node.Import(ctx, "damage-assessment", f, "bench", nil)
		stored = time.Now()
		f.Close()
		if err == nil && res.Added != 50000 {
			err = fmt.Errorf("imported %d of 50000", res.Added)
		}
		if err != nil {
			return nil, err
		}
	} else {
		res, err := relay.Node.ImportBundle(ctx, bundle)
		stored = time.Now()
		if err == nil && res.Applied != 50000 {
			err = fmt.Errorf("the bundle applied %d of 50000 changes", res.Applied)
		}
		if err != nil {
			return nil, err
		}
	}
	want, err := relay.Node.Vector(ctx)
	if err != nil {
		return nil, err
	}
	// An origin writes a stream per scope its records fall in (the
	// workload's records are of six districts).
	from := map[syncproto.NodeID]bool{}
	for st := range want {
		from[st.Origin] = true
	}
	if len(from) != origins {
		return nil, fmt.Errorf("relay-1 holds the streams of %d origins, want %d", len(from), origins)
	}
	if p := os.Getenv("BENCH_CPUPROFILE2"); p != "" {
		f, _ := os.Create(fmt.Sprintf("%s.%d", p, origins))
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// Poll every voter's ledger state (one small read) until it covers
	// what relay-1 stored.
	done := map[string]time.Duration{}
	deadline := stored.Add(5 * time.Minute)
	for len(done) < len(voters) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the ledger did not commit the 50,000 changes on every voter within 5 minutes (%d did)", len(done))
		}
		for _, m := range voters {
			if _, ok := done[m.Name]; ok {
				continue
			}
			if st, err := m.Node.LedgerState(ctx); err == nil && st.Committed.Covers(want) {
				done[m.Name] = time.Since(stored)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := slices.Max(mapValues(done))
	first := slices.Min(mapValues(done))
	entries := hq.Daemon.Ledger().Status().Height - before
	pprof.StopCPUProfile()
	if err := sameCaseNumbers(ctx, e, voters); err != nil {
		return nil, err
	}
	what := "ledger: 50,000 changes of 1 origin (relay-1's import), stored → committed and numbered on 3 voters"
	name := "L1-ledger-1"
	if origins > 1 {
		name = fmt.Sprintf("L1-ledger-%d", origins)
		what = fmt.Sprintf("ledger: 50,000 changes of %d field origins (one bundle into relay-1), stored → committed and numbered on 3 voters", origins)
	}
	perEntry := "-"
	if entries > 0 {
		perEntry = fmt.Sprintf("%.0f", 50000/float64(entries))
	}
	return []namedResult{{name: name, what: what, result: result{Records: 50000, Elapsed: elapsed,
		Extra: fmt.Sprintf("; first voter at %.2fs; %d Raft entries (%s changes each)", first.Seconds(), entries, perEntry)}}}, nil
}

func mapValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// sameCaseNumbers checks that every one of the 50,000 records has a case
// number on every voter, the same everywhere, and no two records share
// one.
func sameCaseNumbers(ctx context.Context, e *env, voters []*nodetest.Member) error {
	lines, err := readLines(e.damage, 1, 50000)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(lines))
	for i, line := range lines {
		var rec struct{ ID string }
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		id, err := syncproto.ParseRecordID(rec.ID)
		if err != nil {
			return err
		}
		want := ""
		for _, m := range voters {
			got, err := m.Node.CaseNumber(ctx, id)
			if err != nil {
				return err
			}
			if got == "" || (want != "" && got != want) {
				return fmt.Errorf("line %d: %s numbers record %s %q, another voter %q", i+1, m.Name, id, got, want)
			}
			want = got
		}
		if seen[want] {
			return fmt.Errorf("case number %s given twice", want)
		}
		seen[want] = true
	}
	return nil
}

// fieldBundle makes n field nodes, each importing its share of the 50,000
// records, and gathers their changes into one bundle through a collecting
// node; it returns the bundle's path.
func fieldBundle(ctx context.Context, e *env, tb *benchTB, ca *identity.CA, n int) (string, error) {
	lines, err := readLines(e.damage, 1, 50000)
	if err != nil {
		return "", err
	}
	dir := tb.TempDir()
	per := len(lines) / n
	// The collector keeps every record, as headquarters does: a field
	// node keeps only its district's (docs/sync.md, Scopes).
	open := func(name string, role syncproto.Role) (*node.Node, error) {
		cfg := node.DefaultConfig()
		cfg.DataDir = filepath.Join(dir, name)
		if err := node.Init(ctx, cfg, node.Identity{Name: name, Role: role, District: "Cayo"}); err != nil {
			return nil, err
		}
		nd, err := node.Open(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if err := nd.EnrollWith(ctx, ca); err != nil {
			nd.Close()
			return nil, err
		}
		return nd, nil
	}
	collector, err := open("collector", syncproto.RoleHQ)
	if err != nil {
		return "", err
	}
	defer collector.Close()
	for i := range n {
		f, err := open(fmt.Sprintf("field-%03d", i), syncproto.RoleField)
		if err != nil {
			return "", err
		}
		chunk := lines[i*per : (i+1)*per]
		if i == n-1 {
			chunk = lines[i*per:]
		}
		res, err := f.Import(ctx, "damage-assessment", bytes.NewReader(append(bytes.Join(chunk, []byte("\n")), '\n')), "bench", nil)
		if err == nil && res.Added != len(chunk) {
			err = fmt.Errorf("field-%03d imported %d of %d", i, res.Added, len(chunk))
		}
		if err == nil {
			err = bundleInto(ctx, f, collector, filepath.Join(dir, fmt.Sprintf("field-%03d.bundle", i)))
		}
		f.Close()
		if err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "all.bundle")
	out, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer out.Close()
	if _, err := collector.ExportBundle(ctx, out, nil); err != nil {
		return "", err
	}
	return path, out.Close()
}

// bundleInto carries everything one node holds to another, in a bundle.
func bundleInto(ctx context.Context, from, to *node.Node, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := from.ExportBundle(ctx, f, nil); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = to.ImportBundle(ctx, path)
	os.Remove(path)
	return err
}

// partitionWorkload: HQ and two relays (the ledger's voters) and two field
// laptops gossip on loopback and sync by themselves. The links between
// {hq, relay-1, cayo-07} and {relay-2, cayo-09} are cut (TLS connections:
// sync and Raft), each laptop imports 1,000 records, each side converges on
// its own; then the links heal, and the time until all five hold the same
// records is measured.
func partitionWorkload(ctx context.Context, e *env) ([]namedResult, error) {
	return harness(e.tmp, func(tb *benchTB) ([]namedResult, error) {
		lines, err := readLines(e.damage, 1, 2000)
		if err != nil {
			return nil, err
		}
		net := &nodetest.Links{}
		c := nodetest.New(tb)
		add := func(name string, role syncproto.Role, district, join string, edit func(*node.Config)) *nodetest.Member {
			return c.Add(name, role, district, func(cfg *node.Config) {
				deployed(cfg)
				cfg.GossipAddr = "127.0.0.1:0"
				if join != "" {
					cfg.Join = []string{join}
				}
				cfg.Cut = net.Filter(name)
				if edit != nil {
					edit(cfg)
				}
			})
		}
		hq := add("hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
		nodetest.Eventually(tb, 30*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
		join := hq.Gossip
		r1 := add("relay-1", syncproto.RoleRelay, "Cayo", join, nil)
		r2 := add("relay-2", syncproto.RoleRelay, "Toledo", join, nil)
		f1 := add("cayo-07", syncproto.RoleField, "Cayo", join, func(cfg *node.Config) { cfg.SyncAddr = "" })
		// Both laptops of Cayo, and every record of Cayo (the relays vote,
		// so they keep every scope): each of the five keeps all 2,000.
		f2 := add("cayo-09", syncproto.RoleField, "Cayo", join, func(cfg *node.Config) { cfg.SyncAddr = "" })
		sideA, sideB := []*nodetest.Member{hq, r1, f1}, []*nodetest.Member{r2, f2}
		all := append(append([]*nodetest.Member(nil), sideA...), sideB...)
		for _, r := range []*nodetest.Member{r1, r2} {
			c.Decide(ledger.CmdEnroll, &ledger.Enroll{Cert: r.Node.Credentials().Cert.Raw, Voter: true})
		}
		nodetest.Eventually(tb, time.Minute, "three voters", func() bool {
			ms, err := hq.Daemon.Ledger().Servers()
			voters := 0
			for _, m := range ms {
				if m.Voter {
					voters++
				}
			}
			return err == nil && voters == 3
		})
		for _, a := range sideA {
			for _, b := range sideB {
				net.Cut(a.Name, b.Name)
			}
		}
		cutAt := time.Now()
		for i, f := range []*nodetest.Member{f1, f2} {
			chunk := cayoDistrict.ReplaceAll(bytes.Join(lines[i*1000:(i+1)*1000], []byte("\n")), []byte(`"district":"Cayo"`))
			res, err := f.Node.Import(ctx, "damage-assessment", bytes.NewReader(append(chunk, '\n')), "bench", nil)
			if err == nil && res.Added != 1000 {
				err = fmt.Errorf("%s imported %d of 1000", f.Name, res.Added)
			}
			if err != nil {
				return nil, err
			}
		}
		// Each side converges on its own first.
		nodetest.Eventually(tb, 3*time.Minute, "each side converges", func() bool {
			return sameVectors(ctx, sideA) && sameVectors(ctx, sideB) && !sameVectors(ctx, all)
		})
		net.Heal()
		healed := time.Now()
		cutFor := healed.Sub(cutAt)
		var equal time.Duration
		deadline := healed.Add(10 * time.Minute)
		for {
			if time.Now().After(deadline) {
				return nil, errors.New("the five nodes did not converge within 10 minutes of the heal")
			}
			if sameVectors(ctx, all) {
				equal = time.Since(healed)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		want := hq.Digest()
		for _, m := range all {
			if d := m.Digest(); d != want {
				return nil, fmt.Errorf("%s holds the same changes as hq but its digest differs", m.Name)
			}
			st, err := m.Node.Status(ctx)
			if err != nil {
				return nil, err
			}
			if st.Records["damage-assessment"] != 2000 {
				return nil, fmt.Errorf("%s holds %d records, want 2000", m.Name, st.Records["damage-assessment"])
			}
		}
		return []namedResult{{name: "P1-partition", what: "partition healed → equal digests on 5 nodes (hq, 2 relays, 2 laptops; 1,000 records written on each side)",
			result: result{Elapsed: equal, Extra: fmt.Sprintf("; cut for %.1fs; gossip lan profile, sync every 30 s, watch 0.5 s, Raft defaults", cutFor.Seconds())}}}, nil
	})
}

// cayoDistrict finds a record's district, to make it Cayo's.
var cayoDistrict = regexp.MustCompile(`"district":"[^"]*"`)

// sameVectors reports whether the members hold the same changes.
func sameVectors(ctx context.Context, ms []*nodetest.Member) bool {
	var first syncproto.Vector
	for i, m := range ms {
		v, err := m.Node.Vector(ctx)
		if err != nil {
			return false
		}
		if i == 0 {
			first = v
		} else if !v.Equal(first) {
			return false
		}
	}
	return true
}
