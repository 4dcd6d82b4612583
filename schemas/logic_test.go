package schemas_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"lifeline/schemas"
	"lifeline/schemas/expr"
	"lifeline/syncproto"
)

var logicToday = expr.Date{Year: 2026, Month: 12, Day: 5}

// shelterKit is a kit with logic written as a NEMO officer would.
func shelterKit(t testing.TB) *schemas.Type {
	l := schemas.Label{EN: "x", ES: "x"}
	k := &schemas.Kit{Name: "logic", Version: "1.0", Title: l, Types: []*schemas.Type{{
		Name: "shelter", Version: 1, Title: l, Priority: 2,
		Fields: []*schemas.Field{
			{Name: "capacity", Type: schemas.Integer, Label: l, Required: schemas.Requirement{Always: true}},
			{Name: "occupancy", Type: schemas.Integer, Label: l, Constraint: ". <= ${capacity}",
				ConstraintMessage: schemas.Label{EN: "Occupancy cannot exceed capacity", ES: "La ocupación no puede superar la capacidad"}},
			{Name: "spaces_left", Type: schemas.Integer, Label: l, Calculate: "${capacity} - ${occupancy}"},
			{Name: "status", Type: schemas.Choice, Label: l, Default: "open", Choices: []schemas.ChoiceItem{{Value: "open", EN: "Open", ES: "Abierto"}, {Value: "closed", EN: "Closed", ES: "Cerrado"}}},
			{Name: "closed_reason", Type: schemas.Text, Label: l, Relevant: "${status} = 'closed'", Required: schemas.Requirement{If: "${status} = 'closed'"}},
			{Name: "members", Type: schemas.Repeat, Label: l, Fields: []*schemas.Field{
				{Name: "name", Type: schemas.Text, Label: l, Required: schemas.Requirement{Always: true}, Personal: true},
				{Name: "sex", Type: schemas.Choice, Label: l, Choices: []schemas.ChoiceItem{{Value: "female", EN: "F", ES: "F"}, {Value: "male", EN: "M", ES: "M"}}},
				{Name: "age", Type: schemas.Integer, Label: l},
				{Name: "pregnant", Type: schemas.Bool, Label: l, Relevant: "${sex} = 'female' and ${age} >= 12 and ${age} <= 50"},
			}},
			{Name: "under_five", Type: schemas.Integer, Label: l, Constraint: ". <= count(${members})"},
		},
	}}}
	if errs := k.Check(); len(errs) > 0 {
		t.Fatalf("kit: %v", errs[0])
	}
	return k.Types[0]
}

func logicRules(t *testing.T, err error) []string {
	t.Helper()
	var ve *schemas.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is no ValidationError", err)
	}
	var rules []string
	for _, e := range ve.Errs {
		rules = append(rules, e.Field+":"+e.Rule)
	}
	return rules
}

func apply(t *testing.T, ty *schemas.Type, cur schemas.Values, js string, mode schemas.Mode) (schemas.Input, error) {
	t.Helper()
	in, err := ty.ParseJSON([]byte(js), mode)
	if err != nil {
		return in, err
	}
	return in, ty.Apply(cur, &in, mode, logicToday)
}

func values(in schemas.Input) schemas.Values {
	v := schemas.Values{}
	for _, f := range in.Fields {
		v[f.Name] = f.Value
	}
	return v
}

