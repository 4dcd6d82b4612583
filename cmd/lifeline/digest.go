package main

import (
	"context"
	"fmt"
)

func init() {
	register(command{name: "digest", summary: "print one hex line that is equal on two nodes exactly when their records are", run: runDigest})
}

func runDigest(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "digest", "--data DIR")
	nf := addNodeFlags(fs, e)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	d, err := n.Digest(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%x\n", d)
	return nil
}
