package peersync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
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

// certsInOrder is bundleTrust that gives a bundle's writer the
// certificates of the nodes named, in that order, whatever it is asked for.
type certsInOrder struct {
	bundleTrust
	nodes []syncproto.NodeID
}

func (c certsInOrder) Certs(ctx context.Context, _ []syncproto.NodeID) ([][]byte, error) {
	return c.bundleTrust.Certs(ctx, c.nodes)
}

// resealed is a bundle with its seal replaced by one naming node, signed
// with sign over the same hash: the bytes before the seal are untouched.
func resealed(t *testing.T, bundle []byte, node syncproto.NodeID, sign func([]byte) []byte) []byte {
	t.Helper()
	fr := syncproto.NewFrameReader(bytes.NewReader(bundle[len(BundleMagic):]))
	for {
		at := fr.Offset()
		typ, body, err := fr.Read()
		if err != nil {
			t.Fatalf("no seal in the bundle: %v", err)
		}
		if typ != syncproto.MsgSeal {
			continue
		}
		m, err := syncproto.Decode(typ, body)
		if err != nil {
			t.Fatal(err)
		}
		h := m.(*syncproto.Seal).Hash
		out := bytes.NewBuffer(bytes.Clone(bundle[:int64(len(BundleMagic))+at]))
		if _, err := syncproto.WriteFrame(out, syncproto.MsgSeal, &syncproto.Seal{Hash: h, Node: node, Sig: sign(syncproto.SealMessage(h))}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
}

// A bundle says who wrote it, and that node alone can seal it: a node
// cannot pass off a bundle as another's, by sealing it as itself under the
// other's name, or by sealing it in the other's name with its own
// certificate. The bundle is refused whole and nothing of it is applied.
func TestBundleSealedOnlyByItsWriter(t *testing.T) {
	ctx := context.Background()
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	mallory, hq := newPeer(t, ring, "mallory"), newPeer(t, ring, "hq")
	for i := range 5 {
		mallory.write(t, syncproto.NewRecordID(), true, 1, "n", i)
	}
	signMallory := func(m []byte) []byte { return ed25519.Sign(mallory.key.Signer(), m) }
	// export writes mallory's records in a bundle whose hello names hq,
	// with the certificates of certs, sealed with mallory's key.
	export := func(certs ...syncproto.NodeID) []byte {
		var buf bytes.Buffer
		cfg := mallory.config(ring)
		cfg.Hello.Node, cfg.Hello.Name = hq.key.ID(), "hq"
		cfg.Trust = certsInOrder{bundleTrust{ring}, certs}
		if _, err := Export(ctx, &buf, cfg, nil, signMallory); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name   string
		bundle func() []byte
		want   string
	}{
		{"the seal names its sealer, not the writer the hello names", func() []byte {
			return resealed(t, export(hq.key.ID(), mallory.key.ID()), mallory.key.ID(), signMallory)
		}, "sealed by " + mallory.key.ID().String() + ", written by " + hq.key.ID().String()},
		{"the seal names the writer but is signed with another node's certificate", func() []byte {
			return export(mallory.key.ID())
		}, "no valid certificate of " + hq.key.ID().String()},
		{"the seal names the writer, another node's certificate comes first", func() []byte {
			return export(mallory.key.ID(), hq.key.ID())
		}, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to := newPeer(t, ring, "to")
			res, err := Import(ctx, bytes.NewReader(tc.bundle()), to, bundleTrust{ring})
			if !errors.Is(err, ErrBundle) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("imported as from %s: %+v, %v; want it refused: %s", res.From.Node, res.ApplyResult, err, tc.want)
			}
			if v, _ := to.Vector(ctx); len(v) != 0 {
				t.Fatalf("a refused bundle left %v behind", v)
			}
		})
	}
	// The same records, sealed by their writer under its own name, are
	// taken: the refusals above are for who sealed them.
	var buf bytes.Buffer
	cfg := mallory.config(ring)
	cfg.Trust = bundleTrust{ring}
	if _, err := Export(ctx, &buf, cfg, nil, signMallory); err != nil {
		t.Fatal(err)
	}
	res, err := Import(ctx, &buf, newPeer(t, ring, "to"), bundleTrust{ring})
	if err != nil || res.From.Node != mallory.key.ID() || res.Applied != 5 {
		t.Fatalf("mallory's own bundle: from %s, %+v, %v", res.From.Node, res.ApplyResult, err)
	}
}
