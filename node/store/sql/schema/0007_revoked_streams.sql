-- A revocation says, per stream of the revoked node, the last change still
-- trusted (CBOR of a version vector): what headquarters held of it when it
-- decided. Later changes of the node are refused, whoever brings them.
ALTER TABLE ledger_revoked ADD COLUMN trusted BLOB;
ALTER TABLE revoked_notices ADD COLUMN trusted BLOB;
