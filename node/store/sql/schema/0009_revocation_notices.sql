-- A revocation learnt from headquarters' signed notice keeps the notice as
-- it was signed (notice) and the HQ node that signed it (signer), so that
-- this node passes it on, unchanged, in every session's hello and every
-- bundle. A row kept before has neither: it still revokes, and an HQ node
-- signs its ledger's revocations again.
ALTER TABLE revoked_notices ADD COLUMN notice BLOB;
ALTER TABLE revoked_notices ADD COLUMN signer BLOB;
