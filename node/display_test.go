package node_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"lifeline/node"
)

// What a node may send as a value, a name or an error, and how it is shown.
var nasty = []struct{ in, want string }{
	{"\x1b[2J\x1b]0;owned\x07", `\x1b[2J\x1b]0;owned\x07`}, // clear the screen, retitle the terminal
	{"Ana Cho\x1b[8m hidden", `Ana Cho\x1b[8m hidden`},     // invisible text
	{"\u009b31mred", `\u009b31mred`},                       // CSI as one C1 character
	{"cayo-07\u202e70-oyac", `cayo-07\u202e70-oyac`},       // right-to-left override
	{"\u2066HQ\u2069 \u200fDirector\u200e", `\u2066HQ\u2069 \u200fDirector\u200e`},
	{"HQ\u200bDirector\ufeff", `HQ\u200bDirector\ufeff`},   // zero-width space, byte order mark
	{"x\u061cy", `x\u061cy`},                               // Arabic letter mark
	{"tag\U000e0041\U000e007f", `tag\U000e0041\U000e007f`}, // tag characters
	{"Maria\nDecided at HQ: found", `Maria\nDecided at HQ: found`},
	{"a\rb\tc\x00d\x7fe", `a\rb\tc\x00d\x7fe`},
	{"para\u2028graph\u2029", `para\u2028graph\u2029`},
	{"bad \xff\xfe bytes", `bad \xff\xfe bytes`},
	{"Pérez, Orange Walk — señora 日本 👍 \\u202e", "Pérez, Orange Walk — señora 日本 👍 \\u202e"},
	{"", ""},
}

func TestPrintable(t *testing.T) {
	for _, c := range nasty {
		got := node.Printable(c.in)
		if got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := node.Printable(got); again != got {
			t.Errorf("made printable twice, %q becomes %q", got, again)
		}
	}
}

// Every character that could drive a terminal or hide text is escaped, and
// text made printable stays so.
func FuzzPrintable(f *testing.F) {
	for _, c := range nasty {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := node.Printable(s)
		if !utf8.ValidString(p) {
			t.Fatalf("%q is not UTF-8", p)
		}
		for _, r := range p {
			if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("%q keeps %U", p, r)
			}
		}
		if node.Printable(p) != p {
			t.Fatalf("%q changes when made printable again", p)
		}
		if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
		}) && p != s {
			t.Fatalf("%q, which hides nothing, became %q", s, p)
		}
	})
}

// JSON made printable holds no hidden character and decodes to the same
// values.
func TestPrintableJSON(t *testing.T) {
	in := map[string]any{}
	for i, c := range nasty {
		if utf8.ValidString(c.in) {
			in[strings.Repeat("k", i+1)] = c.in
		}
	}
	in["list"] = []any{"\u202e", "x\u0085y", "\U000e0041"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	p := node.PrintableJSON(b)
	for _, r := range string(p) {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Fatalf("%U is left in %s", r, p)
		}
	}
	var out map[string]any
	if err := json.Unmarshal(p, &out); err != nil {
		t.Fatalf("%v: %s", err, p)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("decoded %v, want %v", out, in)
	}
	clean := []byte(`{"name":"señora Pérez"}`)
	if got := node.PrintableJSON(clean); string(got) != string(clean) {
		t.Fatalf("%s became %s", clean, got)
	}
}
