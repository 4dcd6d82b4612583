package identity

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
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
	if err := ca.save(dir, testPassphrase, testKDF); err != nil {
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
	back, err := LoadCA(dir, passphrase(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	if !back.Cert.Equal(ca.Cert) || !back.key.Equal(ca.key) || !back.Sealed() {
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
	wantErr(t, other.save(dir, testPassphrase, testKDF), filepath.Join(dir, CAKeyFile), "already exists")
	if keyAfter, _ := os.ReadFile(filepath.Join(dir, CAKeyFile)); !bytes.Equal(keyBefore, keyAfter) {
		t.Fatal("the CA key was overwritten")
	}
	// Even when only the certificate is left.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, CAFile), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr(t, other.save(dir2, testPassphrase, testKDF), filepath.Join(dir2, CAFile), "already exists")
	if _, err := os.Stat(filepath.Join(dir2, CAKeyFile)); !os.IsNotExist(err) {
		t.Fatal("a key was written beside an existing certificate")
	}
}

func TestLoadCAErrors(t *testing.T) {
	good := t.TempDir()
	if err := newTestCA(t, "Good CA").save(filepath.Join(good, "a"), testPassphrase, testKDF); err != nil {
		t.Fatal(err)
	}
	if err := newTestCA(t, "Other CA").save(filepath.Join(good, "b"), testPassphrase, testKDF); err != nil {
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
	// A key sealed by a newer Lifeline, and one cut short.
	block, _ := pem.Decode(goodKey)
	newer := slices.Clone(block.Bytes)
	newer[0] = 2
	newerKey := pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: newer})
	shortKey := pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes[:sealHeaderLen+8]})
	greedy := slices.Clone(block.Bytes)
	binary.BigEndian.PutUint32(greedy[5:], 64<<20) // 64 GiB of memory
	greedyKey := pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: greedy})

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
		{"key and more", append(slices.Clone(goodKey), goodCert...), goodCert, CAKeyFile, "more after"},
		{"still a key, but a node's", nodeKeyPEM, goodCert, CAFile, "different CAs"},
		{"sealed by a newer Lifeline", newerKey, goodCert, CAKeyFile, "format 2"},
		{"sealed key cut short", shortKey, goodCert, CAKeyFile, "cut short"},
		{"sealed key asking for 64 GiB", greedyKey, goodCert, CAKeyFile, "out of bounds"},
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
			_, err := LoadCA(dir, passphrase(testPassphrase))
			wantErr(t, err, filepath.Join(dir, tc.file), tc.says)
		})
	}
}

// The CA key on disk holds none of the key's bytes, in any encoding, and
// opens only with its passphrase.
func TestSavedCAKeyIsSealed(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	dir := t.TempDir()
	if err := ca.Save(dir, testPassphrase); err != nil { // DefaultKDF, as deployments have it
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(ca.key)
	block, _ := pem.Decode(onDisk)
	if block == nil {
		t.Fatal("no PEM block")
	}
	for what, secret := range map[string][]byte{"seed": ca.key.Seed(), "private key": ca.key, "PKCS #8": der} {
		for _, form := range [][]byte{secret, []byte(base64.StdEncoding.EncodeToString(secret)), []byte(hex.EncodeToString(secret))} {
			if bytes.Contains(onDisk, form) || bytes.Contains(block.Bytes, form) {
				t.Fatalf("the CA key file holds the %s", what)
			}
		}
		// Any 8 bytes of the seed would be a leak.
		if what == "seed" {
			for i := 0; i+8 <= len(secret); i++ {
				if bytes.Contains(block.Bytes, secret[i:i+8]) {
					t.Fatalf("the CA key file holds bytes %d-%d of the seed", i, i+8)
				}
			}
		}
	}
	if IsSealed(onDisk, pemPlainKey) || !IsSealed(onDisk, pemSealedCAKey) {
		t.Fatalf("the key is stored as %q", block.Type)
	}

	_, err = LoadCA(dir, passphrase([]byte("correct horse battery stapler")))
	if !errors.Is(err, ErrPassphrase) {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	wantErr(t, err, "wrong passphrase", filepath.Join(dir, CAKeyFile))
	if _, err := LoadCA(dir, nil); err == nil {
		t.Fatal("a sealed key loaded with no passphrase")
	}
	asked := 0
	back, err := LoadCA(dir, func() ([]byte, error) { asked++; return testPassphrase, nil })
	if err != nil || !back.key.Equal(ca.key) || asked != 1 {
		t.Fatalf("the right passphrase (asked %d times): %v", asked, err)
	}
}

// A CA folder written before keys were sealed still loads, says so, and
// SealCA seals it in place: the same CA, now only with the passphrase.
func TestUnsealedCAStillLoadsAndSeals(t *testing.T) {
	old := filepath.Join("testdata", "unsealed-ca")
	if *update {
		writeUnsealedCA(t, old)
	}
	dir := t.TempDir()
	for _, f := range []string{CAKeyFile, CAFile} {
		b, err := os.ReadFile(filepath.Join(old, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := LoadCA(dir, func() ([]byte, error) { t.Fatal("asked for a passphrase of an unsealed key"); return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	if ca.Sealed() {
		t.Fatal("an unsealed key is reported sealed")
	}
	if err := SealCA(dir, testPassphrase); err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if bytes.Contains(onDisk, []byte(base64.StdEncoding.EncodeToString(ca.key.Seed())[:12])) || !IsSealed(onDisk, pemSealedCAKey) {
		t.Fatal("SealCA left the key in the clear")
	}
	back, err := LoadCA(dir, passphrase(testPassphrase))
	if err != nil || !back.Sealed() || !back.key.Equal(ca.key) || !back.Cert.Equal(ca.Cert) {
		t.Fatalf("after SealCA: %v", err)
	}
	if err := SealCA(dir, testPassphrase); !errors.Is(err, ErrSealedAlready) {
		t.Fatalf("sealing twice: %v", err)
	}
}

// writeUnsealedCA writes a CA folder as Save wrote them before keys were
// sealed: the key as PKCS #8 PEM, in the clear.
func writeUnsealedCA(t *testing.T, dir string) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CAKeyFile), pem.EncodeToMemory(&pem.Block{Type: pemPlainKey, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CAFile), pemCert(ca.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
}
