package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"

	"lifeline/syncproto"
)

// Grant is the newest grant of data keys a node knows for a district, as
// headquarters signed it (node/personal).
type Grant struct {
	District string
	Epoch    uint32
	Issued   int64 // Unix milliseconds, by the signer's clock
	Notice   []byte
}

// Replaces says whether g replaces held, a grant of its district, as the
// one a node keeps: of a higher epoch, or of the same epoch issued later,
// or issued in the same millisecond with the greater notice, so that of
// two HQ nodes' grants made at once every node keeps the same one.
func (g Grant) Replaces(held Grant) bool {
	if g.Epoch != held.Epoch {
		return g.Epoch > held.Epoch
	}
	if g.Issued != held.Issued {
		return g.Issued > held.Issued
	}
	return bytes.Compare(g.Notice, held.Notice) > 0
}

// PutGrant keeps g unless this node holds a grant of its district that g
// does not replace (Grant.Replaces). It reports whether g was kept.
func (s *SQLite) PutGrant(ctx context.Context, g Grant) (bool, error) {
	res, err := s.mdbExec(ctx, `INSERT INTO data_grants (district, epoch, issued, notice) VALUES (?, ?, ?, ?)
		ON CONFLICT (district) DO UPDATE SET epoch = excluded.epoch, issued = excluded.issued, notice = excluded.notice
		WHERE excluded.epoch > data_grants.epoch OR excluded.epoch = data_grants.epoch AND (excluded.issued > data_grants.issued
			OR excluded.issued = data_grants.issued AND excluded.notice > data_grants.notice)`,
		g.District, g.Epoch, g.Issued, g.Notice)
	if err != nil {
		return false, s.wrap(err)
	}
	n, err := res.RowsAffected()
	return n > 0, s.wrap(err)
}

// Grants are the grants this node keeps, one per district, by district.
func (s *SQLite) Grants(ctx context.Context) ([]Grant, error) {
	out, err := queryAll(ctx, s.rdb, func(r scanner) (Grant, error) {
		var g Grant
		return g, r.Scan(&g.District, &g.Epoch, &g.Issued, &g.Notice)
	}, `SELECT district, epoch, issued, notice FROM data_grants ORDER BY district`)
	return out, s.wrap(err)
}

// Grant is the grant this node keeps for a district, if any.
func (s *SQLite) Grant(ctx context.Context, district string) (Grant, bool, error) {
	g := Grant{District: district}
	err := s.rdb.QueryRowContext(ctx, `SELECT epoch, issued, notice FROM data_grants WHERE district = ?`, district).Scan(&g.Epoch, &g.Issued, &g.Notice)
	if errors.Is(err, sql.ErrNoRows) {
		return Grant{}, false, nil
	}
	return g, err == nil, s.wrap(err)
}

// SealedKey is a data key as the store keeps it: its id and the key,
// sealed by the node with a key the store does not hold.
type SealedKey struct {
	ID     []byte
	Sealed []byte
}

// PutDataKeys keeps keys; a key already kept stays as it is.
func (s *SQLite) PutDataKeys(ctx context.Context, keys []SealedKey) error {
	for _, k := range keys {
		if _, err := s.mdbExec(ctx, `INSERT INTO data_keys (id, sealed) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, k.ID, k.Sealed); err != nil {
			return s.wrap(err)
		}
	}
	return nil
}

// DataKeys are the data keys the store keeps.
func (s *SQLite) DataKeys(ctx context.Context) ([]SealedKey, error) {
	out, err := queryAll(ctx, s.rdb, func(r scanner) (SealedKey, error) {
		var k SealedKey
		return k, r.Scan(&k.ID, &k.Sealed)
	}, `SELECT id, sealed FROM data_keys ORDER BY id`)
	return out, s.wrap(err)
}

// GrantNotices are the signed grants this node keeps, to pass on, as many
// as one hello carries.
func (s *SQLite) GrantNotices(ctx context.Context) ([][]byte, error) {
	gs, err := s.Grants(ctx)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(gs))
	for i, g := range gs {
		out[i] = g.Notice
	}
	return syncproto.FitGrants(out), nil
}
