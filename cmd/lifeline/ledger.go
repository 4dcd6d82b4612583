package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"lifeline/node"
	"lifeline/syncproto"
)

func runRevoke(ctx context.Context, e *env, fs *flagSet, args []string) error {
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

func runLedgerMember(ctx context.Context, e *env, fs *flagSet, args []string) error {
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
	var named []string
	self := n.Self()
	if self.Name == idOrName {
		id = self.ID
		named = append(named, fmt.Sprintf("%s (this node)", self.ID))
	}
	for _, k := range known {
		if k.Name != idOrName || k.Node == self.ID {
			continue
		}
		id = k.Node
		what := fmt.Sprintf("%s (%s, %s, certificate until %s", k.Node, k.Role, k.District, k.NotAfter.Format(time.DateOnly))
		if revoked, err := n.IsRevoked(ctx, k.Node); err != nil {
			return id, err
		} else if revoked {
			what += ", revoked"
		}
		named = append(named, what+")")
	}
	switch len(named) {
	case 0:
		return id, fmt.Errorf("no node %q: give its id, or the name of a node this one has met", idOrName)
	case 1:
		return id, nil
	}
	// A laptop enrolled again (a replacement) may carry the name of the
	// one it replaces: which one is meant is not for a list's order to
	// decide.
	return syncproto.NodeID{}, fmt.Errorf("%d nodes are named %q: %s; give the id of the one you mean", len(named), idOrName, strings.Join(named, ", "))
}

func runKitsPublish(ctx context.Context, e *env, fs *flagSet, args []string) error {
	pos, err := fs.parse(args, "FILE (a kit file)")
	if err != nil {
		return err
	}
	f, err := node.OpenFile(pos[0])
	if err != nil {
		return err
	}
	// A kit larger than a sync hello carries is not published: a file
	// larger is another file, and is not read whole.
	data, err := io.ReadAll(io.LimitReader(f, syncproto.MaxKitNoticeBytes+1))
	f.Close()
	if err == nil && len(data) > syncproto.MaxKitNoticeBytes {
		err = fmt.Errorf("%s: larger than the %d KiB a kit may be: is it the kit file?", pos[0], syncproto.MaxKitNoticeBytes>>10)
	}
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

func runGossipRotate(ctx context.Context, e *env, fs *flagSet, args []string) error {
	step := fs.Duration("step", 30*time.Second, "time between the rotation's steps (install, use, remove), for the news to reach every member")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if err := n.RequestKeyRotation(ctx, *step); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "key rotation requested; the running HQ node spreads the new key in three steps %v apart\n", *step)
		return nil
	})
}

func runLedgerLog(ctx context.Context, e *env, fs *flagSet, args []string) error {
	after := fs.Uint64("after", 0, "list from after this position (the last one a previous run printed)")
	limit := fs.Int("limit", 0, "list at most this many (0 for all)")
	return view(ctx, e, fs, args, func(n *node.Node) ([]node.LedgerEntry, error) {
		if n.Self().Role.Field() {
			return nil, fmt.Errorf("%s is a field node: the ledger is kept by relays and HQ", n.Self().Name)
		}
		return n.LedgerLog(ctx, *after, *limit)
	}, printLedgerLog)
}

// printLedgerLog is a table of the ledger's commits, one a line.
func printLedgerLog(w io.Writer, _ *node.Node, log []node.LedgerEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POSITION\tENTRY\tORIGIN\tLANE\tCHANGES")
	for _, l := range log {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d-%d (%d)\n", l.Position, l.Entry, nodeLabel(l.Name, l.Node), l.Lane, l.First, l.Last, l.Last-l.First+1)
	}
	return tw.Flush()
}
