package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"lifeline/node"
)

func runStatus(ctx context.Context, e *env, fs *flagSet, args []string) error {
	return view(ctx, e, fs, args, func(n *node.Node) (node.Status, error) { return n.Status(ctx) }, printStatus)
}

// printStatus is the status as people read it.
func printStatus(w io.Writer, n *node.Node, st node.Status) error {
	fmt.Fprintf(w, "node %s: %s, %s district, id %s\n", node.Printable(st.Name), st.Role, node.Printable(st.District), st.Node)
	if st.Renew {
		fmt.Fprintf(w, "its certificate ends %s: renew it (lifeline enroll request, signed at HQ, then enroll install)\n", st.Certificate)
	}
	types := make([]string, 0, len(st.Records))
	total := 0
	for t, c := range st.Records {
		types = append(types, t)
		total += c
	}
	sort.Strings(types)
	fmt.Fprintf(w, "%d records", total)
	for i, t := range types {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(w, "%s%d %s", sep, st.Records[t], node.Printable(t))
	}
	fmt.Fprintln(w)
	printDataKeys(w, st)
	if b, err := n.PhotoBudget(); err == nil && b.Photos > 0 {
		fmt.Fprintf(w, "%d photos, %d bytes (lifeline photo budget says more)\n", b.Photos, b.Used)
		if b.Over {
			fmt.Fprintln(w, "photos are over their budget: nothing more can be dropped; raise it or free the disk")
		}
		if waiting, arriving, err := n.PhotosWaiting(); err == nil && waiting+arriving > 0 {
			fmt.Fprintf(w, "%d photos wait to reach headquarters (it has not said it holds their full images), %d arriving in part\n", waiting, arriving)
		}
	}
	fmt.Fprintf(w, "%d in conflict, %d deleted, %d changes from %d nodes", st.Conflicts, st.Deleted, st.Changes, st.Origins)
	if st.Held > 0 {
		fmt.Fprintf(w, ", %d held (stamped ahead of this clock)", st.Held)
	}
	if st.Quarantined > 0 {
		fmt.Fprintf(w, ", %d kept aside (lifeline quarantine lists them)", st.Quarantined)
	}
	fmt.Fprintln(w)
	if st.Unconfirmed == 0 {
		fmt.Fprintln(w, "every change made here is confirmed by the ledger at HQ")
	} else {
		fmt.Fprintf(w, "%d changes made here are not confirmed by the ledger at HQ yet\n", st.Unconfirmed)
	}
	if r := st.Raft; r != nil {
		role := "non-voter"
		if r.Voter {
			role = "voter"
		}
		fmt.Fprintf(w, "ledger: %s (%s), leader %s, height %d", r.State, role, node.Printable(orNone(r.Leader)), r.Height)
		if r.AsOf != "" {
			fmt.Fprintf(w, " (as of %s)", r.AsOf)
		}
		fmt.Fprintln(w)
		if len(r.Queued) > 0 {
			fmt.Fprintf(w, "%d decisions queued here wait for the ledger to apply them, and take effect nowhere until it does: %s\n",
				len(r.Queued), strings.Join(r.Queued, ", "))
		}
		for _, c := range r.Refused {
			fmt.Fprintf(w, "ledger refused a command queued here, dropped from the queue: %s at %s: %s\n",
				node.Printable(c.Command), c.At.Format(time.RFC3339), node.Printable(c.Reason))
		}
	}
	if len(st.Peers) > 0 {
		fmt.Fprintf(w, "peers (those heard of in the last %d days):\n", int(node.PeerExpiry.Hours()/24))
		for _, p := range st.Peers {
			fmt.Fprintf(w, "  %-20s %-6s %-12s %-8s last sync %s", nodeLabel(p.Name, p.Node), node.Printable(string(p.Role)), node.Printable(p.District),
				node.Printable(gossipState(p.Gossip)), orNone(p.LastSync))
			if p.Error != "" {
				fmt.Fprintf(w, "  (last attempt failed: %s)", node.Printable(p.Error))
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// gossipState says how the running node sees a peer.
func gossipState(s string) string {
	switch s {
	case "":
		return "-"
	case "dead":
		return "lost"
	}
	return s
}

// printDataKeys says whose personal fields the node reads.
func printDataKeys(w io.Writer, st node.Status) {
	if len(st.DataKeys) == 0 {
		fmt.Fprintln(w, "personal fields: no key from headquarters yet; what is saved here is sealed for this node alone until one session with a relay or HQ brings it")
		return
	}
	var names []string
	for d, epoch := range st.DataKeys {
		if d == "" {
			d = "headquarters"
		}
		names = append(names, fmt.Sprintf("%s (key %d)", node.Printable(d), epoch))
	}
	sort.Strings(names)
	fmt.Fprintf(w, "personal fields readable here: %s\n", strings.Join(names, ", "))
}