func TestApplyLogic(t *testing.T) {
	ty := shelterKit(t)
	in, err := apply(t, ty, nil, `{"capacity": 100, "occupancy": 40}`, schemas.Create)
	if err != nil {
		t.Fatal(err)
	}
	v := values(in)
	// 100 - 40, CBOR 0x18 0x3c; the default "open", CBOR text of 4 bytes.
	if got := v["spaces_left"]; string(got) != "\x18\x3c" {
		t.Errorf("spaces_left = %x, want 183c", got)
	}
	if got := v["status"]; string(got) != "\x64open" {
		t.Errorf("status = %x, want the default open", got)
	}
	if _, err := apply(t, ty, nil, `{"capacity": 10, "occupancy": 40}`, schemas.Create); err == nil ||
		!slices.Equal(logicRules(t, err), []string{"occupancy:constraint"}) || !contains(err.Error(), "Occupancy cannot exceed capacity") {
		t.Errorf("occupancy over capacity: %v", err)
	}
	if _, err := apply(t, ty, nil, `{"capacity": 10, "closed_reason": "flooded"}`, schemas.Create); err == nil || !slices.Equal(logicRules(t, err), []string{"closed_reason:relevant"}) {
		t.Errorf("a reason given while open: %v", err)
	}
	if _, err := apply(t, ty, nil, `{"capacity": 10, "status": "closed"}`, schemas.Create); err == nil || !slices.Equal(logicRules(t, err), []string{"closed_reason:required"}) {
		t.Errorf("closed without a reason: %v", err)
	}
	if _, err := apply(t, ty, nil, `{"capacity": 10, "spaces_left": 3}`, schemas.Create); err == nil || !slices.Equal(logicRules(t, err), []string{"spaces_left:calculate"}) {
		t.Errorf("a calculated field set: %v", err)
	}
	// An update recomputes, and a reduced capacity re-checks occupancy.
	up, err := apply(t, ty, v, `{"occupancy": 70}`, schemas.Update)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(up)["spaces_left"]; string(got) != "\x18\x1e" { // 30
		t.Errorf("spaces_left after the update = %x, want 181e", got)
	}
	if _, err := apply(t, ty, v, `{"capacity": 20}`, schemas.Update); err == nil || !slices.Equal(logicRules(t, err), []string{"occupancy:constraint"}) {
		t.Errorf("capacity below occupancy: %v", err)
	}
	if _, err := apply(t, ty, v, `{"status": "closed"}`, schemas.Update); err == nil || !slices.Equal(logicRules(t, err), []string{"closed_reason:required"}) {
		t.Errorf("closed by an update without a reason: %v", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}

func TestApplyRepeat(t *testing.T) {
	ty := shelterKit(t)
	in, err := apply(t, ty, nil, `{"capacity": 10, "under_five": 2, "members": [{"name": "Ana", "sex": "female", "age": 30, "pregnant": true}, {"name": "Luis", "sex": "male", "age": 3}]}`, schemas.Create)
	if err != nil {
		t.Fatal(err)
	}
	v := values(in)
	rows := ty.Rows(v, ty.Fields[5])
	if len(rows) != 2 {
		t.Fatalf("rows %v, want 2", rows)
	}
	f, ok := ty.Field(schemas.RowField("members", rows[0], "name"))
	if !ok || !f.Personal || f.Repeat() != ty.Fields[5] {
		t.Errorf("a row's name resolves to %+v, want the personal nested field", f)
	}
	if _, err := apply(t, ty, nil, `{"capacity": 10, "under_five": 2, "members": [{"name": "Ana"}]}`, schemas.Create); err == nil || !slices.Equal(logicRules(t, err), []string{"under_five:constraint"}) {
		t.Errorf("two under five of one member: %v", err)
	}
	if _, err := apply(t, ty, nil, `{"capacity": 10, "members": [{"name": "Bo", "sex": "male", "age": 30, "pregnant": false}]}`, schemas.Create); err == nil || len(logicRules(t, err)) != 1 || !contains(logicRules(t, err)[0], ":relevant") {
		t.Errorf("pregnant given for a man: %v", err)
	}
	if _, err := apply(t, ty, nil, `{"capacity": 10, "members": [{"age": 30}]}`, schemas.Create); err == nil || len(logicRules(t, err)) != 1 || !contains(logicRules(t, err)[0], ":required") {
		t.Errorf("a row without its required name: %v", err)
	}
	// Removing a row: it leaves the count, and stays removed.
	rm, err := apply(t, ty, v, `{"members": [{"row": "`+rows[1]+`", "remove": true}]}`, schemas.Update)
	if err == nil || !slices.Equal(logicRules(t, err), []string{"under_five:constraint"}) {
		t.Errorf("removing a member under the count of children: %v (%v)", err, rm.Fields)
	}
	rm, err = apply(t, ty, v, `{"under_five": 1, "members": [{"row": "`+rows[1]+`", "remove": true}]}`, schemas.Update)
	if err != nil {
		t.Fatal(err)
	}
	after := values(in)
	for k, x := range values(rm) {
		after[k] = x
	}
	if got := ty.Rows(after, ty.Fields[5]); !slices.Equal(got, rows[:1]) {
		t.Errorf("rows after the removal %v, want %v", got, rows[:1])
	}
	if _, err := apply(t, ty, after, `{"members": [{"row": "`+rows[1]+`", "age": 4}]}`, schemas.Update); err == nil || len(logicRules(t, err)) != 1 || !contains(logicRules(t, err)[0], ":removed") {
		t.Errorf("an edit of a removed row: %v", err)
	}
}

func TestKitLogicDefinitionErrors(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	k := &schemas.Kit{Name: "bad", Version: "1.0", Title: l, Types: []*schemas.Type{{Name: "plot", Version: 1, Title: l, Priority: 2,
		Fields: []*schemas.Field{
			{Name: "a", Type: schemas.Integer, Label: l, Relevant: "${b} >"},
			{Name: "b", Type: schemas.Integer, Label: l, Relevant: "${nothere} = 1"},
			{Name: "c", Type: schemas.Integer, Label: l, Calculate: "${d}"},
			{Name: "d", Type: schemas.Integer, Label: l, Calculate: "${c}"},
		}}}}
	errs := k.Check()
	var got []string
	for _, e := range errs {
		got = append(got, e.Field+"/"+e.Key)
	}
	for _, want := range []string{"a/relevant", "b/relevant", "c/relevant"} {
		if !slices.Contains(got, want) {
			t.Errorf("errors %v lack %s", got, want)
		}
	}
	if !contains(errs[0].Error(), "column") {
		t.Errorf("a parse error %q names no column", errs[0])
	}
}

// A field whose value the kit works out from a personal field (its
// calculation or its default reads it) is personal too: a kit that leaves
// it out is refused. Before, "is_child" calculated from a missing child's
// age, or a contact defaulting to the reporter's phone, was stored and
// synced in the clear, as any field not marked personal is, to every node
// that holds the record.
func TestAValueWorkedOutFromAPersonalFieldIsPersonal(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	kit := func(personal bool) *schemas.Kit {
		return &schemas.Kit{Name: "derived", Version: "1.0", Title: l, Types: []*schemas.Type{{Name: "person", Version: 1, Title: l, Priority: 2,
			Fields: []*schemas.Field{
				{Name: "age", Type: schemas.Integer, Label: l, Personal: true},
				{Name: "phone", Type: schemas.Text, Label: l, Personal: true},
				{Name: "is_child", Type: schemas.Bool, Label: l, Calculate: "${age} < 18", Personal: personal},
				{Name: "contact", Type: schemas.Text, Label: l, Default: "${phone}", Personal: personal},
				{Name: "household", Type: schemas.Repeat, Label: l, Fields: []*schemas.Field{
					{Name: "name", Type: schemas.Text, Label: l, Personal: true},
					{Name: "initial", Type: schemas.Text, Label: l, Calculate: "substr(${name}, 0, 1)", Personal: personal},
				}},
			}}}}
	}
	var got []string
	for _, e := range kit(false).Check() {
		got = append(got, e.Field+"/"+e.Key)
	}
	want := []string{"is_child/personal", "contact/personal", "household.initial/personal"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("a kit working out fields not personal from personal ones: errors %v, want %v", got, want)
	}
	if errs := kit(true).Check(); len(errs) > 0 {
		t.Errorf("the same fields marked personal: %v", errs)
	}
}

// The same input gives the same record whatever the order of its fields.
func TestApplyOrderIndependent(t *testing.T) {
	ty := shelterKit(t)
	rapid.Check(t, func(rt *rapid.T) {
		capacity := rapid.IntRange(0, 50).Draw(rt, "capacity")
		occ := rapid.IntRange(0, 60).Draw(rt, "occupancy")
		status := rapid.SampledFrom([]string{"open", "closed"}).Draw(rt, "status")
		fields := []syncproto.FieldChange{
			{Name: "capacity", Value: syncproto.AppendInt(nil, int64(capacity))},
			{Name: "occupancy", Value: syncproto.AppendInt(nil, int64(occ))},
			{Name: "status", Value: syncproto.AppendText(nil, status)},
		}
		if rapid.Bool().Draw(rt, "reason") {
			fields = append(fields, syncproto.FieldChange{Name: "closed_reason", Value: syncproto.AppendText(nil, "flood")})
		}
		a := schemas.Input{Fields: slices.Clone(fields)}
		perm := rapid.Permutation(fields).Draw(rt, "order")
		b := schemas.Input{Fields: perm}
		ea := ty.Apply(nil, &a, schemas.Create, logicToday)
		eb := ty.Apply(nil, &b, schemas.Create, logicToday)
		if (ea == nil) != (eb == nil) || (ea != nil && ea.Error() != eb.Error()) {
			rt.Fatalf("errors differ: %v, %v", ea, eb)
		}
		if !slices.EqualFunc(a.Fields, b.Fields, func(x, y syncproto.FieldChange) bool { return x.Name == y.Name && string(x.Value) == string(y.Value) }) {
			rt.Fatalf("fields differ: %v, %v", a.Fields, b.Fields)
		}
		wantOK := occ <= capacity
		if ea == nil != wantOK && status == "open" && len(fields) == 3 {
			rt.Fatalf("occupancy %d of %d: error %v", occ, capacity, ea)
		}
	})
}

// chainKit is a kit of n fields each calculated from the one before, f0
// typed: fi is f0 + i. reversed lists the fields last first, so that the
// first field read leads through the whole chain.
func chainKit(n int, reversed bool) *schemas.Kit {
	l := schemas.Label{EN: "x", ES: "x"}
	fs := []*schemas.Field{{Name: "f0", Type: schemas.Integer, Label: l}}
	for i := 1; i < n; i++ {
		fs = append(fs, &schemas.Field{Name: fmt.Sprintf("f%d", i), Type: schemas.Integer, Label: l, Calculate: fmt.Sprintf("${f%d} + 1", i-1)})
	}
	if reversed {
		slices.Reverse(fs)
	}
	return &schemas.Kit{Name: "chain", Version: "1.0", Title: l, Types: []*schemas.Type{{Name: "plot", Version: 1, Title: l, Priority: 2, Fields: fs}}}
}

// A chain of rules as long as a kit may hold is worked out whole, in
// whatever order its fields are listed; a longer one is refused when the
// kit is checked, naming the bound: worked out, its first fields came out
// empty or not as the order of the fields fell.
func TestRuleChainsAreBounded(t *testing.T) {
	n := schemas.MaxRuleChain
	for _, reversed := range []bool{false, true} {
		k := chainKit(n, reversed)
		if errs := k.Check(); len(errs) > 0 {
			t.Fatalf("a chain of %d rules (reversed %v): %v", n, reversed, errs[0])
		}
		in, err := apply(t, k.Types[0], nil, `{"f0":1}`, schemas.Create)
		if err != nil {
			t.Fatal(err)
		}
		last := fmt.Sprintf("f%d", n-1)
		want := []byte{0x18, byte(n)} // CBOR: an unsigned integer from 24 to 255
		if got := values(in)[last]; !bytes.Equal(got, want) {
			t.Errorf("a chain of %d rules (reversed %v): %s is %x, want %d", n, reversed, last, got, n)
		}
	}
	errs := chainKit(n+1, true).Check()
	if len(errs) != 1 || errs[0].Key != "relevant" || !strings.Contains(errs[0].Error(), fmt.Sprintf("at most %d", n)) {
		t.Fatalf("a chain of %d rules: errors %v, want one saying at most %d", n+1, errs, n)
	}
}
