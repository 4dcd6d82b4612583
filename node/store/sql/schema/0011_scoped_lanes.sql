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
