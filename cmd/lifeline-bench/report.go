package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"lifeline/syncproto"
)

// R1: the digest and headquarters' report of a node that holds many
// records, read from what the store keeps up to date.
func init() {
	for _, n := range []int{100_000, 1_000_000} {
		register(workload{name: fmt.Sprintf("R1-digest-report-%dk", n/1000), what: fmt.Sprintf("digest and report of %d records", n),
			rows: func(ctx context.Context, e *env) ([]namedResult, error) { return digestReport(ctx, e, n) }})
	}
}

// copies writes the workload's damage assessments again and again, each
// time with new ids, until there are n lines.
func copies(damage string, n int, w io.Writer) error {
	b, err := os.ReadFile(damage)
	if err != nil {
		return err
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	bw := bufio.NewWriter(w)
	for i := range n {
		line := lines[i%len(lines)]
		// Each line starts {"id":"<36 characters>".
		const prefix = `{"id":"`
		if !bytes.HasPrefix(line, []byte(prefix)) || len(line) < len(prefix)+37 {
			return fmt.Errorf("line %d of %s does not start with its id", i%len(lines)+1, damage)
		}
		fmt.Fprintf(bw, "%s%s%s\n", prefix, syncproto.NewRecordID(), line[len(prefix)+36:])
	}
	return bw.Flush()
}

// digestReport imports n records into a new HQ node, then reads its digest
// and its report five times each; the medians count.
func digestReport(ctx context.Context, e *env, n int) ([]namedResult, error) {
	file := filepath.Join(e.tmp, "records.ndjson")
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := copies(e.damage, n, f); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	nd, err := newHQ(ctx, filepath.Join(e.tmp, "hq"))
	if err != nil {
		return nil, err
	}
	defer nd.Close()
	in, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := nd.Import(ctx, "damage-assessment", in, "bench", nil)
	imported := time.Since(start)
	in.Close()
	if err != nil {
		return nil, err
	}
	if res.Added != n {
		return nil, fmt.Errorf("imported %d of %d", res.Added, n)
	}
	os.Remove(file)
	var digests, reports []time.Duration
	for range 5 {
		start := time.Now()
		if _, err := nd.Digest(ctx); err != nil {
			return nil, err
		}
		digests = append(digests, time.Since(start))
		start = time.Now()
		rep, err := nd.Report(ctx)
		if err != nil {
			return nil, err
		}
		reports = append(reports, time.Since(start))
		if got := rep.Total.Records["damage-assessment"]; got != n {
			return nil, fmt.Errorf("the report counts %d assessments of %d", got, n)
		}
	}
	extra := fmt.Sprintf("; median of 5; the import took %.1fs (%.0f records/s)", imported.Seconds(), float64(n)/imported.Seconds())
	return []namedResult{
		{name: fmt.Sprintf("R1-digest-%dk", n/1000), what: fmt.Sprintf("digest of %d records", n), result: result{Records: n, Elapsed: median(digests), Extra: extra}},
		{name: fmt.Sprintf("R1-report-%dk", n/1000), what: fmt.Sprintf("report of %d records", n), result: result{Records: n, Elapsed: median(reports), Extra: "; median of 5"}},
	}, nil
}
