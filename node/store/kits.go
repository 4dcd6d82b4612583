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
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, version, body, signed FROM kit_notices ORDER BY name`)
	if err != nil {
		return nil, nil, s.wrap(err)
	}
	defer rows.Close()
	var kits []ledger.Kit
	var signed [][]byte
	for rows.Next() {
		var k ledger.Kit
		var sig []byte
		if err := rows.Scan(&k.Name, &k.Version, &k.Body, &sig); err != nil {
			return nil, nil, s.wrap(err)
		}
		kits, signed = append(kits, k), append(signed, sig)
	}
	return kits, signed, s.wrap(rows.Err())
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
