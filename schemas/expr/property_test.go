package expr

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// fieldNames are the fields that generated expressions read.
var fieldNames = []string{"a", "b", "c", "d", "m", "t"}

// genValue draws a value of any kind, favouring the edges: empty, 0,
// numeric text, date text, codes with spaces.
func genValue() *rapid.Generator[Value] {
	return rapid.OneOf(
		rapid.Just(Value{}),
		rapid.Custom(func(t *rapid.T) Value {
			return NumberValue(rapid.SampledFrom([]float64{0, 1, -1, 2, 3, 0.5, 0.1, 1e-13, 12, 18, 1e15, 1 << 53, 1e308, -7.25}).Draw(t, "n"))
		}),
		rapid.Custom(func(t *rapid.T) Value { return NumberValue(float64(rapid.IntRange(-50, 50).Draw(t, "i"))) }),
		rapid.Custom(func(t *rapid.T) Value {
			return StringValue(rapid.SampledFrom([]string{"", "x", "12", " 3 ", "1,5", "water", "water medical", "Orange Walk", "2024-02-29", "2024-11-27T11:35:23Z", "true", "false", "ñandú 😀"}).Draw(t, "s"))
		}),
		rapid.Custom(func(t *rapid.T) Value { return BoolValue(rapid.Bool().Draw(t, "b")) }),
		rapid.Custom(func(t *rapid.T) Value {
			return DateValue(dateFromDays(rapid.IntRange(-800, 25000).Draw(t, "days")))
		}),
		rapid.Custom(func(t *rapid.T) Value {
			codes := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"water", "medical", "food", "Orange Walk", "3"}), rapid.ID[string]).Draw(t, "codes")
			return MultiValue(codes...)
		}),
	)
}

var (
	genNumLit = rapid.SampledFrom([]string{"0", "1", "2", "3", "7", "12", "18", "365", ".5", "0.1", "2.675", "1.005", "19000", "1000000000000000000000"})
	genStrLit = rapid.SampledFrom([]string{`''`, `'x'`, `'12'`, `' 3 '`, `'water'`, `'Orange Walk'`, `'2024-02-29'`, `'2024-11-27T11:35:23Z'`, `'no date'`, `"it's"`, `'ñ'`})
	genOp     = rapid.SampledFrom(opText[:])
	genRegex  = rapid.SampledFrom([]string{`'^\d+$'`, `'[0-9]+'`, `'(?i)water.*'`, `'a|b'`, `''`, `'.*'`, `'\d{4}-\d{2}-\d{2}'`})
)

// genExpr draws an expression over a small grammar: every operator and
// function, literals, fields and `.`, up to depth levels deep. It is always
// valid syntax; its evaluation may fail (date('no date')).
func genExpr(t *rapid.T, depth int) string {
	kinds := 4
	if depth > 0 {
		kinds = 9
	}
	switch rapid.IntRange(0, kinds-1).Draw(t, "kind") {
	case 0:
		return genNumLit.Draw(t, "num")
	case 1:
		return genStrLit.Draw(t, "str")
	case 2:
		return "${" + rapid.SampledFrom(fieldNames).Draw(t, "field") + "}"
	case 3:
		return "."
	case 4, 5:
		s := genExpr(t, depth-1) + " " + genOp.Draw(t, "op") + " " + genExpr(t, depth-1)
		if rapid.Bool().Draw(t, "paren") {
			s = "(" + s + ")"
		}
		return s
	case 6:
		return "-" + genExpr(t, depth-1)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range functions {
			if !yield(name) {
				return
			}
		}
	})
	fn := functions[rapid.SampledFrom(names).Draw(t, "func")]
	n := fn.min
	if fn.max != fn.min {
		hi := fn.max
		if hi < 0 {
			hi = fn.min + 3
		}
		n = rapid.IntRange(fn.min, hi).Draw(t, "args")
	}
	args := make([]string, n)
	for i := range args {
		args[i] = genExpr(t, depth-1)
	}
	switch fn.name {
	case "regex":
		args[1] = genRegex.Draw(t, "pattern")
	case "selected":
		if strings.Trim(args[1], "0123456789.") == "" {
			args[1] = genStrLit.Draw(t, "choice")
		}
	}
	return fn.name + "(" + strings.Join(args, ", ") + ")"
}

// sliceFields is a record's fields as a list, searched in its order: the
// same record in two orders must give the same results.
type sliceFields []namedValue

type namedValue struct {
	name string
	v    Value
}

func (s sliceFields) Field(name string) (Value, bool) {
	for _, f := range s {
		if f.name == name {
			return f.v, true
		}
	}
	return Value{}, false
}

func sameResult(t *rapid.T, what string, v1 Value, err1 error, v2 Value, err2 error) {
	t.Helper()
	if !v1.Equal(v2) || (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
		t.Fatalf("%s: %#v, %v; then %#v, %v", what, v1, err1, v2, err2)
	}
}

