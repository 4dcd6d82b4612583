-- The canonical ledger: every range of changes the ledger committed, in
-- commit order. position counts from 1 with no gap on every relay and HQ
-- alike (the state machine appends, nothing deletes); entry is the Raft
-- index that committed it.
CREATE TABLE ledger_log (
    position  INTEGER PRIMARY KEY,
    entry     INTEGER NOT NULL,
    node_id   BLOB    NOT NULL,
    lane      INTEGER NOT NULL,
    first     INTEGER NOT NULL,
    last      INTEGER NOT NULL,
    head      BLOB    NOT NULL
);
