package expr

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// The expected results below are worked out from JavaRosa's definitions
// (XPathEqExpr, XPathCmpExpr, XPathArithExpr, XPathFuncExpr: toNumeric,
// toString, toBoolean, round...), with a NaN or an infinity read as the
// empty value; a comment marks each place where this package differs on
// purpose, as docs/kits.md lists.

var testToday = Date{2024, 11, 27}

func testEnv() Env {
	return Env{
		Fields: Values{
			"age":            NumberValue(34),
			"household_size": NumberValue(5),
			"zero":           NumberValue(0),
			"big":            NumberValue(1e308),
			"name":           StringValue("Ana María"),
			"text_num":       StringValue("12"),
			"blank":          StringValue(""),
			"empty":          Value{},
			"needs":          MultiValue("water", "medical"),
			"none":           MultiValue(),
			"needs_text":     StringValue("water medical"),
			"district":       StringValue("Orange Walk"),
			"districts":      MultiValue("Cayo", "Orange Walk"),
			"dob":            DateValue(Date{2000, 2, 29}),
			"displaced":      BoolValue(true),
			"injured":        BoolValue(false),
		},
		Current: NumberValue(3),
		Today:   testToday,
	}
}

type evalCase struct {
	src  string
	want Value
}

var (
	yes   = BoolValue(true)
	no    = BoolValue(false)
	empty = Value{}
	num   = NumberValue
	str   = StringValue
	day   = func(y, m, d int) Value { return DateValue(Date{y, m, d}) }
)

func runEval(t *testing.T, cases []evalCase) {
	t.Helper()
	env := testEnv()
	for _, c := range cases {
		e, err := Parse(c.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.src, err)
			continue
		}
		got, err := e.Eval(env)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("%s = %#v, want %#v", c.src, got, c.want)
		}
	}
}

func TestLiterals(t *testing.T) {
	runEval(t, []evalCase{
		{`12`, num(12)},
		{`3.5`, num(3.5)},
		{`.5`, num(0.5)},
		{`5.`, num(5)},
		{`'x'`, str("x")},
		{`"it's"`, str("it's")},
		{`''`, str("")},
		{`.`, num(3)},
		{`${empty}`, empty},
		{`${needs}`, MultiValue("water", "medical")},
		{`9007199254740991`, num(1<<53 - 1)},
	})
}

func TestArithmetic(t *testing.T) {
	runEval(t, []evalCase{
		{`1 + 2 * 3`, num(7)},
		{`(1 + 2) * 3`, num(9)},
		{`10 - 2 - 3`, num(5)}, // left to right
		{`2 * 3 div 4`, num(1.5)},
		{`7 div 2`, num(3.5)},
		{`7 mod 3`, num(1)},
		{`-7 mod 3`, num(-1)}, // Java's %: the sign of the dividend
		{`7 mod -3`, num(1)},
		{`5.5 mod 2`, num(1.5)},
		{`--3`, num(3)},
		{`4 div-1`, num(-4)},
		{`7 mod-3`, num(1)},
		{`1 and-1`, yes},
		{`-${age}`, num(-34)},
		{`0 * -1`, num(0)}, // never -0
		{`0.1 + 0.2`, num(0.30000000000000004)},
		// JavaRosa gives Infinity or NaN; here they are empty.
		{`1 div 0`, empty},
		{`0 div 0`, empty},
		{`5 mod 0`, empty},
		{`${big} * 10`, empty},
		// No number is NaN in JavaRosa, empty here.
		{`${empty} + 1`, empty},
		{`'abc' + 1`, empty},
		{`-${empty}`, empty},
		{`-'x'`, empty},
		{`${text_num} + 1`, num(13)},
		{`' 12 ' * 2`, num(24)},
		{`${displaced} + 1`, num(2)},
		{`${injured} + 1`, num(1)},
		// A date is its days since 1970-01-01.
		{`today() - ${dob}`, num(9038)},
		{`${dob} + 1`, num(11017)},
		{`${needs_text} + 1`, empty},
	})
}

