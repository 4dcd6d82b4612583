package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"lifeline/schemas/expr"
	"lifeline/syncproto"
)

// Requirement says when a field must be answered: always, or when an
// expression is true. A kit writes it as `required: true` or
// `required: "${age} < 18"`, and it is stored and sent the same way, so
// that a kit without logic keeps its bytes.
type Requirement struct {
	// Always is `required: true`.
	Always bool
	// If is the expression of `required: "<expr>"`; the field is required
	// while it is true (and the field relevant).
	If string

	cond *expr.Expr // If, parsed by Kit.Check
}

// IsZero reports whether the field is never required.
func (r Requirement) IsZero() bool { return !r.Always && r.If == "" }

// MarshalJSON writes true, false or the expression.
func (r Requirement) MarshalJSON() ([]byte, error) {
	if r.If != "" {
		return json.Marshal(r.If)
	}
	return json.Marshal(r.Always)
}

// UnmarshalJSON reads true, false or an expression.
func (r *Requirement) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return r.set(v)
}

// MarshalYAML writes true, false or the expression.
func (r Requirement) MarshalYAML() (any, error) {
	if r.If != "" {
		return r.If, nil
	}
	return r.Always, nil
}

// UnmarshalYAML reads true, false or an expression.
func (r *Requirement) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	return r.set(v)
}

func (r *Requirement) set(v any) error {
	*r = Requirement{}
	switch x := v.(type) {
	case bool:
		r.Always = x
	case string:
		if strings.TrimSpace(x) == "" {
			return errors.New("required is true, false or an expression, not an empty text")
		}
		r.If = x
	case nil:
	default:
		return fmt.Errorf("required is true, false or an expression, not %T", v)
	}
	return nil
}

// Values are a record's values by field name, each its canonical CBOR as a
// change carries it, opened if it was sealed. A row field is named
// <repeat>.<row>.<field>. A name absent, or a null value, is no answer.
type Values map[string][]byte

// Place is what a field's logic says of it in a record, for a form to show
// as the record is typed.
type Place struct {
	// Relevant: the field is asked. A field that is not relevant is
	// hidden, and a value it holds is treated as not given.
	Relevant bool
	// Required: the field is relevant and must be answered.
	Required bool
	// ConstraintOK: the field has no value, or no constraint, or its
	// value meets the constraint.
	ConstraintOK bool
	// Message is the kit's constraint message, when ConstraintOK is false.
	Message Label
	// Calculated is the value the kit computes for a calculated field,
	// canonical CBOR, nil when it computes none (Decode or Format it).
	Calculated []byte
}

// belize is the zone today() is read in: Belize keeps UTC−6 all year.
var belize = time.FixedZone("CST", -6*60*60)

// Today is the date today() gives in a kit's expressions at the instant
// now: the date in Belize (UTC−6, no daylight saving), whatever the zone
// of the machine, so that every node agrees.
func Today(now time.Time) expr.Date { return expr.DateOf(now.In(belize)) }

// HasLogic reports whether the field has a relevant, constraint, calculate
// or default rule, or is required by an expression.
func (f *Field) HasLogic() bool {
	return f.Relevant != "" || f.Constraint != "" || f.Calculate != "" || f.Default != "" || f.Required.If != ""
}

// Calculated reports whether the kit computes the field's value: a person
// never types it.
func (f *Field) Calculated() bool { return f.Calculate != "" }

// Repeat returns the repeat group a nested field belongs to, or nil for a
// field of the type itself.
func (f *Field) Repeat() *Field { return f.parent }

// logic is a field's rules, parsed by Kit.Check.
type logic struct {
	relevant, constraint, calculate *expr.Expr
	// dflt is the default as an expression, or nil when the default is a
	// literal, dfltLit.
	dflt    *expr.Expr
	dfltLit expr.Value
	hasDflt bool
}

