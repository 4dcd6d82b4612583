package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/syncproto"
)

// listNode is a node holding the benchmark workload's first n damage
// assessments.
func listNode(b *testing.B, n int) *node.Node {
	b.Helper()
	ctx := context.Background()
	f, err := os.Open("../../fieldkits/testdata/workload.ndjson.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	var lines bytes.Buffer
	sc := bufio.NewScanner(z)
	sc.Buffer(nil, 1<<20)
	for i := 0; i < n && sc.Scan(); i++ {
		lines.Write(sc.Bytes())
		lines.WriteByte('\n')
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = b.TempDir()
	if err := node.Init(ctx, cfg, node.Identity{Name: "cayo-07", Role: syncproto.RoleField, District: "Cayo"}); err != nil {
		b.Fatal(err)
	}
	nd, err := node.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nd.Close() })
	if res, err := nd.Import(ctx, "damage-assessment", &lines, "bench", nil); err != nil || res.Added != n {
		b.Fatalf("imported %d of %d: %v", res.Added, n, err)
	}
	return nd
}

// liveHeap is the heap memory the last garbage collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakLive samples liveHeap until stop is closed and returns the most it
// saw.
func peakLive(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, liveHeap())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// Listing every record of a store holds a few records at a time: the
// most heap memory live while the list is made and printed, past what was
// live before, is reported per record listed (peak-live-B/record), beside
// what the listing allocates in all per record (alloc-B/record). Held
// whole, a listing's peak grows with the store and its figure per record
// stays; streamed, its peak does not grow, and its figure per record falls
// as the store grows.
func BenchmarkRecordList(b *testing.B) {
	// The larger store lists more than a table keeps in memory.
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			ctx := context.Background()
			nd := listNode(b, n)
			var peak uint64
			allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
			metrics.Read(allocs)
			before := allocs[0].Value.Uint64()
			b.ResetTimer()
			for range b.N {
				runtime.GC()
				base := liveHeap()
				stop := make(chan struct{})
				live := peakLive(stop)
				if err := list(ctx, io.Discard, nd, node.Query{Type: "damage-assessment"}, "", 0); err != nil {
					b.Fatal(err)
				}
				close(stop)
				if p := <-live; p > base {
					peak = max(peak, p-base)
				}
			}
			b.StopTimer()
			metrics.Read(allocs)
			b.ReportMetric(float64(allocs[0].Value.Uint64()-before)/float64(n*b.N), "alloc-B/record")
			b.ReportMetric(float64(peak)/float64(n), "peak-live-B/record")
		})
	}
}
