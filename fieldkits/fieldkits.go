package fieldkits

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"lifeline/schemas"
)

//go:embed kits/*.yaml
var embedded embed.FS

// ErrKit is wrapped by every error about a kit file.
var ErrKit = errors.New("field kit")

// Error locates a mistake in a kit file.
type Error struct {
	File  string
	Line  int
	Field string // the kit, type or field concerned, as kit/type.field
	Msg   string
	// Err is ErrIncompatible for a kit that may not replace the one it
	// would, nil for a mistake of the file alone.
	Err error
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrKit, e.Err}
	}
	return []error{ErrKit}
}

// Catalogue is a set of kits whose record type names are unique.
type Catalogue struct {
	kits  []*schemas.Kit
	types map[string]*schemas.Type
}

// Embedded loads the kits built into the binary.
func Embedded() (*Catalogue, error) {
	sub, err := fs.Sub(embedded, "kits")
	if err != nil {
		return nil, err
	}
	return LoadFS(sub)
}

// LoadFS loads every *.yaml file at the top of fsys.
func LoadFS(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	var kits []*schemas.Kit
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		k, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		kits = append(kits, k)
	}
	return NewCatalogue(kits)
}

// NewCatalogue checks that kit and type names are unique across kits.
func NewCatalogue(kits []*schemas.Kit) (*Catalogue, error) {
	c := &Catalogue{types: map[string]*schemas.Type{}}
	seenKits := map[string]bool{}
	for _, k := range kits {
		if seenKits[k.Name] {
			return nil, fmt.Errorf("%w: kit %q is loaded twice", ErrKit, k.Name)
		}
		seenKits[k.Name] = true
		for _, t := range k.Types {
			if other, dup := c.types[t.Name]; dup {
				return nil, fmt.Errorf("%w: record type %q is declared by kit %q and kit %q", ErrKit, t.Name, other.Kit, k.Name)
			}
			c.types[t.Name] = t
		}
	}
	// References may cross kits: a relief distribution names a shelter.
	for _, k := range kits {
		for _, t := range k.Types {
			for _, f := range t.Fields {
				if f.Type == schemas.Ref && c.types[f.Ref] == nil {
					return nil, fmt.Errorf("%w: kit %s, type %s, field %s: refers to type %q, which no kit declares", ErrKit, k.Name, t.Name, f.Name, f.Ref)
				}
			}
		}
	}
	c.kits = slices.Clone(kits)
	slices.SortFunc(c.kits, func(a, b *schemas.Kit) int { return strings.Compare(a.Name, b.Name) })
	return c, nil
}

// Kits returns the kits sorted by name.
func (c *Catalogue) Kits() []*schemas.Kit { return c.kits }

// Type returns the record type called name.
func (c *Catalogue) Type(name string) (*schemas.Type, bool) {
	t, ok := c.types[name]
	return t, ok
}

// TypeNames lists every record type, sorted.
func (c *Catalogue) TypeNames() []string {
	names := make([]string, 0, len(c.types))
	for n := range c.types {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Parse decodes and checks one kit file. name is used in errors only.
func Parse(name string, data []byte) (*schemas.Kit, error) {
	k, _, err := parse(name, data)
	return k, err
}

// parse is Parse, returning as well the file's root, to locate mistakes
// found later.
func parse(name string, data []byte) (*schemas.Kit, *yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, yamlError(name, err)
	}
	if len(root.Content) == 0 {
		return nil, nil, &Error{File: name, Msg: "the file is empty"}
	}
	// Decoding with KnownFields catches misspelt keys; the node tree then
	// gives the line of every mistake Check finds.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var k schemas.Kit
	if err := dec.Decode(&k); err != nil {
		return nil, nil, yamlError(name, err)
	}
	if errs := k.Check(); len(errs) > 0 {
		return nil, nil, locate(name, &root, errs)
	}
	return &k, &root, nil
}

// locate turns definition errors into the Error of the first, at its line.
func locate(name string, root *yaml.Node, errs []*schemas.DefinitionError) *Error {
	e := errs[0]
	out := &Error{File: name, Line: lineOf(root.Content[0], e), Field: where(e), Msg: e.Msg}
	if len(errs) > 1 {
		out.Msg += fmt.Sprintf(" (and %d more mistakes)", len(errs)-1)
	}
	return out
}

// yamlError turns the YAML library's "yaml: line 12: ..." into an Error.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.TrimPrefix(te.Errors[0], "line ")
		if n, _ := fmt.Sscanf(msg, "%d:", &line); n == 1 {
			msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		}
		if len(te.Errors) > 1 {
			msg += fmt.Sprintf(" (and %d more mistakes)", len(te.Errors)-1)
		}
	}
	return &Error{File: name, Line: line, Msg: msg}
}

