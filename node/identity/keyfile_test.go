package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/hkdf"
)

// The sealed node key, version 1, byte for byte: the sealed format of the
// CA's key (see TestSealedFormatGolden) under its own PEM type, over the
// node's PKCS #8 key. Files sealed before must still open.
func TestSealedNodeKeyGolden(t *testing.T) {
	k := fromPrivate(goldenKey())
	got, err := k.seal(&counting{}, DefaultKDF(), testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sealed-node-key-v1.pem")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sealed bytes differ from %s (run go test -run Golden -update only for a new format version):\n%s", golden, got)
	}
	block, _ := pem.Decode(want)
	if block.Type != "LIFELINE SEALED NODE KEY" {
		t.Fatalf("PEM type %q", block.Type)
	}
	const header = "01" + "00000003" + "00010000" + "04" +
		"000102030405060708090a0b0c0d0e0f" +
		"101112131415161718191a1b1c1d1e1f2021222324252627"
	if h := hex.EncodeToString(block.Bytes[:sealHeaderLen]); h != header {
		t.Fatalf("header %s, want %s", h, header)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(goldenKey())
	if plain, err := Unseal(want, "LIFELINE SEALED NODE KEY", testPassphrase); err != nil || !bytes.Equal(plain, der) {
		t.Fatalf("the golden file opens to %x (%v), want the PKCS #8 key", plain, err)
	}
	// The sealed CA key is the same key under another type: neither opens
	// as the other.
	if _, err := Unseal(want, pemSealedCAKey, testPassphrase); err == nil {
		t.Fatal("a sealed node key opened as a CA key")
	}

	path := filepath.Join(t.TempDir(), KeyFile)
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := LoadKey(path, passphrase(testPassphrase))
	if err != nil || back.ID() != k.ID() {
		t.Fatalf("LoadKey of the golden file: %v", err)
	}
}

// A clear key loads without its passphrase being asked; a sealed one needs
// it, and says so in both ways it can fail.
func TestLoadKeyClearAndSealed(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	asked := 0
	ask := func(p []byte) Passphrase {
		return func() ([]byte, error) { asked++; return p, nil }
	}

	clear := filepath.Join(dir, "clear.key")
	if err := k.Save(clear); err != nil {
		t.Fatal(err)
	}
	if back, err := LoadKey(clear, ask(testPassphrase)); err != nil || back.ID() != k.ID() || asked != 0 {
		t.Fatalf("a clear key: %v, asked %d times", err, asked)
	}
	if sealed, err := KeyFileSealed(clear); err != nil || sealed {
		t.Fatalf("a clear key is sealed: %v, %v", sealed, err)
	}

	sealedPath := filepath.Join(dir, "sealed.key")
	if err := k.saveSealed(sealedPath, testPassphrase, testKDF); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(sealedPath); fi.Mode().Perm() != 0o600 {
		t.Fatalf("sealed key file mode %v, want 0600", fi.Mode().Perm())
	}
	if err := k.saveSealed(sealedPath, testPassphrase, testKDF); err == nil {
		t.Fatal("an existing key was overwritten")
	}
	if sealed, err := KeyFileSealed(sealedPath); err != nil || !sealed {
		t.Fatalf("a sealed key is not: %v, %v", sealed, err)
	}
	noClearKey(t, k, sealedPath)
	if _, err := LoadKey(sealedPath, nil); !errors.Is(err, ErrKeySealed) || !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), sealedPath) {
		t.Fatalf("a sealed key without a passphrase: %v", err)
	}
	if _, err := Load(sealedPath); !errors.Is(err, ErrKeySealed) {
		t.Fatalf("Load of a sealed key: %v", err)
	}
	_, err := LoadKey(sealedPath, ask([]byte("a long walk to Punta Gorda")))
	if !errors.Is(err, ErrPassphrase) || !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), sealedPath) {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	asked = 0
	back, err := LoadKey(sealedPath, ask(testPassphrase))
	if err != nil || back.ID() != k.ID() || asked != 1 {
		t.Fatalf("a sealed key with its passphrase: %v, asked %d times", err, asked)
	}
	if !bytes.Equal(back.Signer(), k.Signer()) {
		t.Fatal("the sealed key opens to another key")
	}
	failing := errors.New("no terminal")
	if _, err := LoadKey(sealedPath, func() ([]byte, error) { return nil, failing }); !errors.Is(err, failing) {
		t.Fatalf("the passphrase's own error: %v", err)
	}

	if err := k.SaveSealed(filepath.Join(dir, "weak.key"), []byte("hurricane")); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("sealed with a weak passphrase: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "weak.key")); !os.IsNotExist(err) {
		t.Fatal("a key refused was written")
	}
}

