package peersync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// snapTrust is a bundle's trust with a headquarters: receipts are
// believed when its key signed them.
type snapTrust struct {
	bundleTrust
	hq *identity.Key
}

func (s snapTrust) CheckReceipts(_ context.Context, m *syncproto.Receipts) []syncproto.Receipt {
	var out []syncproto.Receipt
	for _, r := range m.Receipts {
		if int(r.Signer) < len(m.Certs) && bytes.Equal(m.Certs[r.Signer], s.hq.Public()) &&
			ed25519.Verify(s.hq.Public(), syncproto.ReceiptMessage(r.Stream, r.Seq, r.Head), r.Sig) {
			out = append(out, r)
		}
	}
	return out
}

func (s snapTrust) AddReceipts(ctx context.Context, m *syncproto.Receipts) (int, error) {
	return len(s.CheckReceipts(ctx, m)), nil
}

// allRuns is everything a peer holds, as the runs of its batches of at
// most max changes.
func allRuns(t testing.TB, p *peer, max int) []syncproto.Run {
	t.Helper()
	var runs []syncproto.Run
	have := syncproto.Vector{}
	for {
		rs, next, err := p.Outgoing(context.Background(), have, max)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 0 {
			return runs
		}
		runs = append(runs, rs...)
		have = next
	}
}

// chainAt is a stream's chain hash at seq, from the runs, by the
// definition in docs/sync.md: SHA-256("lifeline/chain/v1" || previous ||
// SHA-256(body)), from 32 zero bytes.
func chainAt(runs []syncproto.Run, st syncproto.Stream, seq uint64) syncproto.Hash {
	var h syncproto.Hash
	for _, r := range runs {
		if r.Stream != st {
			continue
		}
		for i, body := range r.Bodies {
			if r.First+uint64(i) > seq {
				return h
			}
			sum := sha256.Sum256(body)
			h = sha256.Sum256(slices.Concat([]byte("lifeline/chain/v1"), h[:], sum[:]))
		}
	}
	return h
}

// receiptsBy are receipts signed by key, which names itself as signer.
func receiptsBy(key *identity.Key, rs ...syncproto.Receipt) *syncproto.Receipts {
	m := &syncproto.Receipts{Certs: [][]byte{key.Public()}}
	for _, r := range rs {
		r.Sig = ed25519.Sign(key.Signer(), syncproto.ReceiptMessage(r.Stream, r.Seq, r.Head))
		m.Receipts = append(m.Receipts, r)
	}
	return m
}

// snapshotFile writes what a writer built from this package's own parts
// could: a sealed file of the given runs, one batch each, and receipts
// before them or, with late, after them.
func snapshotFile(t testing.TB, w *peer, receipts *syncproto.Receipts, late bool, runs []syncproto.Run) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(BundleMagic)
	frame := func(typ syncproto.MsgType, msg any) {
		if _, err := syncproto.WriteFrame(&buf, typ, msg); err != nil {
			t.Fatal(err)
		}
	}
	frame(syncproto.MsgHello, &syncproto.Hello{Protocol: syncproto.ProtocolName, MinVersion: syncproto.MinVersion, MaxVersion: syncproto.MaxVersion,
		Node: w.key.ID(), Name: w.name, Role: "relay", District: "Cayo", Vector: syncproto.Vector{}})
	frame(syncproto.MsgCerts, &syncproto.Certs{Certs: [][]byte{w.key.Public()}})
	if !late {
		frame(syncproto.MsgReceipts, receipts)
	}
	for i, r := range runs {
		b, err := syncproto.NewBatch(uint64(i+1), []syncproto.Run{r})
		if err != nil {
			t.Fatal(err)
		}
		frame(syncproto.MsgBatch, b)
	}
	if late {
		frame(syncproto.MsgReceipts, receipts)
	}
	frame(syncproto.MsgDone, &syncproto.Done{Vector: syncproto.Vector{}})
	sum := sha256.Sum256(buf.Bytes())
	frame(syncproto.MsgSeal, &syncproto.Seal{Hash: sum, Node: w.key.ID(), Sig: ed25519.Sign(w.key.Signer(), syncproto.SealMessage(sum))})
	return buf.Bytes()
}

