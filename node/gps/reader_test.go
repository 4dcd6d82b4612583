package gps

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// A u-blox's second: RMC first, then the others; in the south and west.
var ubloxEpoch = []string{
	sentence("GNRMC,031502.00,A,3302.7000,S,07137.2000,W,0.011,,150326,,,D"),
	sentence("GNVTG,,T,,M,0.011,N,0.020,K,D"),
	sentence("GNGGA,031502.00,3302.7000,S,07137.2000,W,2,12,0.70,41.0,M,18.2,M,,0000"),
	sentence("GNGSA,A,3,05,13,15,18,20,23,24,29,,,,,1.32,0.70,1.12"),
	sentence("GPGSV,3,1,11,05,33,051,38,13,54,304,41,15,61,194,44,18,29,074,35"),
}

// eventually waits for cond, polling, for at most ten seconds.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still not so after ten seconds")
		}
	}
}

func stream(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

// run reads input to its end with a Reader whose clock is now.
func run(t *testing.T, input string, now time.Time) *Reader {
	t.Helper()
	r := NewReader(strings.NewReader(input))
	r.now = func() time.Time { return now }
	if err := r.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

func TestReaderCombinesAnEpoch(t *testing.T) {
	now := time.Now()
	r := run(t, stream(ubloxEpoch...), now)
	fix, ok := r.Latest()
	if !ok {
		t.Fatal("no fix")
	}
	want := Fix{Lat: -33.045, Lon: -71.62, Quality: QualityDGPS, Satellites: 12, HDOP: 0.7,
		Altitude: 41, HasAltitude: true, Time: time.Date(2026, 3, 15, 3, 15, 2, 0, time.UTC), Received: now}
	if !sameFix(fix, want) {
		t.Errorf("fix %+v\nwant %+v", fix, want)
	}
	if st := r.Stats(); st.Sentences != 5 || st.Skipped != 0 || st.NoFix || st.Satellites != 12 {
		t.Errorf("stats %+v", st)
	}
}

func sameFix(a, b Fix) bool {
	if math.Abs(a.Lat-b.Lat) > 1e-9 || math.Abs(a.Lon-b.Lon) > 1e-9 || !a.Time.Equal(b.Time) || !a.Received.Equal(b.Received) {
		return false
	}
	a.Lat, a.Lon, a.Time, a.Received = 0, 0, time.Time{}, time.Time{}
	b.Lat, b.Lon, b.Time, b.Received = 0, 0, time.Time{}, time.Time{}
	return a == b
}

func TestReaderSkipsNoise(t *testing.T) {
	input := "GNGGA,0315" + // the half sentence read when the device is opened
		"\r\n\x00\x00\xff\xfe\x80\r\n" + // a line at the wrong speed
		"\r\n   \r\n" + // blank: not counted
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48\r\n" + // a bit flipped
		"$GPGGA," + strings.Repeat("9", 5000) + "\r\n" + // no end in sight
		"\xb5\x62\x01\x07\x5c\x00\x10\x20" + ubloxEpoch[0] + "\r\n" + // binary glued before a sentence
		sentence("GNGGA,031502.00,3302.7000,S,07137.2000,W,2,12,0.70,41.0,M,18.2,M,,0000") + "\n" +
		sentence("GPRMC,031502.00,A,4807.038,N") // the input ends within a sentence
	r := run(t, input, time.Now())
	fix, ok := r.Latest()
	if !ok || math.Abs(fix.Lat - -33.045) > 1e-9 || fix.Quality != QualityDGPS || fix.Time.IsZero() {
		t.Fatalf("fix %+v, %v", fix, ok)
	}
	st := r.Stats()
	// The half sentence, the wrong speed, the flipped bit, the long line,
	// the binary, the RMC cut short.
	if st.Sentences != 2 || st.Skipped != 6 {
		t.Errorf("stats %+v, want 2 sentences and 6 skipped", st)
	}
	if !errors.Is(st.LastSkip, ErrSyntax) {
		t.Errorf("last skip %v", st.LastSkip)
	}
}

func TestReaderNoFix(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		sats  int
	}{
		{"searching", []string{sentence("GPRMC,,V,,,,,,,,,,N"), sentence("GPGGA,,,,,,0,03,,,,,,,")}, 3},
		{"RMC says no while GGA says yes", []string{
			sentence("GPGGA,120000,4807.038,N,01131.000,E,1,04,9.0,545.4,M,,,,"),
			sentence("GPRMC,120000,V,4807.038,N,01131.000,E,,,010126,,,N"),
		}, 4},
		{"RMC mode N", []string{sentence("GPRMC,120000,A,4807.038,N,01131.000,E,,,010126,,,N")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, stream(tt.lines...), time.Now())
			if fix, ok := r.Latest(); ok {
				t.Errorf("fix %+v", fix)
			}
			if st := r.Stats(); !st.NoFix || st.Satellites != tt.sats {
				t.Errorf("stats %+v", st)
			}
			_, err := r.Wait(context.Background(), 0)
			if !errors.Is(err, ErrNoFix) || !strings.Contains(err.Error(), "no fix yet") {
				t.Errorf("Wait: %v", err)
			}
		})
	}
}