// What is refused before the passphrase is asked: anything that costs
// nothing to check.
func TestLoadKeyRefusesDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	good, err := k.seal(&counting{}, testKDF, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)
	costly := bytes.Clone(block.Bytes)
	costly[1] = 0xff // passes beyond maxKDFTime
	der, _ := x509.MarshalPKCS8PrivateKey(k.Signer())
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":            {nil, "no PEM private key"},
		"garbage":          {[]byte("not a key"), "no PEM private key"},
		"a certificate":    {pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "no PEM private key"},
		"huge":             {bytes.Repeat([]byte("A"), maxPEMInput+1), "larger than"},
		"trailing":         {append(bytes.Clone(good), "more"...), "more after"},
		"cut":              {pem.EncodeToMemory(&pem.Block{Type: pemSealedNodeKey, Bytes: block.Bytes[:sealHeaderLen]}), "cut short"},
		"costly":           {pem.EncodeToMemory(&pem.Block{Type: pemSealedNodeKey, Bytes: costly}), "out of bounds"},
		"another version":  {pem.EncodeToMemory(&pem.Block{Type: pemSealedNodeKey, Bytes: append([]byte{2}, block.Bytes[1:]...)}), "format 2"},
		"clear, trailing":  {append(pem.EncodeToMemory(&pem.Block{Type: pemPlainKey, Bytes: der}), "more"...), "more after"},
		"clear, not PKCS8": {pem.EncodeToMemory(&pem.Block{Type: pemPlainKey, Bytes: []byte{1, 2}}), "node key"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKey(path, func() ([]byte, error) {
			t.Errorf("%s: the passphrase was asked", name)
			return testPassphrase, nil
		})
		if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
	if _, err := LoadKey(filepath.Join(dir, "none"), nil); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a missing key: %v", err)
	}
	if _, err := KeyFileSealed(filepath.Join(dir, "garbage")); !errors.Is(err, ErrKey) {
		t.Fatalf("KeyFileSealed of garbage: %v", err)
	}
}

// SealKeyFile replaces a clear key by the same key sealed, and leaves no
// clear key behind in the folder; ChangeKeyPassphrase reseals it.
func TestSealKeyFileAndChangePassphrase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFile)
	k := newTestKey(t)
	if err := k.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := sealKeyFile(path, []byte("hurricane"), testKDF); err == nil {
		t.Fatal("sealed with a weak passphrase")
	}
	if sealed, _ := KeyFileSealed(path); sealed {
		t.Fatal("a refused seal changed the file")
	}
	if err := sealKeyFile(path, testPassphrase, testKDF); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("sealed key file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		noClearKey(t, k, filepath.Join(dir, e.Name()))
	}
	if len(entries) != 1 {
		t.Fatalf("the folder holds %d files after sealing, want the key alone", len(entries))
	}
	if err := sealKeyFile(path, testPassphrase, testKDF); !errors.Is(err, ErrKeySealedAlready) {
		t.Fatalf("sealed twice: %v", err)
	}
	if back, err := LoadKey(path, passphrase(testPassphrase)); err != nil || back.ID() != k.ID() {
		t.Fatalf("the sealed key: %v", err)
	}

	next := []byte("a long walk to Punta Gorda")
	if err := changeKeyPassphrase(path, passphrase([]byte("not the passphrase")), func() ([]byte, error) {
		t.Error("the new passphrase was asked before the old one opened the key")
		return next, nil
	}, testKDF); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("changed with a wrong passphrase: %v", err)
	}
	if err := changeKeyPassphrase(path, passphrase(testPassphrase), passphrase([]byte("short")), testKDF); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("changed to a weak passphrase: %v", err)
	}
	if err := changeKeyPassphrase(path, passphrase(testPassphrase), passphrase(next), testKDF); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path, passphrase(testPassphrase)); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("the old passphrase still opens the key: %v", err)
	}
	if back, err := LoadKey(path, passphrase(next)); err != nil || back.ID() != k.ID() {
		t.Fatalf("the new passphrase: %v", err)
	}

	clear := filepath.Join(dir, "clear.key")
	if err := k.Save(clear); err != nil {
		t.Fatal(err)
	}
	if err := changeKeyPassphrase(clear, passphrase(testPassphrase), passphrase(next), testKDF); !errors.Is(err, ErrKeyNotSealed) {
		t.Fatalf("a clear key's passphrase changed: %v", err)
	}
}

