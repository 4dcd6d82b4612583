package personal

import (
	"testing"
)

// The cost per value of sealing and opening a personal field: a name, as
// the workload's reports carry, sealed for one district's key and for
// two (a record of another district than its author's).
func BenchmarkSeal(b *testing.B) {
	value := cborText("Maria Chun Pop")
	ad := AD{Record: [16]byte{1}, Field: "full_name"}
	for _, keys := range [][]DataKey{{testKey("Cayo", 1, 1)}, {testKey("Cayo", 1, 1), testKey("Toledo", 1, 2)}} {
		name := "1key"
		if len(keys) == 2 {
			name = "2keys"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Seal(value, ad, keys...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	k := testKey("Cayo", 1, 1)
	ad := AD{Record: [16]byte{1}, Field: "full_name"}
	for name, keys := range map[string][]DataKey{"1key": {k}, "2keys": {testKey("Toledo", 1, 2), k}} {
		sealed, err := Seal(cborText("Maria Chun Pop"), ad, keys...)
		if err != nil {
			b.Fatal(err)
		}
		lookup := held(k)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Open(sealed, ad, lookup); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
