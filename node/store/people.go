package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"lifeline/syncproto"
)

// Person is someone who signs in on this node.
type Person struct {
	Folded   string // the name lower-cased, spaces collapsed: one person per name
	Name     string
	Verifier []byte
	Added    time.Time
}

// ErrPersonExists: a person of that name signs in here already.
var ErrPersonExists = errors.New("a person of that name signs in here already")

// AddPerson keeps a new person.
func (s *SQLite) AddPerson(ctx context.Context, p Person) error {
	res, err := s.mdbExec(ctx, `INSERT INTO people (folded, name, verifier, added) VALUES (?, ?, ?, ?) ON CONFLICT (folded) DO NOTHING`,
		p.Folded, p.Name, p.Verifier, p.Added.UTC().Format(time.RFC3339))
	if err != nil {
		return s.wrap(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(s.wrap(err), ErrPersonExists)
	}
	return nil
}

// SetPersonVerifier replaces a person's verifier (a new passphrase).
func (s *SQLite) SetPersonVerifier(ctx context.Context, folded string, verifier []byte) error {
	_, err := s.mdbExec(ctx, `UPDATE people SET verifier = ? WHERE folded = ?`, verifier, folded)
	return s.wrap(err)
}

// RemovePerson forgets a person; it reports whether there was one.
func (s *SQLite) RemovePerson(ctx context.Context, folded string) (bool, error) {
	res, err := s.mdbExec(ctx, `DELETE FROM people WHERE folded = ?`, folded)
	if err != nil {
		return false, s.wrap(err)
	}
	n, err := res.RowsAffected()
	return n > 0, s.wrap(err)
}

// People are the people who sign in here, by name.
func (s *SQLite) People(ctx context.Context) ([]Person, error) {
	out, err := queryAll(ctx, s.rdb, func(r scanner) (Person, error) {
		var p Person
		var added string
		err := r.Scan(&p.Folded, &p.Name, &p.Verifier, &added)
		p.Added, _ = time.Parse(time.RFC3339, added)
		return p, err
	}, `SELECT folded, name, verifier, added FROM people ORDER BY folded`)
	return out, s.wrap(err)
}

// PersonRevocation is headquarters' revocation of a person on a node.
type PersonRevocation struct {
	Node   syncproto.NodeID
	Folded string
	Name   string
	At     int64 // Unix milliseconds, by the signer's clock
	Notice []byte
}

// AddPersonRevocation keeps a revocation of a person; it reports whether
// it was new here.
func (s *SQLite) AddPersonRevocation(ctx context.Context, r PersonRevocation) (bool, error) {
	res, err := s.mdbExec(ctx, `INSERT INTO people_revoked (node_id, folded, name, at, notice) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (node_id, folded) DO NOTHING`, r.Node[:], r.Folded, r.Name, r.At, r.Notice)
	if err != nil {
		return false, s.wrap(err)
	}
	n, err := res.RowsAffected()
	return n > 0, s.wrap(err)
}

// PersonRevoked says whether headquarters revoked a person on a node, as
// far as this node knows.
func (s *SQLite) PersonRevoked(ctx context.Context, node syncproto.NodeID, folded string) (bool, error) {
	var one int
	err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM people_revoked WHERE node_id = ? AND folded = ?`, node[:], folded).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, s.wrap(err)
}

// personRevocationNotices are the notices of people revoked, newest first.
func (s *SQLite) personRevocationNotices(ctx context.Context) ([][]byte, error) {
	out, err := queryAll(ctx, s.rdb, func(r scanner) ([]byte, error) {
		var b []byte
		return b, r.Scan(&b)
	}, `SELECT notice FROM people_revoked ORDER BY at DESC, node_id, folded LIMIT ?`, syncproto.MaxRevocations)
	return out, s.wrap(err)
}
