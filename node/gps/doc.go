// Package gps reads the laptop's position from a GPS receiver, for the
// forms' "use my position" button: from a receiver speaking NMEA 0183 on
// a serial device (USB receivers appear as /dev/ttyACM* or /dev/ttyUSB*,
// built-in ones of rugged laptops often as /dev/ttyS*), or from gpsd
// where it already owns the receiver.
//
// A button uses it in four steps:
//
//	devices := gps.Find()                         // what to offer
//	r, err := gps.Open(ctx, devices[0].Path, 0)   // or gps.DialGPSD(ctx, "")
//	defer r.Close()
//	fix, err := r.Wait(ctxWithTimeout, 0)         // the first fix, or why none came
//	// fix.Lat, fix.Lon, fix.Quality, fix.Satellites, fix.HDOP, fix.Age()
//
// Open and DialGPSD return a Reader that is already reading in a goroutine
// of its own; it keeps the latest fix until its context ends or Close is
// called. Its methods may be called from any goroutine. When Wait gives
// up, the error says what the Reader saw (nothing at all, only unreadable
// lines, or a receiver that has no fix yet) and Stats gives the same in
// fields, for a screen that words it in the user's language.
//
// NMEA sentences are read strictly: the checksum must be right, a line is
// at most 82 characters as the standard says (a longer one is skipped
// without being held in memory), and every field the fix is made of is
// checked for its form and range. A line that fails is counted and
// skipped, never fatal: a serial line at the wrong speed, a receiver
// interleaving binary messages, or the half sentence read when the device
// is opened are all normal. A receiver sends several sentences for each
// moment it computes a position (an epoch, named by its UTC time of day);
// the Reader combines the GGA (fix quality, satellites, HDOP, altitude)
// and RMC (date, validity) of one epoch into one Fix. A fix is kept only
// if no sentence of its epoch says it is invalid.
//
// A fix's age is measured on the laptop's monotonic clock from when it was
// received, not from the receiver's time, which may be the only correct
// clock in the field but says nothing about how long ago the laptop heard it.
package gps