// A fix lost keeps the latest position; Stats says there is none now.
func TestReaderKeepsTheLastFix(t *testing.T) {
	r := run(t, stream(append(ubloxEpoch, sentence("GNRMC,031503.00,V,,,,,,,150326,,,N"))...), time.Now())
	if fix, ok := r.Latest(); !ok || fix.Quality != QualityDGPS {
		t.Errorf("fix %+v, %v", fix, ok)
	}
	if !r.Stats().NoFix {
		t.Error("NoFix not set")
	}

	// A GGA that says yes, then the RMC of its epoch that says no: the
	// fix of the GGA is withdrawn, the one before stays.
	r = run(t, stream(append(ubloxEpoch,
		sentence("GNGGA,031503.00,3302.7000,S,07137.2000,W,1,03,9.0,41.0,M,18.2,M,,"),
		sentence("GNRMC,031503.00,V,3302.7000,S,07137.2000,W,,,150326,,,N"))...), time.Now())
	if fix, ok := r.Latest(); !ok || fix.Quality != QualityDGPS || fix.Time.Second() != 2 {
		t.Errorf("fix %+v, %v; want the one of 03:15:02", fix, ok)
	}
}

// A receiver that sends GGA first gets the date of the RMC of the second
// before, across midnight too.
func TestReaderDatesGGA(t *testing.T) {
	gga := func(tod string) string {
		return sentence("GPGGA," + tod + ",4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
	}
	rmc := func(tod, date string) string {
		return sentence("GPRMC," + tod + ",A,4807.038,N,01131.000,E,,," + date + ",,")
	}
	tests := []struct {
		name  string
		lines []string
		want  time.Time
	}{
		{"GGA only", []string{gga("235959")}, time.Time{}},
		{"GGA then RMC", []string{gga("235958"), rmc("235958", "311225")}, time.Date(2025, 12, 31, 23, 59, 58, 0, time.UTC)},
		{"GGA after the RMC of the second before", []string{gga("235958"), rmc("235958", "311225"), gga("235959")}, time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"past midnight", []string{gga("235959"), rmc("235959", "311225"), gga("000000")}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fix, ok := run(t, stream(tt.lines...), time.Now()).Latest()
			if !ok || !fix.Time.Equal(tt.want) {
				t.Errorf("fix at %v (%v), want %v", fix.Time, ok, tt.want)
			}
		})
	}
	// Not from an RMC of long ago.
	r := NewReader(strings.NewReader(stream(rmc("120000", "010126"), gga("120001"))))
	clock := time.Now()
	r.now = func() time.Time { clock = clock.Add(2 * time.Minute); return clock }
	r.Run(context.Background())
	if fix, _ := r.Latest(); !fix.Time.IsZero() {
		t.Errorf("dated %v from an RMC two minutes before", fix.Time)
	}
}

