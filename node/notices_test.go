package node

import (
	"bytes"
	"crypto/ed25519"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenKey signs the golden notices: the seed a0 a1 … bf, as in the other
// packages' golden files.
func goldenKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(0xa0 + i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// A notice, as an HQ node signs it, byte for byte: "lifeline/notice/v1" ||
// its kind || its body's CBOR. testdata/notice-*-v1.msg holds the bytes of
// fixed notices, .sig goldenKey's signature. Nodes outside the ledger learn
// of a revocation only this way, whatever version they run: a changed
// domain, kind number or body encoding must fail here. Run go test -run
// TestNoticeSignatureGolden -update only for a new version of the message,
// under a new domain.
func TestNoticeSignatureGolden(t *testing.T) {
	key := goldenKey()
	hq := syncproto.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	var stolen syncproto.NodeID
	for i := range stolen {
		stolen[i] = byte(0x10 + i)
	}
	gossipKey := make([]byte, 32)
	for i := range gossipKey {
		gossipKey[i] = byte(0x40 + i)
	}
	for _, tc := range []struct {
		name string
		kind uint8
		body any
	}{
		{"notice-revoke-v1", 1, &revocationNotice{Index: 4242, Revoke: ledger.Revoke{Node: stolen, Reason: "laptop stolen at the Benque Viejo shelter",
			At: 1_764_000_000_000, By: hq, Trusted: syncproto.Vector{{Origin: stolen, Lane: 1}: 12, {Origin: stolen, Lane: 3}: 4}}}},
		{"notice-key-install-v1", 2, &keyNotice{Epoch: 1_764_000_000_000, Key: gossipKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := syncproto.Marshal(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			msg := noticeMessage(tc.kind, body)
			if want := slices.Concat([]byte("lifeline/notice/v1"), []byte{tc.kind}, body); !bytes.Equal(msg, want) {
				t.Errorf("notice message %x, want %x", msg, want)
			}
			msgPath, sigPath := filepath.Join("testdata", tc.name+".msg"), filepath.Join("testdata", tc.name+".sig")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(msgPath, msg, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(sigPath, ed25519.Sign(key, msg), 0o644); err != nil {
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
				t.Errorf("the notice message changed:\n got %x\nwant %x", msg, pinned)
			}
			if !ed25519.Verify(key.Public().(ed25519.PublicKey), msg, sig) {
				t.Errorf("%s does not verify over the notice message as built now", sigPath)
			}
		})
	}
}
