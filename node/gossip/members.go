package gossip

import (
	"bytes"
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// forgetAfter is how long a dead or departed member stays in the list, so
// that an operator can see when a laptop was last heard of.
const forgetAfter = 24 * time.Hour

// Members is every member known here, this one included, alive or gone
// (for a day), sorted by name. Members whose metadata does not decode are
// left out.
func (g *Gossip) Members() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.forget(time.Now())
	out := make([]Member, 0, len(g.members))
	for _, e := range g.members {
		m := *e
		m.Vector = slices.Clone(m.Vector)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), a.Node.Compare(b.Node))
	})
	return out
}

// forget drops members gone for longer than forgetAfter. g.mu is held.
func (g *Gossip) forget(now time.Time) {
	for name, e := range g.members {
		if e.State != StateAlive && now.Sub(e.Since) > forgetAfter {
			delete(g.members, name)
		}
	}
}

// crowd makes room for a member among at most limit, forgetting those gone
// longest first: members admitted come and go, and those gone, kept for a
// day, would otherwise pile up. g.mu is held.
func (g *Gossip) crowd(limit int) {
	for len(g.members) >= limit {
		oldest := ""
		for name, e := range g.members {
			if e.State != StateAlive && (oldest == "" || e.Since.Before(g.members[oldest].Since)) {
				oldest = name
			}
		}
		if oldest == "" {
			return
		}
		delete(g.members, oldest)
	}
}

// delegate receives memberlist's callbacks; it keeps them off Gossip's
// exported methods.
type delegate struct{ g *Gossip }

// NodeMeta gives memberlist this member's metadata, freshly read. If it no
// longer encodes (Config.Meta returned something invalid), the last good
// one is kept: memberlist cannot be refused metadata.
func (d *delegate) NodeMeta(limit int) []byte {
	g := d.g
	b, err := g.encodeOwn(g.cfg.Meta())
	if err != nil || len(b) > limit {
		g.log.Error("gossip: this member's metadata does not encode; the others keep seeing the previous one", "err", err)
		g.metaMu.Lock()
		defer g.metaMu.Unlock()
		return g.metaLast
	}
	return b
}

func (d *delegate) LocalState(join bool) []byte            { return d.g.localState() }
func (d *delegate) MergeRemoteState(buf []byte, join bool) { d.g.mergeState(buf) }
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.g.bcast.GetBroadcasts(overhead, limit)
}
func (d *delegate) NotifyMsg(buf []byte) { d.g.receive(buf) }

// memberlist calls these holding its member list's lock; see Gossip.mu.

func (d *delegate) NotifyJoin(n *memberlist.Node)        { d.g.memberUp(n) }
func (d *delegate) NotifyUpdate(n *memberlist.Node)      { d.g.memberUp(n) }
func (d *delegate) NotifyLeave(n *memberlist.Node)       { d.g.memberDown(n) }
func (d *delegate) NotifyAlive(n *memberlist.Node) error { return d.g.admit(n.Name) }

// admit says whether memberlist may keep the member it calls name: one
// known already, or a new one while fewer than MaxMembers are. Members
// gone are forgotten, to make room, once memberlist has forgotten them
// (GossipToTheDeadTime after they went, with as long again to spare), and
// looked for at most once a second: a push-pull of hundreds of thousands
// of members is refused one by one at little cost.
func (g *Gossip) admit(name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.admitted[name]; ok {
		// Known already. Whether it is alive again is memberlist's to
		// say (memberUp): a stale alive message of a member gone, which
		// memberlist ignores, comes here too.
		return nil
	}
	limit := cmp.Or(g.cfg.MaxMembers, DefaultMaxMembers)
	if now := time.Now(); len(g.admitted) >= limit && now.Sub(g.lastPurge) >= time.Second {
		g.lastPurge = now
		for n, gone := range g.admitted {
			if !gone.IsZero() && now.Sub(gone) > 2*g.cfg.Profile.PushPullInterval {
				delete(g.admitted, n)
			}
		}
	}
	if len(g.admitted) >= limit {
		return fmt.Errorf("gossip holds %d members already, the most it admits", limit)
	}
	g.admitted[name] = time.Time{}
	return nil
}

// NotifyConflict: two members gossip under one node id. Node ids come from
// keys, so either a data folder was copied to a second machine (both then
// sign as one node: fix that first) or a laptop came back at a new address
// before the others declared the old one dead (it resolves itself).
func (d *delegate) NotifyConflict(existing, other *memberlist.Node) {
	d.g.log.Warn("gossip: two members claim one node id; if this lasts, two machines share a node key (a copied data folder)",
		"node", existing.Name, "addr", existing.Address(), "other", other.Address())
}

