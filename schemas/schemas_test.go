package schemas_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"lifeline/fieldkits"
	"lifeline/schemas"
)

func ptr(f float64) *float64 { return &f }

// testType has one field of every type.
func testType(t *testing.T) *schemas.Type {
	t.Helper()
	l := schemas.Label{EN: "x", ES: "x"}
	k := &schemas.Kit{Name: "test-kit", Version: "1.0", Title: l, Types: []*schemas.Type{{
		Name: "every", Version: 2, Title: l, Priority: 1,
		Fields: []*schemas.Field{
			{Name: "name", Type: schemas.Text, Label: l, Required: schemas.Requirement{Always: true}, Max: ptr(10), Personal: true},
			{Name: "count", Type: schemas.Integer, Label: l, Min: ptr(0), Max: ptr(100)},
			{Name: "depth", Type: schemas.Decimal, Label: l, Min: ptr(-1.5), Max: ptr(10)},
			{Name: "open", Type: schemas.Bool, Label: l},
			{Name: "status", Type: schemas.Choice, Label: l, Choices: []schemas.ChoiceItem{{Value: "open", EN: "Open", ES: "Abierto"}, {Value: "closed", EN: "Closed", ES: "Cerrado"}}},
			{Name: "needs", Type: schemas.Multi, Label: l, Max: ptr(2), Choices: []schemas.ChoiceItem{{Value: "water", EN: "Water", ES: "Agua"}, {Value: "food", EN: "Food", ES: "Comida"}, {Value: "fuel", EN: "Fuel", ES: "Combustible"}}},
			{Name: "day", Type: schemas.Date, Label: l},
			{Name: "at", Type: schemas.DateTime, Label: l},
			{Name: "where", Type: schemas.Geo, Label: l},
			{Name: "photos", Type: schemas.Photo, Label: l, Max: ptr(2)},
			{Name: "shelter", Type: schemas.Ref, Label: l, Ref: "every"},
		},
	}}}
	if errs := k.Check(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return k.Types[0]
}

func TestParseValidValues(t *testing.T) {
	ty := testType(t)
	in, err := ty.ParseJSON([]byte(`{"name":"Ana","count":3,"depth":1.25,"open":true,"status":"CLOSED",
		"needs":["fuel","water"],"day":"2024-11-05","at":"2024-11-05T08:00:00-06:00","where":{"lat":17.25,"lon":-88.77},
		"photos":"img-001.jpg","shelter":"01890A5D-AC96-774B-BCCE-B302099A8050","id":"01890a5d-ac96-774b-bcce-b302099a8051"}`), schemas.Create)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "01890a5d-ac96-774b-bcce-b302099a8051" {
		t.Fatalf("id %q", in.ID)
	}
	got := map[string]any{}
	for i, v := range in.Fields {
		if i > 0 && in.Fields[i-1].Name >= v.Name {
			t.Fatal("values not sorted by name")
		}
		f, _ := ty.Field(v.Name)
		d, err := f.Decode(v.Value)
		if err != nil {
			t.Fatal(err)
		}
		got[v.Name] = d
	}
	want := map[string]string{
		"name": "Ana", "count": "3", "depth": "1.25", "open": "true",
		"status":  "closed",                               // canonical spelling of the choice
		"needs":   "[water fuel]",                         // in the kit's order
		"at":      "2024-11-05T14:00:00Z",                 // in UTC
		"photos":  "[img-001.jpg]",                        // one reference is a list of one
		"shelter": "01890a5d-ac96-774b-bcce-b302099a8050", // canonical UUID
		"where":   "map[lat:17.25 lon:-88.77]",
	}
	for k, w := range want {
		if s := fmtAny(got[k]); s != w {
			t.Errorf("%s = %s, want %s", k, s, w)
		}
	}
	f, _ := ty.Field("status")
	if s := f.Format(in.Fields[indexOf(in, "status")].Value, "es"); s != "Cerrado" {
		t.Errorf("Spanish label %q", s)
	}
}

func indexOf(in schemas.Input, name string) int {
	for i, v := range in.Fields {
		if v.Name == name {
			return i
		}
	}
	return -1
}

// fmtAny prints a decoded value compactly for comparison.
func fmtAny(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmtAny(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]float64:
		return "map[lat:" + fmtAny(x["lat"]) + " lon:" + fmtAny(x["lon"]) + "]"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return "?"
}

func TestParseRefusals(t *testing.T) {
	ty := testType(t)
	for _, tc := range []struct {
		json, field, rule, text string
		mode                    schemas.Mode
	}{
		{`{"count":1}`, "name", "required", "is required", schemas.Create},
		{`{"name":"  "}`, "name", "required", "blank", schemas.Create},
		{`{"name":"Ana Maria Chen Pop"}`, "name", "max", "at most 10", schemas.Create},
		{`{"name":5}`, "name", "type", "must be text, not number", schemas.Create},
		{`{"name":"a","count":1.5}`, "count", "type", "not a whole number", schemas.Create},
		{`{"name":"a","count":101}`, "count", "max", "above the maximum 100", schemas.Create},
		{`{"name":"a","count":-1}`, "count", "min", "below the minimum 0", schemas.Create},
		{`{"name":"a","depth":1e400}`, "depth", "type", "not a number", schemas.Create},
		{`{"name":"a","open":"yes"}`, "open", "type", "true or false", schemas.Create},
		{`{"name":"a","status":"ajar"}`, "status", "choices", `"ajar" is not one of "open", "closed"`, schemas.Create},
		{`{"name":"a","needs":["water","water"]}`, "needs", "choices", "chosen twice", schemas.Create},
		{`{"name":"a","needs":["water","food","fuel"]}`, "needs", "max", "at most 2", schemas.Create},
		{`{"name":"a","day":"05/11/2024"}`, "day", "format", "2024-11-27", schemas.Create},
		{`{"name":"a","at":"2024-11-05 08:00"}`, "at", "format", "with its zone", schemas.Create},
		{`{"name":"a","where":{"lat":95,"lon":0}}`, "where", "format", "not a point on Earth", schemas.Create},
		{`{"name":"a","where":[17,-88]}`, "where", "type", "a point like", schemas.Create},
		{`{"name":"a","photos":["a","b","c"]}`, "photos", "max", "at most 2", schemas.Create},
		{`{"name":"a","shelter":"shelter-3"}`, "shelter", "format", "not a record id", schemas.Create},
		{`{"name":"a","colour":"red"}`, "colour", "unknown", `has no field "colour"`, schemas.Create},
		{`{"name":"a","kit":"other"}`, "", "kit", "belongs to kit", schemas.Create},
		{`{"name":null}`, "name", "required", "cannot be empty", schemas.Update},
		{`{}`, "", "required", "at least one field", schemas.Update},
	} {
		_, err := ty.ParseJSON([]byte(tc.json), tc.mode)
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s: got %v, want a validation error", tc.json, err)
			continue
		}
		fe := ve.Errs[0]
		if fe.Type != "every" || fe.Field != tc.field || fe.Rule != tc.rule || !strings.Contains(fe.Msg, tc.text) {
			t.Errorf("%s: got %q (field %q rule %q), want field %q rule %q mentioning %q", tc.json, err, fe.Field, fe.Rule, tc.field, tc.rule, tc.text)
		}
		if !strings.HasPrefix(err.Error(), "every") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q does not start with the type or is not one line", tc.json, err)
		}
	}
	// Every broken rule is reported, not only the first.
	_, err := ty.ParseJSON([]byte(`{"count":500,"open":1}`), schemas.Create)
	var ve *schemas.ValidationError
	if !errors.As(err, &ve) || len(ve.Errs) != 3 || !strings.Contains(err.Error(), "(and 2 more)") {
		t.Fatalf("got %v", err)
	}
	// A required field given with a bad value is reported once, for its
	// value, not also as missing.
	_, err = ty.ParseJSON([]byte(`{"name":42}`), schemas.Create)
	if !errors.As(err, &ve) || len(ve.Errs) != 1 || ve.Errs[0].Rule != "type" {
		t.Fatalf("got %v", err)
	}
	// An update may clear an optional field.
	in, err := ty.ParseJSON([]byte(`{"count":null}`), schemas.Update)
	if err != nil || len(in.Fields) != 1 || string(in.Fields[0].Value) != string(schemas.Null) {
		t.Fatalf("clearing: %+v %v", in, err)
	}
	if _, err := ty.ParseJSON([]byte(`{"name":`), schemas.Create); !errors.Is(err, schemas.ErrInvalid) || !strings.Contains(err.Error(), "malformed JSON at byte") {
		t.Fatalf("malformed: %v", err)
	}
}

