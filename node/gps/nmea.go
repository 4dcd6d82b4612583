package gps

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxSentence is the longest NMEA 0183 sentence, from "$" to the CR LF
// that ends it, as the standard fixes it.
const MaxSentence = 82

// A Sentence is a parsed NMEA sentence of a type this package reads:
// a GGA or an RMC.
type Sentence interface {
	sentence()
}

// GGA is a "Global Positioning System Fix Data" sentence: the position
// with its quality, satellites, HDOP and altitude, but no date.
type GGA struct {
	Talker string // GP (GPS), GN (several systems), GL, GA, BD, GB...

	TimeOfDay time.Duration // UTC, since midnight; when HasTime
	HasTime   bool

	Lat, Lon    float64 // decimal degrees; when HasPosition
	HasPosition bool

	Quality    Quality
	Satellites int     // in use; 0 when the field is empty
	HDOP       float64 // 0 when the field is empty

	Altitude    float64 // metres above mean sea level; when HasAltitude
	HasAltitude bool
}

// RMC is a "Recommended Minimum Specific GNSS Data" sentence: the
// position, whether the receiver holds it valid, and the date.
type RMC struct {
	Talker string

	TimeOfDay time.Duration // UTC, since midnight; when HasTime
	HasTime   bool

	Valid bool // status A; V ("warning") means no fix

	Lat, Lon    float64 // decimal degrees; when HasPosition
	HasPosition bool

	Date time.Time // UTC midnight of the day; zero when the field is empty

	// Mode is the positioning mode of NMEA 2.3 and later (A autonomous,
	// D differential, E estimated, F RTK float, M manual, N no fix,
	// P precise, R RTK, S simulator); 0 when the receiver sends none.
	Mode byte
}

func (GGA) sentence() {}
func (RMC) sentence() {}

// Time is the fix's UTC date and time, or the zero Time if the sentence
// lacks either.
func (m RMC) Time() time.Time {
	if m.Date.IsZero() || !m.HasTime {
		return time.Time{}
	}
	return m.Date.Add(m.TimeOfDay)
}

// Quality is what the sentence says of the fix: none when it is not
// valid, otherwise from its mode (GPS when it has none).
func (m RMC) Quality() Quality {
	if !m.Valid {
		return QualityNone
	}
	switch m.Mode {
	case 'N':
		return QualityNone
	case 'D':
		return QualityDGPS
	case 'P':
		return QualityPPS
	case 'R':
		return QualityRTK
	case 'F':
		return QualityRTKFloat
	case 'E':
		return QualityEstimated
	case 'M':
		return QualityManual
	case 'S':
		return QualitySimulated
	}
	return QualityGPS
}

