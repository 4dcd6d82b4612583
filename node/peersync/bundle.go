package peersync

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"lifeline/node/store"
	"lifeline/syncproto"
)

// A bundle is a session written to a file, for when there is no network at
// all: a USB stick walked from a district to headquarters. It holds the same
// frames a session sends (Hello, Certs, Batch..., Done), after a magic line,
// and ends with a Seal: the SHA-256 of every byte before it, signed by the
// node that wrote it. A bundle is checked whole, seal first, before anything
// in it is applied, so a cut or altered file changes nothing, but for the
// revocations its hello carries: each is headquarters' signed word, checked
// on its own as one that gossip brings, and applied before the bundle's
// changes are, so that a revoked node's changes in it are refused.

// BundleMagic opens every bundle file.
const BundleMagic = "LIFELINE-BUNDLE\n"

// VectorMagic opens a file holding a node's version vector, which another
// node uses to write a bundle of only what that node lacks.
const VectorMagic = "LIFELINE-VECTOR\n"

// MaxBundleBytes bounds a bundle file.
const MaxBundleBytes = 4 << 30

// BundleStore is what writing and applying bundles needs of a store.
type BundleStore interface {
	Store
}

// BundleTrust is what bundles need of trust, beyond a session's.
type BundleTrust interface {
	Trust
	// CheckCert verifies a certificate without remembering it and returns
	// the node it names and its key.
	CheckCert(der []byte) (syncproto.NodeID, ed25519.PublicKey, error)
	// Revoked reports whether headquarters revoked a node: a bundle it
	// sealed is refused.
	Revoked(node syncproto.NodeID) bool
}

// ExportResult says what a bundle holds.
type ExportResult struct {
	Changes int
	Bytes   int64
	// Skipped counts the streams left out: they hold a stretch no batch
	// can carry (see store.UnsendableError).
	Skipped int
}

