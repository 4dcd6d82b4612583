package schemas_test

import (
	"strings"
	"testing"

	"lifeline/schemas"
)

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.10", "1.9.3", 1},
		{"1.9.3", "1.10", -1},
		{"1.0", "1.0.0", 0},
		{"1.01", "1.1", 0},
		{"2.0", "10.0", -1},
		{"1.2.3", "1.2.4", -1},
		// No number is too long: nothing is converted.
		{"99999999999999999999.0", "99999999999999999998.9", 1},
		{"1.0.0.1", "1.0", 1},
	} {
		if got := schemas.CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// successorBase is a kit as nodes hold it; each case changes a fresh copy.
func successorBase(t *testing.T) *schemas.Kit {
	t.Helper()
	l := schemas.Label{EN: "x", ES: "x"}
	k := &schemas.Kit{Name: "missing-persons", Version: "1.0.0", Title: l, Types: []*schemas.Type{{
		Name: "missing-person", Version: 1, Title: l, Priority: 1, Summary: []string{"full_name"},
		Fields: []*schemas.Field{
			{Name: "full_name", Type: schemas.Text, Label: l, Required: schemas.Requirement{Always: true}, Personal: true, Max: ptr(120)},
			{Name: "nickname", Type: schemas.Text, Label: l, Personal: true},
			{Name: "age", Type: schemas.Integer, Label: l, Min: ptr(0), Max: ptr(120)},
			{Name: "status", Type: schemas.Choice, Label: l, Choices: []schemas.ChoiceItem{
				{Value: "missing", EN: "Missing", ES: "Desaparecida"}, {Value: "found-safe", EN: "Found safe", ES: "A salvo"}}},
			{Name: "needs", Type: schemas.Multi, Label: l, Choices: []schemas.ChoiceItem{
				{Value: "water", EN: "Water", ES: "Agua"}, {Value: "insulin", EN: "Insulin", ES: "Insulina"}}},
			{Name: "photos", Type: schemas.Photo, Label: l},
			{Name: "found_at", Type: schemas.Ref, Label: l, Ref: "missing-person"},
			{Name: "reported_with", Type: schemas.Repeat, Label: l, Fields: []*schemas.Field{
				{Name: "name", Type: schemas.Text, Label: l, Required: schemas.Requirement{Always: true}, Personal: true, Max: ptr(120)},
				{Name: "age", Type: schemas.Integer, Label: l, Min: ptr(0), Max: ptr(120)}}},
		},
	}}}
	if errs := k.Check(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return k
}

func TestCheckSuccessor(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	field := func(k *schemas.Kit, name string) *schemas.Field {
		f, _ := k.Types[0].Field(name)
		return f
	}
	row := func(k *schemas.Kit, name string) *schemas.Field {
		for _, f := range field(k, "reported_with").Fields {
			if f.Name == name {
				return f
			}
		}
		return nil
	}
	// Every case raises the kit's version and, where it changes the type,
	// the type's schema version, so that it breaks one rule only.
	bump := func(k *schemas.Kit) { k.Version = "1.1.0"; k.Types[0].Version = 2 }
	cases := []struct {
		name   string
		change func(k *schemas.Kit)
		key    string // the rule refused, "" for a compatible update
		field  string
		from   uint32 // the schema version replaced, if not 1
	}{
		{"a compatible update", func(k *schemas.Kit) {
			bump(k)
			k.Types[0].Title = schemas.Label{EN: "Person missing", ES: "Persona desaparecida"}
			k.Types[0].Fields = append(k.Types[0].Fields, &schemas.Field{Name: "last_seen", Type: schemas.Text, Label: l})
			field(k, "full_name").Max = ptr(200)
			field(k, "full_name").Required.Always = false
			field(k, "age").Min, field(k, "age").Max = nil, ptr(130)
			field(k, "status").Choices = append(field(k, "status").Choices, schemas.ChoiceItem{Value: "deceased", EN: "Deceased", ES: "Fallecida"})
			field(k, "needs").Choices = append([]schemas.ChoiceItem{{Value: "food", EN: "Food", ES: "Comida"}}, field(k, "needs").Choices...)
			field(k, "photos").Max = ptr(20)
			field(k, "age").Personal = true
			row(k, "age").Personal, row(k, "age").Max = true, ptr(130)
			field(k, "reported_with").Fields = append(field(k, "reported_with").Fields, &schemas.Field{Name: "phone", Type: schemas.Text, Label: l})
			k.Types = append(k.Types, &schemas.Type{Name: "sighting", Version: 1, Title: l, Priority: 1,
				Fields: []*schemas.Field{{Name: "where", Type: schemas.Text, Label: l, Required: schemas.Requirement{Always: true}}}})
		}, "", "", 0},
		{"only the kit's version raised", func(k *schemas.Kit) { k.Version = "1.0.1" }, "", "", 0},
		{"the same version", func(k *schemas.Kit) {}, "version", "", 0},
		{"a downgrade", func(k *schemas.Kit) { k.Version = "0.9" }, "version", "", 0},
		{"a type removed", func(k *schemas.Kit) {
			k.Version = "2.0"
			k.Types[0] = &schemas.Type{Name: "missing-person-v2", Version: 1, Title: l, Priority: 1, Fields: k.Types[0].Fields}
		}, "types", "", 0},
		{"a field removed", func(k *schemas.Kit) {
			bump(k)
			k.Types[0].Fields = k.Types[0].Fields[1:]
			k.Types[0].Summary = nil
		}, "fields", "", 0},
		{"personal cleared", func(k *schemas.Kit) { bump(k); field(k, "full_name").Personal = false }, "personal", "full_name", 0},
		{"a row's personal cleared", func(k *schemas.Kit) { bump(k); row(k, "name").Personal = false }, "personal", "reported_with.name", 0},
		{"a row's max cut", func(k *schemas.Kit) { bump(k); row(k, "age").Max = ptr(60) }, "max", "reported_with.age", 0},
		{"a row's value type changed", func(k *schemas.Kit) { bump(k); row(k, "age").Type = schemas.Decimal }, "type", "reported_with.age", 0},
		{"a row's field removed", func(k *schemas.Kit) {
			bump(k)
			field(k, "reported_with").Fields = field(k, "reported_with").Fields[:1]
		}, "fields", "reported_with", 0},
		{"a row's new field required", func(k *schemas.Kit) {
			bump(k)
			field(k, "reported_with").Fields = append(field(k, "reported_with").Fields, &schemas.Field{Name: "phone", Type: schemas.Text, Label: l, Required: schemas.Requirement{Always: true}})
		}, "required", "reported_with.phone", 0},
		{"the lane moved", func(k *schemas.Kit) { bump(k); k.Types[0].Priority = 9 }, "priority", "", 0},
		{"a max cut", func(k *schemas.Kit) { bump(k); field(k, "full_name").Max = ptr(60) }, "max", "full_name", 0},
		{"a min raised", func(k *schemas.Kit) { bump(k); field(k, "age").Min = ptr(1) }, "min", "age", 0},
		{"a min where there was none", func(k *schemas.Kit) { bump(k); field(k, "nickname").Min = ptr(2) }, "min", "nickname", 0},
		{"a max below the default", func(k *schemas.Kit) { bump(k); field(k, "nickname").Max = ptr(500) }, "max", "nickname", 0},
		{"a default max lost", func(k *schemas.Kit) { bump(k); field(k, "photos").Max = ptr(3) }, "max", "photos", 0},
		{"a choice removed", func(k *schemas.Kit) { bump(k); field(k, "status").Choices = field(k, "status").Choices[:1] }, "choices", "status", 0},
		{"a choice renamed", func(k *schemas.Kit) { bump(k); field(k, "status").Choices[1].Value = "Found-Safe" }, "choices", "status", 0},
		{"choices reordered", func(k *schemas.Kit) {
			bump(k)
			c := field(k, "needs").Choices
			c[0], c[1] = c[1], c[0]
		}, "choices", "needs", 0},
		{"an optional field made required", func(k *schemas.Kit) { bump(k); field(k, "age").Required.Always = true }, "required", "age", 0},
		{"a new field required", func(k *schemas.Kit) {
			bump(k)
			k.Types[0].Fields = append(k.Types[0].Fields, &schemas.Field{Name: "reporter", Type: schemas.Text, Label: l, Required: schemas.Requirement{Always: true}})
		}, "required", "reporter", 0},
		{"a field's value type changed", func(k *schemas.Kit) { bump(k); field(k, "age").Type = schemas.Decimal }, "type", "age", 0},
		{"a reference moved", func(k *schemas.Kit) {
			bump(k)
			k.Types = append(k.Types, &schemas.Type{Name: "shelter", Version: 1, Title: l, Priority: 2,
				Fields: []*schemas.Field{{Name: "name", Type: schemas.Text, Label: l}}})
			field(k, "found_at").Ref = "shelter"
		}, "ref", "found_at", 0},
		{"a change without a new schema version", func(k *schemas.Kit) {
			k.Version = "1.1.0"
			field(k, "status").Choices = append(field(k, "status").Choices, schemas.ChoiceItem{Value: "deceased", EN: "Deceased", ES: "Fallecida"})
		}, "version", "", 0},
		{"a label changed without a new schema version", func(k *schemas.Kit) {
			k.Version = "1.1.0"
			field(k, "age").Label = schemas.Label{EN: "Age (years)", ES: "Edad (años)"}
		}, "version", "", 0},
		{"a schema version lowered", func(k *schemas.Kit) { k.Version = "1.1.0" }, "version", "", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prev, next := successorBase(t), successorBase(t)
			prev.Types[0].Version = max(c.from, 1)
			c.change(next)
			if errs := next.Check(); len(errs) > 0 {
				t.Fatalf("the changed kit does not check: %v", errs[0])
			}
			errs := next.CheckSuccessor(prev)
			if c.key == "" {
				for _, e := range errs {
					t.Errorf("refused: %v", e)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("%d refusals, want 1: %v", len(errs), errs)
			}
			e := errs[0]
			if e.Key != c.key || e.Field != c.field || e.Kit != "missing-persons" {
				t.Fatalf("refused %s (kit %q, field %q), want %s of field %q: %v", e.Key, e.Kit, e.Field, c.key, c.field, e)
			}
			if c.field != "" && !strings.Contains(e.Error(), "field "+c.field) {
				t.Fatalf("the error does not name the field: %v", e)
			}
		})
	}
}

// The update that came to the ledger: a new missing-persons kit cleared
// personal on full_name, moved the type from lane 1 to 9 and cut a bound,
// with the type's schema version unchanged. Every one of those is refused,
// each naming the kit, the type and the field.
func TestCheckSuccessorRefusesEveryWithdrawnPromise(t *testing.T) {
	prev, next := successorBase(t), successorBase(t)
	next.Version = "1.1.0"
	f, _ := next.Types[0].Field("full_name")
	f.Personal, f.Max = false, ptr(40)
	next.Types[0].Priority = 9
	errs := next.CheckSuccessor(prev)
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Key] = true
		if e.Kit != "missing-persons" || e.Type != "missing-person" {
			t.Errorf("an error that does not name the kit and type: %+v", e)
		}
	}
	for _, key := range []string{"personal", "priority", "max", "version"} {
		if !got[key] {
			t.Errorf("no refusal of %s: %v", key, errs)
		}
	}
	if len(errs) != 4 {
		t.Fatalf("%d refusals, want 4: %v", len(errs), errs)
	}
}
