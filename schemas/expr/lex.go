package expr

import (
	"math"
	"strconv"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF   tokKind = iota
	tNum           // 12, 3.5, .5
	tStr           // 'text' or "text"; text holds what is between the quotes
	tField         // ${name}; text holds the name
	tDot           // .
	tName          // a function's name, or and, or, div, mod
	tLParen
	tRParen
	tComma
	tOp // = != < <= > >= + - *; text holds it
)

type token struct {
	kind tokKind
	pos  int // byte offset in the source
	text string
	num  float64
}

// describe names a token in an error.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end"
	case tStr:
		return quote(t.text)
	case tField:
		return "${" + t.text + "}"
	case tDot:
		return "'.'"
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tComma:
		return "','"
	}
	return quote(t.text)
}

// quote puts a piece of an expression in an error message, on one line and
// short: a long text is cut, and one with control characters is written as
// Go would.
func quote(s string) string {
	const maxShown = 40
	cut := ""
	if utf8.RuneCountInString(s) > maxShown {
		s, cut = string([]rune(s)[:maxShown]), "..."
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '\'' {
			return strconv.Quote(s) + cut
		}
	}
	return "'" + s + "'" + cut
}

// maxName bounds a field's or a function's name.
const maxName = 64

// lexer splits an expression into tokens. It refuses what XLSForm authors
// write by habit from other languages with what to write instead.
type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// next returns the next token, or fails with an *Error.
func (l *lexer) next() token {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if l.pos == len(l.src) {
		return token{kind: tEOF, pos: start}
	}
	c := l.src[l.pos]
	tok := func(k tokKind, n int) token {
		l.pos += n
		return token{kind: k, pos: start, text: l.src[start:l.pos]}
	}
	switch {
	case isDigit(c) || c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		return l.number()
	case c == '.':
		if l.pos+1 < len(l.src) && l.src[l.pos+1] == '.' {
			l.fail(start, "'..' is an XPath path, which kits do not use: name a field as ${name}")
		}
		return tok(tDot, 1)
	case c == '\'' || c == '"':
		end := l.pos + 1
		for end < len(l.src) && l.src[end] != c {
			end++
		}
		if end == len(l.src) {
			l.fail(start, "the text that starts here has no closing %c", c)
		}
		l.pos = end + 1
		return token{kind: tStr, pos: start, text: l.src[start+1 : end]}
	case c == '$':
		return l.field()
	case isLetter(c):
		end := l.pos + 1
		for end < len(l.src) && (isLetter(l.src[end]) || isDigit(l.src[end]) || l.src[end] == '-') {
			// 4 div-1 is 4 div -1: no function's name starts with an
			// operator's and a '-'.
			if l.src[end] == '-' {
				if _, ok := opByText[l.src[start:end]]; ok {
					break
				}
			}
			end++
		}
		if end-start > maxName {
			l.fail(start, "a name is at most %d characters", maxName)
		}
		return tok(tName, end-start)
	case c == '(':
		return tok(tLParen, 1)
	case c == ')':
		return tok(tRParen, 1)
	case c == ',':
		return tok(tComma, 1)
	case c == '+' || c == '-' || c == '*':
		return tok(tOp, 1)
	case c == '<' || c == '>':
		if l.peek(1) == '=' {
			return tok(tOp, 2)
		}
		return tok(tOp, 1)
	case c == '=':
		if l.peek(1) == '=' {
			l.fail(start, "'==' is not an operator: write = to compare")
		}
		return tok(tOp, 1)
	case c == '!':
		if l.peek(1) == '=' {
			return tok(tOp, 2)
		}
		l.fail(start, "'!' is not an operator: write not(...)")
	case c == '/':
		l.fail(start, "'/' is not an operator: write div to divide, and ${name} for a field")
	case c == '%':
		l.fail(start, "'%%' is not an operator: write mod for the remainder")
	case c == '&' || c == '|':
		l.fail(start, "'%c' is not an operator: write and, or", c)
	}
	r, size := utf8.DecodeRuneInString(l.src[l.pos:])
	if r == utf8.RuneError && size == 1 {
		l.fail(start, "the expression is not valid UTF-8 here")
	}
	l.fail(start, "%q has no meaning here", r)
	panic("unreachable")
}

func (l *lexer) peek(n int) byte {
	if l.pos+n < len(l.src) {
		return l.src[l.pos+n]
	}
	return 0
}

// number reads digits with an optional '.', as XPath writes numbers: no
// sign (that is the operator -) and no exponent.
func (l *lexer) number() token {
	start := l.pos
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	}
	text := l.src[start:l.pos]
	if l.pos < len(l.src) && isLetter(l.src[l.pos]) {
		l.fail(start, "%s%c is not a number: a number is digits with an optional '.', without exponent", text, l.src[l.pos])
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		l.fail(start, "the number %s is too large", text)
	}
	return token{kind: tNum, pos: start, text: text, num: f}
}

// field reads ${name}. A name is as XLSForm allows: a letter or '_', then
// letters, digits, '_', '-' and '.'.
func (l *lexer) field() token {
	start := l.pos
	if l.peek(1) != '{' {
		l.fail(start, "'$' starts a field, written ${name}")
	}
	end := l.pos + 2
	for end < len(l.src) && l.src[end] != '}' && end-start-2 <= maxName {
		c := l.src[end]
		if !(isLetter(c) || end > start+2 && (isDigit(c) || c == '-' || c == '.')) {
			if end == start+2 {
				l.fail(end, "a field's name starts with a letter or '_'")
			}
			l.fail(end, "a field's name has letters, digits, '_', '-' and '.', and ends with '}'")
		}
		end++
	}
	name := l.src[start+2 : min(end, len(l.src))]
	switch {
	case len(name) > maxName:
		l.fail(start, "a field's name is at most %d characters", maxName)
	case end == len(l.src):
		l.fail(start, "${ has no closing '}'")
	case name == "":
		l.fail(start, "${} names no field")
	}
	l.pos = end + 1
	return token{kind: tField, pos: start, text: name}
}

func (l *lexer) fail(pos int, format string, args ...any) {
	panic(newError(l.src, pos, ErrSyntax, format, args...))
}
