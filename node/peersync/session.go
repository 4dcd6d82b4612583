package peersync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"sync"
	"time"

	"lifeline/node/store"
	"lifeline/syncproto"
)

// Store is what a session needs of a node's store. Its methods are called
// from the session's goroutines, concurrently.
type Store interface {
	Vector(ctx context.Context) (syncproto.Vector, error)
	Outgoing(ctx context.Context, have syncproto.Vector, max int) ([]syncproto.Run, syncproto.Vector, error)
	// ApplyAll stores batches of changes in one transaction.
	ApplyAll(ctx context.Context, batches iter.Seq2[[]store.Incoming, error], holdGaps bool) ([]store.ApplyResult, error)
	// ReceiptVector is, per stream, the receipt this node holds;
	// Receipts lists those beyond what a peer holds receipts of: of its
	// own streams only when own, else of all, its own first.
	ReceiptVector(ctx context.Context) (syncproto.Vector, error)
	Receipts(ctx context.Context, peer syncproto.NodeID, own bool, beyond syncproto.Vector, max int) ([]store.Receipt, error)
	// MarkSent records what a peer holds.
	MarkSent(ctx context.Context, v syncproto.Vector) error
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
}

// Config is a session's side: who this node is and how it behaves.
type Config struct {
	Hello syncproto.Hello // Node, Name, Role, District, Kits; the vector is filled in
	Store Store
	Trust Trust
	Log   *slog.Logger
	// BatchChanges is about how many changes one batch carries.
	BatchChanges int
	// Window is how many batches may be unacknowledged at once.
	Window int
	// Idle ends a session when the peer sends nothing for this long.
	Idle time.Duration
}

