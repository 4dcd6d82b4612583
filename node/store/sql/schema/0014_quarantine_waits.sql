-- What a change kept aside for now waits for (store.Waits), and so when it
-- is looked at again: 0, something of the node's own (its kits, the
-- certificates it holds, its keys), only when the node asks (Readmit); 1,
-- its record, when a peer's change merges into the record; 2, the version
-- `version` names (origin, lane, sequence), when that version arrives or
-- merges.
-- Before, every change waiting was looked at again whenever a peer's change
-- merged into its record, so that a node's many changes waiting on one
-- record cost every later change of it as much. Those kept aside before
-- are looked at so once more (1), and then wait as they say.
ALTER TABLE quarantine ADD COLUMN waits INTEGER NOT NULL DEFAULT 1;
ALTER TABLE quarantine ADD COLUMN version BLOB;
DROP INDEX quarantine_record;
CREATE INDEX quarantine_waits_record ON quarantine (record) WHERE waits = 1 AND final = 0;
CREATE INDEX quarantine_waits_version ON quarantine (version) WHERE waits = 2 AND final = 0;
