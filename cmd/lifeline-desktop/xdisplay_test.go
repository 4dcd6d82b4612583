package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
)

// The real app in a virtual display of a rugged laptop's size, driven as a
// responder drives it, with real key and mouse events (xdotool): a record
// typed and saved with Ctrl+S, another half typed across a language
// switch, a sync with an address typed in the Sync box and Enter, and a
// sync to a peer that never answers, cancelled. What the app did is read
// with the lifeline command, at the laptop and at headquarters.
//
// The keys follow the app's focus order, which starts at the first field
// of the tab on show (the window's centre comes first): the form's fields
// in the kit's order, and on the Sync screen the peers table, Sync now,
// Refresh, then the address box. The two clicks are at the window's
// corners: the language button is the header's rightmost, and the status
// line's Cancel sits at the foot of the window on the right.
func TestRealDisplay(t *testing.T) {
	tools := needDisplayTools(t)
	t.Parallel()
	bins := buildBinaries(t)
	dir := t.TempDir()
	hq, laptop := filepath.Join(dir, "hq"), filepath.Join(dir, "laptop")
	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bins.lifeline, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "LIFELINE_CA_PASSPHRASE=a real display test", "LIFELINE_PASSPHRASE=", "LIFELINE_DATA=")
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("lifeline %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
			}
			t.Fatalf("lifeline %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	cli("", "init", "--data", hq, "--role", "hq", "--district", "Belize", "--name", "hq-belmopan")
	cli("", "ca", "init", "--data", hq)
	cli("", "init", "--data", laptop, "--role", "field", "--district", "Cayo", "--name", "cayo-laptop-07")
	cli("", "enroll", "--data", laptop, "--ca", hq)
	// The New record screen opens on the kind of record picked last: a
	// shelter, whose district the form fills with the laptop's own.
	if err := os.MkdirAll(filepath.Join(laptop, "drafts"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(laptop, "drafts", "open"), []byte("shelter"), 0o600); err != nil {
		t.Fatal(err)
	}
	shelters := func(data string) map[string]map[string]any {
		t.Helper()
		var recs []struct {
			Type   string         `json:"type"`
			Fields map[string]any `json:"fields"`
		}
		if err := json.Unmarshal([]byte(cli("", "record", "list", "--data", data, "--json")), &recs); err != nil {
			t.Fatalf("record list --json: %v", err)
		}
		byName := map[string]map[string]any{}
		for _, r := range recs {
			if name, ok := r.Fields["shelter_name"].(string); ok && r.Type == "shelter" {
				byName[name] = r.Fields
			}
		}
		return byName
	}
	// has waits for the shelter named name, with these fields, at data.
	has := func(data, name string, fields map[string]any) {
		t.Helper()
		var got map[string]any
		waitFor(t, 30*time.Second, fmt.Sprintf("the shelter %q at %s", name, filepath.Base(data)), func() bool {
			got = shelters(data)[name]
			return got != nil
		})
		for k, want := range fields {
			if got[k] != want {
				t.Fatalf("the shelter %q at %s has %s %v, want %v (all: %v)", name, filepath.Base(data), k, got[k], want, got)
			}
		}
	}

	began := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }
	x := startDisplay(t, tools)
	hqAddr := serveSync(t, bins.lifeline, hq)
	silent := listenSilently(t)

	step("typing a record")
	// A record typed and saved with Ctrl+S.
	app := x.startApp(t, bins.desktop, "--data", laptop, "--lang", "en")
	app.keys("Tab")
	app.typeText("Escuela Central")
	app.keys("Tab", "Tab") // past the district, which the form filled
	app.typeText("San Ignacio")
	app.keys("ctrl+s")
	has(laptop, "Escuela Central", map[string]any{"village": "San Ignacio", "district": "Cayo"})
	app.stop()

	step("a language switch mid-form")
	// Another, its name typed in English, then its village in Spanish.
	app = x.startApp(t, bins.desktop, "--data", laptop, "--lang", "en")
	app.keys("Tab")
	app.typeText("Centro Comunitario")
	app.clickLanguage() // the screens are made again: nothing has the keyboard
	app.keys("Tab", "Tab", "Tab")
	app.typeText("Bullet Tree")
	app.keys("ctrl+s")
	has(laptop, "Centro Comunitario", map[string]any{"village": "Bullet Tree", "district": "Cayo"})
	app.stop()

	step("a sync with an address typed")
	// Sync with HQ's address typed in the box, and Enter.
	app = x.startApp(t, bins.desktop, "--data", laptop, "--lang", "en", "--tab", "sync")
	app.keys("Tab", "Tab", "Tab", "Tab") // the peers table, Sync now, Refresh, the box
	app.typeText(hqAddr)
	app.keys("Return")
	has(hq, "Escuela Central", map[string]any{"village": "San Ignacio"})
	has(hq, "Centro Comunitario", map[string]any{"village": "Bullet Tree"})

	step("a sync cancelled")
	// A sync to a peer that accepts and never answers, cancelled.
	cli(`{"shelter_name":"Santa Elena Hall","district":"Cayo"}`, "record", "add", "--data", laptop, "--type", "shelter")
	app.keys("ctrl+a")
	app.typeText(silent.addr)
	app.keys("Return")
	conn := silent.accepted(t)
	app.clickCancel()
	silent.waitClosed(t, conn) // only Cancel ends it: the app's bounds are an hour here

	step("a sync after it")
	// The app goes on: the next sync, with HQ, carries the record added
	// meanwhile.
	app.keys("ctrl+a")
	app.typeText(hqAddr)
	app.keys("Return")
	has(hq, "Santa Elena Hall", map[string]any{"district": "Cayo"})
	app.stop()
}

