package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// S1: a national store. Field laptops enrolled under one CA, spread over
// the six districts, each write their share of records (the workload's
// damage assessments, with new ids and their own district, and one
// missing person, a national type, in ten) and walk it to headquarters in
// a bundle. HQ imports the bundles; at 50,000, 100,000 and 1,000,000
// records the workload measures HQ (disk, memory, report, a search), a
// Toledo relay's catch-up from HQ and a new Toledo laptop's first sync of
// its scope from that relay, on loopback and over a 512 kbit/s link.
func init() {
	register(workload{name: "S1-national", rows: nationalWorkload})
}

const (
	s1Origins   = 2000 // field laptops, 1,000,000 records in all
	s1PerOrigin = 500  // records each writes
	s1Missing   = 10   // one record in this many is a missing person
	// s1Thin is the thin link's rate each way, in bytes per second
	// (512 kbit/s), and s1Slice how long a first sync runs on it.
	s1Thin  = 512_000 / 8
	s1Slice = 30 * time.Second
)

// s1Steps are the sizes measured, in origins: 50,000, 100,000 and
// 1,000,000 records. At the first only the laptop's sync is, for the
// comparison of rates.
var s1Steps = []int{100, 200, s1Origins}

// originDistrict is the district of a field laptop, round the six.
func originDistrict(i int) string { return schemas.Districts[i%len(schemas.Districts)] }

// s1Source is one of the workload's damage assessments, and what a
// missing person made from it needs.
type s1Source struct {
	line []byte // the record's JSON, from just after its id
	mp   struct {
		Village       string   `json:"village"`
		Lat           float64  `json:"lat"`
		Lon           float64  `json:"lon"`
		HouseholdSize int      `json:"household_size"`
		Notes         string   `json:"notes"`
		ReportedBy    string   `json:"reported_by"`
		ReportedAt    string   `json:"reported_at"`
		Needs         []string `json:"needs"`
	}
}

type national struct {
	ctx     context.Context
	e       *env
	ca      *identity.CA
	src     []s1Source
	scratch string // where the laptops' stores live while they write
	bundles string
	hq      *node.Node
	hqCfg   node.Config
	relay   *node.Node
	rows    []namedResult
	built   int // origins whose records HQ holds
	laptops int
	// stored is what HQ should hold, counted as the records are written:
	// per type, and the Toledo laptop's share.
	stored map[string]int
	toledo int
	// laptopRate is the first sync's records/s and CPU µs a record at
	// the first size, for the comparison.
	laptopRate map[int][2]float64
	lanBytes   int64 // the last LAN first sync's bytes, both ways
	lanRecords int
}

func nationalWorkload(ctx context.Context, e *env) ([]namedResult, error) {
	s := &national{ctx: ctx, e: e, stored: map[string]int{}, laptopRate: map[int][2]float64{}}
	err := s.run()
	if s.hq != nil {
		s.hq.Close()
	}
	if s.relay != nil {
		s.relay.Close()
	}
	return s.rows, err
}

func (s *national) run() error {
	lines, err := readLines(s.e.damage, 1, 50000)
	if err != nil {
		return err
	}
	for i, line := range lines {
		const prefix = `{"id":"`
		if !bytes.HasPrefix(line, []byte(prefix)) || len(line) < len(prefix)+37 {
			return fmt.Errorf("line %d of %s does not start with its id", i+1, s.e.damage)
		}
		var src s1Source
		src.line = line[len(prefix)+37:]
		if err := json.Unmarshal(line, &src.mp); err != nil {
			return fmt.Errorf("line %d of %s: %w", i+1, s.e.damage, err)
		}
		s.src = append(s.src, src)
	}
	if s.ca, err = identity.NewCA("Lifeline benchmark CA"); err != nil {
		return err
	}
	// The laptops' own stores are scratch: what is measured is HQ's.
	// They live in memory when the machine has /dev/shm, so that their
	// two thousand creations and imports do not wait on the disk.
	scratchRoot := s.e.tmp
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		scratchRoot = "/dev/shm"
	}
	if s.scratch, err = os.MkdirTemp(scratchRoot, "lifeline-bench-s1-"); err != nil {
		return err
	}
	defer os.RemoveAll(s.scratch)
	s.bundles = filepath.Join(s.e.tmp, "bundles")
	if err := os.MkdirAll(s.bundles, 0o700); err != nil {
		return err
	}
	if s.hq, s.hqCfg, err = s.enrolled("hq", syncproto.RoleHQ, "Belize", filepath.Join(s.e.tmp, "hq")); err != nil {
		return err
	}
	if s.relay, _, err = s.enrolled("relay-toledo", syncproto.RoleRelay, "Toledo", filepath.Join(s.e.tmp, "relay")); err != nil {
		return err
	}
	for _, step := range s1Steps {
		if err := s.build(step); err != nil {
			return err
		}
		records := step * s1PerOrigin
		full := step != s1Steps[0]
		if full {
			if err := s.disk(records); err != nil {
				return err
			}
			if err := s.queries(records); err != nil {
				return err
			}
		}
		if err := s.firstSync(records, full); err != nil {
			return err
		}
	}
	return nil
}

