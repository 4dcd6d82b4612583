package gps

import (
	"fmt"
	"strings"
	"time"
)

// A Fix is one position reported by the receiver.
type Fix struct {
	// Lat and Lon are in decimal degrees (WGS 84 as receivers report it):
	// south of the equator and west of Greenwich are negative.
	Lat, Lon float64

	// Quality is how the receiver came to the position. A position not
	// measured (Quality.Measured is false: estimated, entered by hand,
	// simulated) should not be recorded as where someone stood.
	Quality Quality

	// Satellites is the number used in the fix, and HDOP the horizontal
	// dilution of precision (about 1 is good, above 5 poor); both are 0
	// when the receiver does not say.
	Satellites int
	HDOP       float64

	// HorizontalError is gpsd's estimate of the position's error in
	// metres (95% confidence), 0 when unknown; an NMEA receiver does not
	// report it in the sentences read here.
	HorizontalError float64

	// Altitude is in metres above mean sea level, when HasAltitude:
	// zero is a real altitude on a coast.
	Altitude    float64
	HasAltitude bool

	// Time is the receiver's UTC time of the fix; zero when the receiver
	// has not sent a date (a receiver sending GGA but never RMC).
	Time time.Time

	// Received is when the laptop received the fix, on its monotonic
	// clock (see Age).
	Received time.Time
}

// Age is how long ago the fix was received, on the laptop's monotonic
// clock: a change of the wall clock (a sync, a time zone) does not change it.
func (f Fix) Age() time.Duration {
	return time.Since(f.Received)
}

// String gives the fix for a log or a command line:
// "17.251234, -88.767890 (GPS, 8 satellites, HDOP 0.9, altitude 75.2 m)".
func (f Fix) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.6f, %.6f (%s", f.Lat, f.Lon, f.Quality)
	if f.Satellites > 0 {
		fmt.Fprintf(&b, ", %d satellites", f.Satellites)
	}
	if f.HDOP > 0 {
		fmt.Fprintf(&b, ", HDOP %.1f", f.HDOP)
	}
	if f.HorizontalError > 0 {
		fmt.Fprintf(&b, ", ±%.0f m", f.HorizontalError)
	}
	if f.HasAltitude {
		fmt.Fprintf(&b, ", altitude %.1f m", f.Altitude)
	}
	b.WriteString(")")
	return b.String()
}

// Quality is how a position was obtained. The numbers are those of the
// GGA sentence's fix quality field, so never renumber them.
type Quality uint8

const (
	QualityNone      Quality = 0 // no fix
	QualityGPS       Quality = 1 // satellites alone
	QualityDGPS      Quality = 2 // corrected by a differential station or SBAS
	QualityPPS       Quality = 3 // precise positioning service (military code)
	QualityRTK       Quality = 4 // real-time kinematic, fixed: centimetres
	QualityRTKFloat  Quality = 5 // real-time kinematic, float: decimetres
	QualityEstimated Quality = 6 // dead reckoning: no satellites, extrapolated
	QualityManual    Quality = 7 // a position typed into the receiver
	QualitySimulated Quality = 8 // the receiver's simulator
)

var qualityNames = [...]string{
	QualityNone:      "no fix",
	QualityGPS:       "GPS",
	QualityDGPS:      "DGPS",
	QualityPPS:       "PPS",
	QualityRTK:       "RTK",
	QualityRTKFloat:  "RTK float",
	QualityEstimated: "estimated",
	QualityManual:    "manual",
	QualitySimulated: "simulated",
}

func (q Quality) String() string {
	if int(q) < len(qualityNames) {
		return qualityNames[q]
	}
	return fmt.Sprintf("quality %d", q)
}

// Measured reports whether the position was measured from satellites, as
// opposed to none, extrapolated, typed in or simulated.
func (q Quality) Measured() bool {
	return q >= QualityGPS && q <= QualityRTKFloat
}
