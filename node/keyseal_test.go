package node_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A node made with a sealed key opens only with its passphrase, and says
// which way it failed; Argon2id runs only when the key is opened. (Each
// run costs seconds under the race detector: this test counts them.)
func TestSealedNodeOpensWithItsPassphrase(t *testing.T) {
	ctx := context.Background()
	cfg := nodetest.Config(filepath.Join(t.TempDir(), "node"))
	id := node.Identity{Name: "cayo-07", Role: syncproto.RoleField, District: "Cayo"}

	weak := cfg
	weak.SealKey, weak.Passphrase = true, passphrase([]byte("hurricane"))
	if err := node.Init(ctx, weak, id); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("a weak passphrase: %v", err)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Fatal("a refused passphrase left a folder behind")
	}
	noPass := cfg
	noPass.SealKey = true
	if err := node.Init(ctx, noPass, id); err == nil {
		t.Fatal("sealed with no passphrase")
	}

	sealed := cfg
	sealed.SealKey, sealed.Passphrase = true, passphrase(testPassphrase)
	if err := node.Init(ctx, sealed, id); err != nil {
		t.Fatal(err)
	}
	if s, err := node.KeySealed(cfg.DataDir); err != nil || !s {
		t.Fatalf("KeySealed: %v, %v", s, err)
	}
	if _, err := node.Open(ctx, cfg); !errors.Is(err, node.ErrKeySealed) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("no passphrase: %v", err)
	}
	wrong := cfg
	wrong.Passphrase = passphrase([]byte("a long walk to Punta Gorda"))
	if _, err := node.Open(ctx, wrong); !errors.Is(err, node.ErrPassphrase) {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	asked := 0
	right := cfg
	right.Passphrase = func() ([]byte, error) { asked++; return testPassphrase, nil }
	n, err := node.Open(ctx, right)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if asked != 1 || n.Self().Name != "cayo-07" {
		t.Fatalf("asked %d times, opened %+v", asked, n.Self())
	}
	if err := n.CheckKeyPassphrase([]byte("a long walk to Punta Gorda")); !errors.Is(err, node.ErrPassphrase) {
		t.Fatalf("the lock's check of a wrong passphrase: %v", err)
	}
	if err := n.CheckKeyPassphrase(testPassphrase); err != nil {
		t.Fatal(err)
	}
	if _, err := node.KeySealed(t.TempDir()); !errors.Is(err, node.ErrNotInitialised) {
		t.Fatalf("KeySealed of an empty folder: %v", err)
	}
}

// A node made in the clear is sealed in place: its key file, and its
// gossip keys if still in the clear; nothing of the key is left in the
// folder, and the passphrase can be changed.
func TestSealKeyInPlace(t *testing.T) {
	ctx := context.Background()
	cfg := nodetest.Config(filepath.Join(t.TempDir(), "node"))
	if err := node.Init(ctx, cfg, node.Identity{Name: "cayo-07", Role: syncproto.RoleField, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	if s, err := node.KeySealed(cfg.DataDir); err != nil || s {
		t.Fatalf("KeySealed of a clear key: %v, %v", s, err)
	}
	keyPath := filepath.Join(cfg.DataDir, identity.KeyFile)
	key, err := identity.Load(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key.Signer())
	gk, _ := gossip.NewKey()
	if err := gossip.WriteKeyFile(filepath.Join(cfg.DataDir, gossip.KeyFile), [][]byte{gk}); err != nil {
		t.Fatal(err)
	}
	if err := node.SealKey(cfg.DataDir, passphrase([]byte("short"))); err == nil {
		t.Fatal("sealed with a weak passphrase")
	}
	if err := node.SealKey(cfg.DataDir, passphrase(testPassphrase)); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(cfg.DataDir, e.Name()))
		if bytes.Contains(b, der) || bytes.Contains(b, key.Signer().Seed()) || bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Fatalf("%s holds the node's key in the clear", e.Name())
		}
		if containsAny(b, secretForms(gk)) {
			t.Fatalf("%s holds the gossip key in the clear", e.Name())
		}
	}
	if err := node.SealKey(cfg.DataDir, func() ([]byte, error) {
		t.Error("the passphrase was asked for a key sealed already")
		return testPassphrase, nil
	}); !errors.Is(err, node.ErrKeySealedAlready) {
		t.Fatalf("sealed twice: %v", err)
	}
	next := []byte("a long walk to Punta Gorda")
	if err := node.ChangeKeyPassphrase(cfg.DataDir, passphrase(testPassphrase), passphrase(next)); err != nil {
		t.Fatal(err)
	}
	cfg.Passphrase = passphrase(next)
	keys, err := node.GossipKeys(cfg.DataDir, cfg.Passphrase)
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], gk) {
		t.Fatalf("the gossip keys after sealing: %x, %v", keys, err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Key().ID() != key.ID() {
		t.Fatal("the sealed node has another key")
	}
}
