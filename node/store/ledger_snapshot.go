package store

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// ledgerSnapshot is the whole ledger state, as a snapshot holds it. Keys
// are append-only.
type ledgerSnapshot struct {
	Applied     uint64           `cbor:"1,keyasint"`
	Term        uint64           `cbor:"2,keyasint"`
	Streams     []snapStream     `cbor:"3,keyasint"`
	Cases       []snapCase       `cbor:"4,keyasint"`
	CaseSeq     []snapCaseSeq    `cbor:"5,keyasint"`
	Revoked     []ledger.Revoke  `cbor:"6,keyasint"`
	Kits        []ledger.Kit     `cbor:"7,keyasint"`
	Resolutions []ledger.Resolve `cbor:"8,keyasint"`
	Log         []LogEntry       `cbor:"9,keyasint"`
	Enrolled    []snapEnrolled   `cbor:"10,keyasint"`
	Members     []snapMember     `cbor:"11,keyasint"`
	Links       []ledger.Link    `cbor:"12,keyasint,omitempty"`
	// Decided holds every decision considered, in order of their
	// digests (ledger.Tx.Consider).
	Decided []snapDecided `cbor:"13,keyasint,omitempty"`
}

type snapDecided struct {
	_       struct{} `cbor:",toarray"`
	Digest  [32]byte
	Refused bool
}

type snapEnrolled struct {
	_        struct{} `cbor:",toarray"`
	Node     syncproto.NodeID
	Name     string
	Role     syncproto.Role
	District string
	Cert     []byte // DER
}

type snapMember struct {
	_     struct{} `cbor:",toarray"`
	Node  syncproto.NodeID
	Voter bool
	Addr  string
}

type snapStream struct {
	_      struct{} `cbor:",toarray"`
	Stream syncproto.Stream
	Seq    uint64
	Head   syncproto.Hash
}

type snapCase struct {
	_      struct{} `cbor:",toarray"`
	Record syncproto.RecordID
	Number string
}

type snapCaseSeq struct {
	_      struct{} `cbor:",toarray"`
	Prefix string
	Last   uint64
}

