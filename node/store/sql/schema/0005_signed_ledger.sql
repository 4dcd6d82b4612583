-- The nodes headquarters enrolled through the ledger, as the ledger's state
-- machine recorded them (the nodes table also holds certificates that came
-- by sync, which the state machine must not read: every voter would not
-- hold the same ones).
CREATE TABLE ledger_enrolled (
    node_id   BLOB    PRIMARY KEY,
    name      TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    district  TEXT    NOT NULL,
    cert      BLOB    NOT NULL
) WITHOUT ROWID;

-- The ledger's members, as headquarters decided: relays and HQ, voters or
-- not, and where their port is if headquarters said. The leader brings
-- Raft's configuration in line with this table.
CREATE TABLE ledger_members (
    node_id   BLOB    PRIMARY KEY,
    voter     INTEGER NOT NULL,
    addr      TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Revocations learnt outside the ledger (notices by gossip, sessions,
-- bundles). ledger_revoked is the ledger's own, written only by its state
-- machine; a node is revoked if either table names it.
CREATE TABLE revoked_notices (
    node_id   BLOB    PRIMARY KEY,
    reason    TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    by_node   BLOB    NOT NULL
) WITHOUT ROWID;
INSERT INTO revoked_notices SELECT node_id, reason, at, by_node FROM ledger_revoked;

-- Receipts headquarters signed: HQ holds a stream's changes 1 to seq,
-- whose chain head is head, and the ledger committed them. A node keeps
-- the highest of each stream whose signature it checked, passes them on,
-- and once it holds the changes and finds head in its own chain (checked),
-- raises the stream's confirmed sequence with it: on a field laptop nothing
-- else moves it. signer is the HQ node whose certificate (in nodes) signed.
CREATE TABLE receipts (
    node_id   BLOB    NOT NULL,
    lane      INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    head      BLOB    NOT NULL,
    signer    BLOB    NOT NULL,
    sig       BLOB    NOT NULL,
    checked   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node_id, lane)
) WITHOUT ROWID;
