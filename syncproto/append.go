package syncproto

import "math"

// The Append functions write canonical CBOR (RFC 8949, section 4.2.1) by
// hand, for the few shapes that are written once per record on the hot
// path: a bulk import encodes tens of thousands of changes a second, and
// reflection there would cost more than the database. Tests check that they
// agree byte for byte with the reflection-based encoder.

// CBOR major types.
const (
	majorUint  = 0
	majorNeg   = 1
	majorBytes = 2
	majorText  = 3
	majorArray = 4
	majorMap   = 5
)

// AppendHead writes a CBOR head in its shortest form.
func AppendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendUint writes an unsigned integer.
func AppendUint(b []byte, n uint64) []byte { return AppendHead(b, majorUint, n) }

// AppendInt writes a signed integer.
func AppendInt(b []byte, i int64) []byte {
	if i >= 0 {
		return AppendHead(b, majorUint, uint64(i))
	}
	return AppendHead(b, majorNeg, uint64(-(i + 1)))
}

// AppendText writes a text string.
func AppendText(b []byte, s string) []byte {
	b = AppendHead(b, majorText, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes writes a byte string.
func AppendBytes(b []byte, p []byte) []byte {
	b = AppendHead(b, majorBytes, uint64(len(p)))
	return append(b, p...)
}

// AppendArray writes the head of an array of n items.
func AppendArray(b []byte, n int) []byte { return AppendHead(b, majorArray, uint64(n)) }

// AppendMap writes the head of a map of n pairs.
func AppendMap(b []byte, n int) []byte { return AppendHead(b, majorMap, uint64(n)) }

// AppendDot writes a dot as [origin, lane, seq].
func AppendDot(b []byte, d Dot) []byte {
	b = append(b, majorArray<<5|3)
	b = AppendBytes(b, d.Origin[:])
	b = AppendUint(b, uint64(d.Lane))
	return AppendUint(b, d.Seq)
}

// appendChange writes a change exactly as encMode would: a map with integer
// keys in ascending order, empty optional members left out.
func appendChange(b []byte, c *Change) []byte {
	n := 9
	if c.Author != "" {
		n++
	}
	b = AppendMap(b, n)
	b = AppendBytes(append(b, 1), c.Origin[:])
	b = AppendUint(append(b, 2), uint64(c.Lane))
	b = AppendUint(append(b, 3), c.Seq)
	b = AppendUint(append(b, 4), uint64(c.HLC))
	b = AppendBytes(append(b, 5), c.Record[:])
	b = AppendText(append(b, 6), c.Kit)
	b = AppendText(append(b, 7), c.Type)
	b = AppendUint(append(b, 8), uint64(c.Version))
	if c.Author != "" {
		b = AppendText(append(b, 9), c.Author)
	}
	b = AppendArray(append(b, 10), len(c.Fields))
	for i := range c.Fields {
		f := &c.Fields[i]
		if len(f.Base) > 0 {
			b = AppendMap(b, 3)
		} else {
			b = AppendMap(b, 2)
		}
		b = AppendText(append(b, 1), f.Name)
		b = append(append(b, 2), f.Value...)
		if len(f.Base) > 0 {
			b = AppendArray(append(b, 3), len(f.Base))
			for _, d := range f.Base {
				b = AppendDot(b, d)
			}
		}
	}
	return b
}

// encodedSize bounds the bytes appendChange writes, to allocate once. A
// change takes at most 79 bytes besides its strings and fields (keys, ids,
// integers at their widest, heads); a field at most 8 besides its name and
// value, and 29 a base.
func (c *Change) encodedSize() int {
	n := 80 + len(c.Kit) + len(c.Type) + len(c.Author)
	for i := range c.Fields {
		n += 16 + len(c.Fields[i].Name) + len(c.Fields[i].Value) + 32*len(c.Fields[i].Base)
	}
	return n
}