// enrolled makes a node and enrolls it with the benchmark's CA.
func (s *national) enrolled(name string, role syncproto.Role, district, dir string) (*node.Node, node.Config, error) {
	cfg := node.DefaultConfig()
	cfg.DataDir = dir
	if err := node.Init(s.ctx, cfg, node.Identity{Name: name, Role: role, District: district}); err != nil {
		return nil, cfg, err
	}
	n, err := node.Open(s.ctx, cfg)
	if err != nil {
		return nil, cfg, err
	}
	if err := n.EnrollWith(s.ctx, s.ca); err != nil {
		n.Close()
		return nil, cfg, err
	}
	return n, cfg, nil
}

// size names a count of records as the rows do: 50k, 1000k.
func size(records int) string { return fmt.Sprintf("%dk", records/1000) }

// build has the laptops from s.built up to upTo write their records, each
// into a bundle, then HQ imports the bundles one after another.
func (s *national) build(upTo int) error {
	from := s.built
	genStart := time.Now()
	stop := profile("gen-" + size(upTo*s1PerOrigin))
	paths := make([]string, upTo-from)
	var next atomic.Int64
	next.Store(int64(from))
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= upTo {
					return
				}
				p, err := s.laptopBundle(i)
				if err != nil {
					errs <- fmt.Errorf("field laptop %d: %w", i, err)
					next.Store(int64(upTo))
					return
				}
				paths[i-from] = p
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	generated := time.Since(genStart)
	stop()
	for i := from; i < upTo; i++ {
		district := originDistrict(i)
		for k := range s1PerOrigin {
			if k%s1Missing == s1Missing-1 {
				s.stored["missing-person"]++
				s.toledo++
			} else {
				s.stored["damage-assessment"]++
				if district == "Toledo" {
					s.toledo++
				}
			}
		}
	}

	debug.FreeOSMemory()
	resetPeak()
	base := procStatus(os.Getpid(), "VmRSS:")
	stop = profile("build-" + size(upTo*s1PerOrigin))
	start, cpu := time.Now(), cpuTime()
	for _, p := range paths {
		res, err := s.hq.ImportBundle(s.ctx, p)
		if err != nil {
			return fmt.Errorf("HQ imports %s: %w", filepath.Base(p), err)
		}
		if res.Applied != s1PerOrigin || res.Quarantined != 0 || res.OutOfScope != 0 {
			return fmt.Errorf("HQ imports %s: %d changes applied, %d kept aside, %d out of scope; want %d applied", filepath.Base(p), res.Applied, res.Quarantined, res.OutOfScope, s1PerOrigin)
		}
		os.Remove(p)
	}
	elapsed, cpuUsed := time.Since(start), cpuTime()-cpu
	stop()
	s.built = upTo
	if err := s.checkCounts(); err != nil {
		return err
	}
	if upTo == s1Steps[0] {
		return nil
	}
	records := (upTo - from) * s1PerOrigin
	s.rows = append(s.rows, namedResult{name: "S1-build-" + size(upTo*s1PerOrigin),
		what: fmt.Sprintf("HQ imports %d laptops' bundles (%d records, %d to %d in the store)", upTo-from, records, from*s1PerOrigin, upTo*s1PerOrigin),
		result: result{Records: records, Elapsed: elapsed, RSSKiB: peakRSS(),
			Extra: fmt.Sprintf("; CPU %.0f µs a record; peak RSS is the process's high-water during the imports (%.0f MiB when they began); the laptops wrote the bundles beforehand in %.1fs",
				perRecord(cpuUsed, records), float64(base)/1024, generated.Seconds())}})
	return nil
}

