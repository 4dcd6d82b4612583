package ledgerplane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"

	"lifeline/node/identity"
	"lifeline/node/internal/loglimit"
	"lifeline/node/port"
	"lifeline/syncproto"
)

// Raft trusts the server id an RPC claims and the address it dials. Over
// the port, both are bound to the TLS identity of the connection:
//
//   - a server's address in the ledger's configuration is "<node id>@<host:port>",
//     and the dialer refuses a connection whose certificate is not that node's;
//   - incoming connections are served here, not by raft.NetworkTransport: each
//     RPC is decoded, and served only if the id it claims is the TLS peer's
//     and admit (the plane's rule: a voter of the current configuration)
//     lets that peer send it.
//
// Dialling, pipelines and snapshots out are raft.NetworkTransport's.

// serverAddress is a member's address in the ledger's configuration.
func serverAddress(id, addr string) raft.ServerAddress { return raft.ServerAddress(id + "@" + addr) }

// splitAddress reads a member's address: its node id and its port's
// address.
func splitAddress(a raft.ServerAddress) (id, addr string, err error) {
	id, addr, ok := strings.Cut(string(a), "@")
	if !ok || id == "" || addr == "" {
		return "", "", fmt.Errorf("ledger: member address %q is not <node id>@<host:port>", a)
	}
	return id, addr, nil
}

// SplitAddress reads a member's configuration address ("<node
// id>@<host:port>"): the node that must answer, and where.
func SplitAddress(a string) (syncproto.NodeID, string, error) {
	id, addr, err := splitAddress(raft.ServerAddress(a))
	if err != nil {
		return syncproto.NodeID{}, "", err
	}
	node, err := syncproto.ParseNodeID(id)
	return node, addr, err
}

// The RPC numbers of raft.NetworkTransport's wire format.
const (
	rpcAppendEntries uint8 = iota
	rpcRequestVote
	rpcInstallSnapshot
	rpcTimeoutNow
	rpcRequestPreVote
)

// transport is Raft's transport over the node's port.
type transport struct {
	*raft.NetworkTransport
	layer   *Layer
	consume chan raft.RPC
	admit   func(peer identity.Claims) error
	refused *loglimit.Limiter

	mu        sync.Mutex
	heartbeat func(raft.RPC)
	conns     map[net.Conn]bool
	closed    bool
	wg        sync.WaitGroup
	shutdown  chan struct{}
}

func newTransport(layer *Layer, admit func(identity.Claims) error, refused *loglimit.Limiter, hlog hclog.Logger) *transport {
	return &transport{
		NetworkTransport: raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: layer, MaxPool: 3, Timeout: 10 * time.Second, Logger: hlog,
		}),
		layer: layer, consume: make(chan raft.RPC), admit: admit, refused: refused,
		conns: map[net.Conn]bool{}, shutdown: make(chan struct{}),
	}
}

// Consumer is where Raft takes the RPCs this transport served.
func (t *transport) Consumer() <-chan raft.RPC { return t.consume }

// SetHeartbeatHandler is Raft's fast path for heartbeats.
func (t *transport) SetHeartbeatHandler(cb func(raft.RPC)) {
	t.mu.Lock()
	t.heartbeat = cb
	t.mu.Unlock()
}

// Close stops serving, closes the connections served, and closes the
// dialling side.
func (t *transport) Close() error {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.shutdown)
		for c := range t.conns {
			c.Close()
		}
	}
	t.mu.Unlock()
	t.wg.Wait()
	return t.NetworkTransport.Close()
}

// serve takes a connection the port admitted to the Ledger channel and
// serves its RPCs in the background. It reports false when the transport
// is closed (the caller closes the connection).
func (t *transport) serve(conn net.Conn, peer identity.Claims) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.conns[conn] = true
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer func() {
			t.mu.Lock()
			delete(t.conns, conn)
			t.mu.Unlock()
			conn.Close()
		}()
		budget := &io.LimitedReader{R: conn}
		r := bufio.NewReaderSize(budget, 256<<10)
		w := bufio.NewWriter(conn)
		dec := codec.NewDecoder(r, &codec.MsgpackHandle{})
		// Raft's own transport writes times in msgpack's old format unless
		// told otherwise (NetworkTransportConfig.MsgpackUseNewTimeFormat).
		mh := &codec.MsgpackHandle{}
		mh.TimeNotBuiltin = true
		enc := codec.NewEncoder(w, mh)
		for {
			budget.N = maxRPC
			if err := t.handle(r, budget, dec, enc, peer); err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					t.refused.LogAt(slog.LevelWarn, "refused a Raft RPC", "peer", peer.String(), "err", err)
				}
				return
			}
			if err := w.Flush(); err != nil {
				return
			}
		}
	}()
	return true
}