func TestComparison(t *testing.T) {
	runEval(t, []evalCase{
		{`1 = 1`, yes},
		{`1 != 1`, no},
		{`1 = '1'`, yes},   // a number on one side: both numbers
		{`1 = '1.0'`, yes}, // ...
		{`'1' = '1.0'`, no},
		{`${text_num} = 12`, yes},
		{`${text_num} < 9`, no},
		{`'10' < '9'`, no}, // < reads numbers: 10 < 9
		{`'abc' < 'abd'`, no},
		{`'abc' >= 'abc'`, no}, // no numbers, so false, as in XPath
		{`0.1 + 0.2 = 0.3`, yes},
		{`1 = 1.0000000000001`, yes}, // within 1e-12
		{`1 = 1.000000000001`, no},
		{`2 <= 2`, yes},
		{`2 < 2`, no},
		{`2 >= 3`, no},
		{`3 > 2`, yes},
		{`1 < 2 < 3`, yes}, // (1 < 2) < 3: true is 1
		{`3 > 2 > 1`, no},  // (3 > 2) > 1: 1 > 1
		{`${age} = 34 = 1`, yes},
		// Empty.
		{`${empty} = ''`, yes},
		{`${empty} = ${blank}`, yes},
		{`${empty} = 0`, no},
		{`${empty} != 0`, yes},
		{`${empty} < 1`, no},
		{`${empty} >= 0`, no},
		{`${empty} = false()`, yes},
		{`${none} = ''`, yes},
		// Bools: either side a bool, both bools.
		{`${displaced} = true()`, yes},
		{`${displaced} = 1`, yes},
		{`${displaced} = 'no'`, yes}, // boolean('no') is true: docs/kits.md warns
		{`${injured} = 0`, yes},
		{`${injured} = ''`, yes},
		{`true() > 0`, yes},
		{`true() = 'false'`, yes},
		// Text.
		{`${name} = 'Ana María'`, yes},
		{`${name} = 'ana maría'`, no},
		{`${district} = 'Orange Walk'`, yes},
		{`${needs} = 'water medical'`, yes},
		{`${needs} = ${needs_text}`, yes},
		// Dates.
		{`${dob} = '2000-02-29'`, yes},
		{`${dob} = date('2000-02-29')`, yes},
		{`${dob} = 11016`, yes},
		{`${dob} < today()`, yes},
		{`today() - ${dob} > 18 * 365`, yes},
		{`${dob} != ${empty}`, yes},
		{`${dob} < ${empty}`, no},
		// Added to JavaRosa, where these are always false: a text written
		// as a date is that date against a date.
		{`${dob} < '2001-01-01'`, yes},
		{`'2001-01-01' > ${dob}`, yes},
		{`${dob} >= '2000-02-29T23:00:00Z'`, yes},
		{`${dob} < '2000-01-01'`, no},
		{`'2000-01-01' < '2001-01-01'`, no}, // two texts are no numbers
	})
}

func TestLogic(t *testing.T) {
	runEval(t, []evalCase{
		{`1 and 0`, no},
		{`1 and 2`, yes},
		{`1 or 0`, yes},
		{`0 or ''`, no},
		{`'' or 'x'`, yes},
		{`'false' and 1`, yes},
		{`${empty} or ${none}`, no},
		{`${needs} and ${dob}`, yes},
		{`1 or 0 and 0`, yes}, // and binds tighter
		{`(1 or 0) and 0`, no},
		{`. >= 0 and . <= ${household_size}`, yes},
		// Short-circuit: what follows the deciding operand is not
		// evaluated, errors included.
		{`false() and date('no date')`, no},
		{`true() or date('no date')`, yes},
		{`1 = 2 and ${missing} = 1`, no},
		{`0 or 0 or 1 or date('no date')`, yes},
	})
}

