package store

import (
	"context"
	"database/sql"
	"errors"

	"lifeline/node/ledger"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// PutKitNotice keeps a kit headquarters published, with its signed
// decision, unless this node keeps the same kit at that version or a later
// one. It reports whether it was kept.
func (s *SQLite) PutKitNotice(ctx context.Context, k ledger.Kit, signed []byte) (bool, error) {
	var held string
	err := s.rdb.QueryRowContext(ctx, `SELECT version FROM kit_notices WHERE name = ?`, k.Name).Scan(&held)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, s.wrap(err)
	case schemas.CompareVersions(k.Version, held) <= 0:
		return false, nil
	}
	_, err = s.mdbExec(ctx, `INSERT INTO kit_notices (name, version, body, signed) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version, body = excluded.body, signed = excluded.signed`,
		k.Name, k.Version, k.Body, signed)
	return err == nil, s.wrap(err)
}

// NoticedKits are the kits this node keeps with their signed decisions.
func (s *SQLite) NoticedKits(ctx context.Context) ([]ledger.Kit, [][]byte, error) {
	type noticed struct {
		kit    ledger.Kit
		signed []byte
	}
	rows, err := queryAll(ctx, s.rdb, func(r scanner) (noticed, error) {
		var n noticed
		return n, r.Scan(&n.kit.Name, &n.kit.Version, &n.kit.Body, &n.signed)
	}, `SELECT name, version, body, signed FROM kit_notices ORDER BY name`)
	if err != nil {
		return nil, nil, s.wrap(err)
	}
	kits, signed := make([]ledger.Kit, len(rows)), make([][]byte, len(rows))
	for i, n := range rows {
		kits[i], signed[i] = n.kit, n.signed
	}
	return kits, signed, nil
}

// KitNotices are the signed decisions of the kits this node keeps, to
// pass on, as many as one hello carries.
func (s *SQLite) KitNotices(ctx context.Context) ([][]byte, error) {
	_, signed, err := s.NoticedKits(ctx)
	if err != nil {
		return nil, err
	}
	return syncproto.FitKits(signed), nil
}
