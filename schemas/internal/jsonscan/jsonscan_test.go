package jsonscan

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func str(s string) Value     { return Value{Kind: String, Str: s} }
func num(s string) Value     { return Value{Kind: Number, Num: s} }
func arr(vs ...Value) Value  { return Value{Kind: Array, Elems: vs} }
func obj(ms ...Member) Value { return Value{Kind: Object, Members: ms} }
func mem(k string, v Value) Member {
	return Member{Key: k, Value: v}
}

var (
	null   = Value{Kind: Null}
	true_  = Value{Kind: Bool, Bool: true}
	false_ = Value{Kind: Bool}
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{`null`, null},
		{`true`, true_},
		{`false`, false_},
		{` 	
 true 
	`, true_},
		{`0`, num("0")},
		{`-0`, num("-0")},
		{`-12.5e3`, num("-12.5e3")},
		{`1E+2`, num("1E+2")},
		{`1e-0002`, num("1e-0002")},
		{`0.000`, num("0.000")},
		{`123456789012345678901234567890123456789`, num("123456789012345678901234567890123456789")},
		{`1e999999999`, num("1e999999999")},
		{`""`, str("")},
		{`"plain"`, str("plain")},
		{`"a longer plain string that spans several eight-byte words"`, str("a longer plain string that spans several eight-byte words")},
		{`"Evaluación del niño en Mérida"`, str("Evaluación del niño en Mérida")},
		{`"\"\\\/\b\f\n\r\t"`, str("\"\\/\b\f\n\r\t")},
		{`"tab\there and a longer tail after the escape"`, str("tab\there and a longer tail after the escape")},
		{`"\u00e9\u00E9 ni\u00f1o"`, str("éé niño")},
		{`"\u0000"`, str("\x00")},
		{`"\ud83d\ude00"`, str("😀")},
		{`"x\uD834\uDD1Ey"`, str("x𝄞y")},
		{`"😀 raw"`, str("😀 raw")},
		{`"\u20ac€"`, str("€€")},
		{`"` + "\x7f" + `"`, str("\x7f")},
		{`[]`, arr()},
		{`[ ]`, arr()},
		{`{}`, obj()},
		{` { } `, obj()},
		{`[1,"a",null,true,false,[],{}]`, arr(num("1"), str("a"), null, true_, false_, arr(), obj())},
		{`[[[[]]]]`, arr(arr(arr(arr())))},
		{`{"a":1,"b":[2,{"c":"d"}],"e":{}}`, obj(
			mem("a", num("1")),
			mem("b", arr(num("2"), obj(mem("c", str("d"))))),
			mem("e", obj()),
		)},
		{"{ \"a\" :\t1 ,\n\"b\"\r: [ 2 , 3 ] }", obj(mem("a", num("1")), mem("b", arr(num("2"), num("3"))))},
		// Keys that differ only after decoding escapes are distinct only if
		// their decoded text differs.
		{`{"a":1,"A":2,"\u0062":3}`, obj(mem("a", num("1")), mem("A", num("2")), mem("b", num("3")))},
		{`{"z":1,"y":2,"x":3}`, obj(mem("z", num("1")), mem("y", num("2")), mem("x", num("3")))},
	}
	for _, tt := range tests {
		got, err := Parse([]byte(tt.in), Limits{})
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) =\n%#v\nwant\n%#v", tt.in, got, tt.want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in  string
		off int
		msg string
	}{
		{``, 0, "expected a value, found end of input"},
		{`   `, 3, "expected a value, found end of input"},
		{`nul`, 0, `invalid literal, expected "null"`},
		{`tru`, 0, `invalid literal, expected "true"`},
		{`True`, 0, `expected a value, found 'T'`},
		{`fals`, 0, `invalid literal, expected "false"`},
		{`nullx`, 4, "expected end of input after the top-level value, found 'x'"},
		{`1 2`, 2, "expected end of input after the top-level value, found '2'"},
		{`{} {}`, 3, "expected end of input after the top-level value, found '{'"},
		{`{}]`, 2, "expected end of input after the top-level value, found ']'"},
		{"1\x00", 1, "expected end of input after the top-level value, found control character U+0000"},
		{"1\xff", 1, "expected end of input after the top-level value, found invalid UTF-8 byte 0xff"},
		{"\xef\xbb\xbf{}", 0, "expected a value, found character U+FEFF '\\ufeff'"},
		{"é", 0, "expected a value, found character U+00E9 'é'"},

		// Numbers.
		{`01`, 0, "leading zero in number"},
		{`-01`, 1, "leading zero in number"},
		{`[00]`, 1, "leading zero in number"},
		{`+1`, 0, "expected a value, found '+'"},
		{`.5`, 0, "expected a value, found '.'"},
		{`1.`, 2, "expected a digit after the decimal point, found end of input"},
		{`1.e5`, 2, "expected a digit after the decimal point, found 'e'"},
		{`-`, 1, "expected a digit after '-', found end of input"},
		{`-a`, 1, "expected a digit after '-', found 'a'"},
		{`--1`, 1, "expected a digit after '-', found '-'"},
		{`1e`, 2, "expected a digit in the exponent, found end of input"},
		{`1e+`, 3, "expected a digit in the exponent, found end of input"},
		{`1E-x`, 3, "expected a digit in the exponent, found 'x'"},
		{`1.5.3`, 3, "expected end of input after the top-level value, found '.'"},
		{`NaN`, 0, "expected a value, found 'N'"},
		{`Infinity`, 0, "expected a value, found 'I'"},
		{`-Infinity`, 1, "expected a digit after '-', found 'I'"},
		{`0x10`, 1, "expected end of input after the top-level value, found 'x'"},

		// Strings.
		{`"abc`, 4, "unexpected end of input in string starting at byte 0"},
		{`["abc\"]`, 8, "unexpected end of input in string starting at byte 1"},
		{`"abc\`, 5, "unexpected end of input in string starting at byte 0"},
		{"\"a\tb\"", 2, "control character U+0009 in string must be escaped"},
		{"\"a\nb\"", 2, "control character U+000A in string must be escaped"},
		{"\"\x00\"", 1, "control character U+0000 in string must be escaped"},
		{"\"\\n then \x1f\"", 9, "control character U+001F in string must be escaped"},
		{"\"abcdefghijk\x01\"", 12, "control character U+0001 in string must be escaped"},
		{`"\x41"`, 1, `invalid escape \x in string`},
		{`"\a"`, 1, `invalid escape \a in string`},
		{`"ok \'"`, 4, `invalid escape \' in string`},
		{"\"\\\x01\"", 1, "invalid escape in string: backslash followed by control character U+0001"},
		{"\"\\é\"", 1, "invalid escape in string: backslash followed by character U+00E9 'é'"},
		{`"\u12"`, 1, `invalid \u escape in string, expected four hex digits`},
		{`"\u12`, 5, "unexpected end of input in string starting at byte 0"},
		{`"\u12G4"`, 1, `invalid \u escape in string, expected four hex digits`},
		{`"\U0041"`, 1, `invalid escape \U in string`},
		{`"\ud800"`, 1, `lone UTF-16 surrogate \uD800 in string (high surrogate not followed by a low one)`},
		{`"ab\uDBFFx"`, 3, `lone UTF-16 surrogate \uDBFF in string (high surrogate not followed by a low one)`},
		{`"\ud800\u0041"`, 1, `lone UTF-16 surrogate \uD800 in string (high surrogate not followed by a low one)`},
		{`"\ud800\ud800"`, 1, `lone UTF-16 surrogate \uD800 in string (high surrogate not followed by a low one)`},
		{`"\ud800\n"`, 1, `lone UTF-16 surrogate \uD800 in string (high surrogate not followed by a low one)`},
		{`"\ud800\u12"`, 7, `invalid \u escape in string, expected four hex digits`},
		{`"\udc00"`, 1, `lone UTF-16 surrogate \uDC00 in string (low surrogate without a high one)`},
		{`"\ude00\ud83d"`, 1, `lone UTF-16 surrogate \uDE00 in string (low surrogate without a high one)`},
		{"\"\xff\"", 1, "invalid UTF-8 byte 0xff in string"},
		{"\"abc\xc3\"", 4, "invalid UTF-8 byte 0xc3 in string"},
		{"\"\xc3\xa9\xc3\"", 3, "invalid UTF-8 byte 0xc3 in string"},
		{"\"\xed\xa0\x80\"", 1, "invalid UTF-8 byte 0xed in string"}, // surrogate encoded in UTF-8
		{"\"\xc0\xaf\"", 1, "invalid UTF-8 byte 0xc0 in string"},     // overlong '/'
		{"\"\\n\xfe\"", 3, "invalid UTF-8 byte 0xfe in string"},
		{"{\"k\xff\":1}", 3, "invalid UTF-8 byte 0xff in string"},

		// Arrays.
		{`[`, 1, "expected a value, found end of input"},
		{`[1`, 2, "expected ',' or ']' after array element, found end of input"},
		{`[1,`, 3, "expected a value, found end of input"},
		{`[1,]`, 3, "expected a value, found ']'"},
		{`[,1]`, 1, "expected a value, found ','"},
		{`[1 2]`, 3, "expected ',' or ']' after array element, found '2'"},
		{`[1}`, 2, "expected ',' or ']' after array element, found '}'"},
		{`[1:2]`, 2, "expected ',' or ']' after array element, found ':'"},

		// Objects.
		{`{`, 1, `expected '"' to start an object key or '}', found end of input`},
		{`{1:2}`, 1, `expected '"' to start an object key or '}', found '1'`},
		{`{a:1}`, 1, `expected '"' to start an object key or '}', found 'a'`},
		{`{'a':1}`, 1, `expected '"' to start an object key or '}', found '\''`},
		{`{"a"}`, 4, `expected ':' after object key, found '}'`},
		{`{"a" 1}`, 5, `expected ':' after object key, found '1'`},
		{`{"a":}`, 5, "expected a value, found '}'"},
		{`{"a":1`, 6, "expected ',' or '}' after object member, found end of input"},
		{`{"a":1,}`, 7, `expected '"' to start an object key, found '}'`},
		{`{"a":1]`, 6, "expected ',' or '}' after object member, found ']'"},
		{`{"a":1 "b":2}`, 7, `expected ',' or '}' after object member, found '"'`},
		{`{"a":1,"b":2,"a":3}`, 13, `duplicate key "a"`},
		{`{"district":"Cayo","district":"Toledo"}`, 19, `duplicate key "district"`},
		{`{"a":1,"\u0061":2}`, 7, `duplicate key "a"`},
		{`{"é":1,"\u00e9":2}`, 8, `duplicate key "é"`},
		{`{"a":{"b":1,"b":2}}`, 12, `duplicate key "b"`},
		{`{"":1,"":2}`, 6, `duplicate key ""`},
		{`{"q\"":1,"q\"":2}`, 9, `duplicate key "q\""`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in), Limits{})
		checkErr(t, tt.in, err, tt.off, tt.msg)
	}
}

