package ledgerplane

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"lifeline/syncproto"
)

// whereabouts checks the addresses gossip gives for the ledger's members
// before the leader takes one. Gossip's word is anyone's who holds the
// gossip key: one that claimed a voter's node id at an address where
// nothing, or another node, answers would have the leader move the voter
// there, out of reach, and a second such claim cost the ledger its
// quorum. An address is taken once the member answered there, as itself,
// over TLS; until then the member stays where the ledger has it.
type whereabouts struct {
	dial func(context.Context, raft.ServerAddress) error

	mu       sync.Mutex
	answered map[syncproto.NodeID]string    // the address the member answered at
	checking map[syncproto.NodeID]bool      // a check runs
	tried    map[syncproto.NodeID]time.Time // when the last check of it failed
	wg       sync.WaitGroup
}

const (
	// whereCheckTime bounds one check of an address.
	whereCheckTime = 10 * time.Second
	// whereRetry is how long a member whose address failed its check
	// waits before gossip's address for it is checked again.
	whereRetry = 30 * time.Second
)

// answers reports whether id answered at addr. If it is not known to, a
// check begins, unless one runs or failed within whereRetry, and answers
// is false: the leader asks again at its next round.
func (w *whereabouts) answers(ctx context.Context, id syncproto.NodeID, addr string, failed func(error)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.answered[id] == addr {
		return true
	}
	if w.checking[id] || time.Since(w.tried[id]) < whereRetry {
		return false
	}
	if w.checking == nil {
		w.answered, w.checking, w.tried = map[syncproto.NodeID]string{}, map[syncproto.NodeID]bool{}, map[syncproto.NodeID]time.Time{}
	}
	w.checking[id] = true
	w.wg.Go(func() {
		check, cancel := context.WithTimeout(ctx, whereCheckTime)
		err := w.dial(check, serverAddress(id.String(), addr))
		cancel()
		w.mu.Lock()
		delete(w.checking, id)
		if err == nil {
			w.answered[id] = addr
		} else {
			w.tried[id] = time.Now()
		}
		w.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			failed(err)
		}
	})
	return false
}

// wait waits for the checks running to end.
func (w *whereabouts) wait() { w.wg.Wait() }
