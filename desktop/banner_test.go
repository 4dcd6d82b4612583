package desktop

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// uiThread plays Fyne's UI thread in a test: what the app hands to it
// comes to the test goroutine, which runs it in order and reads the
// screen between two of them (Fyne's test driver has no UI thread).
type uiThread chan func()

func (ui uiThread) post(f func()) { ui <- f }

// until runs what is handed to the UI thread until cond holds, looking at
// cond after each and every 10 ms; it fails the test after a generous
// multiple of within.
func (ui uiThread) until(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	within *= nodetest.Patience
	timeout := time.After(within)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case f := <-ui:
			f()
		case <-poll.C:
		case <-timeout:
			t.Fatalf("not within %v: %s", within, what)
		}
	}
}

// runSession runs the app's session over n, with the node behind it, and
// stops it when the test ends.
func runSession(t *testing.T, cfg node.Config, n *node.Node) (*session, uiThread) {
	t.Helper()
	ui := make(uiThread)
	a := test.NewTempApp(t)
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1000, 528))
	s := newSession(context.Background(), a, w, cfg, n, ui.post)
	s.start()
	t.Cleanup(func() {
		stopped := make(chan error, 1)
		go func() {
			err := s.stop()
			s.ui.bg.Wait()
			stopped <- err
		}()
		var done bool
		ui.until(t, "the node stops", 30*time.Second, func() bool {
			select {
			case <-stopped:
				done = true
			default:
			}
			return done
		})
	})
	return s, ui
}

// bannerSays is what the banner says, "" when it is hidden.
func bannerSays(u *UI) string {
	if b := u.banner.box; b == nil || !b.Visible() {
		return ""
	}
	return screenTexts(u.banner.box)
}

// Another program holds the gossip port: the banner says sync is off and
// why, and stays there, through a refresh and a language switch, until
// the port is free and Try again starts the node's network part.
func TestBannerWhileTheGossipPortIsTaken(t *testing.T) {
	ctx := context.Background()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "node")
	cfg.GossipAddr = taken.Addr().String()
	// Headquarters made with its authority holds the gossip keys.
	n, err := Create(ctx, cfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize"}, Enrollment{MakeCA: true, Passphrase: []byte(testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	s, ui := runSession(t, cfg, n)
	u := s.ui
	if got := bannerSays(u); got != "" {
		t.Fatalf("before the node starts, the banner says %q", got)
	}
	ui.until(t, "the banner says the port is taken", 30*time.Second, func() bool {
		return strings.Contains(bannerSays(u), "holds that port")
	})
	if !strings.HasPrefix(bannerSays(u), "Sync is off: ") || !strings.Contains(bannerSays(u), taken.Addr().(*net.TCPAddr).IP.String()) {
		t.Fatalf("the banner says %q", bannerSays(u))
	}
	u.Refresh()
	if !strings.Contains(bannerSays(u), "holds that port") {
		t.Fatalf("after a refresh the banner says %q", bannerSays(u))
	}
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bannerSays(u), "ocupa ese puerto") {
		t.Fatalf("in Spanish the banner says %q", bannerSays(u))
	}
	if err := u.SetLang("en"); err != nil {
		t.Fatal(err)
	}
	retry := findButton(u.banner.box, "Try again")
	if retry == nil {
		t.Fatal("the banner offers no Try again")
	}

	// Once the other program lets the port go, Try again starts gossip.
	taken.Close()
	retry.OnTapped()
	ui.until(t, "the node runs and the banner is gone", 30*time.Second, func() bool {
		return u.daemon.Load() != nil && bannerSays(u) == ""
	})
}

// A node that is not enrolled says so above every tab, until a
// certificate is installed; then it says once what a restart adds.
func TestBannerUntilEnrolled(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	if got := bannerSays(u); !strings.Contains(got, "not enrolled") || !strings.Contains(got, "write a request") {
		t.Fatalf("the banner of a node not enrolled says %q", got)
	}
	u.tabs.SelectIndex(0)
	if !strings.Contains(screenTexts(u.win.Content()), "this computer is not enrolled") {
		t.Fatal("the banner is not on the first tab")
	}
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	if got := bannerSays(u); !strings.Contains(got, "no está inscrita") {
		t.Fatalf("in Spanish the banner says %q", got)
	}
}

// A certificate that ends within two weeks is said above every tab, with
// the day; one signed for a season is not.
func TestBannerWhenTheCertificateEndsSoon(t *testing.T) {
	ctx := context.Background()
	for _, valid := range []time.Duration{10 * 24 * time.Hour, 120 * 24 * time.Hour} {
		u := newTestUI(t, syncproto.RoleField, "Cayo")
		ca, err := identity.NewCA("NEMO")
		if err != nil {
			t.Fatal(err)
		}
		req, err := u.node.EnrollmentRequest()
		if err != nil {
			t.Fatal(err)
		}
		cert, err := ca.Sign(req, valid)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.node.Install(ctx, cert); err != nil {
			t.Fatal(err)
		}
		u.Refresh()
		ends := time.Now().Add(valid).Local().Format("2006-01-02")
		warns := strings.Contains(bannerSays(u), "The certificate of this computer ends "+ends)
		if want := valid < 14*24*time.Hour; warns != want {
			t.Fatalf("signed for %v, the banner says %q", valid, bannerSays(u))
		}
	}
}
