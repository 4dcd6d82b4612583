package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"lifeline/node/gossip"
	"lifeline/syncproto"
)

// G1 and G2: gossip membership alone (node/gossip over memberlist, on
// loopback, encrypted with one key), 20 and 500 members in this process.
func init() {
	register(workload{name: "G1-gossip", rows: func(ctx context.Context, e *env) ([]namedResult, error) {
		return gossipWorkload(ctx, e, gossipRun{name: "G1", members: 20, profile: gossip.LAN, profileName: "lan", joiners: 0,
			join: time.Minute, dead: 5 * time.Minute, left: 2 * time.Minute})
	}})
	register(workload{name: "G2-gossip", rows: func(ctx context.Context, e *env) ([]namedResult, error) {
		return gossipWorkload(ctx, e, gossipRun{name: "G2", members: 500, profile: gossip.WAN, profileName: "wan", joiners: 16, heap: 4 << 30,
			join: 15 * time.Minute, dead: 10 * time.Minute, left: 3 * time.Minute})
	}})
}

// gossipRun is one gossip workload.
type gossipRun struct {
	name        string
	members     int
	profile     gossip.Profile
	profileName string
	// joiners bounds the joins under way at once; 0 for all at once.
	// memberlist serves at most 128 push-pulls at once and drops the
	// rest without a word to the joiner, so 499 members joining through
	// one address at once would leave most of them out.
	joiners int
	// heap, if not zero, turns the garbage collector's pacing off below
	// this many bytes of heap (GOGC=off with GOMEMLIMIT): see G2.
	heap int64
	// join, dead and left bound the waits: past them the workload fails
	// with what it saw, rather than wait for ever.
	join, dead, left time.Duration
}

// watcher is what one member has been told of the others (gossip.Events):
// cheap to read while memberlist works, unlike Members, which copies the
// whole list under the lock memberlist's callbacks take.
type watcher struct {
	alive atomic.Int32
	mu    sync.Mutex
	state map[string]string
}

func (w *watcher) Joined(m gossip.Member) { w.set(m.Name, gossip.StateAlive) }
func (w *watcher) Updated(gossip.Member)  {}
func (w *watcher) Left(m gossip.Member)   { w.set(m.Name, m.State) }

func (w *watcher) set(name, state string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	was := w.state[name]
	if was == state {
		return
	}
	if was == gossip.StateAlive {
		w.alive.Add(-1)
	}
	if state == gossip.StateAlive {
		w.alive.Add(1)
	}
	w.state[name] = state
}

func (w *watcher) of(name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state[name]
}

// shutdownAll stops the members, side by side, and returns once all have
// stopped or a minute has passed: a member's memberlist waits for its
// listeners, which wait for its handlers, and in a storm of suspicions
// (members starved of CPU suspecting each other) those queue on its locks
// for a long time. Whatever is still stopping ends with the process, which
// ends with the workload.
func shutdownAll(ms *[]*gossip.Gossip) {
	var wg sync.WaitGroup
	for _, g := range *ms {
		wg.Go(func() { g.Shutdown() })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "gossip: the members had not all stopped after a minute; the process's end stops them")
	}
}