// maxRPC bounds an RPC's bytes (a snapshot's data aside): entries are at
// most ledger.MaxEntryBytes each, and Raft batches a few.
const maxRPC = 128 << 20

// handle reads one RPC, checks it, hands it to Raft and writes Raft's
// answer, as raft.NetworkTransport does. Who sent it is checked before
// anything is decoded: a peer that may not send RPCs gets nothing of
// Raft's decoder.
func (t *transport) handle(r *bufio.Reader, budget *io.LimitedReader, dec *codec.Decoder, enc *codec.Encoder, peer identity.Claims) error {
	typ, err := r.ReadByte()
	if err != nil {
		return err
	}
	if err := t.admit(peer); err != nil {
		return err
	}
	respCh := make(chan raft.RPCResponse, 1)
	rpc := raft.RPC{RespChan: respCh}
	heartbeat := false
	switch typ {
	case rpcAppendEntries:
		var req raft.AppendEntriesRequest
		if err := dec.Decode(&req); err != nil {
			return err
		}
		rpc.Command = &req
		heartbeat = req.Term != 0 && (len(req.Addr) > 0 || len(req.Leader) > 0) &&
			req.PrevLogEntry == 0 && req.PrevLogTerm == 0 && len(req.Entries) == 0 && req.LeaderCommitIndex == 0
	case rpcRequestVote:
		var req raft.RequestVoteRequest
		if err := dec.Decode(&req); err != nil {
			return err
		}
		rpc.Command = &req
	case rpcRequestPreVote:
		var req raft.RequestPreVoteRequest
		if err := dec.Decode(&req); err != nil {
			return err
		}
		rpc.Command = &req
	case rpcInstallSnapshot:
		var req raft.InstallSnapshotRequest
		if err := dec.Decode(&req); err != nil {
			return err
		}
		rpc.Command = &req
		budget.N = req.Size + int64(r.Buffered()) // the snapshot's data follows
		rpc.Reader = io.LimitReader(r, req.Size)
	case rpcTimeoutNow:
		var req raft.TimeoutNowRequest
		if err := dec.Decode(&req); err != nil {
			return err
		}
		rpc.Command = &req
	default:
		return fmt.Errorf("unknown RPC type %d", typ)
	}
	if claimed := rpc.Command.(raft.WithRPCHeader).GetRPCHeader().ID; string(claimed) != peer.Node.String() {
		return fmt.Errorf("%s claims to be server %.40q", peer, claimed)
	}
	t.mu.Lock()
	hb := t.heartbeat
	t.mu.Unlock()
	if heartbeat && hb != nil {
		hb(rpc)
	} else {
		select {
		case t.consume <- rpc:
		case <-t.shutdown:
			return net.ErrClosed
		}
	}
	select {
	case resp := <-respCh:
		msg := ""
		if resp.Error != nil {
			msg = resp.Error.Error()
		}
		if err := enc.Encode(msg); err != nil {
			return err
		}
		return enc.Encode(resp.Response)
	case <-t.shutdown:
		return net.ErrClosed
	}
}

// dialMember opens a Ledger connection to the member at a configuration
// address, and refuses it unless the node that answers is that member.
func dialMember(ctx context.Context, d port.Dialer, address raft.ServerAddress) (net.Conn, error) {
	id, addr, err := splitAddress(address)
	if err != nil {
		return nil, err
	}
	conn, peer, err := d.Dial(ctx, addr, port.Ledger)
	if err != nil {
		return nil, err
	}
	if peer.Node.String() != id {
		conn.Close()
		return nil, fmt.Errorf("ledger: %s answered at %s, where the ledger's member %s should be", peer, addr, id)
	}
	return &answerConn{Conn: conn}, nil
}

// Raft reads a member's answer to an RPC whole, however long the member
// says it is, an error's text included, which it then logs; its answers
// are a few hundred bytes. So each request written to a member lets it
// answer answerPerWrite bytes more, and no more than maxAnswers are ever
// waiting to be read: a member that sends more has its connection
// dropped.
const (
	answerPerWrite = 4 << 10
	maxAnswers     = 64 << 10
)

// errLongAnswer is why a connection to a member that answered more than
// its requests let it is dropped.
var errLongAnswer = fmt.Errorf("ledger: a member answered more than %d bytes its requests called for", maxAnswers)

// answerConn is a connection dialled to a member, whose reads are bounded
// by its writes.
type answerConn struct {
	net.Conn
	mu   sync.Mutex
	left int
}

func (c *answerConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.left = min(c.left+answerPerWrite, maxAnswers)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *answerConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	left := c.left
	c.mu.Unlock()
	if left <= 0 {
		return 0, errLongAnswer
	}
	n, err := c.Conn.Read(b[:min(len(b), left)])
	c.mu.Lock()
	c.left -= n
	c.mu.Unlock()
	return n, err
}