// noClearKey fails if the file at path holds k's private key in the clear:
// its PKCS #8 bytes, as they are or as PEM's base64, or its seed.
func noClearKey(t *testing.T, k *Key, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k.Signer())
	for what, b := range map[string][]byte{
		"PKCS #8":            der,
		"PKCS #8 in base64":  []byte(base64.StdEncoding.EncodeToString(der)[:40]),
		"the seed":           k.Signer().Seed(),
		"the seed in base64": []byte(base64.StdEncoding.EncodeToString(k.Signer().Seed())[:40]),
	} {
		if bytes.Contains(data, b) {
			t.Fatalf("%s holds the key's %s", path, what)
		}
	}
}

// Secret is HKDF-SHA256 of the key's seed, with the salt
// "lifeline/node-secret/v1" and the purpose as info, computed here with
// another HKDF implementation; one purpose's key says nothing of another's.
func TestKeySecret(t *testing.T) {
	k := fromPrivate(goldenKey())
	want := func(k *Key, purpose string) [32]byte {
		var out [32]byte
		r := hkdf.New(sha256.New, k.Signer().Seed(), []byte("lifeline/node-secret/v1"), []byte(purpose))
		if _, err := io.ReadFull(r, out[:]); err != nil {
			t.Fatal(err)
		}
		return out
	}
	purposes := []string{"lifeline/gossip-keys", "lifeline/drafts", "lifeline/store", ""}
	seen := map[[32]byte]string{}
	for _, p := range purposes {
		got := k.Secret(p)
		if got != want(k, p) {
			t.Errorf("Secret(%q) = %x, want %x", p, got, want(k, p))
		}
		if got != k.Secret(p) {
			t.Errorf("Secret(%q) changes from call to call", p)
		}
		if other, ok := seen[got]; ok {
			t.Errorf("Secret(%q) = Secret(%q)", p, other)
		}
		seen[got] = p
	}
	// Pinned (computed apart from Go, with HMAC-SHA256 by hand), so that a
	// change of the derivation cannot pass unnoticed: every secret kept on
	// disk would stop opening.
	const pinned = "4166be88a3ed552de603e67e7c3b8777bc5754ad8e9f59d4f6139fbffb41cade"
	if s := k.Secret("lifeline/gossip-keys"); hex.EncodeToString(s[:]) != pinned {
		t.Fatalf("Secret(lifeline/gossip-keys) = %x, want %s", s, pinned)
	}
	other := fromPrivate(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)))
	if other.Secret("lifeline/gossip-keys") == k.Secret("lifeline/gossip-keys") {
		t.Fatal("two keys give the same secret")
	}
}

// FuzzLoadKey feeds LoadKey's decoder arbitrary key files, as given and wrapped as
// sealed and clear PEM. It must not panic; what it refuses wraps ErrKey;
// what it reads is an Ed25519 key that a sealed file opens to only with
// its passphrase, unaltered.
func FuzzLoadKey(f *testing.F) {
	k := fromPrivate(goldenKey())
	good, err := k.seal(&counting{}, testKDF, testPassphrase)
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(good)
	der, _ := x509.MarshalPKCS8PrivateKey(k.Signer())
	f.Add(good)
	f.Add(block.Bytes)
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: pemPlainKey, Bytes: der}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, in := range [][]byte{
			data,
			pem.EncodeToMemory(&pem.Block{Type: pemSealedNodeKey, Bytes: data}),
			pem.EncodeToMemory(&pem.Block{Type: pemPlainKey, Bytes: data}),
		} {
			if s, err := parseSealed(in, pemSealedNodeKey); err == nil && (s.kdf.Memory > 1024 || s.kdf.Time > 2) {
				continue // sound, but slow to try
			}
			back, err := decodeKey("node.key", in, passphrase(testPassphrase))
			if err != nil {
				if !errors.Is(err, ErrKey) {
					t.Fatalf("input %d: an error that is not ErrKey: %v", i, err)
				}
				continue
			}
			if len(back.Signer()) != ed25519.PrivateKeySize {
				t.Fatalf("input %d: read a key of %d bytes", i, len(back.Signer()))
			}
			if IsSealed(in, pemSealedNodeKey) {
				if b, _ := pem.Decode(in); back.ID() != k.ID() || !bytes.Equal(b.Bytes, block.Bytes) {
					t.Fatalf("input %d: an altered sealed file opened", i)
				}
			}
		}
	})
}
