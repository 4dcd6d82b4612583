package gps

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// FuzzParseSentence: any line either parses into values within their
// ranges or is refused with a *SentenceError; nothing panics.
func FuzzParseSentence(f *testing.F) {
	f.Add("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47")
	f.Add("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A")
	f.Add(sentence("GNRMC,101010.000,A,5130.0000,N,00007.5000,W,0.0,0.0,010126,,,D,V"))
	f.Add(sentence("GPGGA,,,,,,0,,,,,,,,"))
	f.Add(sentence("GPRMC,,V,,,,,,,,,,N"))
	f.Add(sentence("GLGGA,000000,9000.0000,S,18000.0000,E,1,4,2.5,,,,,,"))
	f.Add(sentence("BDGGA,235960.999999999,1832.6400,N,07220.1000,W,4,21,0.5,-12.5,M,-30.1,M,1.0,0042"))
	f.Add(sentence("GPRMC,235959,A,8959.9999,N,17959.9999,W,,,290224,,,S"))
	f.Add(sentence("GPGSV,3,1,11"))
	f.Add("\xb5\x62\x01\x07$GPGGA*")
	f.Add("")
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseSentence(line)
		if err != nil {
			var se *SentenceError
			if !errors.As(err, &se) || err.Error() == "" {
				t.Fatalf("error %v is not a *SentenceError", err)
			}
			if s != nil {
				t.Fatalf("a sentence and an error: %+v, %v", s, err)
			}
			return
		}
		var lat, lon float64
		var tod time.Duration
		switch s := s.(type) {
		case GGA:
			lat, lon, tod = s.Lat, s.Lon, s.TimeOfDay
			if s.Quality > QualitySimulated || (s.Quality != QualityNone && !s.HasPosition) || s.HDOP < 0 || math.IsNaN(s.Altitude) {
				t.Fatalf("%q: %+v", line, s)
			}
		case RMC:
			lat, lon, tod = s.Lat, s.Lon, s.TimeOfDay
			if s.Valid && !s.HasPosition || (!s.Date.IsZero() && (s.Date.Year() < 1980 || s.Date.Year() > 2079)) {
				t.Fatalf("%q: %+v", line, s)
			}
		default:
			t.Fatalf("%q: a %T", line, s)
		}
		if !(math.Abs(lat) <= 90) || !(math.Abs(lon) <= 180) || tod < 0 || tod >= 24*time.Hour+time.Second {
			t.Fatalf("%q: lat %v lon %v time %v", line, lat, lon, tod)
		}
	})
}

// FuzzReader: whatever a serial line brings, the Reader counts it, keeps
// only fixes within range, and holds no line longer than a sentence.
func FuzzReader(f *testing.F) {
	f.Add([]byte(stream(ubloxEpoch...)))
	f.Add([]byte("\x00\xff$GPGGA\r\n\r\n" + strings.Repeat("$", 100) + ubloxEpoch[2]))
	f.Add([]byte(strings.Repeat("A", 300) + "\n" + ubloxEpoch[0]))
	f.Fuzz(func(t *testing.T, input []byte) {
		r := NewReader(strings.NewReader(string(input)))
		if err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if cap(r.frame.line) > MaxSentence {
			t.Fatalf("held a line of %d bytes", cap(r.frame.line))
		}
		st := r.Stats()
		if st.Sentences+st.Skipped > len(input) {
			t.Fatalf("%d lines in %d bytes", st.Sentences+st.Skipped, len(input))
		}
		if fix, ok := r.Latest(); ok && (!(math.Abs(fix.Lat) <= 90) || !(math.Abs(fix.Lon) <= 180) || fix.Quality == QualityNone) {
			t.Fatalf("fix %+v", fix)
		}
	})
}

// FuzzGPSDLine: any line from gpsd is a report read or a line skipped.
func FuzzGPSDLine(f *testing.F) {
	f.Add(`{"class":"TPV","status":2,"mode":3,"time":"2026-03-15T03:15:02.000Z","lat":-33.045,"lon":-71.62,"altMSL":41.0,"epx":3.0,"epy":4.0}`)
	f.Add(`{"class":"SKY","hdop":0.7,"satellites":[{"PRN":5,"used":true}]}`)
	f.Add(`{"class":"SKY","uSat":-1}`)
	f.Add(`{"class":"TPV","mode":2,"lat":1e400}`)
	f.Add(`{"class":"ERROR","message":"unrecognized request"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, line string) {
		r := newReader(strings.NewReader(line), "gpsd", MaxGPSDLine, 0, (*Reader).gpsdLine)
		if err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := r.Stats()
		if strings.TrimSpace(line) != "" && st.Sentences+st.Skipped == 0 {
			t.Fatalf("%q neither read nor skipped", line)
		}
		if fix, ok := r.Latest(); ok && (!(math.Abs(fix.Lat) <= 90) || !(math.Abs(fix.Lon) <= 180) || fix.HorizontalError < 0 || fix.HDOP < 0) {
			t.Fatalf("%q: fix %+v", line, fix)
		}
	})
}
