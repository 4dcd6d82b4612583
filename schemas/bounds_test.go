package schemas_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"

	"lifeline/fieldkits"
	"lifeline/schemas"
)

// kitBound is a numeric field of a real kit and its bounds, restated here
// from fieldkits/kits/*.yaml: the values tested come from these numbers,
// never from the validator.
type kitBound struct {
	typ, field string
	integer    bool
	min, max   float64
}

// realBounds are the bounded numbers a responder types most often, and the
// ones a typo turns into a wrong map or a wrong count.
var realBounds = []kitBound{
	{"damage-assessment", "damage_level", true, 0, 4},
	{"damage-assessment", "household_size", true, 0, 60},
	{"missing-person", "age", true, 0, 120},
	{"damage-assessment", "lat", false, 15.5, 18.6},
	{"damage-assessment", "lon", false, -89.5, -87.3},
	{"road-segment", "water_depth_m", false, 0, 10},
}

// boundCase is one value tried against a bound.
type boundCase struct {
	what string  // e.g. "just above the maximum"
	lit  string  // the value as a person types it
	x    float64 // the value
	rule string  // the rule it breaks, "" if it is accepted
}

// cases are the values at each bound, just inside it and just outside it:
// for a whole number, one more or one less; for a decimal, a ten-thousandth
// of a degree or metre (what the forms show) and the nearest other float64.
func (b kitBound) cases() []boundCase {
	var out []boundCase
	add := func(what string, x float64, rule string) {
		lit := strconv.FormatFloat(x, 'g', -1, 64)
		if b.integer {
			lit = strconv.FormatInt(int64(x), 10)
		}
		out = append(out, boundCase{what, lit, x, rule})
	}
	add("at the minimum", b.min, "")
	add("at the maximum", b.max, "")
	if b.integer {
		add("one above the minimum", b.min+1, "")
		add("one below the minimum", b.min-1, "min")
		add("one below the maximum", b.max-1, "")
		add("one above the maximum", b.max+1, "max")
		return out
	}
	add("a ten-thousandth above the minimum", b.min+0.0001, "")
	add("a ten-thousandth below the minimum", b.min-0.0001, "min")
	add("a ten-thousandth below the maximum", b.max-0.0001, "")
	add("a ten-thousandth above the maximum", b.max+0.0001, "max")
	add("the next float64 above the minimum", math.Nextafter(b.min, math.Inf(1)), "")
	add("the next float64 below the minimum", math.Nextafter(b.min, math.Inf(-1)), "min")
	add("the next float64 below the maximum", math.Nextafter(b.max, math.Inf(-1)), "")
	add("the next float64 above the maximum", math.Nextafter(b.max, math.Inf(1)), "max")
	return out
}

// cborNumber is x as CBOR (RFC 8949), written out here: a whole number as
// an integer of major type 0 or 1 with its shortest argument, any other as
// a 64-bit float.
func cborNumber(x float64, integer bool) []byte {
	if !integer {
		return binary.BigEndian.AppendUint64([]byte{0xfb}, math.Float64bits(x))
	}
	major, n := byte(0x00), uint64(x)
	if x < 0 {
		major, n = 0x20, uint64(-x-1)
	}
	switch {
	case n < 24:
		return []byte{major | byte(n)}
	case n < 1<<8:
		return []byte{major | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{major | 25}, uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32([]byte{major | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{major | 27}, n)
}

// The real kits' numeric fields take a value at each bound and just
// inside it, and refuse one just outside it, naming the bound broken:
// typed in a form or a file (ParseJSON), and written by another node
// (Check).
func TestRealKitsNumericBounds(t *testing.T) {
	cat, err := fieldkits.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range realBounds {
		ty, ok := cat.Type(b.typ)
		if !ok {
			t.Fatalf("no type %s in the kits", b.typ)
		}
		f, ok := ty.Field(b.field)
		if !ok {
			t.Fatalf("no field %s.%s in the kits", b.typ, b.field)
		}
		want := schemas.Decimal
		if b.integer {
			want = schemas.Integer
		}
		if f.Type != want || f.Min == nil || f.Max == nil || *f.Min != b.min || *f.Max != b.max {
			t.Fatalf("%s.%s: the kit declares a %s of %v to %v; this test states a %s of %v to %v (change both together)",
				b.typ, b.field, f.Type, deref(f.Min), deref(f.Max), want, b.min, b.max)
		}
		for _, c := range b.cases() {
			t.Run(fmt.Sprintf("%s.%s %s (%s)", b.typ, b.field, c.what, c.lit), func(t *testing.T) {
				in, err := ty.ParseJSON([]byte(`{"`+b.field+`":`+c.lit+`}`), schemas.Update)
				if c.rule == "" {
					if err != nil {
						t.Fatalf("typed: refused: %v", err)
					}
					v, err := f.Decode(in.Fields[0].Value)
					if err != nil {
						t.Fatal(err)
					}
					if got := toFloat(v); got != c.x {
						t.Fatalf("typed: kept %v, want %v", v, c.x)
					}
				} else {
					var ve *schemas.ValidationError
					if !errors.As(err, &ve) || len(ve.Errs) != 1 || ve.Errs[0].Field != b.field || ve.Errs[0].Rule != c.rule {
						t.Fatalf("typed: got %v, want a refusal of %s by rule %s", err, b.field, c.rule)
					}
				}
				if err := f.Check(cborNumber(c.x, b.integer)); (err == nil) != (c.rule == "") {
					t.Fatalf("written by another node: Check says %v, want accepted %t", err, c.rule == "")
				}
			})
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}