// LedgerSnapshot writes the ledger state from one read transaction.
func (s *SQLite) LedgerSnapshot(ctx context.Context, w io.Writer) error {
	var snap ledgerSnapshot
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var applied, term sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT applied, term FROM ledger_meta WHERE id = 1`).Scan(&applied, &term); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		snap.Applied, snap.Term = uint64(applied.Int64), uint64(term.Int64)
		return scanAll(ctx, tx, []scanTable{
			{`SELECT node_id, lane, seq, head FROM ledger_streams ORDER BY node_id, lane`, func(rows *sql.Rows) error {
				var st snapStream
				var id, head []byte
				if err := rows.Scan(&id, &st.Stream.Lane, &st.Seq, &head); err != nil {
					return err
				}
				copy(st.Stream.Origin[:], id)
				copy(st.Head[:], head)
				snap.Streams = append(snap.Streams, st)
				return nil
			}},
			{`SELECT record, number FROM ledger_cases ORDER BY record`, func(rows *sql.Rows) error {
				var c snapCase
				var id []byte
				if err := rows.Scan(&id, &c.Number); err != nil {
					return err
				}
				copy(c.Record[:], id)
				snap.Cases = append(snap.Cases, c)
				return nil
			}},
			{`SELECT prefix, last FROM ledger_case_seq ORDER BY prefix`, func(rows *sql.Rows) error {
				var c snapCaseSeq
				if err := rows.Scan(&c.Prefix, &c.Last); err != nil {
					return err
				}
				snap.CaseSeq = append(snap.CaseSeq, c)
				return nil
			}},
			{`SELECT node_id, reason, at, by_node, trusted FROM ledger_revoked ORDER BY node_id`, func(rows *sql.Rows) error {
				var r ledger.Revoke
				var id, by, trusted []byte
				if err := rows.Scan(&id, &r.Reason, &r.At, &by, &trusted); err != nil {
					return err
				}
				if len(trusted) > 0 {
					if err := syncproto.Unmarshal(trusted, &r.Trusted); err != nil {
						return err
					}
				}
				copy(r.Node[:], id)
				copy(r.By[:], by)
				snap.Revoked = append(snap.Revoked, r)
				return nil
			}},
			{`SELECT name, version, body FROM ledger_kits ORDER BY name`, func(rows *sql.Rows) error {
				var k ledger.Kit
				if err := rows.Scan(&k.Name, &k.Version, &k.Body); err != nil {
					return err
				}
				snap.Kits = append(snap.Kits, k)
				return nil
			}},
			{logQuery + ` ORDER BY position`, func(rows *sql.Rows) error {
				e, err := scanLogEntry(rows)
				snap.Log = append(snap.Log, e)
				return err
			}},
			{`SELECT record, field, dot, by_name, at FROM ledger_resolutions ORDER BY record, field, dot`, func(rows *sql.Rows) error {
				var r ledger.Resolve
				var id, dot []byte
				if err := rows.Scan(&id, &r.Field, &dot, &r.By, &r.At); err != nil {
					return err
				}
				copy(r.Record[:], id)
				if err := syncproto.Unmarshal(dot, &r.Change); err != nil {
					return err
				}
				snap.Resolutions = append(snap.Resolutions, r)
				return nil
			}},
			{`SELECT node_id, name, role, district, cert FROM ledger_enrolled ORDER BY node_id`, func(rows *sql.Rows) error {
				var e snapEnrolled
				var id []byte
				if err := rows.Scan(&id, &e.Name, &e.Role, &e.District, &e.Cert); err != nil {
					return err
				}
				copy(e.Node[:], id)
				snap.Enrolled = append(snap.Enrolled, e)
				return nil
			}},
			{`SELECT node_id, voter, addr FROM ledger_members ORDER BY node_id`, func(rows *sql.Rows) error {
				var m snapMember
				var id []byte
				if err := rows.Scan(&id, &m.Voter, &m.Addr); err != nil {
					return err
				}
				copy(m.Node[:], id)
				snap.Members = append(snap.Members, m)
				return nil
			}},
			{linksQuery + ` ORDER BY a, b`, func(rows *sql.Rows) error {
				k, err := scanLink(rows)
				snap.Links = append(snap.Links, k)
				return err
			}},
			{`SELECT digest, refused FROM ledger_decided ORDER BY digest`, func(rows *sql.Rows) error {
				var b []byte
				var d snapDecided
				if err := rows.Scan(&b, &d.Refused); err != nil {
					return err
				}
				if len(b) != len(d.Digest) {
					return fmt.Errorf("a decision's digest of %d bytes", len(b))
				}
				copy(d.Digest[:], b)
				snap.Decided = append(snap.Decided, d)
				return nil
			}},
		})
	})
	if err != nil {
		return err
	}
	b, err := syncproto.Marshal(&snap)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

type scanTable struct {
	query string
	row   func(*sql.Rows) error
}

func scanAll(ctx context.Context, tx *sql.Tx, tables []scanTable) error {
	for _, t := range tables {
		rows, err := tx.QueryContext(ctx, t.query)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := t.row(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// maxSnapshot bounds a ledger snapshot read back.
const maxSnapshot = 1 << 30

// LedgerRestore replaces the ledger state with a snapshot's, in one
// transaction. The certificates of the nodes it enrolled must be of the
// deployment whose CA certificate is ca, as each enrollment's was when the
// ledger applied it: they join those this node checks peers and changes
// against.
func (s *SQLite) LedgerRestore(ctx context.Context, r io.Reader, ca *x509.Certificate) error {
	data, err := io.ReadAll(io.LimitReader(r, maxSnapshot+1))
	if err != nil {
		return err
	}
	if len(data) > maxSnapshot {
		return fmt.Errorf("ledger snapshot over %d bytes", maxSnapshot)
	}
	var snap ledgerSnapshot
	if err := syncproto.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("ledger snapshot: %w", err)
	}
	tx, end, err := s.lockTx(ctx)
	if err != nil {
		return err
	}
	defer end()
	ctx = context.WithoutCancel(ctx)
	for _, t := range []string{"ledger_meta", "ledger_streams", "ledger_cases", "ledger_case_seq", "ledger_revoked", "ledger_kits", "ledger_resolutions", "ledger_log", "ledger_enrolled", "ledger_members", "ledger_links", "ledger_decided"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return s.wrap(err)
		}
	}
	l := &ledgerTx{ctx: ctx, tx: tx}
	defer l.close()
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_meta (id, applied, term) VALUES (1, ?, ?)`, int64(snap.Applied), int64(snap.Term)); err != nil {
		return s.wrap(err)
	}
	for _, st := range snap.Streams {
		if err := l.SetCommitted(st.Stream, st.Seq, st.Head); err != nil {
			return s.wrap(err)
		}
	}
	cases := make([]ledger.Case, len(snap.Cases))
	for i, c := range snap.Cases {
		cases[i] = ledger.Case{Record: c.Record, Number: c.Number}
	}
	if err := l.SetCases(cases); err != nil {
		return s.wrap(err)
	}
	for _, c := range snap.CaseSeq {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_case_seq (prefix, last) VALUES (?, ?)`, c.Prefix, int64(c.Last)); err != nil {
			return s.wrap(err)
		}
	}
	for _, r := range snap.Revoked {
		if err := l.Revoke(r); err != nil {
			return s.wrap(err)
		}
	}
	for _, k := range snap.Kits {
		if err := l.PutKit(k); err != nil {
			return s.wrap(err)
		}
	}
	for _, r := range snap.Resolutions {
		if err := l.PutResolution(r); err != nil {
			return s.wrap(err)
		}
	}
	// Each node enrolled is known here as the log's enrollments make it
	// known: its certificate is among those sessions check peers against.
	for _, se := range snap.Enrolled {
		e, err := ledger.ReadEnrolled(se.Cert, ca)
		if err == nil && e.Node != se.Node {
			err = fmt.Errorf("the certificate is of node %s", e.Node)
		}
		if err != nil {
			return fmt.Errorf("ledger snapshot: enrolled node %s: %w", se.Node, err)
		}
		if err := l.Enroll(e); err != nil {
			return s.wrap(err)
		}
	}
	for _, m := range snap.Members {
		if err := l.SetMember(m.Node, m.Voter, m.Addr); err != nil {
			return s.wrap(err)
		}
	}
	for _, k := range snap.Links {
		if err := l.PutLink(k); err != nil {
			return s.wrap(err)
		}
	}
	for _, d := range snap.Decided {
		if err := l.Consider(d.Digest, d.Refused); err != nil {
			return s.wrap(err)
		}
	}
	for _, e := range snap.Log {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_log (position, entry, node_id, lane, first, last, head) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			int64(e.Position), int64(e.Entry), e.Stream.Origin[:], e.Stream.Lane, int64(e.First), int64(e.Last), e.Head[:]); err != nil {
			return s.wrap(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(err)
	}
	s.committed()
	return nil
}
