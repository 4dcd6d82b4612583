-- The node that brought a change held after a gap (a sync peer, a
-- bundle's writer): nothing can check such a change's signature until the
-- gap closes, so it counts in the bringer's share of the held table, not
-- in its origin's, and a thief's stick of changes forged under other
-- names fills only the thief's share. NULL when the change's signature was
-- checked as it was held: its origin answers for it.
ALTER TABLE held ADD COLUMN bringer BLOB;
