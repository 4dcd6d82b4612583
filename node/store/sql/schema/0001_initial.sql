-- This node: one row, written once by init.
CREATE TABLE node (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    node_id   BLOB    NOT NULL CHECK (length(node_id) = 16),
    name      TEXT    NOT NULL,
    role      TEXT    NOT NULL CHECK (role IN ('field', 'relay', 'hq')),
    district  TEXT    NOT NULL,
    created   TEXT    NOT NULL
);

-- Every stream (a node's lane) whose changes this store holds. idx is the
-- local short name changes use; seq and head are the version vector entry
-- and the chain hash at it; hlc is the newest change merged from it.
CREATE TABLE streams (
    idx       INTEGER PRIMARY KEY,
    node_id   BLOB    NOT NULL CHECK (length(node_id) = 16),
    lane      INTEGER NOT NULL CHECK (lane BETWEEN 1 AND 9),
    seq       INTEGER NOT NULL DEFAULT 0,
    head      BLOB,
    hlc       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (node_id, lane)
);

-- Current records, derived from the change log and rebuilt from it. state
-- is the merge state (which change holds each field's versions), never the
-- values themselves. There is no index on type: it would cost a bulk import
-- a fifth of its time, and listing one type scans fast enough.
CREATE TABLE records (
    rid       INTEGER PRIMARY KEY,
    id        BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    type      TEXT    NOT NULL,
    hlc       INTEGER NOT NULL,
    conflicts INTEGER NOT NULL DEFAULT 0,
    deleted   INTEGER NOT NULL DEFAULT 0,
    state     BLOB    NOT NULL
);
CREATE INDEX records_in_conflict ON records (rid) WHERE conflicts > 0;

-- The change log: append-only, the source of truth. id is the change's dot
-- packed in one integer, stream index << 40 | sequence, so that a stream's
-- changes lie in sequence order and finding a change, or every change of a
-- stream after a sequence, is a walk of the table itself, with no second
-- index to keep up. body is the change's canonical CBOR exactly as its
-- origin wrote it; hash is the origin's chain through it; sig is the
-- origin's signature over that chain head, where this node has one.
CREATE TABLE changes (
    id        INTEGER PRIMARY KEY,
    hlc       INTEGER NOT NULL,
    record    INTEGER NOT NULL,
    hash      BLOB    NOT NULL,
    sig       BLOB,
    body      BLOB    NOT NULL
);
CREATE INDEX changes_record ON changes (record);

-- Changes stamped too far in the future of this node's clock: kept, not yet
-- merged, and not in the version vector, until the clock catches up.
CREATE TABLE held (
    node_id   BLOB    NOT NULL,
    lane      INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    hlc       INTEGER NOT NULL,
    sig       BLOB,
    body      BLOB    NOT NULL,
    held_at   TEXT    NOT NULL,
    PRIMARY KEY (node_id, lane, seq)
);

-- Enrolled nodes this node has seen a certificate of: its own, its peers',
-- and the origins of changes it holds, so that it can check their
-- signatures and pass the certificates on with their changes.
CREATE TABLE nodes (
    node_id   BLOB    PRIMARY KEY CHECK (length(node_id) = 16),
    name      TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    district  TEXT    NOT NULL,
    cert      BLOB    NOT NULL,
    not_after TEXT    NOT NULL
) WITHOUT ROWID;
