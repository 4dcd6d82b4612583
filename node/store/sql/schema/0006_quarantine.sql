-- Changes from peers that their origin's signature covers but that this
-- node does not merge: they break the write policy or their kit, or name a
-- kit version not here yet (final = 0: looked at again when kits change).
-- They stay in the change log, in their stream's chain (record = 0 there),
-- and travel on like any change; here they are kept aside with the reason,
-- never counted or exported, and shown to headquarters.
CREATE TABLE quarantine (
    change    INTEGER PRIMARY KEY,
    record    BLOB    NOT NULL,
    reason    TEXT    NOT NULL,
    final     INTEGER NOT NULL,
    at        TEXT    NOT NULL
);
CREATE INDEX quarantine_record ON quarantine (record);
