-- What this node knows of the ledger. On relays and HQ the ledger tables
-- are the Raft state machine's state, written only by it; on every node,
-- confirmed is the highest sequence of each stream the ledger is known to
-- have committed (a field laptop learns it from the peers it syncs with),
-- and sent the highest a peer is known to hold.
ALTER TABLE streams ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;

-- The last Raft entry applied, so that a restart does not apply it twice.
CREATE TABLE ledger_meta (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    applied   INTEGER NOT NULL,
    term      INTEGER NOT NULL
);

-- Per stream, the changes the ledger has committed: 1 to seq, whose chain
-- head is head.
CREATE TABLE ledger_streams (
    node_id   BLOB    NOT NULL,
    lane      INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    head      BLOB    NOT NULL,
    PRIMARY KEY (node_id, lane)
) WITHOUT ROWID;

-- Human-readable case numbers, given once, in commit order.
CREATE TABLE ledger_cases (
    record    BLOB    PRIMARY KEY,
    number    TEXT    NOT NULL UNIQUE
) WITHOUT ROWID;
CREATE TABLE ledger_case_seq (
    prefix    TEXT    PRIMARY KEY,
    last      INTEGER NOT NULL
) WITHOUT ROWID;

-- Nodes whose certificates headquarters revoked.
CREATE TABLE ledger_revoked (
    node_id   BLOB    PRIMARY KEY,
    reason    TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    by_node   BLOB    NOT NULL
) WITHOUT ROWID;

-- Kits headquarters published: the newest version of each.
CREATE TABLE ledger_kits (
    name      TEXT    PRIMARY KEY,
    version   TEXT    NOT NULL,
    body      BLOB    NOT NULL
) WITHOUT ROWID;

-- Conflicts decided at headquarters: which change decided which field.
CREATE TABLE ledger_resolutions (
    record    BLOB    NOT NULL,
    field     TEXT    NOT NULL,
    dot       BLOB    NOT NULL,
    by_name   TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (record, field, dot)
) WITHOUT ROWID;

-- Commands waiting to be proposed to the ledger, written by any process on
-- this data folder (the command line) and proposed by the running node.
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY,
    kind      INTEGER NOT NULL,
    body      BLOB    NOT NULL,
    created   TEXT    NOT NULL
);

-- What the running node last knew, for the command line and the desktop
-- to show: its ledger role, the peers it met.
CREATE TABLE node_state (
    key       TEXT    PRIMARY KEY,
    value     TEXT    NOT NULL,
    updated   TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE peers (
    node_id   BLOB    PRIMARY KEY,
    name      TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    district  TEXT    NOT NULL,
    addr      TEXT    NOT NULL,
    seen      TEXT,
    synced    TEXT,
    error     TEXT
) WITHOUT ROWID;
