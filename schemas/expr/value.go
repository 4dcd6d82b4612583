package expr

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of value. The zero Value is KindEmpty.
const (
	// KindEmpty is no value: an unanswered or non-relevant field, or a
	// number that cannot be had (number('abc'), 1 div 0). It reads as the empty text.
	KindEmpty Kind = iota
	KindNumber
	KindString
	KindBool
	KindDate
	// KindMulti is the choices of a multi field, in the kit's order. It
	// reads as its codes separated by spaces, as XLSForm stores them.
	KindMulti
)

var kindNames = [...]string{"empty", "number", "string", "bool", "date", "multi"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind %d", k)
}

// Value is what an expression, a field or `.` gives. The zero Value is
// empty. A Value is immutable.
type Value struct {
	kind Kind
	// num is a number, a bool as 1 or 0, or a date as days since
	// 1970-01-01. It is always finite, and never -0.
	num float64
	// str is a string, or a multi value's codes joined by spaces.
	str   string
	codes []string
}

// NumberValue returns the number f. A NaN or an infinity is no number: the
// empty value.
func NumberValue(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}
	}
	if f == 0 {
		f = 0 // -0 would read as "-0"
	}
	return Value{kind: KindNumber, num: f}
}

// StringValue returns the text s.
func StringValue(s string) Value { return Value{kind: KindString, str: s} }

// BoolValue returns true() or false().
func BoolValue(b bool) Value {
	if b {
		return Value{kind: KindBool, num: 1}
	}
	return Value{kind: KindBool}
}

// DateValue returns the date d, or the empty value if d is no valid date.
func DateValue(d Date) Value {
	if !d.Valid() {
		return Value{}
	}
	return Value{kind: KindDate, num: float64(d.days())}
}

// MultiValue returns the choices of a multi field, given by their codes in
// the kit's order. The codes are copied.
func MultiValue(codes ...string) Value {
	c := slices.Clone(codes)
	return Value{kind: KindMulti, codes: c, str: strings.Join(c, " ")}
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// Number returns the value as number() reads it, and false if it has none:
// empty, or a text that is not a decimal number.
func (v Value) Number() (float64, bool) {
	switch v.kind {
	case KindNumber, KindBool, KindDate:
		return v.num, true
	case KindString, KindMulti:
		return parseNumber(v.str)
	}
	return 0, false
}

// String returns the value as string() reads it: the empty text when empty, a number in
// its shortest decimal form without exponent, a date as 2024-11-27, a bool
// as true or false, a multi value as its codes separated by spaces.
func (v Value) String() string {
	switch v.kind {
	case KindNumber:
		return formatNumber(v.num)
	case KindBool:
		if v.num != 0 {
			return "true"
		}
		return "false"
	case KindDate:
		return dateFromDays(int(v.num)).String()
	}
	return v.str
}

// Date returns the value's date: a date, or a text that date() would read
// as one.
func (v Value) Date() (Date, bool) {
	switch v.kind {
	case KindDate:
		return dateFromDays(int(v.num)), true
	case KindString:
		d, err := parseDateText(v.str)
		return d, err == nil
	}
	return Date{}, false
}

// Codes returns the choice codes of a multi value, or of a text of codes
// separated by spaces, as a multi field is stored in XLSForm.
func (v Value) Codes() []string {
	if v.kind == KindMulti {
		return slices.Clone(v.codes)
	}
	return splitCodes(v.String())
}

// Equal reports whether v and w are the same value of the same kind. It is
// not the language's `=`, which converts between kinds.
func (v Value) Equal(w Value) bool {
	return v.kind == w.kind && v.num == w.num && v.str == w.str && slices.Equal(v.codes, w.codes)
}

// GoString shows the value with its kind, for test failures and logs.
func (v Value) GoString() string {
	switch v.kind {
	case KindEmpty:
		return "empty"
	case KindString:
		return strconv.Quote(v.str)
	case KindMulti:
		return fmt.Sprintf("multi%q", v.codes)
	}
	return fmt.Sprintf("%s(%s)", v.kind, v.String())
}

// Truthy reports whether v is true where a rule wants yes or no: a relevant,
// a constraint or a required. As in XPath's boolean(): empty and the empty text are
// false, a number is false when it is 0 (within 1e-12, as JavaRosa has it),
// any other text is true (even 'false'), a date is true, a multi value is
// true when a choice is selected.
func Truthy(v Value) bool {
	switch v.kind {
	case KindNumber:
		return math.Abs(v.num) > epsilon
	case KindBool:
		return v.num != 0
	case KindString, KindMulti:
		return v.str != ""
	case KindDate:
		return true
	}
	return false
}

// epsilon is how close two numbers are to be equal, and a number to 0 to be
// false: JavaRosa's, so that 0.1 + 0.2 = 0.3 holds.
const epsilon = 1e-12

// isNull reports whether v is what coalesce() passes over.
func isNull(v Value) bool { return v.String() == "" }

// parseNumber reads a text as number() does: decimal digits with an
// optional '-' and '.', spaces around them ignored. JavaRosa also reads ','
// as '.', which would make 1,000 one; here a ',' is no number.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '-' && c != '.' && (c < '0' || c > '9') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	if f == 0 {
		f = 0
	}
	return f, true
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// splitCodes splits a multi value stored as text at XML whitespace, as
// XLSForm separates choices.
func splitCodes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// Date is a civil date in the proleptic Gregorian calendar, years 1 to 9999.
type Date struct {
	Year, Month, Day int
}

