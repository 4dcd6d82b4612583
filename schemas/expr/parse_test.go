package expr

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		src    string
		line   int
		column int
		msg    string
	}{
		{``, 1, 1, "empty"},
		{`   `, 1, 4, "empty"},
		{`1 +`, 1, 4, "ends where a value was expected"},
		{`1 2`, 1, 3, "'2' was not expected"},
		{`${age} > 1)`, 1, 11, "')' was not expected"},
		{`(1 + 2`, 1, 1, "the '(' here has no ')': the expression ends at column 7"},
		{`concat('a', 'b'`, 1, 7, "'(' of concat() has no ')'"},
		{`concat('a' 'b')`, 1, 7, "'b' at column 12"},
		{`'abc`, 1, 1, "no closing '"},
		{`concat("abc)`, 1, 8, `no closing "`},
		{`${age} >= 18 && ${x}`, 1, 14, "write and, or"},
		{`${a} || ${b}`, 1, 6, "write and, or"},
		{`${age} == 1`, 1, 8, "write = to compare"},
		{`!${a}`, 1, 1, "write not(...)"},
		{`/data/age > 1`, 1, 1, "write div"},
		{`5 / 2`, 1, 3, "write div"},
		{`5 % 2`, 1, 3, "write mod"},
		{`../age`, 1, 1, "${name}"},
		{`1e5`, 1, 1, "not a number"},
		{`1 AND 2`, 1, 3, "lower case"},
		{`1 Or 2`, 1, 3, "lower case"},
		{`age > 1`, 1, 1, "a field is written ${age}"},
		{`true`, 1, 1, "write true()"},
		{`today`, 1, 1, "write today()"},
		{`lenght(.)`, 1, 1, "lenght() is not a function"},
		{`len(.)`, 1, 1, "did you mean string-length()?"},
		{`Concat('a')`, 1, 1, "did you mean concat()?"},
		{`now()`, 1, 1, "did you mean today()?"},
		{`not()`, 1, 1, "not() takes 1 argument, not 0"},
		{`if(1, 2)`, 1, 1, "if() takes 3 arguments, not 2"},
		{`round(1, 2, 3)`, 1, 1, "round() takes 1 or 2 arguments, not 3"},
		{`concat()`, 1, 1, "at least 1 argument"},
		{`today(1)`, 1, 1, "takes 0 arguments"},
		{`1 + not(1, 2)`, 1, 5, "takes 1 argument, not 2"},
		{`concat(,)`, 1, 8, "',' is where a value was expected"},
		{`${}`, 1, 1, "names no field"},
		{`${1a}`, 1, 3, "starts with a letter"},
		{`${a b}`, 1, 4, "ends with '}'"},
		{`${age`, 1, 1, "no closing '}'"},
		{`$age`, 1, 1, "${name}"},
		{`selected(${needs}, 3)`, 1, 1, "write '3'"},
		{`regex(., ${pattern})`, 1, 1, "quoted text"},
		{`regex(., '[a-')`, 1, 1, "not a regular expression (missing closing ]: '[a-')"},
		{`regex(., 'a)|(b')`, 1, 1, "not a regular expression"},
		{`regex(., '(?<')`, 1, 1, "not a regular expression"},
		{`regex(., 'a{1001}')`, 1, 1, "not a regular expression"},
		{`1 # 2`, 1, 3, `'#' has no meaning here`},
		{"1 +\n  * 2", 2, 3, "'*' is where a value"},
		{"'ñandú' = \x01", 1, 11, `'\x01' has no meaning`},
		{"'a\xff'", 1, 3, "not valid UTF-8"},
		{`. >= 0 and`, 1, 11, "ends where a value was expected"},
	} {
		_, err := Parse(c.src)
		var xerr *Error
		if !errors.As(err, &xerr) || !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want an *Error wrapping ErrSyntax", c.src, err)
			continue
		}
		if xerr.Line != c.line || xerr.Column != c.column || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%q):\n %v (line %d, column %d)\nwant line %d, column %d and %q", c.src, err, xerr.Line, xerr.Column, c.line, c.column, c.msg)
		}
	}
}

