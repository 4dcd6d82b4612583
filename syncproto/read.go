package syncproto

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// The hand-written decoders here read the two shapes every received change
// passes through (a batch's runs and the change itself) without reflection
// and without copying: the slices they return point into the input. They
// accept only the canonical encoding this package writes (shortest heads,
// integer keys in ascending order, no indefinite lengths, no tags), which is
// all an honest node ever sends; anything else is refused. Fuzz tests check
// them against the reflection-based decoder.

// cborReader walks canonical CBOR.
type cborReader struct {
	b      []byte
	off    int
	intern Interner
}

// Interner shares the strings that repeat from change to change (kit, type,
// author and field names), so that decoding a batch of a thousand changes
// does not allocate the same dozen names a thousand times. The zero value
// is ready; it is not safe for concurrent use.
type Interner struct{ m map[string]string }

func (in *Interner) get(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) >= 4096 { // names, not values: a batch has few
		return string(b)
	}
	s := string(b)
	in.m[s] = s
	return s
}

func (r *cborReader) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, r.off)
}

// head reads an item head: major type and argument, refusing non-shortest
// forms and indefinite lengths.
func (r *cborReader) head() (major byte, arg uint64, err error) {
	if r.off >= len(r.b) {
		return 0, 0, r.fail("unexpected end")
	}
	ib := r.b[r.off]
	major, info := ib>>5, ib&0x1f
	r.off++
	switch {
	case info < 24:
		return major, uint64(info), nil
	case info == 24:
		if r.off+1 > len(r.b) {
			return 0, 0, r.fail("unexpected end")
		}
		arg = uint64(r.b[r.off])
		r.off++
		if arg < 24 && major != 7 {
			return 0, 0, r.fail("non-shortest integer")
		}
		return major, arg, nil
	case info == 25:
		if r.off+2 > len(r.b) {
			return 0, 0, r.fail("unexpected end")
		}
		arg = uint64(binary.BigEndian.Uint16(r.b[r.off:]))
		r.off += 2
		if arg <= 0xff && major != 7 {
			return 0, 0, r.fail("non-shortest integer")
		}
		return major, arg, nil
	case info == 26:
		if r.off+4 > len(r.b) {
			return 0, 0, r.fail("unexpected end")
		}
		arg = uint64(binary.BigEndian.Uint32(r.b[r.off:]))
		r.off += 4
		if arg <= 0xffff && major != 7 {
			return 0, 0, r.fail("non-shortest integer")
		}
		return major, arg, nil
	case info == 27:
		if r.off+8 > len(r.b) {
			return 0, 0, r.fail("unexpected end")
		}
		arg = binary.BigEndian.Uint64(r.b[r.off:])
		r.off += 8
		if arg <= 0xffffffff && major != 7 {
			return 0, 0, r.fail("non-shortest integer")
		}
		return major, arg, nil
	}
	return 0, 0, r.fail("indefinite length or reserved value")
}

func (r *cborReader) uint() (uint64, error) {
	m, v, err := r.head()
	if err == nil && m != majorUint {
		err = r.fail("expected an unsigned integer")
	}
	return v, err
}