func TestKitCheckFindsEveryMistake(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	k := &schemas.Kit{Name: "Bad Kit", Version: "one", Title: schemas.Label{EN: "x"}, Types: []*schemas.Type{{
		Name: "t", Version: 0, Title: l, Priority: 12, Summary: []string{"nope"},
		Fields: []*schemas.Field{
			{Name: "id", Type: schemas.Text, Label: l},
			{Name: "a", Type: "colour", Label: l},
			{Name: "b", Type: schemas.Choice, Label: l},
			{Name: "c", Type: schemas.Bool, Label: l, Max: ptr(1)},
			{Name: "d", Type: schemas.Integer, Label: l, Min: ptr(5), Max: ptr(1)},
			{Name: "e", Type: schemas.Ref, Label: l},
		},
	}}}
	errs := k.Check()
	var text []string
	for _, e := range errs {
		text = append(text, e.Error())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"kit Bad Kit, kit: name", "version: \"one\"", "title: needs a Spanish", "type t",
		"sync priority", "schema version", `summary: names "nope"`, `field id, name`, `"colour" is not a field type`,
		"lists its choices", "has no min or max", "max 1 is below min 5", "names the record type it refers to"} {
		if !strings.Contains(all, want) {
			t.Errorf("no mistake mentions %q in:\n%s", want, all)
		}
	}
}

