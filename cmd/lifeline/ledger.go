package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"lifeline/node"
	"lifeline/syncproto"
)

func init() {
	register(command{name: "revoke", summary: "revoke a node (at headquarters): every node refuses it", run: runRevoke})
	register(command{name: "ledger member", summary: "make a relay a voter or a non-voter of the ledger, or no member (at headquarters)", run: runLedgerMember})
	register(command{name: "kits publish", summary: "publish a kit file to every relay and HQ through the ledger (at headquarters)", run: runKitsPublish})
}

func runRevoke(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "revoke", "--data HQDIR --node ID|NAME --reason TEXT")
	who := fs.String("node", "", "the node's id, or its name as headquarters knows it")
	reason := fs.String("reason", "", "why, for the record (e.g. laptop stolen)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *who == "" || strings.TrimSpace(*reason) == "" {
		return usagef("--node and --reason are required")
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		id, err := nodeID(ctx, n, *who)
		if err != nil {
			return err
		}
		if err := n.Revoke(ctx, id, *reason); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revocation of %s queued; the running node proposes it to the ledger\n", id)
		return nil
	})
}

func runLedgerMember(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "ledger member", "--data HQDIR --node ID|NAME (--voter | --nonvoter | --remove) [--member-addr HOST:PORT]")
	who := fs.String("node", "", "the relay's id, or its name as headquarters knows it")
	voter := fs.Bool("voter", false, "it votes")
	nonvoter := fs.Bool("nonvoter", false, "it follows the ledger without voting")
	remove := fs.Bool("remove", false, "it takes no part in the ledger")
	addr := fs.String("member-addr", "", "where its port is, host:port, when gossip does not reach it")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	chosen := 0
	for _, b := range []bool{*voter, *nonvoter, *remove} {
		if b {
			chosen++
		}
	}
	if *who == "" || chosen != 1 {
		return usagef("--node and one of --voter, --nonvoter, --remove are required")
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		id, err := nodeID(ctx, n, *who)
		if err != nil {
			return err
		}
		if err := n.SetMember(ctx, id, *voter, *remove, *addr); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "decision on %s queued; the running node proposes it to the ledger\n", id)
		return nil
	})
}

// nodeID reads a node's id, or finds the node of that name among those n
// has met.
func nodeID(ctx context.Context, n *node.Node, idOrName string) (syncproto.NodeID, error) {
	id, err := syncproto.ParseNodeID(idOrName)
	if err == nil {
		return id, nil
	}
	known, err := n.KnownNodes(ctx)
	if err != nil {
		return id, err
	}
	found := false
	for _, k := range known {
		if k.Name == idOrName {
			id, found = k.Node, true
		}
	}
	if !found {
		return id, fmt.Errorf("no node %q: give its id, or the name of a node this one has met", idOrName)
	}
	return id, nil
}

func runKitsPublish(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "kits publish", "--data HQDIR FILE.yaml")
	pos, err := fs.parse(args, "FILE (a kit file)")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		k, err := n.PublishKit(ctx, filepath.Base(pos[0]), data)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "kit %s %s queued; the running node publishes it through the ledger\n", k.Name, k.Version)
		return nil
	})
}

func init() {
	register(command{name: "gossip rotate", summary: "replace the deployment's gossip key without a restart (at a running HQ)", run: runGossipRotate})
}

func runGossipRotate(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "gossip rotate", "--data HQDIR [--step DURATION]")
	step := fs.Duration("step", 30*time.Second, "time between the rotation's steps (install, use, remove), for the news to reach every member")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		if err := n.RequestKeyRotation(ctx, *step); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "key rotation requested; the running HQ node spreads the new key in three steps %v apart\n", *step)
		return nil
	})
}

func init() {
	register(command{name: "ledger log", summary: "list what the ledger committed, in commit order (relays and HQ)", run: runLedgerLog})
}

func runLedgerLog(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "ledger log", "--data DIR [--after POSITION] [--limit N] [--json]")
	after := fs.Uint64("after", 0, "list from after this position (the last one a previous run printed)")
	limit := fs.Int("limit", 0, "list at most this many (0 for all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		if n.Self().Role.Field() {
			return fmt.Errorf("%s is a field node: the ledger is kept by relays and HQ", n.Self().Name)
		}
		log, err := n.LedgerLog(ctx, *after, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, log)
		}
		return printLedgerLog(e.stdout, log)
	})
}

// printLedgerLog is a table of the ledger's commits, one a line.
func printLedgerLog(w io.Writer, log []node.LedgerEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POSITION\tENTRY\tORIGIN\tLANE\tCHANGES")
	for _, l := range log {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d-%d (%d)\n", l.Position, l.Entry, nodeLabel(l.Name, l.Node), l.Lane, l.First, l.Last, l.Last-l.First+1)
	}
	return tw.Flush()
}
