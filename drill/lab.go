package drill

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// lab is the drill's network: Linux network namespaces on this machine.
// A "switch" namespace holds one bridge per site and the uplinks between
// the sites; each node has a namespace of its own, plugged into its site's
// bridge by a veth pair. Nothing of it touches the machine's own network,
// and close removes all of it.
type lab struct {
	prefix string // of every namespace, unique to this drill
	sw     string
	mu     sync.Mutex
	nss    []string
	mounts []string
}

func newLab() (*lab, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the drill needs root: it makes network namespaces, links and file systems")
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("the drill needs the %s command (Debian packages iproute2 and nftables)", tool)
		}
	}
	l := &lab{prefix: fmt.Sprintf("dr%d", os.Getpid()%100000)}
	l.sw = l.prefix + "-sw"
	if err := l.netns(l.sw); err != nil {
		return nil, err
	}
	return l, nil
}

// netns makes a namespace, remembered for close.
func (l *lab) netns(ns string) error {
	if err := run("ip", "netns", "add", ns); err != nil {
		return err
	}
	l.mu.Lock()
	l.nss = append(l.nss, ns)
	l.mu.Unlock()
	return nil
}

// close unmounts the file systems and deletes the namespaces.
func (l *lab) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.mounts {
		exec.Command("umount", "-l", m).Run()
	}
	for _, ns := range l.nss {
		exec.Command("ip", "netns", "del", ns).Run()
	}
}

// run runs a command, with its output in the error if it fails.
func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// site makes a site's bridge.
func (l *lab) site(name string) error {
	if err := run("ip", "-n", l.sw, "link", "add", "br-"+name, "type", "bridge"); err != nil {
		return err
	}
	return run("ip", "-n", l.sw, "link", "set", "br-"+name, "up")
}

// host makes a node's namespace, plugged into a site's bridge at cidr, and
// returns its name.
func (l *lab) host(name, site, cidr string) (string, error) {
	ns := l.prefix + "-" + name
	if err := l.netns(ns); err != nil {
		return "", err
	}
	port := portOf(name)
	for _, c := range [][]string{
		{"ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", l.sw},
		{"ip", "-n", l.sw, "link", "set", port, "master", "br-" + site},
		{"ip", "-n", l.sw, "link", "set", port, "up"},
		{"ip", "-n", ns, "addr", "add", cidr, "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
	} {
		if err := run(c[0], c[1:]...); err != nil {
			return "", err
		}
	}
	return ns, nil
}

// portOf is the switch's end of a node's link (interface names are at most
// 15 bytes).
func portOf(name string) string {
	p := "p-" + name
	if len(p) > 15 {
		p = p[:15]
	}
	return p
}

// uplink links a district site to headquarters' site through a link of
// rate each way, like a district office's satellite or radio link.
func (l *lab) uplink(district, hq, rate string) error {
	a, b := "up-"+district, "uh-"+district
	if err := run("ip", "-n", l.sw, "link", "add", a, "type", "veth", "peer", "name", b); err != nil {
		return err
	}
	for _, end := range [][2]string{{district, a}, {hq, b}} {
		for _, c := range [][]string{
			{"ip", "-n", l.sw, "link", "set", end[1], "master", "br-" + end[0]},
			{"tc", "-n", l.sw, "qdisc", "add", "dev", end[1], "root", "tbf", "rate", rate, "burst", "64kbit", "latency", "400ms"},
			{"ip", "-n", l.sw, "link", "set", end[1], "up"},
		} {
			if err := run(c[0], c[1:]...); err != nil {
				return err
			}
		}
	}
	return nil
}

// setUplink cuts a district's uplink (both ends down) or restores it.
func (l *lab) setUplink(district string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	for _, end := range []string{"up-" + district, "uh-" + district} {
		if err := run("ip", "-n", l.sw, "link", "set", end, state); err != nil {
			return err
		}
	}
	return nil
}

// setHostLink cuts a node's own link or restores it.
func (l *lab) setHostLink(name string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return run("ip", "-n", l.sw, "link", "set", portOf(name), state)
}

// thin makes a node's link thin both ways: rate-limited with tbf and
// losing drop percent of its packets at random (nftables; the kernel here
// has no netem). thin with rate "" restores the link.
func (l *lab) thin(name, ns, rate string, drop int) error {
	port := portOf(name)
	if rate == "" {
		exec.Command("tc", "-n", l.sw, "qdisc", "del", "dev", port, "root").Run()
		exec.Command("tc", "-n", ns, "qdisc", "del", "dev", "eth0", "root").Run()
		exec.Command("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "drill").Run()
		return nil
	}
	for _, c := range [][]string{
		{"tc", "-n", l.sw, "qdisc", "replace", "dev", port, "root", "tbf", "rate", rate, "burst", "16kbit", "latency", "600ms"},
		{"tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", rate, "burst", "16kbit", "latency", "600ms"},
		{"ip", "netns", "exec", ns, "nft", "add", "table", "inet", "drill"},
		{"ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "drill", "in", "{ type filter hook input priority 0 ; }"},
		{"ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "drill", "out", "{ type filter hook output priority 0 ; }"},
		{"ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "drill", "in", "iifname", "eth0", "numgen", "random", "mod", "100", "<", fmt.Sprint(drop), "drop"},
		{"ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "drill", "out", "oifname", "eth0", "numgen", "random", "mod", "100", "<", fmt.Sprint(drop), "drop"},
	} {
		if err := run(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// smallDisk mounts a tmpfs of size at dir (made if missing), for a node
// whose disk the drill fills.
func (l *lab) smallDisk(dir, size string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := run("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir); err != nil {
		return err
	}
	l.mu.Lock()
	l.mounts = append(l.mounts, dir)
	l.mu.Unlock()
	return nil
}