// Export writes a bundle of what a node holding have lacks (everything, for
// an empty vector) and cfg.Offer lets it carry (every stream when nil):
// the streams' changes, their origins' certificates and headquarters'
// receipts of them. sign is the writing node's key.
func Export(ctx context.Context, w io.Writer, cfg Config, have syncproto.Vector, sign func([]byte) []byte) (ExportResult, error) {
	cfg = cfg.withDefaults()
	var res ExportResult
	h := sha256.New()
	cw := &CountWriter{W: io.MultiWriter(w, h)}
	if _, err := io.WriteString(cw, BundleMagic); err != nil {
		return res, err
	}
	local, err := cfg.Store.Vector(ctx)
	if err != nil {
		return res, err
	}
	// The vectors name the streams offered alone: a bundle's reader learns
	// nothing of the others, not even how many changes they hold.
	hello := cfg.Hello
	hello.Protocol, hello.MinVersion, hello.MaxVersion, hello.Vector = syncproto.ProtocolName, syncproto.MinVersion, syncproto.MaxVersion, local.Only(cfg.Offer)
	// The revocations this node knows travel in the hello, under the seal,
	// for a node that only ever meets sticks.
	if hello.Revocations, err = cfg.Store.RevocationNotices(ctx); err != nil {
		return res, err
	}
	if hello.Grants, err = cfg.Store.GrantNotices(ctx); err != nil {
		return res, err
	}
	if hello.Published, err = cfg.Store.KitNotices(ctx); err != nil {
		return res, err
	}
	if _, err := syncproto.WriteFrame(cw, syncproto.MsgHello, &hello); err != nil {
		return res, err
	}
	// The writer's certificate goes first: the seal is checked with it.
	have = have.Clone()
	if have == nil {
		have = syncproto.Vector{}
	}
	offers := func(st syncproto.Stream) bool { return cfg.Offer == nil || cfg.Offer(st) }
	origins := []syncproto.NodeID{hello.Node}
	for st, seq := range local {
		switch {
		case !offers(st):
			have[st] = never
		case seq > have[st] && st.Origin != hello.Node:
			origins = append(origins, st.Origin)
		}
	}
	certs, err := cfg.Trust.Certs(ctx, origins)
	if err != nil {
		return res, err
	}
	if _, err := syncproto.WriteFrame(cw, syncproto.MsgCerts, &syncproto.Certs{Certs: certs}); err != nil {
		return res, err
	}
	// Headquarters' receipts of what the bundle holds, for the laptop it
	// is walked to.
	receipts, err := receiptsFor(ctx, cfg.Store, cfg.Trust, syncproto.NodeID{}, false, nil)
	if err != nil {
		return res, err
	}
	if receipts != nil {
		receipts.Receipts = slices.DeleteFunc(receipts.Receipts, func(r syncproto.Receipt) bool { return !offers(r.Stream) })
	}
	if receipts != nil && len(receipts.Receipts) > 0 {
		if _, err := syncproto.WriteFrame(cw, syncproto.MsgReceipts, receipts); err != nil {
			return res, err
		}
	}
	for n := uint64(1); ; n++ {
		runs, next, err := cfg.Store.Outgoing(ctx, have, cfg.BatchChanges)
		if ue := (*store.UnsendableError)(nil); errors.As(err, &ue) {
			cfg.Log.Warn("bundle: a stream cannot be passed on", "err", err)
			have[ue.Stream] = never
			res.Skipped++
			continue
		}
		if err != nil {
			return res, err
		}
		if len(runs) == 0 {
			break
		}
		b, err := syncproto.NewBatch(n, runs)
		if err != nil {
			return res, err
		}
		if _, err := syncproto.WriteFrame(cw, syncproto.MsgBatch, b); err != nil {
			return res, err
		}
		for _, r := range runs {
			res.Changes += len(r.Bodies)
		}
		have = next
	}
	if _, err := syncproto.WriteFrame(cw, syncproto.MsgDone, &syncproto.Done{Vector: hello.Vector}); err != nil {
		return res, err
	}
	var sum syncproto.Hash
	h.Sum(sum[:0])
	seal := syncproto.Seal{Hash: sum, Node: hello.Node, Sig: sign(syncproto.SealMessage(sum))}
	if _, err := syncproto.WriteFrame(cw, syncproto.MsgSeal, &seal); err != nil {
		return res, err
	}
	res.Bytes = cw.N
	return res, nil
}

// CountWriter counts the bytes written through it.
type CountWriter struct {
	W io.Writer
	N int64
}

func (c *CountWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}

// BundleError is a bundle refused whole.
type BundleError struct {
	// Offset is the byte of the plain bundle where the problem was found,
	// or -1 for a file refused before its plain bytes are read (one
	// encrypted for other nodes, or whose encryption header is damaged).
	Offset int64
	Err    error
}

func (e *BundleError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("bundle refused, nothing applied: %v", e.Err)
	}
	return fmt.Sprintf("bundle refused at byte %d, nothing applied: %v", e.Offset, e.Err)
}

func (e *BundleError) Unwrap() error { return e.Err }

// ErrBundle is wrapped by every refusal of a bundle.
var ErrBundle = errors.New("bad bundle")

// ImportResult says what a bundle did.
type ImportResult struct {
	From     syncproto.Hello // the node that wrote it
	Changes  int             // changes in the bundle
	Receipts int             // headquarters' receipts kept
	// Revocations counts the nodes this node learnt headquarters revoked
	// from the bundle's hello.
	Revocations int
	// Grants counts the grants of data keys the bundle's hello brought
	// that were newer than this node's.
	Grants int
	// Kits counts the kits headquarters published the bundle's hello
	// brought, newer than this node's.
	Kits int
	// OutOfScope counts the changes left out: of streams this node does
	// not keep (another district's), or left out for not linking to the
	// chains it holds.
	OutOfScope int
	// Encrypted says the file was encrypted for this node, for the caller
	// that decrypted it to tell.
	Encrypted bool
	// Photos says what the photo section after the seal brought.
	Photos PhotosRead
	store.ApplyResult
}

