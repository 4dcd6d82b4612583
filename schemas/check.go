package schemas

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"lifeline/syncproto"
)

// Check says whether a value another node wrote fits the field: its
// canonical CBOR, as a change carries it. It applies the rules a value
// typed here must pass (type, bounds, sizes, choices, formats), so that a
// peer's change is held to the same kit as a local edit. Null (a cleared
// field) fits an optional field only. The common types are read without
// allocating: every change a node receives passes here.
//
// An error about a personal field says which rule the value breaks, never
// the value: the reason a node keeps for a change it sets aside is stored,
// shown and passed on, and must not carry a name, a phone number or a
// medical need.
func (f *Field) Check(raw []byte) error {
	if len(raw) == 1 && raw[0] == 0xf6 {
		if f.Required.Always {
			return rule("required", "is required and cannot be cleared")
		}
		return nil
	}
	switch f.Type {
	case Text, Choice, Date, DateTime, Ref:
		s, ok := cborText(raw)
		if !ok {
			return rule("type", "must be %s", f.Type)
		}
		return f.checkText(s)
	case Integer:
		i, ok := cborInt(raw)
		if !ok {
			return rule("type", "must be a whole number Lifeline can hold")
		}
		if f.inRange(float64(i)) {
			return nil // formatting the value is for the error alone
		}
		return f.checkRange(float64(i), f.shown(strconv.FormatInt(i, 10)))
	case Decimal:
		x, ok := cborFloat(raw)
		if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
			if i, isInt := cborInt(raw); isInt {
				x, ok = float64(i), true
			}
		}
		if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
			return rule("type", "must be a number Lifeline can hold")
		}
		if f.inRange(x) {
			return nil
		}
		return f.checkRange(x, f.shown(strconv.FormatFloat(x, 'g', -1, 64)))
	case Bool:
		if len(raw) != 1 || raw[0] != 0xf4 && raw[0] != 0xf5 {
			return rule("type", "must be true or false")
		}
		return nil
	case Multi:
		vs, ok := cborTexts(raw)
		if !ok {
			if err := syncproto.Unmarshal(raw, &vs); err != nil {
				return rule("type", "must be a list of choices")
			}
		}
		if err := f.checkCount(len(vs), "choices", len(f.Choices)); err != nil {
			return err
		}
		// As a local edit writes them: each the value the kit lists,
		// once, in the kit's order.
		last := -1
		for _, v := range vs {
			i := f.exactChoice(v)
			switch {
			case i < 0 && f.Personal:
				return rule("choices", "a choice is not one of %s", f.choiceList())
			case i < 0:
				return rule("choices", "%.80q is not one of %s", v, f.choiceList())
			case i <= last && f.Personal:
				return rule("choices", "a choice is chosen twice or out of the kit's order")
			case i <= last:
				return rule("choices", "%.80q is chosen twice or out of the kit's order", v)
			}
			last = i
		}
		return nil
	case Geo:
		var p [2]float64
		if err := syncproto.Unmarshal(raw, &p); err != nil {
			return rule("type", "must be a point [lat, lon]")
		}
		if p[0] < -90 || p[0] > 90 || p[1] < -180 || p[1] > 180 || math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			return rule("range", "%s is not a point on Earth", f.shown(fmt.Sprint(p)))
		}
		return nil
	case Photo:
		var refs []string
		if err := syncproto.Unmarshal(raw, &refs); err != nil {
			return rule("type", "must be a list of photo references")
		}
		if err := f.checkCount(len(refs), "photos", DefaultMaxPhotos); err != nil {
			return err
		}
		for _, r := range refs {
			if len(r) == 0 || len(r) > 256 {
				return rule("format", "a photo reference of %d bytes", len(r))
			}
		}
		return nil
	}
	return rule("type", "field type %q is unknown", f.Type)
}

// checkText checks a text-valued field's value.
func (f *Field) checkText(s []byte) error {
	if !utf8.Valid(s) {
		return rule("type", "is not valid text")
	}
	switch f.Type {
	case Text:
		n := len(s)
		if n > f.textMax() || (f.Min != nil && float64(n) < 4**f.Min) {
			n = utf8.RuneCount(s)
		}
		if err := f.checkCount(n, "characters", DefaultMaxText); err != nil {
			return err
		}
		if f.Required.Always && isBlank(s) {
			return rule("required", "is required and cannot be blank")
		}
	case Choice:
		if f.exactChoice(string(s)) < 0 {
			return rule("choices", "%s is not one of %s", f.quoted(s), f.choiceList())
		}
	case Date:
		if d, err := time.Parse(time.DateOnly, string(s)); err != nil || d.Format(time.DateOnly) != string(s) {
			return rule("format", "%s is not a date like 2024-11-27", f.quoted(s))
		}
	case DateTime:
		ts, err := time.Parse(time.RFC3339Nano, string(s))
		if err != nil {
			return rule("format", "%s is not a date and time with its zone", f.quoted(s))
		}
		if y := ts.UTC().Year(); y < 1900 || y > 2200 {
			if f.Personal {
				return rule("format", "the value is not a plausible date (its year is not from 1900 to 2200)")
			}
			return rule("format", "%.80q is not a plausible date (year %d)", s, y)
		}
	case Ref:
		if _, err := syncproto.ParseRecordID(string(s)); err != nil {
			return rule("format", "%s is not a record id", f.quoted(s))
		}
	}
	return nil
}