func TestFunctions(t *testing.T) {
	runEval(t, []evalCase{
		{`if(${age} >= 18, 'adult', 'child')`, str("adult")},
		{`if('', 1, 2)`, num(2)},
		{`if(1, 1, date('no date'))`, num(1)},
		{`if(0, date('no date'), ${needs})`, MultiValue("water", "medical")},

		{`coalesce(${empty}, 'x')`, str("x")},
		{`coalesce(${blank}, 5)`, num(5)},
		{`coalesce(${none}, 5)`, num(5)},
		{`coalesce(${zero}, 5)`, num(0)},
		{`coalesce(${name}, date('no date'))`, str("Ana María")},
		{`coalesce(number('x'), 7)`, num(7)},

		{`not(1)`, no},
		{`not('')`, yes},
		{`not(${needs})`, no},
		{`not(${none})`, yes},
		{`true()`, yes},
		{`false()`, no},
		{`boolean('false')`, yes},
		{`boolean(0)`, no},
		{`boolean(0.0000000000001)`, no}, // within 1e-12 of 0
		{`boolean(${empty})`, no},
		{`boolean(${dob})`, yes},

		{`number('12')`, num(12)},
		{`number(' 12 ')`, num(12)},
		{`number('-.5')`, num(-0.5)},
		{`number('1.')`, num(1)},
		{`number('007')`, num(7)},
		{`number(true())`, num(1)},
		{`number(${dob})`, num(11016)},
		{`number(${zero})`, num(0)},
		{`number('')`, empty},
		{`number(${empty})`, empty},
		{`number('abc')`, empty},
		{`number('1e3')`, empty},
		{`number('+5')`, empty},
		{`number('-')`, empty},
		{`number('1-2')`, empty},
		{`number('1.2.3')`, empty},
		{`number('1,5')`, empty}, // JavaRosa reads 1.5: no locale here

		{`int(3.7)`, num(3)},
		{`int(-3.7)`, num(-3)},
		{`int(-0.5)`, num(0)},
		{`int('8.9')`, num(8)},
		{`int('')`, empty},

		{`round(2.5)`, num(3)},
		{`round(-2.5)`, num(-2)}, // halves go up
		{`round(12.345)`, num(12)},
		{`round(2.675, 2)`, num(2.68)}, // rounds the decimal 2.675
		{`round(1.005, 2)`, num(1.01)},
		{`round(-1.005, 2)`, num(-1)},
		{`round(1234.5678, -2)`, num(1200)},
		{`round(-26, -1)`, num(-30)}, // JavaRosa's negative places give -20
		{`round(1234.5678, 2)`, num(1234.57)},
		{`round(2.5, '')`, num(3)},
		{`round(0.1 + 0.2, 1)`, num(0.3)},
		{`round(3.14159, 31)`, empty},
		{`round('', 1)`, empty},

		{`abs(-3)`, num(3)},
		{`abs('')`, empty},
		{`min(3, '1', ${empty}, 'x')`, num(1)},
		{`max(1, 3, 2)`, num(3)},
		{`max(${empty}, 'x')`, empty},
		{`min(${dob}, 20000)`, num(11016)},

		{`string(1.50)`, str("1.5")},
		{`string(1 div 3)`, str("0.3333333333333333")},
		{`string(1000000)`, str("1000000")},
		{`string(0.0000001)`, str("0.0000001")}, // no exponent
		{`string(${dob})`, str("2000-02-29")},
		{`string(true())`, str("true")},
		{`string(${needs})`, str("water medical")},
		{`string(${empty})`, str("")},
		{`string(-0)`, str("0")},

		{`concat('a', 1, true(), ${empty}, ${dob})`, str("a1true2000-02-29")},
		{`concat(${needs})`, str("water medical")},
		{`concat(${name}, ' (', ${age}, ')')`, str("Ana María (34)")},

		{`string-length('Ana María')`, num(9)},
		{`string-length(${empty})`, num(0)},
		{`string-length(${age})`, num(2)},
		{`string-length()`, num(1)},    // of `.`, 3
		{`string-length('😀')`, num(1)}, // JavaRosa counts 2 UTF-16 units

		{`contains('Belmopan', 'mop')`, yes},
		{`contains('Belmopan', 'Mop')`, no},
		{`contains(${empty}, '')`, yes},
		{`starts-with('Belmopan', 'Bel')`, yes},
		{`ends-with('Belmopan', 'pan')`, yes},
		{`ends-with('Belmopan', 'Bel')`, no},

		{`substr('Belmopan', 3)`, str("mopan")},
		{`substr('Belmopan', 0, 3)`, str("Bel")},
		{`substr('Belmopan', -3)`, str("pan")},
		{`substr('Belmopan', 1, -1)`, str("elmopa")},
		{`substr('Belmopan', 5, 2)`, str("")},
		{`substr('abc', 1, 100)`, str("bc")},
		{`substr('niño', 2, 3)`, str("ñ")},
		{`substr('abc', '')`, str("abc")},

		{`regex('123', '^\d+$')`, yes},
		{`regex('12a', '[0-9]+')`, no}, // the whole text, as Java's matches()
		{`regex('12', '[0-9]+')`, yes},
		{`regex('', '^\d*$')`, yes},
		{`regex(${empty}, '\d+')`, no},
		{`regex('ABC', '(?i)abc')`, yes},
		{`regex('a', 'a|b')`, yes},
		{`regex('xb', 'a|b')`, no},
		{`regex(., '[0-9]')`, yes},
		{`regex(${dob}, '\d{4}-02-29')`, yes},

		{`selected(${needs}, 'water')`, yes},
		{`selected(${needs}, ' medical ')`, yes},
		{`selected(${needs}, 'food')`, no},
		{`selected(${needs}, 'water medical')`, no},
		{`selected(${needs}, '')`, no},
		{`selected(${needs_text}, 'medical')`, yes},
		{`selected(${district}, 'Orange Walk')`, yes}, // one code, with a space
		{`selected(${district}, 'Walk')`, yes},        // or codes separated by spaces
		{`selected(${districts}, 'Orange Walk')`, yes},
		{`selected(${districts}, 'Walk')`, no}, // a multi value's codes are whole
		{`selected(${empty}, 'x')`, no},
		{`selected('3 4', 3 + 1)`, yes},

		{`count-selected(${needs})`, num(2)},
		{`count-selected(${needs_text})`, num(2)},
		{`count-selected(${districts})`, num(2)},
		{`count-selected(${none})`, num(0)},
		{`count-selected(${empty})`, num(0)},
		{`count-selected(' a  b ')`, num(2)},

		{`selected-at(${needs}, 0)`, str("water")},
		{`selected-at(${needs}, 1)`, str("medical")},
		{`selected-at(${needs}, 2)`, str("")},
		{`selected-at(${needs}, -1)`, str("")},
		{`selected-at(${districts}, 1)`, str("Orange Walk")},

		{`today()`, day(2024, 11, 27)},
		{`today() = '2024-11-27'`, yes},
		{`date('2024-02-29')`, day(2024, 2, 29)},
		{`date(0)`, day(1970, 1, 1)},
		{`date(-1)`, day(1969, 12, 31)},
		{`date(19000.9)`, day(2022, 1, 8)},
		{`date(today() + 7)`, day(2024, 12, 4)},
		{`date(${dob})`, day(2000, 2, 29)},
		{`date('2024-11-27T11:35:23Z')`, day(2024, 11, 27)},
		{`date('2024-11-27T23:35:23.120-06:00')`, day(2024, 11, 27)}, // as written
		{`date('2024-11-27T11:35')`, day(2024, 11, 27)},
		{`date('')`, empty},
		{`date(${empty})`, empty},
		{`date('0001-01-01')`, day(1, 1, 1)},
		{`date('9999-12-31')`, day(9999, 12, 31)},
	})
}

