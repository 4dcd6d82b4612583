package schemas

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"lifeline/syncproto"
)

// FieldType is the kind of value a field holds.
type FieldType string

// The field types a kit may use. These names appear in kit files.
const (
	Text     FieldType = "text"     // free text; min/max bound its length in characters
	Integer  FieldType = "integer"  // a whole number; min/max bound it
	Decimal  FieldType = "decimal"  // a number; min/max bound it
	Bool     FieldType = "bool"     // yes or no
	Choice   FieldType = "choice"   // one of the field's choices
	Multi    FieldType = "multi"    // several of the field's choices; min/max bound the count
	Date     FieldType = "date"     // a calendar day, 2024-11-27
	DateTime FieldType = "datetime" // an instant with its zone, 2024-11-27T11:35:23Z, kept in UTC
	Geo      FieldType = "geo"      // a point, {"lat": 17.25, "lon": -88.77}
	Photo    FieldType = "photo"    // references to photos; min/max bound the count
	Ref      FieldType = "ref"      // the id of another record, of the type named by ref
	Repeat   FieldType = "repeat"   // rows of the nested fields; see RowField
)

var fieldTypes = []FieldType{Text, Integer, Decimal, Bool, Choice, Multi, Date, DateTime, Geo, Photo, Ref, Repeat}

// Default bounds where a kit gives none: every value from a person or a
// network is bounded.
const (
	DefaultMaxText   = 2000 // characters
	MaxTextLimit     = 20000
	DefaultMaxPhotos = 10
	MaxPhotoRefLen   = 256
	MaxChoices       = 500
)

// Label is a text in the languages Lifeline's users read. Belize is
// bilingual: every label has English and Spanish.
type Label struct {
	EN string `yaml:"en" json:"en"`
	ES string `yaml:"es" json:"es"`
}

// In returns the label in lang ("en" or "es"), falling back to English.
func (l Label) In(lang string) string {
	if lang == "es" && l.ES != "" {
		return l.ES
	}
	return l.EN
}

// Languages are the language codes every label carries.
var Languages = []string{"en", "es"}

// ChoiceItem is one value a choice or multi field accepts.
type ChoiceItem struct {
	Value string `yaml:"value" json:"value"`
	EN    string `yaml:"en" json:"en"`
	ES    string `yaml:"es" json:"es"`
}

// Label returns the item's labels.
func (c ChoiceItem) Label() Label { return Label{EN: c.EN, ES: c.ES} }

// Field declares one field of a record type, or of a repeat's rows.
type Field struct {
	Name     string       `yaml:"name" json:"name"`
	Type     FieldType    `yaml:"type" json:"type"`
	Label    Label        `yaml:"label" json:"label"`
	Help     Label        `yaml:"help,omitempty" json:"help,omitzero"`
	Required Requirement  `yaml:"required,omitempty" json:"required,omitzero"`
	Personal bool         `yaml:"personal,omitempty" json:"personal,omitempty"`
	Min      *float64     `yaml:"min,omitempty" json:"min,omitempty"`
	Max      *float64     `yaml:"max,omitempty" json:"max,omitempty"`
	Choices  []ChoiceItem `yaml:"choices,omitempty" json:"choices,omitempty"`
	Ref      string       `yaml:"ref,omitempty" json:"ref,omitempty"`

	// Logic, in the expressions of package expr (docs/kits.md, "Logic").
	// Relevant: the field is asked only while it is true.
	Relevant string `yaml:"relevant,omitempty" json:"relevant,omitempty"`
	// Constraint: a value is accepted only if it is true, `.` being the
	// value; ConstraintMessage says why to the person typing it.
	Constraint        string `yaml:"constraint,omitempty" json:"constraint,omitempty"`
	ConstraintMessage Label  `yaml:"constraint_message,omitempty" json:"constraint_message,omitzero"`
	// Calculate: the node computes the value; no person sets it.
	Calculate string `yaml:"calculate,omitempty" json:"calculate,omitempty"`
	// Default: the value a new record (or row) takes when none is given,
	// an expression, or else a literal value.
	Default string `yaml:"default,omitempty" json:"default,omitempty"`
	// Fields are a repeat's nested fields, the columns of its rows.
	Fields []*Field `yaml:"fields,omitempty" json:"fields,omitempty"`

	choiceAt map[string]int    // exact value to index, set by Kit.Check
	logic    logic             // parsed rules, set by Kit.Check
	parent   *Field            // the repeat of a nested field
	byName   map[string]*Field // a repeat's nested fields
}