// laptopBundle makes field laptop i, has it write its records (two
// imports: its damage assessments, its missing persons) and export a
// bundle of them, and returns the bundle's path.
func (s *national) laptopBundle(i int) (string, error) {
	name := fmt.Sprintf("field-%04d", i)
	district := originDistrict(i)
	dir := filepath.Join(s.scratch, name)
	defer os.RemoveAll(dir)
	n, _, err := s.enrolled(name, syncproto.RoleField, district, dir)
	if err != nil {
		return "", err
	}
	defer n.Close()
	var damage, missing bytes.Buffer
	for k := range s1PerOrigin {
		src := &s.src[(i*s1PerOrigin+k)%len(s.src)]
		id := syncproto.NewRecordID()
		if k%s1Missing == s1Missing-1 {
			writeMissing(&missing, id, district, i, k, src)
			continue
		}
		fmt.Fprintf(&damage, `{"id":"%s"%s`, id, cayoDistrict.ReplaceAll(src.line, []byte(`"district":"`+district+`"`)))
		damage.WriteByte('\n')
	}
	for _, imp := range []struct {
		typ string
		buf *bytes.Buffer
	}{{"damage-assessment", &damage}, {"missing-person", &missing}} {
		if _, err := n.Import(s.ctx, imp.typ, imp.buf, "bench", nil); err != nil {
			return "", fmt.Errorf("%s import: %w", imp.typ, err)
		}
	}
	path := filepath.Join(s.bundles, name+".bundle")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	res, err := n.ExportBundle(s.ctx, f, nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && res.Changes != s1PerOrigin {
		err = fmt.Errorf("its bundle holds %d changes, want %d", res.Changes, s1PerOrigin)
	}
	return path, err
}

// writeMissing writes a missing person made from a damage assessment: the
// same place, reporter and time, a description from its notes.
func writeMissing(w *bytes.Buffer, id syncproto.RecordID, district string, origin, k int, src *s1Source) {
	m := src.mp
	status := []string{"missing", "missing", "missing", "found-safe", "found-injured", "reunited"}[(origin+k)%6]
	desc := m.Notes
	if len(desc) > 300 {
		desc = desc[:300]
	}
	rec := map[string]any{
		"id": id.String(), "kit": "missing-persons", "full_name": fmt.Sprintf("Person %d-%d", origin, k),
		"sex": []string{"female", "male", "unknown"}[k%3], "age": (m.HouseholdSize*7 + k) % 90, "description": desc,
		"district": district, "last_seen_place": "near " + m.Village, "last_seen_village": m.Village,
		"last_seen_location": map[string]float64{"lat": m.Lat, "lon": m.Lon}, "last_seen_at": m.ReportedAt,
		"status": status, "reporter_name": m.ReportedBy, "reporter_relationship": "neighbour", "reported_at": m.ReportedAt,
	}
	b, _ := json.Marshal(rec)
	w.Write(b)
	w.WriteByte('\n')
}

// checkCounts checks that HQ holds every record written, of each type.
func (s *national) checkCounts() error {
	st, err := s.hq.Status(s.ctx)
	if err != nil {
		return err
	}
	for typ, want := range s.stored {
		if got := st.Records[typ]; got != want {
			return fmt.Errorf("HQ holds %d records of %s, want %d", got, typ, want)
		}
	}
	if st.Quarantined != 0 || st.Held != 0 {
		return fmt.Errorf("HQ keeps %d changes aside and holds %d for its clock", st.Quarantined, st.Held)
	}
	return nil
}

// disk closes HQ's node, which copies its write-ahead log into the
// database, and measures the files; then opens it again.
func (s *national) disk(records int) error {
	if err := s.hq.Close(); err != nil {
		return err
	}
	s.hq = nil
	var total int64
	var files []string
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(filepath.Join(s.hqCfg.DataDir, store.FileName+suffix)); err == nil {
			total += fi.Size()
			files = append(files, fmt.Sprintf("%s %.1f MB", store.FileName+suffix, float64(fi.Size())/1e6))
		}
	}
	var jsonBytes int64
	for i := range s.built * s1PerOrigin {
		jsonBytes += int64(len(s.src[i%len(s.src)].line)) + 44
	}
	start := time.Now()
	n, err := node.Open(s.ctx, s.hqCfg)
	if err != nil {
		return err
	}
	s.hq = n
	s.rows = append(s.rows, namedResult{name: "S1-disk-" + size(records),
		what: fmt.Sprintf("HQ's store on disk per record (%d records), after closing", records),
		result: result{Elapsed: time.Since(start), RSSKiB: peakRSS(),
			Extra: fmt.Sprintf(": %.0f bytes a record (%s; the damage assessments' JSON is %.0f bytes a record); the time is opening it again",
				float64(total)/float64(records), strings.Join(files, ", "), float64(jsonBytes)/float64(records))}})
	return nil
}