func checkErr(t *testing.T, in string, err error, off int, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("Parse(%q): error %v (%T), want *Error", in, err, err)
		return
	}
	if e.Offset != off || e.Msg != msg {
		t.Errorf("Parse(%q): error at %d %q\nwant at %d %q", in, e.Offset, e.Msg, off, msg)
	}
}

func TestDuplicateKeysInLargeObject(t *testing.T) {
	// Past dupMapThreshold members, duplicates are found with a map; make
	// sure that path sees keys from before and after the switch.
	for _, dupOf := range []int{0, dupMapThreshold - 1, dupMapThreshold, 3 * dupMapThreshold} {
		var b strings.Builder
		b.WriteString("{")
		for i := range 4 * dupMapThreshold {
			b.WriteString(`"k` + strconv.Itoa(i) + `":0,`)
		}
		off := b.Len()
		b.WriteString(`"k` + strconv.Itoa(dupOf) + `":1}`)
		_, err := Parse([]byte(b.String()), Limits{})
		checkErr(t, "large object", err, off, `duplicate key "k`+strconv.Itoa(dupOf)+`"`)
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range 4 * dupMapThreshold {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":0`)
	}
	b.WriteString("}")
	v, err := Parse([]byte(b.String()), Limits{})
	if err != nil || len(v.Members) != 4*dupMapThreshold {
		t.Fatalf("distinct keys: %d members, %v", len(v.Members), err)
	}
	for i, m := range v.Members {
		if m.Key != "k"+strconv.Itoa(i) {
			t.Fatalf("member %d has key %q", i, m.Key)
		}
	}
}

func TestDuplicateKeyMessageIsShortened(t *testing.T) {
	key := strings.Repeat("é", 100)
	in := `{"` + key + `":1,"` + key + `":2}`
	_, err := Parse([]byte(in), Limits{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v", err)
	}
	want := `duplicate key "` + strings.Repeat("é", 32) + `"...`
	if e.Msg != want || e.Offset != len(key)+6 {
		t.Errorf("got %d %q, want %d %q", e.Offset, e.Msg, len(key)+6, want)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		in  string
		lim Limits
		off int
		msg string // "" means the input must be accepted
	}{
		{`[1,2,3]`, Limits{MaxBytes: 7}, 0, ""},
		{`[1,2,3] `, Limits{MaxBytes: 7}, 7, "input is 8 bytes, more than MaxBytes (7)"},
		{strings.Repeat(" ", 1<<20) + "1", Limits{}, 1 << 20, "input is 1048577 bytes, more than MaxBytes (1048576)"},
		{strings.Repeat(" ", 1<<20-1) + "1", Limits{}, 0, ""},
		{`[[1]]`, Limits{MaxDepth: 2}, 0, ""},
		{`[[[1]]]`, Limits{MaxDepth: 2}, 2, "nesting is deeper than MaxDepth (2)"},
		{`{"a":{"b":{}}}`, Limits{MaxDepth: 2}, 10, "nesting is deeper than MaxDepth (2)"},
		{`{"a":[{}]}`, Limits{MaxDepth: 2}, 6, "nesting is deeper than MaxDepth (2)"},
		{strings.Repeat("[", 16) + strings.Repeat("]", 16), Limits{}, 0, ""},
		{strings.Repeat("[", 17) + strings.Repeat("]", 17), Limits{}, 16, "nesting is deeper than MaxDepth (16)"},
		{`[1,2,3]`, Limits{MaxMembers: 3}, 0, ""},
		{`[1,2,3,4]`, Limits{MaxMembers: 3}, 7, "array has more elements than MaxMembers (3)"},
		{`[1,2,3, ]`, Limits{MaxMembers: 3}, 8, "array has more elements than MaxMembers (3)"},
		{`[[1,2],[3,4],[5]]`, Limits{MaxMembers: 3}, 0, ""},
		{`{"a":1,"b":2}`, Limits{MaxMembers: 2}, 0, ""},
		{`{"a":1,"b":2,"c":3}`, Limits{MaxMembers: 2}, 13, "object has more members than MaxMembers (2)"},
		{"[" + strings.Repeat("0,", 10000) + "0]", Limits{}, 20001, "array has more elements than MaxMembers (10000)"},
		{"[" + strings.Repeat("0,", 9999) + "0]", Limits{}, 0, ""},
		// Negative limits mean the default rather than "nothing allowed".
		{`[[1]]`, Limits{MaxBytes: -1, MaxDepth: -1, MaxMembers: -1}, 0, ""},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in), tt.lim)
		name := tt.in
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		if tt.msg == "" {
			if err != nil {
				t.Errorf("Parse(%q, %+v): %v", name, tt.lim, err)
			}
			continue
		}
		checkErr(t, name, err, tt.off, tt.msg)
	}
}

