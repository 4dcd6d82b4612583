// Package jsonscan parses untrusted JSON text into a small tree, strictly and with bounds.
//
// It exists because imports parse tens of thousands of ~1 KB records a second
// and encoding/json, with its reflection and per-token allocations, costs
// several times the budget. The grammar is RFC 8259 with no extensions, and a
// few things encoding/json tolerates are refused, because a record that
// carries them is either corrupt or an attempt to confuse a later reader:
// invalid UTF-8, lone UTF-16 surrogates in \u escapes, and duplicate object
// keys (different JSON readers keep different duplicates).
//
// Numbers are kept as their literal text: only the caller's schema knows
// whether a field is an integer, a coordinate or a count, and converting early
// would lose precision or accept values the schema forbids.
//
// To keep allocations per record in single digits, the input is copied once
// into a string and every unescaped string and number in the tree is a
// substring of that copy. Keeping any one of them therefore keeps the whole
// input alive; use strings.Clone on a value that must outlive a large
// document.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Kind is the type of a JSON value. The zero Kind is not a valid kind, so a
// zero Value is recognisably "no value".
type Kind uint8

// The JSON value kinds.
const (
	Null Kind = iota + 1
	Bool
	Number
	String
	Array
	Object
)

// String returns the name JSON Schema and error messages use for the kind.
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one parsed JSON value. Only the fields for its Kind are set; empty
// arrays and objects have nil Elems and Members.
type Value struct {
	Kind    Kind
	Bool    bool
	Str     string   // String: the decoded text (escapes resolved)
	Num     string   // Number: the number's literal text exactly as written, e.g. "-12.5e3"
	Elems   []Value  // Array
	Members []Member // Object, in document order
}

// Member is one key/value pair of an object. Objects are slices rather than
// maps so that document order survives and small objects cost one allocation.
type Member struct {
	Key   string
	Value Value
}

// Limits bound the work and memory one untrusted input can cost. A zero or
// negative field means its default.
type Limits struct {
	MaxBytes   int // input length; 0 means 1 MiB
	MaxDepth   int // nesting of arrays/objects; 0 means 16
	MaxMembers int // members of one object / elements of one array; 0 means 10,000
}

const (
	defaultMaxBytes   = 1 << 20
	defaultMaxDepth   = 16
	defaultMaxMembers = 10000
)

