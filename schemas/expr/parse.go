package expr

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Bounds on what Parse accepts, so that a kit from the network cannot make
// a node spend its memory or its stack. Real expressions are far smaller:
// the longest in XLSForm's own examples is some 200 bytes, 4 deep.
const (
	MaxLen     = 4096 // bytes of an expression
	MaxDepth   = 32   // nested parentheses, calls and unary minuses
	MaxPattern = 512  // bytes of a regex() pattern
	// MaxProgram bounds the instructions a regex() pattern compiles to,
	// each of which a match may run at every character of the text: a
	// name of 2 to 120 letters compiles to 242, and 56 times a{0,1000},
	// 505 bytes, to 112,000, which took 56 s to match 20,000 characters.
	MaxProgram = 1000
)

// Errors that an *Error wraps, so that a caller can tell a kit's mistake from
// a record that an expression could not be evaluated on.
var (
	// ErrSyntax is wrapped by an error from Parse about what an expression
	// says: a misspelled function, a missing ')', a bad regex.
	ErrSyntax = errors.New("expression syntax")
	// ErrLimit is wrapped by an error from Parse about an expression longer
	// or deeper than MaxLen, MaxDepth or MaxPattern allow.
	ErrLimit = errors.New("expression over its limits")
	// ErrEval is wrapped by an error from Eval: a field the record's type
	// lacks, a date() of a text that is no date, no date for today().
	ErrEval = errors.New("expression evaluation")
)

// Error is a mistake in an expression, or in evaluating it, with where it
// is. Its text is one line that starts with the place: "column 12: ...".
type Error struct {
	Err    error // ErrSyntax, ErrLimit or ErrEval
	Offset int   // bytes from the start of the expression
	Line   int   // from 1
	Column int   // in characters from the start of the line, from 1
	Msg    string
}

