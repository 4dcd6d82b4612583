package schemas

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"lifeline/schemas/internal/jsonscan"
	"lifeline/syncproto"
)

// Repeat groups. A field of type repeat holds rows, each of the repeat's
// nested fields. Each value of a row is a field of the record of its own,
// named <repeat>.<row>.<field>, so that merging stays per field: two
// nodes that add rows at once both keep theirs. A row is removed by its
// field <repeat>.<row>.remove set to true, which no later edit undoes.
const (
	// MaxRows bounds the live rows of one repeat of a record.
	MaxRows = 200
	// RowIDLen is the length of a row id: lowercase base32hex digits.
	RowIDLen = 16
	// RowKey names a row's id in a record's JSON.
	RowKey = "row"
	// RemoveKey is the field that removes a row, and the key of a row
	// removed in a record's JSON.
	RemoveKey = "remove"
)

const rowDigits = "0123456789abcdefghijklmnopqrstuv" // base32hex, in sort order

// removeField is the definition of every row's remove field.
var removeField = &Field{Name: RemoveKey, Type: Bool, Label: Label{EN: "Removed", ES: "Eliminado"}}

// RowField names the field of a row: <repeat>.<row>.<field>.
func RowField(rep, row, field string) string { return rep + "." + row + "." + field }

// SplitRowField splits a row field's name; ok is false for any other name.
func SplitRowField(name string) (rep, row, field string, ok bool) {
	i := strings.IndexByte(name, '.')
	if i <= 0 || len(name) < i+1+RowIDLen+2 || name[i+1+RowIDLen] != '.' {
		return "", "", "", false
	}
	rep, row, field = name[:i], name[i+1:i+1+RowIDLen], name[i+2+RowIDLen:]
	if !ValidRowID(row) || strings.IndexByte(field, '.') >= 0 {
		return "", "", "", false
	}
	return rep, row, field, true
}

// ValidRowID reports whether s is a row id: 16 lowercase base32hex digits.
func ValidRowID(s string) bool {
	if len(s) != RowIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(rowDigits, s[i]) < 0 {
			return false
		}
	}
	return true
}

var rowMu sync.Mutex
var lastMilli, lastRand uint64

// NewRowIDs makes n row ids, in increasing order, each after every id
// made before by this process: 9 digits of milliseconds since 1970 (until
// the year 3084), then 7 random, so that rows sort by when they were added
// and two nodes adding a row at once pick different ids.
func NewRowIDs(n int) []string { return rowIDsAt(time.Now(), n) }

func rowIDsAt(now time.Time, n int) []string {
	rowMu.Lock()
	defer rowMu.Unlock()
	ids := make([]string, n)
	for i := range ids {
		var rnd [8]byte
		rand.Read(rnd[:])
		ms, r := uint64(now.UnixMilli()), binary.BigEndian.Uint64(rnd[:])>>29
		if ms < lastMilli || ms == lastMilli && r <= lastRand {
			ms, r = lastMilli, lastRand+1
			if r == 1<<35 {
				ms, r = ms+1, 0
			}
		}
		lastMilli, lastRand = ms, r
		var b [RowIDLen]byte
		putRowDigits(b[:9], ms)
		putRowDigits(b[9:], r)
		ids[i] = string(b[:])
	}
	return ids
}

// putRowDigits writes v in base32hex into b, the last digit the lowest.
func putRowDigits(b []byte, v uint64) {
	for j := len(b) - 1; j >= 0; j-- {
		b[j] = rowDigits[v&31]
		v >>= 5
	}
}

// rowField resolves a row field's name to its nested definition.
func (t *Type) rowField(name string) (*Field, bool) {
	rep, _, field, ok := SplitRowField(name)
	if !ok {
		return nil, false
	}
	var r *Field
	if t.byName != nil {
		r = t.byName[rep]
	} else {
		i := slices.IndexFunc(t.Fields, func(f *Field) bool { return f.Name == rep })
		if i >= 0 {
			r = t.Fields[i]
		}
	}
	if r == nil || r.Type != Repeat {
		return nil, false
	}
	if field == RemoveKey {
		return removeField, true
	}
	for _, f := range r.Fields {
		if f.Name == field {
			return f, true
		}
	}
	return nil, false
}

// parseRows reads a repeat's rows from JSON: an array of objects, a row
// without "row" new, {"row": id, "remove": true} a removal.
func (t *Type) parseRows(r *Field, v jsonscan.Value, mode Mode, buf []byte, fail func(field, rule, format string, args ...any)) ([]syncproto.FieldChange, []byte) {
	if v.Kind != jsonscan.Array {
		fail(r.Name, "type", "must be a list of rows, not %s", v.Kind)
		return nil, buf
	}
	if len(v.Elems) > MaxRows {
		fail(r.Name, "max", "has %d rows, at most %d are allowed", len(v.Elems), MaxRows)
		return nil, buf
	}
	fresh := 0
	for _, e := range v.Elems {
		if e.Kind == jsonscan.Object && !slices.ContainsFunc(e.Members, func(m jsonscan.Member) bool { return m.Key == RowKey }) {
			fresh++
		}
	}
	newIDs := NewRowIDs(fresh)
	var out []syncproto.FieldChange
	seen := map[string]bool{}
	for i, e := range v.Elems {
		at := fmt.Sprintf("%s[%d]", r.Name, i)
		if e.Kind != jsonscan.Object {
			fail(at, "type", "a row is an object of its fields, not %s", e.Kind)
			continue
		}
		row, remove := "", false
		for _, m := range e.Members {
			switch m.Key {
			case RowKey:
				if m.Value.Kind != jsonscan.String || !ValidRowID(m.Value.Str) {
					fail(at, "format", "row must be a row id of %d letters and digits, as the record shows it", RowIDLen)
					continue
				}
				row = m.Value.Str
			case RemoveKey:
				if m.Value.Kind != jsonscan.Bool || !m.Value.Bool {
					fail(at, "type", "remove is true, or left out")
					continue
				}
				remove = true
			}
		}
		switch {
		case row == "" && remove:
			fail(at, "format", "a row removed names its row")
			continue
		case row == "":
			row, newIDs = newIDs[0], newIDs[1:]
		case seen[row]:
			fail(at, "format", "row %s is given twice", row)
			continue
		}
		seen[row] = true
		if remove {
			if len(e.Members) > 2 {
				fail(at, "format", "a row removed sets no field")
			}
			out = append(out, syncproto.FieldChange{Name: RowField(r.Name, row, RemoveKey), Value: cborTrue})
			continue
		}
		for _, m := range e.Members {
			if m.Key == RowKey {
				continue
			}
			f, ok := r.byName[m.Key]
			if !ok || m.Key == RemoveKey {
				fail(at, "unknown", "a row of %s has no field %q", r.Name, m.Key)
				continue
			}
			name := RowField(r.Name, row, f.Name)
			if m.Value.Kind == jsonscan.Null {
				if mode == Update {
					out = append(out, syncproto.FieldChange{Name: name, Value: Null})
				}
				continue
			}
			start := len(buf)
			next, err := f.encode(buf, m.Value)
			if err != nil {
				if fe, ok := err.(*FieldError); ok {
					fe.Type, fe.Field = t.Name, name
					fail(name, fe.Rule, "%s", fe.Msg)
				} else {
					fail(name, "type", "%v", err)
				}
				continue
			}
			buf = next
			out = append(out, syncproto.FieldChange{Name: name, Value: buf[start:len(buf):len(buf)]})
		}
	}
	return out, buf
}