// Apply checks an input against the kit's logic for a record whose values
// are now cur (nil for a new record), and completes it: it refuses a value
// given for a field that is not relevant (rule relevant), a value set for
// a calculated field (calculate), a value that fails its constraint
// (constraint, with the kit's message), a required field left empty
// (required), a change to a removed row (removed) and more than MaxRows
// rows in a repeat (max); it adds the values of calculated fields, and on
// create (or for a new row) the defaults of fields not given. Errors are a
// *ValidationError wrapping ErrInvalid.
//
// In an update, a field made irrelevant by the update keeps the value it
// holds in the store: the record view treats it as not asked. A required
// field is refused empty if the update clears it or makes it required.
//
// Apply depends only on cur, the set of fields in the input and today:
// never on their order, so that the same input gives every node the same
// record. It sorts in.Fields by name.
func (t *Type) Apply(cur Values, in *Input, mode Mode, today expr.Date) error {
	a := &applier{t: t, today: today, cur: cur, given: map[string][]byte{}, mode: mode}
	var errs []*FieldError
	fail := func(field, rule, format string, args ...any) {
		errs = append(errs, &FieldError{Type: t.Name, Field: field, Rule: rule, Msg: fmt.Sprintf(format, args...)})
	}
	slices.SortFunc(in.Fields, func(x, y syncproto.FieldChange) int { return strings.Compare(x.Name, y.Name) })
	for i, fc := range in.Fields {
		if i > 0 && in.Fields[i-1].Name == fc.Name {
			fail(fc.Name, "unknown", "is given twice")
		}
		a.given[fc.Name] = fc.Value
	}
	a.merged = make(Values, len(cur)+len(in.Fields))
	for k, v := range cur {
		if !isNull(v) {
			a.merged[k] = v
		}
	}
	a.rowsBefore = t.rowSets(a.merged)
	for _, fc := range in.Fields {
		if isNull(fc.Value) {
			delete(a.merged, fc.Name)
		} else {
			a.merged[fc.Name] = fc.Value
		}
	}
	// What the input may not touch.
	for _, fc := range in.Fields {
		f, ok := t.Field(fc.Name)
		if !ok {
			fail(fc.Name, "unknown", "type %s has no field %q", t.Name, fc.Name)
			continue
		}
		if f.Calculate != "" {
			fail(fc.Name, "calculate", "is calculated by the kit and cannot be set")
		}
		if rep, row, name, ok := SplitRowField(fc.Name); ok {
			if a.rowsBefore[rep][row] {
				fail(fc.Name, "removed", "row %s of %s was removed: a removed row stays removed (add it again as a new row)", row, rep)
			} else if name == RemoveKey && !bytes.Equal(fc.Value, cborTrue) {
				fail(fc.Name, "removed", "removes a row only with true")
			}
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Errs: errs}
	}
	a.rows = t.rowSets(a.merged)
	// Defaults: of a new record, and of each new row.
	e := a.env()
	var defaults []syncproto.FieldChange
	t.eachField(a, func(f *Field, name, row string) {
		if !f.logic.hasDflt || a.given[name] != nil || a.merged[name] != nil {
			return
		}
		isNew := mode == Create
		if f.parent != nil {
			isNew = a.newRow(f.parent.Name, row)
		}
		if !isNew || !e.relevant(f, row) {
			return
		}
		v := f.logic.dfltLit
		if f.logic.dflt != nil {
			var err error
			if v, err = f.logic.dflt.Eval(e.exprEnv(f, row, expr.Value{})); err != nil {
				fail(name, "default", "the kit's default cannot be computed: %v", err)
				return
			}
		}
		raw, err := f.fromValue(v)
		if err != nil {
			fail(name, "default", "the kit's default %v", err)
			return
		}
		if raw != nil {
			defaults = append(defaults, syncproto.FieldChange{Name: name, Value: raw})
		}
	})
	for _, d := range defaults {
		a.merged[d.Name] = d.Value
		in.Fields = append(in.Fields, d)
	}
	// Calculations, then every check, against the completed record.
	e = a.env()
	t.eachField(a, func(f *Field, name, row string) {
		if f.Calculate == "" {
			return
		}
		raw, err := e.calculated(f, row)
		if err != nil {
			fail(name, "calculate", "%v", err)
			return
		}
		old := a.merged[name]
		if bytes.Equal(raw, old) || (raw == nil && old == nil) {
			return
		}
		if raw == nil {
			if mode == Create {
				return
			}
			raw = Null
		}
		in.Fields = append(in.Fields, syncproto.FieldChange{Name: name, Value: raw})
	})
	var before *recordEnv
	if mode == Update {
		before = (&applier{t: t, today: today, merged: cleanValues(cur), rows: a.rowsBefore}).env()
	}
	changed := func(ex *expr.Expr) bool {
		for _, n := range ex.Fields() {
			for g := range a.given {
				if g == n || strings.HasPrefix(g, n+".") {
					return true
				}
			}
		}
		return false
	}
	for rep, rows := range a.rows {
		if n := len(rows); n > MaxRows {
			fail(rep, "max", "has %d rows, at most %d are allowed", n, MaxRows)
		}
	}
	t.eachField(a, func(f *Field, name, row string) {
		if f.Calculate != "" {
			return
		}
		_, given := a.given[name]
		val, has := a.merged[name]
		if !e.relevant(f, row) {
			if given && has {
				fail(name, "relevant", "is not asked in this record (%s), so it takes no value", f.Relevant)
			}
			return
		}
		isNew := mode == Create || (f.parent != nil && a.newRow(f.parent.Name, row))
		if !has && e.required(f, row) {
			switch {
			case isNew, given:
				fail(name, "required", "is required")
			case before != nil && !(before.relevant(f, row) && before.required(f, row)):
				fail(name, "required", "is required now (%s)", f.Required.If)
			}
		}
		if has && f.logic.constraint != nil && (isNew || given || changed(f.logic.constraint)) {
			ok, err := e.meets(f, row, val)
			switch {
			case err != nil:
				fail(name, "constraint", "the kit's constraint cannot be checked: %v", err)
			case !ok:
				fail(name, "constraint", "%s", f.constraintText())
			}
		}
	})
	slices.SortFunc(in.Fields, func(x, y syncproto.FieldChange) int { return strings.Compare(x.Name, y.Name) })
	if len(errs) > 0 {
		return &ValidationError{Errs: errs}
	}
	return nil
}

