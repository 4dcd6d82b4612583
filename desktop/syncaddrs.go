package desktop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"lifeline/node"
	"lifeline/node/atomicfile"
)

// syncAddrsFile is the file, in the node's data folder, that remembers
// the addresses synced with from the Sync screen, so that "Sync now"
// tries them again after a restart.
const syncAddrsFile = "sync-addresses.json"

// Bounds of the file: it is read at every start, and a damaged or
// planted one must not cost more than this.
const (
	maxSyncAddrsFile = 16 << 10
	maxSyncAddrs     = 16
	maxSyncAddrLen   = 260
)

// syncAddrs are the addresses remembered: Last is what was typed in the
// box last, Known those a sync succeeded with, newest first.
type syncAddrs struct {
	Last  string   `json:"last,omitempty"`
	Known []string `json:"known,omitempty"`
}

// checkSyncAddr says what is wrong with addr as a peer's address
// (host:port), or nil.
func checkSyncAddr(addr string) error {
	if len(addr) > maxSyncAddrLen {
		return fmt.Errorf("%d characters: at most %d", len(addr), maxSyncAddrLen)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return errors.New("not host:port")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q: a number from 1 to 65535", port)
	}
	if node.Printable(host) != host || strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("host %q: letters, digits, dots, dashes or an IP address", host)
	}
	return nil
}

// loadSyncAddrs reads the addresses remembered in dir. A file missing is
// none remembered; a damaged one is said, with what is wrong, and nothing
// of it is used; an address in it that is not host:port is left out.
func loadSyncAddrs(dir string) (syncAddrs, error) {
	path := filepath.Join(dir, syncAddrsFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return syncAddrs{}, nil
	}
	if err != nil {
		return syncAddrs{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSyncAddrsFile+1))
	if err != nil {
		return syncAddrs{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxSyncAddrsFile {
		return syncAddrs{}, fmt.Errorf("%s: larger than %d bytes", path, maxSyncAddrsFile)
	}
	var a syncAddrs
	if err := json.Unmarshal(b, &a); err != nil {
		return syncAddrs{}, fmt.Errorf("%s: %w", path, err)
	}
	if checkSyncAddr(a.Last) != nil {
		a.Last = ""
	}
	a.Known = slices.DeleteFunc(a.Known, func(s string) bool { return checkSyncAddr(s) != nil })
	a.Known = a.Known[:min(len(a.Known), maxSyncAddrs)]
	return a, nil
}

// save writes a into dir, whole or not at all.
func (a syncAddrs) save(dir string) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, syncAddrsFile), append(b, '\n'), 0o600)
}

// remember puts addr first among those known, keeping at most
// maxSyncAddrs.
func (a *syncAddrs) remember(addr string) {
	a.Known = slices.DeleteFunc(a.Known, func(s string) bool { return s == addr })
	a.Known = slices.Insert(a.Known, 0, addr)
	a.Known = a.Known[:min(len(a.Known), maxSyncAddrs)]
}
