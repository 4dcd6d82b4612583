package schemas_test

// Tests of the rules that mutation testing (make mutate) found unpinned:
// each bound on both sides of its edge, on both paths a value takes (typed
// here, ParseJSON; written by another node, Field.Check), and where a
// mistake in a kit is located.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"lifeline/schemas"
	"lifeline/syncproto"
)

// boundsType has the fields whose bounds the tests below walk.
func boundsType(t *testing.T) *schemas.Type {
	t.Helper()
	l := schemas.Label{EN: "x", ES: "x"}
	k := &schemas.Kit{Name: "bounds-kit", Version: "1.0", Title: l, Types: []*schemas.Type{{
		Name: "bounds", Version: 1, Title: l, Priority: 2,
		Fields: []*schemas.Field{
			{Name: "short", Type: schemas.Text, Label: l, Max: ptr(5)},
			{Name: "long", Type: schemas.Text, Label: l, Min: ptr(10), Max: ptr(100)},
			{Name: "free", Type: schemas.Text, Label: l},
			{Name: "signed", Type: schemas.Integer, Label: l, Min: ptr(-30), Max: ptr(30)},
			{Name: "wide", Type: schemas.Integer, Label: l},
			{Name: "at", Type: schemas.DateTime, Label: l},
			{Name: "where", Type: schemas.Geo, Label: l},
			{Name: "photos", Type: schemas.Photo, Label: l},
		},
	}}}
	if errs := k.Check(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return k.Types[0]
}

func cborOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := syncproto.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bothPaths checks that a value is accepted, or refused, alike when a
// person types it (json, parsed as an update) and when a peer's change
// carries it (cbor, checked).
func bothPaths(t *testing.T, ty *schemas.Type, field, json string, cbor []byte, ok bool) {
	t.Helper()
	_, err := ty.ParseJSON([]byte(fmt.Sprintf(`{%q: %s}`, field, json)), schemas.Update)
	if (err == nil) != ok {
		t.Errorf("%s = %s typed: %v, want ok %v", field, json, err, ok)
	}
	f, _ := ty.Field(field)
	if err := f.Check(cbor); (err == nil) != ok {
		t.Errorf("%s = %s from a peer: %v, want ok %v", field, json, err, ok)
	}
}

func TestTextBoundsCountCharacters(t *testing.T) {
	ty := boundsType(t)
	for _, c := range []struct {
		field, text string
		ok          bool
	}{
		{"short", "ñññññ", true}, // 5 characters in 10 bytes
		{"short", "ññññññ", false},
		{"long", "abcdefghij", true}, // 10, the minimum
		{"long", "abcdefghi", false},
		{"long", "€€€€€€€€€€", true}, // 10 characters in 30 bytes
		{"long", "€€€€", false},      // 4 characters in 12 bytes
		{"free", strings.Repeat("a", schemas.DefaultMaxText), true},
		{"free", strings.Repeat("a", schemas.DefaultMaxText+1), false},
		{"free", strings.Repeat("ñ", schemas.DefaultMaxText), true},
	} {
		bothPaths(t, ty, c.field, fmt.Sprintf("%q", c.text), cborOf(t, c.text), c.ok)
	}
}

func TestPointsOnEarthInclusive(t *testing.T) {
	ty := boundsType(t)
	for _, c := range []struct {
		lat, lon float64
		ok       bool
	}{
		{90, 180, true}, // the north pole, on the antimeridian
		{-90, -180, true},
		{90.000001, 0, false},
		{-90.000001, 0, false},
		{0, 180.000001, false},
		{0, -180.000001, false},
	} {
		json := fmt.Sprintf(`{"lat": %v, "lon": %v}`, c.lat, c.lon)
		bothPaths(t, ty, "where", json, cborOf(t, [2]float64{c.lat, c.lon}), c.ok)
	}
}

func TestDateTimeYearsInclusive(t *testing.T) {
	ty := boundsType(t)
	for _, c := range []struct {
		at string
		ok bool
	}{
		{"1900-01-01T00:00:00Z", true},
		{"1899-12-31T23:59:59Z", false},
		{"2200-12-31T23:59:59Z", true},
		{"2201-01-01T00:00:00Z", false},
		{"1900-01-01T00:30:00+01:00", false}, // 1899 in UTC
	} {
		bothPaths(t, ty, "at", fmt.Sprintf("%q", c.at), cborOf(t, c.at), c.ok)
	}
}

func TestIntegerExtremes(t *testing.T) {
	ty := boundsType(t)
	for _, c := range []struct {
		field string
		v     any
		ok    bool
	}{
		{"wide", int64(math.MaxInt64), true},
		{"wide", int64(math.MinInt64), true},
		{"wide", uint64(math.MaxInt64) + 1, false}, // no int64 holds it
		{"signed", -30, true},
		{"signed", -31, false},
		{"signed", -25, true},
		{"signed", 30, true},
		{"signed", 31, false},
	} {
		bothPaths(t, ty, c.field, fmt.Sprint(c.v), cborOf(t, c.v), c.ok)
	}
	// A negative number read as its magnitude less one would pass the
	// bound of a count.
	count, _ := testType(t).Field("count")
	for _, v := range []int{-25, -101} {
		if err := count.Check(cborOf(t, v)); err == nil {
			t.Errorf("count = %d from a peer was accepted; its minimum is 0", v)
		}
	}
}

func TestOutOfRangeErrorNamesTheValue(t *testing.T) {
	depth, _ := testType(t).Field("depth")
	err := depth.Check(cborOf(t, 10.25))
	if err == nil || !strings.Contains(err.Error(), "10.25") {
		t.Fatalf("depth 10.25 from a peer: %v, want an error naming 10.25", err)
	}
}

func TestPhotoReferenceLength(t *testing.T) {
	ty := boundsType(t)
	for _, n := range []int{1, schemas.MaxPhotoRefLen, schemas.MaxPhotoRefLen + 1} {
		ref := strings.Repeat("p", n)
		bothPaths(t, ty, "photos", fmt.Sprintf("[%q]", ref), cborOf(t, []string{ref}), n <= schemas.MaxPhotoRefLen)
	}
}

// Choices arrive from a peer as a local edit stores them: the value the
// kit lists, and for a multi field each once, in the kit's order
// (docs/kits.md).
func TestChoicesFromPeersAsStored(t *testing.T) {
	ty := testType(t)
	status, _ := ty.Field("status")
	needs, _ := ty.Field("needs")
	for _, c := range []struct {
		f  *schemas.Field
		v  any
		ok bool
	}{
		{status, "open", true},
		{status, "closed", true},
		{status, "Open", false},
		{status, "pending", false},
		{needs, []string{"water", "food"}, true},
		{needs, []string{"fuel"}, true},
		{needs, []string{}, true},
		{needs, []string{"food", "water"}, false},
		{needs, []string{"water", "water"}, false},
		{needs, []string{"Water"}, false},
		{needs, []string{"ice"}, false},
	} {
		if err := c.f.Check(cborOf(t, c.v)); (err == nil) != c.ok {
			t.Errorf("%s = %v from a peer: %v, want ok %v", c.f.Name, c.v, err, c.ok)
		}
	}
	// What a person types is stored in that form, and passes the check.
	in, err := ty.ParseJSON([]byte(`{"needs": [" FOOD", "Water"], "status": "CLOSED"}`), schemas.Update)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"needs": []string{"water", "food"}, "status": "closed"}
	for _, fc := range in.Fields {
		if got, w := fc.Value, cborOf(t, want[fc.Name]); string(got) != string(w) {
			t.Errorf("%s stored as % x, want % x", fc.Name, got, w)
		}
		f, _ := ty.Field(fc.Name)
		if err := f.Check(fc.Value); err != nil {
			t.Errorf("%s as stored fails the peer check: %v", fc.Name, err)
		}
	}
}

