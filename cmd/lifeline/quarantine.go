package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"lifeline/node"
)

func runQuarantine(ctx context.Context, e *env, fs *flagSet, args []string) error {
	limit := fs.Int("limit", 100, "at most this many, newest first (0 for all)")
	return view(ctx, e, fs, args, func(n *node.Node) ([]node.QuarantinedChange, error) { return n.Quarantine(ctx, *limit) }, printQuarantine)
}

// printQuarantine is a table of the changes kept aside, one a line.
func printQuarantine(w io.Writer, _ *node.Node, qs []node.QuarantinedChange) error {
	if len(qs) == 0 {
		fmt.Fprintln(w, "no change is kept aside")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECORD\tTYPE\tFROM\tSTAMPED\tWHY")
	for _, q := range qs {
		why := q.Reason
		switch {
		case q.WaitsForField != "":
			why += fmt.Sprintf(" (waiting: merges only if the record's %s is changed to allow it)", node.Printable(q.WaitsForField))
		case !q.Final:
			why += " (waiting)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.Record, q.Type, q.Origin, q.At, why)
	}
	return tw.Flush()
}
