package identity

// Tests of the bounds that mutation testing (make mutate) found unpinned:
// each size and parameter limit on both sides of its edge.

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// padTo pads PEM text with trailing spaces, which every reader of it
// ignores, to exactly n bytes.
func padTo(t *testing.T, b []byte, n int) []byte {
	t.Helper()
	if len(b) > n {
		t.Fatalf("%d bytes already, more than %d", len(b), n)
	}
	return append(bytes.Clone(b), bytes.Repeat([]byte(" "), n-len(b))...)
}

func TestCANameBounds(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{strings.Repeat("N", MaxNameLen), true},
		{strings.Repeat("N", MaxNameLen+1), false},
		{"\x1bNEMO Lifeline CA", false}, // a control character first
		{"NEMO\x00Lifeline CA", false},
	} {
		if _, err := NewCA(c.name); (err == nil) != c.ok {
			t.Errorf("a CA named %q: %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func TestInputsOfExactlyTheSizeLimit(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	k := newTestKey(t)
	req := request(t, k, Claims{Name: "cayo-laptop-07", Role: "field", District: "cayo"})
	if _, _, err := ParseRequest(padTo(t, req, maxPEMInput)); err != nil {
		t.Errorf("a request of exactly %d bytes: %v", maxPEMInput, err)
	}
	if _, _, err := ParseRequest(padTo(t, req, maxPEMInput+1)); err == nil {
		t.Errorf("a request of %d bytes was read", maxPEMInput+1)
	}
	bundle, err := ca.Sign(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Install(t.TempDir(), k, padTo(t, bundle, maxPEMInput)); err != nil {
		t.Errorf("a bundle of exactly %d bytes: %v", maxPEMInput, err)
	}

	dir := t.TempDir()
	for n, ok := range map[int]bool{maxPEMInput: true, maxPEMInput + 1: false} {
		path := filepath.Join(dir, "file.pem")
		if err := os.WriteFile(path, bytes.Repeat([]byte("A"), n), 0o600); err != nil {
			t.Fatal(err)
		}
		if data, err := readBounded(path, "a test file"); (err == nil) != ok || (ok && len(data) != n) {
			t.Errorf("a file of %d bytes: read %d, %v", n, len(data), err)
		}
	}

	pass := []byte("correct horse battery staple")
	cheap := KDF{Time: 1, Memory: 8, Threads: 1}
	sealed, err := seal(bytes.NewReader(make([]byte, 64)), cheap, "TEST SECRET", []byte("the secret"), pass)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := Unseal(padTo(t, sealed, maxPEMInput), "TEST SECRET", pass); err != nil || string(plain) != "the secret" {
		t.Errorf("a sealed file of exactly %d bytes: %q, %v", maxPEMInput, plain, err)
	}
	if _, err := Unseal(padTo(t, sealed, maxPEMInput+1), "TEST SECRET", pass); err == nil {
		t.Errorf("a sealed file of %d bytes was read", maxPEMInput+1)
	}

	// An encrypted secret of exactly maxEncrypted bytes, plaintext and age's
	// own bytes together.
	empty, err := EncryptTo(k.Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte{7}, maxEncrypted-len(empty))
	enc, err := EncryptTo(k.Public(), plain)
	if err != nil || len(enc) != maxEncrypted {
		t.Fatalf("encrypting %d bytes gave %d, want %d (%v)", len(plain), len(enc), maxEncrypted, err)
	}
	if got, err := k.Decrypt(enc); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("decrypting %d bytes: %d back, %v", len(enc), len(got), err)
	}
	if enc, err = EncryptTo(k.Public(), append(plain, 7)); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Decrypt(enc); err == nil {
		t.Errorf("%d encrypted bytes were decrypted", len(enc))
	}
}

func TestSealedEmptySecret(t *testing.T) {
	pass := []byte("correct horse battery staple")
	sealed, err := seal(bytes.NewReader(make([]byte, 64)), KDF{Time: 1, Memory: 8, Threads: 1}, "TEST SECRET", nil, pass)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := Unseal(sealed, "TEST SECRET", pass); err != nil || len(plain) != 0 {
		t.Fatalf("an empty secret: %q, %v", plain, err)
	}
	// One byte, the format's version alone: cut short, not empty.
	one := pem.EncodeToMemory(&pem.Block{Type: "TEST SECRET", Bytes: []byte{sealVersion}})
	if _, err := Unseal(one, "TEST SECRET", pass); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("a sealed block of its version byte alone: %v", err)
	}
}

// A sealed file may ask for Argon2id parameters up to the bounds, and no
// further: 1 to 16 passes, 1 to 16 lanes, 8 KiB per lane to 1 GiB.
func TestKDFBoundsInclusive(t *testing.T) {
	for _, c := range []struct {
		kdf KDF
		ok  bool
	}{
		{KDF{Time: 1, Memory: 8, Threads: 1}, true},
		{KDF{Time: maxKDFTime, Memory: 8, Threads: 1}, true},
		{KDF{Time: maxKDFTime + 1, Memory: 8, Threads: 1}, false},
		{KDF{Time: 1, Memory: 8 * maxKDFThreads, Threads: maxKDFThreads}, true},
		{KDF{Time: 1, Memory: 8*maxKDFThreads - 1, Threads: maxKDFThreads}, false},
		{KDF{Time: 1, Memory: 8 * (maxKDFThreads + 1), Threads: maxKDFThreads + 1}, false},
		{KDF{Time: 1, Memory: 15, Threads: 2}, false},
		{KDF{Time: 1, Memory: maxKDFMemory, Threads: 4}, true},
		{KDF{Time: 1, Memory: maxKDFMemory + 1, Threads: 4}, false},
		{DefaultKDF(), true},
	} {
		if err := c.kdf.check(); (err == nil) != c.ok {
			t.Errorf("%+v: %v, want ok %v", c.kdf, err, c.ok)
		}
	}
	// The cheapest parameters allowed really seal and open.
	pass := []byte("correct horse battery staple")
	sealed, err := seal(bytes.NewReader(make([]byte, 64)), KDF{Time: 1, Memory: 8 * maxKDFThreads, Threads: maxKDFThreads}, "TEST SECRET", []byte("x"), pass)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := Unseal(sealed, "TEST SECRET", pass); err != nil || string(plain) != "x" {
		t.Fatalf("sixteen lanes: %q, %v", plain, err)
	}
}

// A certificate whose claims do not parse is named in errors by its
// common name, quoted, or else its serial number.
func TestDescribeForeignCertificate(t *testing.T) {
	named := &x509.Certificate{Subject: pkix.Name{CommonName: "intruder"}, SerialNumber: big.NewInt(0x2a)}
	if got := describe(named); got != `"intruder"` {
		t.Errorf("a certificate named intruder is described as %s", got)
	}
	anonymous := &x509.Certificate{SerialNumber: big.NewInt(0x2a)}
	if got := describe(anonymous); got != "serial 2a" {
		t.Errorf("a certificate without a name is described as %s", got)
	}
}

// openIn lists the descriptors of this process open on dir itself, on
// systems that show them (/proc/self/fd); ok is false elsewhere.
func openIn(t *testing.T, dir string) (fds []string, ok bool) {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, false
	}
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == dir {
			fds = append(fds, e.Name())
		}
	}
	return fds, true
}