func TestEvalErrors(t *testing.T) {
	env := testEnv()
	for _, c := range []struct {
		src    string
		env    Env
		column int
		msg    string
	}{
		{`${age} + ${missing}`, env, 10, "no field missing"},
		{`${age}`, Env{}, 1, "no field age"},
		{`1 + date('2023-02-29')`, env, 5, "no day of the calendar"},
		{`date('29/02/2024')`, env, 1, "not a date written YYYY-MM-DD"},
		{`date('2024-11-27T25:00')`, env, 1, "not a date-time"},
		{`date('2024-11-27 11:35')`, env, 1, "not a date"},
		{`date(true())`, env, 1, "no date"},
		{`date(10000000000)`, env, 1, "between 0001-01-01 and 9999-12-31"},
		{`date(-719163)`, env, 1, "between"},
		{`today()`, Env{}, 1, "passed none"},
		{`today()`, Env{Today: Date{2024, 2, 30}}, 1, "2024-02-30, which is no date"},
		{`true() and date('x')`, env, 12, "not a date"},
		{`if(1, date('x'), 2)`, env, 7, "not a date"},
		{"1 +\n  date('x')", env, 3, "not a date"},
	} {
		e, err := Parse(c.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.src, err)
		}
		v, err := e.Eval(c.env)
		var xerr *Error
		if !errors.As(err, &xerr) || !errors.Is(err, ErrEval) {
			t.Errorf("%q = %#v, %v; want an *Error wrapping ErrEval", c.src, v, err)
			continue
		}
		if xerr.Column != c.column || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v (column %d); want column %d and %q", c.src, err, xerr.Column, c.column, c.msg)
		}
	}
}

