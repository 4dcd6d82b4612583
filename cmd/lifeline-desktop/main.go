// Command lifeline-desktop is Lifeline's desktop app: a node with its
// window. Where there is no display it runs the node without one, and says
// so.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"lifeline/desktop"
	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

func main() {
	desktop.PlainLocale()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lifeline-desktop:", err)
		os.Exit(1)
	}
}

// adjust, when set, changes the node's configuration after the flags:
// this package's tests use it to give the app bounds no flag offers.
var adjust func(*node.Config)

func run() error {
	cfg := node.DefaultConfig()
	cfg.Lang = desktop.SystemLang()
	flag.StringVar(&cfg.DataDir, "data", cfg.DataDir, "the node's data folder")
	flag.StringVar(&cfg.Lang, "lang", cfg.Lang, "language: en or es (default the system's: LC_ALL, LC_MESSAGES, LANG)")
	flag.StringVar(&cfg.SyncAddr, "sync-addr", "", "serve sync here (relays and HQ), e.g. 0.0.0.0:7420")
	flag.StringVar(&cfg.AdvertiseAddr, "advertise-addr", "", "the sync address others reach this node at, when --sync-addr listens on all interfaces")
	flag.StringVar(&cfg.GossipAddr, "gossip-addr", "0.0.0.0:7946", "gossip here to find peers by themselves (empty for none)")
	join := flag.String("join", "", "gossip addresses of nodes to join, comma separated")
	flag.StringVar(&cfg.GossipProfile, "gossip-profile", cfg.GossipProfile, "gossip timers for the network: lan, wan or satellite")
	headless := flag.Bool("headless", false, "run the node without its window")
	tab := flag.String("tab", "", "open on this tab: new, records, sync or hq")
	open := flag.String("open", "", "open this record (its id) on the records tab")
	role := flag.String("role", string(syncproto.RoleField), "role of a node made without a window on first use")
	district := flag.String("district", "Belize", "district of a node made without a window on first use")
	passFile := flag.String("passphrase-file", "", "a file whose first line is the passphrase of the node's key, if it is sealed (default $LIFELINE_PASSPHRASE; with a window and neither, the app asks for it)")
	lockAfter := flag.Duration("lock-after", desktop.DefaultLockAfter, "lock the window after this long without input (0: never): behind the sign-in where the node's people sign in, else behind the passphrase screen if the node's key is sealed")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected %q (see -h)", flag.Arg(0))
	}
	if !slices.Contains(schemas.Languages, cfg.Lang) {
		return fmt.Errorf("--lang %q: en or es", cfg.Lang)
	}
	if *join != "" {
		cfg.Join = strings.Split(*join, ",")
	}
	if adjust != nil {
		adjust(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *lockAfter < 0 {
		return fmt.Errorf("--lock-after %v: a duration such as 10m, or 0 for never", *lockAfter)
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	host, _ := os.Hostname()
	id := node.Identity{Name: "field-" + host, Role: syncproto.Role(*role), District: *district}
	cfg.Passphrase = passphrase(*passFile)
	if why := desktop.NoDisplay(); *headless || why != "" {
		if *headless {
			why = "--headless"
		}
		if cfg.Passphrase == nil {
			cfg.Passphrase = func() ([]byte, error) {
				return nil, fmt.Errorf("%w: give it with --passphrase-file FILE or $LIFELINE_PASSPHRASE", node.ErrKeySealed)
			}
		}
		return desktop.Headless(ctx, cfg, id, why, os.Stdout)
	}
	return desktop.Window(ctx, cfg, desktop.Options{Tab: *tab, Record: *open, LockAfter: *lockAfter})
}

// passphrase gives the passphrase of the node's key from the first line
// of file, else $LIFELINE_PASSPHRASE; nil when neither is given, for the
// window to ask it.
func passphrase(file string) func() ([]byte, error) {
	switch {
	case file != "":
		return func() ([]byte, error) {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("the passphrase file: %v", err)
			}
			line, _, _ := strings.Cut(string(data), "\n")
			line = strings.TrimSuffix(line, "\r")
			if line == "" {
				return nil, fmt.Errorf("the passphrase file %s: its first line is empty", file)
			}
			return []byte(line), nil
		}
	case os.Getenv("LIFELINE_PASSPHRASE") != "":
		p := []byte(os.Getenv("LIFELINE_PASSPHRASE"))
		return func() ([]byte, error) { return p, nil }
	}
	return nil
}