// memberUp records a member memberlist reports alive, new or changed.
func (g *Gossip) memberUp(n *memberlist.Node) {
	meta, err := DecodeMeta(n.Meta)
	if err == nil && meta.Node.String() != n.Name {
		err = fmt.Errorf("its metadata names node %s", meta.Node)
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.admitted[n.Name] = time.Time{}
	if n.Name == g.name {
		g.selfMeta = bytes.Clone(n.Meta)
	}
	e := g.members[n.Name]
	if err != nil {
		// Its name and address are all we know of it; a member with
		// metadata from a newer major version lands here until this node is
		// updated.
		g.warnings.LogAt(slog.LevelWarn, "gossip: ignoring a member whose metadata does not decode", "member", n.Name, "addr", n.Address(), "err", err)
		if e != nil {
			delete(g.members, n.Name)
			if e.State == StateAlive {
				g.alive.Add(-1)
				e.State, e.Since = StateDead, now
				g.emit(n.Name, evLeft, *e)
			}
		}
		return
	}
	m := Member{Meta: meta, Addr: n.Address(), State: StateAlive, Since: now}
	if e == nil || e.State != StateAlive {
		g.forget(now)
		g.crowd(2 * cmp.Or(g.cfg.MaxMembers, DefaultMaxMembers))
		g.members[n.Name] = &m
		g.alive.Add(1)
		g.emit(n.Name, evJoined, m)
		return
	}
	m.Since = e.Since
	*e = m
	g.emit(n.Name, evUpdated, m)
}

// memberDown records a member memberlist reports gone.
func (g *Gossip) memberDown(n *memberlist.Node) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.admitted[n.Name]; ok {
		g.admitted[n.Name] = time.Now()
	}
	e := g.members[n.Name]
	if e == nil || e.State != StateAlive {
		return
	}
	g.alive.Add(-1)
	// memberlist knows whether the member said goodbye but does not tell;
	// its metadata does.
	e.State, e.Since = StateDead, time.Now()
	if e.Leaving {
		e.State = StateLeft
	}
	g.emit(n.Name, evLeft, *e)
}

type eventKind int

const (
	evJoined eventKind = iota
	evUpdated
	evLeft
)

type event struct {
	kind eventKind
	m    Member
}

// eventQueue holds events for Events in order. A member's events not
// passed on yet are one, of its latest state: any holder of the gossip key
// may change its metadata, or leave and come back, as fast as packets go,
// and the queue holds no more than one event per member whatever the
// handler's pace.
type eventQueue struct {
	mu      sync.Mutex
	order   []string          // members with an event waiting, in the order their first came
	pending map[string]*event // by memberlist name
	signal  chan struct{}
}

func (q *eventQueue) init() {
	q.pending = map[string]*event{}
	q.signal = make(chan struct{}, 1)
}

// push queues an event about the member memberlist calls name, or makes
// the one waiting of it this one: its latest state, told as joined if the
// handler was not told of its joining yet.
func (q *eventQueue) push(name string, kind eventKind, m Member) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e := q.pending[name]; e != nil {
		if e.kind != evJoined || kind != evUpdated {
			e.kind = kind
		}
		e.m = m
		return
	}
	q.pending[name] = &event{kind, m}
	q.order = append(q.order, name)
}

// pop takes the next event, if there is one.
func (q *eventQueue) pop() (event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.order) == 0 {
		return event{}, false
	}
	name := q.order[0]
	q.order[0] = ""
	q.order = q.order[1:]
	e := q.pending[name]
	delete(q.pending, name)
	return *e, true
}

// emit queues an event about the member memberlist calls name. g.mu is
// held, so events queue in the order the table changed.
func (g *Gossip) emit(name string, kind eventKind, m Member) {
	if g.cfg.Events == nil || name == g.name {
		return
	}
	m.Vector = slices.Clone(m.Vector)
	q := &g.events
	q.push(name, kind, m)
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// dispatch calls Events, one event at a time, until Shutdown.
func (g *Gossip) dispatch() {
	defer g.wg.Done()
	q := &g.events
	for {
		select {
		case <-g.done:
			return
		case <-q.signal:
		}
		for {
			ev, ok := q.pop()
			if !ok {
				break
			}
			select {
			case <-g.done:
				return
			default:
			}
			switch ev.kind {
			case evJoined:
				g.cfg.Events.Joined(ev.m)
			case evUpdated:
				g.cfg.Events.Updated(ev.m)
			case evLeft:
				g.cfg.Events.Left(ev.m)
			}
		}
	}
}
