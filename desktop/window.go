package desktop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"

	"lifeline/node"
	"lifeline/node/identity"
)

// NoDisplay says why no window can open here, or "" if one can.
func NoDisplay() string {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return ""
	}
	x, wl := os.Getenv("DISPLAY"), os.Getenv("WAYLAND_DISPLAY")
	if x == "" && wl == "" {
		return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
	}
	// A display named but not there (a stale SSH session's DISPLAY) would
	// make the windowing library panic: it is asked first.
	if wl != "" && reachable(waylandSocket(wl)) {
		return ""
	}
	if x != "" && reachable(xSocket(x)) {
		return ""
	}
	return fmt.Sprintf("no display answers (DISPLAY=%q, WAYLAND_DISPLAY=%q)", x, wl)
}

// Options are how the window opens.
type Options struct {
	// Tab is the tab to open on: new, records, sync or hq ("" for the
	// first; records when Record is set).
	Tab string
	// Record is the id of a record to open on the records tab.
	Record string
	// LockAfter is how long the window waits without input before it
	// locks: behind the sign-in, where the node's people sign in, else
	// behind the passphrase screen, when the node's key is sealed; zero
	// never locks.
	LockAfter time.Duration
}

// Window runs the app until its window closes or ctx ends: the first
// start's set-up if the data folder holds no node, the passphrase screen
// if its key is sealed and cfg.Passphrase gives none, then the main
// window, on the tab opt names, with the node running behind it, covered
// by the sign-in where the node's people sign in.
func Window(ctx context.Context, cfg node.Config, opt Options) error {
	PlainLocale()
	a := app.NewWithID("bz.gov.nemo.lifeline")
	w := a.NewWindow("Lifeline")
	// The window asks for the screen's size once GLFW has started, which
	// making the first window does.
	w.Resize(windowSize())
	answerDialogs(w)
	following, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	go followFocus(following, w)
	var (
		mu      sync.Mutex
		running *session
	)
	tab := opt.Tab
	if opt.Record != "" && tab == "" {
		tab = "records"
	}
	start := func(n *node.Node, note string, cfg node.Config) {
		s := startSession(ctx, a, w, cfg, n, opt.LockAfter)
		if tab != "" {
			if err := s.ui.Show(tab, opt.Record); err != nil {
				dialog.ShowError(err, w)
			}
		}
		mu.Lock()
		running = s
		mu.Unlock()
		if note != "" {
			dialog.ShowInformation("Lifeline", note, w)
		}
		s.ui.RequireSignIn()
	}
	cfg = withLedger(cfg)
	sealed := false
	if node.Initialised(cfg.DataDir) {
		var err error
		if sealed, err = node.KeySealed(cfg.DataDir); err != nil {
			return err
		}
	}
	switch {
	case sealed && cfg.Passphrase == nil:
		Unlock(ctx, w, cfg, cfg.Lang, func(n *node.Node, note string, cfg node.Config) {
			start(n, strings.TrimSpace(note), cfg)
		})
	case node.Initialised(cfg.DataDir):
		n, note, err := OpenNode(ctx, cfg, node.Identity{})
		if err != nil {
			return err
		}
		start(n, strings.TrimSpace(note), cfg)
	default:
		Setup(ctx, w, cfg, cfg.Lang, func(n *node.Node, cfg node.Config) {
			// Reopened as OpenNode opens it: without gossip until enrolled,
			// and with the ledger if it made the deployment's authority.
			n.Close()
			cfg = withLedger(cfg)
			n, note, err := OpenNode(ctx, cfg, node.Identity{})
			if err != nil {
				dialog.ShowError(err, w)
				return
			}
			start(n, strings.TrimSpace(note), cfg)
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
	ui     *UI
	n      *node.Node
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error
	// refresher is the goroutine that refreshes the screens; stop waits
	// for it, so that nothing touches the window once stop returns.
	refresher sync.WaitGroup
}

// startSession runs n behind the main window, which locks after lockAfter
// without input (never when zero) if its people sign in or its key is
// sealed.
func startSession(ctx context.Context, a fyne.App, w fyne.Window, cfg node.Config, n *node.Node, lockAfter time.Duration) *session {
	s := newSession(ctx, a, w, cfg, n, nil)
	s.start()
	s.lockWhenIdle(lockAfter)
	return s
}

// lockWhenIdle starts the lock of the window: after a quiet spell of
// after (never when zero), the sign-in covers it where the node's people
// sign in, else the passphrase screen of its key, if sealed. Its ticks
// also keep the dialogs a background task opens beneath the cover.
func (s *session) lockWhenIdle(after time.Duration) *locker {
	u := s.ui
	l := u.gate
	l.after = after
	touch := l.touch
	u.onInput.Store(&touch)
	go l.run(s.ctx, u.do)
	return l
}

// newSession builds the main window's content over n; start runs the node
// behind it. post hands functions to the UI thread (nil: fyne.Do).
func newSession(ctx context.Context, a fyne.App, w fyne.Window, cfg node.Config, n *node.Node, post func(func())) *session {
	ctx, cancel := context.WithCancel(ctx)
	u := newUI(ctx, a, w, n, filepath.Join(cfg.DataDir, "drafts"), false, post)
	return &session{ui: u, n: n, ctx: ctx, cancel: cancel, done: make(chan error, 1)}
}

func (s *session) start() {
	ctx, u := s.ctx, s.ui
	// Records arriving from peers refresh the screens, at most twice a
	// second however fast they come.
	var pending sync.Mutex
	dirty := false
	s.refresher.Add(1)
	go func() {
		defer s.refresher.Done()
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
					u.do(u.Refresh)
				}
			}
		}
	}()
	// The network part may stop (a port another program holds, say): the
	// records stay usable in the window, the banner says why sync is off,
	// and its button starts the network part again.
	retry := make(chan struct{}, 1)
	u.banner.retry = func() {
		select {
		case retry <- struct{}{}:
		default:
		}
	}
	go func() {
		var err error
		for {
			err = s.run(func(e node.Event) {
				if e.Kind == node.EventChange || e.Kind == node.EventSession {
					pending.Lock()
					dirty = true
					pending.Unlock()
				}
			})
			if err == nil || ctx.Err() != nil {
				break
			}
			stopped := err
			u.do(func() { u.syncStopped(stopped) })
			select {
			case <-ctx.Done():
			case <-retry:
				continue
			}
			break
		}
		s.done <- err
	}()
}

