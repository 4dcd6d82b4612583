// Package schemas is the model of Lifeline's record types: the fields a
// record of a type has, their value types, bounds and bilingual labels, which
// of them are personal data, and how urgently records of the type sync.
//
// It turns what a person or a file gives (JSON) into canonical field values
// (CBOR, as changes carry them) and back, and it is the only place that says
// whether a value is valid. A validation error names the record type, the
// field and the rule, so that a responder can fix the form and a script can
// fix its input file.
//
// Merging does not need schemas: a node keeps and forwards changes of types
// and schema versions it does not know, and shows them once the kit arrives.
package schemas
