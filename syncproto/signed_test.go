package syncproto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The messages nodes sign, byte for byte. Each golden pair in testdata is
// the exact bytes signed (.msg) and a fixed key's signature over them
// (.sig). A node checks signatures made months ago, by laptops that have
// not been updated since: a changed domain string, field order or width
// makes every signature in the field fail to verify, so it must fail here
// first. Run go test -update only for a new version of a message, under a
// new domain string.

// goldenKey signs the golden messages: the seed a0 a1 … bf, as in
// node/identity's golden files.
func goldenKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(0xa0 + i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// counting returns n bytes counting up from first: fixed inputs that show
// where each lands in a message.
func counting(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

// goldenSigned compares msg with testdata/name.msg, and checks that the
// signature in testdata/name.sig verifies over msg with goldenKey's public
// half. With -update it writes both.
func goldenSigned(t *testing.T, name string, msg []byte) {
	t.Helper()
	golden(t, name+".msg", msg)
	path := filepath.Join("testdata", name+".sig")
	if *update {
		if err := os.WriteFile(path, ed25519.Sign(goldenKey(), msg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sig, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !ed25519.Verify(goldenKey().Public().(ed25519.PublicKey), msg, sig) {
		t.Errorf("%s: the committed signature does not verify over the message as built now", path)
	}
}

// be64 is n as 8 bytes, most significant first.
func be64(n uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(n >> (56 - 8*i))
	}
	return b
}

// A chain link is SHA-256("lifeline/chain/v1" || prev || SHA-256(body)):
// what a head's signature vouches for, through every change before it.
func TestChainLinkGolden(t *testing.T) {
	prev := Hash(counting(0x40, 32))
	body := []byte("a change's bytes")
	sum := sha256.Sum256(body)
	pre := slices.Concat([]byte("lifeline/chain/v1"), prev[:], sum[:])
	golden(t, "chain-link-v1.msg", pre)
	want := Hash(sha256.Sum256(pre))
	if got := ChainLink(prev, sum); got != want {
		t.Errorf("ChainLink gives %x, want SHA-256 of the pinned bytes, %x", got, want)
	}
	if got := ChainHash(prev, body); got != want {
		t.Errorf("ChainHash gives %x, want %x", got, want)
	}
}

// A bundle's seal signs "lifeline/bundle/v1" || SHA-256 of the bytes before it.
func TestSealMessageGolden(t *testing.T) {
	h := Hash(counting(0x60, 32))
	msg := SealMessage(h)
	if want := slices.Concat([]byte("lifeline/bundle/v1"), h[:]); !bytes.Equal(msg, want) {
		t.Errorf("seal message %q, want %q", msg, want)
	}
	goldenSigned(t, "signed-seal-v1", msg)
}

// A receipt signs "lifeline/receipt/v1" || origin || lane || seq (8 bytes,
// big-endian) || the chain head at seq.
func TestReceiptMessageGolden(t *testing.T) {
	st := Stream{Origin: NodeID(counting(0x10, 16)), Lane: 2}
	head := Hash(counting(0x80, 32))
	msg := ReceiptMessage(st, 0x0102030405, head)
	want := slices.Concat([]byte("lifeline/receipt/v1"), st.Origin[:], []byte{2}, be64(0x0102030405), head[:])
	if !bytes.Equal(msg, want) {
		t.Errorf("receipt message %x, want %x", msg, want)
	}
	goldenSigned(t, "signed-receipt-v1", msg)
}