func TestDistricts(t *testing.T) {
	if d, ok := schemas.District("  stann   creek "); !ok || d != "Stann Creek" {
		t.Fatalf("got %q %v", d, ok)
	}
	if _, ok := schemas.District("Petén"); ok {
		t.Fatal("a Guatemalan department is not a district of Belize")
	}
	for _, d := range schemas.Districts {
		if len(schemas.DistrictCode[d]) != 3 {
			t.Errorf("district %s has no three-letter code", d)
		}
	}
}

// Whatever bytes arrive, parsing a record of any kit type never panics,
// and what it accepts decodes again.
func FuzzParseJSON(f *testing.F) {
	cat, err := fieldkits.Embedded()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"district":"Cayo","village":"San Ignacio","lat":17.1,"lon":-89.0,"structure_type":"thatch","damage_level":2,"household_size":3,"reported_by":"v","reported_at":"2024-11-05T08:00:00Z"}`)
	f.Add(`{"full_name":"Maria","district":"Toledo","status":"missing","needs":["water","water"],"last_seen_location":{"lat":16.1,"lon":-88.8}}`)
	f.Add(`{"photos":["a",1],"damage_level":-0,"lat":1e999}`)
	f.Add(`[]`)
	names := cat.TypeNames()
	f.Fuzz(func(t *testing.T, data string) {
		for _, name := range names {
			ty, _ := cat.Type(name)
			for _, mode := range []schemas.Mode{schemas.Create, schemas.Update} {
				in, err := ty.ParseJSON([]byte(data), mode)
				if err != nil {
					if !errors.Is(err, schemas.ErrInvalid) {
						t.Fatalf("%s: error %v does not wrap ErrInvalid", name, err)
					}
					continue
				}
				for _, v := range in.Fields {
					fld, _ := ty.Field(v.Name)
					if _, err := fld.Decode(v.Value); err != nil {
						t.Fatalf("%s.%s: accepted value does not decode: %v", name, v.Name, err)
					}
				}
			}
		}
	})
}
