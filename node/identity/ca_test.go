package identity

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestNewCA(t *testing.T) {
	ca := newTestCA(t, "  NEMO Lifeline CA 2025 ")
	c := ca.Cert
	if c.Subject.CommonName != "NEMO Lifeline CA 2025" || !slices.Equal(c.Subject.Organization, []string{Organization}) {
		t.Fatalf("subject %v", c.Subject)
	}
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Fatal("not a CA limited to signing node certificates")
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
	if years := c.NotAfter.Sub(time.Now()).Hours() / 24 / 365; years < 19.9 || years > 20.1 {
		t.Fatalf("valid for %.1f years, want 20", years)
	}
	if c.SerialNumber.BitLen() > 128 || c.SerialNumber.Sign() <= 0 {
		t.Fatalf("serial %x", c.SerialNumber)
	}
	for _, bad := range []string{"", "   ", string(make([]byte, 65)), "ca\x00"} {
		if _, err := NewCA(bad); err == nil {
			t.Errorf("NewCA(%q) accepted", bad)
		}
	}
}

func TestCASaveLoad(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	dir := filepath.Join(t.TempDir(), "ca")
	if err := ca.Save(dir); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for name, want := range map[string]os.FileMode{"": 0o700, CAKeyFile: 0o600, CAFile: 0o644} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%q mode %v, want %v", name, fi.Mode().Perm(), want)
			}
		}
	}
	back, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Cert.Equal(ca.Cert) || !back.key.Equal(ca.key) {
		t.Fatal("loaded CA differs")
	}
	// The loaded CA signs certificates the original's pool accepts.
	k := newTestKey(t)
	bundle, err := back.Sign(request(t, k, Claims{Name: "hq-1", Role: "hq", District: "Belize"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := parseBundle(k, bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := creds.Cert.Verify(x509VerifyOptions(ca)); err != nil {
		t.Fatalf("Pool does not verify: %v", err)
	}

	// Save refuses to overwrite, and leaves the saved CA as it was.
	keyBefore, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	other := newTestCA(t, "Other CA")
	wantErr(t, other.Save(dir), filepath.Join(dir, CAKeyFile), "already exists")
	if keyAfter, _ := os.ReadFile(filepath.Join(dir, CAKeyFile)); !bytes.Equal(keyBefore, keyAfter) {
		t.Fatal("the CA key was overwritten")
	}
	// Even when only the certificate is left.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, CAFile), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr(t, other.Save(dir2), filepath.Join(dir2, CAFile), "already exists")
	if _, err := os.Stat(filepath.Join(dir2, CAKeyFile)); !os.IsNotExist(err) {
		t.Fatal("a key was written beside an existing certificate")
	}
}

func TestLoadCAErrors(t *testing.T) {
	good := t.TempDir()
	if err := newTestCA(t, "Good CA").Save(filepath.Join(good, "a")); err != nil {
		t.Fatal(err)
	}
	if err := newTestCA(t, "Other CA").Save(filepath.Join(good, "b")); err != nil {
		t.Fatal(err)
	}
	goodKey, _ := os.ReadFile(filepath.Join(good, "a", CAKeyFile))
	goodCert, _ := os.ReadFile(filepath.Join(good, "a", CAFile))
	otherCert, _ := os.ReadFile(filepath.Join(good, "b", CAFile))
	nodeKey := newTestKey(t)
	nodeKeyPath := filepath.Join(t.TempDir(), KeyFile)
	if err := nodeKey.Save(nodeKeyPath); err != nil {
		t.Fatal(err)
	}
	nodeKeyPEM, _ := os.ReadFile(nodeKeyPath)
	nodeCert := enroll(t, newTestCA(t, "x"), "n", "field", "Cayo")

	cases := []struct {
		name      string
		key, cert []byte // nil: file absent
		file      string // the file the error must name
		says      string
	}{
		{"missing key", nil, goodCert, CAKeyFile, "does not exist"},
		{"missing cert", goodKey, nil, CAFile, "does not exist"},
		{"garbage key", []byte("not a key"), goodCert, CAKeyFile, "no PEM"},
		{"garbage cert", goodKey, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), CAFile, "does not parse"},
		{"cert is a key", goodKey, goodKey, CAFile, "no PEM \"CERTIFICATE\""},
		{"huge key", bytes.Repeat([]byte("A"), maxPEMInput+1), goodCert, CAKeyFile, "larger than"},
		{"mismatched pair", goodKey, otherCert, CAFile, "different CAs"},
		{"node cert", goodKey, pemCert(nodeCert.Cert), CAFile, "not a CA certificate"},
		{"key and more", append(slices.Clone(goodKey), goodCert...), goodCert, CAKeyFile, "more after it"},
		{"still a key, but a node's", nodeKeyPEM, goodCert, CAFile, "different CAs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.key != nil {
				os.WriteFile(filepath.Join(dir, CAKeyFile), tc.key, 0o600)
			}
			if tc.cert != nil {
				os.WriteFile(filepath.Join(dir, CAFile), tc.cert, 0o644)
			}
			_, err := LoadCA(dir)
			wantErr(t, err, filepath.Join(dir, tc.file), tc.says)
		})
	}
}
