package xlsform

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"lifeline/fieldkits"
	"lifeline/schemas"
	"lifeline/schemas/expr"
)

// Options steer a conversion. Each may be empty.
type Options struct {
	// Kit names the kit and its record type instead of the settings'
	// form_id. It must already be a kit name: lower case letters, digits
	// and dashes.
	Kit string
	// FileName is the form's file name; its base names the kit when
	// neither Kit nor form_id does.
	FileName string
	// DistrictField is the name of the question that holds the record's
	// district, when it is not called district. It becomes the kit's
	// district field.
	DistrictField string
}

// Note is one thing of the form that the kit does not carry, or carries
// changed, with the sheet and the row (0: the whole sheet) it is on.
type Note struct {
	Sheet string
	Row   int
	Msg   string
}

func (n Note) String() string {
	switch {
	case n.Sheet == "":
		return n.Msg
	case n.Row == 0:
		return n.Sheet + ": " + n.Msg
	}
	return fmt.Sprintf("%s row %d: %s", n.Sheet, n.Row, n.Msg)
}

// Report lists, in the form's order, what a conversion left out or changed.
type Report struct {
	Notes []Note
}

func (r *Report) add(sheet string, row int, format string, args ...any) {
	r.Notes = append(r.Notes, Note{Sheet: sheet, Row: row, Msg: fmt.Sprintf(format, args...)})
}

// Lines are the notes, one a line.
func (r *Report) Lines() []string {
	out := make([]string, len(r.Notes))
	for i, n := range r.Notes {
		out[i] = n.String()
	}
	return out
}

// DefaultPriority is the sync priority of an imported type: the middle of 1
// (life safety, first) to 9. The report says so, for a person to raise it.
const DefaultPriority = 5

// ConvertFile is Convert of the file at path.
func ConvertFile(path string, opts Options) (*Kit, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxFileSize {
		return nil, nil, &Error{Err: ErrLimit, Msg: fmt.Sprintf("the file is over %d MiB: an XLSForm is far smaller; is it the right file?", MaxFileSize>>20)}
	}
	if opts.FileName == "" {
		opts.FileName = filepath.Base(path)
	}
	return Convert(f, opts)
}

// Convert reads an XLSForm and builds the kit it becomes, with the report of
// what it left out. An error, an *Error wrapping ErrForm, means the form
// cannot become a kit.
func Convert(r io.Reader, opts Options) (*Kit, *Report, error) {
	sheets, err := readSheets(r)
	if err != nil {
		return nil, nil, err
	}
	c := &converter{
		opts:    opts,
		rep:     &Report{},
		names:   map[string]*entry{},
		dropped: map[string]string{},
		used:    map[*sheet]map[string]bool{},
	}
	k, err := c.convert(sheets)
	if err != nil {
		return nil, nil, err
	}
	return k, c.rep, nil
}

// entry is a question the kit carries.
type entry struct {
	field *Field
	row   int
	name  string // its name in the kit
}

type converter struct {
	opts Options
	rep  *Report

	survey, choices, settings *sheet
	lists                     map[string][]listItem

	fields  []*Field
	repeat  *Field // the repeat open now
	frames  []frame
	names   map[string]*entry // the form's name of each question carried
	dropped map[string]string // the form's name of each question left out, to why
	rules   []*rule
	used    map[*sheet]map[string]bool
	onlyOne map[string]bool // sheet/column whose language was reported
}

// frame is a group or a repeat being read.
type frame struct {
	repeat   bool
	name     string
	row      int
	relevant []part
}

// part is one expression as the form wrote it, with where.
type part struct {
	src    string
	row    int
	column string // heading, lower case
}

// rule is an expression for one key of a field, to be checked once every
// question's name is known: a rule may name a question further down.
type rule struct {
	field *Field
	key   string // relevant, constraint, calculate, default, required
	parts []part // joined by and (a relevant under groups)
}

type listItem struct {
	row  int
	item schemas.ChoiceItem
}

func (c *converter) use(s *sheet, heading string) {
	if c.used[s] == nil {
		c.used[s] = map[string]bool{}
	}
	c.used[s][heading] = true
}