// bytesOf reads a string of the given major type and returns it without
// copying.
func (r *cborReader) bytesOf(major byte, max int) ([]byte, error) {
	m, n, err := r.head()
	if err != nil {
		return nil, err
	}
	if m != major {
		return nil, r.fail("unexpected type")
	}
	if n > uint64(max) || n > uint64(len(r.b)-r.off) {
		return nil, r.fail("string too long")
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

func (r *cborReader) text(max int) (string, error) {
	s, err := r.bytesOf(majorText, max)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(s) {
		return "", r.fail("invalid UTF-8")
	}
	return r.intern.get(s), nil
}

func (r *cborReader) fixed(dst []byte) error {
	s, err := r.bytesOf(majorBytes, len(dst))
	if err != nil {
		return err
	}
	if len(s) != len(dst) {
		return r.fail(fmt.Sprintf("a %d-byte id", len(s)))
	}
	copy(dst, s)
	return nil
}

func (r *cborReader) container(major byte, max int) (int, error) {
	m, n, err := r.head()
	if err != nil {
		return 0, err
	}
	if m != major {
		return 0, r.fail("unexpected type")
	}
	if n > uint64(max) {
		return 0, r.fail("too many items")
	}
	return int(n), nil
}

// key reads a map key, which must be the next in ascending order.
func (r *cborReader) key(last uint64) (uint64, error) {
	k, err := r.uint()
	if err == nil && k <= last {
		err = r.fail("map keys out of order")
	}
	return k, err
}

// skip passes over one well-formed data item within the bounds Lifeline
// sets, and returns it. depth is the level an array or map found here
// would be at, counted as the reflection-based decoder counts: containers
// only, the change's own map being level 1. Counted otherwise, the fast
// decoder would take changes the reference refuses.
func (r *cborReader) skip(depth int) ([]byte, error) {
	start := r.off
	m, n, err := r.head()
	if err != nil {
		return nil, err
	}
	switch m {
	case majorUint, majorNeg:
	case majorBytes, majorText:
		if n > uint64(len(r.b)-r.off) {
			return nil, r.fail("string too long")
		}
		if m == majorText && !utf8.Valid(r.b[r.off:r.off+int(n)]) {
			return nil, r.fail("invalid UTF-8")
		}
		r.off += int(n)
	case majorArray, majorMap:
		if depth > maxNesting {
			return nil, r.fail("nested too deep")
		}
		if n > maxItems {
			return nil, r.fail("too many items")
		}
		items := int(n)
		if m == majorMap {
			items *= 2
		}
		for range items {
			if _, err := r.skip(depth + 1); err != nil {
				return nil, err
			}
		}
	case 6:
		return nil, r.fail("tags are not allowed")
	case 7:
		// false, true, null and floats; nothing a field holds is another
		// simple value.
		switch r.b[start] & 0x1f {
		case 20, 21, 22, 25, 26, 27:
		default:
			return nil, r.fail("a simple value other than false, true or null")
		}
	}
	return r.b[start:r.off], nil
}

func (r *cborReader) dot() (Dot, error) {
	var d Dot
	if n, err := r.container(majorArray, 3); err != nil || n != 3 {
		return d, r.fail("a dot is [origin, lane, seq]")
	}
	if err := r.fixed(d.Origin[:]); err != nil {
		return d, err
	}
	lane, err := r.uint()
	if err != nil || lane > 255 {
		return d, r.fail("bad lane")
	}
	d.Lane = uint8(lane)
	d.Seq, err = r.uint()
	return d, err
}

// decodeChangeFast decodes a change in canonical form, its field values
// pointing into data.
func decodeChangeFast(data []byte, in *Interner) (Change, error) {
	var c Change
	r := &cborReader{b: data}
	if in != nil {
		r.intern = *in
		defer func() { *in = r.intern }()
	}
	n, err := r.container(majorMap, 10)
	if err != nil {
		return c, err
	}
	var last uint64
	for range n {
		k, err := r.key(last)
		if err != nil {
			return c, err
		}
		last = k
		switch k {
		case 1:
			err = r.fixed(c.Origin[:])
		case 2:
			var v uint64
			if v, err = r.uint(); err == nil && v > 255 {
				err = r.fail("bad lane")
			}
			c.Lane = uint8(v)
		case 3:
			c.Seq, err = r.uint()
		case 4:
			var v uint64
			v, err = r.uint()
			c.HLC = HLC(v)
		case 5:
			err = r.fixed(c.Record[:])
		case 6:
			c.Kit, err = r.text(MaxNameLen)
		case 7:
			c.Type, err = r.text(MaxNameLen)
		case 8:
			var v uint64
			if v, err = r.uint(); err == nil && v > 1<<32-1 {
				err = r.fail("bad schema version")
			}
			c.Version = uint32(v)
		case 9:
			c.Author, err = r.text(MaxAuthorLen)
		case 10:
			c.Fields, err = r.fields()
		default:
			err = r.fail(fmt.Sprintf("unknown key %d", k))
		}
		if err != nil {
			return c, err
		}
	}
	if r.off != len(data) {
		return c, r.fail("bytes after the change")
	}
	return c, nil
}

func (r *cborReader) fields() ([]FieldChange, error) {
	n, err := r.container(majorArray, MaxFields)
	if err != nil {
		return nil, err
	}
	out := make([]FieldChange, n)
	for i := range out {
		f := &out[i]
		m, err := r.container(majorMap, 3)
		if err != nil {
			return nil, err
		}
		var last uint64
		for range m {
			k, err := r.key(last)
			if err != nil {
				return nil, err
			}
			last = k
			switch k {
			case 1:
				f.Name, err = r.text(MaxNameLen)
			case 2:
				f.Value, err = r.skip(4) // in the change, its fields, the field
			case 3:
				var nb int
				if nb, err = r.container(majorArray, MaxBases); err == nil {
					f.Base = make([]Dot, nb)
					for j := range f.Base {
						if f.Base[j], err = r.dot(); err != nil {
							break
						}
					}
				}
			default:
				err = r.fail(fmt.Sprintf("unknown field key %d", k))
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// decodeRunsFast decodes a batch's runs in canonical form; bodies and
// signatures point into data. The changes of all runs are counted as each
// run declares them, before they are laid out: every run may declare
// MaxBatchChanges, and an empty change is one byte.
func decodeRunsFast(data []byte) ([]Run, error) {
	r := &cborReader{b: data}
	n, err := r.container(majorArray, MaxBatchChanges)
	if err != nil {
		return nil, err
	}
	runs := make([]Run, n)
	changes := 0
	for i := range runs {
		run := &runs[i]
		m, err := r.container(majorMap, 4)
		if err != nil {
			return nil, err
		}
		var last uint64
		for range m {
			k, err := r.key(last)
			if err != nil {
				return nil, err
			}
			last = k
			switch k {
			case 1:
				if c, err2 := r.container(majorArray, 2); err2 != nil || c != 2 {
					return nil, r.fail("a stream is [origin, lane]")
				}
				if err = r.fixed(run.Stream.Origin[:]); err == nil {
					var lane uint64
					if lane, err = r.uint(); err == nil && lane > 255 {
						err = r.fail("bad lane")
					}
					run.Stream.Lane = uint8(lane)
				}
			case 2:
				run.First, err = r.uint()
			case 3:
				var nb int
				if nb, err = r.container(majorArray, MaxBatchChanges); err == nil && changes+nb > MaxBatchChanges {
					err = fmt.Errorf("%w: run %d brings the batch to %d changes at byte %d, the limit is %d", ErrTooLarge, i+1, changes+nb, r.off, MaxBatchChanges)
				} else if err == nil {
					changes += nb
					run.Bodies = make([][]byte, nb)
					for j := range run.Bodies {
						if run.Bodies[j], err = r.bytesOf(majorBytes, MaxChangeBytes); err != nil {
							break
						}
					}
				}
			case 4:
				run.Sig, err = r.bytesOf(majorBytes, 64)
			default:
				err = r.fail(fmt.Sprintf("unknown run key %d", k))
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if r.off != len(data) {
		return nil, r.fail("bytes after the runs")
	}
	return runs, nil
}