// RecordLogic is what a type's logic makes of the fields of one record,
// each relevance and calculation evaluated once for all of them: a form
// asks it of every field at every keystroke, and asking each field alone
// read the whole record again for each field (6,000 fields, a repeat of 30
// questions in 200 rows, took 7.7 s).
type RecordLogic struct {
	a *applier
	e *recordEnv
}

// Logic reads a record holding values for At; today is what today()
// gives (see Today).
func (t *Type) Logic(values Values, today expr.Date) *RecordLogic {
	a := &applier{t: t, merged: cleanValues(values), today: today}
	a.rows = t.rowSets(a.merged)
	return &RecordLogic{a: a, e: a.env()}
}

// At says what the logic of field f (of the type, or of one of its
// repeats, in the row given) makes of it in the record l read: for a form
// to show or hide it, mark it required, flag a failed constraint and show
// a calculated value as the record is typed. row is "" for a field of the
// type itself.
func (l *RecordLogic) At(f *Field, row string) Place {
	a, e := l.a, l.e
	p := Place{Relevant: e.relevant(f, row), ConstraintOK: true}
	if !p.Relevant {
		return p
	}
	p.Required = e.required(f, row)
	if f.Calculate != "" {
		p.Calculated, _ = e.calculated(f, row)
	}
	if val, has := a.merged[fullName(f, row)]; has && f.logic.constraint != nil {
		ok, err := e.meets(f, row, val)
		p.ConstraintOK = ok && err == nil
		if !p.ConstraintOK {
			p.Message = f.ConstraintMessage
		}
	}
	return p
}

