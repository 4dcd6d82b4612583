package schemas

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lifeline/schemas/internal/jsonscan"
	"lifeline/syncproto"
)

// ErrInvalid is wrapped by every error about a record that does not fit its
// type.
var ErrInvalid = errors.New("invalid record")

// FieldError is one broken rule: which type, which field, which rule.
type FieldError struct {
	Type  string
	Field string
	Rule  string // required, type, min, max, choices, format, unknown, kit, id
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s (rule %s)", e.Type, e.Msg, e.Rule)
	}
	return fmt.Sprintf("%s.%s: %s (rule %s)", e.Type, e.Field, e.Msg, e.Rule)
}

// ValidationError holds every broken rule of one record, so a form can mark
// every field at once. Its text is one line.
type ValidationError struct {
	Errs []*FieldError
}

func (e *ValidationError) Error() string {
	switch len(e.Errs) {
	case 0:
		return "invalid record"
	case 1:
		return e.Errs[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", e.Errs[0].Error(), len(e.Errs)-1)
}

func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Null is the CBOR value that clears a field.
var Null = []byte{0xf6}

// Input is a record given as JSON, checked against its type.
type Input struct {
	// ID is the record id the input named, if any.
	ID string
	// Fields are the values given, sorted by name, each one canonical CBOR
	// item, ready for a change (the store fills in their bases). An
	// update's null value clears the field; a new record leaves out what
	// it does not set.
	Fields []syncproto.FieldChange
}

// Mode says what a check of an input requires.
type Mode int

const (
	// Create requires every required field.
	Create Mode = iota
	// Update requires only that the fields given are valid, and that no
	// required field is cleared.
	Update
)

// inputLimits bound a record given as JSON: far above any real record,
// far below what would hurt a laptop.
var inputLimits = jsonscan.Limits{MaxBytes: 1 << 20, MaxDepth: 6, MaxMembers: 1000}

// ParseJSON checks a JSON object against the type and returns its canonical
// values. An error wraps ErrInvalid; a *ValidationError lists every broken
// rule, a malformed JSON text gives a *jsonscan.Error.
func (t *Type) ParseJSON(data []byte, mode Mode) (Input, error) {
	members, err := jsonscan.ParseObject(data, inputLimits)
	if err != nil {
		return Input{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return t.Parse(members, mode)
}

// Parse is ParseJSON for an already parsed object.
func (t *Type) Parse(members []jsonscan.Member, mode Mode) (Input, error) {
	var in Input
	var errs []*FieldError
	fail := func(field, rule, format string, args ...any) {
		errs = append(errs, &FieldError{Type: t.Name, Field: field, Rule: rule, Msg: fmt.Sprintf(format, args...)})
	}
	in.Fields = make([]syncproto.FieldChange, 0, len(members))
	given := 0 // members that name a field of the type
	buf := make([]byte, 0, jsonSize(members))
	for _, m := range members {
		switch m.Key {
		case KeyID:
			if m.Value.Kind != jsonscan.String {
				fail("", "id", "id must be a string, not %s", m.Value.Kind)
				continue
			}
			in.ID = m.Value.Str
			continue
		case KeyKit:
			if m.Value.Kind != jsonscan.String || m.Value.Str != t.Kit {
				fail("", "kit", "kit %s does not match: type %s belongs to kit %q", describe(m.Value), t.Name, t.Kit)
			}
			continue
		}
		f, ok := t.Field(m.Key)
		if !ok {
			fail(m.Key, "unknown", "type %s has no field %q", t.Name, m.Key)
			continue
		}
		given++
		if f.Type == Repeat {
			var rows []syncproto.FieldChange
			rows, buf = t.parseRows(f, m.Value, mode, buf, fail)
			in.Fields = append(in.Fields, rows...)
			continue
		}
		if m.Value.Kind == jsonscan.Null {
			switch {
			case f.Required.Always:
				fail(f.Name, "required", "is required and cannot be empty")
			case mode == Update:
				in.Fields = append(in.Fields, syncproto.FieldChange{Name: f.Name, Value: Null})
			}
			continue
		}
		// All of a record's values share one buffer: one allocation, not
		// one per field.
		start := len(buf)
		next, err := f.encode(buf, m.Value)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				fe.Type, fe.Field = t.Name, f.Name
				errs = append(errs, fe)
			} else {
				fail(f.Name, "type", "%v", err)
			}
			continue
		}
		buf = next
		in.Fields = append(in.Fields, syncproto.FieldChange{Name: f.Name, Value: buf[start:len(buf):len(buf)]})
	}
	if mode == Create && given < len(t.Fields) {
		for _, f := range t.Fields {
			// A field with logic is required as Apply decides.
			if f.Required.Always && f.Relevant == "" && f.Calculate == "" && !slices.ContainsFunc(members, func(m jsonscan.Member) bool { return m.Key == f.Name }) {
				fail(f.Name, "required", "is required")
			}
		}
	}
	if mode == Update && len(in.Fields) == 0 && len(errs) == 0 {
		fail("", "required", "an update sets at least one field")
	}
	if len(in.Fields) > syncproto.MaxFields {
		fail("", "max", "sets %d fields, and one change sets at most %d: add the other rows in a later update", len(in.Fields), syncproto.MaxFields)
	}
	if len(errs) > 0 {
		return Input{}, &ValidationError{Errs: errs}
	}
	slices.SortFunc(in.Fields, func(a, b syncproto.FieldChange) int { return strings.Compare(a.Name, b.Name) })
	return in, nil
}

func describe(v jsonscan.Value) string {
	if v.Kind == jsonscan.String {
		return strconv.Quote(v.Str)
	}
	return v.Kind.String()
}

// jsonSize estimates the CBOR size of an object's values from their JSON.
func jsonSize(members []jsonscan.Member) int {
	n := 0
	for i := range members {
		v := &members[i].Value
		n += 10 + len(v.Str) + len(v.Num)
		for j := range v.Elems {
			n += 4 + len(v.Elems[j].Str) + len(v.Elems[j].Num)
		}
	}
	return n
}

func appendMarshal(dst []byte, v any) ([]byte, error) {
	b, err := syncproto.Marshal(v)
	return append(dst, b...), err
}

// rule builds the error of a broken rule; Parse fills in type and field.
func rule(name, format string, args ...any) error {
	return &FieldError{Rule: name, Msg: fmt.Sprintf(format, args...)}
}

func wrongType(want string, v jsonscan.Value) error {
	return rule("type", "must be %s, not %s", want, v.Kind)
}

// encode turns one JSON value into the field's canonical CBOR.
func (f *Field) encode(dst []byte, v jsonscan.Value) ([]byte, error) {
	switch f.Type {
	case Text:
		if v.Kind != jsonscan.String {
			return nil, wrongType("text", v)
		}
		// Text is never shorter in bytes than in characters: the count
		// is only needed near the bounds.
		n := len(v.Str)
		if n > f.textMax() || (f.Min != nil && float64(n) < 4**f.Min) {
			n = utf8.RuneCountInString(v.Str)
		}
		if err := f.checkCount(n, "characters", DefaultMaxText); err != nil {
			return nil, err
		}
		if f.Required.Always && strings.TrimSpace(v.Str) == "" {
			return nil, rule("required", "is required and cannot be blank")
		}
		return syncproto.AppendText(dst, v.Str), nil
	case Integer:
		if v.Kind != jsonscan.Number {
			return nil, wrongType("a whole number", v)
		}
		i, err := strconv.ParseInt(v.Num, 10, 64)
		if err != nil {
			return nil, rule("type", "%s is not a whole number", v.Num)
		}
		if err := f.checkRange(float64(i), v.Num); err != nil {
			return nil, err
		}
		return syncproto.AppendInt(dst, i), nil
	case Decimal:
		if v.Kind != jsonscan.Number {
			return nil, wrongType("a number", v)
		}
		x, err := strconv.ParseFloat(v.Num, 64)
		if err != nil || math.IsInf(x, 0) {
			return nil, rule("type", "%s is not a number Lifeline can hold", v.Num)
		}
		if err := f.checkRange(x, v.Num); err != nil {
			return nil, err
		}
		return appendMarshal(dst, x)
	case Bool:
		if v.Kind != jsonscan.Bool {
			return nil, wrongType("true or false", v)
		}
		if v.Bool {
			return append(dst, 0xf5), nil
		}
		return append(dst, 0xf4), nil
	case Choice:
		if v.Kind != jsonscan.String {
			return nil, wrongType("one of the choices as text", v)
		}
		c, ok := f.Choice(v.Str)
		if !ok {
			return nil, rule("choices", "%q is not one of %s", v.Str, f.choiceList())
		}
		return syncproto.AppendText(dst, c.Value), nil
	case Multi:
		return f.encodeMulti(dst, v)
	case Date:
		if v.Kind != jsonscan.String {
			return nil, wrongType("a date like 2024-11-27", v)
		}
		d, err := time.Parse(time.DateOnly, v.Str)
		if err != nil {
			return nil, rule("format", "%q is not a date like 2024-11-27", v.Str)
		}
		return syncproto.AppendText(dst, d.Format(time.DateOnly)), nil
	case DateTime:
		if v.Kind != jsonscan.String {
			return nil, wrongType("a date and time like 2024-11-27T11:35:23Z", v)
		}
		ts, err := time.Parse(time.RFC3339Nano, v.Str)
		if err != nil {
			return nil, rule("format", "%q is not a date and time with its zone, like 2024-11-27T11:35:23Z or 2024-11-27T05:35:23-06:00", v.Str)
		}
		if y := ts.UTC().Year(); y < 1900 || y > 2200 {
			return nil, rule("format", "%q is not a plausible date (year %d)", v.Str, y)
		}
		return syncproto.AppendText(dst, ts.UTC().Format(time.RFC3339Nano)), nil
	case Geo:
		return encodeGeo(dst, v)
	case Photo:
		return f.encodePhotos(dst, v)
	case Ref:
		if v.Kind != jsonscan.String {
			return nil, wrongType("a record id", v)
		}
		id, err := syncproto.ParseRecordID(v.Str)
		if err != nil {
			return nil, rule("format", "%q is not a record id (a UUID)", v.Str)
		}
		return syncproto.AppendText(dst, id.String()), nil
	}
	return nil, rule("type", "field type %q is unknown", f.Type)
}

// inRange says whether x is within the field's bounds; checkRange says
// how it is not, naming the value as lit.
func (f *Field) inRange(x float64) bool {
	return (f.Min == nil || x >= *f.Min) && (f.Max == nil || x <= *f.Max)
}

func (f *Field) checkRange(x float64, lit string) error {
	if f.Min != nil && x < *f.Min {
		return rule("min", "%s is below the minimum %v", lit, *f.Min)
	}
	if f.Max != nil && x > *f.Max {
		return rule("max", "%s is above the maximum %v", lit, *f.Max)
	}
	return nil
}

func (f *Field) textMax() int {
	if f.Max != nil {
		return int(*f.Max)
	}
	return DefaultMaxText
}

// checkCount bounds a length or count, with a default maximum.
func (f *Field) checkCount(n int, unit string, defaultMax int) error {
	if f.Min != nil && float64(n) < *f.Min {
		return rule("min", "has %d %s, at least %v are needed", n, unit, *f.Min)
	}
	limit := float64(defaultMax)
	if f.Max != nil {
		limit = *f.Max
	}
	if float64(n) > limit {
		return rule("max", "has %d %s, at most %v are allowed", n, unit, limit)
	}
	return nil
}

func (f *Field) choiceList() string {
	const show = 8
	vals := make([]string, 0, show)
	for i, c := range f.Choices {
		if i == show {
			vals = append(vals, fmt.Sprintf("... (%d in all)", len(f.Choices)))
			break
		}
		vals = append(vals, strconv.Quote(c.Value))
	}
	return strings.Join(vals, ", ")
}

// encodeMulti keeps the chosen values in the order the kit lists them, so
// that the same choices always give the same bytes.
func (f *Field) encodeMulti(dst []byte, v jsonscan.Value) ([]byte, error) {
	if v.Kind != jsonscan.Array {
		return nil, wrongType("a list of choices", v)
	}
	if err := f.checkCount(len(v.Elems), "choices", len(f.Choices)); err != nil {
		return nil, err
	}
	picked := make([]bool, len(f.Choices))
	for _, e := range v.Elems {
		if e.Kind != jsonscan.String {
			return nil, wrongType("a list of choices as text", e)
		}
		i := f.choiceIndex(e.Str)
		if i < 0 {
			return nil, rule("choices", "%q is not one of %s", e.Str, f.choiceList())
		}
		if picked[i] {
			return nil, rule("choices", "%q is chosen twice", f.Choices[i].Value)
		}
		picked[i] = true
	}
	b := syncproto.AppendArray(dst, len(v.Elems))
	for i, c := range f.Choices {
		if picked[i] {
			b = syncproto.AppendText(b, c.Value)
		}
	}
	return b, nil
}

func encodeGeo(dst []byte, v jsonscan.Value) ([]byte, error) {
	const want = `a point like {"lat": 17.25, "lon": -88.77}`
	if v.Kind != jsonscan.Object || len(v.Members) != 2 {
		return nil, wrongType(want, v)
	}
	var lat, lon float64
	var got int
	for _, m := range v.Members {
		if m.Value.Kind != jsonscan.Number {
			return nil, wrongType(want, v)
		}
		x, err := strconv.ParseFloat(m.Value.Num, 64)
		if err != nil {
			return nil, rule("type", "%s is not a number", m.Value.Num)
		}
		switch m.Key {
		case "lat":
			lat, got = x, got|1
		case "lon":
			lon, got = x, got|2
		}
	}
	if got != 3 {
		return nil, wrongType(want, v)
	}
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil, rule("format", "lat %v, lon %v is not a point on Earth", lat, lon)
	}
	return appendMarshal(dst, [2]float64{lat, lon})
}

// encodePhotos accepts one reference or a list of them.
func (f *Field) encodePhotos(dst []byte, v jsonscan.Value) ([]byte, error) {
	refs := []jsonscan.Value{v}
	switch v.Kind {
	case jsonscan.Array:
		refs = v.Elems
	case jsonscan.String:
	default:
		return nil, wrongType("a photo reference or a list of them", v)
	}
	if err := f.checkCount(len(refs), "photos", DefaultMaxPhotos); err != nil {
		return nil, err
	}
	b := syncproto.AppendArray(dst, len(refs))
	for _, r := range refs {
		if r.Kind != jsonscan.String || r.Str == "" || len(r.Str) > MaxPhotoRefLen {
			return nil, rule("format", "a photo reference is a name of 1 to %d bytes", MaxPhotoRefLen)
		}
		b = syncproto.AppendText(b, r.Str)
	}
	return b, nil
}

// Decode turns a field's canonical CBOR back into a value for JSON: string,
// int64, float64, bool, []string, map for a point, or nil. A value that does
// not fit the field (written under another schema version) is decoded as it
// is, never dropped.
func (f *Field) Decode(raw []byte) (any, error) {
	switch f.Type {
	case Integer:
		var i int64
		if err := syncproto.Unmarshal(raw, &i); err == nil {
			return i, nil
		}
	case Decimal:
		var x float64
		if err := syncproto.Unmarshal(raw, &x); err == nil {
			return x, nil
		}
	case Geo:
		var p [2]float64
		if err := syncproto.Unmarshal(raw, &p); err == nil {
			return map[string]float64{"lat": p[0], "lon": p[1]}, nil
		}
	}
	return DecodeAny(raw)
}

// DecodeAny decodes a value whose field is unknown here.
func DecodeAny(raw []byte) (any, error) {
	var v any
	if err := syncproto.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return jsonable(v), nil
}

// jsonable makes a generic CBOR value printable as JSON: maps with
// non-string keys become maps with string keys, byte strings hex.
func jsonable(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = jsonable(x[i])
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []byte:
		return fmt.Sprintf("%x", x)
	}
	return v
}

// Format renders a field's value for a person reading lang ("en" or "es"):
// choices by their labels, lists joined with commas.
func (f *Field) Format(raw []byte, lang string) string {
	v, err := f.Decode(raw)
	if err != nil {
		return "?"
	}
	return f.FormatValue(v, lang)
}

// FormatValue renders a decoded value of the field as Format does. f may
// be nil, for a field its type does not declare: a choice then shows as
// it is.
func (f *Field) FormatValue(v any, lang string) string {
	label := func(s string) string {
		if f == nil || (f.Type != Choice && f.Type != Multi) {
			return s
		}
		if c, ok := f.Choice(s); ok {
			return c.Label().In(lang)
		}
		return s
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return label(x)
	case bool:
		switch {
		case !x:
			return "no"
		case lang == "es":
			return "sí"
		}
		return "yes"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = label(fmt.Sprint(e))
		}
		return strings.Join(parts, ", ")
	case map[string]float64:
		return fmt.Sprintf("%.6f, %.6f", x["lat"], x["lon"])
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
