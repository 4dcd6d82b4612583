package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"lifeline/node"
	"lifeline/syncproto"
)

func runRun(ctx context.Context, e *env, fs *flagSet, args []string) error {
	def := node.DefaultConfig()
	syncAddr := fs.String("sync-addr", "", "serve sync (and, on relays and HQ, the ledger) here, e.g. 0.0.0.0:7420 (the node must be enrolled)")
	advertise := fs.String("advertise-addr", "", "the sync address other nodes reach this one at, when --sync-addr listens on all interfaces")
	gossipAddr := fs.String("gossip-addr", "", "gossip here (UDP and TCP), e.g. 0.0.0.0:7946, to find peers by themselves")
	gossipAdvertise := fs.String("gossip-advertise", "", "the gossip address others reach this one at, when not --gossip-addr")
	join := fs.String("join", "", "gossip addresses of nodes to join, comma separated")
	profile := fs.String("gossip-profile", def.GossipProfile, "gossip timers for the network: lan, wan or satellite")
	bootstrap := fs.Bool("bootstrap", false, "start a new ledger with this node as its first voter (the first HQ, once)")
	syncEvery := fs.Duration("sync-every", def.SyncEvery, "look for peers to sync with this often (and at once when one appears)")
	idle := fs.Duration("sync-idle", def.SyncIdle, "end a sync session whose peer is silent this long")
	role := fs.String("role", string(syncproto.RoleField), "role of a node made on first use")
	district := fs.String("district", "Belize", "district of a node made on first use")
	host, _ := os.Hostname()
	name := fs.String("name", "field-"+host, "name of a node made on first use")
	api := addAPIFlags(fs)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if !node.Initialised(fs.cfg.DataDir) {
		if err := node.Init(ctx, fs.cfg, node.Identity{Name: *name, Role: syncproto.Role(*role), District: *district}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "This is a new node: made %s in %s.\n", *name, fs.cfg.DataDir)
	}
	// The settings of a running node are given only now: a node made above
	// is made as init makes it.
	cfg := &fs.cfg
	cfg.SyncAddr, cfg.SyncIdle, cfg.AdvertiseAddr = *syncAddr, *idle, *advertise
	cfg.GossipAddr, cfg.GossipAdvertise, cfg.GossipProfile = *gossipAddr, *gossipAdvertise, *profile
	cfg.Bootstrap, cfg.SyncEvery = *bootstrap, *syncEvery
	if *join != "" {
		cfg.Join = strings.Split(*join, ",")
	}
	cfg.Log = slog.New(slog.NewTextHandler(e.stderr, nil))
	return fs.withNode(ctx, func(n *node.Node) error {
		if err := showNode(ctx, e, n); err != nil {
			return err
		}
		stopAPI, err := startAPI(ctx, e, n, api, cfg.Log)
		if err != nil {
			return err
		}
		defer stopAPI()
		fmt.Fprintf(e.stdout, "\nFollowing changes to %s (records added with lifeline record add/import appear here). Ctrl-C stops.\n", cfg.DataDir)
		return n.Run(ctx, func(ev node.Event) { follow(e, ev) })
	})
}

// follow prints what the running node reports: where it serves, its sync
// sessions, and the records that change.
func follow(e *env, ev node.Event) {
	switch ev.Kind {
	case node.EventListening:
		fmt.Fprintf(e.stdout, "serving sync on %s\n", ev.Addr)
		return
	case node.EventGossip:
		fmt.Fprintf(e.stdout, "gossiping on %s\n", ev.Addr)
		return
	case node.EventSession:
		s := ev.Session
		if s.Err != nil {
			fmt.Fprintf(e.stdout, "%s  sync with %s failed: %s\n", time.Now().Format("15:04:05"), peerName(s), node.Printable(s.Err.Error()))
		} else {
			fmt.Fprintf(e.stdout, "%s  synced with %s: sent %d, received %d changes\n", time.Now().Format("15:04:05"), peerName(s), s.Result.Sent, s.Result.Received)
		}
		return
	}
	c := ev.Change
	verb := "updated"
	if ev.New {
		verb = "added"
	}
	fmt.Fprintf(e.stdout, "%s  %s %s %s %s  %s\n", time.Now().Format("15:04:05"), byline(c.Author, ev.Via, c.Origin.String()), verb,
		node.Printable(c.Type), c.Record, node.Printable(ev.Summary))
	if ev.Skipped > 0 {
		fmt.Fprintf(e.stdout, "          ... and %d more changes\n", ev.Skipped)
	}
}

func peerName(s node.SessionEvent) string {
	if s.Peer.Name == "" {
		return node.Printable(s.Addr)
	}
	return fmt.Sprintf("%s (%s, %s)", node.Printable(s.Peer.Name), s.Peer.Role, node.Printable(s.Peer.District))
}

// showNode prints who the node is, its kits and its latest records.
func showNode(ctx context.Context, e *env, n *node.Node) error {
	st, err := n.Status(ctx)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "Lifeline %s node %s, %s district (id %s)\n\n", st.Role, node.Printable(st.Name), node.Printable(st.District), st.Node)
	fmt.Fprintln(w, "Field kits:")
	for _, k := range n.Kits().Kits() {
		fmt.Fprintf(w, "  %-22s %s\n", k.Name, k.Title.In(n.Config().Lang))
		for _, t := range k.Types {
			fmt.Fprintf(w, "      %-22s %6d records\n", t.Name, st.Records[t.Name])
		}
	}
	if st.Conflicts > 0 {
		fmt.Fprintf(w, "\n%d records have a conflict to decide (lifeline record list --conflicts).\n", st.Conflicts)
	}
	total := 0
	for _, c := range st.Records {
		total += c
	}
	if total == 0 {
		fmt.Fprintln(w, "\nNo records yet. Add one from another terminal, for example:")
		fmt.Fprintf(w, "  echo '{\"full_name\":\"Maria Pop\",\"district\":\"Toledo\",\"last_seen_place\":\"Punta Gorda market\",\"status\":\"missing\",\"reporter_name\":\"Ana Cho\",\"reported_at\":\"%s\"}' | bin/lifeline record add --data %s --type missing-person\n",
			time.Now().UTC().Format(time.RFC3339), n.Config().DataDir)
		return nil
	}
	fmt.Fprintf(w, "\nLatest records (of %d):\n", total)
	for v, err := range n.Records(ctx, node.Query{Newest: true, Limit: 10}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s  %-20s %s\n", v.ID, node.Printable(v.Type), node.Printable(n.LogSummary(v)))
	}
	return nil
}
