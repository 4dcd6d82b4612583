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
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"

	"lifeline/desktop"
	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lifeline-desktop:", err)
		os.Exit(1)
	}
}

func run() error {
	def := node.DefaultConfig()
	data := flag.String("data", def.DataDir, "the node's data folder")
	lang := flag.String("lang", def.Lang, "language: en or es")
	syncAddr := flag.String("sync-addr", "", "serve sync here (relays and HQ), e.g. 0.0.0.0:7420")
	advertise := flag.String("advertise-addr", "", "the sync address others reach this node at, when --sync-addr listens on all interfaces")
	gossipAddr := flag.String("gossip-addr", "0.0.0.0:7946", "gossip here to find peers by themselves (empty for none)")
	join := flag.String("join", "", "gossip addresses of nodes to join, comma separated")
	profile := flag.String("gossip-profile", def.GossipProfile, "gossip timers for the network: lan, wan or satellite")
	headless := flag.Bool("headless", false, "run the node without its window")
	tab := flag.String("tab", "", "open on this tab: new, records, sync or hq")
	open := flag.String("open", "", "open this record (its id) on the records tab")
	role := flag.String("role", string(syncproto.RoleField), "role of a node made without a window on first use")
	district := flag.String("district", "Belize", "district of a node made without a window on first use")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected %q (see -h)", flag.Arg(0))
	}
	if !slices.Contains(schemas.Languages, *lang) {
		return fmt.Errorf("--lang %q: en or es", *lang)
	}
	cfg := def
	cfg.DataDir, cfg.Lang = *data, *lang
	cfg.SyncAddr, cfg.AdvertiseAddr = *syncAddr, *advertise
	cfg.GossipAddr, cfg.GossipProfile = *gossipAddr, *profile
	if *join != "" {
		cfg.Join = strings.Split(*join, ",")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	host, _ := os.Hostname()
	id := node.Identity{Name: "field-" + host, Role: syncproto.Role(*role), District: *district}
	if why := noDisplay(); *headless || why != "" {
		if *headless {
			why = "--headless"
		}
		return desktop.Headless(ctx, cfg, id, why, os.Stdout)
	}
	return window(ctx, cfg, *tab, *open)
}

// noDisplay says why no window can open here, or "" if one can.
func noDisplay() string {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return ""
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
	}
	return ""
}

// window runs the app: the first start's set-up if the data folder holds
// no node, then the main window, with the node running behind it.
func window(ctx context.Context, cfg node.Config, tab, record string) error {
	// Fyne reads the user's locale from LANG and complains of C and POSIX,
	// which name none; the app's own language is --lang.
	if l := os.Getenv("LANG"); l == "" || strings.HasPrefix(l, "C") || l == "POSIX" {
		os.Setenv("LANG", "en_US.UTF-8")
	}
	a := app.NewWithID("bz.gov.nemo.lifeline")
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1100, 760))
	var (
		mu      sync.Mutex
		running *session
	)
	if record != "" && tab == "" {
		tab = "records"
	}
	start := func(n *node.Node, note string) {
		s := startSession(ctx, a, w, cfg, n)
		if tab != "" {
			if err := s.ui.Show(tab, record); err != nil {
				dialog.ShowError(err, w)
			}
		}
		mu.Lock()
		running = s
		mu.Unlock()
		if note != "" {
			dialog.ShowInformation("Lifeline", note, w)
		}
	}
	if node.Initialised(cfg.DataDir) {
		n, note, err := desktop.OpenNode(ctx, cfg, node.Identity{})
		if err != nil {
			return err
		}
		start(n, strings.TrimSpace(note))
	} else {
		desktop.Setup(ctx, w, cfg, cfg.Lang, func(n *node.Node) {
			// Reopened as OpenNode opens it: without gossip until enrolled.
			n.Close()
			n, note, err := desktop.OpenNode(ctx, cfg, node.Identity{})
			if err != nil {
				dialog.ShowError(err, w)
				return
			}
			start(n, strings.TrimSpace(note))
		})
	}
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	mu.Lock()
	defer mu.Unlock()
	if running != nil {
		return running.stop()
	}
	return nil
}

// session is the node running behind the main window.
type session struct {
	ui     *desktop.UI
	n      *node.Node
	cancel context.CancelFunc
	done   chan error
}

func startSession(ctx context.Context, a fyne.App, w fyne.Window, cfg node.Config, n *node.Node) *session {
	ctx, cancel := context.WithCancel(ctx)
	u := desktop.New(ctx, a, w, n, filepath.Join(cfg.DataDir, "drafts"))
	s := &session{ui: u, n: n, cancel: cancel, done: make(chan error, 1)}
	// Records arriving from peers refresh the screens, at most twice a
	// second however fast they come.
	var pending sync.Mutex
	dirty := false
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				pending.Lock()
				d := dirty
				dirty = false
				pending.Unlock()
				if d {
					fyne.Do(u.Refresh)
				}
			}
		}
	}()
	go func() {
		d, err := n.Start(ctx, func(e node.Event) {
			if e.Kind == node.EventChange || e.Kind == node.EventSession {
				pending.Lock()
				dirty = true
				pending.Unlock()
			}
		})
		if err == nil {
			u.SetDaemon(d)
			err = d.Wait()
			u.SetDaemon(nil)
		}
		if err != nil && ctx.Err() == nil {
			// The records stay usable in the window; only the network
			// part stopped (a port taken by another program, say).
			fyne.Do(func() {
				dialog.ShowError(fmt.Errorf("the node stopped syncing: %w. Records can still be made and read here; restart Lifeline to try again", err), w)
			})
		}
		s.done <- err
	}()
	return s
}

// stop stops the node and closes its store.
func (s *session) stop() error {
	s.cancel()
	err := <-s.done
	if cerr := s.n.Close(); err == nil {
		err = cerr
	}
	return err
}
