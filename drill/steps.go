package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"time"

	"lifeline/syncproto"
)

// spell is how long a fault lasts while the laptops keep writing.
func (d *Drill) spell() time.Duration {
	if d.cfg.Short {
		return 15 * time.Second
	}
	return 45 * time.Second
}

// partition: Toledo (its relay and laptop) is cut off from the rest, both
// sides keep recording, and the link heals.
func (d *Drill) partition(ctx context.Context, s *StepReport) error {
	s.Injected = append(s.Injected, fmt.Sprintf("the Toledo district's uplink cut for %v while every laptop records", d.spell()))
	before := len(d.ackedIDs())
	tol, relay := d.node("tol-1"), d.node("relay-toledo")
	// A record both sides will edit while apart: one of the Toledo
	// laptop's that HQ already holds.
	shared, err := d.sharedRecord(ctx, tol)
	if err != nil {
		return err
	}
	if err := d.lab.SetUplink("toledo", false); err != nil {
		return err
	}
	edits := map[*Node]string{tol: "Edited in Toledo while cut off", d.hq: "Edited at HQ meanwhile"}
	for n, village := range edits {
		if _, err := n.lifeline(ctx, fmt.Sprintf(`{"village":%q}`, village), "record", "update", "--data", n.Dir, "--id", shared, "--author", "drill-"+n.Name); err != nil {
			return err
		}
	}
	s.Injected = append(s.Injected, "record "+shared+" edited differently on both sides while apart")
	time.Sleep(d.spell())
	during := len(d.ackedIDs()) - before
	// The cut-off relay keeps taking its laptop's records without quorum.
	tolIDs, err := tol.ids(ctx)
	if err != nil {
		return err
	}
	relayIDs, err := relay.ids(ctx)
	if err != nil {
		return err
	}
	got := 0
	for id := range tolIDs {
		if relayIDs[id] {
			got++
		}
	}
	s.Observed = append(s.Observed, fmt.Sprintf("%d records written during the cut; the cut-off Toledo relay holds %d of its laptop's %d records", during, got, len(tolIDs)))
	if err := d.lab.SetUplink("toledo", true); err != nil {
		return err
	}
	s.Injected = append(s.Injected, "the uplink restored")
	// Once equal, every node that keeps the record (HQ and Toledo's: a
	// damage assessment stays in its district) keeps both edits as a
	// conflict for a person to decide.
	d.check(ctx, s, 3*time.Minute)
	for _, n := range d.nodes {
		if n.Role != syncproto.RoleHQ && n.District != tol.District {
			continue
		}
		out, err := n.lifeline(ctx, "", "record", "show", "--data", n.Dir, "--id", shared, "--json")
		if err != nil {
			return err
		}
		var rec struct {
			Conflicts map[string][]struct {
				Value any `json:"value"`
			} `json:"conflicts"`
		}
		if err := json.Unmarshal([]byte(out), &rec); err != nil {
			return fmt.Errorf("%s: record show --json: %v", n.Name, err)
		}
		kept := map[string]bool{}
		for _, v := range rec.Conflicts["village"] {
			kept[fmt.Sprint(v.Value)] = true
		}
		for _, village := range edits {
			if !kept[village] {
				return fmt.Errorf("%s does not keep %q in the conflict on the record edited on both sides (it keeps %v)", n.Name, village, rec.Conflicts["village"])
			}
		}
	}
	s.Observed = append(s.Observed, fmt.Sprintf("the record edited on both sides is in conflict on all %d nodes, both values kept", len(d.nodes)))
	return nil
}

// sharedRecord is a damage assessment of laptop n that HQ holds too.
func (d *Drill) sharedRecord(ctx context.Context, n *Node) (string, error) {
	var id string
	err := d.waitFor(ctx, time.Minute, "a damage assessment of "+n.Name+" at HQ", func() bool {
		at, err := d.hq.ids(ctx)
		if err != nil {
			return false
		}
		d.mu.Lock()
		mine := append([]string(nil), d.acked[n.Name]...)
		d.mu.Unlock()
		for _, a := range mine {
			if !at[a] {
				continue
			}
			out, err := d.hq.lifeline(ctx, "", "record", "show", "--data", d.hq.Dir, "--id", a, "--json")
			var rec struct {
				Type string `json:"type"`
			}
			if err == nil && json.Unmarshal([]byte(out), &rec) == nil && rec.Type == "damage-assessment" {
				id = a
				return true
			}
		}
		return false
	})
	return id, err
}

