package peersync

// Tests of bundle behaviour that mutation testing (make mutate) found
// unpinned: what a bundle of several batches holds, which certificates it
// carries, what its writer and reader report.

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

func TestBundleOfManyBatches(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(t, ring, "a"), newPeer(t, ring, "b")
	for i := range 120 {
		a.write(t, syncproto.NewRecordID(), true, 1, "n", i)
	}
	var buf bytes.Buffer
	cfg := a.config(ring) // 50 changes a batch: three batches
	cfg.Trust = bundleTrust{ring}
	res, err := Export(context.Background(), &buf, cfg, nil, func(m []byte) []byte { return ed25519.Sign(a.key.Signer(), m) })
	if err != nil || res.Changes != 120 || res.Bytes != int64(buf.Len()) {
		t.Fatalf("export: %+v, %d bytes written, %v", res, buf.Len(), err)
	}
	in, err := Import(context.Background(), bytes.NewReader(buf.Bytes()), b, bundleTrust{ring})
	if err != nil || in.Applied != 120 || in.Changes != 120 {
		t.Fatalf("import: %+v, %v", in, err)
	}
	if a.digest(t) != b.digest(t) {
		t.Fatal("digests differ after a bundle of three batches")
	}
}

// A bundle carries its writer's certificate, first, and those of the
// origins whose changes it holds for the reader, once each; not those of
// origins whose changes the reader already holds.
func TestBundleCarriesTheCertificatesItNeeds(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b, c := newPeer(t, ring, "a"), newPeer(t, ring, "b"), newPeer(t, ring, "c")
	a.write(t, syncproto.NewRecordID(), true, 1, "n", "a")
	b.write(t, syncproto.NewRecordID(), true, 2, "n", "b")
	c.write(t, syncproto.NewRecordID(), true, 3, "n", "c")
	for _, p := range []*peer{c, b} {
		if _, _, ea, eb := pair(t, ring, a, p); ea != nil || eb != nil {
			t.Fatal(ea, eb)
		}
	}
	// c holds a's and its own changes, not b's.
	have, err := c.Vector(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	cfg := a.config(ring)
	cfg.Trust = bundleTrust{ring}
	if _, err := Export(context.Background(), &buf, cfg, have, func(m []byte) []byte { return ed25519.Sign(a.key.Signer(), m) }); err != nil {
		t.Fatal(err)
	}
	fr := syncproto.NewFrameReader(bytes.NewReader(buf.Bytes()[len(BundleMagic):]))
	var got []syncproto.NodeID
	for {
		typ, body, err := fr.Read()
		if err != nil {
			t.Fatalf("no certificates in the bundle: %v", err)
		}
		if typ != syncproto.MsgCerts {
			continue
		}
		m, err := syncproto.Decode(typ, body)
		if err != nil {
			t.Fatal(err)
		}
		for _, der := range m.(*syncproto.Certs).Certs {
			got = append(got, syncproto.NodeIDFromKey(der))
		}
		break
	}
	if len(got) != 2 || got[0] != a.key.ID() || got[1] != b.key.ID() {
		t.Fatalf("the bundle for c carries the certificates of %v; want a (%s), then b (%s)", got, a.key.ID(), b.key.ID())
	}
	if res, err := Import(context.Background(), bytes.NewReader(buf.Bytes()), c, bundleTrust{ring}); err != nil || res.Applied != 1 {
		t.Fatalf("c imports b's change: %+v, %v", res, err)
	}
}

// A refusal says at which byte of the file the problem was found: here,
// the end of a frame that has no place in a bundle.
func TestBundleRefusalOffset(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	b := newPeer(t, ring, "b")
	var buf bytes.Buffer
	buf.WriteString(BundleMagic)
	hello := syncproto.NewHello(syncproto.NodeID{1}, nil)
	if _, err := syncproto.WriteFrame(&buf, syncproto.MsgHello, &hello); err != nil {
		t.Fatal(err)
	}
	if _, err := syncproto.WriteFrame(&buf, syncproto.MsgAck, &syncproto.Ack{Seq: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := Import(context.Background(), bytes.NewReader(buf.Bytes()), b, bundleTrust{ring})
	var be *BundleError
	if !errors.As(err, &be) || be.Offset != int64(buf.Len()) || !strings.Contains(err.Error(), "has no place in a bundle") {
		t.Fatalf("an ack in a bundle of %d bytes: %v (offset %v)", buf.Len(), err, be)
	}
}

// failingCerts cannot keep the certificates a bundle brings.
type failingCerts struct{ bundleTrust }

func (failingCerts) AddCerts(context.Context, [][]byte) error { return errors.New("disk full") }

func TestBundleCertificatesNotKept(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(t, ring, "a"), newPeer(t, ring, "b")
	a.write(t, syncproto.NewRecordID(), true, 1, "n", 1)
	good := exportBundle(t, ring, a)
	if _, err := Import(context.Background(), bytes.NewReader(good), b, failingCerts{bundleTrust{ring}}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("certificates that could not be kept: %v", err)
	}
}

// A change out of place in its run is refused, and the error says where
// it sits.
func TestBundleChangeOutOfPlace(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a := newPeer(t, ring, "a")
	for i := range 3 {
		a.write(t, syncproto.NewRecordID(), true, 1, "n", i)
	}
	runs, _, err := a.Outgoing(context.Background(), nil, 10)
	if err != nil || len(runs) != 1 || len(runs[0].Bodies) != 3 {
		t.Fatalf("a's changes: %v, %v", runs, err)
	}
	// Changes 1 and 3 of the stream, as if 1 and 2.
	run := runs[0]
	run.Bodies = [][]byte{run.Bodies[0], run.Bodies[2]}
	batch, err := syncproto.NewBatch(4, []syncproto.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	_, err = incoming(batch)
	if !errors.Is(err, syncproto.ErrMalformed) || !strings.Contains(err.Error(), "batch 4") || !strings.Contains(err.Error(), "at sequence 2") {
		t.Fatalf("change 3 in the place of 2: %v", err)
	}
}
