package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"lifeline/node"
)

func runRecordImport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	typ := fs.required("type", "the record type of every line")
	who := authorFlag(fs)
	pos, err := fs.parse(args, "FILE (an NDJSON file, - for standard input)")
	if err != nil {
		return err
	}
	var in io.Reader = e.stdin
	var size int64
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		in = f
	}
	counted := &countingReader{r: in}
	in = counted
	if strings.HasSuffix(pos[0], ".gz") {
		z, err := gzip.NewReader(in)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		in = z
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		var progress func(int, int64)
		bar := e.isTerminal(e.stderr)
		start := time.Now()
		if bar {
			progress = func(lines int, _ int64) {
				if size > 0 {
					fmt.Fprintf(e.stderr, "\rimporting: %d lines read, %3.0f%%", lines, 100*float64(counted.n)/float64(size))
				} else {
					fmt.Fprintf(e.stderr, "\rimporting: %d lines read", lines)
				}
			}
		}
		by, err := author(e, who, n)
		if err != nil {
			return err
		}
		res, err := n.Import(ctx, *typ, in, by, progress)
		if bar {
			fmt.Fprint(e.stderr, "\r\033[K")
		}
		if err != nil {
			return fmt.Errorf("%s: %w (nothing was imported)", pos[0], err)
		}
		secs := time.Since(start).Seconds()
		fmt.Fprintf(e.stdout, "imported %d records, %d already here, in %.2fs\n", res.Added, res.Skipped, secs)
		return nil
	})
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
