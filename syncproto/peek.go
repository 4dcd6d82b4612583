package syncproto

import "unicode/utf8"

// PeekChange reads, from a change's canonical bytes, the record it
// changes, its HLC and the value it sets for one field (nil when it sets
// none), passing over the rest without decoding it: what the ledger needs
// of each change that creates a record, for every change a commit covers.
// It checks the bytes as it reads them, as DecodeChange does, but it is
// meant for changes a store already verified and holds.
func PeekChange(data []byte, field string) (rec RecordID, hlc HLC, value []byte, err error) {
	r := &cborReader{b: data}
	n, err := r.container(majorMap, 10)
	if err != nil {
		return rec, 0, nil, err
	}
	var last uint64
	for range n {
		k, err := r.key(last)
		if err != nil {
			return rec, 0, nil, err
		}
		last = k
		switch k {
		case 4:
			var v uint64
			v, err = r.uint()
			hlc = HLC(v)
		case 5:
			err = r.fixed(rec[:])
		case 10:
			value, err = r.fieldValue(field)
		default:
			_, err = r.skip(2)
		}
		if err != nil {
			return rec, 0, nil, err
		}
	}
	if r.off != len(data) {
		return rec, 0, nil, r.fail("bytes after the change")
	}
	return rec, hlc, value, nil
}

// fieldValue passes over a change's fields and returns the value of the
// one named.
func (r *cborReader) fieldValue(name string) ([]byte, error) {
	n, err := r.container(majorArray, MaxFields)
	if err != nil {
		return nil, err
	}
	var found []byte
	for range n {
		m, err := r.container(majorMap, 3)
		if err != nil {
			return nil, err
		}
		var last uint64
		this := false
		for range m {
			k, err := r.key(last)
			if err != nil {
				return nil, err
			}
			last = k
			switch k {
			case 1:
				var s []byte
				if s, err = r.bytesOf(majorText, MaxNameLen); err == nil {
					this = string(s) == name
				}
			case 2:
				var v []byte
				if v, err = r.skip(4); err == nil && this {
					found = v
				}
			case 3:
				_, err = r.skip(4)
			default:
				err = r.fail("unknown field key")
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

// TextValue reads a field value that is one CBOR text string, as a node
// writes it.
func TextValue(raw []byte) (string, bool) {
	r := &cborReader{b: raw}
	s, err := r.bytesOf(majorText, len(raw))
	if err != nil || r.off != len(raw) || !utf8.Valid(s) {
		return "", false
	}
	return string(s), true
}
