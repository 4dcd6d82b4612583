package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"lifeline/syncproto"
)

// NodeCert is an enrolled node's certificate and what it says.
type NodeCert struct {
	Node     syncproto.NodeID
	Name     string
	Role     syncproto.Role
	District string
	Cert     []byte // DER
	NotAfter time.Time
}

// PutNode remembers a node's certificate, checked by the caller. A newer
// certificate (re-enrollment) replaces an older one.
func (s *SQLite) PutNode(ctx context.Context, n NodeCert) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.wrap(putNode(ctx, s.mdb, n))
}

func putNode(ctx context.Context, q querier, n NodeCert) error {
	_, err := q.ExecContext(ctx, `INSERT INTO nodes (node_id, name, role, district, cert, not_after) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (node_id) DO UPDATE SET name = excluded.name, role = excluded.role, district = excluded.district,
			cert = excluded.cert, not_after = excluded.not_after WHERE excluded.not_after >= nodes.not_after`,
		n.Node[:], n.Name, n.Role, n.District, n.Cert, n.NotAfter.UTC().Format(time.RFC3339))
	return err
}

const nodeQuery = `SELECT node_id, name, role, district, cert, not_after FROM nodes`

func scanNode(r scanner) (NodeCert, error) {
	var n NodeCert
	var id []byte
	var notAfter string
	if err := r.Scan(&id, &n.Name, &n.Role, &n.District, &n.Cert, &notAfter); err != nil {
		return n, err
	}
	n.Node = syncproto.NodeID(id)
	n.NotAfter, _ = time.Parse(time.RFC3339, notAfter)
	return n, nil
}

// Node returns a node's certificate, if this node has seen it.
func (s *SQLite) Node(ctx context.Context, id syncproto.NodeID) (NodeCert, bool, error) {
	n, err := scanNode(s.rdb.QueryRowContext(ctx, nodeQuery+` WHERE node_id = ?`, id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return NodeCert{Node: id}, false, nil
	}
	if err != nil {
		return NodeCert{Node: id}, false, s.wrap(err)
	}
	return n, true, nil
}

// Nodes lists every node whose certificate this node holds.
func (s *SQLite) Nodes(ctx context.Context) ([]NodeCert, error) {
	out, err := queryAll(ctx, s.rdb, scanNode, nodeQuery+` ORDER BY name`)
	return out, s.wrap(err)
}

// mdbExec runs a small write outside the change log's transactions. It
// still takes SQLite's write lock, briefly.
func (s *SQLite) mdbExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.mdb.ExecContext(ctx, q, args...)
}

// SetState records a value the running node wants others to see.
func (s *SQLite) SetState(ctx context.Context, key, value string) error {
	_, err := s.mdbExec(ctx, `INSERT INTO node_state (key, value, updated) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`, key, value, time.Now().UTC().Format(time.RFC3339))
	return s.wrap(err)
}

// State reads what the running node recorded, and when.
func (s *SQLite) State(ctx context.Context, key string) (string, time.Time, error) {
	var v, at string
	err := s.rdb.QueryRowContext(ctx, `SELECT value, updated FROM node_state WHERE key = ?`, key).Scan(&v, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	t, _ := time.Parse(time.RFC3339, at)
	return v, t, s.wrap(err)
}

// Peer is a node this one met.
type Peer struct {
	Node syncproto.NodeID
	// Name, Role and District are its certificate's, "" where not known.
	Name     string
	Role     syncproto.Role
	District string
	Addr     string
	// Gossiped: Addr is gossip's word, which anyone holding the gossip key
	// may give for any node. It is kept only for a peer of no address yet:
	// an address a session dialled, whose certificate the handshake
	// checked, is not replaced by a claim.
	Gossiped bool
	Seen     time.Time // last heard of (gossip, a session)
	Synced   time.Time // last session that ended well
	Error    string    // why the last session failed, "" if it did not
	State    string    // what gossip says of it now: alive, dead or left; "" if not known
}

// PutPeer records a peer met, keeping the name, role, district, address,
// times and error it already has where the new record has none, and the
// address it has where the new one is only gossiped.
func (s *SQLite) PutPeer(ctx context.Context, p Peer) error {
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339)
	}
	_, err := s.mdbExec(ctx, `INSERT INTO peers (node_id, name, role, district, addr, seen, synced, error, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (node_id) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN peers.name ELSE excluded.name END,
			role = CASE WHEN excluded.role = '' THEN peers.role ELSE excluded.role END,
			district = CASE WHEN excluded.district = '' THEN peers.district ELSE excluded.district END,
			addr = CASE WHEN excluded.addr = '' OR (? AND peers.addr != '') THEN peers.addr ELSE excluded.addr END,
			seen = coalesce(excluded.seen, peers.seen), synced = coalesce(excluded.synced, peers.synced),
			error = CASE WHEN excluded.synced IS NOT NULL THEN NULL ELSE coalesce(excluded.error, peers.error) END,
			state = coalesce(excluded.state, peers.state)`,
		p.Node[:], p.Name, p.Role, p.District, p.Addr, ts(p.Seen), ts(p.Synced), nullText(p.Error), nullText(p.State), p.Gossiped)
	if err != nil || p.Name != "" {
		return s.wrap(err)
	}
	// A peer of no name is one gossip told of and no certificate has
	// named yet: anyone holding the gossip key can tell of thousands. The
	// latest heard of are kept; a peer that is real is told of again.
	_, err = s.mdbExec(ctx, `DELETE FROM peers WHERE name = '' AND node_id NOT IN
		(SELECT node_id FROM peers WHERE name = '' ORDER BY seen IS NULL, seen DESC LIMIT ?)`, MaxUnnamedPeers)
	return s.wrap(err)
}

// MaxUnnamedPeers bounds the peers kept that no certificate has named.
const MaxUnnamedPeers = 256

// ForgetPeerStates clears what gossip said of every peer: the node stopped
// following the gossip.
func (s *SQLite) ForgetPeerStates(ctx context.Context) error {
	_, err := s.mdbExec(ctx, `UPDATE peers SET state = NULL WHERE state IS NOT NULL`)
	return s.wrap(err)
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Peers lists the peers this node met, by name.
func (s *SQLite) Peers(ctx context.Context) ([]Peer, error) {
	out, err := queryAll(ctx, s.rdb, func(r scanner) (Peer, error) {
		var p Peer
		var id []byte
		var seen, synced string
		if err := r.Scan(&id, &p.Name, &p.Role, &p.District, &p.Addr, &seen, &synced, &p.Error, &p.State); err != nil {
			return p, err
		}
		p.Node = syncproto.NodeID(id)
		p.Seen, _ = time.Parse(time.RFC3339, seen)
		p.Synced, _ = time.Parse(time.RFC3339, synced)
		return p, nil
	}, `SELECT node_id, name, role, district, addr, coalesce(seen, ''), coalesce(synced, ''), coalesce(error, ''), coalesce(state, '') FROM peers ORDER BY name`)
	return out, s.wrap(err)
}
