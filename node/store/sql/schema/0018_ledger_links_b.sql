-- The decisions naming a record as the second of their pair: the records
-- linked with one are found by walking its group (store.LinksOf), each
-- step reading the decisions that name a record either way, and without
-- this index every step read the whole table (a relay's thousands of
-- links made a group of 200 records take 0.2 s to show).
CREATE INDEX ledger_links_b ON ledger_links (b);