// constraintText is the English message of a failed constraint.
func (f *Field) constraintText() string {
	if f.ConstraintMessage.EN != "" {
		return f.ConstraintMessage.EN
	}
	return "does not meet the kit's constraint " + f.Constraint
}

var cborTrue = []byte{0xf5}

func isNull(v []byte) bool { return len(v) == 0 || (len(v) == 1 && v[0] == 0xf6) }

func cleanValues(v Values) Values {
	out := make(Values, len(v))
	for k, x := range v {
		if !isNull(x) {
			out[k] = x
		}
	}
	return out
}

// applier holds one Apply: the record before and after the input.
type applier struct {
	t          *Type
	today      expr.Date
	mode       Mode
	cur        Values
	given      map[string][]byte
	merged     Values
	rowsBefore map[string]map[string]bool // repeat, row: removed
	rows       map[string]map[string]bool
}

// newRow reports whether a row is new with this input.
func (a *applier) newRow(rep, row string) bool {
	_, ok := a.rowsBefore[rep][row]
	return !ok
}

// eachField calls fn for each field of the type, in order, and each field
// of each live row of each repeat, rows in order of their ids.
func (t *Type) eachField(a *applier, fn func(f *Field, name, row string)) {
	for _, f := range t.Fields {
		if f.Type != Repeat {
			fn(f, f.Name, "")
			continue
		}
		for _, row := range liveRows(a.rows[f.Name]) {
			for _, nf := range f.Fields {
				fn(nf, RowField(f.Name, row, nf.Name), row)
			}
		}
	}
}

// rowSets finds the rows of each repeat in values: row id to whether it
// is removed.
func (t *Type) rowSets(values Values) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for name, v := range values {
		rep, row, field, ok := SplitRowField(name)
		if !ok {
			continue
		}
		if f, ok := t.byName[rep]; !ok || f.Type != Repeat {
			continue
		}
		m := out[rep]
		if m == nil {
			m = map[string]bool{}
			out[rep] = m
		}
		m[row] = m[row] || (field == RemoveKey && bytes.Equal(v, cborTrue))
	}
	return out
}

func liveRows(m map[string]bool) []string {
	rows := make([]string, 0, len(m))
	for r, removed := range m {
		if !removed {
			rows = append(rows, r)
		}
	}
	slices.Sort(rows)
	return rows
}

// Rows returns the ids of the live rows of repeat rep in values, oldest
// first (row ids sort by the time the node made them).
func (t *Type) Rows(values Values, rep *Field) []string {
	return liveRows(t.rowSets(values)[rep.Name])
}

// recordEnv evaluates a record's logic, each relevance and calculation
// once.
type recordEnv struct {
	a     *applier
	rel   map[string]bool
	calc  map[string][]byte
	depth int
}

func (a *applier) env() *recordEnv {
	return &recordEnv{a: a, rel: map[string]bool{}, calc: map[string][]byte{}}
}

// maxDepth bounds how deep one field's logic may lead to others'. Check
// refuses cycles, and chains of rules longer than MaxRuleChain, which
// this leaves room for twice over; this is a second fence.
const maxDepth = 256

// MaxRuleChain bounds the fields a chain of rules leads through, each
// field's relevant or calculate rule reading the next (a nested field's
// repeat counts as one).
const MaxRuleChain = 128

func fullName(f *Field, row string) string {
	if f.parent != nil {
		return RowField(f.parent.Name, row, f.Name)
	}
	return f.Name
}