// A snapshot is applied only whole: each stream from its first change,
// without a gap, through every receipt of headquarters it carries, with
// the head each receipt names. Anything less is refused whole (nothing of
// it is stored), though the same file is a bundle a node may import.
func TestSnapshotWholeOrRefused(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, relay := newPeer(t, ring, "a"), newPeer(t, ring, "relay")
	hq, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		a.write(t, syncproto.NewRecordID(), true, uint8(1+i%2), "n", i)
	}
	l1, l2 := syncproto.Stream{Origin: a.key.ID(), Lane: 1}, syncproto.Stream{Origin: a.key.ID(), Lane: 2}
	runs := allRuns(t, a, 6)
	var r1, r2 []syncproto.Run // each stream's runs, in order
	for _, r := range runs {
		if r.Stream == l1 {
			r1 = append(r1, r)
		} else {
			r2 = append(r2, r)
		}
	}
	if len(r1) < 3 || len(r2) < 3 {
		t.Fatalf("runs of %d and %d: the cases below need three each", len(r1), len(r2))
	}
	committed := []syncproto.Receipt{{Stream: l1, Seq: 20, Head: chainAt(runs, l1, 20)}, {Stream: l2, Seq: 12, Head: chainAt(runs, l2, 12)}}
	good := receiptsBy(hq, committed...)
	without := func(drop ...[]syncproto.Run) []syncproto.Run {
		return slices.DeleteFunc(slices.Clone(runs), func(r syncproto.Run) bool {
			for _, d := range drop {
				for _, x := range d {
					if x.Stream == r.Stream && x.First == r.First {
						return true
					}
				}
			}
			return false
		})
	}
	cut := without(r2[len(r2)-1:], r2[len(r2)-2:len(r2)-1]) // lane 2 ends before 12
	if last := r2[len(r2)-3]; last.First+uint64(len(last.Bodies))-1 >= 12 {
		t.Fatalf("lane 2 cut at %d still reaches the receipt", last.First+uint64(len(last.Bodies))-1)
	}
	trust := snapTrust{bundleTrust{ring}, hq}
	for _, c := range []struct {
		name string
		file []byte
		says string
	}{
		{"a stream cut short of its receipt", snapshotFile(t, relay, good, false, cut), "cut short"},
		{"a stream left out, its receipt kept", snapshotFile(t, relay, good, false, without(r2)), "ends at sequence 0"},
		{"a stream's first run left out", snapshotFile(t, relay, good, false, without(r1[:1])), "starts at sequence"},
		{"a run in the middle left out", snapshotFile(t, relay, good, false, without(r1[1:2])), "jumps from sequence"},
		{"receipts a relay signed", snapshotFile(t, relay, receiptsBy(relay.key, committed...), false, runs), "no receipt of headquarters"},
		{"receipts after the changes", snapshotFile(t, relay, good, true, runs), "comes after its changes"},
		{"a receipt of another chain", snapshotFile(t, relay, receiptsBy(hq, syncproto.Receipt{Stream: l2, Seq: 12, Head: chainAt(runs, l2, 11)}), false, runs), "is not the chain"},
		{"a stream cut short of its later receipt", snapshotFile(t, relay, receiptsBy(hq, append([]syncproto.Receipt{{Stream: l2, Seq: 6, Head: chainAt(runs, l2, 6)}}, committed...)...), false, cut), "cut short"},
		{"two receipts of one sequence, two chains", snapshotFile(t, relay, receiptsBy(hq, append(committed, syncproto.Receipt{Stream: l2, Seq: 12, Head: chainAt(runs, l2, 11)})...), false, runs), "two chains"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newPeer(t, ring, "b")
			_, err := ImportSnapshot(context.Background(), bytes.NewReader(c.file), b, trust, nil)
			if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("refused with %v, want %q", err, c.says)
			}
			if v, _ := b.Vector(context.Background()); len(v) != 0 {
				t.Fatalf("a refused snapshot left %v behind", v)
			}
		})
	}

	// A refusal says where: the end of the batch that broke the rule.
	late := snapshotFile(t, relay, good, false, without(r1[:1]))
	_, err = ImportSnapshot(context.Background(), bytes.NewReader(late), newPeer(t, ring, "d"), trust, nil)
	var be *BundleError
	if !errors.As(err, &be) || be.Offset != frameEnd(t, late, 4) {
		t.Fatalf("a snapshot refused at its first batch: %v, want the offset %d, where that batch ends", err, frameEnd(t, late, 4))
	}

	b := newPeer(t, ring, "b")
	res, err := ImportSnapshot(context.Background(), bytes.NewReader(snapshotFile(t, relay, good, false, runs)), b, trust, nil)
	if err != nil || res.Applied != 40 || res.Receipts != 2 {
		t.Fatalf("a whole snapshot: %+v %v", res, err)
	}
	if a.digest(t) != b.digest(t) {
		t.Fatal("digests differ after the snapshot")
	}
	// The file cut short is still a sealed bundle of changes that check.
	c := newPeer(t, ring, "c")
	if res, err := Import(context.Background(), bytes.NewReader(snapshotFile(t, relay, good, false, cut)), c, trust); err != nil || res.Applied != 30 {
		t.Fatalf("the cut snapshot as a bundle: %+v %v", res, err)
	}
}

