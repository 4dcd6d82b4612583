package node

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"lifeline/schemas"
)

// Text that came from another node — a record's values, the names of types
// and fields a node wrote, an author, a peer's error — is whatever that node
// chose to send. Shown as it is, it could move a terminal's cursor, change
// its title or colours (escape sequences), reverse what follows it (bidi
// overrides), or hide itself (zero-width characters). The command line and
// the app show such text through Printable, and print JSON through
// PrintableJSON.

// hidden reports whether r must not reach a screen as it is: control
// characters (C0, DEL, C1), format characters (bidirectional controls,
// zero-width characters, the byte order mark, tags), and line and
// paragraph separators.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// Printable returns s as it may be shown on a terminal or in a window:
// each character hidden would keep from being seen is written as an escape
// (\n, \t, \r, \x1b, \u202e, \U000e0041), and each byte that is not UTF-8
// as \xNN. Everything else is kept, a backslash included, so that text
// already made printable comes out the same.
func Printable(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || hidden(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && hidden(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0xffff && hidden(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// PrintableAuthor returns an author as a byline shows it, before the node
// that vouches for it ("Ana Cho, via cayo-laptop-07"): made printable, and
// quoted when it holds what a byline is made of, a comma or the word via
// (vía), so that an author a node chose cannot pass for another byline.
// "Ana Cho, via hq-belmopan", written by toledo-laptop-03, is shown
// "\"Ana Cho, via hq-belmopan\", via toledo-laptop-03".
func PrintableAuthor(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	via := slices.ContainsFunc(words, func(w string) bool { return strings.EqualFold(w, "via") || strings.EqualFold(w, "vía") })
	if !via && !strings.ContainsRune(s, ',') {
		return Printable(s)
	}
	return strconv.Quote(s)
}

// PrintableJSON rewrites JSON, as encoding/json writes it, so that no
// character hidden reaches a terminal: each is written as a \u escape
// (encoding/json already escapes those below U+0020, and U+2028 and
// U+2029). Such characters only occur inside strings, and a \u escape
// there stands for the same character, so the JSON means what it meant.
func PrintableJSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf && b[i] != 0x7f {
			if out != nil {
				out = append(out, b[i])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if !hidden(r) {
			if out != nil {
				out = append(out, b[i:i+size]...)
			}
			i += size
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}

// arrangeRows puts the values of a repeat's rows, in a record shown to
// people, where the repeat stands among its type's fields: row by row,
// oldest first, each row's fields in the kit's order, each labelled with
// the repeat's label, the row's number from 1 and the field's label
// ("Household members 2: Age"). A removed row is left out of the order,
// and so is every row's removal mark; their values stay in Fields. Row
// fields the kit does not declare (written under a newer kit) follow
// their row's, by name.
func arrangeRows(t *schemas.Type, v *RecordView, lang string) {
	rows := map[string]map[string][]string{} // repeat, row: field names held
	removed := map[string]bool{}             // repeat.row
	var order []string
	for _, name := range v.Order {
		rep, row, field, ok := schemas.SplitRowField(name)
		if f, known := t.Field(rep); !ok || !known || f.Type != schemas.Repeat {
			order = append(order, name)
			continue
		}
		if rows[rep] == nil {
			rows[rep] = map[string][]string{}
		}
		if field == schemas.RemoveKey {
			removed[rep+"."+row] = removed[rep+"."+row] || v.Fields[name] == true
			if _, seen := rows[rep][row]; !seen {
				rows[rep][row] = nil
			}
			continue
		}
		rows[rep][row] = append(rows[rep][row], field)
	}
	if len(rows) == 0 {
		return
	}
	// order keeps the type's fields in the kit's order: each repeat's rows
	// go before the first field declared after the repeat.
	after := map[string]int{} // field name: its index in the type
	for i, f := range t.Fields {
		after[f.Name] = i
	}
	var out []string
	next := 0 // the index of the next field of the type to pass
	place := func(upTo int) {
		for ; next < upTo && next < len(t.Fields); next++ {
			rep := t.Fields[next]
			if rep.Type != schemas.Repeat || rows[rep.Name] == nil {
				continue
			}
			n := 0
			for _, row := range slices.Sorted(maps.Keys(rows[rep.Name])) {
				if removed[rep.Name+"."+row] {
					continue
				}
				n++
				held := rows[rep.Name][row]
				var names []string
				for _, nf := range rep.Fields {
					if slices.Contains(held, nf.Name) {
						names = append(names, nf.Name)
					}
				}
				var unknown []string
				for _, name := range held {
					if !slices.Contains(names, name) {
						unknown = append(unknown, name)
					}
				}
				slices.Sort(unknown)
				for _, field := range append(names, unknown...) {
					full := schemas.RowField(rep.Name, row, field)
					label := field
					if nf := nestedField(rep, field); nf != nil {
						label = nf.Label.In(lang)
					}
					v.Labels[full] = fmt.Sprintf("%s %d: %s", rep.Label.In(lang), n, label)
					out = append(out, full)
				}
			}
		}
	}
	for _, name := range order {
		if i, declared := after[name]; declared {
			place(i)
		} else {
			place(len(t.Fields))
		}
		out = append(out, name)
	}
	place(len(t.Fields))
	v.Order = out
}
