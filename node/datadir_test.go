//go:build unix

package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// A data folder another user may write in is refused, by Init and Open,
// saying which folder and what to do: whoever may write there may replace
// the node's certificates with those of a CA of their own. Who else may
// write is read from the folder's mode bits and owner, as the system
// decides it (the test runs as root, to whom every folder is writable).
func TestADataFolderOthersMayChangeIsRefused(t *testing.T) {
	ctx := context.Background()
	id := node.Identity{Name: "cayo-07", Role: syncproto.RoleField, District: "Cayo"}

	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil { // as a mkdir under umask 000 makes it
		t.Fatal(err)
	}
	err := node.Init(ctx, nodetest.Config(shared), id)
	if !errors.Is(err, node.ErrDataDirUnsafe) || !strings.Contains(err.Error(), shared) || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("a node made in a folder everyone may write in: %v", err)
	}
	if entries, _ := os.ReadDir(shared); len(entries) != 0 {
		t.Fatalf("the refused folder holds %d files", len(entries))
	}

	cfg := nodetest.Config(filepath.Join(t.TempDir(), "node"))
	if err := node.Init(ctx, cfg, id); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o770, 0o720, 0o757, 0o702, os.ModeSticky | 0o777} {
		if err := os.Chmod(cfg.DataDir, mode); err != nil {
			t.Fatal(err)
		}
		if n, err := node.Open(ctx, cfg); !errors.Is(err, node.ErrDataDirUnsafe) || !strings.Contains(err.Error(), cfg.DataDir) {
			if err == nil {
				n.Close()
			}
			t.Fatalf("mode %v: opened: %v", mode, err)
		}
		if err := node.SealKey(cfg.DataDir, passphrase(testPassphrase)); !errors.Is(err, node.ErrDataDirUnsafe) {
			t.Fatalf("mode %v: the key sealed: %v", mode, err)
		}
	}
	// Others may read the folder: its secrets are their owner's alone.
	if err := os.Chmod(cfg.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(cfg.DataDir, identity.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v, %v", fi.Mode(), err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("mode 0755: %v", err)
	}
	n.Close()

	// The key and the database, put back from a backup that kept no modes,
	// are refused as gossip.keys is, saying which.
	for _, name := range []string{identity.KeyFile, store.FileName} {
		path := filepath.Join(cfg.DataDir, name)
		for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			if n, err := node.Open(ctx, cfg); !errors.Is(err, node.ErrDataDirUnsafe) || !strings.Contains(err.Error(), "chmod 600 "+path) {
				if err == nil {
					n.Close()
				}
				t.Fatalf("%s of mode %v: opened: %v", name, mode, err)
			}
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n, err = node.Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	n.Close()

	if os.Geteuid() != 0 {
		t.Log("not root: the folder of another user is not made here")
		return
	}
	const nobody = 65534
	if err := os.Chown(cfg.DataDir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if n, err := node.Open(ctx, cfg); !errors.Is(err, node.ErrDataDirUnsafe) || !strings.Contains(err.Error(), "user "+strconv.Itoa(nobody)) {
		if err == nil {
			n.Close()
		}
		t.Fatalf("another user's folder: %v", err)
	}
}

// A node runs in one process at a time: a second Start on its data
// folder, from another process or this one, is refused, saying so, and
// takes the folder once the first stops. Before, a second lifeline run on
// HQ's folder gossiped under HQ's node id and then waited for good on the
// ledger's files, which the first held, its port taking connections it
// never served.
func TestANodeRunsInOneProcessAtATime(t *testing.T) {
	ctx := context.Background()
	cfg := nodetest.Config(filepath.Join(t.TempDir(), "node"))
	cfg.SyncAddr = ""
	if err := node.Init(ctx, cfg, node.Identity{Name: "cayo-07", Role: syncproto.RoleField, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	first, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("a command beside the node: %v", err)
	}
	defer second.Close()

	running, err := first.Start(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := second.Start(ctx, nil); !errors.Is(err, node.ErrRunning) || !strings.Contains(err.Error(), cfg.DataDir) {
		if err == nil {
			d.Stop()
		}
		running.Stop()
		t.Fatalf("a second run of the node: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(cfg.DataDir, node.RunLockFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the lock's file: %v, %v", fi.Mode(), err)
	}
	if _, err := second.Status(ctx); err != nil {
		t.Fatalf("a command beside the running node: %v", err)
	}
	if err := running.Stop(); err != nil {
		t.Fatal(err)
	}
	again, err := second.Start(ctx, nil)
	if err != nil {
		t.Fatalf("once the first stopped: %v", err)
	}
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}
}