func (c *converter) convert(sheets map[string]*sheet) (*Kit, error) {
	c.survey, c.choices, c.settings = sheets["survey"], sheets["choices"], sheets["settings"]
	if c.survey == nil || c.survey.heads == nil {
		return nil, &Error{Msg: "the workbook has no survey sheet with questions: an XLSForm lists its questions on a sheet named survey"}
	}
	for _, h := range []string{"type", "name"} {
		if _, ok := c.survey.col[h]; !ok {
			return nil, &Error{Sheet: c.survey.name, Row: c.survey.headerRow, Msg: fmt.Sprintf("no %s column: the first row of the survey sheet names its columns, type, name and label among them", h)}
		}
		c.use(c.survey, h)
	}
	if err := c.readChoices(); err != nil {
		return nil, err
	}
	for _, r := range c.survey.rows {
		if err := c.question(r); err != nil {
			return nil, err
		}
	}
	if n := len(c.frames); n > 0 {
		f := c.frames[n-1]
		kind := "begin_group"
		if f.repeat {
			kind = "begin_repeat"
		}
		return nil, &Error{Sheet: c.survey.name, Row: f.row, Msg: fmt.Sprintf("%s %s has no end: add its end_%s row", kind, f.name, kind[len("begin_"):])}
	}
	if err := c.district(); err != nil {
		return nil, err
	}
	for _, r := range c.rules {
		if err := c.resolve(r); err != nil {
			return nil, err
		}
	}
	if len(c.fields) == 0 || (len(c.fields) == 1 && c.fields[0].Name == "district" && c.names["district"] == nil) {
		return nil, &Error{Sheet: c.survey.name, Msg: "no question of the form can be carried into a kit"}
	}
	k, err := c.kit()
	if err != nil {
		return nil, err
	}
	c.unusedColumns()
	if err := check(k); err != nil {
		return nil, err
	}
	return k, nil
}

var metadata = map[string]bool{
	"start": true, "end": true, "today": true, "deviceid": true, "username": true,
	"simserial": true, "subscriberid": true, "phonenumber": true, "email": true,
	"audit": true, "start-geopoint": true, "background-audio": true,
}

var simpleTypes = map[string]schemas.FieldType{
	"text": schemas.Text, "string": schemas.Text,
	"integer": schemas.Integer, "int": schemas.Integer,
	"decimal": schemas.Decimal,
	"date":    schemas.Date, "datetime": schemas.DateTime,
	"geopoint": schemas.Geo,
	"image":    schemas.Photo, "photo": schemas.Photo,
	"acknowledge": schemas.Bool,
}