// displayTools are the programs the real-display test runs.
type displayTools struct{ xvfb, xdotool string }

// needDisplayTools finds Xvfb and xdotool. Without them the test skips,
// saying how to install them, except in CI (CI set), where it fails.
func needDisplayTools(t *testing.T) displayTools {
	t.Helper()
	paths := nodetest.NeedPrograms(t, "the real-display test needs sudo apt-get install -y xvfb xdotool libgl1-mesa-dri (make deps installs them)", "Xvfb", "xdotool")
	tools := displayTools{xvfb: paths[0], xdotool: paths[1]}
	if testing.Short() {
		t.Skip("the real-display test runs the app: not with -short")
	}
	return tools
}

// asApp, set in its environment, makes this test binary run the app: the
// real-display test runs this package's main as it is built for the test
// (under the race detector when the test is), and needs no other build of
// it.
const asApp = "LIFELINE_DESKTOP_TEST_AS_APP"

func TestMain(m *testing.M) {
	if os.Getenv(asApp) == "1" {
		// A sync waits on a silent peer until Cancel: no handshake, idle
		// or session bound ends it within the test's patience.
		adjust = func(c *node.Config) { c.HandshakeTimeout, c.SyncIdle, c.SyncMax = time.Hour, time.Hour, 2*time.Hour }
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// binaries are the lifeline command and the desktop app, for the test.
type binaries struct{ lifeline, desktop string }

// buildBinaries builds the lifeline command, with the race detector when
// the test runs under it, so that it shares the packages the race
// detector's build of the tests compiled; the app is this test binary.
func buildBinaries(t *testing.T) binaries {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"build", "-o", filepath.Join(dir, "lifeline")}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, "lifeline/cmd/lifeline")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return binaries{lifeline: filepath.Join(dir, "lifeline"), desktop: self}
}

// waitFor polls cond, a few times a second, until it holds: within is a
// bound on liveness, multiplied by nodetest.Patience, never a measure of
// speed.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	within *= nodetest.Patience
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// xDisplay is a virtual X display of 1024×600, a rugged laptop's screen.
type xDisplay struct {
	tools   displayTools
	display string
}

// startDisplay starts Xvfb on a display number it picks itself (a free
// one), and stops it when the test ends.
func startDisplay(t *testing.T, tools displayTools) *xDisplay {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var stderr bytes.Buffer
	// -noreset: by default Xvfb resets when its last client leaves (an xdotool
	// call), and a client connecting during the reset, under load, is refused.
	args := []string{"-displayfd", "3", "-noreset", "-screen", "0", "1024x600x24", "-nolisten", "tcp"}
	if dir := os.Getenv("LIFELINE_XVFB_FBDIR"); dir != "" {
		// The screen, kept as it is drawn in DIR/Xvfb_screen0, an XWD
		// file (convert xwd:DIR/Xvfb_screen0 screen.png).
		args = append(args, "-fbdir", dir)
	}
	cmd := exec.Command(tools.xvfb, args...)
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Xvfb writes the display's number once it is ready; reading waits
	// for that, or for Xvfb's end.
	line, err := bufio.NewReader(r).ReadString('\n')
	n, convErr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || convErr != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("Xvfb did not start (%v, %q): %s", err, line, stderr.String())
	}
	return &xDisplay{tools: tools, display: ":" + strconv.Itoa(n)}
}