// relevant says whether f is asked in row: its repeat is, and its rule is
// true. A rule that cannot be evaluated asks the field.
func (e *recordEnv) relevant(f *Field, row string) bool {
	name := fullName(f, row)
	if r, ok := e.rel[name]; ok {
		return r
	}
	r := true
	if e.depth < maxDepth {
		e.depth++
		if f.parent != nil && !e.relevant(f.parent, "") {
			r = false
		} else if f.logic.relevant != nil {
			v, err := f.logic.relevant.Eval(e.exprEnv(f, row, expr.Value{}))
			r = err != nil || expr.Truthy(v)
		}
		e.depth--
	}
	e.rel[name] = r
	return r
}

func (e *recordEnv) required(f *Field, row string) bool {
	if f.Required.Always {
		return true
	}
	if f.Required.cond == nil {
		return false
	}
	v, err := f.Required.cond.Eval(e.exprEnv(f, row, expr.Value{}))
	return err == nil && expr.Truthy(v)
}

func (e *recordEnv) meets(f *Field, row string, raw []byte) (bool, error) {
	v, err := f.logic.constraint.Eval(e.exprEnv(f, row, f.toValue(raw)))
	if err != nil {
		return false, err
	}
	return expr.Truthy(v), nil
}

// calculated is the value the kit computes for f in row: nil when f is not
// relevant or the calculation gives nothing.
func (e *recordEnv) calculated(f *Field, row string) ([]byte, error) {
	name := fullName(f, row)
	if raw, ok := e.calc[name]; ok {
		return raw, nil
	}
	if !e.relevant(f, row) || e.depth >= maxDepth {
		e.calc[name] = nil
		return nil, nil
	}
	e.depth++
	v, err := f.logic.calculate.Eval(e.exprEnv(f, row, expr.Value{}))
	e.depth--
	if err != nil {
		return nil, fmt.Errorf("the kit's calculation cannot be computed: %v", err)
	}
	raw, err := f.fromValue(v)
	if err != nil {
		return nil, fmt.Errorf("the kit's calculation %v", err)
	}
	e.calc[name] = raw
	return raw, nil
}

// value is what ${name} reads from row (of f's repeat): a field not
// relevant reads empty, a calculated one its calculation, a repeat its
// live rows (count() counts them).
func (e *recordEnv) value(from *Field, row, name string) (expr.Value, bool) {
	t := e.a.t
	var f *Field
	if from.parent != nil {
		if nf, ok := from.parent.byName[name]; ok {
			f = nf
		}
	}
	if f == nil {
		tf, ok := t.byName[name]
		if !ok {
			return expr.Value{}, false
		}
		f, row = tf, ""
	}
	if f.Type == Repeat {
		if !e.relevant(f, "") {
			return expr.Value{}, true
		}
		return expr.MultiValue(liveRows(e.a.rows[f.Name])...), true
	}
	if !e.relevant(f, row) {
		return expr.Value{}, true
	}
	if f.Calculate != "" {
		raw, err := e.calculated(f, row)
		if err != nil || raw == nil {
			return expr.Value{}, true
		}
		return f.toValue(raw), true
	}
	raw, ok := e.a.merged[fullName(f, row)]
	if !ok {
		return expr.Value{}, true
	}
	return f.toValue(raw), true
}

type fieldsOf struct {
	e    *recordEnv
	from *Field
	row  string
}

func (s fieldsOf) Field(name string) (expr.Value, bool) { return s.e.value(s.from, s.row, name) }

func (e *recordEnv) exprEnv(f *Field, row string, current expr.Value) expr.Env {
	return expr.Env{Fields: fieldsOf{e: e, from: f, row: row}, Current: current, Today: e.a.today}
}