// PhotoSectionMagic opens the photo section a bundle may carry after its
// seal (docs/photos.md). The section is outside the seal: each photo in it
// is signed by the bundle's writer and checked against its hash on its
// own, so that a damaged photo costs that photo, never the records.
// A bundle without photos is byte for byte what it was before photos
// travelled; an older node refuses one with photos whole ("bytes after
// the seal"), having applied nothing.
const PhotoSectionMagic = "LIFELINE-PHOTOS\n"

// PhotoSink reads a bundle's photo section, from its magic on, once the
// bundle's records are applied; writer is the key that sealed the bundle.
type PhotoSink func(ctx context.Context, r io.Reader, writer ed25519.PublicKey) PhotosRead

// PhotosRead says what a bundle's photo section brought.
type PhotosRead struct {
	Kept, Had, Refused int
	// Reasons are the first few refusals; Err, why the section could not
	// be read to its end (the photos before it are kept).
	Reasons []string
	Err     string
}

// Import applies a bundle in one transaction, reading it once: its frames
// are hashed as they are read and its batches applied as they come, and
// the seal at the end decides: if the seal does not match what was read,
// or is not the writer's, the transaction is rolled back and nothing was
// applied. What is applied is exactly what the seal covers.
func Import(ctx context.Context, r io.Reader, st BundleStore, trust BundleTrust) (ImportResult, error) {
	return ImportKept(ctx, r, st, trust, nil)
}

// ImportKept is Import that stores only the streams keep says to keep
// of a bundle whose writer's certificate (DER, checked against the CA; nil
// if the bundle lacks it) is writer (nil keeps every one): the others are
// checked with the rest, under the seal, and counted in OutOfScope.
func ImportKept(ctx context.Context, r io.Reader, st BundleStore, trust BundleTrust, keep func(writer []byte, st syncproto.Stream) bool) (ImportResult, error) {
	return importBundle(ctx, r, st, trust, keep, nil, nil)
}

// ImportWithPhotos is ImportKept that hands the photo section after the
// seal, if there is one, to photos once the records are applied.
// ImportKept passes over such a section.
func ImportWithPhotos(ctx context.Context, r io.Reader, st BundleStore, trust BundleTrust, keep func(writer []byte, st syncproto.Stream) bool, photos PhotoSink) (ImportResult, error) {
	return importBundle(ctx, r, st, trust, keep, nil, photos)
}

