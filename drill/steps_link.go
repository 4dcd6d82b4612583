package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"lifeline/drill/netlab"
	"lifeline/syncproto"
)

// burstRecords is the thin-link step's bulk of damage assessments: more
// than one sync batch (a node sends about 1000 changes a batch), so that
// the lanes' order shows between batches, not only inside one; and
// lifeSafetyRecords the missing persons saved right after it.
const (
	burstRecords      = 1500
	lifeSafetyRecords = 5
)

// thinShape is the thin link: 64 kbit/s each way.
var thinShape = netlab.Shape{Rate: "64kbit", Burst: "16kbit", Latency: "600ms"}

// thinLink: a Toledo laptop's link becomes thin (64 kbit/s, 10 % of the
// packets lost), and it may sync only with its district's relay, while it
// saves a burst of damage assessments and then a few missing persons; the
// missing persons, lane 1, must reach HQ through the relay before any of
// the bulk, lane 3, saved before them.
func (d *Drill) thinLink(ctx context.Context, s *StepReport) error {
	n, relay := d.node("tol-1"), d.node("relay-toledo")
	dir := filepath.Join(d.cfg.Dir, "thin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := d.lab.Thin(n.Name, thinShape, 10); err != nil {
		d.lab.Unthin(n.Name)
		return err
	}
	s.Injected = append(s.Injected, fmt.Sprintf("%s's link thinned to 64 kbit/s each way, 10%% of its packets dropped at random", n.Name))
	if err := d.lab.Restrict(n.Name, syncPort, relay.IP); err != nil {
		d.lab.Unrestrict(n.Name)
		d.lab.Unthin(n.Name)
		return err
	}
	s.Injected = append(s.Injected, fmt.Sprintf("%s's sync connections refused but to %s: what it saves reaches HQ through its relay", n.Name, relay.Name))
	err := d.thinBurst(ctx, s, n, dir)
	d.lab.Unrestrict(n.Name)
	d.lab.Unthin(n.Name)
	s.Injected = append(s.Injected, "the link restored")
	return err
}

// sessionWith matches a node's log line of a sync session with the
// laptop called by the name it is followed by.
const sessionWith = `msg=(?:synced|"sync failed") peer="`

