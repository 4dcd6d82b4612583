-- What the records name that the store does not hold (the photos their
-- fields name), as the node's definition of it (store.Refs) reads them,
-- kept as the records change so that a node learns it without reading
-- every record: before, every sync session of a process that had not yet
-- read them read every record of every type that carries photos.
--
-- A record's rows are written again, all with one new seq, whenever what
-- it names changes; a row whose name is NULL says the record names nothing
-- now. derived's 'refs' is the definition's version (0 for none yet),
-- 'refs-seq' the last seq written and 'refs-base' the seq at which the
-- rows were last computed again from every record.
CREATE TABLE refs (
    seq       INTEGER NOT NULL,
    record    BLOB    NOT NULL,
    name      TEXT,
    origin    BLOB,
    lane      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refs_record ON refs (record);
CREATE INDEX refs_seq ON refs (seq);

-- The records a process without the definition, or with another, changed:
-- read again when the definition is next set.
CREATE TABLE refs_pending (
    record    BLOB    PRIMARY KEY
) WITHOUT ROWID;

INSERT INTO derived (name, version) VALUES ('refs', 0), ('refs-seq', 0), ('refs-base', 0);
