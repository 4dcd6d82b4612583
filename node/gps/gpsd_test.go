package gps

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeGPSD serves one client as gpsd does: its banner, then, once asked
// to watch, the given lines.
func fakeGPSD(t *testing.T, lines ...string) (addr string, watched <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cmd := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write([]byte(`{"class":"VERSION","release":"3.25","rev":"3.25","proto_major":3,"proto_minor":15}` + "\n"))
		line, err := bufio.NewReader(conn).ReadString('\n')
		cmd <- line
		if err != nil {
			return
		}
		for _, l := range lines {
			if _, err := conn.Write([]byte(l + "\n")); err != nil {
				return
			}
		}
		// Stay connected, as gpsd does, until the client leaves.
		conn.Read(make([]byte, 1))
	}()
	return ln.Addr().String(), cmd
}

func TestDialGPSD(t *testing.T) {
	addr, watched := fakeGPSD(t,
		`{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/ttyACM0","driver":"u-blox","activated":"2026-03-15T03:15:00.000Z","native":1,"bps":9600}]}`,
		`{"class":"WATCH","enable":true,"json":true,"nmea":false,"raw":0,"scaled":false,"timing":false,"split24":false,"pps":false}`,
		`{"class":"TPV","device":"/dev/ttyACM0","mode":1,"time":"2026-03-15T03:15:01.000Z"}`,
		`not json at all`,
		`{"class":"TPV","mode":3,"lat":95.0,"lon":10.0}`,
		`{"class":"SKY","device":"/dev/ttyACM0","`+strings.Repeat(`x`, MaxGPSDLine)+`"}`,
		`{"class":"TPV","device":"/dev/ttyACM0","status":2,"mode":3,"time":"2026-03-15T03:15:02.000Z","ept":0.005,"lat":-33.045000000,"lon":-71.620000000,"altHAE":59.2,"altMSL":41.0,"alt":41.0,"epx":3.0,"epy":4.0,"epv":8.1,"track":0.0,"speed":0.011,"climb":0.0,"eps":0.62}`,
		`{"class":"SKY","device":"/dev/ttyACM0","xdop":0.54,"ydop":0.45,"vdop":1.12,"tdop":0.91,"hdop":0.70,"gdop":1.50,"pdop":1.32,"satellites":[{"PRN":5,"el":33,"az":51,"ss":38,"used":true},{"PRN":13,"el":54,"az":304,"ss":41,"used":true},{"PRN":15,"el":61,"az":194,"ss":44,"used":true},{"PRN":30,"el":4,"az":12,"ss":0,"used":false}]}`,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := time.Now()
	r, err := DialGPSD(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	cmd := <-watched
	var watch struct{ Enable, JSON bool }
	if !strings.HasPrefix(cmd, "?WATCH=") || json.Unmarshal([]byte(strings.TrimRight(cmd[len("?WATCH="):], ";\n")), &watch) != nil || !watch.Enable || !watch.JSON {
		t.Errorf("the client asked %q", cmd)
	}

	fix, err := r.Wait(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(fix.Lat - -33.045) > 1e-9 || math.Abs(fix.Lon - -71.62) > 1e-9 || fix.Quality != QualityDGPS ||
		!fix.HasAltitude || fix.Altitude != 41 || fix.HorizontalError != 5 ||
		!fix.Time.Equal(time.Date(2026, 3, 15, 3, 15, 2, 0, time.UTC)) || fix.Received.Before(before) {
		t.Errorf("fix %+v", fix)
	}

	// The SKY after it adds the satellites and HDOP of the same moment.
	eventually(t, func() bool { return r.Stats().Sentences == 6 })
	fix, _ = r.Latest()
	if fix.Satellites != 3 || fix.HDOP != 0.7 {
		t.Errorf("after SKY: %+v", fix)
	}
	// VERSION, DEVICES, WATCH, two TPV, SKY; the line not JSON, the
	// latitude of 95, the line too long.
	if st := r.Stats(); st.Sentences != 6 || st.Skipped != 3 || !errors.Is(st.LastSkip, ErrTooLong) {
		t.Errorf("stats %+v", st)
	}
}

func TestGPSDNoFix(t *testing.T) {
	addr, _ := fakeGPSD(t,
		`{"class":"SKY","uSat":2,"hdop":9.9}`,
		`{"class":"TPV","device":"/dev/ttyACM0","mode":1}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := DialGPSD(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	eventually(t, func() bool { return r.Stats().NoFix })
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := r.Wait(short, 0); !errors.Is(err, ErrNoFix) || !strings.Contains(err.Error(), "gpsd at "+addr+": no position from the GPS: the receiver has no fix yet (2 satellites in use)") {
		t.Errorf("Wait: %v", err)
	}
}

func TestDialGPSDRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := DialGPSD(context.Background(), addr); err == nil || !strings.Contains(err.Error(), "is gpsd running") {
		t.Errorf("DialGPSD with nobody listening: %v", err)
	}
}

func TestGPSDAddr(t *testing.T) {
	for in, want := range map[string]string{"": "127.0.0.1:2947", "gps-box": "gps-box:2947",
		"10.0.0.5:3000": "10.0.0.5:3000", "::1": "[::1]:2947", "[::1]:2948": "[::1]:2948"} {
		if got := gpsdAddr(in); got != want {
			t.Errorf("gpsdAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGPSDQuality(t *testing.T) {
	for status, want := range map[int]Quality{0: QualityGPS, 1: QualityGPS, 2: QualityDGPS, 3: QualityRTK, 4: QualityRTKFloat,
		5: QualityEstimated, 6: QualityGPS, 7: QualityManual, 8: QualitySimulated, 9: QualityPPS} {
		if got := gpsdQuality(status); got != want {
			t.Errorf("status %d: %v, want %v", status, got, want)
		}
	}
}
