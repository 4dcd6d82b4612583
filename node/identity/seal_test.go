package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// counting is a reader of the bytes 0, 1, 2…: the golden file's salt and
// nonce.
type counting struct{ next byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

// goldenKey is the CA key the golden file seals: a fixed seed.
func goldenKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(0xa0 + i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// The sealed format, version 1, byte for byte: DefaultKDF's parameters, the
// salt and nonce (fixed here, random otherwise), XChaCha20-Poly1305 over
// the PKCS #8 key with the header as additional data. A change to any of
// them changes these bytes; files sealed before must still open.
func TestSealedFormatGolden(t *testing.T) {
	der, err := x509.MarshalPKCS8PrivateKey(goldenKey())
	if err != nil {
		t.Fatal(err)
	}
	got, err := seal(&counting{}, DefaultKDF(), "LIFELINE SEALED CA KEY", der, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sealed-ca-key-v1.pem")
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
	const header = "01" + "00000003" + "00010000" + "04" + // version, t=3, m=64 MiB, p=4
		"000102030405060708090a0b0c0d0e0f" + // salt
		"101112131415161718191a1b1c1d1e1f2021222324252627" // nonce
	if h := hex.EncodeToString(block.Bytes[:sealHeaderLen]); h != header {
		t.Fatalf("header %s, want %s", h, header)
	}
	if n := len(block.Bytes) - sealHeaderLen; n != len(der)+16 {
		t.Fatalf("%d bytes of ciphertext for %d of key", n, len(der))
	}
	plain, err := Unseal(want, "LIFELINE SEALED CA KEY", testPassphrase)
	if err != nil || !bytes.Equal(plain, der) {
		t.Fatalf("the golden file opens to %x (%v), want the key", plain, err)
	}
}

// What the AEAD binds: the parameters, the kind of file, every byte.
func TestUnsealRefusesAlteredFiles(t *testing.T) {
	secret := []byte("the deployment's secret")
	sealedBytes, err := seal(&counting{}, testKDF, "LIFELINE SEALED TEST", secret, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(sealedBytes)
	reencode := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	flip := func(i int) []byte {
		b := slices.Clone(block.Bytes)
		b[i] ^= 2
		return reencode(block.Type, b)
	}
	for name, data := range map[string][]byte{
		"other passes":         flip(4),
		"a salt byte":          flip(12),
		"a nonce byte":         flip(30),
		"a ciphertext byte":    flip(sealHeaderLen + 2),
		"the tag":              flip(len(block.Bytes) - 1),
		"passed off as a key":  reencode("LIFELINE SEALED CA KEY", block.Bytes),
		"passed off, re-typed": reencode("LIFELINE SEALED TEST2", block.Bytes),
	} {
		typ := "LIFELINE SEALED TEST"
		if p, _ := pem.Decode(data); p.Type != typ {
			typ = p.Type
		}
		if _, err := Unseal(data, typ, testPassphrase); !errors.Is(err, ErrPassphrase) {
			t.Errorf("%s: %v, want ErrPassphrase", name, err)
		}
	}
	if got, err := Unseal(sealedBytes, "LIFELINE SEALED TEST", testPassphrase); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("unaltered: %q, %v", got, err)
	}
	if _, err := Unseal(sealedBytes, "LIFELINE SEALED CA KEY", testPassphrase); err == nil {
		t.Fatal("opened as another kind of file")
	}
}

func TestCheckPassphrase(t *testing.T) {
	for p, ok := range map[string]bool{
		"":                             false,
		"hurricane":                    false,
		"hurricane!!":                  false,
		"hurricane!!!":                 true,
		"ñandú ñandú ñ":                true, // characters, not bytes
		"\xff\xfe hurricane season":    false,
		string(make([]byte, 2000)):     false,
		"correct horse battery staple": true,
	} {
		if err := CheckPassphrase([]byte(p)); (err == nil) != ok {
			t.Errorf("%q: %v", p, err)
		}
	}
	if _, err := Seal("X", []byte("x"), []byte("short")); err == nil {
		t.Fatal("sealed with a short passphrase")
	}
}
