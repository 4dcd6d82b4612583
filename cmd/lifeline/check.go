package main

import (
	"context"
	"fmt"
)

func init() {
	register(command{name: "check", summary: "check the store file whole (SQLite's integrity check); exit 1 if it is damaged", run: runCheck})
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "check", "--data DIR")
	nf := addNodeFlags(fs, e)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.IntegrityCheck(ctx)
	if err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("the store in %s is damaged: %s", nf.data, res)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
