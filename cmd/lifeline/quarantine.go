package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"lifeline/node"
)

func init() {
	register(command{name: "quarantine", summary: "list the changes from peers kept aside: their kit or the write policy refuses them", run: runQuarantine})
}

func runQuarantine(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "quarantine", "--data DIR [--limit N] [--json]")
	limit := fs.Int("limit", 100, "at most this many, newest first (0 for all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		qs, err := n.Quarantine(ctx, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, qs)
		}
		if len(qs) == 0 {
			fmt.Fprintln(e.stdout, "no change is kept aside")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RECORD\tTYPE\tFROM\tSTAMPED\tWHY")
		for _, q := range qs {
			why := q.Reason
			if !q.Final {
				why += " (waiting)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.Record, q.Type, q.Origin, q.At, why)
		}
		return tw.Flush()
	})
}
