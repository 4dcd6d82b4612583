package xlsform

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"lifeline/schemas"
	"lifeline/syncproto"
)

// Kit is a kit file as Convert builds it: the keys of package schemas' kit
// format, the rules of its fields included, in the order a person reads them.
type Kit struct {
	Name    string        `yaml:"kit"`
	Version string        `yaml:"version"`
	Title   schemas.Label `yaml:"title,flow"`
	Types   []*Type       `yaml:"types"`
}

// Type is the kit's record type.
type Type struct {
	Name     string        `yaml:"name"`
	Version  uint32        `yaml:"version"`
	Priority int           `yaml:"priority"`
	Scope    string        `yaml:"scope"`
	Title    schemas.Label `yaml:"title,flow"`
	Fields   []*Field      `yaml:"fields"`
}

// Field is one question of the form. Required is nil, true, or the text of
// an expression; a repeat holds its questions in Fields.
type Field struct {
	Name              string            `yaml:"name"`
	Type              schemas.FieldType `yaml:"type"`
	Label             schemas.Label     `yaml:"label,flow"`
	Help              *schemas.Label    `yaml:"help,omitempty,flow"`
	Required          any               `yaml:"required,omitempty"`
	Relevant          string            `yaml:"relevant,omitempty"`
	Constraint        string            `yaml:"constraint,omitempty"`
	ConstraintMessage *schemas.Label    `yaml:"constraint_message,omitempty,flow"`
	Calculate         string            `yaml:"calculate,omitempty"`
	Default           string            `yaml:"default,omitempty"`
	Max               *float64          `yaml:"max,omitempty"`
	Choices           []Choice          `yaml:"choices,omitempty"`
	Fields            []*Field          `yaml:"fields,omitempty"`
}

// Repeat is the field type of a repeated group of questions, whose fields
// are nested one level.
const Repeat schemas.FieldType = "repeat"

// Choice is one choice of a choice or multi field, written on one line.
type Choice schemas.ChoiceItem

// MarshalYAML writes the choice as {value: ..., en: ..., es: ...}.
func (c Choice) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, kv := range [][2]string{{"value", c.Value}, {"en", c.EN}, {"es", c.ES}} {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[0]},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[1]})
	}
	return n, nil
}

// YAML writes the kit file, under a comment that says where it came from.
// A kit larger than a sync hello carries of one (syncproto.MaxKitNoticeBytes)
// would reach no laptop: it is refused as it is written, since a form of a
// few questions, each of a long list, makes a kit of gigabytes.
func (k *Kit) YAML(source string) ([]byte, error) {
	b := &bounded{}
	if source != "" {
		fmt.Fprintf(b, "# Imported from the XLSForm %s by lifeline kits import.\n", oneLine(source))
		fmt.Fprint(b, "# Read the import's report before publishing: it lists what the form had that the kit does not.\n")
	}
	enc := yaml.NewEncoder(b)
	enc.SetIndent(2)
	err := enc.Encode(k)
	if err == nil {
		err = enc.Close()
	}
	if b.over {
		return nil, &Error{Err: ErrLimit, Msg: fmt.Sprintf("the kit would be over %d KiB, the most of one kit that reaches the laptops: carry fewer questions or choices, or shorter labels", syncproto.MaxKitNoticeBytes>>10)}
	}
	if err != nil {
		return nil, err
	}
	return b.buf.Bytes(), nil
}

// bounded is a buffer that takes no more than a kit may hold.
type bounded struct {
	buf  bytes.Buffer
	over bool
}

func (b *bounded) Write(p []byte) (int, error) {
	if b.over || b.buf.Len()+len(p) > syncproto.MaxKitNoticeBytes {
		b.over = true
		return 0, ErrLimit
	}
	return b.buf.Write(p)
}
