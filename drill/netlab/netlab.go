package netlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// ErrUnavailable is wrapped by New's error where namespaces cannot be made
// here (not root, no ip command): tests skip on it (see Skip).
var ErrUnavailable = errors.New("network namespaces cannot be made here")

// Skip skips a test that this machine cannot run, for the reason given,
// unless the environment variable CI is set: there the test fails, so
// that a CI machine that lost root or namespaces does not pass unseen.
func Skip(t testing.TB, reason any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%v (CI is set: this machine must run this test)", reason)
	}
	t.Skip(reason)
}

// Lab is a network of namespaces. Its methods may be called concurrently.
type Lab struct {
	// Prefix begins the name of every namespace of the lab; it is unique
	// to this process.
	Prefix string
	sw     string // the switch namespace

	mu  sync.Mutex
	nss []string // every namespace made, for Close
}

// New makes a lab's switch namespace. Its namespaces are named after tag
// and the process id.
func New(tag string) (*Lab, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: they need root", ErrUnavailable)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("%w: they need the ip command (Debian package iproute2)", ErrUnavailable)
	}
	l := &Lab{Prefix: fmt.Sprintf("%s%d", tag, os.Getpid()%100000)}
	l.sw = l.Prefix + "-sw"
	if err := l.netns(l.sw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return l, nil
}

// netns makes a namespace, remembered for Close.
func (l *Lab) netns(ns string) error {
	if err := run("ip", "netns", "add", ns); err != nil {
		return err
	}
	l.mu.Lock()
	l.nss = append(l.nss, ns)
	l.mu.Unlock()
	return nil
}

// Close deletes every namespace of the lab, and with them every link,
// queue and rule in them. The processes running in them should be stopped
// first.
func (l *Lab) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ns := range l.nss {
		exec.Command("ip", "netns", "del", ns).Run()
	}
	l.nss = nil
}