func (e *Error) Error() string {
	if e.Line > 1 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

func newError(src string, off int, kind error, format string, args ...any) *Error {
	off = min(max(off, 0), len(src))
	line, col := position(src, off)
	return &Error{Err: kind, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// position returns the line and the column, in characters, of the byte at
// off.
func position(src string, off int) (line, col int) {
	line, col = 1, 1
	for _, r := range src[:off] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// Expr is a parsed expression. It is immutable and safe for concurrent use.
type Expr struct {
	src     string
	root    node
	fields  []string
	current bool
}

// Parse reads an expression. An error is an *Error that says what is wrong
// and at which column, wrapping ErrSyntax or ErrLimit.
func Parse(src string) (e *Expr, err error) {
	if len(src) > MaxLen {
		return nil, newError(src, MaxLen, ErrLimit, "the expression is %d bytes long: at most %d are allowed", len(src), MaxLen)
	}
	if !utf8.ValidString(src) {
		off := 0
		for off < len(src) {
			r, size := utf8.DecodeRuneInString(src[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return nil, newError(src, off, ErrSyntax, "the expression is not valid UTF-8 here")
	}
	p := &parser{lex: lexer{src: src}, fields: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			perr, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e, err = nil, perr
		}
	}()
	p.next()
	if p.tok.kind == tEOF {
		p.fail(p.tok.pos, ErrSyntax, "the expression is empty")
	}
	root := p.expr()
	if p.tok.kind != tEOF {
		p.fail(p.tok.pos, ErrSyntax, "%s was not expected after a complete expression%s", p.tok.describe(), p.hint())
	}
	fields := make([]string, 0, len(p.fields))
	for name := range p.fields {
		fields = append(fields, name)
	}
	slices.Sort(fields)
	return &Expr{src: src, root: root, fields: fields, current: p.current}, nil
}

// MustParse is Parse for expressions written in Go code; it panics on an
// error.
func MustParse(src string) *Expr {
	e, err := Parse(src)
	if err != nil {
		panic(fmt.Sprintf("expr: %q: %v", src, err))
	}
	return e
}

// Fields returns the names of the fields that the expression reads, as
// ${name}, sorted, each once.
func (e *Expr) Fields() []string { return slices.Clone(e.fields) }

// UsesCurrent reports whether the expression reads `.`, the value of the
// field it belongs to.
func (e *Expr) UsesCurrent() bool { return e.current }

// String returns the expression in a canonical form that Parse reads back
// to the same expression: one space around each operator, after each comma,
// and parentheses only where they change the meaning. It may be longer than
// the source.
func (e *Expr) String() string {
	var b strings.Builder
	e.root.write(&b)
	return b.String()
}

// Precedence levels, loosest first, as XPath 1.0 has them.
const (
	levelOr = iota + 1
	levelAnd
	levelEq  // = !=
	levelCmp // < <= > >=
	levelAdd // + -
	levelMul // * div mod
	levelNeg // unary -
	levelPrimary
)

type parser struct {
	lex     lexer
	tok     token
	depth   int
	fields  map[string]bool
	current bool
}

func (p *parser) next() { p.tok = p.lex.next() }

func (p *parser) fail(pos int, kind error, format string, args ...any) {
	panic(newError(p.lex.src, pos, kind, format, args...))
}

// enter counts one level of nesting at pos, refusing the one past MaxDepth.
func (p *parser) enter(pos int) {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(pos, ErrLimit, "the expression nests more than %d deep here", MaxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) expr() node { return p.binary(levelOr) }

// binary reads operands of the given level and above joined by operators
// of the level, left to right, into one chain: a + b - c is one chain of
// three, which evaluates in a loop rather than by recursion.
func (p *parser) binary(level int) node {
	if level == levelNeg {
		return p.unary()
	}
	first := p.binary(level + 1)
	var rest []operand
	for {
		o, ok := p.operator(level)
		if !ok {
			break
		}
		pos := p.tok.pos
		p.next()
		rest = append(rest, operand{op: o, pos: pos, x: p.binary(level + 1)})
	}
	if rest == nil {
		return first
	}
	return &chain{lvl: level, first: first, rest: rest}
}

// operator returns the operator of the level that the current token is.
func (p *parser) operator(level int) (op, bool) {
	if p.tok.kind != tOp && p.tok.kind != tName {
		return 0, false
	}
	o, ok := opByText[p.tok.text]
	if !ok || opLevel[o] != level {
		return 0, false
	}
	return o, true
}

func (p *parser) unary() node {
	if p.tok.kind == tOp && p.tok.text == "-" {
		pos := p.tok.pos
		p.enter(pos)
		p.next()
		x := p.unary()
		p.leave()
		return &neg{pos: pos, x: x}
	}
	return p.primary()
}

func (p *parser) primary() node {
	t := p.tok
	switch t.kind {
	case tNum:
		p.next()
		return &numLit{v: NumberValue(t.num)}
	case tStr:
		p.next()
		return &strLit{v: StringValue(t.text)}
	case tField:
		p.next()
		p.fields[t.text] = true
		return &field{pos: t.pos, name: t.text}
	case tDot:
		p.next()
		p.current = true
		return &current{}
	case tLParen:
		p.enter(t.pos)
		p.next()
		x := p.expr()
		p.expect(tRParen, t, "the '(' here has no ')'")
		p.leave()
		return x
	case tName:
		return p.call()
	case tEOF:
		p.fail(t.pos, ErrSyntax, "the expression ends where a value was expected")
	}
	p.fail(t.pos, ErrSyntax, "%s is where a value was expected: a number, a 'text', ${field}, '.', or a function", t.describe())
	panic("unreachable")
}

// expect consumes a token of kind k, or fails with msg at open, the token
// that wanted it, and what was found instead.
func (p *parser) expect(k tokKind, open token, msg string) {
	if p.tok.kind != k {
		found := p.tok.describe()
		if p.tok.kind == tEOF {
			found = "the expression ends"
		}
		_, col := position(p.lex.src, p.tok.pos)
		p.fail(open.pos, ErrSyntax, "%s: %s at column %d%s", msg, found, col, p.hint())
	}
	p.next()
}

// hint explains a token that a reader of other languages puts where an
// operator is due.
func (p *parser) hint() string {
	if p.tok.kind != tName {
		return ""
	}
	switch strings.ToLower(p.tok.text) {
	case "and", "or", "div", "mod":
		return " (operators are written in lower case)"
	}
	return ""
}

func (p *parser) call() node {
	name := p.tok
	fn, ok := functions[name.text]
	p.next()
	if p.tok.kind != tLParen {
		switch {
		case ok:
			p.fail(name.pos, ErrSyntax, "%s is a function: write %s()", name.text, name.text)
		case name.text == "true" || name.text == "false":
			p.fail(name.pos, ErrSyntax, "write %s()", name.text)
		}
		p.fail(name.pos, ErrSyntax, "%q is not known here: a field is written ${%s}, text is quoted '%s'", name.text, name.text, name.text)
	}
	if !ok {
		p.fail(name.pos, ErrSyntax, "%s() is not a function kits may use%s", name.text, suggest(name.text))
	}
	open := p.tok
	p.enter(open.pos)
	p.next()
	c := &call{pos: name.pos, fn: fn}
	if p.tok.kind != tRParen {
		for {
			c.args = append(c.args, p.expr())
			if p.tok.kind != tComma {
				break
			}
			p.next()
		}
	}
	p.expect(tRParen, open, "the '(' of "+name.text+"() has no ')'")
	p.leave()
	if n := len(c.args); n < fn.min || fn.max >= 0 && n > fn.max {
		p.fail(name.pos, ErrSyntax, "%s() takes %s, not %d", fn.name, fn.arity(), n)
	}
	if fn.check != nil {
		fn.check(p, c)
	}
	return c
}

// suggest names the function that a misspelled or differently named one
// probably meant.
func suggest(name string) string {
	alias := map[string]string{
		"len": "string-length", "length": "string-length", "strlen": "string-length",
		"iif": "if", "ifnull": "coalesce", "nvl": "coalesce", "integer": "int",
		"substring": "substr", "match": "regex", "matches": "regex", "now": "today",
		"count": "count-selected", "is-selected": "selected",
	}
	if s, ok := alias[strings.ToLower(name)]; ok {
		return ": did you mean " + s + "()?"
	}
	if _, ok := functions[strings.ToLower(name)]; ok {
		return ": did you mean " + strings.ToLower(name) + "()?"
	}
	return ""
}

// checkRegex compiles regex()'s pattern once, when the expression is
// parsed: so the pattern must be written in the expression, quoted.
func checkRegex(p *parser, c *call) {
	lit, ok := c.args[1].(*strLit)
	if !ok {
		p.fail(c.pos, ErrSyntax, "regex() takes its pattern as a quoted text, such as regex(., '^[0-9]+$')")
	}
	pat := lit.v.str
	if len(pat) > MaxPattern {
		p.fail(c.pos, ErrLimit, "the pattern of regex() is %d bytes long: at most %d are allowed", len(pat), MaxPattern)
	}
	// The pattern alone first, so that one such as "a)|(b" cannot break
	// out of the anchors below, and errors speak of what the author wrote.
	parsed, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		msg := err.Error()
		var serr *syntax.Error
		if errors.As(err, &serr) {
			msg = fmt.Sprintf("%s: %s", serr.Code, quote(serr.Expr))
		}
		p.fail(c.pos, ErrSyntax, "the pattern of regex() is not a regular expression (%s)", msg)
	}
	if prog, err := syntax.Compile(parsed.Simplify()); err != nil || len(prog.Inst) > MaxProgram {
		p.fail(c.pos, ErrLimit, "the pattern of regex() is too large once compiled: at most %d steps are allowed; write its counted repetitions, such as {0,1000}, smaller", MaxProgram)
	}
	// JavaRosa matches the whole text (Java's Pattern.matches): so
	// regex(., '[0-9]+') refuses '12a', as do ODK Collect and Enketo.
	re, err := regexp.Compile(`\A(?:` + pat + `)\z`)
	if err != nil {
		p.fail(c.pos, ErrSyntax, "the pattern of regex() is not a regular expression (%v)", err)
	}
	c.re = re
}

// checkSelected refuses selected(${f}, 3): JavaRosa wants the choice quoted.
func checkSelected(p *parser, c *call) {
	if lit, ok := c.args[1].(*numLit); ok {
		p.fail(c.pos, ErrSyntax, "%s() takes the choice quoted: write '%s'", c.fn.name, lit.v.String())
	}
}
