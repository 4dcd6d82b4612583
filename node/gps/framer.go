package gps

// A framer cuts a byte stream into lines of at most max bytes, holding no
// more than that whatever comes: a line longer is dropped as it arrives
// and only its length is kept.
type framer struct {
	max   int
	start byte // a byte that always begins a line (NMEA's "$"), or 0
	line  []byte
	long  int // the length of the current line once it is over max
}

// feed passes each complete line of p to emit, without its LF or CR LF,
// or, for a line over max, nil and its length. A start byte in the middle
// of a line ends the line before it: a receiver that interleaves binary
// messages with its sentences sends no LF between them.
func (f *framer) feed(p []byte, emit func(line []byte, long int)) {
	for _, c := range p {
		switch {
		case c == '\n':
			f.end(emit)
		case c == f.start && f.start != 0:
			f.end(emit)
			f.add(c)
		default:
			f.add(c)
		}
	}
}

// flush passes on the last line of an input that ends without an LF.
func (f *framer) flush(emit func(line []byte, long int)) {
	f.end(emit)
}

func (f *framer) add(c byte) {
	if f.long > 0 {
		f.long++
		return
	}
	if len(f.line) == f.max {
		f.long = len(f.line) + 1
		f.line = f.line[:0]
		return
	}
	f.line = append(f.line, c)
}

func (f *framer) end(emit func(line []byte, long int)) {
	line, long := f.line, f.long
	f.line, f.long = f.line[:0], 0
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	switch {
	case long > 0:
		emit(nil, long)
	case len(line) > 0 && !blank(line):
		emit(line, 0)
	}
}

// blank reports a line of spaces and tabs only, not worth counting as
// noise (binary noise is: it is what a line at the wrong speed reads).
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
