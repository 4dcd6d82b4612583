package gps

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// sentence frames body as a sentence with its checksum.
func sentence(body string) string {
	var sum byte
	for i := 0; i < len(body); i++ {
		sum ^= body[i]
	}
	return fmt.Sprintf("$%s*%02X", body, sum)
}

func tod(h, m int, s float64) time.Duration {
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s*float64(time.Second))
}

// The coordinates below are worked by hand from the ddmm.mmmm form:
// degrees + minutes/60, negative in the south and the west.
func TestParseSentence(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Sentence
	}{{
		// The example of every NMEA guide, with its published checksum:
		// 48°07.038' N = 48 + 7.038/60 = 48.1173; 11°31.000' E = 11 + 31/60.
		name: "GGA",
		line: "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n",
		want: GGA{Talker: "GP", TimeOfDay: tod(12, 35, 19), HasTime: true,
			Lat: 48.1173, Lon: 11 + 31.0/60, HasPosition: true,
			Quality: QualityGPS, Satellites: 8, HDOP: 0.9, Altitude: 545.4, HasAltitude: true},
	}, {
		name: "RMC",
		line: "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
		want: RMC{Talker: "GP", TimeOfDay: tod(12, 35, 19), HasTime: true, Valid: true,
			Lat: 48.1173, Lon: 11 + 31.0/60, HasPosition: true,
			Date: time.Date(1994, 3, 23, 0, 0, 0, 0, time.UTC)},
	}, {
		name: "lowercase checksum",
		line: "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6a",
		want: RMC{Talker: "GP", TimeOfDay: tod(12, 35, 19), HasTime: true, Valid: true,
			Lat: 48.1173, Lon: 11 + 31.0/60, HasPosition: true,
			Date: time.Date(1994, 3, 23, 0, 0, 0, 0, time.UTC)},
	}, {
		// Valparaíso: 33°02.7' S = -(33 + 2.7/60) = -33.045;
		// 71°37.2' W = -(71 + 37.2/60) = -71.62.
		name: "GGA south west, DGPS",
		line: sentence("GNGGA,031502.00,3302.7000,S,07137.2000,W,2,12,0.70,41.0,M,18.2,M,,0000"),
		want: GGA{Talker: "GN", TimeOfDay: tod(3, 15, 2), HasTime: true,
			Lat: -33.045, Lon: -71.62, HasPosition: true,
			Quality: QualityDGPS, Satellites: 12, HDOP: 0.7, Altitude: 41, HasAltitude: true},
	}, {
		// Christchurch: 43°31.8' S = -43.53; 172°38.4' E = 172.64.
		name: "RMC south east, Galileo talker, mode",
		line: sentence("GARMC,224510.50,A,4331.8000,S,17238.4000,E,0.02,,150326,,,A"),
		want: RMC{Talker: "GA", TimeOfDay: tod(22, 45, 10.5), HasTime: true, Valid: true,
			Lat: -43.53, Lon: 172.64, HasPosition: true,
			Date: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), Mode: 'A'},
	}, {
		// Port-au-Prince: 18°32.64' N = 18.544; 72°20.1' W = -72.335;
		// below the sea's level.
		name: "GGA north west, BeiDou talker, RTK, negative altitude",
		line: sentence("BDGGA,235959.999,1832.6400,N,07220.1000,W,4,21,0.5,-12.5,M,-30.1,M,1.0,0042"),
		want: GGA{Talker: "BD", TimeOfDay: tod(23, 59, 59.999), HasTime: true,
			Lat: 18.544, Lon: -72.335, HasPosition: true,
			Quality: QualityRTK, Satellites: 21, HDOP: 0.5, Altitude: -12.5, HasAltitude: true},
	}, {
		// 51°30' N = 51.5; 0°07.5' W = -0.125.
		name: "RMC of NMEA 4.1, differential",
		line: sentence("GNRMC,101010.000,A,5130.0000,N,00007.5000,W,0.0,0.0,010126,,,D,V"),
		want: RMC{Talker: "GN", TimeOfDay: tod(10, 10, 10), HasTime: true, Valid: true,
			Lat: 51.5, Lon: -0.125, HasPosition: true,
			Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Mode: 'D'},
	}, {
		name: "GLONASS talker, the poles and the antimeridian",
		line: sentence("GLGGA,000000,9000.0000,S,18000.0000,E,1,4,2.5,,,,,,"),
		want: GGA{Talker: "GL", HasTime: true, Lat: -90, Lon: 180, HasPosition: true,
			Quality: QualityGPS, Satellites: 4, HDOP: 2.5},
	}, {
		name: "GGA without a fix",
		line: sentence("GPGGA,000012.00,,,,,0,00,99.99,,,,,,"),
		want: GGA{Talker: "GP", TimeOfDay: tod(0, 0, 12), HasTime: true, HDOP: 99.99},
	}, {
		name: "GGA of a receiver just switched on",
		line: sentence("GPGGA,,,,,,0,,,,,,,,"),
		want: GGA{Talker: "GP"},
	}, {
		name: "RMC without a fix",
		line: sentence("GPRMC,,V,,,,,,,,,,N"),
		want: RMC{Talker: "GP", Mode: 'N'},
	}, {
		name: "RMC not valid, with the last position",
		line: sentence("GPRMC,120000,V,4807.038,N,01131.000,E,,,311225,,"),
		want: RMC{Talker: "GP", TimeOfDay: tod(12, 0, 0), HasTime: true,
			Lat: 48.1173, Lon: 11 + 31.0/60, HasPosition: true,
			Date: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)},
	}, {
		name: "leap second",
		line: sentence("GPRMC,235960,A,4807.038,N,01131.000,E,,,311216,,"),
		want: RMC{Talker: "GP", TimeOfDay: tod(23, 59, 60), HasTime: true, Valid: true,
			Lat: 48.1173, Lon: 11 + 31.0/60, HasPosition: true,
			Date: time.Date(2016, 12, 31, 0, 0, 0, 0, time.UTC)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSentence(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if !sameSentence(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// sameSentence compares coordinates to a nanodegree (a millimetre):
// minutes/60 is not exact in binary.
func sameSentence(a, b Sentence) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	switch a := a.(type) {
	case GGA:
		b, ok := b.(GGA)
		if !ok || !near(a.Lat, b.Lat) || !near(a.Lon, b.Lon) {
			return false
		}
		a.Lat, a.Lon, b.Lat, b.Lon = 0, 0, 0, 0
		return a == b
	case RMC:
		b, ok := b.(RMC)
		if !ok || !near(a.Lat, b.Lat) || !near(a.Lon, b.Lon) {
			return false
		}
		a.Lat, a.Lon, b.Lat, b.Lon = 0, 0, 0, 0
		return a == b
	}
	return false
}

func TestParseSentenceRefuses(t *testing.T) {
	gga := func(fields ...string) string {
		f := strings.Split("123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", ",")
		for i := 0; i+1 < len(fields); i += 2 {
			var n int
			fmt.Sscan(fields[i], &n)
			f[n-1] = fields[i+1]
		}
		return sentence("GPGGA," + strings.Join(f, ","))
	}
	tests := []struct {
		name  string
		line  string
		err   error
		field int
	}{
		{"wrong checksum", "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48", ErrChecksum, 0},
		{"a character changed", "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"[:20] + "9" + "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"[21:], ErrChecksum, 0},
		{"too long", sentence("GPGGA," + strings.Repeat("0", 80)), ErrTooLong, 0},
		{"81 characters", sentence("GPGSV," + strings.Repeat("0", 71)), ErrTooLong, 0},
		{"80 characters, as long as may be", sentence("GPGSV," + strings.Repeat("0", 70)), ErrUnsupported, 0},
		{"no checksum", "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", ErrSyntax, 0},
		{"checksum not hex", "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*G7", ErrSyntax, 0},
		{"no dollar", "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47", ErrSyntax, 0},
		{"empty", "", ErrSyntax, 0},
		{"binary", sentence("GPGGA,12\x0019,4807.038,N"), ErrSyntax, 0},
		{"high bytes", "\xb5\x62\x01\x07\xff\xfe", ErrSyntax, 0},
		{"dollar inside", sentence("GPGGA,1$3519"), ErrSyntax, 0},
		{"lowercase talker", sentence("gpGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"), ErrSyntax, 0},
		{"address too short", sentence("GGA,123519"), ErrSyntax, 0},
		{"other type", sentence("GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00"), ErrUnsupported, 0},
		{"a maker's own", sentence("PUBX,00,081350.00,4717.113210,N"), ErrUnsupported, 0},
		{"fields missing", sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,"), ErrSyntax, 0},
		{"RMC fields missing", sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1"), ErrSyntax, 0},
		{"hour 24", gga("1", "240000"), ErrRange, 1},
		{"time without seconds", gga("1", "1235"), ErrSyntax, 1},
		{"time with an empty fraction", gga("1", "123519."), ErrSyntax, 1},
		{"latitude 60 minutes", gga("2", "4860.000"), ErrRange, 2},
		{"latitude 91 degrees", gga("2", "9100.000"), ErrRange, 2},
		{"latitude just over 90", gga("2", "9000.001"), ErrRange, 2},
		{"latitude in three digits", gga("2", "480.7038"), ErrSyntax, 2},
		{"latitude signed", gga("2", "-4807.038"), ErrSyntax, 2},
		{"latitude with an exponent", gga("2", "4807e1"), ErrSyntax, 2},
		{"latitude without hemisphere", gga("3", ""), ErrSyntax, 3},
		{"latitude east", gga("3", "E"), ErrSyntax, 3},
		{"longitude 181 degrees", gga("4", "18100.000"), ErrRange, 4},
		{"longitude in two digits", gga("4", "1131.000"), ErrSyntax, 4},
		{"longitude north", gga("5", "N"), ErrSyntax, 5},
		{"longitude missing", gga("4", "", "5", ""), ErrSyntax, 4},
		{"quality 9", gga("6", "9"), ErrRange, 6},
		{"quality empty", gga("6", ""), ErrSyntax, 6},
		{"a fix without a position", gga("2", "", "3", "", "4", "", "5", ""), ErrSyntax, 6},
		{"satellites three digits", gga("7", "100"), ErrSyntax, 7},
		{"HDOP with an exponent", gga("8", "1e1"), ErrSyntax, 8},
		{"HDOP negative", gga("8", "-0.9"), ErrSyntax, 8},
		{"HDOP infinite", gga("8", "Inf"), ErrSyntax, 8},
		{"altitude in feet", gga("10", "F"), ErrSyntax, 10},
		{"altitude off the Earth", gga("9", "200000"), ErrRange, 9},
		{"RMC status X", sentence("GPRMC,123519,X,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"), ErrSyntax, 2},
		{"RMC valid without a position", sentence("GPRMC,123519,A,,,,,,,230394,,"), ErrSyntax, 2},
		{"RMC 31 February", sentence("GPRMC,123519,A,4807.038,N,01131.000,E,,,310226,,"), ErrRange, 9},
		{"RMC month 13", sentence("GPRMC,123519,A,4807.038,N,01131.000,E,,,011326,,"), ErrRange, 9},
		{"RMC date of five digits", sentence("GPRMC,123519,A,4807.038,N,01131.000,E,,,23034,,"), ErrSyntax, 9},
		{"RMC mode Z", sentence("GPRMC,123519,A,4807.038,N,01131.000,E,,,230394,,,Z"), ErrSyntax, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSentence(tt.line)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseSentence(%q) = %+v, %v; want %v", tt.line, s, err, tt.err)
			}
			var se *SentenceError
			if !errors.As(err, &se) {
				t.Fatalf("%v is not a *SentenceError", err)
			}
			if se.Field != tt.field {
				t.Errorf("%v: at field %d, want %d", err, se.Field, tt.field)
			}
		})
	}
}

func TestSentenceErrorSaysWhatAndWhere(t *testing.T) {
	for line, want := range map[string]string{
		sentence("GPGGA,123519,4860.000,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"): `NMEA GPGGA field 2 (latitude) "4860.000": out of range: minutes must be below 60`,
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48":       `NMEA GPGGA "*48": checksum does not match: the characters give *47`,
		sentence("GPGGA," + strings.Repeat("0", 80)):                              `NMEA line: too long: 92 characters with its CR LF, at most 82`,
		"hello": `NMEA line "hello": malformed: a sentence starts with "$"`,
	} {
		_, err := ParseSentence(line)
		if err == nil || err.Error() != want {
			t.Errorf("ParseSentence(%q): %v\nwant %s", line, err, want)
		}
	}
}

func TestRMCQuality(t *testing.T) {
	for mode, want := range map[byte]Quality{0: QualityGPS, 'A': QualityGPS, 'D': QualityDGPS, 'P': QualityPPS,
		'R': QualityRTK, 'F': QualityRTKFloat, 'E': QualityEstimated, 'M': QualityManual, 'S': QualitySimulated, 'N': QualityNone} {
		if got := (RMC{Valid: true, Mode: mode}).Quality(); got != want {
			t.Errorf("mode %q: %v, want %v", mode, got, want)
		}
	}
	if got := (RMC{Valid: false, Mode: 'A'}).Quality(); got != QualityNone {
		t.Errorf("status V: %v, want none", got)
	}
}

func TestQuality(t *testing.T) {
	measured := map[Quality]bool{QualityGPS: true, QualityDGPS: true, QualityPPS: true, QualityRTK: true, QualityRTKFloat: true}
	for q := QualityNone; q <= QualitySimulated+1; q++ {
		if q.Measured() != measured[q] {
			t.Errorf("%v.Measured() = %v", q, q.Measured())
		}
		if q.String() == "" {
			t.Errorf("quality %d has no name", q)
		}
	}
	f := Fix{Lat: -33.045, Lon: -71.62, Quality: QualityDGPS, Satellites: 12, HDOP: 0.7, Altitude: 0, HasAltitude: true}
	if got, want := f.String(), "-33.045000, -71.620000 (DGPS, 12 satellites, HDOP 0.7, altitude 0.0 m)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
