package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// N1: a new laptop's first sync. HQ holds the 50,000 records, committed by
// the ledger and receipted; a new Cayo field laptop keeps Cayo's records
// (and national ones, none here). Once it starts from HQ's snapshot, once
// (another new laptop, which already holds one record of another node's,
// so that it is not new to the deployment) by a session alone. Both end
// holding the same records, checked by digest.
func init() {
	register(workload{name: "N1-first-sync", rows: firstSyncWorkload})
}

func firstSyncWorkload(ctx context.Context, e *env) ([]namedResult, error) {
	return harness(filepath.Join(e.tmp, "n1"), func(tb *benchTB) ([]namedResult, error) {
		return firstSync(ctx, e, tb)
	})
}

func firstSync(ctx context.Context, e *env, tb *benchTB) ([]namedResult, error) {
	c := nodetest.New(tb)
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) {
		deployed(cfg)
		cfg.Bootstrap = true
	})
	nodetest.Eventually(tb, 30*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	f, err := os.Open(e.damage)
	if err != nil {
		return nil, err
	}
	_, err = hq.Node.Import(ctx, "damage-assessment", f, "bench", nil)
	f.Close()
	if err != nil {
		return nil, err
	}
	held, err := hq.Node.Vector(ctx)
	if err != nil {
		return nil, err
	}
	nodetest.Eventually(tb, 2*time.Minute, "hq receipts what it holds", func() bool {
		st, err := hq.Node.Status(ctx)
		return err == nil && st.Receipts >= len(held)
	})
	laptop := func(name string) *nodetest.Member {
		return c.Add(name, syncproto.RoleField, "Cayo", func(cfg *node.Config) {
			deployed(cfg)
			cfg.SyncAddr = ""
		})
	}

	// By snapshot.
	fresh := laptop("cayo-new")
	start := time.Now()
	bySnap, err := fresh.Node.Sync(ctx, hq.Addr)
	snapTime := time.Since(start)
	if err != nil {
		return nil, err
	}
	if bySnap.Snapshot == 0 {
		return nil, fmt.Errorf("the new laptop did not start from a snapshot: %+v", bySnap)
	}
	if fresh.DigestOf(fresh) != hq.DigestOf(fresh) {
		return nil, fmt.Errorf("the laptop started from a snapshot differs from HQ")
	}

	// By session: this laptop holds one record of a neighbour's first.
	neighbour := c.Add("cayo-neighbour", syncproto.RoleField, "Cayo", func(cfg *node.Config) { deployed(cfg) })
	if _, err := neighbour.Node.Add(ctx, "damage-assessment", []byte(`{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":2,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"}`), "bench"); err != nil {
		return nil, err
	}
	known := laptop("cayo-known")
	if _, err := known.Node.Sync(ctx, neighbour.Addr); err != nil {
		return nil, err
	}
	start = time.Now()
	bySession, err := known.Node.Sync(ctx, hq.Addr)
	sessionTime := time.Since(start)
	if err != nil {
		return nil, err
	}
	if bySession.Snapshot != 0 {
		return nil, fmt.Errorf("a laptop holding another's record started from a snapshot")
	}
	rate := func(n int, d time.Duration) string { return fmt.Sprintf("%.0f records/s", float64(n)/d.Seconds()) }
	return []namedResult{
		{name: "N1-snapshot", what: fmt.Sprintf("a new Cayo laptop's first sync with HQ (50,000 records held, committed): %d changes by snapshot, then the session; %.2f MB in; %s", bySnap.Received, float64(bySnap.BytesIn)/1e6, rate(bySnap.Received, snapTime)),
			result: result{Records: bySnap.Received, Elapsed: snapTime}},
		{name: "N1-session", what: fmt.Sprintf("the same by a session alone (a laptop that holds a neighbour's record): %d changes; %.2f MB in; %s", bySession.Received, float64(bySession.BytesIn)/1e6, rate(bySession.Received, sessionTime)),
			result: result{Records: bySession.Received, Elapsed: sessionTime}},
	}, nil
}
