package drill

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strconv"
	"time"
)

// logOffsets are where each node's log ends now: what the nodes log after
// is read from there.
func (d *Drill) logOffsets() map[*Node]int64 {
	out := map[*Node]int64{}
	for _, n := range d.nodes {
		out[n] = logEnd(n)
	}
	return out
}

// logEnd is where the node's log ends now.
func logEnd(n *Node) int64 {
	fi, err := os.Stat(n.logFile())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// loggedSince returns the lines of the node's log after off that match re.
func (n *Node) loggedSince(off int64, re *regexp.Regexp) []string {
	f, err := os.Open(n.logFile())
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range bytes.Split(b, []byte("\n")) {
		if re.Match(line) {
			out = append(out, string(line))
		}
	}
	return out
}

// waitLogged waits until the node logs a line matching re after off, and
// returns the first.
func (n *Node) waitLogged(ctx context.Context, off int64, re *regexp.Regexp, within time.Duration) (string, bool) {
	var line string
	err := n.d.waitFor(ctx, within, "a log line of "+n.Name, func() bool {
		if lines := n.loggedSince(off, re); len(lines) > 0 {
			line = lines[0]
			return true
		}
		return false
	})
	return line, err == nil
}

// logAttr is an attribute of a node's log line, the line itself when it
// has none such.
func logAttr(line, key string) string {
	m := regexp.MustCompile(`(?:^| )` + key + `=("(?:[^"\\]|\\.)*"|\S+)`).FindStringSubmatch(line)
	if m == nil {
		return line
	}
	if s, err := strconv.Unquote(m[1]); err == nil {
		return s
	}
	return m[1]
}

// logErr is the err attribute of a node's log line.
func logErr(line string) string { return logAttr(line, "err") }

// refusedFrom matches the node's refusal of a connection from addr.
func refusedFrom(addr string) *regexp.Regexp {
	return regexp.MustCompile(`msg="refused a connection" from=` + regexp.QuoteMeta(addr) + `( |$)`)
}

// refusalKinds sort what nodes log when they refuse something; a line
// counts as the first kind it matches.
var refusalKinds = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"revoked", regexp.MustCompile(`msg="refused a connection".* is revoked`)},
	{"TLS handshake", regexp.MustCompile(`msg="refused a connection"`)},
	{"slow handshake", regexp.MustCompile(`msg="refused a connection: handshake too slow"`)},
	{"no channel", regexp.MustCompile(`msg="refused a connection: no channel"`)},
	{"busy: handshakes of one address", regexp.MustCompile(`msg="refused a connection: too many handshakes from its address"`)},
	{"busy: handshakes", regexp.MustCompile(`msg="refused a connection: (too many handshakes|its address held the most handshakes)"`)},
	{"busy: channel", regexp.MustCompile(`msg="refused a connection: (too many on its channel|its peer held the most on its channel)"`)},
	{"busy: no file descriptors", regexp.MustCompile(`msg="refused connections: out of file descriptors"`)},
	{"altered record", regexp.MustCompile(`msg="sync failed".*bad record MAC`)},
	{"gossip: undecryptable", regexp.MustCompile(`memberlist: .*(?i:no installed keys could decrypt)`)},
	{"gossip: wrong label", regexp.MustCompile(`memberlist: .*(unacceptable label|label header)`)},
	{"gossip: malformed", regexp.MustCompile(`level=(WARN|ERROR) msg="gossip: memberlist: .*(decode|receive|invalid|missing|not supported|checksum|truncated|[Dd]ecrypt)`)},
	{"gossip: notice", regexp.MustCompile(`msg="gossip: refused a message"`)},
	{"gossip: counted", regexp.MustCompile(`msg="gossip: more warnings and errors, not logged one by one"`)},
	{"sync: unexpected message", regexp.MustCompile(`msg="sync failed".*sync: unexpected: `)},
	{"sync: too large", regexp.MustCompile(`msg="sync failed".*too large`)},
	{"sync: budget spent", regexp.MustCompile(`msg="sync failed".*sync: budget: `)},
	{"other", regexp.MustCompile(`msg="refused`)},
}

// refusals counts, by kind, what the nodes logged as refused after the
// offsets.
func (d *Drill) refusals(offsets map[*Node]int64) map[string]int {
	out := map[string]int{}
	for _, n := range d.nodes {
		for k, c := range n.refusals(offsets[n]) {
			out[k] += c
		}
	}
	return out
}

var anyLine = regexp.MustCompile(`.`)

// refusals counts, by kind, what the node logged as refused after off. A
// node logs a few refusals of a kind a second one by one, and the rest of
// the second's in one line with their count.
func (n *Node) refusals(off int64) map[string]int {
	out := map[string]int{}
	for _, line := range n.loggedSince(off, anyLine) {
		for _, k := range refusalKinds {
			if k.re.MatchString(line) {
				c := 1
				if m := countAttr.FindStringSubmatch(line); m != nil {
					c, _ = strconv.Atoi(m[1])
				}
				out[k.kind] += c
				break
			}
		}
	}
	return out
}

var countAttr = regexp.MustCompile(` count=(\d+)(?: |$)`)