// Export writes only what the configuration offers: the streams, their
// origins' certificates and headquarters' receipts of them.
func TestExportOffersOnlyWhatThePeerKeeps(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, b := newPeer(t, ring, "a"), newPeer(t, ring, "b")
	for i := range 10 {
		a.write(t, syncproto.NewRecordID(), true, uint8(1+i%2), "n", i)
	}
	cfg := a.config(ring)
	cfg.Trust = bundleTrust{ring}
	cfg.Offer = func(st syncproto.Stream) bool { return st.Lane == 1 }
	var buf bytes.Buffer
	res, err := Export(context.Background(), &buf, cfg, nil, func(m []byte) []byte { return ed25519.Sign(a.key.Signer(), m) })
	if err != nil || res.Changes != 5 {
		t.Fatalf("exported %+v %v, want lane 1's 5 changes", res, err)
	}
	if _, err := Import(context.Background(), bytes.NewReader(buf.Bytes()), b, bundleTrust{ring}); err != nil {
		t.Fatal(err)
	}
	v, _ := b.Vector(context.Background())
	if want := (syncproto.Vector{{Origin: a.key.ID(), Lane: 1}: 5}); !maps.Equal(v, want) {
		t.Fatalf("the importer holds %v, want %v", v, want)
	}
}

// Whatever a file holds, importing it as a snapshot never panics, and a
// refused one changes nothing.
func FuzzSnapshot(f *testing.F) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, relay, b := newPeer(f, ring, "a"), newPeer(f, ring, "relay"), newPeer(f, ring, "b")
	hq, err := identity.NewKey()
	if err != nil {
		f.Fatal(err)
	}
	for i := range 4 {
		a.write(f, syncproto.NewRecordID(), true, 1, "n", i)
	}
	runs := allRuns(f, a, 2)
	st := syncproto.Stream{Origin: a.key.ID(), Lane: 1}
	good := snapshotFile(f, relay, receiptsBy(hq, syncproto.Receipt{Stream: st, Seq: 4, Head: chainAt(runs, st, 4)}), false, runs)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(BundleMagic))
	trust := snapTrust{bundleTrust{ring}, hq}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		before, _ := b.Vector(context.Background())
		_, err := ImportSnapshot(context.Background(), bytes.NewReader(data), b, trust, nil) // must not panic
		after, _ := b.Vector(context.Background())
		if err != nil && (!after.Covers(before) || !before.Covers(after)) {
			t.Fatalf("a refused file changed the store: %v", err)
		}
	})
}

// frameEnd is the offset in a bundle file where its n-th frame (from 1)
// ends, read by the frame layout: a 4-byte big-endian length of the type
// byte and body, then those.
func frameEnd(t *testing.T, file []byte, n int) int64 {
	t.Helper()
	at := len(BundleMagic)
	for range n {
		if at+4 > len(file) {
			t.Fatalf("the file has fewer than %d frames", n)
		}
		at += 4 + int(binary.BigEndian.Uint32(file[at:]))
	}
	return int64(at)
}

