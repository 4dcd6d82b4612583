package xlsform

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"lifeline/schemas"
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
func (k *Kit) YAML(source string) ([]byte, error) {
	var b bytes.Buffer
	if source != "" {
		fmt.Fprintf(&b, "# Imported from the XLSForm %s by lifeline kits import.\n", oneLine(source))
		b.WriteString("# Read the import's report before publishing: it lists what the form had that the kit does not.\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(k); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
