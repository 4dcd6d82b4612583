package desktop

import (
	"context"
	"fmt"
	"io"

	"lifeline/node"
)

// OpenNode opens the node of cfg.DataDir, making it with id first if the
// folder holds none. A node that is not enrolled yet cannot gossip or serve
// sync: it is opened without them, and note says so.
func OpenNode(ctx context.Context, cfg node.Config, id node.Identity) (n *node.Node, note string, err error) {
	if !node.Initialised(cfg.DataDir) {
		if err := node.Init(ctx, cfg, id); err != nil {
			return nil, "", err
		}
		note = fmt.Sprintf("made a new %s node, %s of %s, in %s.", id.Role, id.Name, id.District, cfg.DataDir)
	}
	if n, err = node.Open(ctx, cfg); err != nil {
		return nil, "", err
	}
	if !n.Enrolled() && (cfg.GossipAddr != "" || cfg.SyncAddr != "") {
		n.Close()
		cfg.GossipAddr, cfg.SyncAddr, cfg.Join = "", "", nil
		if n, err = node.Open(ctx, cfg); err != nil {
			return nil, "", err
		}
		note += " It is not enrolled yet, so it does not look for peers: records stay here, or travel by bundle, until HQ enrolls it."
	}
	return n, note, nil
}

// Headless runs a node without a window until ctx ends: what the app does
// where there is no display. It says so on out, then one line for each
// change or session the node reports.
func Headless(ctx context.Context, cfg node.Config, id node.Identity, why string, out io.Writer) error {
	n, note, err := OpenNode(ctx, cfg, id)
	if err != nil {
		return err
	}
	defer n.Close()
	self := n.Self()
	fmt.Fprintf(out, "%s: running node %s (%s, %s) from %s without its window. Stop it with Ctrl-C.\n", why, self.Name, self.Role, self.District, cfg.DataDir)
	if note != "" {
		fmt.Fprintln(out, note)
	}
	return n.Run(ctx, func(e node.Event) {
		switch e.Kind {
		case node.EventChange:
			more := ""
			if e.Skipped > 0 {
				more = fmt.Sprintf(" (and %d more changes)", e.Skipped)
			}
			fmt.Fprintf(out, "record %s %s%s\n", e.Change.Record, node.Printable(e.Summary), more)
		case node.EventListening:
			fmt.Fprintf(out, "serving sync at %s\n", e.Addr)
		case node.EventGossip:
			fmt.Fprintf(out, "gossiping at %s\n", e.Addr)
		case node.EventSession:
			s := e.Session
			if s.Err != nil {
				fmt.Fprintf(out, "sync with %s failed: %s\n", node.Printable(s.Peer.Name), node.Printable(s.Err.Error()))
			} else {
				fmt.Fprintf(out, "synced with %s: %d received, %d sent\n", node.Printable(s.Peer.Name), s.Result.Received, s.Result.Sent)
			}
		}
	})
}
