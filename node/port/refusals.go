package port

import (
	"log/slog"
	"slices"
	"sync"
	"time"
)

// What the port logs when it refuses or ends a connection, one message
// per kind: people and the drill count them by message.
const (
	// The TLS handshake failed: another deployment's certificate, a revoked
	// one, no certificate, not TLS at all.
	msgTLS = "refused a connection"
	// The handshake and the channel byte took longer than Config.Handshake.
	msgSlow = "refused a connection: handshake too slow"
	// The remote address already holds Config.MaxPerAddr handshakes.
	msgAddrFull = "refused a connection: too many handshakes from its address"
	// Config.MaxHandshakes are in progress, none from an address that
	// holds much more than this one's.
	msgHandshakes = "refused a connection: too many handshakes"
	// A handshake given up for a newcomer's: handshakes were full, and its
	// address held the most.
	msgDisplaced = "refused a connection: its address held the most handshakes"
	// The peer was admitted but closed before it named a channel.
	msgNoChannel = "refused a connection: no channel"
	msgUnknown   = "refused a connection: unknown channel"
	// The channel serves Door.Max connections, or the peer Door.PerPeer.
	msgChannelFull = "refused a connection: too many on its channel"
	// A session given up for a newcomer's: the channel was full, and its
	// peer held the most.
	msgPeerMost = "refused a connection: its peer held the most on its channel"
	// The door's Who refused the peer.
	msgDoor = "refused a channel"
	// A long-lived connection closed for its peer's newer one.
	msgReplaced = "closed a connection for its peer's newer one"
	// The node is out of file descriptors: connections wait in the
	// listener's queue until some close.
	msgNoFiles = "refused connections: out of file descriptors"
	// A connection served for Door.MaxTime.
	msgTooLong = "ended a connection: it lasted too long"
)

// refusalLines is how many refusals of one kind the port logs one by one
// in a second. A flood of connections must not become a flood of log
// lines on a laptop's disk: the rest of the second's are counted, and
// logged as one line of the same message, with count, when the second
// ends.
const refusalLines = 10

// refusalLog logs refusals, each kind at most refusalLines times a second.
type refusalLog struct {
	log *slog.Logger

	mu       sync.Mutex
	start    time.Time // of the second being counted
	lines    map[string]int
	unlogged map[string]int
	flushing *time.Timer
}

func newRefusalLog(log *slog.Logger) *refusalLog {
	return &refusalLog{log: log, lines: map[string]int{}, unlogged: map[string]int{}}
}

// warn logs a refusal, unless this second has logged refusalLines of its
// kind already. It reports whether it logged it.
func (r *refusalLog) warn(msg string, args ...any) bool {
	r.mu.Lock()
	now := time.Now()
	if r.flushing == nil && now.Sub(r.start) >= time.Second {
		r.start = now
		clear(r.lines)
	}
	if r.lines[msg] < refusalLines {
		r.lines[msg]++
		r.mu.Unlock()
		r.log.Warn(msg, args...)
		return true
	}
	r.unlogged[msg]++
	if r.flushing == nil {
		r.flushing = time.AfterFunc(time.Until(r.start.Add(time.Second)), r.flush)
	}
	r.mu.Unlock()
	return false
}

// flush logs the counts of what was not logged one by one, and starts a
// new second.
func (r *refusalLog) flush() {
	r.mu.Lock()
	counts := r.unlogged
	r.unlogged = map[string]int{}
	clear(r.lines)
	r.start = time.Now()
	if r.flushing != nil {
		r.flushing.Stop()
		r.flushing = nil
	}
	r.mu.Unlock()
	msgs := make([]string, 0, len(counts))
	for msg := range counts {
		msgs = append(msgs, msg)
	}
	slices.Sort(msgs)
	for _, msg := range msgs {
		r.log.Warn(msg, "count", counts[msg])
	}
}
