package port

import (
	"errors"
	"io"
	"slices"
	"sync"
)

// Why a budget refused a connection.
var (
	// errKeyFull: the connection's address (or peer) holds its share.
	errKeyFull = errors.New("its share is taken")
	// errFull: the budget is full, and no one holds more than a fair share.
	errFull = errors.New("full")
)

// budget bounds the connections at one stage of the port: in all, and per
// key (a remote address, a peer's node id). When it is full, a newcomer
// takes the oldest place of the key that holds the most, if that key holds
// at least two more than the newcomer's: whoever floods gives up its own
// places, and a newcomer that holds little is never kept out by one that
// holds much. Between keys that hold about as much, the newcomer is
// refused: displacing there would let a flood from many keys that each
// hold one chase out every other connection, each one it lost coming back
// to take another's.
//
// A long-lived budget (Raft's links) does not refuse a key over its
// share: its newest connection replaces its oldest, which a broken link
// leaves behind until TCP notices.
type budget struct {
	max, perKey int
	replace     bool

	mu   sync.Mutex
	held map[string][]*slot // by key, oldest first
	n    int
	seq  uint64
}

// slot is one connection's place in a budget.
type slot struct {
	key  string
	conn io.Closer // closed when another displaces it
	seq  uint64
	gone bool // released or displaced
}

func newBudget(max, perKey int, replace bool) *budget {
	return &budget{max: max, perKey: min(perKey, max), replace: replace, held: map[string][]*slot{}}
}

// take gives conn, of key, a place, or says why not. It may displace
// another connection: the caller closes it (outside the budget's lock) and
// says why.
func (b *budget) take(key string, conn io.Closer) (s, displaced *slot, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	own := b.held[key]
	switch {
	case len(own) >= b.perKey:
		if !b.replace {
			return nil, nil, errKeyFull
		}
		displaced = own[0]
	case b.n >= b.max:
		top := b.most()
		switch {
		case len(top) >= len(own)+2:
			displaced = top[0]
		case b.replace && len(own) > 0:
			displaced = own[0]
		default:
			return nil, nil, errFull
		}
	}
	if displaced != nil {
		b.removeLocked(displaced)
	}
	b.seq++
	s = &slot{key: key, conn: conn, seq: b.seq}
	b.held[key] = append(b.held[key], s)
	b.n++
	return s, displaced, nil
}

// most is the places of the key that holds the most, the one whose oldest
// is oldest among equals.
func (b *budget) most() []*slot {
	var top []*slot
	for _, l := range b.held {
		if len(l) > len(top) || len(l) == len(top) && l[0].seq < top[0].seq {
			top = l
		}
	}
	return top
}

// release gives a place back. It reports false when the place was no
// longer held: another connection displaced it.
func (b *budget) release(s *slot) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.gone {
		return false
	}
	b.removeLocked(s)
	return true
}

func (b *budget) removeLocked(s *slot) {
	s.gone = true
	l := b.held[s.key]
	if i := slices.Index(l, s); i >= 0 {
		l = slices.Delete(l, i, i+1)
	}
	if len(l) == 0 {
		delete(b.held, s.key)
	} else {
		b.held[s.key] = l
	}
	b.n--
}
