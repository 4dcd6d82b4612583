package node

import (
	"context"
	"time"

	"lifeline/syncproto"
)

// releaseEvery is how often a running node retries changes it held for
// being stamped ahead of its clock.
const releaseEvery = 30 * time.Second

// maxEventsPerTick keeps a bulk import from flooding whoever watches.
const maxEventsPerTick = 20

// watcher reports the changes that reach the store, from this process,
// another process on the same data folder, or a peer: it compares version
// vectors, so it notices writers it does not know. It follows the
// revocations another process recorded (a bundle imported from the
// command line): the revoked nodes' keys are checked again, their
// connections closed.
func (d *Daemon) watcher() (func(context.Context) error, error) {
	seen, err := d.n.store.Vector(d.ctx)
	if err != nil {
		return nil, err
	}
	revoked, err := d.n.store.RevokedNodes(d.ctx)
	if err != nil {
		return nil, err
	}
	known := map[syncproto.NodeID]bool{}
	for _, id := range revoked {
		known[id] = true
	}
	return func(ctx context.Context) error {
		revoked, err := d.n.store.RevokedNodes(ctx)
		if err != nil {
			return err
		}
		for _, id := range revoked {
			if known[id] {
				continue
			}
			known[id] = true
			d.n.trust.forget(id)
			if d.port != nil {
				d.port.Drop(id)
			}
		}
		changes, total, err := d.n.newChanges(ctx, seen)
		if err != nil {
			return err
		}
		for i, c := range changes {
			skipped := 0
			if i == len(changes)-1 {
				skipped = total - len(changes)
			}
			d.report(d.n.event(ctx, c, skipped))
		}
		return nil
	}, nil
}

// newChanges returns the first of the changes that reached the store since
// seen (enough to report), how many came in all, and moves seen past them
// all. A sync or an import of fifty thousand records is reported in a few
// lines, without reading fifty thousand changes.
func (n *Node) newChanges(ctx context.Context, seen syncproto.Vector) ([]syncproto.Change, int, error) {
	now, err := n.store.Vector(ctx)
	if err != nil || seen.Covers(now) {
		return nil, 0, err
	}
	total := 0
	for st, seq := range now {
		if seq > seen[st] {
			total += int(seq - seen[st])
		}
	}
	changes, err := n.store.Since(ctx, seen, maxEventsPerTick)
	if err != nil {
		return nil, 0, err
	}
	seen.Merge(now)
	return changes, total, nil
}

func (n *Node) event(ctx context.Context, c syncproto.Change, skipped int) Event {
	e := Event{Change: c, Skipped: skipped}
	e.Via = n.nodeName(ctx, c.Origin)
	if r, err := n.store.Record(ctx, c.Record); err == nil {
		v := n.view(r, nil)
		e.Summary = n.LogSummary(v) // it reaches logs
		// Its first change, from the record's state: reading its history
		// would cost each event of a record edited a million times a
		// million changes read.
		e.New = r.First == c.Dot()
	}
	return e
}
