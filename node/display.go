package node

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
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