// question reads one row of the survey.
func (c *converter) question(r row) error {
	s := c.survey
	typ := strings.Join(strings.Fields(s.get(r, "type")), " ")
	name := s.get(r, "name")
	words := strings.Fields(strings.ToLower(typ))
	if len(words) >= 2 && (words[0] == "begin" || words[0] == "end") {
		words = append([]string{words[0] + "_" + words[1]}, words[2:]...)
	}
	// The type written in words, as pyxform's aliases take it.
	if len(words) >= 2 && words[0] == "select" && (words[1] == "one" || words[1] == "multiple") {
		words = append([]string{"select_" + words[1]}, words[2:]...)
	} else if len(words) >= 4 && slices.Equal(words[:4], []string{"select", "all", "that", "apply"}) {
		words = append([]string{"select_multiple"}, words[4:]...)
	}
	if len(words) == 0 {
		c.rep.add(s.name, r.n, "no type: the row is left out")
		return nil
	}
	kind := words[0]
	switch kind {
	case "end_group", "end_repeat":
		n := len(c.frames)
		if n == 0 || c.frames[n-1].repeat != (kind == "end_repeat") {
			return &Error{Sheet: s.name, Row: r.n, Column: s.where("type"), Msg: fmt.Sprintf("%s closes no begin_%s", kind, kind[len("end_"):])}
		}
		f := c.frames[n-1]
		c.frames = c.frames[:n-1]
		if f.repeat {
			if len(c.repeat.Fields) == 0 {
				c.fields = slices.DeleteFunc(c.fields, func(x *Field) bool { return x == c.repeat })
				delete(c.names, f.name)
				c.dropped[f.name] = "a repeat with no question carried"
				c.rep.add(s.name, f.row, "repeat %s has no question a kit carries: left out", f.name)
			}
			c.repeat = nil
		}
		return nil
	}
	if name == "" {
		if kind == "note" {
			c.rep.add(s.name, r.n, "a note is not carried: kits hold answers, and a note has none")
			return nil
		}
		return &Error{Sheet: s.name, Row: r.n, Column: s.where("name"), Msg: fmt.Sprintf("a %s question needs a name", kind)}
	}
	if e, dup := c.names[name]; dup {
		return &Error{Sheet: s.name, Row: r.n, Column: s.where("name"), Msg: fmt.Sprintf("the name %s is also the name of row %d: every question needs a name of its own", name, e.row)}
	}
	if _, dup := c.dropped[name]; dup {
		return &Error{Sheet: s.name, Row: r.n, Column: s.where("name"), Msg: fmt.Sprintf("the name %s is used twice: every question needs a name of its own", name)}
	}
	drop := func(why, format string, args ...any) error {
		c.dropped[name] = why
		c.rep.add(s.name, r.n, format, args...)
		return nil
	}
	if (kind == "begin_group" || kind == "begin_repeat") && len(c.frames) >= MaxNesting {
		// Each question is given the relevant of every group it is in:
		// 1,600 groups in one another, and as many questions in them,
		// had 2.5 million relevants of 4 KiB checked.
		return &Error{Sheet: s.name, Row: r.n, Column: s.where("type"), Err: ErrLimit, Msg: fmt.Sprintf("%s %s is inside %d groups: a form nests them at most %d deep", kind, name, len(c.frames), MaxNesting)}
	}
	switch {
	case kind == "begin_group":
		c.frames = append(c.frames, frame{name: name, row: r.n, relevant: c.part(r, "relevant")})
		c.dropped[name] = "a group"
		c.rep.add(s.name, r.n, "group %s is flattened: its questions are fields of the record, and its relevant is joined to each one's", name)
		return nil
	case kind == "begin_repeat":
		if c.repeat != nil {
			return &Error{Sheet: s.name, Row: r.n, Column: s.where("type"), Msg: fmt.Sprintf("repeat %s is inside repeat %s: a kit nests repeats one level only", name, c.repeat.Name)}
		}
		f, err := c.field(r, name, Repeat)
		if err != nil {
			return err
		}
		c.repeat = f
		c.frames = append(c.frames, frame{repeat: true, name: name, row: r.n})
		return nil
	case kind == "note":
		return drop("a note", "note %s is not carried: kits hold answers, and a note has none", name)
	case metadata[kind]:
		return drop("metadata", "%s (%s) is not carried: a Lifeline record keeps who wrote it and when in every change", name, kind)
	case kind == "select_one" || kind == "select_multiple":
		if len(words) < 2 {
			return &Error{Sheet: s.name, Row: r.n, Column: s.where("type"), Msg: fmt.Sprintf("%s needs the name of its list of choices: %s LIST", kind, kind)}
		}
		// The list's name as written: its case counts, and the words
		// of the type before it are as many as words has less one.
		raw := strings.Fields(typ)
		list := raw[len(raw)-len(words)+1]
		items, ok := c.lists[list]
		if !ok {
			return &Error{Sheet: s.name, Row: r.n, Column: s.where("type"), Msg: fmt.Sprintf("the list %s is not on the choices sheet", list)}
		}
		if len(items) > schemas.MaxChoices {
			return &Error{Sheet: s.name, Row: r.n, Column: s.where("type"), Err: ErrLimit, Msg: fmt.Sprintf("the list %s has %d choices: a field offers at most %d", list, len(items), schemas.MaxChoices)}
		}
		for _, w := range words[2:] {
			if w == "or_other" {
				c.rep.add(s.name, r.n, "or_other of %s is not carried: add an other choice and a text question for it", name)
			} else {
				c.rep.add(s.name, r.n, "%q after the list name of %s is not carried", w, name)
			}
		}
		t := schemas.Choice
		if kind == "select_multiple" {
			t = schemas.Multi
		}
		f, err := c.field(r, name, t)
		if err != nil {
			return err
		}
		for _, it := range items {
			f.Choices = append(f.Choices, Choice(it.item))
		}
		return nil
	case kind == "calculate":
		_, err := c.field(r, name, schemas.Text)
		return err
	}
	t, ok := simpleTypes[kind]
	if !ok {
		return drop("a type Lifeline lacks", "type %q of %s is not a Lifeline type; left out", kind, name)
	}
	f, err := c.field(r, name, t)
	if err == nil && t == schemas.Photo {
		one := 1.0
		f.Max = &one // an XLSForm image question takes one photo
	}
	return err
}

var fieldNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// kitFieldName is the name a question's name becomes in the kit.
func kitFieldName(name string) string {
	n := strings.ToLower(name)
	n = strings.NewReplacer("-", "_", ".", "_").Replace(n)
	if n != "" && (n[0] == '_' || (n[0] >= '0' && n[0] <= '9')) {
		n = "q" + n
	}
	if n == schemas.KeyID || n == schemas.KeyKit {
		n = "form_" + n
	}
	return n
}

// rowFieldName is kitFieldName for a question of a repeat, whose rows
// keep row and remove for themselves.
func rowFieldName(name string) string {
	n := kitFieldName(name)
	if n == schemas.RowKey || n == schemas.RemoveKey {
		n = "form_" + n
	}
	return n
}

// field makes the field of a question and files it where it belongs.
func (c *converter) field(r row, name string, t schemas.FieldType) (*Field, error) {
	s := c.survey
	kname := kitFieldName(name)
	if c.repeat != nil {
		kname = rowFieldName(name)
	}
	if !fieldNameRE.MatchString(kname) {
		return nil, &Error{Sheet: s.name, Row: r.n, Column: s.where("name"), Msg: fmt.Sprintf("the name %q cannot be a field name: use letters, digits and underscores, at most 63, starting with a letter", name)}
	}
	for _, e := range c.names {
		if e.name == kname {
			return nil, &Error{Sheet: s.name, Row: r.n, Column: s.where("name"), Msg: fmt.Sprintf("the name %s would be %s in the kit, the name of row %d", name, kname, e.row)}
		}
	}
	if kname != name {
		c.rep.add(s.name, r.n, "%s is named %s in the kit (field names are lower case letters, digits and underscores, and not id or kit, nor row or remove in a repeat)", name, kname)
	}
	f := &Field{Name: kname, Type: t}
	label, ok := c.label(s, r, "label")
	if !ok {
		label = schemas.Label{EN: name, ES: name}
		if t != schemas.Text || s.get(r, "calculation") == "" {
			c.rep.add(s.name, r.n, "%s has no label: its name is its label", name)
		}
	}
	f.Label = label
	if help, ok := c.label(s, r, "hint"); ok {
		f.Help = &help
	}
	if t != Repeat {
		c.rules = append(c.rules, c.rulesOf(r, f)...)
	}
	rel := c.groupRelevant()
	rel = append(rel, c.part(r, "relevant")...)
	if len(rel) > 0 {
		c.rules = append(c.rules, &rule{field: f, key: "relevant", parts: rel})
	}
	if v := s.get(r, "choice_filter"); v != "" {
		c.rep.add(s.name, r.n, "the choice_filter of %s is not carried: the field offers every choice of its list", name)
	}
	c.use(s, "choice_filter")
	if c.repeat != nil {
		c.repeat.Fields = append(c.repeat.Fields, f)
	} else {
		c.fields = append(c.fields, f)
	}
	c.names[name] = &entry{field: f, row: r.n, name: kname}
	return f, nil
}

// groupRelevant is the relevant of every group open now, outermost first:
// a flattened group's questions are shown only when it would have been.
func (c *converter) groupRelevant() []part {
	var out []part
	for _, f := range c.frames {
		if !f.repeat {
			out = append(out, f.relevant...)
		}
	}
	return out
}

// part is the cell of a rule column, if any.
func (c *converter) part(r row, heading string) []part {
	c.use(c.survey, heading)
	if v := c.survey.get(r, heading); v != "" {
		return []part{{src: v, row: r.n, column: heading}}
	}
	return nil
}

