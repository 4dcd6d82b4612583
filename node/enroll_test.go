package node_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

var testPassphrase = []byte("correct horse battery staple")

// passphrase gives p.
func passphrase(p []byte) func() ([]byte, error) {
	return func() ([]byte, error) { return p, nil }
}

// newNode makes and opens a node with the test configuration.
func newNode(t *testing.T, dir, name string, role syncproto.Role, district string) *node.Node {
	t.Helper()
	cfg := nodetest.Config(dir)
	if role == syncproto.RoleField {
		cfg.SyncAddr = ""
	}
	return nodetest.OpenConfig(t, cfg, name, role, district)
}

// deployment is an HQ node and its CA folder, written apart from HQ's data
// folder as `lifeline ca init --out` writes it.
type deployment struct {
	root  string
	hq    *node.Node
	caDir string
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{root: t.TempDir()}
	d.caDir = filepath.Join(d.root, "usb", "lifeline-ca")
	d.hq = newNode(t, filepath.Join(d.root, "hq"), "hq-belmopan", syncproto.RoleHQ, "Belize")
	if _, err := d.hq.InitCA(context.Background(), node.CAOptions{Dir: d.caDir, Passphrase: passphrase(testPassphrase)}); err != nil {
		t.Fatal(err)
	}
	return d
}

// request is the enrollment request of a new node.
func (d *deployment) request(t *testing.T, name string, role syncproto.Role, district string) (*node.Node, []byte) {
	t.Helper()
	n := newNode(t, filepath.Join(d.root, name), name, role, district)
	req, err := n.EnrollmentRequest()
	if err != nil {
		t.Fatal(err)
	}
	return n, req
}

func wantClaimsError(t *testing.T, err error, claim string, says ...string) {
	t.Helper()
	var ce *node.ClaimsError
	if !errors.As(err, &ce) || ce.Claim != claim || !errors.Is(err, node.ErrClaims) {
		t.Fatalf("error %v, want a ClaimsError on %s", err, claim)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("%q does not say %q", err, s)
		}
	}
}

