package node

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lifeline/node/gossip"
	"lifeline/node/identity"
)

// counting is a reader of the bytes 0, 1, 2…: the golden file's nonce.
type counting struct{ next byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

// goldenNode is the node key of the golden files: a fixed seed, 0xa0 to
// 0xbf, kept in the clear in testdata.
func goldenNode(t testing.TB) *identity.Key {
	t.Helper()
	k, err := identity.Load(filepath.Join("testdata", "golden-node.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// goldenGossipKeys are two keys, the bytes 1 to 32 and 33 to 64.
func goldenGossipKeys() [][]byte {
	a, b := make([]byte, 32), make([]byte, 32)
	for i := range a {
		a[i], b[i] = byte(1+i), byte(33+i)
	}
	return [][]byte{a, b}
}

// The encrypted gossip keys, version 1, byte for byte: the nonce (fixed
// here, random otherwise), XChaCha20-Poly1305 under the node key's
// "lifeline/gossip-keys" secret over the keys' base64 lines, with the
// header as additional data. A change to any of them changes these bytes;
// files written before must still open.
func TestGossipKeysGolden(t *testing.T) {
	k := goldenNode(t)
	keys := goldenGossipKeys()
	got, err := sealGossipKeys(&counting{}, k, "gossip.keys", keys)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "gossip-keys-v1.pem")
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
		t.Fatalf("encrypted bytes differ from %s (run go test -run Golden -update only for a new format version):\n%s", golden, got)
	}
	block, _ := pem.Decode(want)
	if block.Type != "LIFELINE NODE GOSSIP KEYS" {
		t.Fatalf("PEM type %q", block.Type)
	}
	const header = "01" + "000102030405060708090a0b0c0d0e0f1011121314151617" // version, nonce
	if h := hex.EncodeToString(block.Bytes[:gossipKeysHeaderLen]); h != header {
		t.Fatalf("header %s, want %s", h, header)
	}
	text, _ := gossip.FormatKeys("x", keys)
	if n := len(block.Bytes) - gossipKeysHeaderLen; n != len(text)+16 {
		t.Fatalf("%d bytes of ciphertext for %d of keys", n, len(text))
	}
	back, err := openGossipKeys(k, "gossip.keys", want)
	if err != nil || !slices.EqualFunc(back, keys, bytes.Equal) {
		t.Fatalf("the golden file opens to %x (%v)", back, err)
	}
}

// What the AEAD binds: every byte, and the node whose key it is.
func TestGossipKeysRefusals(t *testing.T) {
	k := goldenNode(t)
	good, err := sealGossipKeys(&counting{}, k, "gossip.keys", goldenGossipKeys())
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)
	reencode := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	flip := func(i int) []byte {
		b := slices.Clone(block.Bytes)
		b[i] ^= 4
		return reencode(block.Type, b)
	}
	other, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		key  *identity.Key
		data []byte
		want string
	}{
		"another node's key":  {other, good, "does not open with this node's key"},
		"a nonce byte":        {k, flip(3), "does not open"},
		"a ciphertext byte":   {k, flip(gossipKeysHeaderLen + 1), "does not open"},
		"the tag":             {k, flip(len(block.Bytes) - 1), "does not open"},
		"another version":     {k, flip(0), "format 5"},
		"cut":                 {k, reencode(block.Type, block.Bytes[:gossipKeysHeaderLen+15]), "cut short"},
		"empty block":         {k, reencode(block.Type, nil), "format -1"},
		"another type":        {k, reencode("LIFELINE SEALED GOSSIP KEYS", block.Bytes), "no PEM"},
		"more after":          {k, append(slices.Clone(good), "x"...), "more after"},
		"huge":                {k, bytes.Repeat([]byte{'A'}, maxGossipKeysFile+1), "larger than"},
		"not PEM":             {k, []byte("not a key file"), "no PEM"},
		"a byte more":         {k, reencode(block.Type, append(slices.Clone(block.Bytes), 0)), "does not open"},
		"headers":             {k, pem.EncodeToMemory(&pem.Block{Type: block.Type, Headers: map[string]string{"a": "b"}, Bytes: block.Bytes}), "headers"},
		"a nonce of anything": {k, reencode(block.Type, append([]byte{1}, make([]byte, 40)...)), "does not open"},
	} {
		if _, err := openGossipKeys(c.key, "gossip.keys", c.data); !errors.Is(err, ErrGossipKeys) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
	if _, err := sealGossipKeys(&counting{}, k, "gossip.keys", nil); err == nil {
		t.Error("no keys were written")
	}
}

// The file a node kept before the keys were encrypted is read, and
// rewritten encrypted, leaving none of the keys in the clear; the clear
// file's own checks still hold.
func TestGossipKeysInTheClearAreEncrypted(t *testing.T) {
	dir := t.TempDir()
	k := goldenNode(t)
	keys := goldenGossipKeys()
	f := gossipKeyFile{path: filepath.Join(dir, gossip.KeyFile), key: k, log: slog.New(slog.DiscardHandler)}
	if err := gossip.WriteKeyFile(f.path, keys); err != nil {
		t.Fatal(err)
	}
	if got, err := GossipKeys(dir, nil); err == nil || got != nil {
		t.Fatal("read with no node key in the folder")
	}
	got, err := f.ReadKeys()
	if err != nil || !slices.EqualFunc(got, keys, bytes.Equal) {
		t.Fatalf("the clear file: %x, %v", got, err)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "LIFELINE NODE GOSSIP KEYS") {
		t.Fatalf("the clear file was not rewritten encrypted:\n%s", data)
	}
	for _, key := range keys {
		if bytes.Contains(data, []byte(base64.StdEncoding.EncodeToString(key))) || bytes.Contains(data, key) {
			t.Fatal("a gossip key is still in the clear")
		}
	}
	if fi, _ := os.Stat(f.path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	if got, clear, err := f.read(); err != nil || clear || !slices.EqualFunc(got, keys, bytes.Equal) {
		t.Fatalf("read again: %x, clear %v, %v", got, clear, err)
	}

	if err := gossip.WriteKeyFile(f.path, keys); err != nil {
		t.Fatal(err)
	}
	os.Chmod(f.path, 0o644)
	if _, err := f.ReadKeys(); err == nil || !strings.Contains(err.Error(), "others may read it") {
		t.Fatalf("a clear file others may read: %v", err)
	}
}

// FuzzOpenGossipKeys feeds the decoder of the encrypted gossip keys
// arbitrary files, as given and wrapped as its PEM block. It must not
// panic; every refusal wraps ErrGossipKeys or gossip.ErrKeyFile; what
// opens is what was written, unaltered.
func FuzzOpenGossipKeys(f *testing.F) {
	k := goldenNode(f)
	good, err := sealGossipKeys(&counting{}, k, "gossip.keys", goldenGossipKeys())
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(good)
	f.Add(good)
	f.Add(block.Bytes)
	f.Add([]byte{})
	f.Add([]byte{gossipKeysVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, pem.EncodeToMemory(&pem.Block{Type: pemNodeGossipKeys, Bytes: data})} {
			keys, err := openGossipKeys(k, "gossip.keys", in)
			if err != nil {
				if !errors.Is(err, ErrGossipKeys) && !errors.Is(err, gossip.ErrKeyFile) {
					t.Fatalf("a refusal that is neither: %v", err)
				}
				continue
			}
			if b, _ := pem.Decode(in); !bytes.Equal(b.Bytes, block.Bytes) || !slices.EqualFunc(keys, goldenGossipKeys(), bytes.Equal) {
				t.Fatalf("an altered file opened, to %x", keys)
			}
		}
	})
}