// Choice returns the item whose value is v, ignoring case and surrounding
// space, as a person types it.
func (f *Field) Choice(v string) (ChoiceItem, bool) {
	if i := f.choiceIndex(v); i >= 0 {
		return f.Choices[i], true
	}
	return ChoiceItem{}, false
}

func (f *Field) choiceIndex(v string) int {
	if i, ok := f.choiceAt[v]; ok {
		return i
	}
	v = strings.TrimSpace(v)
	for i, c := range f.Choices {
		if c.Value == v || strings.EqualFold(c.Value, v) {
			return i
		}
	}
	return -1
}

// Type declares a record type: its fields, its schema version and how
// urgently its records sync.
type Type struct {
	Name string `yaml:"name" json:"name"`
	// Version grows by one with each additive change (a new optional field,
	// a new choice). A change that is not additive is a new type name.
	Version uint32 `yaml:"version" json:"version"`
	Title   Label  `yaml:"title" json:"title"`
	// Priority orders sync on a thin link: 1 goes first (life safety).
	Priority int `yaml:"priority" json:"priority"`
	// Scope says who keeps the type's records: "national" (every node:
	// missing persons, shelters) or "district" (the record's district and
	// headquarters: damage, relief, registrations, assets; the default).
	// The write policy follows it: a field laptop edits a district record
	// of its own district only.
	Scope string `yaml:"scope,omitempty" json:"scope,omitempty"`
	// Summary names the fields that identify a record in a list.
	Summary []string `yaml:"summary,omitempty" json:"summary,omitempty"`
	Fields  []*Field `yaml:"fields" json:"fields"`

	// Kit is the name of the kit that declares the type, set by Kit.Check.
	Kit string `yaml:"-" json:"kit"`

	byName map[string]*Field // set by Kit.Check
}

// Scopes a type may have.
const (
	ScopeNational = "national"
	ScopeDistrict = "district"
)

// National reports whether every node keeps the type's records.
func (t *Type) National() bool { return t.Scope == ScopeNational }

// Field returns the field called name. The name of a row's field,
// <repeat>.<row>.<field>, gives the repeat's nested field (and
// <repeat>.<row>.remove a yes-or-no field).
func (t *Type) Field(name string) (*Field, bool) {
	if t.byName != nil {
		if f, ok := t.byName[name]; ok {
			return f, true
		}
		return t.rowField(name)
	}
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return t.rowField(name)
}

// Kit is a versioned bundle of record types for one scenario.
type Kit struct {
	Name        string  `yaml:"kit" json:"name"`
	Version     string  `yaml:"version" json:"version"`
	Title       Label   `yaml:"title" json:"title"`
	Description Label   `yaml:"description,omitempty" json:"description,omitzero"`
	Types       []*Type `yaml:"types" json:"types"`
}

// Districts are Belize's six districts, as records and nodes name them.
var Districts = []string{"Belize", "Cayo", "Corozal", "Orange Walk", "Stann Creek", "Toledo"}

// DistrictScope is the sync scope of a district's records
// (syncproto.LaneScope): its place in Districts, from 1; 0, national, for a
// name that is no district. The numbers are part of the protocol: a
// district keeps its number.
func DistrictScope(name string) uint8 {
	if d, ok := District(name); ok {
		return uint8(slices.Index(Districts, d) + 1)
	}
	return syncproto.National
}

// ScopeName names a scope as people read it: "national", or its district.
func ScopeName(scope uint8) string {
	if scope == syncproto.National {
		return ScopeNational
	}
	if int(scope) <= len(Districts) {
		return Districts[scope-1]
	}
	return fmt.Sprintf("scope %d", scope)
}

// DistrictCode gives the three-letter code a district's case numbers carry.
var DistrictCode = map[string]string{
	"Belize": "BZE", "Cayo": "CYO", "Corozal": "CZL",
	"Orange Walk": "OWK", "Stann Creek": "SCK", "Toledo": "TOL",
}

// District returns the canonical spelling of a district name given in any
// case, or false if Belize has no such district.
func District(name string) (string, bool) {
	name = strings.Join(strings.Fields(name), " ")
	for _, d := range Districts {
		if strings.EqualFold(d, name) {
			return d, true
		}
	}
	return "", false
}