func (d *Drill) thinBurst(ctx context.Context, s *StepReport, n *Node, dir string) error {
	// A session in flight would carry the bulk the moment it is saved,
	// before the missing persons exist: the laptop's node is stopped while
	// both are saved, so that its next session finds them both waiting and
	// its order is the lanes', not the order of saving.
	n.signal(syscall.SIGTERM)
	damage := make([]string, burstRecords)
	for i := range damage {
		damage[i] = fmt.Sprintf(damageJSON, n.District, 9000+i, i%5, 1+i%7, "thin link burst")
	}
	damageIDs, err := d.importRecords(ctx, n, filepath.Join(dir, "damage.jsonl"), "damage-assessment", damage)
	if err != nil {
		d.restart(n)
		return err
	}
	missing := make([]string, lifeSafetyRecords)
	for i := range missing {
		missing[i] = fmt.Sprintf(missingJSON, 9000+i, n.District)
	}
	missingIDs, err := d.importRecords(ctx, n, filepath.Join(dir, "missing.jsonl"), "missing-person", missing)
	if err != nil {
		d.restart(n)
		return err
	}
	hqLog := logSize(d.hq)
	if err := d.restart(n); err != nil {
		return err
	}
	restarted := time.Now()
	s.Injected = append(s.Injected, fmt.Sprintf("%s's node stopped (SIGTERM) while it saved %d damage assessments (lane 3, record import) and then %d missing persons (lane 1), restarted on the thin link with both waiting",
		n.Name, len(damageIDs), len(missingIDs)))

	// HQ lists its records in the order it first stored them (by the
	// store's row id, which grows with each record stored), and a listing
	// is what HQ held after one of its transactions, or more: records are
	// never removed. A listing that holds every missing person and none
	// of the assessments shows a moment when HQ held them without the
	// bulk; and a listing's order says how many assessments HQ stored
	// before the last missing person, whatever the listings missed.
	var missingAt, damageAt time.Duration
	damageWithMissing, missingWithDamage := -1, 0
	m, dm := 0, 0
	var order []string
	deadline := restarted.Add(3 * time.Minute)
	for missingAt == 0 || damageAt == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within 3m over the thin link: %d/%d missing persons and %d/%d damage assessments at HQ",
				m, len(missingIDs), dm, len(damageIDs))
		}
		began := time.Since(restarted)
		listed, err := d.hq.ordered(ctx)
		if err == nil {
			order = listed
			at := make(map[string]bool, len(listed))
			for _, id := range listed {
				at[id] = true
			}
			m, dm = countIn(at, missingIDs), countIn(at, damageIDs)
			if missingAt == 0 && m == len(missingIDs) {
				missingAt, damageWithMissing = began, dm
			}
			if damageAt == 0 && dm == len(damageIDs) {
				damageAt, missingWithDamage = began, m
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	ahead := storedBefore(order, missingIDs, damageIDs)
	s.Observed = append(s.Observed,
		fmt.Sprintf("HQ's records in the order HQ stored them: %d of the %d damage assessments before the last of the %d missing persons, %d after it",
			ahead, len(damageIDs), len(missingIDs), len(damageIDs)-ahead),
		fmt.Sprintf("HQ's first listing that held all %d missing persons began %.1fs after the restart and held %d of the %d damage assessments", len(missingIDs), missingAt.Seconds(), damageWithMissing, len(damageIDs)),
		fmt.Sprintf("all %d damage assessments at HQ %.1fs after the restart, when %d of the %d missing persons were", len(damageIDs), damageAt.Seconds(), missingWithDamage, len(missingIDs)))
	direct := len(regexp.MustCompile(sessionWith+regexp.QuoteMeta(n.Name)+` \(`).FindAllString(logSince(d.hq, hqLog), -1))
	s.Observed = append(s.Observed, fmt.Sprintf("HQ logged %d sessions with %s meanwhile", direct, n.Name))
	switch {
	case direct > 0:
		return fmt.Errorf("%s synced with HQ directly (%d sessions in HQ's log): the step checks the way through its relay", n.Name, direct)
	case ahead > 0:
		return fmt.Errorf("HQ stored %d of the %d damage assessments before the last of the missing persons saved after them", ahead, len(damageIDs))
	case damageWithMissing > 0:
		return fmt.Errorf("no listing of HQ held the %d missing persons without the damage assessments saved before them: the first that held them all held %d of those",
			len(missingIDs), damageWithMissing)
	}
	return nil
}

// storedBefore is, in a node's records in the order it stored them, how
// many of bulk come before the last of first.
func storedBefore(order, first, bulk []string) int {
	at := make(map[string]int, len(order))
	for i, id := range order {
		at[id] = i
	}
	last := -1
	for _, id := range first {
		if i, ok := at[id]; ok && i > last {
			last = i
		}
	}
	ahead := 0
	for _, id := range bulk {
		if i, ok := at[id]; ok && i < last {
			ahead++
		}
	}
	return ahead
}

// importRecords saves bodies (JSON objects) of type typ on a laptop in one
// `lifeline record import` of a file, each given an id so that the drill
// knows them, and counts them as acknowledged once the tool says they are
// saved.
func (d *Drill) importRecords(ctx context.Context, n *Node, file, typ string, bodies []string) ([]string, error) {
	ids := make([]string, len(bodies))
	var b strings.Builder
	for i, body := range bodies {
		ids[i] = syncproto.NewRecordID().String()
		fmt.Fprintf(&b, "{\"id\":%q,%s\n", ids[i], strings.TrimPrefix(body, "{"))
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	if _, err := n.lifeline(ctx, "", "record", "import", "--data", n.Dir, "--type", typ, "--author", "drill", file); err != nil {
		return nil, err
	}
	d.acknowledge(n, ids...)
	return ids, nil
}

// acknowledge counts records the tool said it saved on a laptop.
func (d *Drill) acknowledge(n *Node, ids ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acked[n.Name] = append(d.acked[n.Name], ids...)
}

func countIn(set map[string]bool, ids []string) int {
	c := 0
	for _, id := range ids {
		if set[id] {
			c++
		}
	}
	return c
}

// diskFull is how a node says a write found no room.
var diskFull = regexp.MustCompile(`(?i)no space left on device|disk is full`)

// fillDisk: the Toledo relay's disk fills up while the laptops record; it
// must refuse what it cannot store and keep running, and once space is
// freed, catch up with nothing lost.
func (d *Drill) fillDisk(ctx context.Context, s *StepReport) error {
	n, tol := d.node("relay-toledo"), d.node("tol-1")
	disk := filepath.Dir(n.Dir)
	filler := filepath.Join(disk, "filler")
	logFrom := logSize(n)
	written, err := fill(filler)
	if err != nil {
		os.Remove(filler)
		return err
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(disk, &fs); err != nil {
		os.Remove(filler)
		return err
	}
	free := fs.Bavail * uint64(fs.Bsize)
	s.Injected = append(s.Injected, fmt.Sprintf("%s's disk (a tmpfs of %s) filled by a %d MiB file until ENOSPC, %d bytes left, for %v while every laptop records",
		n.Name, d.diskSize, written>>20, free, d.spell()))
	if free >= 1<<20 {
		os.Remove(filler)
		return fmt.Errorf("%s's disk still has %d bytes free after filling it", n.Name, free)
	}

	d.mu.Lock()
	before := len(d.acked[tol.Name])
	d.mu.Unlock()
	full := time.Now()
	var died time.Duration
	for time.Since(full) < d.spell() {
		if died == 0 && !n.running() {
			died = time.Since(full)
		}
		select {
		case <-ctx.Done():
			os.Remove(filler)
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if died == 0 && !n.running() {
		died = time.Since(full)
	}
	d.mu.Lock()
	during := append([]string(nil), d.acked[tol.Name][before:]...)
	d.mu.Unlock()
	if at, err := d.hq.ids(ctx); err == nil {
		s.Observed = append(s.Observed, fmt.Sprintf("%d of the %d records %s saved while its relay's disk was full were at HQ before space was freed",
			countIn(at, during), len(during), tol.Name))
	}
	logged := logSince(n, logFrom)
	var refusals []string
	for _, line := range strings.Split(logged, "\n") {
		// A panic that names the full disk is no refusal: see below.
		if diskFull.MatchString(line) && !panicLine.MatchString(line) {
			refusals = append(refusals, line)
		}
	}
	if s.Refusals == nil {
		s.Refusals = map[string]int{}
	}
	s.Refusals["disk full"] += len(refusals)
	if len(refusals) > 0 {
		s.Observed = append(s.Observed, fmt.Sprintf("%s logged %d lines of writes refused for want of space, the first: %s", n.Name, len(refusals), refusals[0]))
	} else {
		s.Observed = append(s.Observed, n.Name+" logged no write refused for want of space")
	}

	if err := os.Remove(filler); err != nil {
		return err
	}
	s.Injected = append(s.Injected, "the file removed")
	if died > 0 {
		excerpt := "(nothing in its log)"
		if loc := panicLine.FindStringIndex(logged); loc != nil {
			excerpt = lineAt(logged, loc[0])
		} else if lines := strings.Split(strings.TrimSpace(logged), "\n"); len(lines) > 0 {
			excerpt = lines[len(lines)-1]
		}
		s.Observed = append(s.Observed, fmt.Sprintf("%s's process stopped by itself, seen %.1fs after its disk was full: %s", n.Name, died.Seconds(), excerpt))
		if err := d.restart(n); err != nil {
			return err
		}
		s.Injected = append(s.Injected, n.Name+" restarted once space was freed")
	}
	return nil
}

// fill writes zeros to path until the disk refuses more, and returns how
// many bytes it wrote.
func fill(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	chunk := make([]byte, 1<<20)
	var written int64
	for {
		n, err := f.Write(chunk)
		written += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			f.Close()
			return written, err
		}
	}
	return written, f.Close()
}

func logSize(n *Node) int64 {
	fi, err := os.Stat(n.logFile())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logSince is what the node logged after offset from.
func logSince(n *Node, from int64) string {
	f, err := os.Open(n.logFile())
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// lineAt is the line of text holding offset i.
func lineAt(text string, i int) string {
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		return text[start:]
	}
	return text[start : i+end]
}

// walkBundle: a laptop cut off from every link saves records, its
// operator carries them to HQ as a bundle on a USB stick, and HQ holds
// every record the laptop saved before the export, before the link is back.
func (d *Drill) walkBundle(ctx context.Context, s *StepReport) error {
	n := d.node("tol-1")
	stick := filepath.Join(d.cfg.Dir, "stick")
	if err := os.MkdirAll(stick, 0o700); err != nil {
		return err
	}
	if err := d.lab.SetHostLink(n.Name, false); err != nil {
		return err
	}
	s.Injected = append(s.Injected, n.Name+"'s own link cut")
	err := d.carryBundle(ctx, s, n, filepath.Join(stick, n.Name+".bundle"))
	if rerr := d.lab.SetHostLink(n.Name, true); rerr != nil && err == nil {
		err = rerr
	}
	s.Injected = append(s.Injected, "the link restored")
	return err
}

func (d *Drill) carryBundle(ctx context.Context, s *StepReport, n *Node, file string) error {
	const added = 5
	for i := range added {
		id, err := d.add(ctx, n, "missing-person", fmt.Sprintf(missingJSON, 9500+i, n.District))
		if err != nil {
			return err
		}
		d.acknowledge(n, id)
	}
	// The writer keeps saving on the laptop meanwhile.
	time.Sleep(d.spell() / 3)
	d.mu.Lock()
	saved := append([]string(nil), d.acked[n.Name]...)
	d.mu.Unlock()
	out, err := n.lifeline(ctx, "", "bundle", "export", "--data", n.Dir, "--out", file)
	if err != nil {
		return err
	}
	s.Injected = append(s.Injected, fmt.Sprintf("%d records saved on %s while cut off, besides its writer's; exported to a stick: %s", added, n.Name, strings.TrimSpace(out)))
	at, err := d.hq.ids(ctx)
	if err != nil {
		return err
	}
	lacked := len(saved) - countIn(at, saved)
	out, err = d.hq.lifeline(ctx, "", "bundle", "import", "--data", d.hq.Dir, file)
	if err != nil {
		return err
	}
	s.Injected = append(s.Injected, "the bundle imported at HQ (its node running): "+strings.TrimSpace(out))
	if at, err = d.hq.ids(ctx); err != nil {
		return err
	}
	var missing []string
	for _, id := range saved {
		if !at[id] {
			missing = append(missing, id)
		}
	}
	s.Observed = append(s.Observed, fmt.Sprintf("HQ lacked %d of the %d records %s acknowledged before the export; after the import, with the link still cut, it lacks %d",
		lacked, len(saved), n.Name, len(missing)))
	if len(missing) > 0 {
		return fmt.Errorf("HQ lacks %d records %s acknowledged before the export, after importing its bundle (first: %s)", len(missing), n.Name, missing[0])
	}
	return nil
}

// jumpClock: a laptop's clock jumps a day ahead and back. What it stamps
// meanwhile, and after (its hybrid logical clock never goes back), is
// held by the others until their time comes: kept, not merged, not lost;
// the record it saved just before the jump is merged everywhere, and
// nothing else diverges.
func (d *Drill) jumpClock(ctx context.Context, s *StepReport) error {
	n := d.node("cayo-1")
	const offset = "LIFELINE_CLOCK_OFFSET=24h"
	st, err := d.hq.status(ctx)
	if err != nil {
		return err
	}
	heldBefore := st.Held

	// The writers wait while the clock moves (the record in flight is
	// saved first): every record the laptop saves after the jump comes
	// after the first one stamped ahead.
	d.pause()
	time.Sleep(300 * time.Millisecond)
	if err := d.waitFor(ctx, time.Minute, n.Name+"'s record in flight saved", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.writing[n.Name] == nil
	}); err != nil {
		return err
	}
	n.signal(syscall.SIGTERM)
	// A laptop recording offline holds records not sent yet when its clock
	// jumps: the last one saved on the right clock goes out in the same
	// session as those stamped ahead.
	before, err := d.add(ctx, n, "missing-person", fmt.Sprintf(missingJSON, 9699, n.District))
	if err != nil {
		d.restart(n)
		return err
	}
	d.acknowledge(n, before)
	d.mu.Lock()
	from := len(d.acked[n.Name])
	d.mu.Unlock()
	n.Env, n.clockMoved = []string{offset}, true
	const added = 5
	for i := range added {
		id, err := d.add(ctx, n, "missing-person", fmt.Sprintf(missingJSON, 9700+i, n.District), offset)
		if err != nil {
			d.restart(n)
			return err
		}
		d.acknowledge(n, id)
	}
	if err := d.restart(n); err != nil {
		return err
	}
	d.unpause()
	s.Injected = append(s.Injected,
		fmt.Sprintf("%s's node stopped; one record saved on the right clock, then its clock set a day ahead (%s) and %d records saved on it; the node restarted on that clock, none of the %d sent before", n.Name, offset, added, added+1))
	time.Sleep(d.spell() / 2)
	n.signal(syscall.SIGTERM)
	n.Env = nil
	if err := d.restart(n); err != nil {
		return err
	}
	s.Injected = append(s.Injected, fmt.Sprintf("%v later, the node restarted on the right clock; its writer saves records throughout", d.spell()/2))
	time.Sleep(d.spell() / 2)

	// The record saved before the jump is on time: every node merges it.
	var lacking []string
	err = d.waitFor(ctx, 30*time.Second, "the record saved before the jump on every node", func() bool {
		lacking = lacking[:0]
		for _, m := range d.nodes {
			if m == n {
				continue
			}
			if ids, err := m.ids(ctx); err != nil || !ids[before] {
				lacking = append(lacking, m.Name)
			}
		}
		return len(lacking) == 0
	})
	if err != nil {
		s.Failures = append(s.Failures, fmt.Sprintf("the record %s saved on the right clock just before the jump (%s), sent in one session with those stamped ahead, is not at %s",
			n.Name, before, strings.Join(lacking, ", ")))
	} else {
		s.Observed = append(s.Observed, fmt.Sprintf("the record saved just before the jump is merged on every other node (%s)", before))
	}

	// Writers paused and the others equal, every change the laptop made
	// since the jump is held at HQ.
	d.check(ctx, s, time.Minute)
	d.mu.Lock()
	ahead := append([]string(nil), d.acked[n.Name][from:]...)
	d.mu.Unlock()
	want := heldBefore + len(ahead)
	var held int
	err = d.waitFor(ctx, time.Minute, fmt.Sprintf("HQ holds the %d changes %s stamped ahead", len(ahead), n.Name), func() bool {
		st, err := d.hq.status(ctx)
		held = st.Held
		return err == nil && held >= want
	})
	s.Observed = append(s.Observed, fmt.Sprintf("HQ holds %d changes stamped ahead (%d before the step); %s acknowledged %d records since its clock jumped, %d through the tool on the moved clock, the rest through its writer, whose tool runs on the right clock but stamps after the newest stamp in the store: a hybrid logical clock never goes back, so those are a day ahead too",
		held, heldBefore, n.Name, len(ahead), added))
	if err != nil {
		return err
	}
	at, err := d.hq.ids(ctx)
	if err != nil {
		return err
	}
	if merged := countIn(at, ahead); merged > 0 {
		return fmt.Errorf("HQ merged %d of the %d records %s stamped a day ahead, instead of holding them", merged, len(ahead), n.Name)
	}
	s.Observed = append(s.Observed, fmt.Sprintf("none of the %d is among HQ's records: held, not merged", len(ahead)))
	return nil
}
