package syncproto

import (
	"bytes"
	"testing"
)

// PeekChange reads what DecodeChange reads of a change, the reference:
// on every input DecodeChange takes, the record, the HLC and the value of
// the field asked for are the same; the field is asked for by the names
// the change sets and by one it does not.
func FuzzPeekChange(f *testing.F) {
	c := sampleChange(f)
	good, err := c.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "district")
	f.Add(good, c.Fields[0].Name)
	f.Add(good[:len(good)/2], "district")
	f.Add([]byte{0xa0}, "district")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		ref, err := DecodeChange(data)
		if err != nil {
			return
		}
		rec, hlc, value, err := PeekChange(data, name)
		if err != nil {
			t.Fatalf("PeekChange refused a change DecodeChange reads: %v", err)
		}
		var want []byte
		if fc, ok := ref.Field(name); ok {
			want = fc.Value
		}
		if rec != ref.Record || hlc != ref.HLC || !bytes.Equal(value, want) {
			t.Fatalf("PeekChange read %s %v % x, DecodeChange %s %v % x", rec, hlc, value, ref.Record, ref.HLC, want)
		}
	})
}

// TextValue reads a text value as the CBOR decoder does, and only that.
func FuzzTextValue(f *testing.F) {
	for _, s := range []string{"Cayo", "", "Stann Creek"} {
		b, _ := Marshal(s)
		f.Add(b)
	}
	f.Add([]byte{0x7f, 0x61, 'a', 0xff}) // indefinite
	f.Add([]byte{0x62, 0xc3, 0x28})      // not UTF-8
	f.Add([]byte{0x01})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := TextValue(raw)
		var want string
		err := Unmarshal(raw, &want)
		if ok && (err != nil || got != want) {
			t.Fatalf("TextValue read %q from % x; the decoder %q, %v", got, raw, want, err)
		}
	})
}