// A field or type made in code, never linked by Kit.Check, works alike.
func TestFieldsWithoutKitCheck(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	status := &schemas.Field{Name: "status", Type: schemas.Choice, Label: l, Choices: []schemas.ChoiceItem{{Value: "open"}, {Value: "closed"}}}
	needs := &schemas.Field{Name: "needs", Type: schemas.Multi, Label: l, Choices: []schemas.ChoiceItem{{Value: "water"}, {Value: "food"}}}
	if err := status.Check(cborOf(t, "open")); err != nil {
		t.Errorf("the first choice: %v", err)
	}
	if err := status.Check(cborOf(t, "OPEN")); err == nil {
		t.Error("a choice not spelled as listed was accepted")
	}
	if err := needs.Check(cborOf(t, []string{"water", "food"})); err != nil {
		t.Errorf("both choices: %v", err)
	}
	if err := needs.Check(cborOf(t, []string{"food", "water"})); err == nil {
		t.Error("choices out of the kit's order were accepted")
	}
	if c, ok := status.Choice(" OPEN "); !ok || c.Value != "open" {
		t.Errorf("the first choice as a person types it: %v %v", c, ok)
	}
	ty := &schemas.Type{Name: "t", Fields: []*schemas.Field{status, needs}}
	if f, ok := ty.Field("needs"); !ok || f != needs {
		t.Error("a type not linked to a kit does not find its field")
	}
	if _, ok := ty.Field("nope"); ok {
		t.Error("a type found a field it does not have")
	}
}