// shown is how an error names a value the field refuses: as lit, or as
// "the value" when the field is personal.
func (f *Field) shown(lit string) string {
	if f.Personal {
		return "the value"
	}
	return lit
}

// quoted is shown for a text: quoted, and cut to 80 bytes.
func (f *Field) quoted(s []byte) string {
	if f.Personal {
		return "the value"
	}
	return fmt.Sprintf("%.80q", s)
}

// exactChoice is the index of the choice whose value is v as the kit
// spells it, the form values are stored in, or -1.
func (f *Field) exactChoice(v string) int {
	if f.choiceAt != nil {
		if i, ok := f.choiceAt[v]; ok {
			return i
		}
		return -1
	}
	return slices.IndexFunc(f.Choices, func(c ChoiceItem) bool { return c.Value == v })
}

func isBlank(s []byte) bool {
	for _, r := range string(s) {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// cborHead reads a CBOR item's major type and argument; n is the header's
// length.
func cborHead(raw []byte) (major byte, arg uint64, n int, ok bool) {
	if len(raw) == 0 {
		return 0, 0, 0, false
	}
	major, info := raw[0]>>5, raw[0]&0x1f
	switch {
	case info < 24:
		return major, uint64(info), 1, true
	case info == 24 && len(raw) >= 2:
		return major, uint64(raw[1]), 2, true
	case info == 25 && len(raw) >= 3:
		return major, uint64(binary.BigEndian.Uint16(raw[1:])), 3, true
	case info == 26 && len(raw) >= 5:
		return major, uint64(binary.BigEndian.Uint32(raw[1:])), 5, true
	case info == 27 && len(raw) >= 9:
		return major, binary.BigEndian.Uint64(raw[1:]), 9, true
	}
	return 0, 0, 0, false
}

// cborText reads a CBOR text string that is the whole of raw.
func cborText(raw []byte) ([]byte, bool) {
	major, arg, n, ok := cborHead(raw)
	if !ok || major != 3 || uint64(len(raw)-n) != arg {
		return nil, false
	}
	return raw[n:], true
}

// cborTexts reads a CBOR array of text strings that is the whole of raw,
// the array and each string of definite length and valid UTF-8: the form
// a node writes. It reports false for anything else, which the CBOR
// decoder then reads, or refuses, as it always did: this only spares it
// the common case, on every change a node receives.
func cborTexts(raw []byte) ([]string, bool) {
	major, count, n, ok := cborHead(raw)
	if !ok || major != 4 || count > uint64(len(raw)) {
		return nil, false
	}
	vs := make([]string, 0, count)
	rest := raw[n:]
	for range count {
		m, l, hn, ok := cborHead(rest)
		if !ok || m != 3 || l > uint64(len(rest)-hn) {
			return nil, false
		}
		s := rest[hn : hn+int(l)]
		if !utf8.Valid(s) {
			return nil, false
		}
		vs = append(vs, string(s))
		rest = rest[hn+int(l):]
	}
	return vs, len(rest) == 0
}

// cborInt reads a CBOR integer that is the whole of raw and fits an int64.
func cborInt(raw []byte) (int64, bool) {
	major, arg, n, ok := cborHead(raw)
	if !ok || n != len(raw) || arg > math.MaxInt64 {
		return 0, false
	}
	switch major {
	case 0:
		return int64(arg), true
	case 1:
		return -1 - int64(arg), true
	}
	return 0, false
}

// cborFloat reads a CBOR float that is the whole of raw.
func cborFloat(raw []byte) (float64, bool) {
	switch {
	case len(raw) == 9 && raw[0] == 0xfb:
		return math.Float64frombits(binary.BigEndian.Uint64(raw[1:])), true
	case len(raw) == 5 && raw[0] == 0xfa:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(raw[1:]))), true
	case len(raw) == 3 && raw[0] == 0xf9:
		var x float64
		if err := syncproto.Unmarshal(raw, &x); err == nil {
			return x, true
		}
	}
	return 0, false
}
