package main

import (
	"context"
	"fmt"

	"lifeline/node"
)

func runCheck(ctx context.Context, e *env, fs *flagSet, args []string) error {
	return fs.onNode(ctx, args, func(n *node.Node) error {
		res, err := n.IntegrityCheck(ctx)
		if err != nil {
			return err
		}
		if res != "ok" {
			return fmt.Errorf("the store in %s is damaged: %s", fs.cfg.DataDir, res)
		}
		fmt.Fprintln(e.stdout, "ok")
		return nil
	})
}
