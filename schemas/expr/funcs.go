package expr

import (
	"math"
	"math/big"
	"slices"
	"strings"
	"unicode/utf8"
)

// functions are the functions kits may call, by name. Each behaves as
// JavaRosa's of the same name unless its comment says otherwise. There is
// no pow(), sqrt(), log() or trigonometry: Go computes some of them
// differently on different processors, and no kit has needed them.
var functions = map[string]*function{}

func init() {
	for _, f := range []*function{
		{name: "if", min: 3, max: 3, lazy: ifThenElse},
		{name: "coalesce", min: 2, max: 2, lazy: coalesce},
		{name: "not", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return BoolValue(!Truthy(a[0])), nil
		}},
		{name: "true", eval: func(*evaluator, *call, []Value) (Value, error) { return BoolValue(true), nil }},
		{name: "false", eval: func(*evaluator, *call, []Value) (Value, error) { return BoolValue(false), nil }},
		{name: "boolean", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return BoolValue(Truthy(a[0])), nil
		}},
		{name: "number", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return numberOf(a[0]), nil
		}},
		{name: "int", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			f, ok := a[0].Number()
			if !ok {
				return Value{}, nil
			}
			return NumberValue(math.Trunc(f)), nil
		}},
		{name: "round", min: 1, max: 2, eval: round},
		{name: "abs", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			f, ok := a[0].Number()
			if !ok {
				return Value{}, nil
			}
			return NumberValue(math.Abs(f)), nil
		}},
		{name: "min", min: 1, max: -1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return extreme(a, func(x, y float64) bool { return x < y }), nil
		}},
		{name: "max", min: 1, max: -1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return extreme(a, func(x, y float64) bool { return x > y }), nil
		}},
		{name: "string", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return StringValue(a[0].String()), nil
		}},
		{name: "concat", min: 1, max: -1, eval: concat},
		{name: "string-length", min: 0, max: 1, eval: func(ev *evaluator, _ *call, a []Value) (Value, error) {
			v := ev.env.Current // string-length() is of `.`
			if len(a) == 1 {
				v = a[0]
			}
			return NumberValue(float64(utf8.RuneCountInString(v.String()))), nil
		}},
		{name: "contains", min: 2, max: 2, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return BoolValue(strings.Contains(a[0].String(), a[1].String())), nil
		}},
		{name: "starts-with", min: 2, max: 2, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return BoolValue(strings.HasPrefix(a[0].String(), a[1].String())), nil
		}},
		{name: "ends-with", min: 2, max: 2, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return BoolValue(strings.HasSuffix(a[0].String(), a[1].String())), nil
		}},
		{name: "substr", min: 2, max: 3, eval: substr},
		{name: "regex", min: 2, max: 2, check: checkRegex, eval: func(_ *evaluator, c *call, a []Value) (Value, error) {
			return BoolValue(c.re.MatchString(a[0].String())), nil
		}},
		{name: "selected", min: 2, max: 2, check: checkSelected, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return BoolValue(selected(a[0], a[1].String())), nil
		}},
		{name: "count-selected", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return NumberValue(float64(len(a[0].Codes()))), nil
		}},
		// count() is of a repeat: ${household} reads its rows' ids as
		// a multi value does its choices.
		{name: "count", min: 1, max: 1, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			return NumberValue(float64(len(a[0].Codes()))), nil
		}},
		{name: "selected-at", min: 2, max: 2, eval: func(_ *evaluator, _ *call, a []Value) (Value, error) {
			codes, i := a[0].Codes(), index(a[1])
			if i < 0 || i >= len(codes) {
				return StringValue(""), nil
			}
			return StringValue(codes[i]), nil
		}},
		{name: "today", eval: today},
		{name: "date", min: 1, max: 1, eval: date},
	} {
		functions[f.name] = f
	}
}

func ifThenElse(ev *evaluator, c *call) (Value, error) {
	cond, err := c.args[0].eval(ev)
	if err != nil {
		return Value{}, err
	}
	if Truthy(cond) {
		return c.args[1].eval(ev)
	}
	return c.args[2].eval(ev)
}

// coalesce returns its first argument unless it is empty or the empty text, and
// evaluates the second only then.
func coalesce(ev *evaluator, c *call) (Value, error) {
	v, err := c.args[0].eval(ev)
	if err != nil || !isNull(v) {
		return v, err
	}
	return c.args[1].eval(ev)
}

func numberOf(v Value) Value {
	f, ok := v.Number()
	if !ok {
		return Value{}
	}
	return NumberValue(f)
}