// rulesOf reads a question's constraint, calculation, default and required.
func (c *converter) rulesOf(r row, f *Field) []*rule {
	s := c.survey
	var out []*rule
	if p := c.part(r, "constraint"); p != nil {
		out = append(out, &rule{field: f, key: "constraint", parts: p})
		if msg, ok := c.label(s, r, "constraint_message"); ok {
			f.ConstraintMessage = &msg
		}
	} else {
		c.label(s, r, "constraint_message") // a message without its rule
	}
	if p := c.part(r, "calculation"); p != nil {
		out = append(out, &rule{field: f, key: "calculate", parts: p})
	}
	c.use(s, "default")
	if v := s.get(r, "default"); v != "" {
		out = append(out, &rule{field: f, key: "default", parts: []part{{src: defaultExpr(v), row: r.n, column: "default"}}})
	}
	c.use(s, "required")
	switch v := s.get(r, "required"); strings.ToLower(v) {
	case "", "no", "false", "false()", "0":
	case "yes", "true", "true()", "1":
		f.Required = true
	default:
		out = append(out, &rule{field: f, key: "required", parts: []part{{src: v, row: r.n, column: "required"}}})
	}
	return out
}

// defaultExpr turns an XLSForm default, a value unless it reads fields or
// calls functions, into the expression a kit's default is.
func defaultExpr(v string) string {
	if strings.Contains(v, "${") || strings.Contains(v, "(") {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "eEnN+xX") {
		return v
	}
	if !strings.Contains(v, "'") {
		return "'" + v + "'"
	}
	return `"` + v + `"`
}

var refRE = regexp.MustCompile(`\$\{\s*([^}]*?)\s*\}`)

// resolve checks a rule and sets it on its field: each ${name} is the
// question's name in the kit, and the expression is one kits evaluate. A
// rule that names a question left out, or that kits cannot evaluate, is
// left out and reported; one that names no question of the form is an
// error of the form.
func (c *converter) resolve(r *rule) error {
	s := c.survey
	var ok []string
	for _, p := range r.parts {
		var missing []string
		var unknown string
		out := refRE.ReplaceAllStringFunc(p.src, func(m string) string {
			name := refRE.FindStringSubmatch(m)[1]
			if e, ok := c.names[name]; ok {
				return "${" + e.name + "}"
			}
			if why, ok := c.dropped[name]; ok {
				missing = append(missing, fmt.Sprintf("${%s} (%s)", name, why))
			} else if unknown == "" {
				unknown = name
			}
			return m
		})
		if unknown != "" {
			return &Error{Sheet: s.name, Row: p.row, Column: s.where(p.column), Msg: fmt.Sprintf("${%s} is not the name of any question of the form", unknown)}
		}
		what := p.column
		if p.column != r.key {
			what = fmt.Sprintf("%s (for %s)", p.column, r.field.Name)
		}
		if len(missing) > 0 {
			c.rep.add(s.name, p.row, "the %s %q is left out: it reads %s, which the kit does not carry", what, p.src, strings.Join(missing, ", "))
			continue
		}
		if _, err := expr.Parse(out); err != nil {
			c.rep.add(s.name, p.row, "the %s %q is left out: kits cannot evaluate it: %v", what, p.src, err)
			continue
		}
		ok = append(ok, out)
	}
	if len(ok) == 0 {
		if r.key == "calculate" {
			c.rep.add(s.name, r.parts[0].row, "%s is kept as a text field that a person fills in", r.field.Name)
		}
		return nil
	}
	src := ok[0]
	if len(ok) > 1 {
		src = "(" + strings.Join(ok, ") and (") + ")"
		if _, err := expr.Parse(src); err != nil {
			c.rep.add(s.name, r.parts[0].row, "the relevant of %s is left out: joined with its groups' it cannot be evaluated: %v", r.field.Name, err)
			return nil
		}
	}
	switch r.key {
	case "relevant":
		r.field.Relevant = src
	case "constraint":
		r.field.Constraint = src
	case "calculate":
		r.field.Calculate = src
	case "default":
		r.field.Default = src
	case "required":
		r.field.Required = src
	}
	return nil
}