// DateOf returns the date t falls on in t's own location. The caller
// chooses the location, and the instant: expr reads no clock.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: int(m), Day: d}
}

// ParseDate reads a date written 2024-11-27.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%q is not a date written YYYY-MM-DD", s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	date := Date{Year: y, Month: m, Day: d}
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("%q is not a date written YYYY-MM-DD", s)
	}
	if !date.Valid() {
		return Date{}, fmt.Errorf("%q is no day of the calendar", s)
	}
	return date, nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// parseDateText reads a date as date() does: 2024-11-27, or the date of a
// date-time written 2024-11-27T11:35:23Z (with any zone or none), taken as
// written. JavaRosa moves a date-time into the device's time zone first,
// which would make two nodes disagree.
func parseDateText(s string) (Date, error) {
	if len(s) > 10 && s[10] == 'T' {
		d, err := ParseDate(s[:10])
		if err != nil {
			return Date{}, err
		}
		if !isTimeOfDay(s[11:]) {
			return Date{}, fmt.Errorf("%q is not a date-time written YYYY-MM-DDThh:mm:ss", s)
		}
		return d, nil
	}
	return ParseDate(s)
}

// isTimeOfDay reports whether s is hh:mm, hh:mm:ss or hh:mm:ss.fff, then
// Z, +hh:mm, -hh:mm, +hhmm or nothing.
func isTimeOfDay(s string) bool {
	two := func(max int) bool {
		n, ok := 0, len(s) >= 2
		if ok {
			n, ok = digits(s[:2])
		}
		if !ok || n > max {
			return false
		}
		s = s[2:]
		return true
	}
	colon := func() bool {
		if s == "" || s[0] != ':' {
			return false
		}
		s = s[1:]
		return true
	}
	if !two(23) || !colon() || !two(59) {
		return false
	}
	if s != "" && s[0] == ':' {
		s = s[1:]
		if !two(60) {
			return false
		}
		if s != "" && s[0] == '.' {
			n := 1
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			if n == 1 {
				return false
			}
			s = s[n:]
		}
	}
	switch {
	case s == "" || s == "Z":
		return true
	case s[0] == '+' || s[0] == '-':
		s = s[1:]
		if !two(23) {
			return false
		}
		if s != "" && s[0] == ':' {
			s = s[1:]
		}
		return two(59) && s == ""
	}
	return false
}

// String writes the date as 2024-11-27.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Date, which is no date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a day of the calendar in the years 1 to 9999.
func (d Date) Valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d.Month >= 1 && d.Month <= 12 &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// The first and last days a Date holds, in days since 1970-01-01.
var (
	minDays = Date{1, 1, 1}.days()
	maxDays = Date{9999, 12, 31}.days()
)

// days counts the days from 1970-01-01 to d (Howard Hinnant's
// days_from_civil), in integers alone.
func (d Date) days() int {
	y, m := d.Year, d.Month
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 for every valid date
	yoe := y - era*400
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateFromDays is days' inverse (Hinnant's civil_from_days), for
// minDays <= n <= maxDays.
func dateFromDays(n int) Date {
	z := n + 719468
	era := z / 146097 // z >= 0 from year 0 on
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
		y++
	}
	return Date{Year: y, Month: m, Day: d}
}
