package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"lifeline/syncproto"
)

// A chain head, as its origin signs it, byte for byte:
// "lifeline/head/v1" || origin || lane || seq (8 bytes, big-endian) || the
// chain hash at seq. testdata/signed-head-v1.msg holds those bytes for
// fixed inputs and goldenKey, .sig goldenKey's signature. Every change in
// the field is vouched for by such a signature, checked by nodes that may
// be months behind: a changed domain, order or width must fail here, not
// there. Run go test -run TestHeadSignatureGolden -update only for a new
// version of the message, under a new domain.
func TestHeadSignatureGolden(t *testing.T) {
	key := fromPrivate(goldenKey())
	const lane, seq = uint8(3), uint64(0x0102030405)
	var head syncproto.Hash
	for i := range head {
		head[i] = byte(0x80 + i)
	}
	st := syncproto.Stream{Origin: key.ID(), Lane: lane}
	msg := syncproto.HeadMessage(st, seq, head)
	id := key.ID()
	want := slices.Concat([]byte("lifeline/head/v1"), id[:], []byte{lane}, binary.BigEndian.AppendUint64(nil, seq), head[:])
	if !bytes.Equal(msg, want) {
		t.Errorf("head message %x, want %x", msg, want)
	}

	msgPath, sigPath := filepath.Join("testdata", "signed-head-v1.msg"), filepath.Join("testdata", "signed-head-v1.sig")
	if *update {
		if err := os.WriteFile(msgPath, msg, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sigPath, key.SignHead(lane, seq, head), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pinned, err := os.ReadFile(msgPath)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg, pinned) {
		t.Errorf("the head message changed:\n got %x\nwant %x", msg, pinned)
	}
	if !ed25519.Verify(key.Public(), msg, sig) {
		t.Errorf("%s does not verify over the head message as built now", sigPath)
	}
	if !VerifyHead(key.Public(), st, seq, head, sig) {
		t.Errorf("VerifyHead refuses the signature in %s", sigPath)
	}
	// Ed25519 signs deterministically: a node signs exactly these bytes.
	if got := key.SignHead(lane, seq, head); !bytes.Equal(got, sig) {
		t.Errorf("SignHead signs other bytes:\n got %x\nwant %x", got, sig)
	}
}
