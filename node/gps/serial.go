package gps

// DefaultBaud is the speed NMEA 0183 specifies, and Open's unless told:
// many USB receivers send at 9600 instead, and say so in their manual.
const DefaultBaud = 4800

// A Device is a serial device that may be a GPS receiver.
type Device struct {
	// Path is what to give Open: a /dev/serial/by-id link where there is
	// one, since it names the same receiver after it is plugged in again,
	// where /dev/ttyUSB0 may have become /dev/ttyUSB1.
	Path string
	// Name is what to show a person: the maker's and model's names when
	// the device gives them, with the kernel's name ("ttyACM0").
	Name string
}

// serialHint is what to check when a serial device sends only unreadable lines.
const serialHint = "the speed may be wrong: receivers send at 4800 or 9600 baud, try the other"