func TestHostileNesting(t *testing.T) {
	deep := []byte(strings.Repeat("[", 1_000_000))
	_, err := Parse(deep, Limits{})
	checkErr(t, "1e6 '['", err, 16, "nesting is deeper than MaxDepth (16)")

	// Even with the depth limit lifted, the parser keeps open containers on
	// the heap, not the goroutine stack.
	huge := Limits{MaxBytes: 4 << 20, MaxDepth: 4 << 20}
	_, err = Parse(deep, huge)
	checkErr(t, "1e6 '['", err, 1_000_000, "expected a value, found end of input")
	deep = []byte(strings.Repeat(`{"a":`, 200_000) + "1" + strings.Repeat("}", 200_000))
	v, err := Parse(deep, huge)
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for v.Kind == Object {
		v = v.Members[0].Value
		depth++
	}
	if depth != 200_000 || v.Num != "1" {
		t.Errorf("depth %d, innermost %#v", depth, v)
	}
}

func TestParseObject(t *testing.T) {
	ms, err := ParseObject([]byte(` {"a":[1]} `), Limits{})
	if err != nil || !reflect.DeepEqual(ms, []Member{mem("a", arr(num("1")))}) {
		t.Errorf("got %#v, %v", ms, err)
	}
	ms, err = ParseObject([]byte(`{}`), Limits{})
	if err != nil || len(ms) != 0 {
		t.Errorf("empty object: got %#v, %v", ms, err)
	}
	for _, tt := range []struct {
		in   string
		off  int
		what string
	}{
		{` [1]`, 1, "an array"},
		{`"{}"`, 0, "a string"},
		{"\n12", 1, "a number"},
		{`true`, 0, "a boolean"},
		{`null`, 0, "null"},
	} {
		_, err := ParseObject([]byte(tt.in), Limits{})
		checkErr(t, tt.in, err, tt.off, "expected a JSON object, found "+tt.what)
	}
	// Syntax errors win over the kind check.
	_, err = ParseObject([]byte(`[1,`), Limits{})
	checkErr(t, "[1,", err, 3, "expected a value, found end of input")
}