// importBundle is ImportKept that, given a snapshot's checks, also refuses
// what a snapshot may not be (snapshot.go).
func importBundle(ctx context.Context, r io.Reader, st BundleStore, trust BundleTrust, keep func(writer []byte, st syncproto.Stream) bool, snap *snapshotCheck, photos PhotoSink) (ImportResult, error) {
	var res ImportResult
	fr, br, err := openBundle(&io.LimitedReader{R: r, N: MaxBundleBytes})
	if err != nil {
		return res, err
	}
	// The seal covers the bytes as written: the magic line, then each
	// frame's length, type and body.
	h := sha256.New()
	io.WriteString(h, BundleMagic)
	bad := func(format string, args ...any) error {
		return &BundleError{Offset: fr.Offset() + int64(len(BundleMagic)), Err: fmt.Errorf("%w: %s", ErrBundle, fmt.Sprintf(format, args...))}
	}
	// refused is bad for an error that stays what it is.
	refused := func(err error) error {
		return &BundleError{Offset: fr.Offset() + int64(len(BundleMagic)), Err: fmt.Errorf("%w: %w", ErrBundle, err)}
	}
	// next reads, hashes and decodes the next frame; before is the hash of
	// the bytes before it.
	next := func() (t syncproto.MsgType, msg any, before syncproto.Hash, err error) {
		h.Sum(before[:0])
		t, body, err := fr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return t, nil, before, bad("the file ends before its seal: it was cut short")
			}
			return t, nil, before, bad("%v", err)
		}
		var head [5]byte
		binary.BigEndian.PutUint32(head[:4], uint32(len(body)+1))
		head[4] = byte(t)
		h.Write(head[:])
		h.Write(body)
		if msg, err = syncproto.Decode(t, body); err != nil {
			return t, nil, before, bad("%v", err)
		}
		return t, msg, before, nil
	}
	t, msg, _, err := next()
	if err != nil {
		return res, err
	}
	hello, ok := msg.(*syncproto.Hello)
	if !ok {
		return res, bad("a bundle starts with a hello, not a %s", t)
	}
	// Its revocations apply first, outside the transaction the changes
	// are stored in: the changes are admitted against them.
	learnt, err := trust.AddRevocations(ctx, hello.Revocations)
	if err != nil {
		return res, err
	}
	res.Revocations = len(learnt)
	if len(hello.Grants) > 0 {
		if res.Grants, err = trust.AddGrants(ctx, hello.Grants); err != nil {
			return res, err
		}
	}
	if len(hello.Published) > 0 {
		if res.Kits, err = trust.AddKits(ctx, hello.Published); err != nil {
			return res, err
		}
	}
	var certs [][]byte
	var writer []byte // the writer's certificate, once read
	var receipts []*syncproto.Receipts
	done, sealed, withPhotos := false, false, false
	// A bundle holds one frame of certificates and at most one of
	// receipts, as Export writes it: each certificate is checked as it is
	// read, and every one is kept until the seal.
	gotCerts := false
	// frames reads the rest of the bundle, yielding its batches' changes;
	// it checks the seal when it comes, and yields an error (which rolls
	// back what was applied) for anything wrong.
	frames := func(yield func([]store.Incoming, error) bool) {
		for {
			t, msg, before, err := next()
			if err != nil {
				yield(nil, err)
				return
			}
			switch m := msg.(type) {
			case *syncproto.Hello:
				yield(nil, bad("a second hello"))
				return
			case *syncproto.Certs:
				// Checked against the CA as they come, and kept once the
				// bundle is applied: the batches after them are verified
				// with them.
				if gotCerts {
					yield(nil, bad("a second frame of certificates"))
					return
				}
				gotCerts = true
				for _, der := range m.Certs {
					id, _, err := trust.CheckCert(der)
					if err != nil {
						yield(nil, bad("%v", err))
						return
					}
					if id == hello.Node && writer == nil {
						writer = der
					}
				}
				certs = append(certs, m.Certs...)
			case *syncproto.Receipts:
				if len(receipts) > 0 {
					yield(nil, bad("a second frame of receipts"))
					return
				}
				if err := snap.expect(ctx, m); err != nil {
					yield(nil, refused(err))
					return
				}
				receipts = append(receipts, m)
			case *syncproto.Batch:
				if done {
					yield(nil, bad("a batch out of place"))
					return
				}
				in, err := incoming(m)
				if err != nil {
					yield(nil, bad("%v", err))
					return
				}
				// Brought by the writer, whose seal the bundle ends with
				// (nothing of it stays if the seal does not check).
				for i := range in {
					in[i].From = hello.Node
				}
				res.Changes += len(in)
				if keep != nil {
					kept := in[:0]
					for _, c := range in {
						if keep(writer, c.Change.Stream()) {
							kept = append(kept, c)
						} else {
							res.OutOfScope++
						}
					}
					in = kept
				}
				if snap != nil {
					if err := snap.add(in); err != nil {
						yield(nil, refused(err))
						return
					}
				}
				if !yield(in, nil) {
					return
				}
			case *syncproto.Done:
				done = true
			case *syncproto.Seal:
				switch {
				case !done:
					yield(nil, bad("a seal before done"))
				case m.Hash != before:
					yield(nil, bad("the contents do not match the seal: the file was altered"))
				case m.Node != hello.Node:
					yield(nil, bad("sealed by %s, written by %s", m.Node, hello.Node))
				default:
					if err := verifySeal(trust, certs, m); err != nil {
						yield(nil, bad("%v", err))
					} else if withPhotos, err = photoTail(br, snap == nil); err != nil {
						yield(nil, bad("%v", err))
					} else if err := snap.complete(writer, keep); err != nil {
						yield(nil, refused(err))
					} else {
						sealed = true
					}
				}
				return
			default:
				yield(nil, bad("a %s has no place in a bundle", t))
				return
			}
		}
	}
	applied, err := st.ApplyAll(ctx, frames, true)
	if err != nil {
		var be *BundleError
		if errors.As(err, &be) {
			return res, be
		}
		return res, &BundleError{Offset: fr.Offset(), Err: fmt.Errorf("%w: %w", ErrBundle, err)}
	}
	if !sealed {
		return res, bad("the file ends before its seal: it was cut short")
	}
	res.From = *hello
	res.ApplyResult = store.Sum(applied)
	if err := trust.AddCerts(ctx, certs); err != nil {
		return res, err
	}
	// Receipts are checked against the chains the bundle just extended.
	for _, m := range receipts {
		n, err := trust.AddReceipts(ctx, m)
		if err != nil {
			return res, err
		}
		res.Receipts += n
	}
	if withPhotos && photos != nil {
		if _, pub, err := trust.CheckCert(writer); err == nil {
			res.Photos = photos(ctx, br, pub)
		}
	}
	return res, nil
}