func TestKitBoundsInclusive(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	choices := func(n int) []schemas.ChoiceItem {
		out := make([]schemas.ChoiceItem, n)
		for i := range out {
			out[i] = schemas.ChoiceItem{Value: fmt.Sprint("c", i), EN: "x", ES: "x"}
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    schemas.Field
		ok   bool
	}{
		{"500 choices", schemas.Field{Type: schemas.Choice, Choices: choices(schemas.MaxChoices)}, true},
		{"501 choices", schemas.Field{Type: schemas.Choice, Choices: choices(schemas.MaxChoices + 1)}, false},
		{"min equal to max", schemas.Field{Type: schemas.Integer, Min: ptr(3), Max: ptr(3)}, true},
		{"min over max", schemas.Field{Type: schemas.Integer, Min: ptr(4), Max: ptr(3)}, false},
		{"a negative integer bound", schemas.Field{Type: schemas.Integer, Min: ptr(-5)}, true},
		{"a text of at least 0 characters", schemas.Field{Type: schemas.Text, Min: ptr(0)}, true},
		{"a text of at least -1 characters", schemas.Field{Type: schemas.Text, Min: ptr(-1)}, false},
		{"a text of 20,000 characters", schemas.Field{Type: schemas.Text, Max: ptr(schemas.MaxTextLimit)}, true},
		{"a text of 20,001 characters", schemas.Field{Type: schemas.Text, Max: ptr(schemas.MaxTextLimit + 1)}, false},
	} {
		f := c.f
		f.Name, f.Label = "f", l
		k := &schemas.Kit{Name: "k-kit", Version: "1.0", Title: l, Types: []*schemas.Type{{Name: "t-type", Version: 1, Title: l, Priority: 1, Fields: []*schemas.Field{&f}}}}
		if errs := k.Check(); (len(errs) == 0) != c.ok {
			t.Errorf("%s: %v", c.name, errs)
		}
	}
}

type place struct{ typeIndex, fieldIdx int }

func placeOf(errs []*schemas.DefinitionError, key string) (place, bool) {
	for _, e := range errs {
		if e.Key == key {
			return place{e.TypeIndex, e.FieldIdx}, true
		}
	}
	return place{}, false
}

// A loader points at the line of a mistake by its type and field indexes,
// -1 where the mistake is not in one (schemas.DefinitionError).
func TestDefinitionErrorsLocated(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	k := &schemas.Kit{Name: "located", Version: "one", Title: l, Types: []*schemas.Type{
		{Name: "first", Version: 1, Title: l, Priority: 1, Fields: []*schemas.Field{{Name: "a", Type: schemas.Text, Label: l}}},
		{Name: "second", Version: 1, Title: l, Priority: 12, Fields: []*schemas.Field{
			{Name: "a", Type: schemas.Text, Label: l}, {Name: "b", Type: "colour", Label: l}}},
	}}
	errs := k.Check()
	for key, want := range map[string]place{"version": {-1, -1}, "priority": {1, -1}, "type": {1, 1}} {
		if got, ok := placeOf(errs, key); !ok || got != want {
			t.Errorf("the mistake in %s is at %+v (found %v), want %+v", key, got, ok, want)
		}
	}

	prev, next := successorTwoTypes(t), successorTwoTypes(t)
	next.Version = "0.9"
	next.Types = next.Types[1:] // the first type removed
	next.Types[0].Priority = 3
	next.Types[0].Fields[0].Personal = false
	if errs := next.Check(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	errs = next.CheckSuccessor(prev)
	for key, want := range map[string]place{"version": {-1, -1}, "types": {-1, -1}, "priority": {0, -1}, "personal": {0, 0}} {
		if got, ok := placeOf(errs, key); !ok || got != want {
			t.Errorf("successor: the mistake in %s is at %+v (found %v), want %+v", key, got, ok, want)
		}
	}
}

func successorTwoTypes(t *testing.T) *schemas.Kit {
	k := successorBase(t)
	l := schemas.Label{EN: "x", ES: "x"}
	k.Types = append([]*schemas.Type{{Name: "shelter", Version: 1, Title: l, Priority: 4,
		Fields: []*schemas.Field{{Name: "name", Type: schemas.Text, Label: l}}}}, k.Types...)
	if errs := k.Check(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return k
}

func TestSuccessorRules(t *testing.T) {
	l := schemas.Label{EN: "x", ES: "x"}
	mistakes := func(edit func(next *schemas.Kit)) string {
		prev, next := successorBase(t), successorBase(t)
		edit(next)
		if errs := next.Check(); len(errs) > 0 {
			t.Fatal(errs[0])
		}
		var text []string
		for _, e := range next.CheckSuccessor(prev) {
			text = append(text, e.Error())
		}
		return strings.Join(text, "\n")
	}
	// Everything a successor may do, at once: no mistake.
	if m := mistakes(func(k *schemas.Kit) {
		k.Version = "1.0.1"
		ty := k.Types[0]
		ty.Version = 2
		ty.Fields = append(ty.Fields, &schemas.Field{Name: "shoe_size", Type: schemas.Integer, Label: l})
		f, _ := ty.Field("needs")
		f.Choices = append(f.Choices, schemas.ChoiceItem{Value: "food", EN: "Food", ES: "Comida"})
		age, _ := ty.Field("age")
		age.Max = ptr(130)
	}); m != "" {
		t.Errorf("a compatible successor was refused:\n%s", m)
	}
	for _, c := range []struct {
		name string
		edit func(*schemas.Kit)
		want string
	}{
		{"the same version", func(k *schemas.Kit) {}, "is not after 1.0.0"},
		{"another kit", func(k *schemas.Kit) { k.Name, k.Version = "shelters", "2.0" }, `replaces kit "missing-persons"`},
		{"a label changed, the version kept", func(k *schemas.Kit) {
			k.Version = "1.1"
			k.Types[0].Title.EN = "Missing"
		}, "still 1: raise it to 2"},
		{"a choice moved", func(k *schemas.Kit) {
			k.Version = "1.1"
			f, _ := k.Types[0].Field("needs")
			f.Choices[0], f.Choices[1] = f.Choices[1], f.Choices[0]
		}, `choice "insulin" is moved before another`},
		{"a choice removed", func(k *schemas.Kit) {
			k.Version = "1.1"
			f, _ := k.Types[0].Field("needs")
			f.Choices = f.Choices[1:]
		}, `choice "water" is removed`},
	} {
		if m := mistakes(c.edit); !strings.Contains(m, c.want) {
			t.Errorf("%s: no mistake says %q in:\n%s", c.name, c.want, m)
		}
	}
}

func TestRecordErrorsSayWhere(t *testing.T) {
	ty := testType(t)
	if _, err := ty.ParseJSON([]byte(`{"kit": "test-kit", "open": true}`), schemas.Update); err != nil {
		t.Fatalf("a record naming its own kit: %v", err)
	}
	for _, c := range []struct{ json, want string }{
		{`{"kit": "other-kit", "open": true}`, `every: kit "other-kit" does not match`},
		{`{"kit": 5, "open": true}`, "every: kit number does not match"},
		{`{"count": 101}`, "every.count: 101 is above the maximum 100 (rule max)"},
	} {
		_, err := ty.ParseJSON([]byte(c.json), schemas.Update)
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to start %q", c.json, err, c.want)
		}
	}
}

func TestDecodeAndFormat(t *testing.T) {
	ty := testType(t)
	field := func(name string) *schemas.Field { f, _ := ty.Field(name); return f }
	for _, c := range []struct {
		field string
		raw   []byte
		want  any
	}{
		{"count", cborOf(t, 5), int64(5)},
		{"depth", cborOf(t, 10), float64(10)}, // a decimal written as an integer
		{"depth", cborOf(t, 2.5), 2.5},
		{"count", cborOf(t, 2.5), 2.5}, // written under another version: kept as it is
		{"where", cborOf(t, [2]float64{17.25, -88.77}), map[string]float64{"lat": 17.25, "lon": -88.77}},
	} {
		got, err := field(c.field).Decode(c.raw)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s % x decoded as %#v, %v; want %#v", c.field, c.raw, got, err, c.want)
		}
	}
	for _, c := range []struct {
		field, lang string
		raw         []byte
		want        string
	}{
		{"status", "es", cborOf(t, "open"), "Abierto"},
		{"needs", "es", cborOf(t, []string{"water", "food"}), "Agua, Comida"},
		{"needs", "en", cborOf(t, []string{"fuel"}), "Fuel"},
	} {
		if got := field(c.field).Format(c.raw, c.lang); got != c.want {
			t.Errorf("%s in %s: %q, want %q", c.field, c.lang, got, c.want)
		}
	}
}

// ruleOf is the rule a field's error names, or "" for no *FieldError.
func ruleOf(err error) string {
	var fe *schemas.FieldError
	if errors.As(err, &fe) {
		return fe.Rule
	}
	return ""
}

// A list of choices from a peer is a CBOR array of text strings, whole: a
// number, a map, an array of something else, or an array cut short is
// refused as the wrong type, not read as some list.
func TestMultiFromPeersIsAListOfText(t *testing.T) {
	needs, _ := testType(t).Field("needs")
	for _, c := range []struct {
		name string
		raw  []byte
	}{
		{"the number 0", []byte{0x00}},
		{"an empty map", []byte{0xa0}},
		{"a text of one backquote", []byte{0x61, 0x60}},
		{"a list of the number 0", []byte{0x81, 0x00}},
		{"a list of an empty map", []byte{0x81, 0xa0}},
		{`a list of "abc" cut after "ab"`, []byte{0x81, 0x63, 'a', 'b'}},
		{`a list of "water" cut after "wat"`, []byte{0x81, 0x65, 'w', 'a', 't'}},
	} {
		// In a buffer of its own, so that reading past the end fails there.
		raw := append(make([]byte, 0, len(c.raw)), c.raw...)
		if err := needs.Check(raw); ruleOf(err) != "type" {
			t.Errorf("needs = %s (% x) from a peer: %v, want a type error", c.name, c.raw, err)
		}
	}
}

// A list of numbers typed for a list of choices is refused as the wrong
// type, however long the numbers are written.
func TestMultiTypedAsNumbersRefused(t *testing.T) {
	ty := testType(t)
	for _, json := range []string{
		`{"needs": [1]}`,
		`{"needs": [123456789012345678901234567890, 1e300]}`,
	} {
		_, err := ty.ParseJSON([]byte(json), schemas.Update)
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) || len(ve.Errs) != 1 || ve.Errs[0].Field != "needs" || ve.Errs[0].Rule != "type" {
			t.Errorf("%s: %v, want one type error on needs", json, err)
		}
	}
}