// Error says what was wrong and at which byte offset (0-based) of the input.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return "malformed JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Parse parses exactly one JSON value with optional surrounding whitespace.
// Every error it returns is an *Error.
func Parse(data []byte, lim Limits) (Value, error) {
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 {
		maxBytes = defaultMaxBytes
	}
	if len(data) > maxBytes {
		// Checked before copying so an oversized input costs nothing.
		return Value{}, &Error{Offset: maxBytes, Msg: "input is " + strconv.Itoa(len(data)) +
			" bytes, more than MaxBytes (" + strconv.Itoa(maxBytes) + ")"}
	}
	p := parserPool.Get().(*parser)
	p.data = data
	p.src = string(data)
	p.maxDepth = lim.MaxDepth
	if p.maxDepth <= 0 {
		p.maxDepth = defaultMaxDepth
	}
	p.maxMembers = lim.MaxMembers
	if p.maxMembers <= 0 {
		p.maxMembers = defaultMaxMembers
	}
	v, err := p.parse()
	p.release()
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

// ParseObject is Parse that also requires the top-level value to be an object
// (error "expected a JSON object, found an array" etc.).
func ParseObject(data []byte, lim Limits) ([]Member, error) {
	v, err := Parse(data, lim)
	if err != nil {
		return nil, err
	}
	if v.Kind != Object {
		return nil, &Error{Offset: skipWS(data, 0), Msg: "expected a JSON object, found " + article(v.Kind)}
	}
	return v.Members, nil
}

func article(k Kind) string {
	if k == Null {
		return "null"
	}
	if k == Array || k == Object {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// frame is one array or object still open. Children are collected on the
// parser's shared stacks rather than in per-container slices so that each
// container, once closed, costs exactly one allocation of exactly its size.
type frame struct {
	kind  Kind
	start int    // index in parser.vals (array) or parser.mems (object) of the first child
	key   string // object: key of the member whose value is being parsed
	// object: set of keys, built only once the object is big enough that a
	// linear duplicate search per key would be quadratic in a hostile input.
	seen map[string]struct{}
}

// dupMapThreshold is the member count past which duplicate keys are found with
// a map rather than by comparing against every earlier key. Real records have
// a few dozen members, where comparing strings is cheaper than hashing.
const dupMapThreshold = 32

type parser struct {
	data       []byte
	src        string // copy of data; unescaped strings and numbers are substrings of it
	pos        int
	maxDepth   int
	maxMembers int

	stack []frame
	vals  []Value
	mems  []Member
	buf   []byte // decoding space for strings with escapes
}

// Pooled parsers keep their stacks between calls, so a steady stream of
// records allocates only the tree itself.
var parserPool = sync.Pool{New: func() any { return new(parser) }}

// Parsers whose stacks grew past these after a hostile or unusual input are
// dropped instead of pooled, so one such input does not pin memory.
const (
	maxPooledValues = 1024
	maxPooledBytes  = 64 << 10
)

func (p *parser) release() {
	// Cleared so the pool does not keep the input or decoded strings alive.
	clear(p.stack)
	clear(p.vals)
	clear(p.mems)
	p.stack, p.vals, p.mems = p.stack[:0], p.vals[:0], p.mems[:0]
	p.data, p.src, p.pos = nil, "", 0
	if cap(p.vals) > maxPooledValues || cap(p.mems) > maxPooledValues ||
		cap(p.stack) > maxPooledValues || cap(p.buf) > maxPooledBytes {
		return
	}
	parserPool.Put(p)
}

func (p *parser) errAt(off int, msg string) *Error {
	return &Error{Offset: off, Msg: msg}
}

// unexpected reports that want was expected at offset off, naming what was
// found there instead.
func (p *parser) unexpected(off int, want string) *Error {
	return p.errAt(off, "expected "+want+", found "+p.describe(off))
}

// describe names the input at offset off for an error message, calling out
// invalid UTF-8 explicitly because it is the likely cause of a confusing byte.
func (p *parser) describe(off int) string {
	if off >= len(p.data) {
		return "end of input"
	}
	c := p.data[off]
	if c < utf8.RuneSelf {
		if c < 0x20 || c == 0x7f {
			return "control character " + codePoint(rune(c))
		}
		return strconv.QuoteRune(rune(c))
	}
	r, size := utf8.DecodeRune(p.data[off:])
	if r == utf8.RuneError && size == 1 {
		return "invalid UTF-8 byte " + hexByte(c)
	}
	return "character " + codePoint(r) + " " + strconv.QuoteRune(r)
}

func codePoint(r rune) string {
	s := strconv.FormatInt(int64(r), 16)
	for len(s) < 4 {
		s = "0" + s
	}
	return "U+" + toUpper(s)
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return "0x" + string([]byte{digits[c>>4], digits[c&15]})
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *parser) skipWS() {
	// Records are usually compact, so test the common no-whitespace case
	// before calling out.
	if p.pos < len(p.data) && p.data[p.pos] > ' ' {
		return
	}
	p.pos = skipWS(p.data, p.pos)
}

// parse runs the parser over p.data. It is iterative, with open containers on
// an explicit stack, so no input and no MaxDepth can overflow the goroutine
// stack.
func (p *parser) parse() (Value, error) {
	data := p.data
	p.skipWS()
	for {
		// Here a value starts at p.pos.
		var v Value
		if p.pos >= len(data) {
			return Value{}, p.unexpected(p.pos, "a value")
		}
		switch c := data[p.pos]; c {
		case '{', '[':
			if len(p.stack) >= p.maxDepth {
				return Value{}, p.errAt(p.pos, "nesting is deeper than MaxDepth ("+strconv.Itoa(p.maxDepth)+")")
			}
			p.pos++
			p.skipWS()
			if c == '{' {
				p.stack = append(p.stack, frame{kind: Object, start: len(p.mems)})
				if p.pos < len(data) && data[p.pos] == '}' {
					p.pos++
					p.stack = p.stack[:len(p.stack)-1]
					v = Value{Kind: Object}
					break
				}
				if err := p.memberKey(&p.stack[len(p.stack)-1], "'\"' to start an object key or '}'"); err != nil {
					return Value{}, err
				}
				continue
			}
			p.stack = append(p.stack, frame{kind: Array, start: len(p.vals)})
			if p.pos < len(data) && data[p.pos] == ']' {
				p.pos++
				p.stack = p.stack[:len(p.stack)-1]
				v = Value{Kind: Array}
				break
			}
			continue
		case '"':
			s, err := p.str()
			if err != nil {
				return Value{}, err
			}
			v = Value{Kind: String, Str: s}
		case 't':
			if err := p.literal("true"); err != nil {
				return Value{}, err
			}
			v = Value{Kind: Bool, Bool: true}
		case 'f':
			if err := p.literal("false"); err != nil {
				return Value{}, err
			}
			v = Value{Kind: Bool}
		case 'n':
			if err := p.literal("null"); err != nil {
				return Value{}, err
			}
			v = Value{Kind: Null}
		default:
			if c != '-' && (c < '0' || c > '9') {
				return Value{}, p.unexpected(p.pos, "a value")
			}
			n, err := p.number()
			if err != nil {
				return Value{}, err
			}
			v = Value{Kind: Number, Num: n}
		}

		// v is complete: hand it to the innermost open container, and keep
		// closing containers for as long as the input closes them.
		for {
			if len(p.stack) == 0 {
				p.skipWS()
				if p.pos != len(data) {
					return Value{}, p.unexpected(p.pos, "end of input after the top-level value")
				}
				return v, nil
			}
			top := &p.stack[len(p.stack)-1]
			if top.kind == Array {
				p.vals = append(p.vals, v)
				p.skipWS()
				if p.pos < len(data) && data[p.pos] == ',' {
					p.pos++
					p.skipWS()
					if len(p.vals)-top.start >= p.maxMembers {
						return Value{}, p.errAt(p.pos, "array has more elements than MaxMembers ("+strconv.Itoa(p.maxMembers)+")")
					}
					break
				}
				if p.pos < len(data) && data[p.pos] == ']' {
					p.pos++
					v = p.closeArray(top)
					continue
				}
				return Value{}, p.unexpected(p.pos, "',' or ']' after array element")
			}
			p.mems = append(p.mems, Member{Key: top.key, Value: v})
			p.skipWS()
			if p.pos < len(data) && data[p.pos] == ',' {
				p.pos++
				p.skipWS()
				if len(p.mems)-top.start >= p.maxMembers {
					return Value{}, p.errAt(p.pos, "object has more members than MaxMembers ("+strconv.Itoa(p.maxMembers)+")")
				}
				if err := p.memberKey(top, "'\"' to start an object key"); err != nil {
					return Value{}, err
				}
				break
			}
			if p.pos < len(data) && data[p.pos] == '}' {
				p.pos++
				v = p.closeObject(top)
				continue
			}
			return Value{}, p.unexpected(p.pos, "',' or '}' after object member")
		}
	}
}

// closeArray pops the innermost frame, an array, and returns its value.
func (p *parser) closeArray(f *frame) Value {
	elems := make([]Value, len(p.vals)-f.start)
	copy(elems, p.vals[f.start:])
	clear(p.vals[f.start:])
	p.vals = p.vals[:f.start]
	p.pop()
	return Value{Kind: Array, Elems: elems}
}

// closeObject pops the innermost frame, an object, and returns its value.
func (p *parser) closeObject(f *frame) Value {
	mems := make([]Member, len(p.mems)-f.start)
	copy(mems, p.mems[f.start:])
	clear(p.mems[f.start:])
	p.mems = p.mems[:f.start]
	p.pop()
	return Value{Kind: Object, Members: mems}
}

func (p *parser) pop() {
	p.stack[len(p.stack)-1] = frame{}
	p.stack = p.stack[:len(p.stack)-1]
}

// memberKey parses an object key, checks it against the object's earlier
// keys, and consumes the ':' after it.
func (p *parser) memberKey(f *frame, want string) error {
	data := p.data
	if p.pos >= len(data) || data[p.pos] != '"' {
		return p.unexpected(p.pos, want)
	}
	keyOff := p.pos
	key, err := p.str()
	if err != nil {
		return err
	}
	earlier := p.mems[f.start:]
	if f.seen == nil && len(earlier) < dupMapThreshold {
		for i := range earlier {
			if earlier[i].Key == key {
				return p.errAt(keyOff, "duplicate key "+quoteKey(key))
			}
		}
	} else {
		if f.seen == nil {
			f.seen = make(map[string]struct{}, 2*len(earlier))
			for i := range earlier {
				f.seen[earlier[i].Key] = struct{}{}
			}
		}
		if _, dup := f.seen[key]; dup {
			return p.errAt(keyOff, "duplicate key "+quoteKey(key))
		}
		f.seen[key] = struct{}{}
	}
	f.key = key
	p.skipWS()
	if p.pos >= len(data) || data[p.pos] != ':' {
		return p.unexpected(p.pos, "':' after object key")
	}
	p.pos++
	p.skipWS()
	return nil
}

// quoteKey quotes a key for an error message, shortened so that a hostile
// megabyte-long key does not become a megabyte-long log line.
func quoteKey(key string) string {
	const max = 64
	if len(key) <= max {
		return strconv.Quote(key)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return strconv.Quote(key[:cut]) + "..."
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return nil
	}
	return p.errAt(p.pos, "invalid literal, expected "+strconv.Quote(word))
}

// number checks the RFC 8259 number grammar and returns the literal text.
func (p *parser) number() (string, error) {
	data := p.data
	start := p.pos
	i := start
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
		if i < len(data) && isDigit(data[i]) {
			return "", p.errAt(i-1, "leading zero in number")
		}
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i++
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return "", p.unexpected(i, "a digit after '-'")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return "", p.unexpected(i, "a digit after the decimal point")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return "", p.unexpected(i, "a digit in the exponent")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	p.pos = i
	return p.src[start:i], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainRun returns the index of the first byte at or after i that is a
// quote, a backslash, a control character or not ASCII, or len(data). It looks
// at eight bytes at a time because string bodies are most of a record's bytes.
func plainRun(data []byte, i int) int {
	for i+8 <= len(data) {
		x := binary.LittleEndian.Uint64(data[i:])
		q := x ^ (lsb * '"')
		b := x ^ (lsb * '\\')
		// The high bit of a byte of m is set if that byte is < 0x20, is '"'
		// or '\\' (zero after the xor), or is >= 0x80. Borrows can set bits
		// above a true match but never below one, so the lowest set bit
		// marks a real match.
		m := ((x - lsb*0x20) | (q - lsb) | (b - lsb) | x) & msb
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(data) {
		c := data[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return i
		}
		i++
	}
	return i
}

// str parses the string starting with the quote at p.pos and returns its
// decoded text.
func (p *parser) str() (string, error) {
	data := p.data
	open := p.pos
	start := open + 1
	i := start
	for {
		i = plainRun(data, i)
		if i >= len(data) {
			return "", p.unterminated(open)
		}
		switch c := data[i]; {
		case c == '"':
			p.pos = i + 1
			return p.src[start:i], nil
		case c == '\\':
			return p.strEscaped(open, i)
		case c < 0x20:
			return "", p.controlChar(i)
		default:
			size, err := p.utf8At(i)
			if err != nil {
				return "", err
			}
			i += size
		}
	}
}

// strEscaped continues str from the first backslash at i, decoding into a
// buffer because the text no longer matches the input.
func (p *parser) strEscaped(open, i int) (string, error) {
	data := p.data
	buf := append(p.buf[:0], data[open+1:i]...)
	for {
		if i >= len(data) {
			p.buf = buf[:0]
			return "", p.unterminated(open)
		}
		switch c := data[i]; {
		case c == '"':
			p.pos = i + 1
			p.buf = buf[:0]
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(data) {
				p.buf = buf[:0]
				return "", p.unterminated(open)
			}
			var err error
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				i += 2
			case 'b':
				buf = append(buf, '\b')
				i += 2
			case 'f':
				buf = append(buf, '\f')
				i += 2
			case 'n':
				buf = append(buf, '\n')
				i += 2
			case 'r':
				buf = append(buf, '\r')
				i += 2
			case 't':
				buf = append(buf, '\t')
				i += 2
			case 'u':
				var r rune
				r, i, err = p.unicodeEscape(open, i)
				buf = utf8.AppendRune(buf, r)
			default:
				err = p.badEscape(i)
			}
			if err != nil {
				p.buf = buf[:0]
				return "", err
			}
		case c < 0x20:
			p.buf = buf[:0]
			return "", p.controlChar(i)
		case c >= utf8.RuneSelf:
			size, err := p.utf8At(i)
			if err != nil {
				p.buf = buf[:0]
				return "", err
			}
			buf = append(buf, data[i:i+size]...)
			i += size
		default:
			j := plainRun(data, i)
			buf = append(buf, data[i:j]...)
			i = j
		}
	}
}

// unicodeEscape decodes the \u escape at i, and the low surrogate escape
// after it if it is a high surrogate, returning the rune and the index after
// the escape(s).
func (p *parser) unicodeEscape(open, i int) (rune, int, error) {
	r, err := p.hex4(open, i)
	if err != nil {
		return 0, i, err
	}
	switch {
	case r < 0xD800 || r > 0xDFFF:
		return r, i + 6, nil
	case r >= 0xDC00:
		return 0, i, p.errAt(i, "lone UTF-16 surrogate \\u"+toUpper(strconv.FormatInt(int64(r), 16))+" in string (low surrogate without a high one)")
	}
	j := i + 6
	if j+1 < len(p.data) && p.data[j] == '\\' && p.data[j+1] == 'u' {
		lo, err := p.hex4(open, j)
		if err != nil {
			return 0, i, err
		}
		if 0xDC00 <= lo && lo <= 0xDFFF {
			return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), j + 6, nil
		}
	}
	return 0, i, p.errAt(i, "lone UTF-16 surrogate \\u"+toUpper(strconv.FormatInt(int64(r), 16))+" in string (high surrogate not followed by a low one)")
}

// hex4 reads the four hex digits of the \u escape at i.
func (p *parser) hex4(open, i int) (rune, error) {
	if i+6 > len(p.data) {
		for _, c := range p.data[i+2:] {
			if unhex(c) < 0 {
				return 0, p.errAt(i, "invalid \\u escape in string, expected four hex digits")
			}
		}
		return 0, p.unterminated(open)
	}
	var r rune
	for _, c := range p.data[i+2 : i+6] {
		d := unhex(c)
		if d < 0 {
			return 0, p.errAt(i, "invalid \\u escape in string, expected four hex digits")
		}
		r = r<<4 | rune(d)
	}
	return r, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// utf8At validates the non-ASCII sequence at i and returns its length.
func (p *parser) utf8At(i int) (int, error) {
	r, size := utf8.DecodeRune(p.data[i:])
	if r == utf8.RuneError && size == 1 {
		return 0, p.errAt(i, "invalid UTF-8 byte "+hexByte(p.data[i])+" in string")
	}
	return size, nil
}

func (p *parser) unterminated(open int) *Error {
	return p.errAt(len(p.data), "unexpected end of input in string starting at byte "+strconv.Itoa(open))
}

func (p *parser) controlChar(i int) *Error {
	return p.errAt(i, "control character "+codePoint(rune(p.data[i]))+" in string must be escaped")
}

func (p *parser) badEscape(i int) *Error {
	c := p.data[i+1]
	if c >= 0x20 && c < 0x7f {
		return p.errAt(i, "invalid escape \\"+string(rune(c))+" in string")
	}
	return p.errAt(i, "invalid escape in string: backslash followed by "+p.describe(i+1))
}
