package desktop

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// endpoint is where a display server listens: a network and an address.
type endpoint struct{ network, addr string }

// xSocket is where the X server DISPLAY names listens: ":N" (or "unix:N")
// is the local socket /tmp/.X11-unix/XN, "host:N" TCP port 6000+N. The
// screen number after a dot does not matter here.
func xSocket(display string) endpoint {
	i := strings.LastIndex(display, ":")
	if i < 0 {
		return endpoint{}
	}
	host, num := strings.Trim(display[:i], "[]"), display[i+1:]
	num, _, _ = strings.Cut(num, ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return endpoint{}
	}
	if host == "" || host == "unix" {
		return endpoint{"unix", filepath.Join("/tmp/.X11-unix", "X"+num)}
	}
	return endpoint{"tcp", net.JoinHostPort(host, strconv.Itoa(6000+n))}
}

// waylandSocket is where the Wayland compositor WAYLAND_DISPLAY names
// listens: a path, or a name in XDG_RUNTIME_DIR.
func waylandSocket(name string) endpoint {
	if filepath.IsAbs(name) {
		return endpoint{"unix", name}
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return endpoint{}
	}
	return endpoint{"unix", filepath.Join(dir, name)}
}

// reachable says whether something accepts a connection at e, within a
// second.
func reachable(e endpoint) bool {
	if e.addr == "" {
		return false
	}
	c, err := net.DialTimeout(e.network, e.addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
