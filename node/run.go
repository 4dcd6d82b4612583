package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"lifeline/syncproto"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventChange: a change reached the store, from this process, another
	// process on the same data folder, or a peer.
	EventChange EventKind = iota
	// EventListening: the node serves sync at Addr.
	EventListening
	// EventSession: a sync session a peer opened has ended.
	EventSession
	// EventGossip: the node gossips at Addr.
	EventGossip
)

// Event is something a running node noticed.
type Event struct {
	Kind EventKind

	Change syncproto.Change
	// New is set when the change created its record.
	New bool
	// Summary identifies the record in a line, in the node's language.
	Summary string
	// Skipped counts changes that arrived at once after this one and were
	// not reported one by one.
	Skipped int

	Addr    string       // EventListening
	Session SessionEvent // EventSession
}

// releaseEvery is how often a running node retries changes it held for
// being stamped ahead of its clock.
const releaseEvery = 30 * time.Second

// maxEventsPerTick keeps a bulk import from flooding whoever watches.
const maxEventsPerTick = 20

// Run keeps the node working until ctx ends: it serves sync at
// Config.SyncAddr if set, notices changes written into its store by any
// process and reports them to notify, and merges held changes once the
// clock has caught up. notify may be nil; it is called from several
// goroutines, one event at a time.
func (n *Node) Run(ctx context.Context, notify func(Event)) error {
	var mu sync.Mutex
	report := func(e Event) {
		if notify != nil {
			mu.Lock()
			defer mu.Unlock()
			notify(e)
		}
	}
	seen, err := n.store.Vector(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer func() {
		// Stop the loops, wait for them, then stop what they used.
		cancel(nil)
		wg.Wait()
		n.stopLedger()
		n.running.Store(nil)
		n.disc = nil
	}()
	var ln net.Listener
	advertised := ""
	if n.cfg.SyncAddr != "" {
		if n.creds == nil {
			return fmt.Errorf("%w: it cannot serve sync until it is enrolled (lifeline enroll)", ErrNotEnrolled)
		}
		if ln, err = net.Listen("tcp", n.cfg.SyncAddr); err != nil {
			return fmt.Errorf("serve sync: %w", err)
		}
		if advertised, err = n.advertise(ln.Addr()); err != nil {
			ln.Close()
			return err
		}
	}
	if n.cfg.GossipAddr != "" {
		if n.creds == nil {
			return fmt.Errorf("%w: it cannot gossip until it is enrolled (lifeline enroll)", ErrNotEnrolled)
		}
		d, err := n.startDiscovery(advertised)
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			return err
		}
		n.disc = d
		n.running.Store(d)
		report(Event{Kind: EventGossip, Addr: d.g.Addr()})
	}
	if ln != nil {
		if err := n.startLedger(advertised); err != nil {
			ln.Close()
			if n.disc != nil {
				n.disc.g.Shutdown()
				n.disc = nil
			}
			return err
		}
		report(Event{Kind: EventListening, Addr: ln.Addr().String()})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.serve(ctx, ln, func(s SessionEvent) { report(Event{Kind: EventSession, Session: s}) }); err != nil {
				cancel(err)
			}
		}()
		if n.ledger != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.ledgerLoop(ctx)
			}()
		}
	}
	if n.disc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.disc.run(ctx)
		}()
	}
	watch := time.NewTicker(n.cfg.Watch)
	defer watch.Stop()
	release := time.NewTicker(releaseEvery)
	defer release.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		case <-release.C:
			if _, err := n.store.ReleaseHeld(ctx); err != nil && ctx.Err() == nil {
				return err
			}
		case <-watch.C:
			changes, total, err := n.newChanges(ctx, seen)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for i, c := range changes {
				skipped := 0
				if i == len(changes)-1 {
					skipped = total - len(changes)
				}
				report(n.event(ctx, c, skipped))
			}
		}
	}
}

// advertise is the address other nodes reach this one at: the configured
// one, or the bound one when it names a host.
func (n *Node) advertise(bound net.Addr) (string, error) {
	if n.cfg.AdvertiseAddr != "" {
		return n.cfg.AdvertiseAddr, nil
	}
	host, _, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() && !n.Self().Role.Field() {
		return "", fmt.Errorf("sync listens on all interfaces (%s): give the address other nodes reach it at with --advertise-addr", bound)
	}
	return bound.String(), nil
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
	if r, err := n.store.Record(ctx, c.Record); err == nil {
		v := n.view(r)
		e.Summary = n.Summary(v)
		hist, err := n.store.History(ctx, c.Record)
		e.New = err == nil && len(hist) > 0 && hist[0].Dot() == c.Dot()
	}
	return e
}