// Whoever signs says what the request must claim: a request claiming
// headquarters, another role or another district is refused, by HQ's node
// and by the CA folder alone, and a relay is never signed without the
// ledger hearing of it.
func TestSigningChecksTheClaims(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	ca, err := node.OpenAuthority(d.caDir, passphrase(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	_, rogue := d.request(t, "cayo-laptop-07", syncproto.RoleHQ, "Cayo") // a laptop asking to be HQ
	_, laptop := d.request(t, "tol-laptop-02", syncproto.RoleField, "Toledo")
	_, relay := d.request(t, "relay-pg", syncproto.RoleRelay, "Toledo")
	field := node.SignOptions{Role: syncproto.RoleField, District: "Toledo"}

	type signer struct {
		name string
		sign func([]byte, node.SignOptions) ([]byte, error)
	}
	for _, s := range []signer{
		{"HQ's node", func(r []byte, o node.SignOptions) ([]byte, error) { return d.hq.SignEnrollment(ctx, ca, r, o) }},
		{"the CA folder", ca.Sign},
	} {
		_, err := s.sign(rogue, node.SignOptions{Role: syncproto.RoleHQ, District: "Cayo"})
		wantClaimsError(t, err, "hq", "cayo-laptop-07", "role hq")
		_, err = s.sign(rogue, field)
		wantClaimsError(t, err, "role", "role hq", "field was expected")
		_, err = s.sign(laptop, node.SignOptions{Role: syncproto.RoleField, District: "Cayo"})
		wantClaimsError(t, err, "district", "district Toledo", "Cayo was expected")
		if _, err := s.sign(laptop, node.SignOptions{District: "Toledo"}); err == nil || !strings.Contains(err.Error(), "role") {
			t.Fatalf("%s signed with no expected role: %v", s.name, err)
		}
		if _, err := s.sign(laptop, node.SignOptions{Role: syncproto.RoleField}); err == nil || !strings.Contains(err.Error(), "district") {
			t.Fatalf("%s signed with no expected district: %v", s.name, err)
		}
		if _, err := s.sign(laptop, node.SignOptions{Role: syncproto.RoleField, District: " toledo "}); err != nil {
			t.Fatalf("%s: the district in another spelling: %v", s.name, err)
		}
	}
	// HQ on purpose, at HQ's node.
	if _, err := d.hq.SignEnrollment(ctx, ca, rogue, node.SignOptions{Role: syncproto.RoleHQ, District: "Cayo", HQ: true}); err != nil {
		t.Fatal(err)
	}
	// The CA alone cannot tell the ledger: relays, HQ and voters need HQ's node.
	if _, err := ca.Sign(relay, node.SignOptions{Role: syncproto.RoleRelay, District: "Toledo"}); err == nil || !strings.Contains(err.Error(), "ledger") {
		t.Fatalf("a relay signed by the CA folder alone: %v", err)
	}
	if _, err := ca.Sign(laptop, node.SignOptions{Role: syncproto.RoleField, District: "Toledo", Voter: true}); err == nil || !strings.Contains(err.Error(), "ledger") {
		t.Fatalf("a voter signed by the CA folder alone: %v", err)
	}
	if _, err := d.hq.SignEnrollment(ctx, ca, relay, node.SignOptions{Role: syncproto.RoleRelay, District: "Toledo", Voter: true}); err != nil {
		t.Fatal(err)
	}

	// A node enrolling itself signs its own claims, and HQ only on purpose.
	hq2 := newNode(t, filepath.Join(d.root, "hq-alt"), "hq-alt", syncproto.RoleHQ, "Belize")
	err = hq2.EnrollFrom(ctx, ca, node.SignOptions{})
	wantClaimsError(t, err, "hq", "hq-alt")
	if hq2.Enrolled() {
		t.Fatal("an HQ enrolled without saying so")
	}

	// Another deployment's CA is refused by HQ's node.
	other := newDeployment(t)
	otherCA, err := node.OpenAuthority(other.caDir, passphrase(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.hq.SignEnrollment(ctx, otherCA, laptop, field); err == nil || !strings.Contains(err.Error(), "another deployment") {
		t.Fatalf("HQ signed with another deployment's CA: %v", err)
	}
}

// The CA folder's secrets are sealed, and HQ's data folder keeps the CA's
// certificate but not its key.
func TestCAFolderIsSealedAndApart(t *testing.T) {
	d := newDeployment(t)
	hqDir := filepath.Join(d.root, "hq")
	if _, err := os.Stat(filepath.Join(hqDir, node.CADir)); !os.IsNotExist(err) {
		t.Fatalf("HQ's folder has a CA folder: %v", err)
	}
	filepath.Walk(hqDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || filepath.Base(path) == identity.KeyFile {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte("CA KEY")) || bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a key", path)
		}
		return nil
	})
	if !d.hq.Enrolled() || !d.hq.Credentials().CA.Equal(mustCA(t, d.caDir).Cert()) {
		t.Fatal("HQ is not enrolled with the CA it made")
	}
	keys, err := node.GossipKeys(hqDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{identity.CAKeyFile, node.CAGossipFile} {
		b, err := os.ReadFile(filepath.Join(d.caDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if forms := secretForms(keys[0]); containsAny(b, forms) {
			t.Fatalf("%s holds the gossip key", f)
		}
	}
	// HQ's own copy is encrypted with its node key.
	filepath.Walk(hqDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		if b, _ := os.ReadFile(path); containsAny(b, secretForms(keys[0])) {
			t.Errorf("%s holds the gossip key in the clear", path)
		}
		return nil
	})
	if _, err := node.OpenAuthority(d.caDir, passphrase([]byte("correct horse battery stapler"))); !errors.Is(err, identity.ErrPassphrase) {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	// A second CA for the same HQ is refused.
	if _, err := d.hq.InitCA(context.Background(), node.CAOptions{Dir: filepath.Join(d.root, "second"), Passphrase: passphrase(testPassphrase)}); err == nil || !strings.Contains(err.Error(), "already enrolled") {
		t.Fatalf("a second CA: %v", err)
	}
}

func mustCA(t *testing.T, dir string) *node.Authority {
	t.Helper()
	ca, err := node.OpenAuthority(dir, passphrase(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// secretForms are the ways a key could show in a file.
func secretForms(k []byte) [][]byte {
	return [][]byte{k,
		[]byte(base64.StdEncoding.EncodeToString(k)), []byte(base64.RawStdEncoding.EncodeToString(k)),
		[]byte(base64.URLEncoding.EncodeToString(k)), []byte(base64.RawURLEncoding.EncodeToString(k)),
		[]byte(hex.EncodeToString(k)), k[:12]}
}

func containsAny(b []byte, forms [][]byte) bool {
	for _, f := range forms {
		if bytes.Contains(b, f) {
			return true
		}
	}
	return false
}

// The enrollment file carries the gossip key encrypted to the node that
// asked: neither its bytes nor its base64 are in the file, another node's
// key cannot open it, and the node it is for installs the keys HQ uses.
func TestEnrollmentFileKeepsTheGossipKeySecret(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	ca := mustCA(t, d.caDir)
	keys, err := node.GossipKeys(filepath.Join(d.root, "hq"), nil)
	if err != nil {
		t.Fatal(err)
	}
	laptop, req := d.request(t, "tol-laptop-02", syncproto.RoleField, "Toledo")
	thief, _ := d.request(t, "tol-laptop-66", syncproto.RoleField, "Toledo")
	field := node.SignOptions{Role: syncproto.RoleField, District: "Toledo"}
	for name, sign := range map[string]func() ([]byte, error){
		"HQ's node":     func() ([]byte, error) { return d.hq.SignEnrollment(ctx, ca, req, field) },
		"the CA folder": func() ([]byte, error) { return ca.Sign(req, field) },
	} {
		bundle, err := sign()
		if err != nil {
			t.Fatal(err)
		}
		if containsAny(bundle, secretForms(keys[0])) {
			t.Fatalf("%s: the enrollment file holds the gossip key", name)
		}
		for rest := bundle; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if containsAny(b.Bytes, secretForms(keys[0])) {
				t.Fatalf("%s: the %s block holds the gossip key", name, b.Type)
			}
		}
		err = thief.Install(ctx, bundle)
		if !errors.Is(err, identity.ErrNotForKey) {
			t.Fatalf("%s: another node installed the file: %v", name, err)
		}
		if thief.Enrolled() || exists(filepath.Join(d.root, "tol-laptop-66", gossip.KeyFile)) {
			t.Fatalf("%s: a refused file left something installed", name)
		}
		if err := laptop.Install(ctx, bundle); err != nil {
			t.Fatal(err)
		}
		got, err := node.GossipKeys(filepath.Join(d.root, "tol-laptop-02"), nil)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0], keys[0]) {
			t.Fatalf("%s: the node holds gossip keys %x (%v), want HQ's", name, got, err)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A file written before the gossip keys were encrypted carries them in the
// clear: it is refused, and says to have it signed again.
func TestClearEnrollmentFileRefused(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	ca := mustCA(t, d.caDir)
	laptop, req := d.request(t, "tol-laptop-02", syncproto.RoleField, "Toledo")
	bundle, err := ca.Sign(req, node.SignOptions{Role: syncproto.RoleField, District: "Toledo"})
	if err != nil {
		t.Fatal(err)
	}
	certs := bundle[:bytes.Index(bundle, []byte("-----BEGIN LIFELINE ENCRYPTED GOSSIP KEYS"))]
	old := append(certs, pem.EncodeToMemory(&pem.Block{Type: "LIFELINE GOSSIP KEYS", Bytes: []byte(base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n")})...)
	err = laptop.Install(ctx, old)
	if !errors.Is(err, node.ErrClearBundle) || !strings.Contains(err.Error(), "sign this node's request again") {
		t.Fatalf("a clear enrollment file: %v", err)
	}
	if laptop.Enrolled() {
		t.Fatal("a clear enrollment file was installed")
	}
}

// A laptop enrolled in the field from the CA folder alone, with HQ's data
// folder nowhere in reach, syncs with HQ.
func TestLaptopEnrolledFromCAFolderAloneSyncs(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	hqDir := filepath.Join(d.root, "hq")
	d.hq.Close()
	away := filepath.Join(d.root, "hq-elsewhere")
	if err := os.Rename(hqDir, away); err != nil {
		t.Fatal(err)
	}
	laptop := newNode(t, filepath.Join(d.root, "tol-laptop-02"), "tol-laptop-02", syncproto.RoleField, "Toledo")
	ca := mustCA(t, d.caDir)
	if ca.HQDir != "" {
		t.Fatalf("the CA folder is taken for HQ's folder %s", ca.HQDir)
	}
	if err := laptop.EnrollFrom(ctx, ca, node.SignOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.Add(ctx, "damage-assessment", []byte(damage), "vol-1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(away, hqDir); err != nil {
		t.Fatal(err)
	}

	hq, err := node.Open(ctx, nodetest.Config(hqDir))
	if err != nil {
		t.Fatal(err)
	}
	defer hq.Close()
	daemon, err := hq.Start(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Stop()
	if _, err := laptop.Sync(ctx, daemon.Addr()); err != nil {
		t.Fatal(err)
	}
	a, _ := laptop.Digest(ctx)
	b, _ := hq.Digest(ctx)
	if a != b {
		t.Fatal("the laptop and HQ hold different records after a sync")
	}
}

const damage = `{"district":"Toledo","village":"San Antonio","lat":16.24,"lon":-89.03,"structure_type":"concrete block","damage_level":2,"household_size":5,"reported_by":"vol-1","reported_at":"2026-11-18T14:05:00-06:00"}`

// A CA folder made before keys were sealed, in HQ's folder: it still
// signs, and SealAuthority seals its key and gossip keys in place.
func TestUnsealedCAFolderStillSignsAndSeals(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	newNode(t, filepath.Join(root, "hq"), "hq-belmopan", syncproto.RoleHQ, "Belize")
	caDir := filepath.Join(root, "hq", node.CADir)
	if err := os.MkdirAll(caDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{identity.CAKeyFile, identity.CAFile} {
		b, err := os.ReadFile(filepath.Join("identity", "testdata", "unsealed-ca", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(caDir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := gossip.NewKey()
	if err := gossip.WriteKeyFile(filepath.Join(caDir, gossip.KeyFile), [][]byte{key}); err != nil {
		t.Fatal(err)
	}
	never := func() ([]byte, error) { t.Fatal("asked for a passphrase of an unsealed CA"); return nil, nil }
	ca, err := node.OpenAuthority(filepath.Join(root, "hq"), never)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Sealed() || ca.HQDir != filepath.Join(root, "hq") {
		t.Fatalf("sealed %v, HQ folder %q", ca.Sealed(), ca.HQDir)
	}
	laptop := newNode(t, filepath.Join(root, "cayo-07"), "cayo-07", syncproto.RoleField, "Cayo")
	req, _ := laptop.EnrollmentRequest()
	bundle, err := ca.Sign(req, node.SignOptions{Role: syncproto.RoleField, District: "Cayo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := laptop.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}

	if err := node.SealAuthority(filepath.Join(root, "hq"), passphrase(testPassphrase)); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(caDir, gossip.KeyFile)) {
		t.Fatal("the clear gossip keys are still there")
	}
	for _, f := range []string{identity.CAKeyFile, node.CAGossipFile} {
		b, _ := os.ReadFile(filepath.Join(caDir, f))
		if containsAny(b, secretForms(key)) || !bytes.Contains(b, []byte("LIFELINE SEALED")) {
			t.Fatalf("%s is not sealed", f)
		}
	}
	if _, err := node.OpenAuthority(caDir, nil); !errors.Is(err, identity.ErrNeedsPassphrase) {
		t.Fatalf("opened with no passphrase: %v", err)
	}
	sealed := mustCA(t, caDir)
	other := newNode(t, filepath.Join(root, "cayo-08"), "cayo-08", syncproto.RoleField, "Cayo")
	req, _ = other.EnrollmentRequest()
	if bundle, err = sealed.Sign(req, node.SignOptions{Role: syncproto.RoleField, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	if err := other.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	if err := node.SealAuthority(caDir, passphrase(testPassphrase)); !errors.Is(err, node.ErrSealedAlready) {
		t.Fatalf("sealing twice: %v", err)
	}
}

// An enrolled laptop is handed an enrollment file for its own key signed
// by another certificate authority: one made by whoever copied the
// laptop's request from a stick (a certificate any peer holds would do as
// well), under the deployment's CA's very name. Installed, it would take
// the laptop into that deployment, to trust its "headquarters". The
// laptop refuses it and keeps its own; a file of its own CA still
// installs.
func TestAnEnrolledNodeRefusesAnotherCAsFile(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	ca := mustCA(t, d.caDir)
	laptop, req := d.request(t, "cayo-laptop-07", syncproto.RoleField, "Cayo")
	field := node.SignOptions{Role: syncproto.RoleField, District: "Cayo"}
	bundle, err := ca.Sign(req, field)
	if err != nil {
		t.Fatal(err)
	}
	if err := laptop.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(d.root, "cayo-laptop-07", identity.CAFile)
	before, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}

	rogue, err := identity.NewCA(ca.Cert().Subject.CommonName)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := rogue.Sign(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = laptop.Install(ctx, forged)
	if !errors.Is(err, identity.ErrAnotherCA) {
		t.Fatalf("installing another CA's file: %v, want ErrAnotherCA", err)
	}
	if after, _ := os.ReadFile(caFile); !bytes.Equal(after, before) {
		t.Fatal("the laptop's CA certificate was replaced")
	}
	if !laptop.Credentials().CA.Equal(ca.Cert()) {
		t.Fatal("the laptop trusts another CA")
	}
	bundle, err = ca.Sign(req, field)
	if err != nil {
		t.Fatal(err)
	}
	if err := laptop.Install(ctx, bundle); err != nil {
		t.Fatalf("a file of the laptop's own CA: %v", err)
	}
}

// A laptop enrolled by HQ's node knows that node's key from its
// enrollment file, to encrypt the bundles it writes for headquarters; one
// enrolled from the CA folder alone knows no HQ node yet.
func TestEnrollmentFileIntroducesHQ(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	ca := mustCA(t, d.caDir)
	byHQ, req := d.request(t, "tol-laptop-02", syncproto.RoleField, "Toledo")
	byCA, req2 := d.request(t, "tol-laptop-03", syncproto.RoleField, "Toledo")
	field := node.SignOptions{Role: syncproto.RoleField, District: "Toledo"}
	bundle, err := d.hq.SignEnrollment(ctx, ca, req, field)
	if err != nil {
		t.Fatal(err)
	}
	if err := byHQ.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	to, err := byHQ.Recipients(ctx, []string{node.RecipientHQ})
	if err != nil || len(to) != 1 || to[0].Node != d.hq.Self().ID || to[0].Name != d.hq.Self().Name {
		t.Fatalf("the laptop HQ's node enrolled encrypts for %+v (%v), want %s", to, err, d.hq.Self().Name)
	}
	bundle, err = ca.Sign(req2, field)
	if err != nil {
		t.Fatal(err)
	}
	if err := byCA.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	if _, err := byCA.Recipients(ctx, []string{node.RecipientHQ}); !errors.Is(err, node.ErrNoRecipient) {
		t.Fatalf("the laptop the CA folder enrolled: %v, want ErrNoRecipient", err)
	}
}

// A responder moved from Cayo to Toledo keeps last season's enrollment
// file on the stick beside the new one. Installed again, by mistake or by
// whoever handed the stick over, it would take the laptop back to Cayo,
// which its peers that know the newer certificate refuse, and put back the
// gossip keys of its day. The laptop refuses a file whose certificate ends
// before the one it holds, and keeps that one and its keys. Nor does a
// file made of the certificate it holds, which every peer holds, with
// gossip keys of the maker's, encrypted to the laptop's key, replace its
// keys; installed again, its own file changes nothing, and puts back the
// keys it lost.
func TestAnOlderEnrollmentFileIsRefused(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	ca := mustCA(t, d.caDir)
	laptop, req := d.request(t, "cayo-laptop-07", syncproto.RoleField, "Cayo")
	dir := filepath.Join(d.root, "cayo-laptop-07")
	cayo, err := ca.Sign(req, node.SignOptions{Role: syncproto.RoleField, District: "Cayo", Validity: 100 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := laptop.Install(ctx, cayo); err != nil {
		t.Fatal(err)
	}
	moved, err := laptop.EnrollmentRequestIn("Toledo")
	if err != nil {
		t.Fatal(err)
	}
	toledo, err := ca.Sign(moved, node.SignOptions{Role: syncproto.RoleField, District: "Toledo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := laptop.Install(ctx, toledo); err != nil {
		t.Fatal(err)
	}
	keys, err := node.GossipKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, identity.CertFile)
	held, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	stays := func(what string) {
		t.Helper()
		if c := laptop.Credentials().Claims; c.District != "Toledo" {
			t.Fatalf("after %s the laptop is of %s", what, c.District)
		}
		if now, _ := os.ReadFile(certFile); !bytes.Equal(now, held) {
			t.Fatalf("after %s the laptop's certificate file was replaced", what)
		}
		if got, err := node.GossipKeys(dir, nil); err != nil || len(got) != 1 || !bytes.Equal(got[0], keys[0]) {
			t.Fatalf("after %s the laptop holds gossip keys %x (%v), want the deployment's", what, got, err)
		}
	}

	err = laptop.Install(ctx, cayo)
	if err == nil || !strings.Contains(err.Error(), "older") || !strings.Contains(err.Error(), "Toledo") {
		t.Fatalf("last season's file: %v; want it refused as older than the Toledo certificate held", err)
	}
	stays("last season's file")

	rogueKey, err := gossip.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	box, err := identity.EncryptTo(laptop.Key().Public(), []byte(base64.StdEncoding.EncodeToString(rogueKey)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	certs := toledo[:bytes.Index(toledo, []byte("-----BEGIN LIFELINE ENCRYPTED GOSSIP KEYS"))]
	forged := append(bytes.Clone(certs), pem.EncodeToMemory(&pem.Block{Type: "LIFELINE ENCRYPTED GOSSIP KEYS", Bytes: box})...)
	if err := laptop.Install(ctx, forged); err != nil {
		t.Fatalf("a file of the certificate held: %v", err)
	}
	stays("a file of the certificate held with other gossip keys")

	if err := laptop.Install(ctx, toledo); err != nil {
		t.Fatalf("its own file again: %v", err)
	}
	stays("its own file again")
	if err := os.Remove(filepath.Join(dir, gossip.KeyFile)); err != nil {
		t.Fatal(err)
	}
	if err := laptop.Install(ctx, toledo); err != nil {
		t.Fatalf("its own file, its gossip keys lost: %v", err)
	}
	stays("its own file, its gossip keys lost")
}

// Whoever holds the CA's stick for a while, without its passphrase, cannot
// sign, nor open or replace the sealed gossip keys; but a CA folder from
// before keys were sealed held them in the clear, and one whose sealing was
// cut short holds both. Removing gossip.sealed and putting a gossip.keys of
// one's own beside the sealed key would have every laptop later enrolled
// from the stick alone gossip with the maker, and not with the deployment.
// A CA folder whose key is sealed hands out sealed gossip keys only, and
// says what to do.
func TestASealedCAFolderHandsOutNoClearGossipKeys(t *testing.T) {
	d := newDeployment(t)
	if err := os.Remove(filepath.Join(d.caDir, node.CAGossipFile)); err != nil {
		t.Fatal(err)
	}
	rogue, err := gossip.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := gossip.WriteKeyFile(filepath.Join(d.caDir, gossip.KeyFile), [][]byte{rogue}); err != nil {
		t.Fatal(err)
	}
	ca := mustCA(t, d.caDir)
	_, req := d.request(t, "cayo-laptop-07", syncproto.RoleField, "Cayo")
	bundle, err := ca.Sign(req, node.SignOptions{Role: syncproto.RoleField, District: "Cayo"})
	if err == nil || !strings.Contains(err.Error(), gossip.KeyFile) || !strings.Contains(err.Error(), "lifeline ca seal") {
		t.Fatalf("a sealed CA folder with gossip keys in the clear: %d bytes signed, error %v; want a refusal naming the file and ca seal", len(bundle), err)
	}
}