// killLeader: the ledger's leader is killed with kill -9 while commits
// flow, and restarted; another voter takes over and nothing committed is
// lost.
func (d *Drill) killLeader(ctx context.Context, s *StepReport) error {
	leader, height, err := d.leader(ctx)
	if err != nil {
		return err
	}
	leader.signal(syscall.SIGKILL)
	killed := time.Now()
	s.Injected = append(s.Injected, fmt.Sprintf("kill -9 of the Raft leader %s at ledger height %d, laptops writing", leader.Name, height))
	var next *Node
	err = d.waitFor(ctx, time.Minute, "another voter leads", func() bool {
		n, _, err := d.leader(ctx)
		if err == nil && n != leader {
			next = n
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	s.Observed = append(s.Observed, fmt.Sprintf("%s leads %.1fs after the kill", next.Name, time.Since(killed).Seconds()))
	time.Sleep(d.spell() / 2)
	if err := d.restart(leader); err != nil {
		return err
	}
	s.Injected = append(s.Injected, leader.Name+" restarted")
	// What the ledger committed before the kill is still committed: its
	// height never goes back.
	_, after, err := d.leader(ctx)
	if err == nil && after < height {
		return fmt.Errorf("the ledger's height went back from %d to %d", height, after)
	}
	return d.confirmed(ctx, s, 3*time.Minute)
}

// leader finds the voter that leads the ledger, and the ledger's height.
func (d *Drill) leader(ctx context.Context) (*Node, uint64, error) {
	for _, n := range d.nodes {
		if !n.Voter || !n.running() {
			continue
		}
		st, err := n.status(ctx)
		if err == nil && st.Raft != nil && st.Raft.State == "Leader" {
			return n, st.Raft.Height, nil
		}
	}
	return nil, 0, fmt.Errorf("no voter leads the ledger")
}

// confirmed checks, writers paused and nodes equal, that every laptop
// learns the ledger committed all its changes: nothing committed was lost.
func (d *Drill) confirmed(ctx context.Context, s *StepReport, within time.Duration) error {
	d.check(ctx, s, within)
	start := time.Now()
	err := d.waitFor(ctx, within, "every laptop's changes confirmed by the ledger", func() bool {
		for _, n := range d.laptops() {
			if n.clockMoved {
				continue
			}
			st, err := n.status(ctx)
			if err != nil || st.Unconfirmed > 0 {
				return false
			}
		}
		return true
	})
	if err == nil {
		s.Observed = append(s.Observed, fmt.Sprintf("every laptop's changes confirmed by the ledger %.1fs after the nodes were equal", time.Since(start).Seconds()))
	}
	return err
}

// killLaptop: a laptop is killed with kill -9 again and again while it
// records and syncs; sometimes the record being saved is killed too.
func (d *Drill) killLaptop(ctx context.Context, s *StepReport) error {
	n := d.node("cayo-1")
	kills := 100
	if d.cfg.Short {
		kills = 15
	}
	writes := 0
	for i := range kills {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(jitter(200*time.Millisecond, 900*time.Millisecond))
		if i%3 == 0 {
			d.mu.Lock()
			p := d.writing[n.Name]
			d.mu.Unlock()
			if p != nil {
				p.Signal(syscall.SIGKILL)
				writes++
			}
		}
		n.signal(syscall.SIGKILL)
		if err := d.restart(n); err != nil {
			return err
		}
	}
	s.Injected = append(s.Injected, fmt.Sprintf("kill -9 of %s's node %d times while it records and syncs, and of %d record saves in flight", n.Name, kills, writes))
	return nil
}