// toValue reads a stored value as expressions see it.
func (f *Field) toValue(raw []byte) expr.Value {
	if isNull(raw) {
		return expr.Value{}
	}
	switch f.Type {
	case Integer:
		if i, ok := cborInt(raw); ok {
			return expr.NumberValue(float64(i))
		}
	case Decimal:
		if x, ok := cborFloat(raw); ok {
			return expr.NumberValue(x)
		}
		if i, ok := cborInt(raw); ok {
			return expr.NumberValue(float64(i))
		}
	case Bool:
		return expr.BoolValue(len(raw) == 1 && raw[0] == 0xf5)
	case Multi:
		if vs, ok := cborTexts(raw); ok {
			return expr.MultiValue(vs...)
		}
	case Date:
		if s, ok := cborText(raw); ok {
			if d, err := expr.ParseDate(string(s)); err == nil {
				return expr.DateValue(d)
			}
		}
	case Text, Choice, DateTime, Ref:
		if s, ok := cborText(raw); ok {
			return expr.StringValue(string(s))
		}
	}
	return expr.Value{}
}

// fromValue writes the value of an expression as the field's canonical
// CBOR, checked as a typed value is: nil for the empty value.
func (f *Field) fromValue(v expr.Value) ([]byte, error) {
	if v.Kind() == expr.KindEmpty {
		return nil, nil
	}
	var raw []byte
	switch f.Type {
	case Text, DateTime, Ref, Choice:
		if v.String() == "" {
			return nil, nil
		}
		raw = syncproto.AppendText(nil, v.String())
	case Integer, Decimal:
		x, ok := v.Number()
		if !ok {
			return nil, fmt.Errorf("gives %q, which is no number", v.String())
		}
		if f.Type == Integer {
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return nil, fmt.Errorf("gives %v, which is no whole number", x)
			}
			raw = syncproto.AppendInt(nil, int64(x))
		} else {
			var err error
			if raw, err = syncproto.Marshal(x); err != nil {
				return nil, err
			}
		}
	case Bool:
		raw = []byte{0xf4}
		if expr.Truthy(v) {
			raw = cborTrue
		}
	case Multi:
		codes := v.Codes()
		raw = syncproto.AppendArray(nil, len(codes))
		for _, c := range codes {
			raw = syncproto.AppendText(raw, c)
		}
	case Date:
		d, ok := v.Date()
		if !ok {
			return nil, fmt.Errorf("gives %q, which is no date", v.String())
		}
		raw = syncproto.AppendText(nil, d.String())
	default:
		return nil, fmt.Errorf("cannot give a %s value", f.Type)
	}
	if err := f.Check(raw); err != nil {
		return nil, fmt.Errorf("gives a value the field refuses: %v", err)
	}
	return raw, nil
}

// readsPersonal names the first personal field e reads, as f reads it (a
// field of f's row first), "" when it reads none: a value worked out from a
// personal one is as personal.
func readsPersonal(t *Type, f *Field, e *expr.Expr) string {
	if e == nil {
		return ""
	}
	for _, n := range e.Fields() {
		g := t.byName[n]
		if f.parent != nil && f.parent.byName[n] != nil {
			g = f.parent.byName[n]
		}
		if g != nil && g.Personal {
			return n
		}
	}
	return ""
}

// maxNested bounds a repeat's nested fields.
const maxNested = 100

