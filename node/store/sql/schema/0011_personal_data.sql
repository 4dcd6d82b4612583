-- Personal fields are sealed with data keys headquarters hands out in
-- grants (node/personal). data_grants keeps, per district, the newest
-- grant this node knows, signed as it came, to pass on in every session's
-- hello. data_keys keeps every data key this node opened, each sealed
-- with a key derived from the node's own key, so that the database alone
-- opens no personal value.
CREATE TABLE data_grants (
  district TEXT PRIMARY KEY,
  epoch    INTEGER NOT NULL,
  issued   INTEGER NOT NULL,
  notice   BLOB NOT NULL
) STRICT;

CREATE TABLE data_keys (
  id     BLOB PRIMARY KEY,
  sealed BLOB NOT NULL
) STRICT;

-- The people who sign in on this node (a laptop several responders
-- share): each name once, whatever its case (folded), with a verifier of
-- their passphrase (node/identity, Argon2id), never the passphrase.
CREATE TABLE people (
  folded   TEXT PRIMARY KEY,
  name     TEXT NOT NULL,
  verifier BLOB NOT NULL,
  added    TEXT NOT NULL
) STRICT;

-- People headquarters revoked, on a node named: the signed notice as it
-- came, which every node keeps and passes on with the revocations of
-- nodes, and which the node named refuses the person's sign-in by.
CREATE TABLE people_revoked (
  node_id BLOB NOT NULL,
  folded  TEXT NOT NULL,
  name    TEXT NOT NULL,
  at      INTEGER NOT NULL,
  notice  BLOB NOT NULL,
  PRIMARY KEY (node_id, folded)
) STRICT;

-- Kits headquarters published, as its signed decisions, to pass on to the
-- nodes outside the ledger in every session's hello: a member keeps each
-- one it applies, a field laptop each one a peer brought that checked.
CREATE TABLE kit_notices (
  name    TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  body    BLOB NOT NULL,
  signed  BLOB NOT NULL
) STRICT;
