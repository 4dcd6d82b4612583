package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
)

// request makes a node and writes its enrollment request.
func request(t *testing.T, dir, name, role, district string) (string, string) {
	t.Helper()
	node := filepath.Join(dir, name)
	ok(t, "", "init", "--data", node, "--role", role, "--district", district, "--name", name)
	req := filepath.Join(dir, name+".req")
	ok(t, "", "enroll", "request", "--data", node, "--out", req)
	return node, req
}

// gossipKey is the deployment's gossip key, as HQ holds it (encrypted
// with HQ's node key).
func gossipKey(t *testing.T, hq string) []byte {
	t.Helper()
	keys, err := node.GossipKeys(hq, nil)
	if err != nil {
		t.Fatal(err)
	}
	return keys[0]
}

// ca sign shows what a request claims and signs it only when --role and
// --district say the same, and role hq only with --hq; each refusal is one
// line naming both sides, comes before the passphrase is asked for, and
// writes nothing.
func TestCASignShowsAndChecksTheClaims(t *testing.T) {
	d := newDeployment(t)
	_, rogue := request(t, d.dir, "cayo-laptop-07", "hq", "Cayo") // a laptop that asks to be HQ
	_, laptop := request(t, d.dir, "tol-laptop-02", "field", "Toledo")
	out := filepath.Join(d.dir, "signed.crt")
	noPassphrase := []string{"LIFELINE_CA_PASSPHRASE="}
	sign := func(req string, more ...string) []string {
		return append([]string{"ca", "sign", "--data", d.hq, "--request", req, "--out", out}, more...)
	}

	r := failsEnv(t, noPassphrase, "", []string{"cayo-laptop-07", "claims role hq", "--hq"}, sign(rogue, "--role", "hq", "--district", "Cayo")...)
	for _, shown := range []string{"name      cayo-laptop-07", "role      hq", "district  Cayo", "node      "} {
		if !strings.Contains(r.stdout, shown) {
			t.Fatalf("ca sign did not show %q:\n%s", shown, r.stdout)
		}
	}
	failsEnv(t, noPassphrase, "", []string{"claims role hq", "--role says field"}, sign(rogue, "--role", "field", "--district", "Cayo")...)
	failsEnv(t, noPassphrase, "", []string{"tol-laptop-02", "claims district Toledo", "--district says Cayo"}, sign(laptop, "--role", "field", "--district", "Cayo")...)
	if r := lifeline(t, "", sign(laptop)...); r.code != 2 || !strings.Contains(r.stderr, "--role and --district are required") || !strings.Contains(r.stdout, "tol-laptop-02") {
		t.Fatalf("no --role nor --district: exit %d, %q", r.code, r.stderr)
	}
	failsEnv(t, noPassphrase, "", []string{"--role", "field, relay, hq"}, sign(laptop, "--role", "boss", "--district", "Toledo")...)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a refused request was signed anyway")
	}

	ok(t, "", sign(laptop, "--role", "field", "--district", "toledo")...)
	stdout := ok(t, "", sign(rogue, "--role", "hq", "--district", "Cayo", "--hq")...)
	if !strings.Contains(stdout, "signed cayo-laptop-07") {
		t.Fatalf("ca sign --hq said %q", stdout)
	}

	// enroll signs the node's own claims, and an HQ only with --hq.
	hq2 := filepath.Join(d.dir, "hq-alt")
	ok(t, "", "init", "--data", hq2, "--role", "hq", "--district", "Belize", "--name", "hq-alt")
	failsEnv(t, noPassphrase, "", []string{"hq-alt", "claims role hq", "add --hq"}, "enroll", "--data", hq2, "--ca", d.hq)
	if out := ok(t, "", "enroll", "--data", hq2, "--ca", d.hq, "--hq"); !strings.Contains(out, "enrolled hq-alt (hq, Belize") {
		t.Fatalf("enroll --hq said %q", out)
	}
}

