-- Decisions on pairs of people records (ledger.Link): one row per pair,
-- a < b, holding the last decision the ledger applied for it. Written only
-- by the ledger's state machine.
CREATE TABLE ledger_links (
    a         BLOB    NOT NULL,
    b         BLOB    NOT NULL,
    decision  TEXT    NOT NULL,
    by_node   BLOB    NOT NULL,
    district  TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
