//go:build unix

package node

import (
	"fmt"
	"os"
	"syscall"
)

// checkDataDir refuses a data folder that another user may change: one
// that user owns, or one its group or everyone may write in. Whoever may
// write in the folder may replace its files, those the node made too:
// put there ca.crt and node.crt of a CA of their own, and the node trusts
// that CA's "headquarters"; or api-tokens.json naming a token of their
// own. A folder others may only read is taken: its secrets are files only
// their owner may read.
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
	return nil
}
