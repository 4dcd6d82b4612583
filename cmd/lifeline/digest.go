package main

import (
	"context"
	"fmt"

	"lifeline/node"
)

func runDigest(ctx context.Context, e *env, fs *flagSet, args []string) error {
	return fs.onNode(ctx, args, func(n *node.Node) error {
		d, err := n.Digest(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%x\n", d)
		return nil
	})
}