func TestErrorString(t *testing.T) {
	_, err := Parse([]byte(`{"district":"Cayo" "village":"x"}`), Limits{})
	want := `malformed JSON at byte 19: expected ',' or '}' after object member, found '"'`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{Null: "null", Bool: "boolean", Number: "number", String: "string",
		Array: "array", Object: "object", 0: "Kind(0)", 7: "Kind(7)"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), s)
		}
	}
}

// Callers such as bufio.Scanner reuse their buffers, so the tree must not
// alias the input.
func TestResultDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"plain":"abc","esc":"a\nb","n":-1.5,"arr":["x"]}`)
	v, err := Parse(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Parse(append([]byte(nil), in...), Limits{})
	for i := range in {
		in[i] = 'X'
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("tree changed with input: %#v", v)
	}
}

// The pool must not leak state from one parse, successful or not, into the
// next.
func TestParserReuse(t *testing.T) {
	inputs := []string{
		`{"a":[1,2,{"b":"c\n"}],"d":{"e":[]}}`,
		`{"a":[1,2,{"b":"c\n"}],"d":{"e":[`,
		`[[[[[[[[`,
		`{"x":{"y":{"y":1,"y":2}}}`,
		`{"a":[1,2,{"b":"c\n"}],"d":{"e":[]}}`,
	}
	want, err := Parse([]byte(inputs[0]), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for i, in := range inputs {
			got, err := Parse([]byte(in), Limits{})
			if i == 0 || i == len(inputs)-1 {
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("Parse(%q) = %#v, %v", in, got, err)
				}
			} else if err == nil {
				t.Fatalf("Parse(%q) accepted", in)
			}
		}
	}
}

func TestRecordMatchesEncodingJSON(t *testing.T) {
	rec := benchRecord()
	v, err := Parse(rec, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := stdDecode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := toAny(v); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

// benchRecord is a realistic import line: a damage assessment with a long
// free-text note, about 965 bytes.
func benchRecord() []byte {
	notes := "bridge damaged shelter bank eroded; access road to the upper village cut by a landslide " +
		"near the school, vehicles cannot pass, footpath only. Roof sheets lost on the north side, " +
		"rain entering two rooms. Family staying with relatives in Benque Viejo until repairs; " +
		"elderly grandmother needs blood pressure medicine, supply runs out Friday. Water tank " +
		"intact but pipe to the house broken. Children not attending school since storm. " +
		"Neighbours report the same damage on 3 houses. Recommend roofing kit, tarpaulins, " +
		"cash and a health team visit. Volunteer could not reach the farm plots; crops reported lost."
	b := []byte(`{"id":"9677a110-fd65-46a3-8c48-dc056870ed52","kit":"damage-assessment","district":"Cayo",` +
		`"village":"Benque Viejo","lat":16.202391,"lon":-88.99246,"household_size":11,"injured":3,` +
		`"displaced":true,"structure_type":"mixed timber/concrete","damage_level":0,` +
		`"needs":["roofing","medical","cash"],"notes":` + strconv.Quote(notes) + `,` +
		`"reported_by":"vol-193","reported_at":"2024-11-27T11:35:23Z"}`)
	return b
}

func TestBenchRecordSize(t *testing.T) {
	if n := len(benchRecord()); n < 950 || n > 980 {
		t.Errorf("benchmark record is %d bytes, want about 965", n)
	}
}

func BenchmarkParseObject(b *testing.B) {
	rec := benchRecord()
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		ms, err := ParseObject(rec, Limits{})
		if err != nil || len(ms) != 15 {
			b.Fatal(len(ms), err)
		}
	}
}

// BenchmarkParseObjectParallel shows the throughput an import gets from all
// cores; the pool of parsers must not become a point of contention.
func BenchmarkParseObjectParallel(b *testing.B) {
	rec := benchRecord()
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ParseObject(rec, Limits{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEncodingJSON is the baseline jsonscan replaces.
func BenchmarkEncodingJSON(b *testing.B) {
	rec := benchRecord()
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rec, &m); err != nil {
			b.Fatal(err)
		}
	}
}
