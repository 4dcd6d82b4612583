-- When each record was last written, as a count that grows with every
-- transaction that writes records: a reader keeps the greatest it saw and
-- asks for the records written beyond it (store.Written). The change log
-- does not say it: a change kept aside is logged when it comes and merges
-- later (a certificate it waited for arrives) with no new change, and a
-- rebuild writes records again from the log they came from.
--
-- Rows written before this version read 0: written before any reader's
-- mark could be kept.
ALTER TABLE records ADD COLUMN written INTEGER NOT NULL DEFAULT 0;
CREATE INDEX records_written ON records (written);
