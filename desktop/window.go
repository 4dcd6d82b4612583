package desktop

import (
	"context"
	"fmt"
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
)

// NoDisplay says why no window can open here, or "" if one can.
func NoDisplay() string {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return ""
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
	}
	return ""
}

// Window runs the app until its window closes or ctx ends: the first
// start's set-up if the data folder holds no node, then the main window,
// on the tab named (new, records, sync or hq; records when a record is
// named), with the node running behind it.
func Window(ctx context.Context, cfg node.Config, tab, record string) error {
	// Fyne reads the user's locale from LANG and complains of C and POSIX,
	// which name none; the app's own language is cfg.Lang.
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
		n, note, err := OpenNode(ctx, cfg, node.Identity{})
		if err != nil {
			return err
		}
		start(n, strings.TrimSpace(note))
	} else {
		Setup(ctx, w, cfg, cfg.Lang, func(n *node.Node) {
			// Reopened as OpenNode opens it: without gossip until enrolled.
			n.Close()
			n, note, err := OpenNode(ctx, cfg, node.Identity{})
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
	ui     *UI
	n      *node.Node
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error
	// refresher is the goroutine that refreshes the screens; stop waits
	// for it, so that nothing touches the window once stop returns.
	refresher sync.WaitGroup
}

func startSession(ctx context.Context, a fyne.App, w fyne.Window, cfg node.Config, n *node.Node) *session {
	s := newSession(ctx, a, w, cfg, n, nil)
	s.start()
	return s
}

// newSession builds the main window's content over n; start runs the node
// behind it. post hands functions to the UI thread (nil: fyne.Do).
func newSession(ctx context.Context, a fyne.App, w fyne.Window, cfg node.Config, n *node.Node, post func(func())) *session {
	ctx, cancel := context.WithCancel(ctx)
	u := newUI(ctx, a, w, n, filepath.Join(cfg.DataDir, "drafts"), false, post)
	return &session{ui: u, n: n, ctx: ctx, cancel: cancel, done: make(chan error, 1)}
}

func (s *session) start() {
	ctx, u, n := s.ctx, s.ui, s.n
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
			u.do(func() {
				dialog.ShowError(fmt.Errorf("the node stopped syncing: %w. Records can still be made and read here; restart Lifeline to try again", err), u.win)
			})
		}
		s.done <- err
	}()
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
