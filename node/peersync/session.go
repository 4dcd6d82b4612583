package peersync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"lifeline/node/store"
	"lifeline/syncproto"
)

// Store is what a session needs of a node's store. Its methods are called
// from the session's goroutines, concurrently.
type Store interface {
	Vector(ctx context.Context) (syncproto.Vector, error)
	// Outgoing returns what a peer holding have lacks, a batch's worth
	// (see store.SQLite.Outgoing), and the vector the peer will then hold;
	// a stretch no batch can carry is a *store.UnsendableError.
	Outgoing(ctx context.Context, have syncproto.Vector, max int) ([]syncproto.Run, syncproto.Vector, error)
	// ApplyAll stores batches of changes in one transaction.
	ApplyAll(ctx context.Context, batches iter.Seq2[[]store.Incoming, error], holdGaps bool) ([]store.ApplyResult, error)
	// HeldAside is, per stream whose next change this node holds aside,
	// the last it holds in sequence from there.
	HeldAside(ctx context.Context) (syncproto.Vector, error)
	// ReceiptVector is, per stream, the receipt this node holds;
	// Receipts lists those beyond what a peer holds receipts of: of its
	// own streams only when own, else of all, its own first.
	ReceiptVector(ctx context.Context) (syncproto.Vector, error)
	Receipts(ctx context.Context, peer syncproto.NodeID, own bool, beyond syncproto.Vector, max int) ([]store.Receipt, error)
	// MarkSent records what a peer holds, of the streams this node holds;
	// Sent is, per stream, the highest sequence a peer is known to hold.
	MarkSent(ctx context.Context, v syncproto.Vector) error
	Sent(ctx context.Context) (syncproto.Vector, error)
	// RevocationNotices are the signed notices of the revocations this
	// node knows, to pass on, within a hello's bounds
	// (syncproto.FitNotices).
	RevocationNotices(ctx context.Context) ([][]byte, error)
	// GrantNotices are the signed grants of data keys this node keeps, to
	// pass on, within a hello's bounds (syncproto.FitGrants).
	GrantNotices(ctx context.Context) ([][]byte, error)
	// KitNotices are headquarters' signed decisions publishing the kits
	// this node keeps, to pass on, within a hello's bounds
	// (syncproto.FitKits).
	KitNotices(ctx context.Context) ([][]byte, error)
}

// Trust is what a session needs to vouch for origins.
type Trust interface {
	// Certs returns the DER certificates of these nodes, those it has.
	Certs(ctx context.Context, nodes []syncproto.NodeID) ([][]byte, error)
	// AddCerts checks certificates a peer sent and remembers the good ones;
	// it returns an error for any that does not verify.
	AddCerts(ctx context.Context, ders [][]byte) error
	// AddReceipts checks receipts a peer sent (signed by headquarters,
	// naming the chain heads this node holds) and keeps the good ones. It
	// returns how many it kept; a receipt that does not check is left out
	// and logged, it does not end the session.
	AddReceipts(ctx context.Context, r *syncproto.Receipts) (int, error)
	// AddRevocations checks the revocation notices a peer passed on (each
	// signed by headquarters, checked as one that gossip brings) and
	// applies those that check; it returns the nodes it learnt
	// headquarters revoked. A notice that does not check is left out and
	// logged, it does not end the session; the work is bounded whatever
	// the list holds.
	AddRevocations(ctx context.Context, notices [][]byte) ([]syncproto.NodeID, error)
	// AddGrants checks the grants of data keys a peer passed on (each
	// signed by headquarters), keeps those newer than its own and opens
	// those made for this node; it returns how many it kept. A grant that
	// does not check is left out and logged, it does not end the session.
	AddGrants(ctx context.Context, grants [][]byte) (int, error)
	// AddKits checks the kits a peer passed on (headquarters' signed
	// decisions) and takes those newer than this node's; it returns how
	// many it took. One that does not check is left out and logged.
	AddKits(ctx context.Context, kits [][]byte) (int, error)
}

// Config is a session's side: who this node is and how it behaves.
//
// A session's budgets bound what one peer can make this node do, whatever
// it sends: Idle and MaxDuration in time, MaxFrames in frames, and in
// memory the protocol's window (syncproto.Window batches, WindowBytes of
// them once decompressed, received and not yet acknowledged) and one frame
// being read (syncproto.MaxFrame).
type Config struct {
	Hello syncproto.Hello // Node, Name, Role, District, Kits; the vectors are filled in
	Store Store
	Trust Trust
	Log   *slog.Logger
	// BatchChanges is how many changes one batch carries at most; the
	// store bounds a batch in bytes too.
	BatchChanges int
	// Idle ends a session when nothing moves for this long: the peer
	// neither sends anything nor takes what this node sends, or this node
	// is stuck. A peer that only takes (a relay receiving photos) is not
	// idle.
	Idle time.Duration
	// MaxDuration ends a session that has lasted this long, and MaxFrames
	// one that has received this many frames: a peer that keeps a session
	// alive with a frame now and then does not keep it for ever. What was
	// stored stays; the next session goes on from there.
	MaxDuration time.Duration
	MaxFrames   int
	// Offer says which streams the peer may be sent, and Take which this
	// node stores from it (syncproto.Passes); nil is every stream. A
	// batch that brings a stream this node does not take ends the
	// session: a peer that honours the same scopes never sends one.
	Offer, Take func(syncproto.Stream) bool
	// Photos are the node's photos, which a session of protocol version 6
	// or later exchanges after the records (photos.go); nil asks for none
	// and sends none.
	Photos Photos
	// Peer is who the peer is, as its certificate names it: a field
	// laptop is sent the receipts of its own streams, whatever its hello
	// claims. Left zero, the hello's node and role are taken.
	Peer syncproto.Reach
}

// Budgets a Config leaves zero get.
const (
	DefaultIdle        = 60 * time.Second
	DefaultMaxDuration = 30 * time.Minute
	DefaultMaxFrames   = 1 << 16
)

