package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lifeline/syncproto"
)

func init() {
	register(command{name: "revoke", summary: "revoke a node (at headquarters): every node refuses it", run: runRevoke})
	register(command{name: "kits publish", summary: "publish a kit file to every relay and HQ through the ledger (at headquarters)", run: runKitsPublish})
}

func runRevoke(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "revoke", "--data HQDIR --node ID|NAME --reason TEXT")
	nf := addNodeFlags(fs, e)
	who := fs.String("node", "", "the node's id, or its name as headquarters knows it")
	reason := fs.String("reason", "", "why, for the record (e.g. laptop stolen)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *who == "" || strings.TrimSpace(*reason) == "" {
		return usagef("--node and --reason are required")
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	id, err := syncproto.ParseNodeID(*who)
	if err != nil {
		known, lerr := n.KnownNodes(ctx)
		if lerr != nil {
			return lerr
		}
		found := false
		for _, k := range known {
			if k.Name == *who {
				id, found = k.Node, true
			}
		}
		if !found {
			return fmt.Errorf("no node %q: give its id, or the name of a node this one has met", *who)
		}
	}
	if err := n.Revoke(ctx, id, *reason); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revocation of %s queued; the running node proposes it to the ledger\n", id)
	return nil
}

func runKitsPublish(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "kits publish", "--data HQDIR FILE.yaml")
	nf := addNodeFlags(fs, e)
	pos, err := parse(fs, args, "FILE (a kit file)")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	k, err := n.PublishKit(ctx, filepath.Base(pos[0]), data)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "kit %s %s queued; the running node publishes it through the ledger\n", k.Name, k.Version)
	return nil
}

func init() {
	register(command{name: "gossip rotate", summary: "replace the deployment's gossip key without a restart (at a running HQ)", run: runGossipRotate})
}

func runGossipRotate(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "gossip rotate", "--data HQDIR [--step DURATION]")
	nf := addNodeFlags(fs, e)
	step := fs.Duration("step", 30*time.Second, "time between the rotation's steps (install, use, remove), for the news to reach every member")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.RequestKeyRotation(ctx, *step); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "key rotation requested; the running HQ node spreads the new key in three steps %v apart\n", *step)
	return nil
}
