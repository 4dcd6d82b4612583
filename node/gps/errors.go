package gps

import (
	"errors"
	"fmt"
)

var (
	// ErrTooLong: a line longer than the 82 characters the NMEA 0183
	// standard allows a sentence (or, from gpsd, than MaxGPSDLine).
	ErrTooLong = errors.New("too long")

	// ErrChecksum: the sentence's *hh checksum does not match its
	// characters; it was damaged on the way.
	ErrChecksum = errors.New("checksum does not match")

	// ErrSyntax: the line is not a well-formed sentence, or a field is
	// not in the form the standard gives it.
	ErrSyntax = errors.New("malformed")

	// ErrRange: a field is well formed but its value cannot be (a latitude
	// of 91 degrees, 61 minutes, the 32nd of a month).
	ErrRange = errors.New("out of range")

	// ErrUnsupported: a well-formed sentence of a type this package does
	// not read (GSV, GSA, VTG, a maker's own). Not a fault of the receiver.
	ErrUnsupported = errors.New("sentence type not read")

	// ErrNoFix: Wait gave up, or the Reader stopped, before the receiver
	// reported a position.
	ErrNoFix = errors.New("no position from the GPS")
)

// A SentenceError says what was wrong with a line and where.
type SentenceError struct {
	Sentence string // its address ("GPGGA"), or "" when the line is not a sentence
	Field    int    // the field at fault, counted from 1 after the address; 0 for the whole line
	Name     string // the field's name ("latitude")
	Text     string // the field as read, or the part of the line at fault
	Err      error  // ErrTooLong, ErrChecksum, ErrSyntax, ErrRange or ErrUnsupported
	Detail   string // what the value should have been, when there is more to say
}

func (e *SentenceError) Error() string {
	where := "NMEA line"
	if e.Sentence != "" {
		where = "NMEA " + e.Sentence
	}
	if e.Field > 0 {
		where = fmt.Sprintf("%s field %d (%s) %q", where, e.Field, e.Name, e.Text)
	} else if e.Text != "" {
		where = fmt.Sprintf("%s %q", where, e.Text)
	}
	if e.Detail != "" {
		return fmt.Sprintf("%s: %v: %s", where, e.Err, e.Detail)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *SentenceError) Unwrap() error { return e.Err }