// xdotool runs xdotool on the display and returns its output.
func (x *xDisplay) xdotool(args ...string) (string, error) {
	cmd := exec.Command(x.tools.xdotool, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("xdotool %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// runningApp is the desktop app on the display, in its window.
type runningApp struct {
	t      *testing.T
	x      *xDisplay
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the process's end, once exited is closed
	window string
	w, h   int
}

// startApp starts the app with args and waits for its window, which it
// gives the keyboard. A failing test logs what the app wrote to stderr.
func (x *xDisplay) startApp(t *testing.T, bin string, args ...string) *runningApp {
	t.Helper()
	stderr := &nodetest.Output{}
	cmd := exec.Command(bin, append([]string{"--gossip-addr", "", "--lock-after", "0"}, args...)...)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.display, "WAYLAND_DISPLAY=", "LIFELINE_PASSPHRASE=", asApp+"=1")
	cmd.Stdout = io.Discard
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &runningApp{t: t, x: x, cmd: cmd, exited: make(chan struct{})}
	go func() {
		a.err = cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-a.exited:
		default:
			cmd.Process.Kill()
			<-a.exited
		}
		if t.Failed() {
			t.Logf("lifeline-desktop %s wrote to stderr:\n%s", strings.Join(args, " "), stderr.String())
		}
	})
	waitFor(t, 30*time.Second, "the app's window", func() bool {
		select {
		case <-a.exited:
			t.Fatalf("the app ended before its window showed: %v", a.err)
		default:
		}
		out, err := x.xdotool("search", "--onlyvisible", "--name", "^Lifeline")
		if err != nil {
			return false // nothing found yet
		}
		a.window = strings.Fields(out)[0]
		return true
	})
	out, err := x.xdotool("getwindowgeometry", "--shell", a.window)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Fields(out) {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "WIDTH":
			a.w, _ = strconv.Atoi(v)
		case "HEIGHT":
			a.h, _ = strconv.Atoi(v)
		}
	}
	if a.w < 200 || a.h < 200 || a.w > 1024 || a.h > 600 {
		t.Fatalf("the window is %d×%d on a 1024×600 screen:\n%s", a.w, a.h, out)
	}
	// Without a window manager the keyboard goes where it is sent: to the
	// window, with the pointer over it.
	a.do("mousemove", "--window", a.window, strconv.Itoa(a.w/2), strconv.Itoa(a.h/2))
	a.do("windowfocus", "--sync", a.window)
	return a
}

// do runs xdotool, failing the test if it fails.
func (a *runningApp) do(args ...string) {
	a.t.Helper()
	if _, err := a.x.xdotool(args...); err != nil {
		a.t.Fatal(err)
	}
}

// keys presses and releases each key (xdotool's names: Tab, Return,
// ctrl+s).
func (a *runningApp) keys(keys ...string) {
	a.t.Helper()
	a.do(append([]string{"key", "--delay", "50"}, keys...)...)
}

// typeText types s, a key at a time.
func (a *runningApp) typeText(s string) {
	a.t.Helper()
	a.do("type", "--delay", "20", s)
}

// click clicks the left button at x, y in the window.
func (a *runningApp) click(x, y int) {
	a.t.Helper()
	a.do("mousemove", "--window", a.window, strconv.Itoa(x), strconv.Itoa(y))
	a.do("click", "1")
}

// clickLanguage clicks the language button, the rightmost of the header
// at the top of the window.
func (a *runningApp) clickLanguage() {
	a.t.Helper()
	a.click(a.w-24, 20)
}

// clickCancel clicks Cancel on the status line of long work, at the foot
// of the window on its right.
func (a *runningApp) clickCancel() {
	a.t.Helper()
	a.click(a.w-24, a.h-24)
}

// stop stops the app as the system does when it shuts down (SIGTERM),
// and waits for it to end, which it must do cleanly.
func (a *runningApp) stop() {
	a.t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		a.t.Fatal(err)
	}
	select {
	case <-a.exited:
	case <-time.After(30 * nodetest.Patience * time.Second):
		a.t.Fatal("the app did not end on SIGTERM")
	}
	if a.err != nil {
		a.t.Fatalf("the app ended with %v on SIGTERM", a.err)
	}
}

// serveSync runs `lifeline run` on a loopback port, as HQ, and returns the
// address it serves sync on.
func serveSync(t *testing.T, bin, data string) string {
	t.Helper()
	cmd := exec.Command(bin, "run", "--data", data, "--sync-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LIFELINE_PASSPHRASE=", "LIFELINE_DATA=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &nodetest.Output{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("lifeline run --data %s wrote to stderr:\n%s", filepath.Base(data), stderr.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "serving sync on "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("lifeline run ended without serving sync: %s", stderr.String())
		}
		return a
	case <-time.After(30 * nodetest.Patience * time.Second):
		t.Fatal("lifeline run did not say where it serves sync")
	}
	return ""
}

// silentPeer accepts connections on loopback and never says a word.
type silentPeer struct {
	addr  string
	conns chan net.Conn
}

func listenSilently(t *testing.T) *silentPeer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentPeer{addr: l.Addr().String(), conns: make(chan net.Conn, 16)}
	var mu sync.Mutex
	var held []net.Conn
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			select {
			case s.conns <- c:
			default: // more than the test waits for: held, never read
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-accepting
		for _, c := range held {
			c.Close()
		}
	})
	return s
}

// accepted waits for a connection to the silent peer.
func (s *silentPeer) accepted(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(30 * nodetest.Patience * time.Second):
		t.Fatal("the app did not connect to the silent peer")
	}
	return nil
}

// waitClosed waits for the other end to close c: reading it ends.
func (s *silentPeer) waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * nodetest.Patience * time.Second))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		var ne net.Error
		switch {
		case err == nil:
			continue // the TLS hello
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatal("the app did not give up its connection to the silent peer")
		default:
			return
		}
	}
}
