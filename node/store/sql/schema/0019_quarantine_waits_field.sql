-- A change kept aside may wait for a change of one field of its record
-- (store.WaitsForField, 3), named in `version`: a change judged by a
-- national record's district, which a later change may move. It is looked
-- at again when a change setting that field merges into the record.
CREATE INDEX quarantine_waits_field ON quarantine (record, version) WHERE waits = 3 AND final = 0;
