package main

import (
	"context"
	"fmt"

	"lifeline/node"
)

func init() {
	register(command{name: "check", summary: "check the store file whole (SQLite's integrity check); exit 1 if it is damaged", run: runCheck})
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "check", "--data DIR")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
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