// readChoices reads the lists of the choices sheet.
func (c *converter) readChoices() error {
	c.lists = map[string][]listItem{}
	s := c.choices
	if s == nil || s.heads == nil {
		return nil
	}
	listCol := "list_name"
	if _, ok := s.col[listCol]; !ok {
		listCol = "list name"
	}
	for _, h := range []string{listCol, "name"} {
		if _, ok := s.col[h]; !ok {
			return &Error{Sheet: s.name, Row: s.headerRow, Msg: fmt.Sprintf("no %s column: the choices sheet has list_name, name and label columns", h)}
		}
		c.use(s, h)
	}
	seen := map[string]map[string]int{}
	for _, r := range s.rows {
		list, value := s.get(r, listCol), s.get(r, "name")
		if list == "" && value == "" {
			continue
		}
		if list == "" || value == "" {
			return &Error{Sheet: s.name, Row: r.n, Msg: "a choice needs its list_name and its name (the value recorded)"}
		}
		if seen[list] == nil {
			seen[list] = map[string]int{}
		}
		if prev, dup := seen[list][strings.ToLower(value)]; dup {
			return &Error{Sheet: s.name, Row: r.n, Column: s.where("name"), Msg: fmt.Sprintf("the choice %s is in list %s twice (row %d too)", value, list, prev)}
		}
		seen[list][strings.ToLower(value)] = r.n
		l, ok := c.label(s, r, "label")
		if !ok {
			l = schemas.Label{EN: value, ES: value}
			c.rep.add(s.name, r.n, "choice %s of list %s has no label: its name is its label", value, list)
		}
		c.lists[list] = append(c.lists[list], listItem{row: r.n, item: schemas.ChoiceItem{Value: value, EN: l.EN, ES: l.ES}})
	}
	return nil
}

// langOf reads the language of a heading's suffix, "English (en)" or
// "Español": en, es, or "" for another.
func langOf(suffix string) string {
	s := strings.ToLower(strings.TrimSpace(suffix))
	if i := strings.LastIndex(s, "("); i >= 0 && strings.HasSuffix(s, ")") {
		code := strings.TrimSpace(s[i+1 : len(s)-1])
		if code == "en" || code == "es" {
			return code
		}
		s = strings.TrimSpace(s[:i])
	}
	switch s {
	case "en", "english", "inglés", "ingles":
		return "en"
	case "es", "spanish", "español", "espanol":
		return "es"
	}
	return ""
}

// label reads the English and Spanish text of a labelled column (label,
// hint, constraint_message, form_title): from base::English (en) and
// base::Español (es) style columns, and base alone. Text in one language
// only stands for both, reported. It says false when there is no text.
func (c *converter) label(s *sheet, r row, base string) (schemas.Label, bool) {
	var l schemas.Label
	var plain string
	enCol, esCol := false, false
	for i, h := range s.heads {
		key := strings.ToLower(h)
		var lang string
		switch {
		case key == base:
			c.use(s, key)
			if i < len(r.cells) {
				plain = strings.TrimSpace(r.cells[i])
			}
			continue
		case strings.HasPrefix(key, base+"::"):
			lang = langOf(key[len(base)+2:])
		default:
			continue
		}
		if lang == "" {
			continue // another language: reported as a column not carried
		}
		c.use(s, key)
		v := ""
		if i < len(r.cells) {
			v = strings.TrimSpace(r.cells[i])
		}
		if lang == "en" {
			enCol = true
			if l.EN == "" {
				l.EN = v
			}
		} else {
			esCol = true
			if l.ES == "" {
				l.ES = v
			}
		}
	}
	if plain != "" && l.EN == "" && l.ES == "" && !enCol && !esCol {
		c.once(s.name, base, "the %s text has no language (no %s::English (en) or %s::Español (es) column): it is both the English and the Spanish text, to translate before publishing", base, base, base)
	}
	if l.EN == "" {
		l.EN = plain
	}
	if l.ES == "" {
		l.ES = plain
	}
	if l.EN == "" && l.ES == "" {
		return l, false
	}
	if l.EN != "" && l.ES != "" {
		return l, true
	}
	have, lack := "English", "Spanish"
	if l.EN == "" {
		have, lack = lack, have
		l.EN = l.ES
	} else {
		l.ES = l.EN
	}
	// A whole column missing is one line; a cell missing, a line each.
	if (lack == "Spanish" && !esCol) || (lack == "English" && !enCol) {
		c.once(s.name, base, "the %s text is in %s only: the %s text is a copy of it, to translate before publishing", base, have, lack)
	} else {
		c.rep.add(s.name, r.n, "the %s has no %s text: the %s is used", base, lack, have)
	}
	return l, true
}