// The CA's key on disk is sealed: none of it shows, a wrong passphrase is
// refused in one line, and so is a missing one where nobody can type it.
func TestCAKeyIsSealed(t *testing.T) {
	dir := t.TempDir()
	hq := filepath.Join(dir, "hq")
	ok(t, "", "init", "--data", hq, "--role", "hq", "--district", "Belize", "--name", "hq-belmopan")
	passFile := filepath.Join(dir, "passphrase")
	if err := os.WriteFile(passFile, []byte("hurricane\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", []string{"at least 12"}, "ca", "init", "--data", hq, "--ca-passphrase-file", passFile)
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", []string{"--ca-passphrase-file", "LIFELINE_CA_PASSPHRASE", "terminal"}, "ca", "init", "--data", hq)
	if err := os.WriteFile(passFile, []byte("a long walk to Punta Gorda\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// --passphrase-file is the node's key's, never the CA's.
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", []string{"--ca-passphrase-file", "LIFELINE_CA_PASSPHRASE"}, "ca", "init", "--data", hq, "--passphrase-file", passFile)
	ok(t, "", "ca", "init", "--data", hq, "--ca-passphrase-file", passFile)
	key, err := os.ReadFile(filepath.Join(hq, "ca", "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(key), "-----BEGIN LIFELINE SEALED CA KEY-----") || strings.Contains(string(key), "PRIVATE KEY") {
		t.Fatalf("the CA key is stored as:\n%s", key)
	}
	for _, f := range []string{"ca/ca.key", "ca/gossip.sealed"} {
		b, _ := os.ReadFile(filepath.Join(hq, f))
		k := gossipKey(t, hq)
		if strings.Contains(string(b), base64.StdEncoding.EncodeToString(k)) || strings.Contains(string(b), string(k)) {
			t.Fatalf("%s holds the gossip key", f)
		}
	}

	_, req := request(t, dir, "tol-laptop-02", "field", "Toledo")
	sign := []string{"ca", "sign", "--data", hq, "--request", req, "--out", filepath.Join(dir, "c"), "--role", "field", "--district", "Toledo"}
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE=a long walk to Punta Gorda!"}, "", []string{"wrong passphrase", "ca.key"}, sign...)
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", []string{"--ca-passphrase-file", "LIFELINE_CA_PASSPHRASE"}, sign...)
	// The passphrase file wins over the environment.
	lifelineOK(t, []string{"LIFELINE_CA_PASSPHRASE=not it"}, append(sign, "--ca-passphrase-file", passFile)...)
}

func lifelineOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := lifelineEnv(t, env, "", args...)
	if r.code != 0 {
		t.Fatalf("lifeline %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// The CA folder on a USB stick is all a laptop's enrollment needs: HQ's
// data folder is nowhere to be found while two laptops are enrolled (one
// by request and certificate, one on the spot), and both then sync with HQ.
// The file carried back holds no gossip key, in any form.
func TestLaptopEnrolledWithTheCAFolderAloneSyncs(t *testing.T) {
	dir := t.TempDir()
	hq := filepath.Join(dir, "hq")
	stick := filepath.Join(dir, "usb", "lifeline-ca")
	ok(t, "", "init", "--data", hq, "--role", "hq", "--district", "Belize", "--name", "hq-belmopan")
	out := ok(t, "", "ca", "init", "--data", hq, "--out", stick)
	if !strings.Contains(out, "keeps the CA's certificate, not its key") {
		t.Fatalf("ca init --out said %q", out)
	}
	if _, err := os.Stat(filepath.Join(hq, "ca")); !os.IsNotExist(err) {
		t.Fatal("HQ's folder has a CA folder")
	}
	key := gossipKey(t, hq)

	away := filepath.Join(dir, "hq-elsewhere")
	if err := os.Rename(hq, away); err != nil {
		t.Fatal(err)
	}
	tol, req := request(t, dir, "tol-laptop-02", "field", "Toledo")
	cert := filepath.Join(dir, "tol-laptop-02.crt")
	out = ok(t, "", "ca", "sign", "--ca", stick, "--request", req, "--out", cert, "--role", "field", "--district", "Toledo")
	if !strings.Contains(out, "signed tol-laptop-02") {
		t.Fatalf("ca sign --ca said %q", out)
	}
	bundle, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{string(key), base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key), base64.URLEncoding.EncodeToString(key), hex.EncodeToString(key)} {
		if strings.Contains(string(bundle), form) {
			t.Fatal("the enrollment file holds the gossip key")
		}
	}
	fails(t, "", []string{"a relay", "ledger"}, "ca", "sign", "--ca", stick, "--request", func() string { _, r := request(t, dir, "relay-pg", "relay", "Toledo"); return r }(), "--out", filepath.Join(dir, "relay.crt"), "--role", "relay", "--district", "Toledo")
	ok(t, "", "enroll", "install", "--data", tol, "--cert", cert)
	cayo := filepath.Join(dir, "cayo-laptop-07")
	ok(t, "", "init", "--data", cayo, "--role", "field", "--district", "Cayo", "--name", "cayo-laptop-07")
	ok(t, "", "enroll", "--data", cayo, "--ca", stick)
	if err := os.Rename(away, hq); err != nil {
		t.Fatal(err)
	}

	addRecords(t, tol, 3, "San Antonio")
	addRecords(t, cayo, 2, "Succotz")
	addr := serve(t, hq)
	for _, n := range []string{tol, cayo} {
		ok(t, "", "sync", "--data", n, "--peer", addr)
	}
	if digestOf(t, cayo) != digestOf(t, hq) {
		t.Fatal("the laptops and HQ hold different records")
	}
	if got := gossipKey(t, tol); !bytes.Equal(got, key) {
		t.Fatalf("the laptop holds gossip key %x, want HQ's", got)
	}
}

// A CA folder made before keys were sealed still signs, with a warning
// said once; ca seal seals it in place, and the passphrase is needed from
// then on.
func TestUnsealedCAFolderWarnsAndSeals(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old-ca")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.key", "ca.crt"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "node", "identity", "testdata", "unsealed-ca", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(old, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gk := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	if err := os.WriteFile(filepath.Join(old, "gossip.keys"), []byte(gk+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, req := request(t, dir, "cayo-07", "field", "Cayo")
	sign := []string{"ca", "sign", "--ca", old, "--request", req, "--out", filepath.Join(dir, "c"), "--role", "field", "--district", "Cayo"}
	r := lifelineEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", sign...)
	if r.code != 0 || strings.Count(r.stderr, "warning") != 1 || !strings.Contains(r.stderr, "lifeline ca seal --ca "+old) {
		t.Fatalf("an unsealed CA: exit %d, %q", r.code, r.stderr)
	}

	if out := ok(t, "", "ca", "seal", "--ca", old); !strings.Contains(out, "sealed") {
		t.Fatalf("ca seal said %q", out)
	}
	if _, err := os.Stat(filepath.Join(old, "gossip.keys")); !os.IsNotExist(err) {
		t.Fatal("the clear gossip keys are still there")
	}
	for _, f := range []string{"ca.key", "gossip.sealed"} {
		b, _ := os.ReadFile(filepath.Join(old, f))
		if !strings.Contains(string(b), "LIFELINE SEALED") || strings.Contains(string(b), gk) {
			t.Fatalf("%s is not sealed:\n%s", f, b)
		}
	}
	failsEnv(t, []string{"LIFELINE_CA_PASSPHRASE="}, "", []string{"passphrase"}, sign...)
	if r := lifeline(t, "", sign...); r.code != 0 || r.stderr != "" {
		t.Fatalf("the sealed CA: exit %d, %q", r.code, r.stderr)
	}
	if out := ok(t, "", "ca", "seal", "--ca", old); !strings.Contains(out, "sealed already") {
		t.Fatalf("ca seal again said %q", out)
	}
}

// A field laptop's certificate lasts a season; two weeks before it ends,
// status says to renew it, and renewing through the same request and sign
// path gives a new season.
func TestCertificateRenewal(t *testing.T) {
	d := newDeployment(t)
	tol, req := request(t, d.dir, "tol-laptop-02", "field", "Toledo")
	cert := filepath.Join(d.dir, "tol.crt")
	sign := []string{"ca", "sign", "--data", d.hq, "--request", req, "--out", cert, "--role", "field", "--district", "Toledo"}
	ok(t, "", append(sign, "--validity", "240h")...)
	ok(t, "", "enroll", "install", "--data", tol, "--cert", cert)
	if out := ok(t, "", "status", "--data", tol); !strings.Contains(out, "renew it") {
		t.Fatalf("a certificate ending in ten days: status says\n%s", out)
	}
	ok(t, "", "enroll", "request", "--data", tol, "--out", req)
	ok(t, "", sign...)
	ok(t, "", "enroll", "install", "--data", tol, "--cert", cert)
	var st struct {
		Certificate string `json:"certificate_until"`
		Renew       bool   `json:"renew"`
	}
	if err := json.Unmarshal([]byte(ok(t, "", "status", "--data", tol, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	until, err := time.Parse(time.RFC3339, st.Certificate)
	if err != nil || st.Renew || until.Sub(time.Now()) < 119*24*time.Hour || until.Sub(time.Now()) > 121*24*time.Hour {
		t.Fatalf("after renewal: until %s, renew %v", st.Certificate, st.Renew)
	}
}

// A request or a signed certificate is a file for elsewhere, a stick. An
// --out mistyped into the node's data folder, or into the CA folder, is
// refused, and nothing is written: before, `enroll request --out
// cayo/node.key` replaced the laptop's key with its request, and every
// change it signed was orphaned; `ca sign --out` did the same to HQ's key,
// or, into the CA folder on its stick, to the CA's key, with which every
// node was enrolled. Elsewhere, each writes its file.
func TestEnrollmentFilesStayOutOfTheDataAndCAFolders(t *testing.T) {
	d := newDeployment(t)
	stick := filepath.Join(d.dir, "usb", "lifeline-ca")
	other := filepath.Join(d.dir, "hq-alt")
	ok(t, "", "init", "--data", other, "--role", "hq", "--district", "Belize", "--name", "hq-alt")
	ok(t, "", "ca", "init", "--data", other, "--out", stick)
	cayo, req := request(t, d.dir, "cayo-laptop-07", "field", "Cayo")
	sign := []string{"--request", req, "--role", "field", "--district", "Cayo"}
	for _, c := range []struct {
		args   []string
		target string
	}{
		{[]string{"enroll", "request", "--data", cayo}, filepath.Join(cayo, "node.key")},
		{append([]string{"ca", "sign", "--data", d.hq}, sign...), filepath.Join(d.hq, "node.key")},
		{append([]string{"ca", "sign", "--data", d.hq}, sign...), filepath.Join(d.hq, "ca", "ca.key")},
		{append([]string{"ca", "sign", "--ca", stick}, sign...), filepath.Join(stick, "ca.key")},
	} {
		before, err := os.ReadFile(c.target)
		if err != nil {
			t.Fatal(err)
		}
		args := append(c.args[:len(c.args):len(c.args)], "--out", c.target)
		fails(t, "", []string{c.target, "folder", "elsewhere"}, args...)
		if after, _ := os.ReadFile(c.target); !bytes.Equal(after, before) {
			t.Fatalf("lifeline %s replaced %s", strings.Join(args, " "), c.target)
		}
		out := filepath.Join(t.TempDir(), "out")
		ok(t, "", append(c.args[:len(c.args):len(c.args)], "--out", out)...)
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Fatalf("lifeline %s --out elsewhere wrote no file (%v)", strings.Join(c.args, " "), err)
		}
	}
}
