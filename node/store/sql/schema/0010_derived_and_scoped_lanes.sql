-- What the store keeps up to date as records change, so that reading it
-- does not walk every record: the digest's accumulators and the report's
-- tallies. Each is changed in the transaction that changes a record, by
-- taking away what the record contributed and adding what it contributes
-- now (see derived.go).
--
-- digests holds, per scope, the sum of every record's digest element
-- (1,024 16-bit lanes, little-endian, added lane by lane mod 2^16): today
-- every record is of scope "".
CREATE TABLE digests (
    scope     TEXT    PRIMARY KEY,
    sum       BLOB    NOT NULL CHECK (length(sum) = 2048)
) WITHOUT ROWID;

-- tallies holds, per scope, record type and name, the sum of what the
-- node's tally (Options.Tally) counts of every record.
CREATE TABLE tallies (
    scope     TEXT    NOT NULL,
    type      TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (scope, type, name)
) WITHOUT ROWID;

-- derived says by which definition each table above was computed: 0 for
-- not yet. A store computes a table again, from every record, when it
-- opens and finds a version that is not its own: once after this
-- migration, and once after an upgrade that changes a definition.
CREATE TABLE derived (
    name      TEXT    PRIMARY KEY,
    version   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO derived (name, version) VALUES ('digest', 0), ('tally', 0);

-- A lane is a sync priority (its low four bits, 1 to 9) and a scope (its
-- high four bits: 0 national, 1 to 15 a district), so lanes go past 9. The
-- streams table is made again without the old bound; the rows keep their
-- idx, which the change log's ids are made of.
CREATE TABLE streams_scoped (
    idx       INTEGER PRIMARY KEY,
    node_id   BLOB    NOT NULL CHECK (length(node_id) = 16),
    lane      INTEGER NOT NULL CHECK (lane BETWEEN 1 AND 255 AND (lane & 15) BETWEEN 1 AND 9),
    seq       INTEGER NOT NULL DEFAULT 0,
    head      BLOB,
    hlc       INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0,
    sent      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (node_id, lane)
);
INSERT INTO streams_scoped (idx, node_id, lane, seq, head, hlc, confirmed, sent)
    SELECT idx, node_id, lane, seq, head, hlc, confirmed, sent FROM streams;
DROP TABLE streams;
ALTER TABLE streams_scoped RENAME TO streams;
