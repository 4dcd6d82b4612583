package expr

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Env is what an expression reads when it is evaluated.
type Env struct {
	// Fields gives the record's values by name. Nil is a record with no
	// fields.
	Fields Fields
	// Current is the value `.` stands for: the answer a constraint checks,
	// or the value of the field that a rule belongs to.
	Current Value
	// Today is the date today() gives. The caller reads its clock once, in
	// the zone the deployment agrees on, and passes the date, so that
	// nodes that evaluate a record on the same day agree. The zero Date
	// makes today() an error.
	Today Date
}

// Fields gives a record's field values by name.
type Fields interface {
	// Field returns the value of the field called name: the empty Value
	// for a field of the record's type that has no answer, and false for
	// a name the type does not have, which makes Eval fail. It is called
	// from the goroutine that calls Eval, and must not block for long.
	Field(name string) (Value, bool)
}

// Values is a record's fields held in a map. A name absent from the map is
// no field of the record.
type Values map[string]Value

// Field returns the value of the field called name.
func (v Values) Field(name string) (Value, bool) {
	val, ok := v[name]
	return val, ok
}

// maxBuilt bounds a text that concat() builds: far above any field's text
// (20,000 characters at most), low enough that a kit cannot make a node
// build megabytes for every keystroke.
const maxBuilt = 1 << 20

// Eval evaluates the expression against env. An error is an *Error that
// wraps ErrEval and says which part of the expression failed.
func (e *Expr) Eval(env Env) (Value, error) {
	ev := &evaluator{env: env, src: e.src} // one allocation: nodes are interfaces
	return e.root.eval(ev)
}

type evaluator struct {
	env Env
	src string
}

func (ev *evaluator) fail(pos int, format string, args ...any) (Value, error) {
	return Value{}, newError(ev.src, pos, ErrEval, format, args...)
}

// node is one part of a parsed expression.
type node interface {
	eval(ev *evaluator) (Value, error)
	// write appends the node as String gives it.
	write(b *strings.Builder)
	// level is the node's precedence, to know where write needs
	// parentheses.
	level() int
}

type numLit struct{ v Value }

func (n *numLit) eval(*evaluator) (Value, error) { return n.v, nil }
func (n *numLit) write(b *strings.Builder)       { b.WriteString(n.v.String()) }
func (n *numLit) level() int                     { return levelPrimary }

type strLit struct{ v Value }

func (n *strLit) eval(*evaluator) (Value, error) { return n.v, nil }
func (n *strLit) level() int                     { return levelPrimary }

// write quotes the text with the quote it does not contain: XPath has no
// escapes, and the lexer ensures no literal holds both.
func (n *strLit) write(b *strings.Builder) {
	q := "'"
	if strings.Contains(n.v.str, q) {
		q = `"`
	}
	b.WriteString(q)
	b.WriteString(n.v.str)
	b.WriteString(q)
}

type field struct {
	pos  int
	name string
}

func (n *field) eval(ev *evaluator) (Value, error) {
	if ev.env.Fields != nil {
		if v, ok := ev.env.Fields.Field(n.name); ok {
			return v, nil
		}
	}
	return ev.fail(n.pos, "the record has no field %s", n.name)
}
func (n *field) write(b *strings.Builder) { b.WriteString("${" + n.name + "}") }
func (n *field) level() int               { return levelPrimary }

type current struct{}

func (n *current) eval(ev *evaluator) (Value, error) { return ev.env.Current, nil }
func (n *current) write(b *strings.Builder)          { b.WriteByte('.') }
func (n *current) level() int                        { return levelPrimary }

type neg struct {
	pos int
	x   node
}

func (n *neg) eval(ev *evaluator) (Value, error) {
	v, err := n.x.eval(ev)
	if err != nil {
		return Value{}, err
	}
	f, ok := v.Number()
	if !ok {
		return Value{}, nil
	}
	return NumberValue(-f), nil
}

func (n *neg) write(b *strings.Builder) {
	b.WriteByte('-')
	writeOperand(b, n.x, n.x.level() < levelNeg)
}
func (n *neg) level() int { return levelNeg }

func writeOperand(b *strings.Builder, x node, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	x.write(b)
	if paren {
		b.WriteByte(')')
	}
}

// op is a binary operator.
type op uint8

const (
	opOr op = iota
	opAnd
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opAdd
	opSub
	opMul
	opDiv
	opMod
)

var opText = [...]string{"or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"}

var opLevel = [...]int{levelOr, levelAnd, levelEq, levelEq, levelCmp, levelCmp, levelCmp, levelCmp,
	levelAdd, levelAdd, levelMul, levelMul, levelMul}

var opByText = func() map[string]op {
	m := make(map[string]op, len(opText))
	for i, s := range opText {
		m[s] = op(i)
	}
	return m
}()

// chain is operands joined by operators of one level, evaluated left to
// right: XPath's operators all associate to the left.
type chain struct {
	lvl   int
	first node
	rest  []operand
}

type operand struct {
	op  op
	pos int
	x   node
}

func (n *chain) level() int { return n.lvl }