// DefinitionError is a mistake in a kit definition. Path locates it in the
// kit: the type's index and name, the field's index and name, and the key,
// each empty or -1 where it does not apply, so that a loader can point at the
// line of the file.
type DefinitionError struct {
	Kit       string
	TypeIndex int
	Type      string
	FieldIdx  int
	Field     string
	Key       string
	Msg       string
}

func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString("kit ")
	b.WriteString(e.Kit)
	if e.Type != "" {
		fmt.Fprintf(&b, ", type %s", e.Type)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ", %s", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}[a-z0-9]$`)
var fieldNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
var kitVersionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)

// Reserved names an input object may carry beside a type's fields.
const (
	KeyID  = "id"
	KeyKit = "kit"
)

// Check validates a kit definition and links its types to it. It returns
// every mistake it finds, not only the first, so that one edit of a kit file
// can fix them all.
func (k *Kit) Check() []*DefinitionError {
	var errs []*DefinitionError
	kitErr := func(key, format string, args ...any) {
		errs = append(errs, &DefinitionError{Kit: k.Name, TypeIndex: -1, FieldIdx: -1, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if !nameRE.MatchString(k.Name) {
		kitErr("kit", "name %q must be lower case letters, digits and dashes", k.Name)
	}
	if !kitVersionRE.MatchString(k.Version) {
		kitErr("version", "%q is not a version like 1.0 or 1.2.3", k.Version)
	}
	checkLabel(k.Title, func(m string) { kitErr("title", "%s", m) })
	if k.Description != (Label{}) {
		checkLabel(k.Description, func(m string) { kitErr("description", "%s", m) })
	}
	if len(k.Types) == 0 {
		kitErr("types", "a kit declares at least one record type")
	}
	seenTypes := map[string]bool{}
	for ti, t := range k.Types {
		if t == nil {
			kitErr("types", "type %d is empty", ti+1)
			continue
		}
		t.Kit = k.Name
		typeErr := func(key, format string, args ...any) {
			errs = append(errs, &DefinitionError{Kit: k.Name, TypeIndex: ti, Type: t.Name, FieldIdx: -1, Key: key, Msg: fmt.Sprintf(format, args...)})
		}
		if !nameRE.MatchString(t.Name) {
			typeErr("name", "%q must be lower case letters, digits and dashes", t.Name)
		}
		if seenTypes[t.Name] {
			typeErr("name", "type %q is declared twice", t.Name)
		}
		seenTypes[t.Name] = true
		if t.Version == 0 {
			typeErr("version", "schema version must be 1 or more")
		}
		if t.Priority < 1 || t.Priority > 9 {
			typeErr("priority", "%d is not a sync priority from 1 (first) to 9", t.Priority)
		}
		switch t.Scope {
		case "":
			t.Scope = ScopeDistrict
		case ScopeNational, ScopeDistrict:
		default:
			typeErr("scope", "%q is not %s or %s", t.Scope, ScopeNational, ScopeDistrict)
		}
		checkLabel(t.Title, func(m string) { typeErr("title", "%s", m) })
		if len(t.Fields) == 0 {
			typeErr("fields", "a record type has at least one field")
		}
		seenFields := map[string]bool{}
		t.byName = make(map[string]*Field, len(t.Fields))
		for fi, f := range t.Fields {
			if f == nil {
				typeErr("fields", "field %d is empty", fi+1)
				continue
			}
			t.byName[f.Name] = f
			f.choiceAt = make(map[string]int, len(f.Choices))
			for i, c := range f.Choices {
				f.choiceAt[c.Value] = i
			}
			fieldErr := func(key, format string, args ...any) {
				errs = append(errs, &DefinitionError{Kit: k.Name, TypeIndex: ti, Type: t.Name, FieldIdx: fi, Field: f.Name, Key: key, Msg: fmt.Sprintf(format, args...)})
			}
			if !fieldNameRE.MatchString(f.Name) || f.Name == KeyID || f.Name == KeyKit {
				fieldErr("name", "%q must be lower case letters, digits and underscores, and not %q or %q", f.Name, KeyID, KeyKit)
			}
			if seenFields[f.Name] {
				fieldErr("name", "field %q is declared twice", f.Name)
			}
			seenFields[f.Name] = true
			checkLabel(f.Label, func(m string) { fieldErr("label", "%s", m) })
			if f.Help != (Label{}) {
				checkLabel(f.Help, func(m string) { fieldErr("help", "%s", m) })
			}
			checkField(f, fieldErr)
			checkRepeat(f, func(field, key, format string, args ...any) {
				errs = append(errs, &DefinitionError{Kit: k.Name, TypeIndex: ti, Type: t.Name, FieldIdx: fi, Field: field, Key: key, Msg: fmt.Sprintf(format, args...)})
			})
		}
		fieldAt := map[*Field]int{}
		for fi, f := range t.Fields {
			fieldAt[f] = fi
			if f != nil {
				for _, nf := range f.Fields {
					fieldAt[nf] = fi
				}
			}
		}
		t.checkLogic(func(f *Field, key, format string, args ...any) {
			name := f.Name
			if f.parent != nil {
				name = f.parent.Name + "." + f.Name
			}
			errs = append(errs, &DefinitionError{Kit: k.Name, TypeIndex: ti, Type: t.Name, FieldIdx: fieldAt[f], Field: name, Key: key, Msg: fmt.Sprintf(format, args...)})
		})
		for _, s := range t.Summary {
			if !seenFields[s] {
				typeErr("summary", "names %q, which is not a field of the type", s)
			}
		}
	}
	return errs
}

func checkLabel(l Label, fail func(string)) {
	switch {
	case strings.TrimSpace(l.EN) == "" && strings.TrimSpace(l.ES) == "":
		fail("needs an English (en) and a Spanish (es) text")
	case strings.TrimSpace(l.EN) == "":
		fail("needs an English (en) text")
	case strings.TrimSpace(l.ES) == "":
		fail("needs a Spanish (es) text")
	}
}

func checkField(f *Field, fail func(key, format string, args ...any)) {
	if !slices.Contains(fieldTypes, f.Type) {
		fail("type", "%q is not a field type (one of %s)", f.Type, joinTypes())
		return
	}
	hasChoices := f.Type == Choice || f.Type == Multi
	if hasChoices && len(f.Choices) == 0 {
		fail("choices", "a %s field lists its choices", f.Type)
	}
	if !hasChoices && len(f.Choices) > 0 {
		fail("choices", "only choice and multi fields have choices")
	}
	if len(f.Choices) > MaxChoices {
		fail("choices", "%d choices, the limit is %d", len(f.Choices), MaxChoices)
	}
	seen := map[string]bool{}
	for i, c := range f.Choices {
		if strings.TrimSpace(c.Value) == "" || c.Value != strings.TrimSpace(c.Value) {
			fail("choices", "choice %d has an empty value or spaces around it", i+1)
		}
		if seen[strings.ToLower(c.Value)] {
			fail("choices", "choice %q is listed twice", c.Value)
		}
		seen[strings.ToLower(c.Value)] = true
		checkLabel(c.Label(), func(m string) { fail("choices", "choice %q %s", c.Value, m) })
	}
	if (f.Type == Ref) != (f.Ref != "") {
		fail("ref", "a ref field, and only a ref field, names the record type it refers to")
	}
	bounded := map[FieldType]bool{Text: true, Integer: true, Decimal: true, Multi: true, Photo: true}
	if !bounded[f.Type] && (f.Min != nil || f.Max != nil) {
		fail("min", "a %s field has no min or max", f.Type)
		return
	}
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		fail("max", "max %v is below min %v", *f.Max, *f.Min)
	}
	whole := f.Type != Decimal
	for key, b := range map[string]*float64{"min": f.Min, "max": f.Max} {
		if b == nil {
			continue
		}
		if whole && *b != float64(int64(*b)) {
			fail(key, "%v must be a whole number for a %s field", *b, f.Type)
		}
		if f.Type != Integer && f.Type != Decimal && *b < 0 {
			fail(key, "%v: a length or count is never negative", *b)
		}
	}
	if f.Type == Text && f.Max != nil && *f.Max > MaxTextLimit {
		fail("max", "%v characters, the limit is %d", *f.Max, MaxTextLimit)
	}
	if f.Type == Multi && f.Max != nil && int(*f.Max) > len(f.Choices) {
		fail("max", "%v is more than the %d choices", *f.Max, len(f.Choices))
	}
}

func joinTypes() string {
	s := make([]string, len(fieldTypes))
	for i, t := range fieldTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
