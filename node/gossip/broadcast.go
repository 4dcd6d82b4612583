package gossip

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/memberlist"
)

// MaxMessage bounds a broadcast message. A message travels inside one UDP
// packet of at most 1400 bytes, beside memberlist's own messages and the
// encryption's overhead.
const MaxMessage = 1024

// Broadcast frames: a kind byte, 8 random bytes naming the message (members
// relay each message once and deliver it once, by this id), the payload.
const (
	frameHeader = 1 + 8
	kindMessage = 1 // payload: the bytes given to Broadcast
)

const (
	// seenCap is how many message ids a member remembers. A message stops
	// circulating after a few gossip rounds, and push-pulls carry only each
	// member's latest maxRecent; an id forgotten while its message still
	// circulates would be delivered twice, which takes seenCap newer
	// messages in the meantime.
	seenCap = 4096
	// maxQueued bounds the broadcast queue (own and relayed messages);
	// beyond it the messages sent most often already are dropped.
	maxQueued = 512
	// deliverQueue bounds messages waiting for OnMessage.
	deliverQueue = 256
)

// Broadcast spreads msg (at most MaxMessage bytes) to every other member.
// Each member delivers it to its OnMessage once and relays it to a few
// others. A member that missed it (lost packets, a link down for a moment)
// catches up at its next push-pull, as long as that comes within a few
// push-pull intervals. It returns once the message is queued.
func (g *Gossip) Broadcast(msg []byte) error {
	switch {
	case len(msg) == 0:
		return fmt.Errorf("gossip: broadcast: empty message")
	case len(msg) > MaxMessage:
		return fmt.Errorf("gossip: broadcast: message of %d bytes, over the limit of %d: send large things over sync instead", len(msg), MaxMessage)
	}
	f := g.newFrame(kindMessage, msg)
	g.mu.Lock()
	closed := g.closed
	if !closed {
		g.seen.add(frameID(f)) // our own message, relayed back, is not delivered to us
		g.remember(f, time.Now())
	}
	g.mu.Unlock()
	if closed {
		return ErrClosed
	}
	g.queue(&broadcast{msg: f})
	return nil
}

// newFrame frames a payload with a fresh id.
func (g *Gossip) newFrame(kind byte, payload []byte) []byte {
	f := make([]byte, frameHeader+len(payload))
	f[0] = kind
	rand.Read(f[1:frameHeader])
	copy(f[frameHeader:], payload)
	return f
}

func frameID(f []byte) [8]byte { return [8]byte(f[1:frameHeader]) }

// queue adds a frame to the broadcast queue, which memberlist drains into
// its gossip packets.
func (g *Gossip) queue(b *broadcast) {
	g.bcast.QueueBroadcast(b)
	if g.bcast.NumQueued() > maxQueued {
		g.bcast.Prune(maxQueued)
	}
}

// receive handles a frame another member gossiped.
func (g *Gossip) receive(buf []byte) { g.accept(buf, true) }

// accept handles a frame from another member, gossiped or (relay false)
// caught up in a push-pull. It is untrusted: any holder of the gossip key
// may send anything. A frame seen before is dropped; a new one is relayed,
// kept for push-pulls and delivered.
func (g *Gossip) accept(buf []byte, relay bool) {
	if len(buf) < frameHeader || len(buf) > frameHeader+MaxMessage || buf[0] != kindMessage {
		g.log.Debug("gossip: dropped a malformed broadcast", "bytes", len(buf))
		return
	}
	// memberlist reuses buf once this returns.
	f := bytes.Clone(buf)
	g.mu.Lock()
	if g.closed || !g.seen.add(frameID(f)) {
		g.mu.Unlock()
		return
	}
	g.remember(f, time.Now())
	g.mu.Unlock()
	if relay {
		g.queue(&broadcast{msg: f})
	}
	if g.msgs != nil {
		select {
		case g.msgs <- bytes.Clone(f[frameHeader:]): // OnMessage may scribble on its copy
		default:
			if n := g.dropped.Add(1); n == 1 || n%100 == 0 {
				g.log.Warn("gossip: OnMessage falls behind, broadcast messages dropped: it should hand them on rather than handle them", "dropped", n)
			}
		}
	}
}

// deliver calls OnMessage until Shutdown.
func (g *Gossip) deliver() {
	defer g.wg.Done()
	for {
		select {
		case <-g.done:
			return
		case msg := <-g.msgs:
			select {
			case <-g.done:
				return
			default:
			}
			if err := g.cfg.OnMessage(msg); err != nil {
				g.warnings.LogAt(slog.LevelWarn, "gossip: refused a message", "err", err)
			}
		}
	}
}

// broadcast is one frame in the TransmitLimitedQueue.
type broadcast struct {
	msg []byte
}

func (b *broadcast) Message() []byte { return b.msg }

// Invalidates: every frame is unique; nothing replaces it.
func (b *broadcast) Invalidates(memberlist.Broadcast) bool { return false }

// UniqueBroadcast tells the queue not to look for frames b replaces.
func (b *broadcast) UniqueBroadcast() {}

func (b *broadcast) Finished() {}

// seenSet remembers the last seenCap message ids.
type seenSet struct {
	ids  map[[8]byte]struct{}
	ring [][8]byte
	next int
}

// add records id and reports whether it is new.
func (s *seenSet) add(id [8]byte) bool {
	if _, ok := s.ids[id]; ok {
		return false
	}
	if s.ids == nil {
		s.ids = make(map[[8]byte]struct{}, seenCap)
	}
	if len(s.ring) < seenCap {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % seenCap
	}
	s.ids[id] = struct{}{}
	return true
}