// DefaultConfig returns the defaults for what Config leaves zero.
func (c Config) withDefaults() Config {
	if c.BatchChanges <= 0 {
		c.BatchChanges = 1000
	}
	if c.Window <= 0 {
		c.Window = 4
	}
	if c.Idle <= 0 {
		c.Idle = 60 * time.Second
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
	BytesIn    int64
	BytesOut   int64
	// Equal: both sides ended holding the same changes.
	Equal bool
}

// Run runs one session over conn and returns when both sides are done, the
// context ends, or anything fails. A net.Conn gets read and write deadlines
// from Config.Idle.
func Run(ctx context.Context, conn io.ReadWriter, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	s := &session{cfg: cfg, conn: conn, ctrl: make(chan frame, cfg.Window+8), data: make(chan frame), stop: make(chan struct{}),
		acks: make(chan syncproto.Ack, cfg.Window+4)}
	if nc, ok := conn.(net.Conn); ok {
		s.nc = nc
	}
	return s.run(ctx)
}

type frame struct {
	t   syncproto.MsgType
	msg any
}

type session struct {
	cfg  Config
	conn io.ReadWriter
	nc   net.Conn
	res  Result

	// The writer takes control frames (hello, certs, acks, done) before
	// batches, so that an acknowledgement never waits behind a batch the
	// peer is slow to read: neither side can stall the other's sender.
	// Acks in flight number at most the peer's window, so ctrl never fills.
	ctrl chan frame
	data chan frame
	stop chan struct{}
	acks chan syncproto.Ack // from the reader to the sender

	wmu       sync.Mutex // serialises frames on the wire
	mu        sync.Mutex // guards res and bytesOut
	bytesOut  int64
	closeOnce sync.Once
}

func (s *session) run(ctx context.Context) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if s.nc != nil {
		// Unblock reads and writes when the session ends for any reason.
		stop := context.AfterFunc(ctx, func() { s.nc.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
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
		return s.fail(ctx, cancel, &wg, err)
	}
	s.mu.Lock()
	s.res.Peer = *peer
	s.mu.Unlock()
	if err := s.cfg.Store.MarkSent(ctx, peer.Vector); err != nil {
		return s.fail(ctx, cancel, &wg, err)
	}

	senderDone := make(chan error, 1)
	go func() { senderDone <- s.sendAll(ctx, peer) }()
	type received struct {
		t       syncproto.MsgType
		msg     any
		changes []store.Incoming // a batch's, decoded
		err     error
	}
	// The reader decodes frames, and a batch's changes, as they come: the
	// decoding of one batch overlaps the storing of the one before, and
	// acknowledgements reach the sender while a batch is being stored.
	msgs := make(chan received, 2)
	go func() {
		for {
			t, body, err := s.readFrame(r)
			var msg any
			var changes []store.Incoming
			if err == nil {
				if msg, err = syncproto.Decode(t, body); err != nil {
					err = &syncproto.ProtocolError{Code: syncproto.CodeMalformed, Msg: err.Error()}
				} else if b, ok := msg.(*syncproto.Batch); ok {
					if changes, err = incoming(b); err != nil {
						err = &syncproto.ProtocolError{Code: syncproto.CodeMalformed, Msg: err.Error(), Err: err}
					}
				}
			}
			select {
			case msgs <- received{t, msg, changes, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	peerDone, sentDone := false, false
	var ahead []received // read while gathering batches, not handled yet
	for !(peerDone && sentDone) {
		var in received
		if len(ahead) > 0 {
			in, ahead = ahead[0], ahead[1:]
		} else {
			select {
			case err := <-senderDone:
				if err != nil {
					return s.fail(ctx, cancel, &wg, err)
				}
				sentDone = true
				continue
			case in = <-msgs:
			case <-ctx.Done():
				return s.fail(ctx, cancel, &wg, context.Cause(ctx))
			}
		}
		if in.err != nil {
			if peerDone && (errors.Is(in.err, io.EOF) || errors.Is(in.err, io.ErrUnexpectedEOF) || errors.Is(in.err, net.ErrClosed)) {
				// The peer said done and hung up: an honest one had our
				// done too, so our sender has finished or is about to.
				select {
				case err := <-senderDone:
					if err != nil {
						return s.fail(ctx, cancel, &wg, err)
					}
					sentDone = true
					continue
				case <-time.After(s.cfg.Idle):
					return s.fail(ctx, cancel, &wg, in.err)
				}
			}
			return s.fail(ctx, cancel, &wg, in.err)
		}
		switch m := in.msg.(type) {
		case *syncproto.Certs:
			if err := s.cfg.Trust.AddCerts(ctx, m.Certs); err != nil {
				return s.fail(ctx, cancel, &wg, &syncproto.ProtocolError{Code: syncproto.CodeNotEnrolled, Msg: err.Error()})
			}
		case *syncproto.Receipts:
			n, err := s.cfg.Trust.AddReceipts(ctx, m)
			if err != nil {
				return s.fail(ctx, cancel, &wg, err)
			}
			s.mu.Lock()
			s.res.Receipts += n
			s.mu.Unlock()
		case *syncproto.Batch:
			if peerDone {
				return s.fail(ctx, cancel, &wg, &syncproto.ProtocolError{Code: syncproto.CodeUnexpected, Msg: "a batch after done"})
			}
			// Batches that have already arrived are stored together: one
			// commit for all of them on a fast link, one each on a slow one.
			group := []*syncproto.Batch{m}
			changes := [][]store.Incoming{in.changes}
		gather:
			for len(ahead) == 0 && len(group) < maxGroup {
				select {
				case more := <-msgs:
					if b, ok := more.msg.(*syncproto.Batch); ok && more.err == nil {
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
				return s.fail(ctx, cancel, &wg, err)
			}
			for i := range acks {
				s.send(ctx, s.ctrl, syncproto.MsgAck, &acks[i])
			}
		case *syncproto.Ack:
			select {
			case s.acks <- *m:
			case <-ctx.Done():
			}
		case *syncproto.Done:
			peerDone = true
		case *syncproto.Error:
			return s.fail(ctx, cancel, &wg, &syncproto.ProtocolError{Code: m.Code, Msg: m.Message, Remote: true})
		default:
			return s.fail(ctx, cancel, &wg, &syncproto.ProtocolError{Code: syncproto.CodeUnexpected, Msg: fmt.Sprintf("a %s after hello", in.t)})
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
	res.Equal = final.Covers(peer.Vector) && res.Held == 0 && res.PeerHeld == 0
	if res.Equal {
		// The peer acknowledged everything it lacked: it holds what we do.
		if err := s.cfg.Store.MarkSent(ctx, final); err != nil {
			return res, err
		}
	}
	return res, nil
}

// result copies the counts so far.
func (s *session) result() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.res
	r.BytesOut = s.bytesOut
	return r
}

// fail sends the peer an error saying why (unless the peer sent it), stops
// the session and returns err.
func (s *session) fail(ctx context.Context, cancel context.CancelCauseFunc, wg *sync.WaitGroup, err error) (Result, error) {
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
	if !pe.Remote && ctx.Err() == nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		msg := pe.Msg
		if len(msg) > syncproto.MaxMessageLen {
			msg = msg[:syncproto.MaxMessageLen]
		}
		// Best effort, and briefly: the peer may be the problem.
		s.writeDirect(syncproto.MsgError, &syncproto.Error{Code: pe.Code, Message: msg})
	}
	cancel(err)
	s.closeOut()
	wg.Wait()
	res := s.result()
	s.cfg.Log.Warn("sync session failed", "peer", res.Peer.Node.String(), "name", res.Peer.Name, "err", err)
	return res, pe
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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

// readFrame reads one frame within the idle deadline.
func (s *session) readFrame(r *syncproto.FrameReader) (syncproto.MsgType, []byte, error) {
	if s.nc != nil {
		s.nc.SetReadDeadline(time.Now().Add(s.cfg.Idle))
	}
	t, body, err := r.Read()
	if err == nil {
		s.mu.Lock()
		s.res.BytesIn = r.Offset()
		s.mu.Unlock()
	} else if isTimeout(err) {
		err = &syncproto.ProtocolError{Code: syncproto.CodeTimeout, Msg: fmt.Sprintf("the peer sent nothing for %v", s.cfg.Idle)}
	}
	return t, body, err
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
// then it writes what is still queued and returns.
func (s *session) writeLoop(ctx context.Context) error {
	var first error
	write := func(f frame) {
		if first != nil {
			return
		}
		if err := s.writeDirect(f.t, f.msg); err != nil && ctx.Err() == nil {
			first = err
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
	if s.nc != nil {
		s.nc.SetWriteDeadline(time.Now().Add(s.cfg.Idle))
	}
	n, err := syncproto.WriteFrame(s.conn, t, msg)
	s.mu.Lock()
	s.bytesOut += int64(n)
	s.mu.Unlock()
	return err
}

// sendAll sends the receipts, certificates and changes the peer lacks,
// keeping at most Window batches unacknowledged, then Done.
func (s *session) sendAll(ctx context.Context, hello *syncproto.Hello) error {
	peer := hello.Vector
	if err := s.sendReceipts(ctx, hello); err != nil {
		return err
	}
	local, err := s.cfg.Store.Vector(ctx)
	if err != nil {
		return err
	}
	var origins []syncproto.NodeID
	seen := map[syncproto.NodeID]bool{}
	for st, seq := range local {
		if seq > peer[st] && !seen[st.Origin] {
			seen[st.Origin] = true
			origins = append(origins, st.Origin)
		}
	}
	if len(origins) > 0 {
		certs, err := s.cfg.Trust.Certs(ctx, origins)
		if err != nil {
			return err
		}
		s.send(ctx, s.ctrl, syncproto.MsgCerts, &syncproto.Certs{Certs: certs})
	}
	have := peer.Clone()
	inFlight := map[uint64]int{} // batch number to its changes
	var seq uint64
	for {
		runs, next, err := s.cfg.Store.Outgoing(ctx, have, s.cfg.BatchChanges)
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			break
		}
		for len(inFlight) >= s.cfg.Window {
			if err := s.awaitAck(ctx, inFlight); err != nil {
				return err
			}
		}
		seq++
		b, err := syncproto.NewBatch(seq, runs)
		if err != nil {
			return err
		}
		n := 0
		for _, r := range runs {
			n += len(r.Bodies)
		}
		inFlight[seq] = n
		s.send(ctx, s.data, syncproto.MsgBatch, b)
		have = next
	}
	for len(inFlight) > 0 {
		if err := s.awaitAck(ctx, inFlight); err != nil {
			return err
		}
	}
	final, err := s.cfg.Store.Vector(ctx)
	if err != nil {
		return err
	}
	s.send(ctx, s.ctrl, syncproto.MsgDone, &syncproto.Done{Vector: final})
	return nil
}

// sendReceipts sends the peer the receipts it lacks: a field laptop those
// of its own changes, a relay or HQ (which pass them on) all.
func (s *session) sendReceipts(ctx context.Context, peer *syncproto.Hello) error {
	m, err := receiptsFor(ctx, s.cfg.Store, s.cfg.Trust, peer.Node, peer.Role.Field(), peer.Ledger)
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

func (s *session) awaitAck(ctx context.Context, inFlight map[uint64]int) error {
	select {
	case a := <-s.acks:
		n, ok := inFlight[a.Seq]
		if !ok {
			return &syncproto.ProtocolError{Code: syncproto.CodeUnexpected, Msg: fmt.Sprintf("an ack of batch %d, which is not in flight", a.Seq)}
		}
		delete(inFlight, a.Seq)
		s.mu.Lock()
		s.res.Sent += n
		s.res.Held += int(a.Held)
		s.mu.Unlock()
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// maxGroup bounds the batches stored in one transaction.
const maxGroup = 4

// receive stores batches' changes in one transaction.
func (s *session) receive(ctx context.Context, group []*syncproto.Batch, batches [][]store.Incoming) ([]syncproto.Ack, error) {
	results, err := s.cfg.Store.ApplyAll(ctx, func(yield func([]store.Incoming, error) bool) {
		for _, b := range batches {
			if !yield(b, nil) {
				return
			}
		}
	}, false)
	if err != nil {
		return nil, err
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
