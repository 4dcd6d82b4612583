package photos

import "encoding/binary"

// Orientation reads the EXIF orientation tag (0x0112) of a JPEG: 1 to 8,
// or 1 when the file has none or it cannot be read. It reads only the
// APP1 segments before the image data, each at most 64 KiB by the JPEG
// format, and looks at IFD0's entries only, so that a hostile file costs
// no more than that: no offset is followed outside its segment, and no
// loop runs longer than the segment's bytes allow.
func Orientation(jpeg []byte) int {
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
		return 1
	}
	p := 2
	for p+4 <= len(jpeg) {
		if jpeg[p] != 0xFF {
			return 1
		}
		marker := jpeg[p+1]
		switch {
		case marker == 0xFF: // fill byte
			p++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			p += 2
			continue
		case marker == 0xDA || marker == 0xD9: // image data or end: no EXIF after
			return 1
		}
		n := int(binary.BigEndian.Uint16(jpeg[p+2:]))
		if n < 2 || p+2+n > len(jpeg) {
			return 1
		}
		seg := jpeg[p+4 : p+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o, ok := tiffOrientation(seg[6:]); ok {
				return o
			}
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation finds the orientation in a TIFF header's first IFD.
func tiffOrientation(t []byte) (int, bool) {
	if len(t) < 8 {
		return 0, false
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0, false
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0, false
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0, false
	}
	count := int64(bo.Uint16(t[ifd:]))
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(t)) {
			return 0, false
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		// SHORT, count 1: the value sits in the entry's first two bytes.
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) != 1 {
			return 0, false
		}
		o := int(bo.Uint16(t[e+8:]))
		if o < 1 || o > 8 {
			return 0, false
		}
		return o, true
	}
	return 0, false
}
