package node

import (
	"context"
	"time"

	"lifeline/syncproto"
)

// Event is something a running node noticed: a change that reached its
// store, from this process, another process on the same data folder, or
// (later) a peer.
type Event struct {
	Change syncproto.Change
	// New is set when the change created its record.
	New bool
	// Summary identifies the record in a line, in the node's language.
	Summary string
	// Skipped counts changes that arrived at once after this one and were
	// not reported one by one.
	Skipped int
}

// releaseEvery is how often a running node retries changes it held for
// being stamped ahead of its clock.
const releaseEvery = 30 * time.Second

// maxEventsPerTick keeps a bulk import from flooding whoever watches.
const maxEventsPerTick = 20

// Run keeps the node working until ctx ends: it notices changes written
// into its store by any process and reports them to notify, and merges
// held changes once the clock has caught up. notify may be nil.
func (n *Node) Run(ctx context.Context, notify func(Event)) error {
	seen, err := n.store.Vector(ctx)
	if err != nil {
		return err
	}
	watch := time.NewTicker(n.cfg.Watch)
	defer watch.Stop()
	release := time.NewTicker(releaseEvery)
	defer release.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-release.C:
			if _, err := n.store.ReleaseHeld(ctx); err != nil && ctx.Err() == nil {
				return err
			}
		case <-watch.C:
			changes, err := n.newChanges(ctx, seen)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if len(changes) == 0 || notify == nil {
				continue
			}
			for i, c := range changes {
				if i == maxEventsPerTick-1 && len(changes) > maxEventsPerTick {
					notify(n.event(ctx, c, len(changes)-i-1))
					break
				}
				notify(n.event(ctx, c, 0))
			}
		}
	}
}

// newChanges returns the changes that reached the store since seen, and
// moves seen past them.
func (n *Node) newChanges(ctx context.Context, seen syncproto.Vector) ([]syncproto.Change, error) {
	now, err := n.store.Vector(ctx)
	if err != nil || seen.Covers(now) {
		return nil, err
	}
	changes, err := n.store.Since(ctx, seen, 10_000)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		seen[c.Stream()] = max(seen[c.Stream()], c.Seq)
	}
	return changes, nil
}

func (n *Node) event(ctx context.Context, c syncproto.Change, skipped int) Event {
	e := Event{Change: c, Skipped: skipped}
	if r, err := n.store.Record(ctx, c.Record); err == nil {
		v := n.view(r)
		e.Summary = n.Summary(v)
		hist, err := n.store.History(ctx, c.Record)
		e.New = err == nil && len(hist) > 0 && hist[0].Dot() == c.Dot()
	}
	return e
}