// withDefaults fills in what Config leaves zero.
func (c Config) withDefaults() Config {
	if c.BatchChanges <= 0 {
		c.BatchChanges = 1000
	}
	if c.Idle <= 0 {
		c.Idle = DefaultIdle
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = DefaultMaxDuration
	}
	if c.MaxFrames <= 0 {
		c.MaxFrames = DefaultMaxFrames
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Result says what a session did.
type Result struct {
	Peer       syncproto.Hello // the peer's hello
	Sent       int             // changes sent and acknowledged
	Received   int             // changes received and stored (new)
	Duplicates int             // changes received that were here already
	Held       int             // changes of ours the peer holds for its clock
	PeerHeld   int             // changes of the peer's this node holds
	Receipts   int             // headquarters' receipts taken from the peer
	// Revocations counts the nodes this node learnt headquarters revoked
	// from the peer's hello.
	Revocations int
	// Grants counts the grants of data keys taken from the peer's hello
	// that were newer than this node's.
	Grants int
	// Kits counts the kits headquarters published taken from the peer's
	// hello, newer than this node's.
	Kits int
	// Skipped counts the streams not offered in full: the peer holds
	// their next changes aside (what follows them is offered), or they
	// cannot be passed on from here.
	Skipped  int
	BytesIn  int64
	BytesOut int64
	// Equal: both sides ended holding the same changes.
	Equal bool
	// Snapshot counts the changes a snapshot brought before the session
	// (node.Sync, on a node that held nothing of anyone else's); Received
	// counts them too.
	Snapshot int
	// PhotosReceived counts the kinds of photos (a thumbnail, a full
	// image) that came whole and were kept, PhotosSent those sent whole;
	// PhotosRefused those this node gave up (its disk, its budget).
	// PhotoBytesIn are the photo bytes received, in chunks kept.
	PhotosReceived int
	PhotosSent     int
	PhotosRefused  int
	PhotoBytesIn   int64
	// PhotosConfirmed counts the full images headquarters' signed word,
	// from the peer, confirmed here (protocol version 7).
	PhotosConfirmed int
}

// Run runs one session over conn and returns when both sides are done, the
// context ends, a budget is spent, or anything fails. A net.Conn gets read
// and write deadlines from Config.Idle, and is unblocked when the session
// ends; over another stream, a read the peer never answers is left blocked
// until the caller closes it, though Run returns.
func Run(ctx context.Context, conn io.ReadWriter, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	s := &session{cfg: cfg, conn: conn, parent: ctx, ctrl: make(chan frame, syncproto.Window+8), data: make(chan frame), stop: make(chan struct{}),
		out: map[uint64]outBatch{}, freed: make(chan struct{}, 1), sentFull: map[syncproto.Hash]bool{}}
	if nc, ok := conn.(net.Conn); ok {
		s.nc = nc
	}
	return s.run(ctx)
}

type frame struct {
	t   syncproto.MsgType
	msg any
}

// outBatch is a batch sent and not acknowledged yet.
type outBatch struct {
	changes int
	size    int64            // decompressed
	own     syncproto.Vector // the last of this node's own changes it carries, per stream
	ownFrom syncproto.Vector // and the first
}

type session struct {
	cfg    Config
	conn   io.ReadWriter
	nc     net.Conn
	parent context.Context
	cancel context.CancelCauseFunc
	res    Result

	// The writer takes control frames (hello, certs, acks, done) before
	// batches, so that an acknowledgement never waits behind a batch the
	// peer is slow to read: neither side can stall the other's sender.
	// Acks in flight number at most the window, so ctrl never fills while
	// the writer writes.
	ctrl chan frame
	data chan frame
	stop chan struct{}

	wmu  sync.Mutex // serialises frames on the wire
	torn bool       // a write failed, perhaps inside a frame: guarded by wmu
	// dlmu orders the connection's deadlines: once aborted, no read or
	// write sets one of its own (see abort).
	dlmu      sync.Mutex
	aborted   bool
	closeOnce sync.Once
	moved     atomic.Int64 // when a frame was last read or written, Unix nanoseconds
	frames    int          // frames read, by the reader alone

	mu       sync.Mutex // guards res, bytesOut and the windows
	bytesOut int64
	// The window of what this node sent: batches not acknowledged yet, by
	// number. The loop takes them off as acks come and wakes the sender
	// through freed.
	out      map[uint64]outBatch
	outBytes int64
	// ackedOwn is, per stream of this node's own, the last change the
	// peer acknowledged holding. Of a field laptop, only acknowledgements
	// that follow on from sentOwn count: what a peer was known to hold
	// before the session, or this one acknowledged since.
	ackedOwn syncproto.Vector
	sentOwn  syncproto.Vector // nil: every acknowledgement counts
	freed    chan struct{}
	// The window of what the peer sent: batches read and not acknowledged
	// yet. The reader counts them in, the loop out as it queues their acks.
	inBatches int
	inBytes   int64
	lastIn    uint64 // the number of the peer's last batch

	// The photos this node asked for, and the full images of them kept,
	// by the loop alone; the full images sent whole, under mu.
	asked    map[wantKey]*photoWant
	keptFull []syncproto.Hash
	sentFull map[syncproto.Hash]bool
	// The full images this node asked headquarters' word on, and those
	// the peer asked about, by the loop alone.
	confirmAsked map[syncproto.Hash]bool
	peerConfirm  []syncproto.Hash

	// The origins of the peer's streams whose changes do not link to the
	// chains held here, left out of the rest of the session, by the loop
	// alone.
	refused map[syncproto.NodeID]bool
}

func (s *session) run(parent context.Context) (Result, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	s.cancel = cancel
	ctx, stopBudget := context.WithTimeoutCause(ctx, s.cfg.MaxDuration, &syncproto.ProtocolError{Code: syncproto.CodeBudget,
		Msg: fmt.Sprintf("the session lasted its whole budget of %v; the next one goes on", s.cfg.MaxDuration)})
	defer stopBudget()
	// However the session ends (its budget, the node stopping), reads and
	// writes blocked on the peer return.
	stopAbort := context.AfterFunc(ctx, func() { s.abort(context.Cause(ctx)) })
	defer stopAbort()
	s.touch()
	go s.watchIdle(ctx)

	local, err := s.cfg.Store.Vector(ctx)
	if err != nil {
		return s.res, err
	}
	hello := s.cfg.Hello
	hello.Protocol, hello.MinVersion, hello.MaxVersion = syncproto.ProtocolName, syncproto.MinVersion, syncproto.MaxVersion
	hello.Vector, hello.Time = local, time.Now().UnixMilli()
	if hello.Ledger, err = s.cfg.Store.ReceiptVector(ctx); err != nil {
		return s.res, err
	}
	if hello.Held, err = s.cfg.Store.HeldAside(ctx); err != nil {
		return s.res, err
	}
	if hello.Revocations, err = s.cfg.Store.RevocationNotices(ctx); err != nil {
		return s.res, err
	}
	if hello.Grants, err = s.cfg.Store.GrantNotices(ctx); err != nil {
		return s.res, err
	}
	if hello.Published, err = s.cfg.Store.KitNotices(ctx); err != nil {
		return s.res, err
	}

	var wg sync.WaitGroup
	writeErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		writeErr <- s.writeLoop(ctx)
	}()
	s.send(ctx, s.ctrl, syncproto.MsgHello, &hello)

	r := syncproto.NewFrameReader(s.conn)
	peer, err := s.readHello(r, hello)
	if err != nil {
		return s.fail(ctx, &wg, err)
	}
	s.mu.Lock()
	s.res.Peer = *peer
	s.mu.Unlock()
	version, _ := syncproto.Negotiate(hello, *peer) // readHello checked it
	photos := version >= syncproto.PhotoVersion
	if s.cfg.Photos != nil {
		defer s.cfg.Photos.Release()
	}
	// The revocations the peer knows apply before anything it sends is
	// stored: a revoked node's changes in this very session, whoever
	// brings them, are refused by them.
	if err := s.learnRevocations(ctx, peer); err != nil {
		return s.fail(ctx, &wg, err)
	}
	if len(peer.Grants) > 0 {
		kept, err := s.cfg.Trust.AddGrants(ctx, peer.Grants)
		if err != nil {
			return s.fail(ctx, &wg, err)
		}
		s.mu.Lock()
		s.res.Grants = kept
		s.mu.Unlock()
	}
	// Kits before records: a record of a kit version this node lacks
	// would wait aside for it.
	if len(peer.Published) > 0 {
		taken, err := s.cfg.Trust.AddKits(ctx, peer.Published)
		if err != nil {
			return s.fail(ctx, &wg, err)
		}
		s.mu.Lock()
		s.res.Kits = taken
		s.mu.Unlock()
	}
	// What the peer holds of the streams this node holds: a peer's vector,
	// however long, makes this node work only on its own streams. Of the
	// changes this node wrote, a field laptop's word is not taken for
	// their being sent, only what it acknowledges as the session ends: a
	// modified laptop saying it holds them all would have them shown as
	// sent when no peer holds them. It is sent none of them, which harms
	// no one but itself. A relay's or headquarters' word, which its
	// certificate gives, is taken, as their sessions cut short hold
	// changes they had no time to acknowledge.
	who := peer.Role
	if !s.cfg.Peer.Node.IsZero() {
		who = s.cfg.Peer.Role
	}
	self := s.cfg.Hello.Node
	mine := make(syncproto.Vector, len(local))
	marked := make(syncproto.Vector, len(local))
	for st := range local {
		if seq := peer.Vector[st]; seq > 0 {
			mine[st] = seq
			if st.Origin != self || !who.Field() {
				marked[st] = seq
			}
		}
	}
	if err := s.cfg.Store.MarkSent(ctx, marked); err != nil {
		return s.fail(ctx, &wg, err)
	}
	if who.Field() {
		// A laptop that says it holds all but the last of this node's
		// changes, or holds them aside, is sent the last alone; its
		// acknowledgement of it says nothing of those before.
		sent, err := s.cfg.Store.Sent(ctx)
		if err != nil {
			return s.fail(ctx, &wg, err)
		}
		s.mu.Lock()
		s.sentOwn = sent
		s.mu.Unlock()
	}
	defer func() {
		// However the session ended, what the peer acknowledged it holds.
		s.mu.Lock()
		acked := s.ackedOwn
		s.mu.Unlock()
		if len(acked) > 0 {
			if err := s.cfg.Store.MarkSent(context.WithoutCancel(ctx), acked); err != nil {
				s.cfg.Log.Warn("sync: what the peer acknowledged is not marked sent", "peer", peer.Name, "err", err)
			}
		}
	}()

	senderDone := make(chan error, 1)
	go func() { senderDone <- s.sendAll(ctx, peer, local, mine) }()
	type received struct {
		t       syncproto.MsgType
		msg     any
		changes []store.Incoming // a batch's, decoded
		prio    uint8            // its changes' one priority (see priority)
		err     error
	}
	// The reader decodes frames, and a batch's changes, as they come: the
	// decoding of one batch overlaps the storing of the one before, and
	// acknowledgements reach the sender while a batch is being stored.
	// It reads ahead as far as the window: a batch past it is refused at
	// once, whatever the loop is busy with.
	// A message that comes once is refused again as it is read, as a
	// batch past the window is: what the reader holds while the loop is
	// busy is at most one of each, not copies of 8 MiB.
	msgs := make(chan received, syncproto.Window)
	go func() {
		read := map[syncproto.MsgType]bool{syncproto.MsgHello: true}
		for {
			t, body, err := s.readFrame(r)
			var msg any
			var changes []store.Incoming
			var prio uint8
			if err == nil && onceOnly[t] && read[t] {
				err = unexpected("a second %s", t)
				s.abort(err)
			} else if err == nil {
				read[t] = true
				if msg, err = syncproto.Decode(t, body); err != nil {
					err = &syncproto.ProtocolError{Code: syncproto.CodeMalformed, Msg: err.Error()}
				} else if b, ok := msg.(*syncproto.Batch); ok {
					if err = s.admit(b); err != nil {
						s.abort(err) // at once, even while the loop stores
					} else {
						if changes, err = incoming(b); err != nil {
							err = &syncproto.ProtocolError{Code: syncproto.CodeMalformed, Msg: err.Error(), Err: err}
						} else if err = s.inScope(b.Seq, changes); err != nil {
							s.abort(err)
						}
						prio = priority(changes)
						b.Payload = nil // decompressed into changes; not held twice
					}
				}
			}
			// Queued while there is room even once the session is
			// ending: a photo chunk read whole is kept (keepArrived).
			in := received{t, msg, changes, prio, err}
			select {
			case msgs <- in:
			default:
				select {
				case msgs <- in:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()

	peerDone, sentDone := false, false
	var certs, receipts bool
	// Photos, in version 6: each side asks once it holds every record the
	// session brings (both dones), and answers what the peer asked.
	var wantsSent, peerWants, photosSent, peerPhotoDone, peerKept bool
	var photoSender chan error // nil until the peer asks
	finished := func() bool {
		return peerDone && sentDone && (!photos || wantsSent && photosSent && peerPhotoDone && peerKept)
	}
	// PhotoKept follows the peer's PhotoDone, once every chunk before it
	// is kept, and its PhotoWants, which says what the peer would have
	// headquarters' word on: the peer may answer this node's wants (and
	// send its done) before it sends its own.
	keptSent := false
	sendKept := func() error {
		if keptSent || !peerPhotoDone || !peerWants {
			return nil
		}
		kept, err := s.photoKept(ctx)
		if err != nil {
			return err
		}
		keptSent = true
		s.send(ctx, s.ctrl, syncproto.MsgPhotoKept, kept)
		return nil
	}
	var ahead []received // read while gathering batches, not handled yet
	// keepArrived keeps the photo chunks already read when the session
	// ends on this side's account (its write failing, its budget, the
	// node stopping): a link cut fails the write and the read at once,
	// and a chunk that came whole before it is not asked for again. It
	// waits a little for the reader's last frame, which an abort ends.
	keepArrived := func() {
		if !wantsSent || peerPhotoDone {
			return
		}
		keep := context.WithoutCancel(ctx)
		grace := time.NewTimer(arrivedWait)
		defer grace.Stop()
		for {
			var in received
			if len(ahead) > 0 {
				in, ahead = ahead[0], ahead[1:]
			} else {
				select {
				case in = <-msgs:
				case <-grace.C:
					return
				}
			}
			if in.err != nil {
				return
			}
			if c, ok := in.msg.(*syncproto.PhotoChunk); ok && s.takeChunk(keep, c) != nil {
				return
			}
		}
	}
	for !finished() {
		if photos && peerDone && sentDone && !wantsSent {
			if err := s.askPhotos(ctx, version); err != nil {
				return s.fail(ctx, &wg, err)
			}
			wantsSent = true
			continue
		}
		var in received
		if len(ahead) > 0 {
			in, ahead = ahead[0], ahead[1:]
		} else {
			select {
			case err := <-senderDone:
				if err != nil {
					keepArrived()
					return s.fail(ctx, &wg, err)
				}
				sentDone = true
				continue
			case err := <-photoSender:
				if err != nil {
					keepArrived()
					return s.fail(ctx, &wg, err)
				}
				photosSent, photoSender = true, nil
				continue
			case in = <-msgs:
			case <-ctx.Done():
				keepArrived()
				return s.fail(ctx, &wg, context.Cause(ctx))
			}
		}
		if in.err != nil {
			if peerDone && (!photos || peerKept) && (errors.Is(in.err, io.EOF) || errors.Is(in.err, io.ErrUnexpectedEOF) || errors.Is(in.err, net.ErrClosed)) {
				// The peer said done and hung up: an honest one had our
				// done too, so our senders have finished or are about to.
				for !finished() {
					var records chan error
					if !sentDone {
						records = senderDone
					}
					if records == nil && photoSender == nil {
						break // nothing more will come: not finished
					}
					select {
					case err := <-records:
						if err != nil {
							return s.fail(ctx, &wg, err)
						}
						sentDone = true
					case err := <-photoSender:
						if err != nil {
							return s.fail(ctx, &wg, err)
						}
						photosSent, photoSender = true, nil
					case <-ctx.Done():
						return s.fail(ctx, &wg, context.Cause(ctx))
					case <-time.After(s.cfg.Idle):
						return s.fail(ctx, &wg, in.err)
					}
				}
				if finished() {
					continue
				}
			}
			return s.fail(ctx, &wg, in.err)
		}
		// Each of certs, receipts and done comes once: repeated, it would
		// be work (checking certificates, receipts) the peer could ask for
		// without end.
		once := func(seen *bool) error {
			if *seen {
				return unexpected("a second %s", in.t)
			}
			*seen = true
			return nil
		}
		switch m := in.msg.(type) {
		case *syncproto.Certs:
			if err := once(&certs); err != nil {
				return s.fail(ctx, &wg, err)
			}
			if err := s.cfg.Trust.AddCerts(ctx, m.Certs); err != nil {
				return s.fail(ctx, &wg, &syncproto.ProtocolError{Code: syncproto.CodeNotEnrolled, Msg: err.Error()})
			}
		case *syncproto.Receipts:
			if err := once(&receipts); err != nil {
				return s.fail(ctx, &wg, err)
			}
			n, err := s.cfg.Trust.AddReceipts(ctx, m)
			if err != nil {
				return s.fail(ctx, &wg, err)
			}
			s.mu.Lock()
			s.res.Receipts += n
			s.mu.Unlock()
		case *syncproto.Batch:
			if peerDone {
				return s.fail(ctx, &wg, unexpected("a batch after done"))
			}
			// Batches that have already arrived are stored together: one
			// commit for all of them on a fast link, one each on a slow one.
			// Only batches of one and the same priority: life-safety
			// changes are stored, and seen, before the bulk that follows
			// them, not with it.
			group := []*syncproto.Batch{m}
			changes := [][]store.Incoming{in.changes}
		gather:
			for len(ahead) == 0 && len(group) < maxGroup {
				select {
				case more := <-msgs:
					if b, ok := more.msg.(*syncproto.Batch); ok && more.err == nil && more.prio != 0 && more.prio == in.prio {
						group = append(group, b)
						changes = append(changes, more.changes)
						continue
					}
					ahead = append(ahead, more)
					break gather
				default:
					break gather
				}
			}
			acks, err := s.receive(ctx, group, changes)
			if err != nil {
				return s.fail(ctx, &wg, err)
			}
			for i := range acks {
				// Out of the window before the ack can reach the peer,
				// which may then send the next batch at once.
				s.acknowledged(group[i])
				s.send(ctx, s.ctrl, syncproto.MsgAck, &acks[i])
			}
		case *syncproto.Ack:
			if err := s.acked(m); err != nil {
				return s.fail(ctx, &wg, err)
			}
		case *syncproto.Done:
			if err := once(&peerDone); err != nil {
				return s.fail(ctx, &wg, err)
			}
		case *syncproto.PhotoWants:
			if !photos || !peerDone {
				return s.fail(ctx, &wg, unexpected("photo wants before done, or in a session of version %d", version))
			}
			if err := once(&peerWants); err != nil {
				return s.fail(ctx, &wg, err)
			}
			if version >= syncproto.ConfirmVersion {
				s.peerConfirm = m.Confirm
			}
			photoSender = make(chan error, 1)
			go func(wants []syncproto.PhotoWant) { photoSender <- s.sendPhotos(ctx, wants) }(m.Wants)
			if err := sendKept(); err != nil {
				return s.fail(ctx, &wg, err)
			}
		case *syncproto.PhotoChunk:
			if !wantsSent || peerPhotoDone {
				return s.fail(ctx, &wg, unexpected("a photo chunk before this node asked for photos, or after the peer's photo done"))
			}
			if err := s.takeChunk(ctx, m); err != nil {
				return s.fail(ctx, &wg, err)
			}
		case *syncproto.PhotoDone:
			if !wantsSent {
				return s.fail(ctx, &wg, unexpected("photo done before this node asked for photos"))
			}
			if err := once(&peerPhotoDone); err != nil {
				return s.fail(ctx, &wg, err)
			}
			if err := sendKept(); err != nil {
				return s.fail(ctx, &wg, err)
			}
		case *syncproto.PhotoKept:
			if !peerWants {
				return s.fail(ctx, &wg, unexpected("photo kept before the peer asked for photos"))
			}
			if err := once(&peerKept); err != nil {
				return s.fail(ctx, &wg, err)
			}
			if err := s.peerConfirmed(ctx, m); err != nil {
				return s.fail(ctx, &wg, err)
			}
			if err := s.peerKept(ctx, m); err != nil {
				return s.fail(ctx, &wg, err)
			}
		case *syncproto.Error:
			return s.fail(ctx, &wg, &syncproto.ProtocolError{Code: m.Code, Msg: m.Message, Remote: true})
		default:
			return s.fail(ctx, &wg, unexpected("a %s after hello", in.t))
		}
	}
	// Both sides are done: let the writer flush, then stop it.
	s.closeOut()
	wg.Wait()
	if err := <-writeErr; err != nil {
		return s.result(), err
	}
	final, err := s.cfg.Store.Vector(ctx)
	if err != nil {
		return s.result(), err
	}
	res := s.result()
	res.Equal = final.Covers(peer.Vector.Only(s.takes)) && res.Held == 0 && res.PeerHeld == 0 && res.Skipped == 0
	if res.Equal {
		// The peer acknowledged everything it lacked: it holds what we do,
		// of what it keeps; of this node's own changes, by its word alone
		// where it is a field laptop, which is not taken.
		held := final.Only(s.offers)
		if who.Field() {
			maps.DeleteFunc(held, func(st syncproto.Stream, _ uint64) bool { return st.Origin == self })
		}
		if err := s.cfg.Store.MarkSent(ctx, held); err != nil {
			return res, err
		}
	}
	return res, nil
}

// onceOnly are the messages a peer sends once in a session.
var onceOnly = map[syncproto.MsgType]bool{
	syncproto.MsgHello: true, syncproto.MsgCerts: true, syncproto.MsgReceipts: true, syncproto.MsgDone: true,
	syncproto.MsgPhotoWants: true, syncproto.MsgPhotoDone: true, syncproto.MsgPhotoKept: true,
}

func unexpected(format string, args ...any) error {
	return &syncproto.ProtocolError{Code: syncproto.CodeUnexpected, Msg: fmt.Sprintf(format, args...)}
}

// result copies the counts so far.
func (s *session) result() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.res
	r.BytesOut = s.bytesOut
	return r
}

// fail stops the session, tells the peer why (unless the peer said it, the
// connection is gone, or the node is stopping) and returns err.
func (s *session) fail(ctx context.Context, wg *sync.WaitGroup, err error) (Result, error) {
	if ctx.Err() != nil {
		// Whatever a step failed with, the session ended for the reason it
		// was ended with first.
		err = context.Cause(ctx)
	}
	var pe *syncproto.ProtocolError
	if !errors.As(err, &pe) {
		code := syncproto.CodeInternal
		switch {
		case errors.Is(err, store.ErrChain):
			code = syncproto.CodeBadChain
		case errors.Is(err, store.ErrGap):
			code = syncproto.CodeGap
		case errors.Is(err, syncproto.ErrMalformed), errors.Is(err, syncproto.ErrTooLarge):
			code = syncproto.CodeMalformed
		case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
			code = syncproto.CodeTimeout
		}
		pe = &syncproto.ProtocolError{Code: code, Msg: err.Error(), Err: err}
	}
	// Stop everything first: the reader and the writer return, and the
	// farewell then has the connection to itself.
	s.abort(pe)
	s.closeOut()
	wg.Wait()
	if !pe.Remote && s.parent.Err() == nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
		s.farewell(pe)
	}
	res := s.result()
	s.cfg.Log.Warn("sync session failed", "peer", res.Peer.Node.String(), "name", res.Peer.Name, "err", pe)
	return res, pe
}

// abort ends the session with cause: a read blocked on the peer returns
// at once, a write in progress within farewellWait (so that, the peer
// reading, it ends its frame and the farewell can follow), and none starts.
func (s *session) abort(cause error) {
	s.cancel(cause)
	s.dlmu.Lock()
	defer s.dlmu.Unlock()
	if s.nc != nil && !s.aborted {
		s.nc.SetReadDeadline(time.Unix(1, 0))
		s.nc.SetWriteDeadline(time.Now().Add(min(farewellWait, s.cfg.Idle)))
	}
	s.aborted = true
}

// arrivedWait bounds how long a session ending on its own account waits
// for the frame its reader was reading (keepArrived).
const arrivedWait = 500 * time.Millisecond

// farewellWait bounds the write of the error that ends a session: the
// peer may be the problem.
const farewellWait = 2 * time.Second

// farewell tells the peer why the session ends, briefly, once the session
// is aborted.
func (s *session) farewell(pe *syncproto.ProtocolError) {
	msg := pe.Msg
	if len(msg) > syncproto.MaxMessageLen {
		msg = msg[:syncproto.MaxMessageLen]
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.torn {
		return // the peer would read it as the rest of a frame
	}
	if s.nc != nil {
		s.dlmu.Lock()
		defer s.dlmu.Unlock()
		s.nc.SetWriteDeadline(time.Now().Add(min(farewellWait, s.cfg.Idle)))
		defer s.nc.SetDeadline(time.Unix(1, 0))
	}
	syncproto.WriteFrame(s.conn, syncproto.MsgError, &syncproto.Error{Code: pe.Code, Message: msg})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// touch notes that a frame moved, for watchIdle.
func (s *session) touch() { s.moved.Store(time.Now().UnixNano()) }

// watchIdle ends the session when no frame has moved, either way, for
// Idle: whatever a step of the session waits on, it waits no longer. The
// read and write deadlines end a peer's silence; this ends the rest.
func (s *session) watchIdle(ctx context.Context) {
	t := time.NewTimer(s.cfg.Idle)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if since := time.Since(time.Unix(0, s.moved.Load())); since < s.cfg.Idle {
				t.Reset(s.cfg.Idle - since)
				continue
			}
			s.abort(&syncproto.ProtocolError{Code: syncproto.CodeTimeout, Msg: fmt.Sprintf("no frame moved either way for %v", s.cfg.Idle)})
			return
		}
	}
}

func (s *session) readHello(r *syncproto.FrameReader, local syncproto.Hello) (*syncproto.Hello, error) {
	t, body, err := s.readFrame(r)
	if err != nil {
		return nil, err
	}
	if t != syncproto.MsgHello {
		if t == syncproto.MsgError {
			if m, err := syncproto.Decode(t, body); err == nil {
				e := m.(*syncproto.Error)
				return nil, &syncproto.ProtocolError{Code: e.Code, Msg: e.Message, Remote: true}
			}
		}
		return nil, &syncproto.ProtocolError{Code: syncproto.CodeNotLifeline, Msg: fmt.Sprintf("the first message is a %s, not a hello", t)}
	}
	msg, err := syncproto.Decode(t, body)
	if err != nil {
		var pe *syncproto.ProtocolError
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &syncproto.ProtocolError{Code: syncproto.CodeMalformed, Msg: err.Error()}
	}
	peer := msg.(*syncproto.Hello)
	if _, err := syncproto.Negotiate(local, *peer); err != nil {
		return nil, err
	}
	return peer, nil
}

// learnRevocations applies the revocations of the peer's hello. A peer
// whose own revocation it carries is refused.
func (s *session) learnRevocations(ctx context.Context, peer *syncproto.Hello) error {
	if len(peer.Revocations) == 0 {
		return nil
	}
	learnt, err := s.cfg.Trust.AddRevocations(ctx, peer.Revocations)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.res.Revocations = len(learnt)
	s.mu.Unlock()
	if slices.Contains(learnt, peer.Node) {
		return &syncproto.ProtocolError{Code: syncproto.CodeRevoked, Msg: "the peer's hello carries its own revocation by headquarters"}
	}
	return nil
}

// readFrame reads one frame within the idle deadline, and within the
// session's frame budget.
func (s *session) readFrame(r *syncproto.FrameReader) (syncproto.MsgType, []byte, error) {
	if s.frames >= s.cfg.MaxFrames {
		return 0, nil, &syncproto.ProtocolError{Code: syncproto.CodeBudget,
			Msg: fmt.Sprintf("the peer sent %d frames, a session's budget; the next one goes on", s.frames)}
	}
	s.dlmu.Lock()
	aborted := s.aborted
	if s.nc != nil && !aborted {
		s.nc.SetReadDeadline(time.Now().Add(s.cfg.Idle))
	}
	s.dlmu.Unlock()
	if aborted {
		return 0, nil, net.ErrClosed
	}
	t, body, err := r.Read()
	if err == nil {
		s.frames++
		s.touch()
		s.mu.Lock()
		s.res.BytesIn = r.Offset()
		s.mu.Unlock()
	} else if isTimeout(err) {
		err = &syncproto.ProtocolError{Code: syncproto.CodeTimeout, Msg: fmt.Sprintf("the peer sent nothing for %v", s.cfg.Idle)}
	}
	return t, body, err
}

// admit counts a batch the peer sent into its window, and refuses one past
// it: a sender keeps at most Window batches, and WindowBytes of them,
// unacknowledged.
func (s *session) admit(b *syncproto.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case b.Seq != s.lastIn+1:
		return unexpected("batch %d after batch %d", b.Seq, s.lastIn)
	case s.inBatches >= syncproto.Window:
		return unexpected("batch %d while %d are unacknowledged: the window is %d", b.Seq, s.inBatches, syncproto.Window)
	case s.inBytes+int64(b.Size) > syncproto.WindowBytes:
		return unexpected("batch %d of %d bytes while %d are unacknowledged: the window is %d bytes", b.Seq, b.Size, s.inBytes, syncproto.WindowBytes)
	}
	s.lastIn = b.Seq
	s.inBatches++
	s.inBytes += int64(b.Size)
	return nil
}

// inScope refuses a batch that brings a stream this node does not keep
// from this peer (a district it does not hold): storing it would let any
// peer fill this node with what it must not hold.
func (s *session) inScope(seq uint64, changes []store.Incoming) error {
	if s.cfg.Take == nil {
		return nil
	}
	var last syncproto.Stream
	for i := range changes {
		st := changes[i].Change.Stream()
		if i > 0 && st == last {
			continue
		}
		last = st
		if !s.cfg.Take(st) {
			return &syncproto.ProtocolError{Code: syncproto.CodeScope,
				Msg: fmt.Sprintf("batch %d brings stream %s, of scope %d, which this node does not keep", seq, st, syncproto.LaneScope(st.Lane))}
		}
	}
	return nil
}

// acknowledged takes a batch the peer sent out of its window, as its ack
// is queued.
func (s *session) acknowledged(b *syncproto.Batch) {
	s.mu.Lock()
	s.inBatches--
	s.inBytes -= int64(b.Size)
	s.mu.Unlock()
}

// acked takes a batch this node sent out of its window. An ack of a batch
// not awaiting one (never sent, or acknowledged already) is refused.
func (s *session) acked(a *syncproto.Ack) error {
	s.mu.Lock()
	b, ok := s.out[a.Seq]
	if ok {
		delete(s.out, a.Seq)
		s.outBytes -= b.size
		s.res.Sent += b.changes
		s.res.Held += int(a.Held)
		for st, seq := range b.own {
			if s.sentOwn != nil && b.ownFrom[st] > max(s.sentOwn[st], s.ackedOwn[st])+1 {
				continue // a gap before it the peer was never sent
			}
			if s.ackedOwn == nil {
				s.ackedOwn = syncproto.Vector{}
			}
			s.ackedOwn[st] = max(s.ackedOwn[st], seq)
		}
	}
	s.mu.Unlock()
	if !ok {
		return unexpected("an acknowledgement of batch %d, which awaits none", a.Seq)
	}
	select {
	case s.freed <- struct{}{}:
	default:
	}
	return nil
}

// awaitWindow waits until the window of what this node sent satisfies ok.
func (s *session) awaitWindow(ctx context.Context, ok func() bool) error {
	for {
		s.mu.Lock()
		yes := ok()
		s.mu.Unlock()
		if yes {
			return nil
		}
		select {
		case <-s.freed:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// send queues a frame for the writer on ch.
func (s *session) send(ctx context.Context, ch chan frame, t syncproto.MsgType, msg any) {
	select {
	case ch <- frame{t, msg}:
	case <-ctx.Done():
	}
}

// closeOut tells the writer to write what is queued and stop.
func (s *session) closeOut() { s.closeOnce.Do(func() { close(s.stop) }) }

// writeLoop writes queued frames, control frames first, until closeOut;
// then it writes what is still queued and returns. A write that fails ends
// the session.
func (s *session) writeLoop(ctx context.Context) error {
	var first error
	write := func(f frame) {
		if first != nil {
			return
		}
		if err := s.writeDirect(f.t, f.msg); err != nil && ctx.Err() == nil {
			first = err
			s.abort(err)
		}
	}
	for {
		select {
		case f := <-s.ctrl:
			write(f)
			continue
		default:
		}
		select {
		case f := <-s.ctrl:
			write(f)
		case f := <-s.data:
			write(f)
		case <-s.stop:
			for {
				select {
				case f := <-s.ctrl:
					write(f)
				case f := <-s.data:
					write(f)
				default:
					return first
				}
			}
		}
	}
}

func (s *session) writeDirect(t syncproto.MsgType, msg any) error {
	// One writer at a time; the counters' lock is not held while writing,
	// or a reader updating them would wait on a peer that waits on it.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.dlmu.Lock()
	aborted := s.aborted
	if s.nc != nil && !aborted {
		s.nc.SetWriteDeadline(time.Now().Add(s.cfg.Idle))
	}
	s.dlmu.Unlock()
	if aborted {
		return net.ErrClosed
	}
	n, err := syncproto.WriteFrame(s.conn, t, msg)
	if err == nil {
		s.touch()
		// A peer taking what this node sends is there, though it sends
		// nothing back for a while (a relay receiving photos over a thin
		// link): the read waiting on it waits Idle from now.
		s.dlmu.Lock()
		if s.nc != nil && !s.aborted {
			s.nc.SetReadDeadline(time.Now().Add(s.cfg.Idle))
		}
		s.dlmu.Unlock()
	} else {
		s.torn = true
	}
	s.mu.Lock()
	s.bytesOut += int64(n)
	s.mu.Unlock()
	return err
}

// never, as the sequence a peer is taken to hold, keeps a stream out of
// the rest of the session.
const never = ^uint64(0)

// sendAll sends the receipts, certificates and changes the peer lacks,
// keeping at most a window of batches unacknowledged, then Done. local is
// what this node held at the hello, mine what the peer holds of it.
func (s *session) sendAll(ctx context.Context, hello *syncproto.Hello, local, mine syncproto.Vector) error {
	if err := s.sendReceipts(ctx, hello); err != nil {
		return err
	}
	have := mine.Clone()
	skip := func(st syncproto.Stream, from uint64) {
		have[st] = from
		s.mu.Lock()
		s.res.Skipped++
		s.mu.Unlock()
	}
	var origins []syncproto.NodeID
	seen := map[syncproto.NodeID]bool{}
	for st, seq := range local {
		if !s.offers(st) {
			have[st] = never // outside what the peer holds
			continue
		}
		if aside := hello.Held[st]; aside > have[st] && seq > have[st] {
			// The peer holds its next changes aside until its clock
			// catches up: they are not offered again. What follows them
			// is, once, and the peer holds it behind them.
			skip(st, aside)
		}
		if seq > have[st] && !seen[st.Origin] {
			seen[st.Origin] = true
			origins = append(origins, st.Origin)
		}
	}
	if self := s.cfg.Hello.Node; !seen[self] {
		// The peer gets this node's certificate even when no change of it
		// is due: headquarters hands data keys to the nodes whose
		// certificates it holds, and a laptop enrolled from the CA folder
		// alone encrypts its bundles for the HQ nodes and relays it met.
		origins = append(origins, self)
	}
	if len(origins) > 0 {
		certs, err := s.cfg.Trust.Certs(ctx, origins)
		if err != nil {
			return err
		}
		s.send(ctx, s.ctrl, syncproto.MsgCerts, &syncproto.Certs{Certs: certs})
	}
	var seq uint64
	for {
		// A batch is planned only once the window has room for it, from
		// what the store holds then: a life-safety change stored meanwhile
		// (by the app, or by another session) goes in it, ahead of the
		// bulk not sent yet, whatever was planned before.
		if err := s.awaitWindow(ctx, func() bool { return len(s.out) < syncproto.Window }); err != nil {
			return err
		}
		runs, next, err := s.cfg.Store.Outgoing(ctx, have, s.cfg.BatchChanges)
		if ue := (*store.UnsendableError)(nil); errors.As(err, &ue) {
			s.cfg.Log.Warn("sync: a stream cannot be passed on", "peer", hello.Name, "err", err)
			skip(ue.Stream, never)
			continue
		}
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			break
		}
		if s.withhold(runs, have) || late(runs, have, hello.Vector) {
			continue
		}
		runs, next = onePriority(runs, have, next)
		b, err := syncproto.NewBatch(seq+1, runs)
		if err != nil {
			return err
		}
		size := int64(b.Size)
		if err := s.awaitWindow(ctx, func() bool {
			return len(s.out) < syncproto.Window && s.outBytes+size <= syncproto.WindowBytes
		}); err != nil {
			return err
		}
		seq++
		n := 0
		var own, ownFrom syncproto.Vector
		for _, r := range runs {
			n += len(r.Bodies)
			if r.Stream.Origin == s.cfg.Hello.Node {
				if own == nil {
					own, ownFrom = syncproto.Vector{}, syncproto.Vector{}
				}
				own[r.Stream] = max(own[r.Stream], r.First+uint64(len(r.Bodies))-1)
				if from, ok := ownFrom[r.Stream]; !ok || r.First < from {
					ownFrom[r.Stream] = r.First
				}
			}
		}
		s.mu.Lock()
		s.out[seq] = outBatch{changes: n, size: size, own: own, ownFrom: ownFrom}
		s.outBytes += size
		s.mu.Unlock()
		s.send(ctx, s.data, syncproto.MsgBatch, b)
		have = next
	}
	if err := s.awaitWindow(ctx, func() bool { return len(s.out) == 0 }); err != nil {
		return err
	}
	final, err := s.cfg.Store.Vector(ctx)
	if err != nil {
		return err
	}
	s.send(ctx, s.ctrl, syncproto.MsgDone, &syncproto.Done{Vector: final})
	return nil
}

// onePriority keeps of runs (in sync order) those of the first run's
// priority, and returns them with the vector the peer will then hold
// (after is what it would hold with all of them). A receiver stores
// batches of different priorities apart (see gather in run), so that
// life-safety changes are stored, and seen, before the bulk after them,
// never in one transaction with it.
func onePriority(runs []syncproto.Run, have, after syncproto.Vector) ([]syncproto.Run, syncproto.Vector) {
	p := syncproto.LanePriority(runs[0].Stream.Lane)
	for i, r := range runs {
		if syncproto.LanePriority(r.Stream.Lane) == p {
			continue
		}
		next := have.Clone()
		for _, r := range runs[:i] {
			next[r.Stream] = after[r.Stream]
		}
		return runs[:i], next
	}
	return runs, after
}

// priority is the one sync priority of a batch's changes, 0 when they have
// several (a batch of an older node) or none.
func priority(changes []store.Incoming) uint8 {
	var p uint8
	for i := range changes {
		q := syncproto.LanePriority(changes[i].Change.Lane)
		switch {
		case i == 0:
			p = q
		case q != p:
			return 0
		}
	}
	return p
}

// offers says whether the peer may be sent a stream.
func (s *session) offers(st syncproto.Stream) bool { return s.cfg.Offer == nil || s.cfg.Offer(st) }

// takes says whether this node stores a stream from the peer.
func (s *session) takes(st syncproto.Stream) bool { return s.cfg.Take == nil || s.cfg.Take(st) }

// withhold keeps streams that came to this node after the hello, and that
// the peer does not hold, out of the rest of the session. It reports
// whether there were any, and the runs must be asked again.
func (s *session) withhold(runs []syncproto.Run, have syncproto.Vector) bool {
	again := false
	for _, r := range runs {
		if !s.offers(r.Stream) {
			have[r.Stream] = never
			again = true
		}
	}
	return again
}

// late corrects have for streams that came to this node after the hello
// (perhaps from this very peer): they start where the peer's vector says.
// It reports whether it corrected any, and the runs must be asked again.
func late(runs []syncproto.Run, have, peer syncproto.Vector) bool {
	again := false
	for _, r := range runs {
		if _, known := have[r.Stream]; !known {
			have[r.Stream] = peer[r.Stream]
			again = again || peer[r.Stream] > 0
		}
	}
	return again
}

// sendReceipts sends the peer the receipts it lacks: a field laptop those
// of its own changes, a relay or HQ (which pass them on) all.
func (s *session) sendReceipts(ctx context.Context, peer *syncproto.Hello) error {
	who := syncproto.Reach{Node: peer.Node, Role: peer.Role}
	if !s.cfg.Peer.Node.IsZero() {
		who = s.cfg.Peer
	}
	m, err := receiptsFor(ctx, s.cfg.Store, s.cfg.Trust, who.Node, who.Role.Field(), peer.Ledger)
	if err != nil || m == nil {
		return err
	}
	s.send(ctx, s.ctrl, syncproto.MsgReceipts, m)
	return nil
}

// receiptsFor is the Receipts message of what a peer lacks, nil when it
// lacks none.
func receiptsFor(ctx context.Context, st Store, trust Trust, peer syncproto.NodeID, own bool, beyond syncproto.Vector) (*syncproto.Receipts, error) {
	rs, err := st.Receipts(ctx, peer, own, beyond, syncproto.MaxReceipts)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	m := &syncproto.Receipts{}
	signer := map[syncproto.NodeID]int{} // index in m.Certs, -1 when unknown here
	for _, r := range rs {
		i, ok := signer[r.Signer]
		if !ok {
			i = -1
			if len(m.Certs) < syncproto.MaxReceiptSigners {
				certs, err := trust.Certs(ctx, []syncproto.NodeID{r.Signer})
				if err != nil {
					return nil, err
				}
				if len(certs) > 0 {
					i = len(m.Certs)
					m.Certs = append(m.Certs, certs[0])
				}
			}
			signer[r.Signer] = i
		}
		if i >= 0 {
			m.Receipts = append(m.Receipts, syncproto.Receipt{Stream: r.Stream, Seq: r.Seq, Head: r.Head, Signer: uint16(i), Sig: r.Sig})
		}
	}
	if len(m.Receipts) == 0 {
		return nil, nil
	}
	return m, nil
}

// maxGroup bounds the batches stored in one transaction.
const maxGroup = 4

// maxRefused bounds the origins a session leaves out for a stream that
// does not link to the chains held here, each found by storing the batches
// again without them.
const maxRefused = 16

// receive stores batches' changes in one transaction. The streams of an
// origin one of whose streams does not link to the chain held here are
// left out of the rest of the session, and the others stored without
// them: the origin signed two histories of that stream (a stolen laptop,
// one for each node it met), and the peer holds the other one, or the
// peer forged it. Ending the session instead would have every session
// between two honest nodes that hold the two histories end there, at each
// try, and nothing else pass. An origin, not a stream, so that the origin's
// many lanes cost one try.
func (s *session) receive(ctx context.Context, group []*syncproto.Batch, batches [][]store.Incoming) ([]syncproto.Ack, error) {
	var results []store.ApplyResult
	for {
		for i, b := range batches {
			batches[i] = slices.DeleteFunc(b, func(in store.Incoming) bool { return s.refused[in.Change.Origin] })
		}
		var err error
		results, err = s.cfg.Store.ApplyAll(ctx, func(yield func([]store.Incoming, error) bool) {
			for _, b := range batches {
				if !yield(b, nil) {
					return
				}
			}
		}, false)
		var ce *store.ChainError
		if errors.As(err, &ce) && len(s.refused) < maxRefused {
			if s.refused == nil {
				s.refused = map[syncproto.NodeID]bool{}
			}
			s.refused[ce.Dot.Origin] = true
			peer := s.result().Peer
			s.cfg.Log.Warn("sync: a stream of the peer's does not link to the chain held here; its origin's left out of the session",
				"peer", peer.Node.String(), "name", peer.Name, "stream", ce.Dot.Stream().String(), "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	acks := make([]syncproto.Ack, len(group))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range results {
		s.res.Received += r.Applied
		s.res.Duplicates += r.Duplicates
		s.res.PeerHeld += r.Held
		acks[i] = syncproto.Ack{Seq: group[i].Seq, Applied: uint32(r.Applied), Duplicates: uint32(r.Duplicates), Held: uint32(r.Held)}
	}
	return acks, nil
}
