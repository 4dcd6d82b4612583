package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lifeline/node"
	"lifeline/syncproto"
)

// W4: local writes of the 50,000 damage assessments, (a) one durable write
// call each from many writers at once, (b) as one bulk import.
func init() {
	register(workload{name: "W4a-single-1", what: "one durable write per call, 1 writer", run: func(ctx context.Context, e *env) (result, error) {
		return singleWrites(ctx, e, 1, 3000)
	}})
	register(workload{name: "W4a-single-64", what: "one durable write per call, 64 writers (group commit)", run: func(ctx context.Context, e *env) (result, error) {
		return singleWrites(ctx, e, 64, 50000)
	}})
	register(workload{name: "W4b-bulk", what: "bulk import, to the durable commit", run: bulkImport})
}

func newNode(ctx context.Context, dir string) (*node.Node, error) {
	return newNodeAs(ctx, dir, node.Identity{Name: "bench", Role: syncproto.RoleField, District: "Cayo"})
}

// newHQ makes and opens headquarters' node in dir, never started.
func newHQ(ctx context.Context, dir string) (*node.Node, error) {
	return newNodeAs(ctx, dir, node.Identity{Name: "hq", Role: syncproto.RoleHQ, District: "Belize"})
}

func newNodeAs(ctx context.Context, dir string, id node.Identity) (*node.Node, error) {
	cfg := node.DefaultConfig()
	cfg.DataDir = dir
	if err := node.Init(ctx, cfg, id); err != nil {
		return nil, err
	}
	return node.Open(ctx, cfg)
}

// singleWrites saves records one Add call each, from several goroutines.
func singleWrites(ctx context.Context, e *env, writers, records int) (result, error) {
	read := 0
	src, err := os.Open(e.damage)
	if err != nil {
		return result{}, err
	}
	defer src.Close()
	sc := bufio.NewScanner(src)
	sc.Buffer(nil, 1<<20)
	var mu sync.Mutex
	next := func() ([]byte, int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if read >= records || !sc.Scan() {
			return nil, 0, false
		}
		read++
		return append([]byte(nil), sc.Bytes()...), read, true
	}
	n, err := newNode(ctx, e.tmp)
	if err != nil {
		return result{}, err
	}
	defer n.Close()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				line, no, ok := next()
				if !ok {
					return
				}
				if _, err := n.Add(ctx, "damage-assessment", line, "bench"); err != nil {
					errs <- fmt.Errorf("line %d: %w", no, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	return result{Records: read, Elapsed: elapsed}, verifyCount(ctx, n, read)
}

// bulkImport imports the 50,000 records as one durable batch from an NDJSON
// file, timed from the first byte read to the commit on disk, three times on
// fresh nodes; the median counts.
func bulkImport(ctx context.Context, e *env) (result, error) {
	file := e.damage
	var times []time.Duration
	var closing time.Duration
	for i := range 3 {
		n, err := newNode(ctx, filepath.Join(e.tmp, fmt.Sprint(i)))
		if err != nil {
			return result{}, err
		}
		f, err := os.Open(file)
		if err != nil {
			return result{}, err
		}
		start := time.Now()
		res, err := n.Import(ctx, "damage-assessment", f, "bench", nil)
		times = append(times, time.Since(start))
		f.Close()
		if err == nil && res.Added != 50000 {
			err = fmt.Errorf("imported %d of 50000", res.Added)
		}
		if err != nil {
			n.Close()
			return result{}, err
		}
		closeStart := time.Now()
		if err := n.Close(); err != nil {
			return result{}, err
		}
		closing = max(closing, time.Since(closeStart))
	}
	return result{Records: 50000, Elapsed: median(times), Extra: fmt.Sprintf("; median of 3; closing (checkpoint) up to %.2fs more", closing.Seconds())}, nil
}

func verifyCount(ctx context.Context, n *node.Node, want int) error {
	st, err := n.Status(ctx)
	if err != nil {
		return err
	}
	if got := st.Records["damage-assessment"]; got != want {
		return fmt.Errorf("%d records stored, %d written", got, want)
	}
	return nil
}