func TestConcatBound(t *testing.T) {
	long := strings.Repeat("x", maxBuilt/2+1)
	e := MustParse(`concat(${a}, ${a})`)
	if _, err := e.Eval(Env{Fields: Values{"a": StringValue(long)}}); !errors.Is(err, ErrEval) {
		t.Fatalf("concat of %d bytes: %v, want ErrEval", 2*len(long), err)
	}
	if v, err := e.Eval(Env{Fields: Values{"a": StringValue(long[1:])}}); err != nil || len(v.String()) != maxBuilt {
		t.Fatalf("concat of %d bytes: %v", maxBuilt, err)
	}
}

func TestTruthy(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want bool
	}{
		{empty, false},
		{num(0), false},
		{num(1e-13), false},
		{num(-2), true},
		{str(""), false},
		{str("0"), true},
		{str("false"), true},
		{yes, true},
		{no, false},
		{day(1970, 1, 1), true},
		{MultiValue(), false},
		{MultiValue("a"), true},
	} {
		if got := Truthy(c.v); got != c.want {
			t.Errorf("Truthy(%#v) = %v, want %v", c.v, got, c.want)
		}
	}
}

// TestConcurrentEval runs one Expr from many goroutines, for the race
// detector: an Expr and its compiled regex are shared.
func TestConcurrentEval(t *testing.T) {
	e := MustParse(`regex(${name}, '^[A-Z].*') and selected(${needs}, 'water') and today() - ${dob} > 0`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if v, err := e.Eval(testEnv()); err != nil || !Truthy(v) {
					t.Errorf("got %#v, %v", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEvalConstraint(b *testing.B) {
	e := MustParse(`. >= 0 and . <= ${household_size}`)
	env := Env{Fields: Values{"household_size": NumberValue(7), "district": StringValue("Cayo")}, Current: NumberValue(4), Today: testToday}
	b.ReportAllocs()
	for b.Loop() {
		v, err := e.Eval(env)
		if err != nil || !Truthy(v) {
			b.Fatal(v, err)
		}
	}
}

func BenchmarkParseConstraint(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`. >= 0 and . <= ${household_size}`); err != nil {
			b.Fatal(err)
		}
	}
}
