package schemas

import (
	"slices"
	"testing"

	"lifeline/syncproto"
)

// cborTexts spares the CBOR decoder the common form of a list of choices:
// whatever it reads, the decoder reads the same way, and whatever it
// leaves, the decoder judges. Seeds: the forms a node writes, and forms it
// must leave to the decoder (indefinite lengths, other types, bytes
// invalid as UTF-8, short or long input).
func FuzzCborTextsAgreesWithTheDecoder(f *testing.F) {
	written, _ := syncproto.Marshal([]string{"roofing", "medical", "cash"})
	empty, _ := syncproto.Marshal([]string{})
	for _, seed := range [][]byte{
		written, empty,
		{0x9f, 0x61, 'a', 0xff},             // indefinite array
		{0x81, 0x7f, 0x61, 'a', 0xff},       // indefinite text
		{0x82, 0x61, 'a', 0x01},             // a number among texts
		{0x81, 0x62, 0xc3, 0x28},            // not UTF-8
		{0x82, 0x61, 'a'},                   // cut short
		append(slices.Clone(written), 0x00), // bytes after
		{0x81, 0x78, 0x01, 'a'},             // a longer head than needed
		{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := cborTexts(raw)
		if !ok {
			return
		}
		var want []string
		if err := syncproto.Unmarshal(raw, &want); err != nil {
			t.Fatalf("cborTexts read %q from % x, which the decoder refuses: %v", got, raw, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("cborTexts read %q from % x, the decoder %q", got, raw, want)
		}
	})
}

// A list of choices a peer wrote is judged by the kit as a node writes it;
// in a form no node writes (an indefinite-length array), the decoder
// refuses it, whatever it holds, as it always has.
func TestMultiIsJudgedAlikeWhateverItsForm(t *testing.T) {
	two := 2.0
	f := &Field{Name: "needs", Type: Multi, Max: &two, Choices: []ChoiceItem{{Value: "water"}, {Value: "food"}, {Value: "cash"}}}
	indefinite := func(vs ...string) []byte {
		b := []byte{0x9f}
		for _, v := range vs {
			t, _ := syncproto.Marshal(v)
			b = append(b, t...)
		}
		return append(b, 0xff)
	}
	for _, tc := range []struct {
		vs []string
		ok bool
	}{
		{[]string{"water", "cash"}, true},
		{[]string{}, true},
		{[]string{"cash", "water"}, false}, // not the kit's order
		{[]string{"water", "water"}, false},
		{[]string{"water", "soap"}, false},
		{[]string{"water", "food", "cash"}, false}, // more than max
	} {
		written, _ := syncproto.Marshal(tc.vs)
		if err := f.Check(written); (err == nil) != tc.ok {
			t.Errorf("%q as % x: %v, want ok %v", tc.vs, written, err, tc.ok)
		}
		if raw := indefinite(tc.vs...); f.Check(raw) == nil {
			t.Errorf("%q as % x, of indefinite length: taken", tc.vs, raw)
		}
	}
}
