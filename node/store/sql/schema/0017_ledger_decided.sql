-- Every decision the ledger's state machine considered, by the digest of
-- what its signer signed (ledger.Decision.Digest), and whether it refused
-- it: a decision's signed bytes, forwarded again by a member that holds
-- them in its copy of the log, are refused, so that no one replays an old
-- decision over a newer one. Written only by the state machine, and
-- carried by its snapshots.
CREATE TABLE ledger_decided (
    digest  BLOB    PRIMARY KEY,
    refused INTEGER NOT NULL
) WITHOUT ROWID;