// run runs the node's network part until it stops, telling the UI while
// it runs.
func (s *session) run(notify func(node.Event)) error {
	u := s.ui
	d, err := s.n.Start(s.ctx, notify)
	if err != nil {
		return err
	}
	u.SetDaemon(d)
	err = d.Wait()
	u.SetDaemon(nil)
	return err
}

// stop stops the node and closes its store.
func (s *session) stop() error {
	s.cancel()
	err := <-s.done
	s.refresher.Wait()
	if cerr := s.n.Close(); err == nil {
		err = cerr
	}
	return err
}

// HQSyncPort is the port a headquarters set up in the app serves sync, and
// its ledger, on, unless told another address (--sync-addr).
const HQSyncPort = "7420"

// withLedger is cfg for the node of cfg.DataDir with its ledger running,
// when that node holds the deployment's certificate authority in its
// folder: the first headquarters, set up in the app (or with lifeline ca
// init). It starts the ledger if there is none yet, as lifeline run
// --bootstrap does, and serves sync, which the ledger runs over, on
// HQSyncPort unless another address is given. Without the ledger no
// change, not even HQ's own, is ever confirmed.
func withLedger(cfg node.Config) node.Config {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, node.CADir, identity.CAKeyFile)); err != nil {
		return cfg
	}
	cfg.Bootstrap = true
	if cfg.SyncAddr == "" {
		if ip := localIP(); ip != "" && cfg.AdvertiseAddr == "" {
			cfg.SyncAddr = net.JoinHostPort("0.0.0.0", HQSyncPort)
			cfg.AdvertiseAddr = net.JoinHostPort(ip, HQSyncPort)
		} else if cfg.AdvertiseAddr != "" {
			cfg.SyncAddr = net.JoinHostPort("0.0.0.0", HQSyncPort)
		} else {
			// No network yet: the ledger confirms HQ's own changes, and
			// peers reach it once Lifeline starts again on a network.
			cfg.SyncAddr = net.JoinHostPort("127.0.0.1", HQSyncPort)
		}
	}
	return cfg
}

// localIP is an address of this computer that other computers may reach
// (the first IPv4 one of an interface that is up and not loopback), or "".
func localIP() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return ""
}

// PlainLocale names English for Fyne where the environment names the C or
// POSIX locale, or none: Fyne reads the user's locale from LANG and
// complains of those, which name no language. The app's own language is
// the node's (node.Config.Lang), whatever LANG says.
func PlainLocale() {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		l := os.Getenv(v)
		if l == "" {
			continue
		}
		if l == "C" || strings.HasPrefix(l, "C.") || l == "POSIX" {
			os.Setenv(v, "en_US.UTF-8")
			continue
		}
		return // a language is named
	}
	if os.Getenv("LANG") == "" {
		os.Setenv("LANG", "en_US.UTF-8")
	}
}

// SystemLang is the app's language as the environment names it, the way
// POSIX reads it (LC_ALL, then LC_MESSAGES, then LANG): Spanish for any
// es locale, else English.
func SystemLang() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			if l == "es" || strings.HasPrefix(l, "es_") || strings.HasPrefix(l, "es.") || strings.HasPrefix(l, "es-") {
				return "es"
			}
			return "en"
		}
	}
	return "en"
}
