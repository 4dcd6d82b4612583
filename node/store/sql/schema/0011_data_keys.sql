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
