//go:build unix

package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"lifeline/node/identity"
	"lifeline/node/store"
)

// checkDataDir refuses a data folder that another user may change: one
// that user owns, or one its group or everyone may write in. Whoever may
// write in the folder may replace its files, those the node made too:
// put there ca.crt and node.crt of a CA of their own, and the node trusts
// that CA's "headquarters"; or api-tokens.json naming a token of their
// own. A folder others may only read is taken: its secrets are files only
// their owner may read, and one that others may read, copied there from a
// backup, say, is refused as gossip.keys is.
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s belongs to user %d, and this process runs as user %d: run the node as the folder's user", ErrDataDirUnsafe, dir, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %s may be written in by its group or everyone (mode %v): chmod go-w %s", ErrDataDirUnsafe, dir, perm, dir)
	}
	for _, name := range []string{identity.KeyFile, store.FileName, store.FileName + "-wal"} {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return fmt.Errorf("%w: %s may be read by others (mode %v): chmod 600 %s", ErrDataDirUnsafe, path, perm, path)
		}
	}
	return nil
}

// lockRun takes the lock of a running node on its data folder, or says
// that another process holds it. The lock is the system's, on a file of
// the folder: a node that is killed lets it go as it ends.
func lockRun(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, RunLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by the process that runs it: stop that one first (lifeline's other commands work beside it)", ErrRunning, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Closing the file lets the lock go.
	return func() { f.Close() }, nil
}
