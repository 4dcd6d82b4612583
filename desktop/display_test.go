package desktop

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestXSocket(t *testing.T) {
	for display, want := range map[string]endpoint{
		":0":             {"unix", "/tmp/.X11-unix/X0"},
		":12.1":          {"unix", "/tmp/.X11-unix/X12"},
		"unix:3":         {"unix", "/tmp/.X11-unix/X3"},
		"localhost:10.0": {"tcp", "localhost:6010"},
		"[::1]:2":        {"tcp", "[::1]:6002"},
		"no-colon":       {},
		":x":             {},
		"host:-1":        {},
	} {
		if got := xSocket(display); got != want {
			t.Errorf("DISPLAY=%q: %v, want %v", display, got, want)
		}
	}
}

// A DISPLAY that names no server (a stale SSH session's) is no display:
// the app runs without its window rather than letting the windowing
// library panic. One that a server answers is a display.
func TestDisplayNamedButNotThere(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("X sockets are a Linux and BSD matter")
	}
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("DISPLAY", "127.0.0.1:59")
	if why := NoDisplay(); !strings.Contains(why, "no display answers") || !strings.Contains(why, "127.0.0.1:59") {
		t.Fatalf("a DISPLAY no server answers: %q", why)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if port < 6000 {
		t.Skipf("port %d is below X's range", port)
	}
	t.Setenv("DISPLAY", "127.0.0.1:"+strconv.Itoa(port-6000))
	if why := NoDisplay(); why != "" {
		t.Fatalf("a DISPLAY a server answers: %q", why)
	}
	// Wayland: a socket in XDG_RUNTIME_DIR.
	dir := t.TempDir()
	ul, err := net.Listen("unix", filepath.Join(dir, "wayland-7"))
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	t.Setenv("DISPLAY", "")
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("WAYLAND_DISPLAY", "wayland-7")
	if why := NoDisplay(); why != "" {
		t.Fatalf("a Wayland socket that answers: %q", why)
	}
}

// The app speaks the system's language where it names Spanish, and
// English otherwise; Fyne is given a language where the system names C.
func TestSystemLanguage(t *testing.T) {
	for _, c := range []struct{ lcAll, lcMessages, lang, want string }{
		{"", "", "es_ES.UTF-8", "es"},
		{"", "", "es_BZ", "es"},
		{"", "", "en_BZ.UTF-8", "en"},
		{"", "", "C", "en"},
		{"", "", "", "en"},
		{"", "es_MX.UTF-8", "en_US.UTF-8", "es"},
		{"en_US.UTF-8", "es_MX.UTF-8", "es_ES.UTF-8", "en"},
		{"", "", "estonian", "en"},
	} {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", c.lcMessages)
		t.Setenv("LANG", c.lang)
		if got := SystemLang(); got != c.want {
			t.Errorf("LC_ALL=%q LC_MESSAGES=%q LANG=%q: %s, want %s", c.lcAll, c.lcMessages, c.lang, got, c.want)
		}
	}
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "C")
	PlainLocale()
	if l := os.Getenv("LANG"); l != "en_US.UTF-8" {
		t.Fatalf("LANG=C became %q", l)
	}
	t.Setenv("LANG", "es_ES.UTF-8")
	PlainLocale()
	if l := os.Getenv("LANG"); l != "es_ES.UTF-8" {
		t.Fatalf("LANG=es_ES.UTF-8 became %q", l)
	}
}