// checkRepeat checks a repeat's nested fields and links them to it.
func checkRepeat(r *Field, fail func(field, key, format string, args ...any)) {
	r.byName = make(map[string]*Field, len(r.Fields))
	if r.Type != Repeat {
		if len(r.Fields) > 0 {
			fail(r.Name, "fields", "only a repeat field has fields of its own")
		}
		return
	}
	if len(r.Fields) == 0 {
		fail(r.Name, "fields", "a repeat has at least one field")
	}
	if len(r.Fields) > maxNested {
		fail(r.Name, "fields", "%d fields, the limit is %d", len(r.Fields), maxNested)
	}
	if r.Personal {
		fail(r.Name, "personal", "a repeat is not personal: mark its personal fields")
	}
	if !r.Required.IsZero() || r.Constraint != "" || r.Calculate != "" || r.Default != "" {
		fail(r.Name, "relevant", "a repeat has no required, constraint, calculate or default: its fields do")
	}
	for i, f := range r.Fields {
		if f == nil {
			fail(r.Name, "fields", "field %d is empty", i+1)
			continue
		}
		f.parent = r
		name := r.Name + "." + f.Name
		nestedErr := func(key, format string, args ...any) { fail(name, key, format, args...) }
		if !fieldNameRE.MatchString(f.Name) || f.Name == RowKey || f.Name == RemoveKey || f.Name == KeyID || f.Name == KeyKit {
			nestedErr("name", "%q must be lower case letters, digits and underscores, and not %q, %q, %q or %q", f.Name, RowKey, RemoveKey, KeyID, KeyKit)
		}
		if n := len(RowField(r.Name, strings.Repeat("0", RowIDLen), f.Name)); n > syncproto.MaxNameLen {
			nestedErr("name", "a row's field is named %s.<row>.%s, %d bytes: at most %d are allowed, so shorten the two names", r.Name, f.Name, n, syncproto.MaxNameLen)
		}
		if r.byName[f.Name] != nil {
			nestedErr("name", "field %q is declared twice", f.Name)
		}
		r.byName[f.Name] = f
		if f.Type == Repeat {
			nestedErr("type", "a repeat holds no repeat: one level only")
			continue
		}
		f.choiceAt = make(map[string]int, len(f.Choices))
		for i, c := range f.Choices {
			f.choiceAt[c.Value] = i
		}
		checkLabel(f.Label, func(m string) { nestedErr("label", "%s", m) })
		if f.Help != (Label{}) {
			checkLabel(f.Help, func(m string) { nestedErr("help", "%s", m) })
		}
		if len(f.Fields) > 0 {
			nestedErr("fields", "only a repeat field has fields of its own")
		}
		checkField(f, nestedErr)
	}
}

