package expr

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse parses anything, and evaluates what parses against records of
// every kind of value: nothing panics, every error is an *Error that says
// where within the source, and what parses stays within the limits and
// reads back from its canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`. >= 0 and . <= ${household_size}`,
		`selected(${needs}, 'medical') and not(${injured} = 0)`,
		`if(today() - ${dob} < 18 * 365, 'child', 'adult')`,
		`regex(., '^\d{3}-\d{4}$')`,
		`count-selected(${needs}) <= 3 or string-length(${notes}) > 10`,
		`concat(${first}, ' ', ${last})`,
		`coalesce(${a}, round(${b} div ${c}, 2))`,
		`int(number(${age})) mod 2 = 1`,
		`date('2024-02-29') + 1 > today()`,
		`substr(${name}, -3, 100)`,
		`selected-at(${m}, 1) != ''`,
		`min(1, ${a}, '2') + max(.) + abs(-.5)`,
		`-(-(1 - 2)) * 3 div 4`,
		"1 +\n  * 2",
		`${a} == 1`, `'abc`, `${`, `$`, `regex(., '[')`, `..`, `(`, `)`, `not(`,
		strings.Repeat("(", MaxDepth+1) + "1" + strings.Repeat(")", MaxDepth+1),
		strings.Repeat("-", MaxDepth) + "1",
		"'\xff'", "\x00", "'😀' = ${ñ}",
	} {
		f.Add(s)
	}
	records := []Values{
		{},
		{"a": NumberValue(2), "b": NumberValue(-0.5), "c": NumberValue(0)},
		{"a": StringValue("12"), "b": StringValue("2024-02-29"), "c": StringValue("")},
		{"a": MultiValue("x", "y z"), "b": BoolValue(true), "c": DateValue(Date{2024, 2, 29})},
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var xerr *Error
			if !errors.As(err, &xerr) || !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrLimit) {
				t.Fatalf("Parse: %v (%T), want an *Error wrapping ErrSyntax or ErrLimit", err, err)
			}
			checkPlace(t, src, xerr)
			if len(src) > MaxLen && !errors.Is(err, ErrLimit) {
				t.Fatalf("%d bytes: %v, want ErrLimit", len(src), err)
			}
			return
		}
		if len(src) > MaxLen {
			t.Fatalf("Parse accepted %d bytes", len(src))
		}
		if d := nesting(e.root); d > MaxDepth {
			t.Fatalf("Parse accepted an expression %d deep", d)
		}
		canon := e.String()
		if len(canon) <= MaxLen {
			e2, err := Parse(canon)
			if err != nil {
				t.Fatalf("Parse(%q), the canonical form of %q: %v", canon, src, err)
			}
			if again := e2.String(); again != canon {
				t.Fatalf("String(Parse(%q)) = %q", canon, again)
			}
		}
		for _, base := range records {
			rec := maps.Clone(base)
			for _, name := range e.Fields() {
				if _, ok := rec[name]; !ok {
					rec[name] = StringValue(name)
				}
			}
			v, err := e.Eval(Env{Fields: rec, Current: rec["a"], Today: Date{2024, 11, 27}})
			if err != nil {
				var xerr *Error
				if !errors.As(err, &xerr) || !errors.Is(err, ErrEval) {
					t.Fatalf("Eval: %v (%T), want an *Error wrapping ErrEval", err, err)
				}
				checkPlace(t, src, xerr)
				continue
			}
			checkValue(t, v)
			if len(v.String()) > maxBuilt {
				t.Fatalf("Eval made %d bytes", len(v.String()))
			}
		}
	})
}

// checkPlace checks that an error points into the source, in one line of
// text.
func checkPlace(t *testing.T, src string, e *Error) {
	t.Helper()
	if e.Offset < 0 || e.Offset > len(src) || e.Line < 1 || e.Line > strings.Count(src, "\n")+1 ||
		e.Column < 1 || e.Column > utf8.RuneCountInString(src)+1 {
		t.Fatalf("%q: %v at offset %d, line %d, column %d", src, e, e.Offset, e.Line, e.Column)
	}
	if strings.ContainsAny(e.Error(), "\n\r") || e.Msg == "" {
		t.Fatalf("%q: the error is not one line: %q", src, e.Error())
	}
}

// nesting is how deep a parsed expression nests, as Parse counts it. A
// group in parentheses leaves no node, so this is at most what Parse saw.
func nesting(n node) int {
	switch n := n.(type) {
	case *neg:
		return 1 + nesting(n.x)
	case *call:
		d := 0
		for _, a := range n.args {
			d = max(d, nesting(a))
		}
		return 1 + d
	case *chain:
		d := nesting(n.first)
		for _, r := range n.rest {
			d = max(d, nesting(r.x))
		}
		return d
	}
	return 0
}