func TestErrorText(t *testing.T) {
	_, err := Parse(`${age} == 1`)
	if got, want := err.Error(), "column 8: '==' is not an operator: write = to compare"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = Parse("1 +\n  * 2")
	if got, want := err.Error(), "line 2, column 3: '*' is where a value was expected: a number, a 'text', ${field}, '.', or a function"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLimits(t *testing.T) {
	limit := func(src string, wantErr bool, column int) {
		t.Helper()
		_, err := Parse(src)
		if !wantErr {
			if err != nil {
				t.Errorf("Parse of %d bytes: %v", len(src), err)
			}
			return
		}
		var xerr *Error
		if !errors.As(err, &xerr) || !errors.Is(err, ErrLimit) {
			t.Errorf("Parse of %d bytes = %v, want an *Error wrapping ErrLimit", len(src), err)
			return
		}
		if xerr.Column != column {
			t.Errorf("Parse of %d bytes: %v, want column %d", len(src), err, column)
		}
	}
	sum := func(n int) string { return "1" + strings.Repeat(" + 1", (n-1)/4) + strings.Repeat(" ", (n-1)%4) }
	limit(sum(MaxLen), false, 0)
	limit(sum(MaxLen+1), true, MaxLen+1)
	limit(sum(5<<10), true, MaxLen+1)

	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	limit(nest("(", ")", MaxDepth), false, 0)
	limit(nest("(", ")", MaxDepth+1), true, MaxDepth+1)
	limit(nest("not(", ")", MaxDepth), false, 0)
	limit(nest("not(", ")", MaxDepth+1), true, 4*MaxDepth+4)
	limit(nest("-", "", MaxDepth), false, 0)
	limit(nest("-", "", MaxDepth+1), true, MaxDepth+1)
	limit(nest("concat(1, ", ")", MaxDepth), false, 0)
	limit(nest("(-", ")", MaxDepth/2), false, 0)
	limit(nest("(-", ")", MaxDepth/2)+" + "+nest("(", ")", 1), false, 0)
	limit(nest("(-", ")", MaxDepth/2+1), true, MaxDepth+1)
	// Depth is nesting, not length: long chains of operators are flat.
	limit(strings.Repeat("${a} = 'x' or ", 200)+"1", false, 0)

	pattern := func(n int) string { return "regex(., '" + strings.Repeat("a", n) + "')" }
	limit(pattern(MaxPattern), false, 0)
	limit(pattern(MaxPattern+1), true, 1)
	// A short pattern may compile to a long program, which a match runs
	// at every character of the text.
	limit(`regex(., '`+strings.Repeat("a{0,1000}", 56)+`b')`, true, 1)
	limit(`regex(., '[0-9]{0,1000}')`, true, 1)
	limit(`regex(., '^\p{L}[\p{L} -]{0,119}$')`, false, 0)
	limit(`regex(., '`+strings.Repeat("[0-9]{0,99}", 4)+`')`, false, 0)

	name := strings.Repeat("n", maxName)
	if _, err := Parse("${" + name + "}"); err != nil {
		t.Errorf("a name of %d: %v", maxName, err)
	}
	if _, err := Parse("${" + name + "n}"); !errors.Is(err, ErrSyntax) {
		t.Errorf("a name of %d: %v, want ErrSyntax", maxName+1, err)
	}
}

func TestFields(t *testing.T) {
	for _, c := range []struct {
		src     string
		fields  []string
		current bool
	}{
		{`1 + 2`, []string{}, false},
		{`. >= 0 and . <= ${household_size}`, []string{"household_size"}, true},
		{`${b} + ${a} + ${b}`, []string{"a", "b"}, false},
		{`if(${z-1} > 0, concat(${y.x}, ${_a}), string-length())`, []string{"_a", "y.x", "z-1"}, false},
		{`coalesce(., ${a})`, []string{"a"}, true},
	} {
		e := MustParse(c.src)
		if got := e.Fields(); !slices.Equal(got, c.fields) {
			t.Errorf("%s: Fields() = %q, want %q", c.src, got, c.fields)
		}
		if got := e.UsesCurrent(); got != c.current {
			t.Errorf("%s: UsesCurrent() = %v", c.src, got)
		}
	}
	// Fields returns a copy.
	e := MustParse(`${a}`)
	e.Fields()[0] = "b"
	if e.Fields()[0] != "a" {
		t.Error("Fields() lets its caller change the Expr")
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`1+2*3`, `1 + 2 * 3`},
		{`(1+2)*3`, `(1 + 2) * 3`},
		{`1-(2-3)`, `1 - (2 - 3)`},
		{`(1-2)-3`, `(1 - 2) - 3`},
		{`1-2-3`, `1 - 2 - 3`},
		{`-(1+2)`, `-(1 + 2)`},
		{`- -1`, `--1`},
		{`3 - -1`, `3 - -1`},
		{`-(-(1))`, `--1`},
		{`((.))`, `.`},
		{`.5`, `0.5`},
		{`1.50`, `1.5`},
		{`007`, `7`},
		{`concat( 'a' ,"b'c")`, `concat('a', "b'c")`},
		{`${a}=1 or ${b}!=2 and not(${c})`, `${a} = 1 or ${b} != 2 and not(${c})`},
		{`(${a} or ${b}) and ${c}`, `(${a} or ${b}) and ${c}`},
		{`${a} or (${b} or ${c})`, `${a} or (${b} or ${c})`},
		{`(${a} = 1) = (2 < 3)`, `(${a} = 1) = 2 < 3`},
		{`1 < (2 = 3)`, `1 < (2 = 3)`},
		{`-${a} * 2 mod 3 div 4`, `-${a} * 2 mod 3 div 4`},
		{`today()-${dob}`, `today() - ${dob}`},
		{"regex(.,'^\\d+$')", `regex(., '^\d+$')`},
		{`string-length( )`, `string-length()`},
	} {
		e := MustParse(c.src)
		got := e.String()
		if got != c.want {
			t.Errorf("String(%s) = %s, want %s", c.src, got, c.want)
		}
		if again := MustParse(got).String(); again != got {
			t.Errorf("String(Parse(%s)) = %s", got, again)
		}
	}
}