// index reads an argument that counts characters or choices as JavaRosa
// does (Java's intValue of the truncated number: no number is 0), clamped
// to Java's int: a Go conversion of a float64 out of int's range differs
// between processors.
func index(v Value) int {
	f, ok := v.Number()
	switch {
	case !ok:
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int(f)
}

// extreme is min() or max(): of the arguments that are numbers, ignoring
// the rest; empty when none is.
func extreme(args []Value, better func(x, y float64) bool) Value {
	var best float64
	found := false
	for _, a := range args {
		if f, ok := a.Number(); ok && (!found || better(f, best)) {
			best, found = f, true
		}
	}
	if !found {
		return Value{}
	}
	return NumberValue(best)
}

// round rounds to places decimals (0 if not given; negative rounds to tens,
// hundreds...), halves upwards: round(2.5) is 3, round(-2.5) is -2, as
// JavaRosa does. It rounds the number's shortest decimal form, exactly, as
// JavaRosa rounds Java's: round(2.675, 2) is 2.68, although the float64
// nearest 2.675 is below it. Places beyond 30 either way give empty.
func round(_ *evaluator, _ *call, a []Value) (Value, error) {
	x, ok := a[0].Number()
	if !ok {
		return Value{}, nil
	}
	places := 0
	if len(a) == 2 {
		places = index(a[1])
	}
	if places > 30 || places < -30 {
		return Value{}, nil
	}
	r, _ := new(big.Rat).SetString(formatNumber(x))
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(places))), nil))
	if places >= 0 {
		r.Mul(r, scale)
	} else {
		r.Quo(r, scale)
	}
	r.Add(r, big.NewRat(1, 2))
	// Int.Div is Euclidean: with a positive denominator, the floor.
	floor := new(big.Int).Div(r.Num(), r.Denom())
	r.SetInt(floor)
	if places >= 0 {
		r.Quo(r, scale)
	} else {
		r.Mul(r, scale)
	}
	f, _ := r.Float64()
	return NumberValue(f), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func concat(ev *evaluator, c *call, a []Value) (Value, error) {
	n := 0
	for _, v := range a {
		n += len(v.String())
	}
	if n > maxBuilt {
		return ev.fail(c.pos, "concat() would make a text of %d bytes: at most %d are allowed", n, maxBuilt)
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range a {
		b.WriteString(v.String())
	}
	return StringValue(b.String()), nil
}

// substr(s, start, end) is the characters of s from start (counted from 0)
// up to end, not included; a negative index counts from the end of s. It
// counts characters where JavaRosa counts UTF-16 units: they differ only
// past U+FFFF, as in emoji.
func substr(_ *evaluator, _ *call, a []Value) (Value, error) {
	s := []rune(a[0].String())
	n := len(s)
	start, end := index(a[1]), n
	if len(a) == 3 {
		end = index(a[2])
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = min(max(start, 0), n), min(max(end, 0), n)
	if start > end {
		return StringValue(""), nil
	}
	return StringValue(string(s[start:end])), nil
}

// selected reports whether choice is one of v's. A multi value's codes are
// matched whole, so codes with spaces (Orange Walk) work; a text is a list
// of codes separated by spaces, or one code, which may contain spaces.
func selected(v Value, choice string) bool {
	choice = strings.TrimFunc(choice, func(r rune) bool { return r <= ' ' })
	if choice == "" {
		return false
	}
	if v.kind == KindMulti {
		return slices.Contains(v.codes, choice)
	}
	s := v.String()
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }) == choice ||
		slices.Contains(splitCodes(s), choice)
}

func today(ev *evaluator, c *call, _ []Value) (Value, error) {
	d := ev.env.Today
	if !d.Valid() {
		return ev.fail(c.pos, "today() has no date to give: the program evaluating the expression passed %s", describeToday(d))
	}
	return DateValue(d), nil
}

func describeToday(d Date) string {
	if d.IsZero() {
		return "none"
	}
	return d.String() + ", which is no date"
}

// date converts a text written 2024-11-27 (or a date-time, whose date is
// taken as written) or a number of days since 1970-01-01 to a date. Empty
// stays empty; anything else is an error, as in JavaRosa.
func date(ev *evaluator, c *call, a []Value) (Value, error) {
	v := a[0]
	switch v.kind {
	case KindEmpty, KindDate:
		return v, nil
	case KindNumber:
		n := math.Trunc(v.num)
		if n < float64(minDays) || n > float64(maxDays) {
			return ev.fail(c.pos, "date(%s): a date is between 0001-01-01 and 9999-12-31", v.String())
		}
		return DateValue(dateFromDays(int(n))), nil
	case KindString, KindMulti:
		if v.str == "" {
			return Value{}, nil
		}
		d, err := parseDateText(v.str)
		if err != nil {
			return ev.fail(c.pos, "date(): %v", err)
		}
		return DateValue(d), nil
	}
	return ev.fail(c.pos, "date(%s): a yes or no is no date", v.String())
}