// A bundle's receipts frame is written only when it holds a receipt the
// peer is offered, and then holds only those.
func TestExportWritesOnlyReceiptsOffered(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, hq := newPeer(t, ring, "a"), newPeer(t, ring, "hq")
	for i := range 4 {
		a.write(t, syncproto.NewRecordID(), true, uint8(1+i%2), "n", i)
	}
	l1 := syncproto.Stream{Origin: a.key.ID(), Lane: 1}
	if err := a.PutReceipts(context.Background(), []store.Receipt{{Stream: l1, Seq: 2, Signer: hq.key.ID(), Sig: make([]byte, 64)}}); err != nil {
		t.Fatal(err)
	}
	receiptsIn := func(offer func(syncproto.Stream) bool) (frames int, streams []syncproto.Stream) {
		cfg := a.config(ring)
		cfg.Trust = bundleTrust{ring}
		cfg.Offer = offer
		var buf bytes.Buffer
		res, err := Export(context.Background(), &buf, cfg, nil, func(m []byte) []byte { return ed25519.Sign(a.key.Signer(), m) })
		if err != nil || res.Changes != 2 {
			t.Fatalf("exported %+v %v, want the 2 changes of the lane offered", res, err)
		}
		if _, err := Import(context.Background(), bytes.NewReader(buf.Bytes()), newPeer(t, ring, "b"), snapTrust{bundleTrust{ring}, hq.key}); err != nil {
			t.Fatalf("the bundle does not import: %v", err)
		}
		fr := syncproto.NewFrameReader(bytes.NewReader(buf.Bytes()[len(BundleMagic):]))
		for {
			typ, body, err := fr.Read()
			if err != nil {
				return
			}
			if typ != syncproto.MsgReceipts {
				continue
			}
			frames++
			m, err := syncproto.Decode(typ, body)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range m.(*syncproto.Receipts).Receipts {
				streams = append(streams, r.Stream)
			}
		}
	}
	if n, sts := receiptsIn(func(st syncproto.Stream) bool { return st.Lane == 1 }); n != 1 || !slices.Equal(sts, []syncproto.Stream{l1}) {
		t.Fatalf("offered lane 1: %d receipts frames of %v, want one of %v", n, sts, l1)
	}
	if n, _ := receiptsIn(func(st syncproto.Stream) bool { return st.Lane == 2 }); n != 0 {
		t.Fatalf("offered lane 2 alone, which has no receipt: %d receipts frames", n)
	}
}

// The writer's certificate is the one naming the hello's node, wherever
// it stands among the bundle's certificates: what a node keeps of a
// bundle is judged by it.
func TestImportKnowsTheWriterAmongItsCertificates(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, other, b := newPeer(t, ring, "a"), newPeer(t, ring, "other"), newPeer(t, ring, "b")
	a.write(t, syncproto.NewRecordID(), true, 1, "n", 1)
	cfg := a.config(ring)
	cfg.Trust = certsInOrder{bundleTrust{ring}, []syncproto.NodeID{other.key.ID(), a.key.ID()}}
	var buf bytes.Buffer
	if _, err := Export(context.Background(), &buf, cfg, nil, func(m []byte) []byte { return ed25519.Sign(a.key.Signer(), m) }); err != nil {
		t.Fatal(err)
	}
	var writers [][]byte
	if _, err := ImportKept(context.Background(), bytes.NewReader(buf.Bytes()), b, bundleTrust{ring}, func(w []byte, _ syncproto.Stream) bool {
		writers = append(writers, w)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(writers) != 1 || !bytes.Equal(writers[0], a.key.Public()) {
		t.Fatalf("judged by %x, want the writer's certificate %x", writers, []byte(a.key.Public()))
	}
}

// A refusal says at which byte, when it has one: the first byte of a file
// that is no bundle is byte 0; a file refused before any plain byte was
// read has none.
func TestBundleErrorSaysWhere(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	_, err := Import(context.Background(), bytes.NewReader([]byte("PK\x03\x04 a zip file")), newPeer(t, ring, "b"), bundleTrust{ring})
	if err == nil || !strings.HasPrefix(err.Error(), "bundle refused at byte 0, nothing applied: ") {
		t.Fatalf("a file that is no bundle: %v", err)
	}
	for _, c := range []struct {
		e    BundleError
		want string
	}{
		{BundleError{Offset: 0, Err: ErrBundle}, "bundle refused at byte 0, nothing applied: bad bundle"},
		{BundleError{Offset: 4711, Err: ErrBundle}, "bundle refused at byte 4711, nothing applied: bad bundle"},
		{BundleError{Offset: -1, Err: ErrBundle}, "bundle refused, nothing applied: bad bundle"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}