// TestEvalDeterministic evaluates random expressions on one record held in
// different orders, and again: the values, and the errors, are the same
// each time. The canonical form parses back to the same expression, with
// the same results.
func TestEvalDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		src := genExpr(t, 4)
		e, err := Parse(src)
		if err != nil {
			t.Fatalf("generated %q: %v", src, err)
		}
		vals := make([]Value, len(fieldNames))
		for i := range vals {
			vals[i] = genValue().Draw(t, fieldNames[i])
		}
		current := genValue().Draw(t, "current")
		today := dateFromDays(rapid.IntRange(0, 30000).Draw(t, "today"))
		order := rapid.Permutation([]int{0, 1, 2, 3, 4, 5}).Draw(t, "order")

		inOrder, permuted, list := Values{}, Values{}, sliceFields{}
		for i, name := range fieldNames {
			inOrder[name] = vals[i]
		}
		for _, i := range order {
			permuted[fieldNames[i]] = vals[i]
			list = append(list, namedValue{fieldNames[i], vals[i]})
		}
		env := func(f Fields) Env { return Env{Fields: f, Current: current, Today: today} }

		v, err := e.Eval(env(inOrder))
		v2, err2 := e.Eval(env(permuted))
		sameResult(t, "map in another order", v, err, v2, err2)
		v2, err2 = e.Eval(env(list))
		sameResult(t, "list in another order", v, err, v2, err2)
		v2, err2 = e.Eval(env(inOrder))
		sameResult(t, "again", v, err, v2, err2)
		checkValue(t, v)
		if err != nil && !errors.Is(err, ErrEval) {
			t.Fatalf("Eval: %v, want ErrEval", err)
		}

		canon := e.String()
		e2, perr := Parse(canon)
		if perr != nil {
			t.Fatalf("Parse(String(%q)) = Parse(%q): %v", src, canon, perr)
		}
		if again := e2.String(); again != canon {
			t.Fatalf("String(Parse(%q)) = %q", canon, again)
		}
		if !slices.Equal(e.Fields(), e2.Fields()) || e.UsesCurrent() != e2.UsesCurrent() {
			t.Fatalf("%q and %q read different fields", src, canon)
		}
		v3, err3 := e2.Eval(env(inOrder))
		var x1, x3 *Error
		if !v.Equal(v3) || (err == nil) != (err3 == nil) ||
			err != nil && (!errors.As(err, &x1) || !errors.As(err3, &x3) || x1.Msg != x3.Msg) {
			t.Fatalf("%q = %#v, %v; its canonical form %q = %#v, %v", src, v, err, canon, v3, err3)
		}
	})
}

// checkValue checks what every Value holds to: a finite number, never -0,
// and a date within the calendar.
func checkValue(t interface{ Fatalf(string, ...any) }, v Value) {
	if math.IsNaN(v.num) || math.IsInf(v.num, 0) || math.Signbit(v.num) && v.num == 0 {
		t.Fatalf("%#v holds %v", v, v.num)
	}
	if v.kind == KindDate && (v.num < float64(minDays) || v.num > float64(maxDays) || v.num != math.Trunc(v.num)) {
		t.Fatalf("%#v holds %v days", v, v.num)
	}
}

// TestEqualSymmetric: a = b and b = a agree, a value equals itself, and
// a < b and b > a agree.
func TestEqualSymmetric(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genValue().Draw(t, "a"), genValue().Draw(t, "b")
		if equal(a, b) != equal(b, a) {
			t.Fatalf("%#v = %#v is %v, the other way %v", a, b, equal(a, b), equal(b, a))
		}
		if compare(opLt, a, b) != compare(opGt, b, a) || compare(opLe, a, b) != compare(opGe, b, a) {
			t.Fatalf("%#v < %#v disagrees with %#v > %#v", a, b, b, a)
		}
		if !equal(a, a) {
			t.Fatalf("%#v != itself", a)
		}
	})
}

// TestNumberText: a number's text reads back as the same number.
func TestNumberText(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := NumberValue(rapid.Float64().Draw(t, "f"))
		if v.kind == KindEmpty {
			return
		}
		f, ok := StringValue(v.String()).Number()
		if !ok || f != v.num {
			t.Fatalf("%#v reads back as %v, %v", v, f, ok)
		}
	})
}

// TestDays checks the calendar against Go's time package over the years
// 1 to 9999.
func TestDays(t *testing.T) {
	check := func(t interface{ Fatalf(string, ...any) }, n int) {
		y, m, d := time.Unix(int64(n)*86400, 0).UTC().Date()
		want := Date{y, int(m), d}
		got := dateFromDays(n)
		if got != want || !got.Valid() || got.days() != n {
			t.Fatalf("day %d: %v (back %d), want %v", n, got, got.days(), want)
		}
		if p, err := ParseDate(got.String()); err != nil || p != got {
			t.Fatalf("ParseDate(%s) = %v, %v", got, p, err)
		}
	}
	for _, n := range []int{minDays, minDays + 1, -1, 0, 1, 11016, 19000, maxDays - 1, maxDays} {
		check(t, n)
	}
	if got := (Date{1, 1, 1}).String() + " " + (Date{9999, 12, 31}).String(); got != "0001-01-01 9999-12-31" {
		t.Fatal(got)
	}
	rapid.Check(t, func(t *rapid.T) { check(t, rapid.IntRange(minDays, maxDays).Draw(t, "days")) })
	for _, s := range []string{"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "0000-01-01", "2024-1-01", "+024-01-01", "2024/01/01", "2024-01-01 "} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
	if !(Date{2000, 2, 29}).Valid() || (Date{1900, 2, 29}).Valid() {
		t.Error("leap years")
	}
	if got := DateOf(time.Date(2024, 11, 27, 23, 59, 0, 0, time.FixedZone("CST", -6*3600))); got != (Date{2024, 11, 27}) {
		t.Errorf("DateOf = %v", got)
	}
}