// ParseSentence parses one NMEA 0183 sentence, with or without its CR LF.
// Any talker is accepted. The error is a *SentenceError wrapping
// ErrTooLong, ErrChecksum, ErrSyntax, ErrRange or, for a well-formed
// sentence of another type, ErrUnsupported.
func ParseSentence(line string) (Sentence, error) {
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if len(line)+2 > MaxSentence {
		return nil, &SentenceError{Err: ErrTooLong,
			Detail: fmt.Sprintf("%d characters with its CR LF, at most %d", len(line)+2, MaxSentence)}
	}
	if line == "" || line[0] != '$' {
		return nil, &SentenceError{Text: prefix(line), Err: ErrSyntax, Detail: `a sentence starts with "$"`}
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c > 0x7e {
			return nil, &SentenceError{Text: prefix(line), Err: ErrSyntax,
				Detail: fmt.Sprintf("byte 0x%02x at column %d is not printable ASCII", c, i+1)}
		}
	}
	star := len(line) - 3
	if star < 1 || line[star] != '*' {
		return nil, &SentenceError{Text: prefix(line), Err: ErrSyntax, Detail: `no "*hh" checksum at the end`}
	}
	want, err := strconv.ParseUint(line[star+1:], 16, 8)
	if err != nil {
		return nil, &SentenceError{Text: line[star:], Err: ErrSyntax, Detail: "the checksum is two hexadecimal digits"}
	}
	body := line[1:star]
	var sum byte
	for i := 0; i < len(body); i++ {
		sum ^= body[i]
	}
	fields := strings.Split(body, ",")
	addr := fields[0]
	if byte(want) != sum {
		name := addr
		if len(name) != 5 || !upper(name) {
			name = ""
		}
		return nil, &SentenceError{Sentence: name, Text: line[star:], Err: ErrChecksum,
			Detail: fmt.Sprintf("the characters give *%02X", sum)}
	}
	if strings.ContainsAny(body, "$*") {
		return nil, &SentenceError{Text: prefix(line), Err: ErrSyntax, Detail: `"$" or "*" inside the sentence`}
	}
	if addr != "" && addr[0] == 'P' {
		// A maker's own sentence ($PUBX, $PGRME...).
		return nil, &SentenceError{Sentence: addr, Err: ErrUnsupported}
	}
	if len(addr) != 5 || !upper(addr) {
		return nil, &SentenceError{Text: prefix(addr), Err: ErrSyntax,
			Detail: "the address is a talker and a type, five capital letters (GPGGA)"}
	}
	f := nmeaFields{addr: addr, v: fields}
	var s Sentence
	switch addr[2:] {
	case "GGA":
		s, err = f.gga()
	case "RMC":
		s, err = f.rmc()
	default:
		return nil, &SentenceError{Sentence: addr, Err: ErrUnsupported}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// nmeaFields reads the fields of one sentence, making errors that name them.
type nmeaFields struct {
	addr string
	v    []string // v[0] is the address, so v[i] is field i
}

func (f nmeaFields) err(i int, name string, sentinel error, detail string) error {
	return &SentenceError{Sentence: f.addr, Field: i, Name: name, Text: f.v[i], Err: sentinel, Detail: detail}
}

func (f nmeaFields) count(min, max int) error {
	if n := len(f.v) - 1; n < min || n > max {
		want := strconv.Itoa(min)
		if max > min {
			want = fmt.Sprintf("%d to %d", min, max)
		}
		return &SentenceError{Sentence: f.addr, Err: ErrSyntax, Detail: fmt.Sprintf("%d fields, %s expected", n, want)}
	}
	return nil
}

func (f nmeaFields) gga() (GGA, error) {
	if err := f.count(14, 14); err != nil {
		return GGA{}, err
	}
	g := GGA{Talker: f.addr[:2]}
	var err error
	if g.TimeOfDay, g.HasTime, err = f.timeOfDay(1); err != nil {
		return GGA{}, err
	}
	if g.Lat, g.Lon, g.HasPosition, err = f.position(2); err != nil {
		return GGA{}, err
	}
	q := f.v[6]
	if len(q) != 1 || q[0] < '0' || q[0] > '9' {
		return GGA{}, f.err(6, "fix quality", ErrSyntax, "one digit")
	}
	if g.Quality = Quality(q[0] - '0'); g.Quality > QualitySimulated {
		return GGA{}, f.err(6, "fix quality", ErrRange, "0 to 8")
	}
	if g.Quality != QualityNone && !g.HasPosition {
		return GGA{}, f.err(6, "fix quality", ErrSyntax, "a fix without a position")
	}
	if s := f.v[7]; s != "" {
		if len(s) > 2 || !digits(s) {
			return GGA{}, f.err(7, "satellites", ErrSyntax, "a number of one or two digits")
		}
		g.Satellites, _ = strconv.Atoi(s)
	}
	if s := f.v[8]; s != "" {
		if g.HDOP, err = decimal(s, false); err != nil {
			return GGA{}, f.err(8, "HDOP", ErrSyntax, "a decimal number")
		}
	}
	if s := f.v[9]; s != "" {
		if g.Altitude, err = decimal(s, true); err != nil {
			return GGA{}, f.err(9, "altitude", ErrSyntax, "a decimal number")
		}
		// Beyond what a receiver on or above the Earth reports: a damaged
		// sentence whose checksum happens to match.
		if g.Altitude < -1000 || g.Altitude > 100000 {
			return GGA{}, f.err(9, "altitude", ErrRange, "-1000 to 100000 metres")
		}
		if f.v[10] != "M" {
			return GGA{}, f.err(10, "altitude unit", ErrSyntax, `"M", metres`)
		}
		g.HasAltitude = true
	}
	return g, nil
}

func (f nmeaFields) rmc() (RMC, error) {
	// 11 fields in NMEA 2.0; 2.3 added the mode, 4.1 the navigational status.
	if err := f.count(11, 13); err != nil {
		return RMC{}, err
	}
	m := RMC{Talker: f.addr[:2]}
	var err error
	if m.TimeOfDay, m.HasTime, err = f.timeOfDay(1); err != nil {
		return RMC{}, err
	}
	switch f.v[2] {
	case "A":
		m.Valid = true
	case "V":
	default:
		return RMC{}, f.err(2, "status", ErrSyntax, `"A" (valid) or "V" (no fix)`)
	}
	if m.Lat, m.Lon, m.HasPosition, err = f.position(3); err != nil {
		return RMC{}, err
	}
	if m.Valid && !m.HasPosition {
		return RMC{}, f.err(2, "status", ErrSyntax, "valid without a position")
	}
	if m.Date, err = f.date(9); err != nil {
		return RMC{}, err
	}
	if len(f.v) > 12 && f.v[12] != "" {
		s := f.v[12]
		if len(s) != 1 || !strings.Contains("ADEFMNPRS", s) {
			return RMC{}, f.err(12, "mode", ErrSyntax, "one of A D E F M N P R S")
		}
		m.Mode = s[0]
	}
	return m, nil
}

// timeOfDay reads hhmmss or hhmmss.s, UTC.
func (f nmeaFields) timeOfDay(i int) (time.Duration, bool, error) {
	s := f.v[i]
	if s == "" {
		return 0, false, nil
	}
	whole, frac, dot := strings.Cut(s, ".")
	if len(whole) != 6 || !digits(whole) || (dot && (frac == "" || len(frac) > 9 || !digits(frac))) {
		return 0, false, f.err(i, "UTC time", ErrSyntax, "hhmmss or hhmmss.ss")
	}
	h, m, sec := atoi2(whole[0:2]), atoi2(whole[2:4]), atoi2(whole[4:6])
	// 60 seconds is a leap second, which UTC has and receivers report.
	if h > 23 || m > 59 || sec > 60 {
		return 0, false, f.err(i, "UTC time", ErrRange, "hours 0 to 23, minutes 0 to 59, seconds 0 to 60")
	}
	ns, _ := strconv.Atoi((frac + "000000000")[:9])
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(ns)
	return d, true, nil
}

// date reads ddmmyy. GPS time began in 1980: years 80 to 99 are 1980 to
// 1999, 00 to 79 are 2000 to 2079.
func (f nmeaFields) date(i int) (time.Time, error) {
	s := f.v[i]
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) != 6 || !digits(s) {
		return time.Time{}, f.err(i, "date", ErrSyntax, "ddmmyy")
	}
	d, m, y := atoi2(s[0:2]), atoi2(s[2:4]), 2000+atoi2(s[4:6])
	if y >= 2080 {
		y -= 100
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || d < 1 || t.Day() != d {
		return time.Time{}, f.err(i, "date", ErrRange, "no such day")
	}
	return t, nil
}

// position reads latitude, N/S, longitude, E/W from field i on. All four
// empty is a receiver without a position; some but not all is an error.
func (f nmeaFields) position(i int) (lat, lon float64, ok bool, err error) {
	if f.v[i] == "" && f.v[i+1] == "" && f.v[i+2] == "" && f.v[i+3] == "" {
		return 0, 0, false, nil
	}
	if lat, err = f.angle(i, "latitude", 2, 90, "NS"); err != nil {
		return 0, 0, false, err
	}
	if lon, err = f.angle(i+2, "longitude", 3, 180, "EW"); err != nil {
		return 0, 0, false, err
	}
	return lat, lon, true, nil
}

// angle reads a latitude (ddmm.mmmm) or longitude (dddmm.mmmm) in field
// i and its hemisphere in field i+1: the southern and western are negative.
func (f nmeaFields) angle(i int, name string, degDigits int, max float64, hemispheres string) (float64, error) {
	s := f.v[i]
	form := strings.Repeat("d", degDigits) + "mm.mmmm"
	whole, frac, dot := strings.Cut(s, ".")
	if len(whole) != degDigits+2 || !digits(whole) || (dot && (frac == "" || !digits(frac))) {
		return 0, f.err(i, name, ErrSyntax, form)
	}
	deg := float64(atoi(whole[:degDigits]))
	minutes, _ := strconv.ParseFloat(s[degDigits:], 64)
	if minutes >= 60 {
		return 0, f.err(i, name, ErrRange, "minutes must be below 60")
	}
	v := deg + minutes/60
	if v > max {
		return 0, f.err(i, name, ErrRange, fmt.Sprintf("at most %g degrees", max))
	}
	h := f.v[i+1]
	if len(h) != 1 || !strings.Contains(hemispheres, h) {
		return 0, f.err(i+1, name+" hemisphere", ErrSyntax, fmt.Sprintf("%q or %q", hemispheres[0], hemispheres[1]))
	}
	if h[0] == hemispheres[1] {
		v = -v
	}
	return v, nil
}

// decimal reads a number of digits with at most one point, and a leading
// minus if signed: strconv.ParseFloat alone would also take "1e9", "Inf"
// or "0x1p-2".
func decimal(s string, signed bool) (float64, error) {
	t := s
	if signed {
		t = strings.TrimPrefix(t, "-")
	}
	whole, frac, _ := strings.Cut(t, ".")
	if whole+frac == "" || (whole != "" && !digits(whole)) || (frac != "" && !digits(frac)) {
		return 0, ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func upper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// atoi2 reads two digits already checked.
func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// atoi reads digits already checked.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// prefix is the start of a line, enough to recognise it in an error.
func prefix(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
