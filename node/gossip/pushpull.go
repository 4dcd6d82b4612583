package gossip

import (
	"errors"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"

	"lifeline/syncproto"
)

// Push-pull state. Every PushPullInterval a member exchanges its whole
// member list with another over TCP, and memberlist lets each side add its
// own state. Lifeline's repairs what gossip over UDP lost:
//
//   - Recent broadcast messages. Gossip sends a message a few times to a
//     few members and stops; a member whose link dropped for that second
//     never hears it. Messages are kept for recentRounds push-pull
//     intervals, so that such a member catches up at its next push-pull.
//     They are delivered once, like gossiped ones, but not relayed again:
//     the others have them.
//   - Members that left. memberlist knows whether a member that is gone
//     left or failed (its own leave message says so) but does not tell. The
//     Leaving metadata that Leave spreads first usually arrives before
//     memberlist's leave message; when it did not, the member was reported
//     dead. A member that reported one of these dead corrects its list
//     (without a second event).
//
// The state is a CBOR map with integer keys, append-only like Meta: 1, the
// node ids of members known to have left; 2, recent frames, newest first.
const (
	// recentRounds is how many push-pull intervals a message is kept.
	recentRounds = 3
	// maxRecent and maxRecentBytes bound the messages kept and sent; the
	// newest are kept.
	maxRecent      = 64
	maxRecentBytes = 16 << 10
	// maxPushLeft bounds the members named as left.
	maxPushLeft = 256
	// maxPushState bounds the state read from a peer.
	maxPushState = maxRecentBytes + maxRecent*16 + maxPushLeft*(MaxNameLen+3) + 64
)

// recentFrame is a message kept for push-pulls.
type recentFrame struct {
	frame []byte
	at    time.Time
}

// remember keeps a frame for push-pulls, dropping what is too old or too
// much. g.mu is held.
func (g *Gossip) remember(f []byte, now time.Time) {
	g.recent = append(g.recent, recentFrame{f, now})
	g.recentBytes += len(f)
	keep := time.Duration(recentRounds) * g.cfg.Profile.PushPullInterval
	drop := 0
	for drop < len(g.recent) {
		r := g.recent[drop]
		if len(g.recent)-drop <= maxRecent && g.recentBytes <= maxRecentBytes && now.Sub(r.at) <= keep {
			break
		}
		g.recentBytes -= len(r.frame)
		drop++
	}
	if drop > 0 {
		clear(g.recent[:drop])
		g.recent = g.recent[drop:]
	}
}

// localState is this member's push-pull state; nil when it has nothing to
// add.
func (g *Gossip) localState() []byte {
	now := time.Now()
	keep := time.Duration(recentRounds) * g.cfg.Profile.PushPullInterval
	g.mu.Lock()
	var left []*Member
	for _, e := range g.members {
		if e.State == StateLeft {
			left = append(left, e)
		}
	}
	slices.SortFunc(left, func(a, b *Member) int { return b.Since.Compare(a.Since) })
	var names []string
	for _, e := range left[:min(len(left), maxPushLeft)] {
		names = append(names, e.Node.String())
	}
	var frames [][]byte
	for i := len(g.recent) - 1; i >= 0 && now.Sub(g.recent[i].at) <= keep; i-- {
		frames = append(frames, g.recent[i].frame)
	}
	g.mu.Unlock()
	if len(names) == 0 && len(frames) == 0 {
		return nil
	}
	state := map[uint64]any{}
	if len(names) > 0 {
		state[1] = names
	}
	if len(frames) > 0 {
		state[2] = frames
	}
	b, err := syncproto.Marshal(state)
	if err != nil {
		g.log.Error("gossip: encode push-pull state", "err", err)
		return nil
	}
	return b
}

// mergeState reads another member's push-pull state. It is untrusted, like
// everything gossiped: at worst a dead member is shown as left, and
// messages are delivered that the node will check like any other.
func (g *Gossip) mergeState(buf []byte) {
	if len(buf) == 0 {
		return
	}
	var names []string
	var frames [][]byte
	err := g.decodeState(buf, &names, &frames)
	if err != nil {
		g.log.Debug("gossip: ignored a peer's push-pull state", "bytes", len(buf), "err", err)
		return
	}
	now := time.Now()
	g.mu.Lock()
	for _, name := range names {
		if e := g.members[name]; e != nil && e.State == StateDead {
			e.State, e.Since = StateLeft, now
		}
	}
	g.mu.Unlock()
	// Oldest first, so that OnMessage sees them in the order they were sent.
	for _, f := range slices.Backward(frames) {
		g.accept(f, false)
	}
}

func (g *Gossip) decodeState(buf []byte, names *[]string, frames *[][]byte) error {
	if len(buf) > maxPushState {
		return errors.New("too large")
	}
	var raw map[uint64]cbor.RawMessage
	if err := syncproto.Unmarshal(buf, &raw); err != nil {
		return err
	}
	if v, ok := raw[1]; ok {
		if err := syncproto.Unmarshal(v, names); err != nil {
			return err
		}
	}
	if v, ok := raw[2]; ok {
		if err := syncproto.Unmarshal(v, frames); err != nil {
			return err
		}
	}
	if len(*names) > maxPushLeft || len(*frames) > maxRecent {
		return errors.New("too many entries")
	}
	return nil
}
