package syncproto

import (
	"fmt"
	"sync"
	"time"
)

// HLC is a hybrid logical clock timestamp: milliseconds since the Unix epoch
// in the high 48 bits and a logical counter in the low 16. It orders the
// changes of a record the way people expect (later wins) while staying
// monotonic on one node whatever its wall clock does, and it compares as a
// plain integer.
type HLC uint64

const logicalBits = 16

// MakeHLC builds a timestamp from wall-clock milliseconds and a counter.
func MakeHLC(ms int64, logical uint16) HLC {
	return HLC(uint64(ms)<<logicalBits | uint64(logical))
}

// Millis is the wall-clock part, in milliseconds since the Unix epoch.
func (h HLC) Millis() int64 { return int64(h >> logicalBits) }

// Logical is the counter that orders changes made within one millisecond.
func (h HLC) Logical() uint16 { return uint16(h) }

// Time is the wall-clock part as a time.Time in UTC.
func (h HLC) Time() time.Time { return time.UnixMilli(h.Millis()).UTC() }

func (h HLC) String() string {
	return fmt.Sprintf("%s+%d", h.Time().Format("2006-01-02T15:04:05.000Z"), h.Logical())
}

// DefaultMaxSkew is how far in the future of a node's own clock a change
// may be stamped and still be applied. Laptops whose clock was never set, or
// set a year ahead, are common after a storm; without this bound their
// edits would win every conflict until the world caught up.
const DefaultMaxSkew = 10 * time.Minute

// Clock issues HLC timestamps. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	last    HLC
	now     func() time.Time
	maxSkew time.Duration
}

// NewClock returns a clock reading now (time.Now when nil) that accepts
// remote timestamps at most maxSkew ahead of it.
func NewClock(now func() time.Time, maxSkew time.Duration) *Clock {
	if now == nil {
		now = time.Now
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	return &Clock{now: now, maxSkew: maxSkew}
}

// Now returns a timestamp greater than every one this clock has issued or
// observed.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = next(c.last, c.now().UnixMilli())
	return c.last
}

// next is the HLC send rule: the wall clock if it is ahead, else one more
// than the last timestamp.
func next(last HLC, wallMS int64) HLC {
	if w := MakeHLC(wallMS, 0); w > last {
		return w
	}
	return last + 1
}

// ObserveAhead is how far past this node's wall clock an observed
// timestamp may move it. A peer whose clock runs fast, within the skew a
// node accepts, does not drag this node's own stamps ahead with it: else
// the nodes that saw its changes would stamp theirs so far ahead that the
// slower laptops hold them, for as long as it keeps writing. An edit made
// after seeing a change still replaces it, by naming it as its base.
const ObserveAhead = time.Second

// ObserveOwn moves the clock past a timestamp of this node's own, written
// by another process on the same store or before a restart: the node's
// stamps never go back, whatever its wall clock does.
func (c *Clock) ObserveOwn(h HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h > c.last {
		c.last = h
	}
}

// Observe moves the clock past a timestamp another node wrote, received
// and applied here, but never more than ObserveAhead past the wall clock.
func (c *Clock) Observe(h HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if limit := MakeHLC(c.now().Add(ObserveAhead).UnixMilli(), 0); h > limit {
		h = limit
	}
	if h > c.last {
		c.last = h
	}
}

// Ahead is how far h is past this clock's wall time, 0 when it is not.
func (c *Clock) Ahead(h HLC) time.Duration {
	return max(0, time.Duration(h.Millis()-c.now().UnixMilli())*time.Millisecond)
}

// TooFarAhead reports whether h is further in the future of this clock's
// wall time than the skew it accepts. Such a change is held, not applied.
func (c *Clock) TooFarAhead(h HLC) bool {
	limit := c.now().Add(c.maxSkew).UnixMilli()
	return h.Millis() > limit
}