// checkLogic parses every rule of a type's fields once, and refuses a rule
// that does not parse, reads a field the type does not have (or a row's
// field from outside its row), makes a field's relevance or value depend
// on itself, or works out a field that is not personal from one that is.
// fail names the field (repeat.field for a nested one).
func (t *Type) checkLogic(fail func(f *Field, key, format string, args ...any)) {
	all := []*Field{}
	for _, f := range t.Fields {
		if f == nil {
			continue
		}
		all = append(all, f)
		if f.Type == Repeat {
			for _, nf := range f.Fields {
				if nf != nil {
					all = append(all, nf)
				}
			}
		}
	}
	parse := func(f *Field, key, src string, current bool) *expr.Expr {
		if src == "" {
			return nil
		}
		e, err := expr.Parse(src)
		if err != nil {
			fail(f, key, "%v", err)
			return nil
		}
		if e.UsesCurrent() && !current {
			fail(f, key, "`.` is the value a constraint checks: here write the field as ${%s}", f.Name)
		}
		for _, n := range e.Fields() {
			if f.parent != nil && f.parent.byName[n] != nil {
				continue
			}
			if _, ok := t.byName[n]; ok {
				continue
			}
			if _, ok := t.rowFieldDef(n); ok {
				fail(f, key, "reads ${%s}, a field of a repeat's rows: only a field of the same row may (count(${repeat}) counts the rows)", n)
				continue
			}
			fail(f, key, "reads ${%s}, which is not a field of type %s", n, t.Name)
		}
		return e
	}
	for _, f := range all {
		f.logic = logic{}
		f.Required.cond = parse(f, "required", f.Required.If, false)
		if f.Required.If != "" && f.Required.Always {
			fail(f, "required", "required is true or an expression, not both")
		}
		f.logic.relevant = parse(f, "relevant", f.Relevant, false)
		f.logic.constraint = parse(f, "constraint", f.Constraint, true)
		f.logic.calculate = parse(f, "calculate", f.Calculate, false)
		if f.ConstraintMessage != (Label{}) {
			if f.Constraint == "" {
				fail(f, "constraint_message", "a constraint message needs a constraint")
			}
			checkLabel(f.ConstraintMessage, func(m string) { fail(f, "constraint_message", "%s", m) })
		}
		noValue := f.Type == Geo || f.Type == Photo || f.Type == Repeat
		if f.Calculate != "" {
			switch {
			case noValue:
				fail(f, "calculate", "a %s field is not calculated", f.Type)
			case f.Default != "":
				fail(f, "default", "a calculated field has no default")
			case !f.Required.IsZero():
				fail(f, "required", "a calculated field is never typed, so it is not required")
			}
		}
		if f.Default != "" {
			if noValue {
				fail(f, "default", "a %s field has no default", f.Type)
				continue
			}
			f.logic.hasDflt = true
			e, perr := expr.Parse(f.Default)
			if perr == nil {
				f.logic.dflt = parse(f, "default", f.Default, false)
				continue
			}
			f.logic.dfltLit = expr.StringValue(f.Default)
			if _, err := f.fromValue(f.logic.dfltLit); err != nil {
				fail(f, "default", "%q is neither an expression (%v) nor a value of the field (%v)", f.Default, perr, err)
			}
			_ = e
		}
	}
	for _, f := range all {
		for _, e := range []*expr.Expr{f.logic.calculate, f.logic.dflt} {
			if g := readsPersonal(t, f, e); g != "" && !f.Personal {
				fail(f, "personal", "its value is worked out from %s, a personal field: mark it personal too, or that field's value goes out unsealed", g)
			}
		}
	}
	// A field's relevance and value may not depend on themselves.
	key := func(f *Field) string {
		if f.parent != nil {
			return f.parent.Name + "." + f.Name
		}
		return f.Name
	}
	deps := func(f *Field) []*Field {
		var out []*Field
		for _, e := range []*expr.Expr{f.logic.relevant, f.logic.calculate} {
			if e == nil {
				continue
			}
			for _, n := range e.Fields() {
				if f.parent != nil && f.parent.byName[n] != nil {
					out = append(out, f.parent.byName[n])
				} else if g, ok := t.byName[n]; ok {
					out = append(out, g)
				}
			}
		}
		if f.parent != nil {
			out = append(out, f.parent)
		}
		return out
	}
	// Nor lead through more than MaxRuleChain fields, each of whose rules
	// reads the next: the rules are worked out to maxDepth and no deeper,
	// and a longer chain would give its first fields nothing, or not,
	// as the order the fields are read in falls.
	state := map[string]int{} // 1 visiting, 2 done
	chain := map[string]int{} // the fields of the longest chain of rules from one, itself included
	tooLong := false
	var visit func(f *Field, path []string) bool
	visit = func(f *Field, path []string) bool {
		k := key(f)
		switch state[k] {
		case 1:
			fail(f, "relevant", "its relevant or calculate rule depends on itself: %s", strings.Join(append(path, k), " → "))
			return false
		case 2:
			return true
		}
		state[k] = 1
		n := 1
		for _, g := range deps(f) {
			if !visit(g, append(path, k)) {
				state[k] = 2
				return false
			}
			n = max(n, 1+chain[key(g)])
		}
		chain[k] = n
		if n > MaxRuleChain && !tooLong {
			tooLong = true
			fail(f, "relevant", "its relevant or calculate rule reads a field whose rule reads another, and so on through %d fields: at most %d are allowed", n, MaxRuleChain)
		}
		state[k] = 2
		return true
	}
	for _, f := range all {
		visit(f, nil)
	}
}

// rowFieldDef finds a nested field by its name alone, for an error.
func (t *Type) rowFieldDef(name string) (*Field, bool) {
	for _, f := range t.Fields {
		if f != nil && f.Type == Repeat {
			if nf, ok := f.byName[name]; ok {
				return nf, true
			}
		}
	}
	return nil, false
}
