package node_test

import (
	"context"
	"slices"
	"testing"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/schemas"
)

// liveRowsOf lists the rows of a repeat a record view holds and has not
// removed.
func liveRowsOf(v node.RecordView, rep string) []string {
	removed, rows := map[string]bool{}, map[string]bool{}
	for name, val := range v.Fields {
		r, row, field, ok := schemas.SplitRowField(name)
		if !ok || r != rep {
			continue
		}
		rows[row] = true
		if field == schemas.RemoveKey && val == true {
			removed[row] = true
		}
	}
	var out []string
	for r := range rows {
		if !removed[r] {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// Rows a laptop and headquarters add to one family at once both stay, on
// both, after they sync; a row removed on one is gone on the other.
func TestRepeatRowsMergeAcrossNodes(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	sync := func() {
		t.Helper()
		if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(m *nodetest.Member, id string) []string {
		t.Helper()
		for v, err := range m.Node.Records(ctx, node.Query{Type: "shelter-registration"}) {
			if err != nil {
				t.Fatal(err)
			}
			if v.ID == id {
				return liveRowsOf(v, "household")
			}
		}
		t.Fatalf("%s does not hold record %s", m.Name, id)
		return nil
	}
	id := mustAdd(t, cayo.Node, "shelter-registration", `{"shelter_name": "Benque Viejo RC School", "district": "Cayo", "family_head_name": "Ana Cho", "members": 3,
		"arrived_at": "2026-11-21T18:40:00-06:00", "registered_by": "M. Bol", "household": [{"name": "Ana Cho", "age": 30}]}`)
	sync()
	first := rows(cayo, id.String())
	if len(first) != 1 || !slices.Equal(rows(hq, id.String()), first) {
		t.Fatalf("after the first sync: laptop rows %v, headquarters %v", first, rows(hq, id.String()))
	}
	mustUpdate(t, cayo.Node, id, `{"household": [{"name": "Luis Cho", "age": 3}]}`)
	mustUpdate(t, hq.Node, id, `{"household": [{"name": "Rosa Cho", "age": 60}]}`)
	sync()
	both := rows(cayo, id.String())
	if len(both) != 3 || !slices.Equal(rows(hq, id.String()), both) {
		t.Fatalf("rows added on both nodes: laptop %v, headquarters %v, want the same three", both, rows(hq, id.String()))
	}
	mustUpdate(t, cayo.Node, id, `{"household": [{"row": "`+first[0]+`", "remove": true}]}`)
	sync()
	if got := rows(hq, id.String()); len(got) != 2 || slices.Contains(got, first[0]) {
		t.Fatalf("after a removal, headquarters has rows %v, want two without %s", got, first[0])
	}
}