func (n *chain) write(b *strings.Builder) {
	// An operand of the same level or looser came from parentheses in the
	// source: they keep it.
	writeOperand(b, n.first, n.first.level() <= n.lvl)
	for _, r := range n.rest {
		b.WriteString(" " + opText[r.op] + " ")
		writeOperand(b, r.x, r.x.level() <= n.lvl)
	}
}

func (n *chain) eval(ev *evaluator) (Value, error) {
	acc, err := n.first.eval(ev)
	if err != nil {
		return Value{}, err
	}
	switch n.lvl {
	case levelOr, levelAnd:
		// Short-circuit: the operands after the one that decides are not
		// evaluated, so their errors do not count either.
		want := n.lvl == levelOr
		if Truthy(acc) == want {
			return BoolValue(want), nil
		}
		for _, r := range n.rest {
			v, err := r.x.eval(ev)
			if err != nil {
				return Value{}, err
			}
			if Truthy(v) == want {
				return BoolValue(want), nil
			}
		}
		return BoolValue(!want), nil
	}
	for _, r := range n.rest {
		v, err := r.x.eval(ev)
		if err != nil {
			return Value{}, err
		}
		acc = binary(r.op, acc, v)
	}
	return acc, nil
}

// binary applies a comparison or an arithmetic operator.
func binary(o op, a, b Value) Value {
	switch o {
	case opEq:
		return BoolValue(equal(a, b))
	case opNe:
		return BoolValue(!equal(a, b))
	case opLt, opLe, opGt, opGe:
		return BoolValue(compare(o, a, b))
	}
	x, ok1 := a.Number()
	y, ok2 := b.Number()
	if !ok1 || !ok2 {
		return Value{}
	}
	// Each result is converted on its own: Go may otherwise fuse a
	// multiplication and an addition into one instruction on processors
	// that have it (arm64), and round differently from amd64.
	var r float64
	switch o {
	case opAdd:
		r = float64(x + y)
	case opSub:
		r = float64(x - y)
	case opMul:
		r = float64(x * y)
	case opDiv:
		r = float64(x / y)
	case opMod:
		// Java's %, as JavaRosa has it: the sign of the dividend.
		r = math.Mod(x, y)
	}
	return NumberValue(r)
}

// equal is `=` as JavaRosa has it: if either side is a bool, both are read
// as bools; else if either is a number, both as numbers, equal within
// 1e-12 (and a side that is no number equals nothing); else both as text.
// So an empty field is the empty text against a text, and equals no number.
func equal(a, b Value) bool {
	switch {
	case a.kind == KindBool || b.kind == KindBool:
		return Truthy(a) == Truthy(b)
	case a.kind == KindNumber || b.kind == KindNumber:
		x, ok1 := a.Number()
		y, ok2 := b.Number()
		return ok1 && ok2 && (x == y || math.Abs(float64(x-y)) < epsilon)
	}
	return a.String() == b.String()
}

// compare is < <= > >=, which XPath defines on numbers alone: both sides
// are read as numbers, a date as its days since 1970-01-01, and a side
// that is no number makes the comparison false. One addition to JavaRosa:
// a text written as a date is read as that date against a date, so that
// ${dob} < '2020-01-01' means what it says rather than always false.
func compare(o op, a, b Value) bool {
	x, ok1 := a.Number()
	y, ok2 := b.Number()
	if a.kind == KindDate && b.kind == KindString {
		if d, err := parseDateText(b.str); err == nil {
			y, ok2 = float64(d.days()), true
		}
	}
	if b.kind == KindDate && a.kind == KindString {
		if d, err := parseDateText(a.str); err == nil {
			x, ok1 = float64(d.days()), true
		}
	}
	if !ok1 || !ok2 {
		return false
	}
	switch o {
	case opLt:
		return x < y
	case opLe:
		return x <= y
	case opGt:
		return x > y
	}
	return x >= y
}

type call struct {
	pos  int
	fn   *function
	args []node
	re   *regexp.Regexp // regex()'s pattern, compiled by Parse
}

func (n *call) level() int { return levelPrimary }

func (n *call) write(b *strings.Builder) {
	b.WriteString(n.fn.name)
	b.WriteByte('(')
	for i, a := range n.args {
		if i > 0 {
			b.WriteString(", ")
		}
		a.write(b)
	}
	b.WriteByte(')')
}

func (n *call) eval(ev *evaluator) (Value, error) {
	if n.fn.lazy != nil {
		return n.fn.lazy(ev, n)
	}
	var buf [4]Value
	args := buf[:0]
	for _, a := range n.args {
		v, err := a.eval(ev)
		if err != nil {
			return Value{}, err
		}
		args = append(args, v)
	}
	return n.fn.eval(ev, n, args)
}

// function is one of the functions kits may call.
type function struct {
	name     string
	min, max int // arguments; max -1 for any number
	// eval computes the function from its arguments' values; lazy, for
	// if() and coalesce(), evaluates only the arguments it needs.
	eval  func(ev *evaluator, c *call, args []Value) (Value, error)
	lazy  func(ev *evaluator, c *call) (Value, error)
	check func(p *parser, c *call) // more checks at parse time
}

func (f *function) arity() string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	switch {
	case f.max < 0:
		return "at least " + plural(f.min)
	case f.min == f.max:
		return plural(f.min)
	}
	return strconv.Itoa(f.min) + " or " + plural(f.max)
}
