package store

import (
	"context"
	"strings"
	"testing"
)

// The records linked with one are found a step at a time, each reading
// the decisions that name a record either way: each step reads those
// decisions by index, never the whole table, which a stolen relay's
// flood of links would make every record's screen read once per record
// of its group.
func TestTheLinksOfARecordAreReadByIndex(t *testing.T) {
	s, _ := newStore(t, Options{})
	rows, err := s.rdb.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+linksOfQuery, []byte{1}, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, p := range plan {
		if strings.HasPrefix(p, "SCAN ledger_links") {
			t.Fatalf("the links of a record read the whole table: %q", plan)
		}
	}
}
