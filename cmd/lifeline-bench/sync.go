package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lifeline/node"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// W1 to W3: sync between two real node processes on loopback. Node B runs
// `lifeline run --sync-addr`; node A runs `lifeline sync --peer` for each
// session. Both are enrolled in one deployment; every chain and signature
// is checked.
func init() {
	register(workload{name: "W1-W3-sync", across: syncWorkloads})
}

// lifelineBin is the lifeline binary beside this one.
func lifelineBin() string {
	exe, err := os.Executable()
	if err != nil {
		fail(err)
	}
	return filepath.Join(filepath.Dir(exe), "lifeline")
}

func lifeline(args ...string) (string, error) {
	cmd := exec.Command(lifelineBin(), args...)
	// The passphrase that seals the benchmark's certificate authority.
	cmd.Env = append(os.Environ(), "LIFELINE_CA_PASSPHRASE=lifeline benchmark authority")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lifeline %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// syncScale multiplies the records of W1 (-scale): the 50,000 of the
// workload, then copies of them with new ids.
var syncScale = 1

// scaled writes the workload's 50,000 damage assessments followed by
// scale-1 copies of them, each copy's ids derived from the original's, and
// returns the file and its count of records.
func scaled(e *env, scale int) (string, int, error) {
	if scale <= 1 {
		return e.damage, 50000, nil
	}
	lines, err := readLines(e.damage, 1, 50000)
	if err != nil {
		return "", 0, err
	}
	file := filepath.Join(e.tmp, fmt.Sprintf("damage-x%d.ndjson", scale))
	f, err := os.Create(file)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for copyN := range scale {
		for _, line := range lines {
			if copyN > 0 {
				var rec map[string]any
				if err := json.Unmarshal(line, &rec); err != nil {
					return "", 0, err
				}
				h := sha256.Sum256(fmt.Appendf(nil, "%v/%d", rec["id"], copyN))
				h[6], h[8] = h[6]&0x0f|0x40, h[8]&0x3f|0x80
				rec["id"] = fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
				if line, err = json.Marshal(rec); err != nil {
					return "", 0, err
				}
			}
			w.Write(line)
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		return "", 0, err
	}
	return file, 50000 * scale, f.Close()
}

func syncWorkloads(ctx context.Context, e *env) ([]namedResult, error) {
	damage, total, err := scaled(e, syncScale)
	if err != nil {
		return nil, err
	}
	if damage != e.damage {
		defer os.Remove(damage)
	}
	hq, a, b := filepath.Join(e.tmp, "hq"), filepath.Join(e.tmp, "a"), filepath.Join(e.tmp, "b")
	defer os.RemoveAll(hq)
	defer os.RemoveAll(a)
	defer os.RemoveAll(b)
	for _, args := range [][]string{
		{"init", "--data", hq, "--role", "hq", "--district", "Cayo", "--name", "hq"},
		{"ca", "init", "--data", hq},
		{"init", "--data", a, "--role", "hq", "--district", "Cayo", "--name", "node-a"},
		{"enroll", "--data", a, "--ca", hq, "--hq"},
		{"init", "--data", b, "--role", "hq", "--district", "Cayo", "--name", "node-b"},
		{"enroll", "--data", b, "--ca", hq, "--hq"},
		{"record", "import", "--data", a, "--type", "damage-assessment", damage},
	} {
		if _, err := lifeline(args...); err != nil {
			return nil, err
		}
	}
	server, addr, err := startServer(b)
	if err != nil {
		return nil, err
	}
	defer server.stop()

	var rows []namedResult
	session := func(name, what string, records int) error {
		r, err := syncOnce(a, b, addr, server)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := sameDigest(a, b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.Records = records
		rows = append(rows, namedResult{name: name, what: what, result: r})
		return nil
	}
	if err := session("W1-catch-up", fmt.Sprintf("A→B, %d records to an empty node", total), total); err != nil {
		return rows, err
	}
	if err := runEdit(e, a, "w2"); err != nil {
		return rows, err
	}
	if err := session("W2-incremental", "1,000 edits on A, then sync", 1000); err != nil {
		return rows, err
	}
	if err := runEdit(e, a, "A"); err != nil {
		return rows, err
	}
	if err := runEdit(e, b, "B"); err != nil {
		return rows, err
	}
	if err := session("W3-conflicts", "500 edits on each side of the same records, apart; one session both ways", 1000); err != nil {
		return rows, err
	}
	ca, cb := conflicts(a), conflicts(b)
	if ca != cb || ca < 0 {
		return rows, fmt.Errorf("W3: %d records in conflict on A, %d on B", ca, cb)
	}
	rows[len(rows)-1].Extra += fmt.Sprintf("; identical, %d records in conflict kept on each", ca)
	return rows, nil
}

type server struct {
	cmd *exec.Cmd
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

// startServer runs `lifeline run --sync-addr` on a free loopback port.
func startServer(dir string) (*server, string, error) {
	cmd := exec.Command(lifelineBin(), "run", "--data", dir, "--sync-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "serving sync on "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		return &server{cmd: cmd}, a, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, "", errors.New("lifeline run did not start serving")
	}
}

var (
	syncLine    = regexp.MustCompile(`(\d+) bytes out, (\d+) in`)
	sessionTime = regexp.MustCompile(` in ([0-9.]+)s: `)
)

// syncOnce runs `lifeline sync` and measures it: wall time, bytes both ways,
// the larger of the two nodes' peak memory and the receiving node's peak
// write-ahead log.
func syncOnce(dir, peer, addr string, srv *server) (result, error) {
	cmd := exec.Command(lifelineBin(), "sync", "--data", dir, "--peer", addr)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	clientRSS := watchRSS(cmd.Process.Pid)
	stopWAL := make(chan struct{})
	peerWAL := watchSize(filepath.Join(peer, store.FileName+"-wal"), stopWAL)
	err := cmd.Wait()
	elapsed := time.Since(start)
	close(stopWAL)
	wal := <-peerWAL
	if err != nil {
		return result{}, fmt.Errorf("lifeline sync: %v: %s", err, out.String())
	}
	m := syncLine.FindStringSubmatch(out.String())
	if m == nil {
		return result{}, fmt.Errorf("lifeline sync said %q", out.String())
	}
	bo, _ := strconv.ParseInt(m[1], 10, 64)
	bi, _ := strconv.ParseInt(m[2], 10, 64)
	a, b := <-clientRSS, procHWM(srv.cmd.Process.Pid)
	session := ""
	if m := sessionTime.FindStringSubmatch(out.String()); m != nil {
		session = fmt.Sprintf(" (the session itself %ss)", m[1])
	}
	return result{Elapsed: elapsed, RSSKiB: max(a, b),
		Extra: fmt.Sprintf("; %.2f MB on the wire; peak RSS A %.0f MiB, B %.0f MiB; B's log up to %.1f MiB; process wall time%s",
			float64(bo+bi)/1e6, float64(a)/1024, float64(b)/1024, float64(wal)/(1<<20), session)}, nil
}

// watchSize samples a file's size until stop is closed and returns the
// largest it saw.
func watchSize(file string, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		for {
			if fi, err := os.Stat(file); err == nil {
				peak = max(peak, fi.Size())
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return out
}

// watchRSS samples a process's peak resident memory until it exits.
func watchRSS(pid int) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		for {
			v := procHWM(pid)
			if v == 0 {
				out <- peak
				return
			}
			peak = max(peak, v)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return out
}

// procHWM reads a process's VmHWM in KiB, 0 once it has exited.
func procHWM(pid int) int64 { return procStatus(pid, "VmHWM:") }

// procStatus reads a figure in KiB of a process's status (VmHWM:,
// VmRSS:), 0 once it has exited.
func procStatus(pid int, key string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

func sameDigest(a, b string) error {
	da, err := lifeline("digest", "--data", a)
	if err != nil {
		return err
	}
	db, err := lifeline("digest", "--data", b)
	if err != nil {
		return err
	}
	if da != db {
		return fmt.Errorf("the nodes differ after the session: %s vs %s", strings.TrimSpace(da), strings.TrimSpace(db))
	}
	return nil
}

func conflicts(dir string) int {
	out, err := lifeline("status", "--data", dir, "--json")
	if err != nil {
		return -1
	}
	var st node.Status
	if json.Unmarshal([]byte(out), &st) != nil {
		return -1
	}
	return st.Conflicts
}

// runEdit applies the workload's edits of one side to a node, in this
// process: lines 50,001 to 52,000 name records by their line in the
// first 50,000.
func runEdit(e *env, dir, side string) error {
	ctx := context.Background()
	ids, err := readLines(e.damage, 1, 50000)
	if err != nil {
		return err
	}
	edits, err := readLines(e.workload, 50001, 52000)
	if err != nil {
		return err
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = dir
	n, err := node.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	for _, line := range edits {
		var ed struct {
			Side  string `json:"side"`
			Index int    `json:"index"`
		}
		if err := json.Unmarshal(line, &ed); err != nil {
			return err
		}
		if ed.Side != side {
			continue
		}
		var rec struct{ ID string }
		if err := json.Unmarshal(ids[ed.Index], &rec); err != nil {
			return err
		}
		id, err := syncproto.ParseRecordID(rec.ID)
		if err != nil {
			return err
		}
		var fields map[string]json.RawMessage
		json.Unmarshal(line, &fields)
		delete(fields, "side")
		delete(fields, "index")
		b, _ := json.Marshal(fields)
		if _, err := n.Update(ctx, id, b, "bench-"+side); err != nil {
			return fmt.Errorf("edit of line %d: %w", ed.Index+1, err)
		}
	}
	return nil
}