// Saving a CA leaves no file open on its folder: the headquarters program
// that saves it goes on running.
func TestSaveCALeavesNothingOpen(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := openIn(t, dir); !ok {
		t.Skip("this system does not list a process's open files in /proc/self/fd")
	}
	if err := newTestCA(t, "Saved CA").save(dir, testPassphrase, testKDF); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if fds, _ := openIn(t, dir); len(fds) > 0 {
		t.Fatalf("after saving the CA, descriptors %v are still open on %s", fds, dir)
	}
}

// A secret longer than the sealed format's own header and tag seals and
// unseals whole.
func TestSealLongSecret(t *testing.T) {
	for _, n := range []int{67, 100, 4096} {
		secret := make([]byte, n)
		for i := range secret {
			secret[i] = byte(i*7 + 1)
		}
		sealed, err := seal(bytes.NewReader(make([]byte, 64)), testKDF, "TEST SECRET", secret, testPassphrase)
		if err != nil {
			t.Fatalf("sealing %d bytes: %v", n, err)
		}
		if plain, err := Unseal(sealed, "TEST SECRET", testPassphrase); err != nil || !bytes.Equal(plain, secret) {
			t.Fatalf("a secret of %d bytes unsealed as %d bytes, %v", n, len(plain), err)
		}
	}
}
