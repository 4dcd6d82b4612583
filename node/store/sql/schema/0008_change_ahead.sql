-- How far, in milliseconds, a peer stamped a change past this node's clock
-- when it merged here; NULL when not past by more than a clock observes. A
-- version that wins a conflict only because its origin's clock ran fast is
-- shown so.
ALTER TABLE changes ADD COLUMN ahead INTEGER;