// gossipWorkload: members join through the first one's address; the time
// until each sees all the others alive. Then one member stops without a
// goodbye, and another leaves saying goodbye: the time until all the
// others see each gone.
func gossipWorkload(ctx context.Context, e *env, r gossipRun) ([]namedResult, error) {
	n := r.members
	if r.heap > 0 {
		debug.SetMemoryLimit(r.heap)
		debug.SetGCPercent(-1)
	}
	key, err := gossip.NewKey()
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(e.tmp, gossip.KeyFile)
	if err := gossip.WriteKeyFile(keyFile, [][]byte{key}); err != nil {
		return nil, err
	}
	var ms []*gossip.Gossip
	var ws []*watcher
	defer shutdownAll(&ms)
	for i := range n {
		name := fmt.Sprintf("member-%03d", i)
		meta := gossip.Meta{Node: syncproto.NodeIDFromKey([]byte(name)), Name: name, Role: "field", District: "Cayo",
			MinProto: syncproto.MinVersion, MaxProto: syncproto.MaxVersion}
		w := &watcher{state: map[string]string{}}
		g, err := gossip.Start(gossip.Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Profile: r.profile,
			Meta: func() gossip.Meta { return meta }, Events: w, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, fmt.Errorf("member %d of %d: %w", i+1, n, err)
		}
		ms, ws = append(ms, g), append(ws, w)
	}
	// wait polls cond until it holds or within has passed; progress says
	// how far it got, for the error and for a line every 30 s on stderr
	// while it waits.
	wait := func(what string, within time.Duration, cond func() bool, progress func() string) (time.Duration, error) {
		start := time.Now()
		said := start
		for !cond() {
			if time.Since(start) > within {
				return 0, fmt.Errorf("%s gossip: %s: not within %v (%s)", r.name, what, within, progress())
			}
			if time.Since(said) > 30*time.Second {
				fmt.Fprintf(os.Stderr, "%s: %s: %.0fs, %s\n", r.name, what, time.Since(start).Seconds(), progress())
				said = time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Since(start), nil
	}

	// Each member joins through one that has joined already (the first
	// member, to begin with), as a node joins through the relay it knows,
	// and tries again through another if the join fails: a member whose
	// every join failed would never be seen.
	var joinedMu sync.Mutex
	joined := []string{ms[0].Addr()}
	contact := func() string {
		joinedMu.Lock()
		defer joinedMu.Unlock()
		return joined[rand.IntN(len(joined))]
	}
	stop := profile(r.name + "-join")
	start, cpu := time.Now(), cpuTime()
	var wg sync.WaitGroup
	var joinErrs, joinsDone atomic.Int32
	var firstErr atomic.Value
	limit := r.joiners
	if limit == 0 {
		limit = n
	}
	slots := make(chan struct{}, limit)
	// giveUp stops the joins not yet begun once the wait has failed.
	giveUp := make(chan struct{})
	wg.Go(func() {
		for _, g := range ms[1:] {
			select {
			case slots <- struct{}{}:
			case <-giveUp:
				return
			}
			wg.Go(func() {
				defer func() { <-slots }()
				for range 5 {
					_, err := g.Join([]string{contact()})
					if err == nil {
						joinedMu.Lock()
						joined = append(joined, g.Addr())
						joinedMu.Unlock()
						joinsDone.Add(1)
						return
					}
					joinErrs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					select {
					case <-giveUp:
						return
					default:
					}
				}
			})
		}
	})
	seeAll := func() bool {
		for _, w := range ws {
			if int(w.alive.Load()) != n-1 {
				return false
			}
		}
		return true
	}
	joinProgress := func() string {
		all, least := 0, n
		for _, w := range ws {
			a := int(w.alive.Load()) + 1
			least = min(least, a)
			if a == n {
				all++
			}
		}
		s := fmt.Sprintf("%d of %d members see all %d alive, the least %d; %d of %d joined", all, n, n, least, joinsDone.Load(), n-1)
		if k := joinErrs.Load(); k > 0 {
			s += fmt.Sprintf("; %d attempts to join failed, the first: %v", k, firstErr.Load())
		}
		return s
	}
	_, err = wait("everyone sees everyone", r.join, seeAll, joinProgress)
	joinTime, joinCPU := time.Since(start), cpuTime()-cpu
	stop()
	close(giveUp)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	how := fmt.Sprintf("%s profile", r.profileName)
	joinHow := how
	if r.joiners > 0 {
		joinHow += fmt.Sprintf(", at most %d joining at once", r.joiners)
	}
	rows := []namedResult{{name: r.name + "-gossip-join", what: fmt.Sprintf("gossip: %d members join, each through one already in (the first, to begin with) → all see all (%s)", n, joinHow),
		result: result{Elapsed: joinTime, Extra: fmt.Sprintf("; %.1f CPU-seconds", joinCPU.Seconds())}}}

	gone := func(name, state string, others []*watcher) (time.Duration, error) {
		return wait(name+" "+state+" everywhere", r.dead, func() bool {
			for _, w := range others {
				if w.of(name) != state {
					return false
				}
			}
			return true
		}, func() string {
			seen := 0
			for _, w := range others {
				if w.of(name) == state {
					seen++
				}
			}
			return fmt.Sprintf("%d of %d see it %s", seen, len(others), state)
		})
	}
	// A member that stops answering (killed, powered off).
	dead := ms[n-1]
	dead.Shutdown()
	cpu = cpuTime()
	d, err := gone(fmt.Sprintf("member-%03d", n-1), gossip.StateDead, ws[:n-1])
	if err != nil {
		return rows, err
	}
	rows = append(rows, namedResult{name: r.name + "-gossip-dead", what: fmt.Sprintf("gossip: a member stops answering → the %d others report it dead (%s)", n-1, how),
		result: result{Elapsed: d, Extra: fmt.Sprintf("; meanwhile the members used %.2f of a core", (cpuTime()-cpu).Seconds()/d.Seconds())}})
	// A member that leaves saying goodbye.
	left := ms[n-2]
	t0 := time.Now()
	if err := left.Leave(5 * time.Second); err != nil {
		return rows, err
	}
	r.dead = r.left
	if _, err := gone(fmt.Sprintf("member-%03d", n-2), gossip.StateLeft, ws[:n-2]); err != nil {
		return rows, err
	}
	rows = append(rows, namedResult{name: r.name + "-gossip-left", what: fmt.Sprintf("gossip: a member leaves with a goodbye → the %d others report it left (%s)", n-2, how),
		result: result{Elapsed: time.Since(t0)}})
	return rows, nil
}