// run runs a command, with its output in the error if it fails.
func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// runAll runs commands in order until one fails.
func runAll(cmds ...[]string) error {
	for _, c := range cmds {
		if err := run(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// Command is the command name run with args inside the namespace ns. ip
// netns exec execs it in its own process: a signal sent to the command
// reaches it.
func Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Site makes a site's bridge.
func (l *Lab) Site(name string) error {
	return runAll(
		[]string{"ip", "-n", l.sw, "link", "add", "br-" + name, "type", "bridge"},
		[]string{"ip", "-n", l.sw, "link", "set", "br-" + name, "up"},
	)
}

// Host makes a host's namespace, plugged into a site's bridge at cidr
// (its address and network, e.g. 10.1.0.5/16), and returns the
// namespace's name.
func (l *Lab) Host(name, site, cidr string) (string, error) {
	ns := l.ns(name)
	if err := l.netns(ns); err != nil {
		return "", err
	}
	port := portOf(name)
	err := runAll(
		[]string{"ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", l.sw},
		[]string{"ip", "-n", l.sw, "link", "set", port, "master", "br-" + site},
		[]string{"ip", "-n", l.sw, "link", "set", port, "up"},
		[]string{"ip", "-n", ns, "addr", "add", cidr, "dev", "eth0"},
		[]string{"ip", "-n", ns, "link", "set", "eth0", "up"},
		[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
	)
	if err != nil {
		return "", err
	}
	return ns, nil
}

// ns is the namespace of the host called name.
func (l *Lab) ns(name string) string { return l.Prefix + "-" + name }

// portOf is the switch's end of a host's link (interface names are at
// most 15 bytes).
func portOf(name string) string {
	p := "p-" + name
	if len(p) > 15 {
		p = p[:15]
	}
	return p
}

// Shape is how a link carries traffic each way: a token bucket (tc's tbf)
// of Rate, Burst and Latency, as tc spells them ("2mbit", "64kbit",
// "400ms").
type Shape struct {
	Rate, Burst, Latency string
}

func (s Shape) tbf() []string {
	return []string{"tbf", "rate", s.Rate, "burst", s.Burst, "latency", s.Latency}
}

// Uplink links a site's bridge to a hub site's bridge through a link of
// shape, like a district office's satellite or radio link to
// headquarters.
func (l *Lab) Uplink(site, hub string, shape Shape) error {
	a, b := "up-"+site, "uh-"+site
	if err := run("ip", "-n", l.sw, "link", "add", a, "type", "veth", "peer", "name", b); err != nil {
		return err
	}
	for _, end := range [][2]string{{site, a}, {hub, b}} {
		err := runAll(
			[]string{"ip", "-n", l.sw, "link", "set", end[1], "master", "br-" + end[0]},
			append([]string{"tc", "-n", l.sw, "qdisc", "add", "dev", end[1], "root"}, shape.tbf()...),
			[]string{"ip", "-n", l.sw, "link", "set", end[1], "up"},
		)
		if err != nil {
			return err
		}
	}
	return nil
}

// SetUplink cuts a site's uplink (both ends down) or restores it.
func (l *Lab) SetUplink(site string, up bool) error {
	return runAll(
		[]string{"ip", "-n", l.sw, "link", "set", "up-" + site, state(up)},
		[]string{"ip", "-n", l.sw, "link", "set", "uh-" + site, state(up)},
	)
}

// SetHostLink cuts a host's own link or restores it.
func (l *Lab) SetHostLink(name string, up bool) error {
	return run("ip", "-n", l.sw, "link", "set", portOf(name), state(up))
}

func state(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// Thin makes a host's link thin both ways: shaped, and losing drop percent
// of its packets at random (with nftables: the kernel may have no netem).
// Unthin restores it.
func (l *Lab) Thin(name string, shape Shape, drop int) error {
	ns, port, lose := l.ns(name), portOf(name), fmt.Sprint(drop)
	return runAll(
		append([]string{"tc", "-n", l.sw, "qdisc", "replace", "dev", port, "root"}, shape.tbf()...),
		append([]string{"tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root"}, shape.tbf()...),
		[]string{"ip", "netns", "exec", ns, "nft", "add", "table", "inet", "netlab"},
		[]string{"ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "netlab", "in", "{ type filter hook input priority 0 ; }"},
		[]string{"ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "netlab", "out", "{ type filter hook output priority 0 ; }"},
		[]string{"ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "netlab", "in", "iifname", "eth0", "numgen", "random", "mod", "100", "<", lose, "drop"},
		[]string{"ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "netlab", "out", "oifname", "eth0", "numgen", "random", "mod", "100", "<", lose, "drop"},
	)
}

// Unthin undoes Thin, as far as Thin got.
func (l *Lab) Unthin(name string) {
	ns := l.ns(name)
	exec.Command("tc", "-n", l.sw, "qdisc", "del", "dev", portOf(name), "root").Run()
	exec.Command("tc", "-n", ns, "qdisc", "del", "dev", "eth0", "root").Run()
	exec.Command("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "netlab").Run()
}

// Restrict lets a host open TCP connections to port only at address to: a
// connection to that port anywhere else is refused at once (a TCP reset),
// as by a firewall that lets a laptop reach its district's relay and no
// other node. Unrestrict lifts it.
func (l *Lab) Restrict(name string, port int, to string) error {
	ns := l.ns(name)
	return runAll(
		[]string{"ip", "netns", "exec", ns, "nft", "add", "table", "inet", "netlab-restrict"},
		[]string{"ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "netlab-restrict", "out", "{ type filter hook output priority 0 ; }"},
		[]string{"ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "netlab-restrict", "out",
			"oifname", "eth0", "ip", "daddr", "!=", to, "tcp", "dport", fmt.Sprint(port), "reject", "with", "tcp", "reset"},
	)
}

// Unrestrict undoes Restrict, as far as Restrict got.
func (l *Lab) Unrestrict(name string) {
	exec.Command("ip", "netns", "exec", l.ns(name), "nft", "delete", "table", "inet", "netlab-restrict").Run()
}