// queries times what HQ reads most: its report, its digests, and a
// search as the desktop app makes one.
func (s *national) queries(records int) error {
	ctx := s.ctx
	debug.FreeOSMemory()
	resetPeak()
	toledo := []uint8{syncproto.National, schemas.DistrictScope("Toledo")}
	var report, digest, scoped []time.Duration
	for range 5 {
		t := time.Now()
		rep, err := s.hq.Report(ctx)
		if err != nil {
			return err
		}
		report = append(report, time.Since(t))
		if got, want := rep.Total.Records["damage-assessment"], s.stored["damage-assessment"]; got != want {
			return fmt.Errorf("HQ's report counts %d damage assessments, want %d", got, want)
		}
		t = time.Now()
		if _, err := s.hq.Digest(ctx); err != nil {
			return err
		}
		digest = append(digest, time.Since(t))
		t = time.Now()
		if _, err := s.hq.DigestOf(ctx, toledo); err != nil {
			return err
		}
		scoped = append(scoped, time.Since(t))
	}
	// The first page of a list, newest first, as `lifeline record list
	// --limit 50` and the app show it.
	var page []time.Duration
	for range 5 {
		t := time.Now()
		got := 0
		for _, err := range s.hq.Records(ctx, node.Query{Type: "damage-assessment", Newest: true, Limit: 50}) {
			if err != nil {
				return err
			}
			got++
		}
		page = append(page, time.Since(t))
		if got != 50 {
			return fmt.Errorf("the first page lists %d records", got)
		}
	}
	// A search as the desktop app makes one (desktop/records.go): every
	// record of the kit, newest first, then those of a district whose
	// text holds the words searched.
	t := time.Now()
	walked, matched := 0, 0
	for rv, err := range s.hq.Records(ctx, node.Query{Type: "missing-person", Newest: true}) {
		if err != nil {
			return err
		}
		walked++
		var text []string
		text = append(text, s.hq.Summary(rv), rv.ID, rv.Case)
		for _, name := range rv.Order {
			text = append(text, rv.Texts[name])
		}
		if rv.Fields["district"] == "Toledo" && strings.Contains(strings.ToLower(strings.Join(text, "\n")), "vol-1") {
			matched++
		}
	}
	search := time.Since(t)
	if walked != s.stored["missing-person"] {
		return fmt.Errorf("the search walked %d missing persons, want %d", walked, s.stored["missing-person"])
	}
	rss := peakRSS()
	sz := size(records)
	ms := func(d []time.Duration) string { return fmt.Sprintf("%.2f ms", median(d).Seconds()*1000) }
	s.rows = append(s.rows,
		namedResult{name: "S1-report-" + sz, what: fmt.Sprintf("HQ's report of %d records: ", records),
			result: result{Elapsed: median(report), RSSKiB: rss, Extra: ms(report) + ", median of 5"}},
		namedResult{name: "S1-digest-" + sz, what: fmt.Sprintf("HQ's digest of %d records: ", records),
			result: result{Elapsed: median(digest), RSSKiB: rss,
				Extra: fmt.Sprintf("%s, median of 5; of national and Toledo (--scope national,Toledo) %s", ms(digest), ms(scoped))}},
		namedResult{name: "S1-list-" + sz, what: "HQ lists the 50 newest damage assessments (record list --limit 50): ",
			result: result{Elapsed: median(page), RSSKiB: rss, Extra: ms(page) + ", median of 5"}},
		namedResult{name: "S1-search-" + sz, what: fmt.Sprintf("HQ searches the %d missing persons as the app does (Toledo, \"vol-1\")", walked),
			result: result{Records: walked, Elapsed: search, RSSKiB: rss, Extra: fmt.Sprintf("; %d found", matched)}})
	return nil
}

