package main

import (
	"context"
	"fmt"

	"lifeline/node"
)

func init() {
	register(command{name: "digest", summary: "print one hex line that is equal on two nodes exactly when their records are", run: runDigest})
}

func runDigest(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "digest", "--data DIR")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		d, err := n.Digest(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%x\n", d)
		return nil
	})
}
