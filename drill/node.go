package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"lifeline/drill/netlab"
	"lifeline/node"
	"lifeline/syncproto"
)

// Node is one `lifeline run` process of the drill, in its own namespace.
type Node struct {
	Name, District, Site string
	Role                 syncproto.Role
	IP                   string
	NS                   string // network namespace
	Dir                  string // data folder
	Voter, Bootstrap     bool
	// Env is added to the process's environment (a wrong clock).
	Env []string
	// clockMoved: the drill set the node's clock wrong; the others hold
	// its later changes until their time comes.
	clockMoved bool
	// panicsSeen is how many panics of its log a step already reported.
	panicsSeen int

	d       *Drill
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	killed  bool // the drill stopped it: its exit is no crash
	starts  int
	crashes []string
}

// syncPort is the port nodes serve sync on.
const syncPort = 7420

// syncAddr and gossipAddr are where the node serves.
func (n *Node) syncAddr() string   { return fmt.Sprintf("%s:%d", n.IP, syncPort) }
func (n *Node) gossipAddr() string { return n.IP + ":7946" }

func (n *Node) logFile() string { return filepath.Join(n.d.cfg.Dir, "logs", n.Name+".log") }

// start runs `lifeline run` for the node in its namespace.
func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("%s already runs", n.Name)
	}
	args := []string{"run", "--data", n.Dir,
		"--gossip-addr", n.gossipAddr(), "--gossip-profile", "lan", "--sync-every", n.d.syncEvery().String()}
	if !n.Role.Field() {
		args = append(args, "--sync-addr", n.syncAddr())
	}
	if j := n.d.hq; j != nil && j != n {
		args = append(args, "--join", j.gossipAddr())
	}
	if n.Bootstrap {
		args = append(args, "--bootstrap")
	}
	f, err := os.OpenFile(n.logFile(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "==== start %d at %s\n", n.starts+1, time.Now().Format(time.RFC3339Nano))
	cmd := netlab.Command(context.Background(), n.NS, n.d.cfg.Bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), n.Env...)
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	n.cmd, n.killed, n.exited = cmd, false, make(chan struct{})
	n.starts++
	exited := n.exited
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		if !n.killed {
			n.crashes = append(n.crashes, fmt.Sprintf("%s stopped by itself: %v", n.Name, err))
		}
		if n.cmd == cmd {
			n.cmd = nil
		}
		n.mu.Unlock()
		close(exited)
	}()
	return nil
}

// signal stops the node with sig and waits for it to end (SIGTERM: it
// leaves the gossip and stops; SIGKILL: kill -9, mid-whatever).
func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	if cmd == nil {
		n.mu.Unlock()
		return
	}
	n.killed = true
	n.mu.Unlock()
	// The signal reaches the node itself (see netlab.Command).
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

func (n *Node) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// lifeline runs a command of the lifeline tool on the node's data folder,
// in its namespace (sync needs the node's network; the others do not mind).
func (n *Node) lifeline(ctx context.Context, stdin string, args ...string) (string, error) {
	return n.lifelineEnv(ctx, nil, stdin, args...)
}

func (n *Node) lifelineEnv(ctx context.Context, env []string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := execTool(ctx, n, env, stdin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: lifeline %s: %v: %s", n.Name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// caPassphrase seals the drill's certificate authorities; ca init and the
// enrollments find it in the environment.
const caPassphrase = "drill: a hurricane over Belize"

// execTool is the lifeline tool run with args in the node's namespace.
func execTool(ctx context.Context, n *Node, env []string, stdin string, args ...string) *exec.Cmd {
	cmd := netlab.Command(ctx, n.NS, n.d.cfg.Bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	// The drill's nodes keep their keys in the clear: its attack steps read
	// node.key as a thief who took a laptop that was on would.
	cmd.Env = append(append(os.Environ(), "LIFELINE_DATA=", "LIFELINE_OPERATOR=", "LIFELINE_PASSPHRASE=", "LIFELINE_CA_PASSPHRASE="+caPassphrase), env...)
	return cmd
}

// digest is the node's digest of the records of scopes ("" for every
// record it holds): equal on two nodes exactly when their records of
// those scopes are.
func (n *Node) digest(ctx context.Context, scopes string) (string, error) {
	args := []string{"digest", "--data", n.Dir}
	if scopes != "" {
		args = append(args, "--scope", scopes)
	}
	out, err := n.lifeline(ctx, "", args...)
	return strings.TrimSpace(out), err
}

// scopes are the scopes the node keeps every record of, as --scope takes
// them: "" (all) at headquarters, else national and its district's.
func (n *Node) scopes() string {
	if n.Role == syncproto.RoleHQ {
		return ""
	}
	return "national," + n.District
}

// status is what `lifeline status --json` says.
func (n *Node) status(ctx context.Context) (node.Status, error) {
	var st node.Status
	out, err := n.lifeline(ctx, "", "status", "--data", n.Dir, "--json")
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, fmt.Errorf("%s: status --json: %v", n.Name, err)
	}
	return st, nil
}

// ids lists the ids of the records the node holds.
func (n *Node) ids(ctx context.Context) (map[string]bool, error) {
	listed, err := n.ordered(ctx)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(listed))
	for _, id := range listed {
		ids[id] = true
	}
	return ids, nil
}

// ordered lists the ids of the records the node holds in the order it
// first stored them, as `record list` lists them (oldest first: by the
// store's row id, which grows with each record stored). A listing reads
// its pages in a transaction each, in that order, so it is what the node
// held after one of its transactions.
func (n *Node) ordered(ctx context.Context) ([]string, error) {
	out, err := n.lifeline(ctx, "", "record", "list", "--data", n.Dir, "--json")
	if err != nil {
		return nil, err
	}
	var recs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		return nil, fmt.Errorf("%s: record list --json: %v", n.Name, err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids, nil
}

// check runs SQLite's integrity check on the node's store.
func (n *Node) check(ctx context.Context) string {
	out, err := n.lifeline(ctx, "", "check", "--data", n.Dir)
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(out)
}

var panicLine = regexp.MustCompile(`(?m)^panic: |^fatal error: |DATA RACE`)

// logged counts the lines of the node's log that match re, and whether it
// panicked.
func (n *Node) logged(re *regexp.Regexp) (matches int, panics int) {
	b, err := os.ReadFile(n.logFile())
	if err != nil {
		return 0, 0
	}
	return len(re.FindAll(b, -1)), len(panicLine.FindAll(b, -1))
}