// firstSync brings the Toledo relay up to date from HQ, then has a new
// Toledo laptop take its scope from the relay: on loopback, and, at the
// largest size, over a 512 kbit/s link.
func (s *national) firstSync(records int, full bool) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	hqAddr, err := serve(ctx, s.hq)
	if err != nil {
		return err
	}
	sz := size(records)
	debug.FreeOSMemory()
	resetPeak()
	stop := profile("relay-" + sz)
	t, cpu := time.Now(), cpuTime()
	res, err := s.relay.Sync(ctx, hqAddr)
	elapsed, cpuUsed := time.Since(t), cpuTime()-cpu
	stop()
	if err != nil {
		return fmt.Errorf("the Toledo relay's sync from HQ: %w", err)
	}
	if full {
		s.rows = append(s.rows, namedResult{name: "S1-relay-" + sz, what: "the Toledo relay catches up from HQ (national and Toledo)",
			result: result{Records: res.Received, Elapsed: elapsed, RSSKiB: peakRSS(),
				Extra: fmt.Sprintf("; %.1f MB on the wire; CPU %.0f µs a record (HQ and the relay, both in this process)", float64(res.BytesIn+res.BytesOut)/1e6, perRecord(cpuUsed, res.Received))}})
	}
	relayAddr, err := serve(ctx, s.relay)
	if err != nil {
		return err
	}

	laptop, dir, err := s.newLaptop()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	defer laptop.Close()
	debug.FreeOSMemory()
	resetPeak()
	stop = profile("laptop-" + sz)
	t, cpu = time.Now(), cpuTime()
	res, err = laptop.Sync(ctx, relayAddr)
	elapsed, cpuUsed = time.Since(t), cpuTime()-cpu
	stop()
	if err != nil {
		return fmt.Errorf("the Toledo laptop's first sync: %w", err)
	}
	rss := peakRSS()
	if res.Received != s.toledo {
		return fmt.Errorf("the Toledo laptop received %d changes, want %d (Toledo's and the national records)", res.Received, s.toledo)
	}
	if err := s.sameScope(laptop); err != nil {
		return err
	}
	rate, perRec := float64(res.Received)/elapsed.Seconds(), perRecord(cpuUsed, res.Received)
	s.lanBytes, s.lanRecords = res.BytesIn+res.BytesOut, res.Received
	extra := fmt.Sprintf("; %.1f MB on the wire; CPU %.0f µs a record (the laptop and the relay, both in this process)", float64(s.lanBytes)/1e6, perRec)
	if first, ok := s.laptopRate[s1Steps[0]*s1PerOrigin]; ok {
		extra += fmt.Sprintf("; against %s: %.0f%% of the rate, %.0f%% of the CPU a record", size(s1Steps[0]*s1PerOrigin), 100*rate/first[0], 100*perRec/first[1])
	} else {
		s.laptopRate[records] = [2]float64{rate, perRec}
	}
	s.rows = append(s.rows, namedResult{name: "S1-laptop-" + sz, what: fmt.Sprintf("a new Toledo laptop's first sync from the Toledo relay (national store of %d)", records),
		result: result{Records: res.Received, Elapsed: elapsed, RSSKiB: rss, Extra: extra}})
	if records == s1Steps[len(s1Steps)-1]*s1PerOrigin {
		return s.thinSync(ctx, relayAddr, sz)
	}
	return nil
}

func (s *national) newLaptop() (*node.Node, string, error) {
	s.laptops++
	dir := filepath.Join(s.e.tmp, fmt.Sprintf("laptop-%d", s.laptops))
	n, _, err := s.enrolled(fmt.Sprintf("toledo-laptop-%d", s.laptops), syncproto.RoleField, "Toledo", dir)
	return n, dir, err
}