func where(e *schemas.DefinitionError) string {
	s := e.Kit
	if e.Type != "" {
		s += "/" + e.Type
	}
	if e.Field != "" {
		s += "." + e.Field
	}
	return s
}

// lineOf finds the line of the key a definition error is about.
func lineOf(kit *yaml.Node, e *schemas.DefinitionError) int {
	n := kit
	if e.TypeIndex >= 0 {
		n = item(value(n, "types"), e.TypeIndex)
		if e.FieldIdx >= 0 {
			n = item(value(n, "fields"), e.FieldIdx)
		}
	}
	if n == nil {
		return kit.Line
	}
	if k := key(n, e.Key); k != nil {
		return k.Line
	}
	return n.Line
}

func key(m *yaml.Node, name string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i]
		}
	}
	return nil
}

func value(m *yaml.Node, name string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i+1]
		}
	}
	return nil
}

func item(s *yaml.Node, i int) *yaml.Node {
	if s == nil || s.Kind != yaml.SequenceNode || i >= len(s.Content) {
		return nil
	}
	return s.Content[i]
}

// With returns a catalogue with more kits: a kit of a name already here is
// replaced when the new one's version is after it (schemas.CompareVersions).
// The result is checked like any catalogue (type names unique, references
// resolved). Whether a kit may replace another is ParseUpdate's to say.
func (c *Catalogue) With(kits []*schemas.Kit) (*Catalogue, error) {
	byName := map[string]*schemas.Kit{}
	for _, k := range c.kits {
		byName[k.Name] = k
	}
	for _, k := range kits {
		if old, ok := byName[k.Name]; !ok || schemas.CompareVersions(k.Version, old.Version) > 0 {
			byName[k.Name] = k
		}
	}
	all := make([]*schemas.Kit, 0, len(byName))
	for _, k := range byName {
		all = append(all, k)
	}
	return NewCatalogue(all)
}

// Kit returns the kit called name.
func (c *Catalogue) Kit(name string) (*schemas.Kit, bool) {
	for _, k := range c.kits {
		if k.Name == name {
			return k, true
		}
	}
	return nil, false
}

// ErrNotNewer means a kit file is not after the version of its kit in the
// catalogue: it would replace nothing.
var ErrNotNewer = errors.New("not a newer version")

// ErrIncompatible means a kit file would withdraw a promise the version it
// replaces made (schemas.Kit.CheckSuccessor).
var ErrIncompatible = errors.New("not a compatible successor")

// ParseUpdate parses a kit file meant to replace the kit of its name in the
// catalogue, or to add a kit the catalogue lacks, and checks that it may: its
// version is after the one it replaces (else the error wraps ErrNotNewer),
// and it keeps every promise that one made (else the error wraps
// ErrIncompatible, and names the kit, type and field, and the line of the
// file). name is used in errors only.
func (c *Catalogue) ParseUpdate(name string, data []byte) (*schemas.Kit, error) {
	k, root, err := parse(name, data)
	if err != nil {
		return nil, err
	}
	prev, ok := c.Kit(k.Name)
	if !ok {
		return k, nil
	}
	if schemas.CompareVersions(k.Version, prev.Version) <= 0 {
		return nil, &Error{File: name, Field: k.Name, Err: ErrNotNewer,
			Msg: fmt.Sprintf("version %s is not after %s, the version held here: raise it", k.Version, prev.Version)}
	}
	if errs := k.CheckSuccessor(prev); len(errs) > 0 {
		e := locate(name, root, errs)
		e.Msg += fmt.Sprintf("; version %s may not replace %s", k.Version, prev.Version)
		e.Err = ErrIncompatible
		return nil, e
	}
	return k, nil
}

// FileName is the name a kit is embedded under.
func FileName(kit string) string { return path.Join("kits", kit+".yaml") }