// photoTail says whether a photo section follows the seal, the only thing
// that may (and not in a snapshot).
func photoTail(br *bufio.Reader, may bool) (bool, error) {
	head, err := br.Peek(len(PhotoSectionMagic))
	switch {
	case len(head) == 0 && errors.Is(err, io.EOF):
		return false, nil
	case may && string(head) == PhotoSectionMagic:
		return true, nil
	}
	return false, errors.New("bytes after the seal")
}

// openBundle reads a bundle's magic. The frame reader reads through br,
// which it takes as its own buffer (of the size it asks): what follows
// the seal is read from br.
func openBundle(r io.Reader) (*syncproto.FrameReader, *bufio.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(BundleMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != BundleMagic {
		return nil, nil, &BundleError{Err: fmt.Errorf("%w: not a Lifeline bundle (it does not start with %q)", ErrBundle, BundleMagic[:len(BundleMagic)-1])}
	}
	return syncproto.NewFrameReader(br), br, nil
}

func verifySeal(trust BundleTrust, certs [][]byte, seal *syncproto.Seal) error {
	for _, der := range certs {
		node, pub, err := trust.CheckCert(der)
		if err != nil || node != seal.Node {
			continue
		}
		if trust.Revoked(node) {
			return fmt.Errorf("sealed by %s, which headquarters revoked", node)
		}
		if !ed25519.Verify(pub, syncproto.SealMessage(seal.Hash), seal.Sig) {
			return fmt.Errorf("the seal's signature does not verify: the file was altered")
		}
		return nil
	}
	return fmt.Errorf("no valid certificate of %s, who sealed the bundle", seal.Node)
}

// incoming decodes a batch's changes for the store, each run's signature on
// its last change.
func incoming(b *syncproto.Batch) ([]store.Incoming, error) {
	runs, err := b.Runs()
	if err != nil {
		return nil, err
	}
	total := 0
	for _, r := range runs {
		total += len(r.Bodies)
	}
	in := make([]store.Incoming, 0, total)
	sums := make([]syncproto.Hash, total)
	var names syncproto.Interner
	for _, r := range runs {
		for i, body := range r.Bodies {
			c, err := syncproto.DecodeChangeInterned(body, &names)
			if err != nil {
				return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
			}
			if c.Stream() != r.Stream || c.Seq != r.First+uint64(i) {
				return nil, fmt.Errorf("%w: batch %d: change %s sits in the run of %s at sequence %d", syncproto.ErrMalformed, b.Seq, c.Dot(), r.Stream, r.First+uint64(i))
			}
			sum := &sums[len(in)]
			*sum = sha256.Sum256(body)
			inc := store.Incoming{Change: c, Body: body, BodySum: sum}
			if i == len(r.Bodies)-1 {
				inc.Sig = r.Sig
			}
			in = append(in, inc)
		}
	}
	return in, nil
}