func TestWait(t *testing.T) {
	t.Run("a fix", func(t *testing.T) {
		pr, pw := io.Pipe()
		r := NewReader(pr)
		go r.Run(context.Background())
		defer r.Close()
		go io.WriteString(pw, stream(ubloxEpoch...))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		fix, err := r.Wait(ctx, time.Minute)
		if err != nil || fix.Quality != QualityDGPS {
			t.Fatalf("Wait: %+v, %v", fix, err)
		}
		pw.Close()
	})
	t.Run("too old", func(t *testing.T) {
		r := run(t, stream(ubloxEpoch...), time.Now().Add(-time.Hour))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		r.now = time.Now
		_, err := r.Wait(ctx, time.Minute)
		if !errors.Is(err, ErrNoFix) || !strings.Contains(err.Error(), "the latest position is 1h0m0s old") {
			t.Errorf("Wait: %v", err)
		}
		if fix, err := r.Wait(ctx, 0); err != nil || fix.Quality != QualityDGPS {
			t.Errorf("Wait of any age: %+v, %v", fix, err)
		}
	})
	for _, tt := range []struct{ name, input, why string }{
		{"nothing", "", "nothing received"},
		{"noise", "\xff\xfe\x00\r\n\x80\x80\r\n", "2 lines received, none readable"},
		{"no position", stream(sentence("GPGSV,1,1,00")), "1 sentences read, none with a position"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			r := NewReader(pr)
			go r.Run(context.Background())
			defer r.Close()
			go io.WriteString(pw, tt.input)
			eventually(t, func() bool { st := r.Stats(); return st.Sentences+st.Skipped == strings.Count(tt.input, "\n") })
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := r.Wait(ctx, 0)
			if !errors.Is(err, ErrNoFix) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Wait: %v; want %q", err, tt.why)
			}
			pw.Close()
		})
	}
	// A receiver that gives a fix and then ends as Wait is about to wait:
	// the fix is what Wait returns. Before, Wait chose at random between
	// the fix and the end, both come, and said one time in two that there
	// was no fix: the app's "Use my position" then filled nothing.
	t.Run("a fix, then the end", func(t *testing.T) {
		for i := range 40 {
			pr, pw := io.Pipe()
			r := NewReader(pr)
			r.waiting = func() {
				r.waiting = nil
				go func() {
					io.WriteString(pw, stream(ubloxEpoch...))
					pw.Close()
				}()
				<-r.done
			}
			go r.Run(context.Background())
			if fix, err := r.Wait(context.Background(), time.Hour); err != nil || fix.Quality != QualityDGPS {
				t.Fatalf("run %d: %+v, %v", i, fix, err)
			}
		}
	})
	t.Run("stopped", func(t *testing.T) {
		r := NewReader(strings.NewReader(""))
		go r.Run(context.Background())
		_, err := r.Wait(context.Background(), 0)
		if !errors.Is(err, ErrNoFix) || !strings.Contains(err.Error(), "reading stopped (its input ended") {
			t.Errorf("Wait: %v", err)
		}
	})
}

// The end of the context interrupts a read in progress on a source with
// deadlines, and Close stops the Reader.
func TestRunStops(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	r := NewReader(pr)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	pw.WriteString(stream(ubloxEpoch...))
	if _, err := r.Wait(ctx, 0); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still reading after its context ended")
	}
	if _, ok := r.Latest(); !ok {
		t.Error("the fix is gone after Run")
	}
	if err := r.Run(context.Background()); err == nil {
		t.Error("a second Run ran")
	}

	closed := NewReader(strings.NewReader(stream(ubloxEpoch...)))
	closed.Close()
	if err := closed.Run(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after Close: %v", err)
	}
}
