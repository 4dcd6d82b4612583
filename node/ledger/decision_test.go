package ledger_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenKey signs the golden decision: the seed a0 a1 … bf, as in the other
// packages' golden files.
func goldenKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(0xa0 + i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// A decision of headquarters, as its HQ node signs it, byte for byte:
// "lifeline/decision/v1" || the command's type || when (Unix milliseconds,
// 8 bytes big-endian) || the command's CBOR. testdata/decision-revoke-v1
// holds the bytes of a fixed revocation (.msg) and goldenKey's signature
// (.sig). Every member checks these signatures as it applies the ledger,
// old entries included: a changed domain, order or encoding must fail here.
// Run go test -run TestDecisionSignatureGolden -update only for a new
// version of the message, under a new domain.
func TestDecisionSignatureGolden(t *testing.T) {
	key := goldenKey()
	var node syncproto.NodeID
	for i := range node {
		node[i] = byte(0x10 + i)
	}
	hq := syncproto.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	cmd := &ledger.Revoke{Node: node, Reason: "laptop stolen at the Benque Viejo shelter", At: 1_764_000_000_000, By: hq,
		Trusted: syncproto.Vector{{Origin: node, Lane: 1}: 12, {Origin: node, Lane: 3}: 4}}
	at := time.UnixMilli(1_764_000_000_123)
	body, err := syncproto.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	msg := ledger.DecisionMessage(ledger.CmdRevoke, at.UnixMilli(), body)
	want := slices.Concat([]byte("lifeline/decision/v1"), []byte{3}, binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())), body)
	if !bytes.Equal(msg, want) {
		t.Errorf("decision message %x, want %x", msg, want)
	}

	msgPath, sigPath := filepath.Join("testdata", "decision-revoke-v1.msg"), filepath.Join("testdata", "decision-revoke-v1.sig")
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
		t.Errorf("the decision message changed:\n got %x\nwant %x", msg, pinned)
	}
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), msg, sig) {
		t.Errorf("%s does not verify over the decision message as built now", sigPath)
	}

	// Sign makes the entry a member applies: it carries the command's
	// bytes, the time and exactly this signature (Ed25519 is
	// deterministic).
	cert := []byte("the HQ node's certificate")
	entry, err := ledger.Sign(ledger.CmdRevoke, cmd, at, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	typ, decoded, err := ledger.Decode(entry)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := decoded.(*ledger.Decision)
	if typ != ledger.CmdSigned || !ok {
		t.Fatalf("Sign made a %s entry of %T", typ, decoded)
	}
	if d.Type != ledger.CmdRevoke || d.At != at.UnixMilli() || !bytes.Equal(d.Body, body) || !bytes.Equal(d.Cert, cert) || !bytes.Equal(d.Sig, sig) {
		t.Errorf("Sign's entry: a %s at %d, body %x, signature %x; want the golden message's, signature %x", d.Type, d.At, d.Body, d.Sig, sig)
	}
}
