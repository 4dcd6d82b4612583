package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks jsonscan against encoding/json: whatever jsonscan accepts,
// encoding/json must accept with an equal value, and jsonscan may refuse what
// encoding/json accepts only for the reasons it is documented to be stricter.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"id":"9677a110-fd65-46a3-8c48-dc056870ed52","kit":"damage-assessment","district":"Cayo","village":"Benque Viejo","lat":16.202391,"lon":-88.99246,"household_size":11,"injured":3,"displaced":true,"structure_type":"mixed timber/concrete","damage_level":0,"needs":["roofing","medical","cash"],"notes":"bridge damaged shelter bank ...","reported_by":"vol-193","reported_at":"2024-11-27T11:35:23Z"}`,
		string(benchRecord()),
		`{"kit":"Evaluación","notes":"niño herido, añadir a la lista; señora mayor sin medicación","district":"Toledo"}`,
		`{"a":"\u00e9\u00f1 \ud83d\ude00 \"quoted\" back\\slash \/ \b\f\n\r\t","b":"\u0000"}`,
		`{"lone":"\ud800"}`,
		`{"lone":"\udc00\ud800"}`,
		`{"pair":"\uD834\uDD1E"}`,
		`{"district":"Cayo","district":"Toledo"}`,
		`{"a":1,"\u0061":2}`,
		"{\"bad\":\"\xff\xfe\"}",
		"{\"overlong\":\"\xc0\xaf\"}",
		"{\"surrogate\":\"\xed\xa0\x80\"}",
		"\"\x7f\"",
		strings.Repeat("[", 17) + strings.Repeat("]", 17),
		strings.Repeat("[", 16) + strings.Repeat("]", 16),
		strings.Repeat(`{"a":`, 20) + "0" + strings.Repeat("}", 20),
		`[123456789012345678901234567890123456789012345678901234567890, -0.0000000000000000000001e-999999999, 1E+400, 0e0, -0]`,
		`[1e999999999999999999]`,
		`[01]`, `[-01]`, `+1`, `.5`, `1.`, `1.e3`, `-`, `1e`, `1e+`, `NaN`, `Infinity`, `-Infinity`, `0x1F`,
		`[1,]`, `{"a":1,}`, `[,]`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a:1}`, `{'a':1}`, `['a']`,
		`"\x41"`, `"\u12"`, `"\u12G4"`, `"\U0041"`, `"\'"`,
		"\"a\tb\"", "\"\x00\"", "\"\x1f\"",
		``, ` `, "\t\n\r ", `null`, `true`, `false`, `nul`, `tru`, `fals`, `nullx`, `truefalse`,
		`1 2`, `{} {}`, `[]]`, `{}}`, `"abc`, `"abc\`, `[`, `{`, `[1`, `{"a":1`,
		"\xef\xbb\xbf{}", "{}\x00", "{}\xff",
		`{"a":[],"b":{},"c":[{}],"d":[[[]]],"e":""}`,
		` { "spaced" : [ 1 , 2 ] , "x" : { } } `,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data, Limits{})
		stdValid := json.Valid(data)
		if err == nil {
			if !stdValid {
				t.Fatalf("jsonscan accepted, encoding/json rejected")
			}
			want, stdErr := stdDecode(data)
			if stdErr != nil {
				t.Fatalf("encoding/json.Valid accepted, Decode failed: %v", stdErr)
			}
			if got := toAny(v); !reflect.DeepEqual(got, want) {
				t.Fatalf("values differ\njsonscan:      %#v\nencoding/json: %#v", got, want)
			}
		} else {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.Offset < 0 || e.Offset > len(data) {
				t.Fatalf("error offset %d outside input of %d bytes: %v", e.Offset, len(data), err)
			}
			if stdValid {
				checkPermittedRejection(t, data, e)
			}
		}

		// Tighter limits may only turn acceptance into a limit error; they
		// must not change the value or any other error.
		small := Limits{MaxDepth: 3, MaxMembers: 4}
		v2, err2 := Parse(data, small)
		switch {
		case err2 == nil:
			if err != nil || !reflect.DeepEqual(v, v2) {
				t.Fatalf("small limits: %#v; default limits: %#v, %v", v2, v, err)
			}
		case isLimitErr(err2):
			d, m, _ := shape(data)
			if err == nil && d <= small.MaxDepth && m <= small.MaxMembers {
				t.Fatalf("small limits: %v, but depth %d members %d", err2, d, m)
			}
		case err == nil || err.Error() != err2.Error():
			t.Fatalf("small limits: %v; default limits: %v", err2, err)
		}

		if ms, oerr := ParseObject(data, Limits{}); (oerr == nil) != (err == nil && v.Kind == Object) ||
			oerr == nil && !reflect.DeepEqual(ms, v.Members) {
			t.Fatalf("ParseObject disagrees with Parse: %v / %v, kind %v", oerr, err, v.Kind)
		}
	})
}

// checkPermittedRejection fails unless e, for an input encoding/json accepts,
// is one of the documented extra strictnesses, and that reason really holds.
func checkPermittedRejection(t *testing.T, data []byte, e *Error) {
	t.Helper()
	switch {
	case strings.HasPrefix(e.Msg, "invalid UTF-8"):
		if utf8.Valid(data) {
			t.Fatalf("%v, but the input is valid UTF-8", e)
		}
	case strings.HasPrefix(e.Msg, "lone UTF-16 surrogate"):
		if !bytes.HasPrefix(data[e.Offset:], []byte(`\u`)) {
			t.Fatalf("%v, but there is no \\u escape there", e)
		}
	case strings.HasPrefix(e.Msg, "duplicate key"):
		if _, _, dup := shape(data); !dup {
			t.Fatalf("%v, but encoding/json sees no duplicate key", e)
		}
	case isLimitErr(e):
		d, m, _ := shape(data)
		if len(data) <= defaultMaxBytes && d <= defaultMaxDepth && m <= defaultMaxMembers {
			t.Fatalf("%v, but the input is within the default limits (depth %d, members %d)", e, d, m)
		}
	default:
		t.Fatalf("jsonscan rejected what encoding/json accepts: %v", e)
	}
}

func isLimitErr(err error) bool {
	var e *Error
	return errors.As(err, &e) && (strings.Contains(e.Msg, "MaxBytes") ||
		strings.Contains(e.Msg, "MaxDepth") || strings.Contains(e.Msg, "MaxMembers"))
}

// shape walks valid JSON with encoding/json's tokenizer and reports its
// nesting depth, the largest member or element count of any container, and
// whether some object repeats a key.
func shape(data []byte) (depth, members int, dup bool) {
	type open struct {
		n     int
		keys  map[string]bool // nil for arrays
		isKey bool            // object: next string token is a key
	}
	var stack []*open
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return depth, members, dup
		}
		var top *open
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == ']' || d == '}') {
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil {
			if top.keys != nil && top.isKey {
				k := tok.(string)
				if top.keys[k] {
					dup = true
				}
				top.keys[k] = true
				top.isKey = false
				continue
			}
			top.n++
			members = max(members, top.n)
			if top.keys != nil {
				top.isKey = true
			}
		}
		if d, ok := tok.(json.Delim); ok {
			o := &open{}
			if d == '{' {
				o.keys, o.isKey = map[string]bool{}, true
			}
			stack = append(stack, o)
			depth = max(depth, len(stack))
		}
	}
}

// stdDecode is encoding/json's reading of data, with numbers kept as text so
// that they compare with Value.Num.
func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the value")
	}
	return v, nil
}

// toAny converts a tree to the types encoding/json decodes into any.
func toAny(v Value) any {
	switch v.Kind {
	case Null:
		return nil
	case Bool:
		return v.Bool
	case Number:
		return json.Number(v.Num)
	case String:
		return v.Str
	case Array:
		a := make([]any, len(v.Elems))
		for i, e := range v.Elems {
			a[i] = toAny(e)
		}
		return a
	case Object:
		m := make(map[string]any, len(v.Members))
		for _, mb := range v.Members {
			m[mb.Key] = toAny(mb.Value)
		}
		return m
	}
	panic("invalid kind " + v.Kind.String())
}
