package main

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lifeline/node/identity"
)

// testNodePassphrase is the passphrase these tests seal node keys with.
const testNodePassphrase = "a long walk to Punta Gorda"

// writeFile writes a passphrase file and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A node made sealed opens, for every command, with its passphrase from
// --passphrase-file or $LIFELINE_PASSPHRASE; without one, where nobody can
// type it, the command says in one line what it needs; a wrong one is
// refused. A sealed HQ takes its own passphrase and the CA's side by side,
// each from its own flag.
func TestSealedNodeNeedsItsPassphrase(t *testing.T) {
	dir := t.TempDir()
	hq := filepath.Join(dir, "hq")
	initHQ := []string{"init", "--data", hq, "--role", "hq", "--district", "Belize", "--name", "hq-belmopan", "--seal"}
	failsEnv(t, nil, "", []string{"--passphrase-file", "LIFELINE_PASSPHRASE", "terminal"}, initHQ...)
	failsEnv(t, []string{"LIFELINE_PASSPHRASE=hurricane"}, "", []string{"at least 12"}, initHQ...)
	if _, err := os.Stat(hq); !os.IsNotExist(err) {
		t.Fatal("a refused init left a folder")
	}
	passFile := writeFile(t, dir, "node-passphrase", testNodePassphrase+"\n")
	if out := ok(t, "", append(initHQ, "--passphrase-file", passFile)...); !strings.Contains(out, "sealed with the passphrase") {
		t.Fatalf("init --seal said %q", out)
	}
	key, err := os.ReadFile(filepath.Join(hq, identity.KeyFile))
	if err != nil || !strings.HasPrefix(string(key), "-----BEGIN LIFELINE SEALED NODE KEY-----") {
		t.Fatalf("the key is stored as:\n%s (%v)", key, err)
	}

	r := failsEnv(t, nil, "", []string{"sealed with a passphrase", "--passphrase-file FILE", "$LIFELINE_PASSPHRASE", "terminal"}, "status", "--data", hq)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	failsEnv(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase + "!"}, "", []string{"wrong passphrase", identity.KeyFile}, "status", "--data", hq)
	failsEnv(t, nil, "", []string{"wrong passphrase"}, "status", "--data", hq, "--passphrase-file", writeFile(t, dir, "wrong", "hurricane season 2024\n"))
	if out := lifelineOK(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase}, "status", "--data", hq); !strings.Contains(out, "hq-belmopan") {
		t.Fatalf("status said %q", out)
	}
	// The file wins over the environment.
	lifelineOK(t, []string{"LIFELINE_PASSPHRASE=not it"}, "status", "--data", hq, "--passphrase-file", passFile)

	// The node's passphrase and the CA's, each from its own flag.
	caFile := writeFile(t, dir, "ca-passphrase", testPassphrase+"\n")
	lifelineOK(t, []string{"LIFELINE_CA_PASSPHRASE="}, "ca", "init", "--data", hq, "--passphrase-file", passFile, "--ca-passphrase-file", caFile)
	_, req := request(t, dir, "tol-laptop-02", "field", "Toledo")
	sign := []string{"ca", "sign", "--data", hq, "--request", req, "--out", filepath.Join(dir, "tol.crt"), "--role", "field", "--district", "Toledo"}
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", []string{"--passphrase-file", "LIFELINE_PASSPHRASE"}, append(sign, "--ca-passphrase-file", caFile)...)
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", []string{"--ca-passphrase-file", "LIFELINE_CA_PASSPHRASE"}, append(sign, "--passphrase-file", passFile)...)
	lifelineOK(t, []string{"LIFELINE_CA_PASSPHRASE="}, append(sign, "--passphrase-file", passFile, "--ca-passphrase-file", caFile)...)

	// The gossip key HQ holds is encrypted with its key, sealed.
	b, err := os.ReadFile(filepath.Join(hq, "gossip.keys"))
	if err != nil || !strings.Contains(string(b), "LIFELINE NODE GOSSIP KEYS") {
		t.Fatalf("HQ's gossip keys are stored as:\n%s (%v)", b, err)
	}
}

// key seal seals a node made in the clear in place: afterwards no file of
// the data folder holds its private key in any form, commands need the
// passphrase, and key passphrase changes it.
func TestKeySealLeavesNoClearKey(t *testing.T) {
	d := newDeployment(t)
	dir := d.node(t, "tol-laptop-02", "field", "Toledo")
	addRecordsIn(t, dir, 2, "San Antonio", "Toledo")
	k, err := identity.Load(filepath.Join(dir, identity.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer())
	if err != nil {
		t.Fatal(err)
	}

	failsEnv(t, []string{"LIFELINE_PASSPHRASE=hurricane"}, "", []string{"at least 12"}, "key", "seal", "--data", dir)
	failsEnv(t, nil, "", []string{"--passphrase-file", "LIFELINE_PASSPHRASE"}, "key", "seal", "--data", dir)
	failsEnv(t, nil, "", []string{"not sealed", "key seal"}, "key", "passphrase", "--data", dir)
	out := lifelineOK(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase}, "key", "seal", "--data", dir)
	if !strings.Contains(out, "sealed the node's key") {
		t.Fatalf("key seal said %q", out)
	}
	forms := map[string][]byte{
		"PKCS #8":           der,
		"PKCS #8 in base64": []byte(base64.StdEncoding.EncodeToString(der)[:40]),
		"the seed":          k.Signer().Seed(),
		"PEM":               []byte("PRIVATE KEY"),
	}
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for what, form := range forms {
			if bytes.Contains(b, form) {
				t.Errorf("%s holds the node's key (%s)", path, what)
			}
		}
		return nil
	})
	failsEnv(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase}, "", []string{"sealed already", "key passphrase"}, "key", "seal", "--data", dir)
	failsEnv(t, nil, "", []string{"--passphrase-file", "LIFELINE_PASSPHRASE"}, "record", "list", "--data", dir)
	if out := lifelineOK(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase}, "record", "list", "--data", dir); !strings.Contains(out, "San Antonio 1") {
		t.Fatalf("the sealed node lists %q", out)
	}

	next := "hurricane season of 2025"
	failsEnv(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase, "LIFELINE_NEW_PASSPHRASE=short"}, "", []string{"at least 12"}, "key", "passphrase", "--data", dir)
	failsEnv(t, []string{"LIFELINE_PASSPHRASE=not it at all", "LIFELINE_NEW_PASSPHRASE=" + next}, "", []string{"wrong passphrase"}, "key", "passphrase", "--data", dir)
	failsEnv(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase}, "", []string{"--new-passphrase-file", "LIFELINE_NEW_PASSPHRASE"}, "key", "passphrase", "--data", dir)
	newFile := writeFile(t, d.dir, "new-passphrase", next+"\n")
	lifelineOK(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase}, "key", "passphrase", "--data", dir, "--new-passphrase-file", newFile)
	failsEnv(t, []string{"LIFELINE_PASSPHRASE=" + testNodePassphrase}, "", []string{"wrong passphrase"}, "status", "--data", dir)
	lifelineOK(t, []string{"LIFELINE_PASSPHRASE=" + next}, "status", "--data", dir)
}
