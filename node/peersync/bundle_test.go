package peersync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// bundleTrust checks certificates the way the keyring checks heads: the
// "certificate" is the node's public key, for these tests.
type bundleTrust struct{ *keyring }

func (b bundleTrust) CheckCert(der []byte) (syncproto.NodeID, ed25519.PublicKey, error) {
	if len(der) != ed25519.PublicKeySize {
		return syncproto.NodeID{}, nil, errors.New("not a key")
	}
	return syncproto.NodeIDFromKey(der), ed25519.PublicKey(der), nil
}

func (b bundleTrust) Revoked(syncproto.NodeID) bool { return false }

func (b bundleTrust) Certs(_ context.Context, nodes []syncproto.NodeID) ([][]byte, error) {
	var out [][]byte
	for _, n := range nodes {
		if k := b.keys[n]; k != nil {
			out = append(out, k.Public())
		}
	}
	return out, nil
}

func exportBundle(t testing.TB, ring *keyring, p *peer) []byte {
	var buf bytes.Buffer
	cfg := p.config(ring)
	cfg.Trust = bundleTrust{ring}
	if _, err := Export(context.Background(), &buf, cfg, nil, func(m []byte) []byte { return ed25519.Sign(p.key.Signer(), m) }); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBundleRoundTripAndRefusals(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(t, ring, "a"), newPeer(t, ring, "b")
	for i := range 30 {
		a.write(t, syncproto.NewRecordID(), true, uint8(1+i%2), "n", i)
	}
	good := exportBundle(t, ring, a)
	trust := bundleTrust{ring}
	for i := 0; i < len(good); i += 1 + len(good)/40 {
		if _, err := Import(context.Background(), bytes.NewReader(good[:i]), b, trust); !errors.Is(err, ErrBundle) {
			t.Fatalf("a bundle cut at %d of %d bytes: %v", i, len(good), err)
		}
		flipped := bytes.Clone(good)
		flipped[i] ^= 0x01
		if _, err := Import(context.Background(), bytes.NewReader(flipped), b, trust); err == nil {
			t.Fatalf("a bundle with byte %d altered was applied", i)
		}
	}
	if v, _ := b.Vector(context.Background()); len(v) != 0 {
		t.Fatalf("refused bundles left %v behind", v)
	}
	res, err := Import(context.Background(), bytes.NewReader(good), b, trust)
	if err != nil || res.Applied != 30 || res.Changes != 30 {
		t.Fatalf("a good bundle: %+v %v", res, err)
	}
	if a.digest(t) != b.digest(t) {
		t.Fatal("digests differ after the bundle")
	}
}

// Whatever a file holds, importing it never panics, and applies nothing
// unless it is a whole, sealed bundle.
func FuzzBundle(f *testing.F) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(f, ring, "a"), newPeer(f, ring, "b")
	for i := range 3 {
		a.write(f, syncproto.NewRecordID(), true, 1, "n", i)
	}
	good := exportBundle(f, ring, a)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(BundleMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		trust := bundleTrust{ring}
		if len(data) > 1<<20 {
			return
		}
		before, _ := b.Vector(context.Background())
		res, err := Import(context.Background(), bytes.NewReader(data), b, trust) // must not panic
		after, _ := b.Vector(context.Background())
		if err != nil && !after.Covers(before) || err != nil && !before.Covers(after) {
			t.Fatalf("a refused file changed the store: %v", err)
		}
		_ = res
	})
}