// once reports a note about a column of a sheet once.
func (c *converter) once(sheet, column, format string, args ...any) {
	key := sheet + "/" + column
	if c.onlyOne == nil {
		c.onlyOne = map[string]bool{}
	}
	if !c.onlyOne[key] {
		c.onlyOne[key] = true
		c.rep.add(sheet, 0, format, args...)
	}
}

// unusedColumns reports the columns with something in them that no part of
// the conversion read.
func (c *converter) unusedColumns() {
	for _, s := range []*sheet{c.settings, c.survey, c.choices} {
		if s == nil {
			continue
		}
		for i, h := range s.heads {
			if h == "" || c.used[s][strings.ToLower(h)] {
				continue
			}
			for _, r := range s.rows {
				if i < len(r.cells) && strings.TrimSpace(r.cells[i]) != "" {
					c.rep.add(s.name, 0, "column %s is not carried: kits have no such key", columnName(i, h))
					break
				}
			}
		}
	}
}

var kitNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}[a-z0-9]$`)
var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)

// kit makes the kit of the fields read, from the settings.
func (c *converter) kit() (*Kit, error) {
	var set row
	s := c.settings
	if s != nil && len(s.rows) > 0 {
		set = s.rows[0]
		for _, r := range s.rows[1:] {
			c.rep.add(s.name, r.n, "settings are read from the first row under the headings only; this row is left out")
		}
	}
	get := func(h string) string {
		if s == nil {
			return ""
		}
		c.use(s, h)
		return s.get(set, h)
	}
	sname := "settings"
	if s != nil {
		sname = s.name
	}
	formID := get("form_id")
	name := c.opts.Kit
	if name != "" && !kitNameRE.MatchString(name) {
		return nil, &Error{Msg: fmt.Sprintf("the kit name %q must be lower case letters, digits and dashes, 2 to 64 of them, starting with a letter", name)}
	}
	if name == "" {
		from := formID
		if from == "" {
			from = strings.TrimSuffix(filepath.Base(c.opts.FileName), filepath.Ext(c.opts.FileName))
		}
		name = kitName(from)
		if name == "" {
			return nil, &Error{Sheet: sname, Msg: "no form_id to name the kit by: add one to the settings sheet, or name the kit (--kit)"}
		}
		if formID == "" {
			c.rep.add(sname, 0, "no form_id: the kit is named %s, after the file", name)
		} else if name != formID {
			c.rep.add(sname, set.n, "form_id %s is %s as a kit name (lower case letters, digits and dashes)", formID, name)
		}
	}
	version := get("version")
	switch {
	case version == "":
		version = "1.0.0"
	case versionRE.MatchString(version):
	case regexp.MustCompile(`^[0-9]{1,12}$`).MatchString(version):
		// ODK's usual version is a number such as 2024031501: kept as
		// the major version, so that a later form is a later kit.
		n, _ := strconv.ParseUint(version, 10, 64)
		version = fmt.Sprintf("%d.0.0", n)
		c.rep.add(sname, set.n, "version %s is the kit's version %s", get("version"), version)
	default:
		c.rep.add(sname, set.n, "version %q is not a version like 1.2.3: the kit's version is 1.0.0", version)
		version = "1.0.0"
	}
	var title schemas.Label
	ok := false
	if s != nil {
		title, ok = c.label(s, set, "form_title")
	}
	if !ok {
		title = schemas.Label{EN: name, ES: name}
		c.rep.add(sname, 0, "no form_title: the kit's title is its name, %s", name)
	}
	get("default_language") // which language a bare label is: both here
	c.rep.add("", 0, "the record type %s syncs at priority %d of 1 (first) to 9: change priority in the kit if its records are more urgent", name, DefaultPriority)
	return &Kit{
		Name: name, Version: version, Title: title,
		Types: []*Type{{
			Name: name, Version: 1, Priority: DefaultPriority, Scope: schemas.ScopeDistrict,
			Title: title, Fields: c.fields,
		}},
	}, nil
}

// kitName makes a form_id a kit name: lower case, runs of anything else
// than letters and digits a dash, starting with a letter, at most 64.
func kitName(id string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(id) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	n := b.String()
	if n != "" && n[0] >= '0' && n[0] <= '9' {
		n = "form-" + n
	}
	if len(n) > 64 {
		n = strings.TrimRight(n[:64], "-")
	}
	if !kitNameRE.MatchString(n) {
		return ""
	}
	return n
}

// district makes sure the record type has its district field, which files
// each record under its district: the question --district-field names, or
// the one called district, or a new one.
func (c *converter) district() error {
	s := c.survey
	name := c.opts.DistrictField
	e := c.names[name]
	if name != "" && e == nil {
		return &Error{Sheet: s.name, Msg: fmt.Sprintf("the form has no question %s to hold the district (--district-field)", name)}
	}
	if name == "" {
		for n, x := range c.names {
			if x.name == "district" {
				name, e = n, x
			}
		}
	}
	if e == nil {
		var choices []Choice
		for _, d := range schemas.Districts {
			es := d
			if d == "Belize" {
				es = "Belice"
			}
			choices = append(choices, Choice{Value: d, EN: d, ES: es})
		}
		c.fields = append([]*Field{{
			Name: "district", Type: schemas.Choice, Required: true,
			Label:   schemas.Label{EN: "District", ES: "Distrito"},
			Choices: choices,
		}}, c.fields...)
		c.rep.add(s.name, 0, "the form has no district question: a required district field, a choice of Belize's six districts, is added first, for every record is kept by its district (name the form's question with --district-field if it has one)")
		return nil
	}
	if !slices.Contains(c.fields, e.field) {
		return &Error{Sheet: s.name, Row: e.row, Msg: fmt.Sprintf("the district question %s is inside a repeat: a record has one district", name)}
	}
	f := e.field
	switch f.Type {
	case schemas.Text:
	case schemas.Choice:
		changed := false
		for i, ch := range f.Choices {
			d, ok := schemas.District(strings.ReplaceAll(ch.Value, "_", " "))
			if !ok {
				return &Error{Sheet: s.name, Row: e.row, Msg: fmt.Sprintf("the district question %s offers %q, which is none of Belize's districts (%s)", name, ch.Value, strings.Join(schemas.Districts, ", "))}
			}
			if d != ch.Value {
				f.Choices[i].Value, changed = d, true
			}
		}
		if changed {
			c.rep.add(s.name, e.row, "the district choices of %s are spelt as Lifeline names the districts (Orange Walk, not orange_walk): a rule comparing the district with a choice must use that spelling", name)
		}
	default:
		return &Error{Sheet: s.name, Row: e.row, Msg: fmt.Sprintf("the district question %s is a %s: it must be a select_one of the districts or a text", name, f.Type)}
	}
	if f.Name != "district" {
		for _, x := range c.names {
			if x.name == "district" {
				return &Error{Sheet: s.name, Row: x.row, Msg: fmt.Sprintf("a question is called district, and %s is named the district question: rename one", name)}
			}
		}
		c.rep.add(s.name, e.row, "%s is the kit's district field, named district", name)
		f.Name, e.name = "district", "district"
	}
	return nil
}

// check loads the kit as every node will, with package fieldkits' loader:
// a kit Convert returns is one that lifeline kits publish takes.
func check(k *Kit) error {
	data, err := k.YAML("")
	if err != nil {
		return err
	}
	if _, err := fieldkits.Parse(k.Name+".yaml", data); err != nil {
		var fe *fieldkits.Error
		if errors.As(err, &fe) {
			return &Error{Msg: fmt.Sprintf("the kit would be refused: %s: %s", fe.Field, fe.Msg)}
		}
		return &Error{Msg: fmt.Sprintf("the kit would be refused: %v", err)}
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