// sameScope checks that a laptop, the relay and HQ hold the same records
// of the laptop's scopes.
func (s *national) sameScope(laptop *node.Node) error {
	scopes := laptop.Scopes()
	want := slices.Sorted(slices.Values([]uint8{syncproto.National, schemas.DistrictScope("Toledo")}))
	if got := slices.Sorted(slices.Values(scopes)); !slices.Equal(got, want) {
		return fmt.Errorf("the Toledo laptop keeps scopes %v, want %v", got, want)
	}
	var digests []syncproto.Hash
	for _, n := range []*node.Node{laptop, s.relay, s.hq} {
		d, err := n.DigestOf(s.ctx, scopes)
		if err != nil {
			return err
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] || digests[1] != digests[2] {
		return errors.New("the Toledo laptop, the relay and HQ differ on national and Toledo's records")
	}
	return nil
}

// thinSync runs a new laptop's first sync over a 512 kbit/s link for
// s1Slice, and projects the whole sync's time from the bytes the
// loopback sync took.
func (s *national) thinSync(ctx context.Context, relayAddr, sz string) error {
	laptop, dir, err := s.newLaptop()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	defer laptop.Close()
	link, err := newThinLink(ctx, relayAddr, s1Thin)
	if err != nil {
		return err
	}
	defer link.Close()
	sliceCtx, cancel := context.WithTimeout(ctx, s1Slice)
	defer cancel()
	t := time.Now()
	_, err = laptop.Sync(sliceCtx, link.Addr())
	elapsed := time.Since(t)
	if err == nil {
		return errors.New("the first sync over 512 kbit/s ended within its slice: make the slice shorter")
	}
	if sliceCtx.Err() == nil {
		return fmt.Errorf("the first sync over 512 kbit/s: %w", err)
	}
	st, err := laptop.Status(ctx)
	if err != nil {
		return err
	}
	got := 0
	for _, c := range st.Records {
		got += c
	}
	moved := link.Bytes()
	rate := float64(moved) / elapsed.Seconds()
	projected := time.Duration(float64(s.lanBytes) / rate * float64(time.Second))
	s.rows = append(s.rows, namedResult{name: "S1-thin-" + sz, what: fmt.Sprintf("the same first sync over a %d kbit/s link, cut after %v", s1Thin*8/1000, s1Slice),
		result: result{Records: got, Elapsed: elapsed, RSSKiB: peakRSS(),
			Extra: fmt.Sprintf("; %.2f MB moved (%.0f kbit/s), %d missing persons first; the whole sync (%.1f MB, %d records) projected at %.0f min",
				float64(moved)/1e6, rate*8/1000, st.Records["missing-person"], float64(s.lanBytes)/1e6, s.lanRecords, projected.Minutes())}})
	return nil
}

// serve serves a node's sync on a loopback port until ctx ends.
func serve(ctx context.Context, n *node.Node) (string, error) {
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- n.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a.String() }, nil)
	}()
	select {
	case a := <-addr:
		return a, nil
	case err := <-done:
		return "", fmt.Errorf("serve: %w", err)
	case <-time.After(30 * time.Second):
		return "", errors.New("serve: not serving within 30s")
	}
}

// profile writes a CPU profile of a phase to $BENCH_PROFILE.<phase>
// when that is set, until the function it returns is called.
func profile(phase string) func() {
	prefix := os.Getenv("BENCH_PROFILE")
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "." + phase)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// cpuTime is the CPU time this process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func perRecord(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(max(n, 1)) }

// resetPeak starts this process's peak resident memory (VmHWM) again from
// what it holds now, so that a later peakRSS is that of what came since.
func resetPeak() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// thinLink is a loopback proxy to an address whose every byte, each way,
// is paced to a rate: a thin link, in this process.
type thinLink struct {
	ln    net.Listener
	to    string
	rate  float64 // bytes per second, each way
	moved atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newThinLink(ctx context.Context, to string, rate float64) (*thinLink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &thinLink{ln: ln, to: to, rate: rate}
	l.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := (&net.Dialer{}).DialContext(ctx, "tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			l.mu.Lock()
			l.conns = append(l.conns, c, up)
			l.mu.Unlock()
			l.wg.Go(func() { l.pace(up, c); up.Close(); c.Close() })
			l.wg.Go(func() { l.pace(c, up); up.Close(); c.Close() })
		}
	})
	return l, nil
}

func (l *thinLink) Addr() string { return l.ln.Addr().String() }
func (l *thinLink) Bytes() int64 { return l.moved.Load() }

// pace copies from src to dst, no faster than the link's rate: each chunk
// waits until the link has carried the ones before it.
func (l *thinLink) pace(dst io.Writer, src io.Reader) {
	buf := make([]byte, 1460)
	next := time.Now()
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			} else {
				next = time.Now()
			}
			next = next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			l.moved.Add(int64(n))
		}
		if err != nil {
			return
		}
	}
}

func (l *thinLink) Close() {
	l.ln.Close()
	l.mu.Lock()
	for _, c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}
