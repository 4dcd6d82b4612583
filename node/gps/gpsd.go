package gps

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"time"
)

// DefaultGPSD is where gpsd listens unless told otherwise.
const DefaultGPSD = "127.0.0.1:2947"

// MaxGPSDLine bounds a gpsd report: a SKY report lists every satellite
// in view, each in about a hundred bytes.
const MaxGPSDLine = 16 << 10

// gpsdWatch asks gpsd to stream its reports as JSON, one a line.
const gpsdWatch = `?WATCH={"enable":true,"json":true};` + "\n"

// DialGPSD connects to gpsd at addr (DefaultGPSD if empty; port 2947 if
// addr has none) and returns a Reader of its TPV reports (the position)
// and SKY reports (satellites in use, HDOP), already reading until ctx
// ends or Close is called.
func DialGPSD(ctx context.Context, addr string) (*Reader, error) {
	addr = gpsdAddr(addr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gpsd at %s: %w: is gpsd running and listening there?", addr, err)
	}
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(gpsdWatch)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("gpsd at %s: %w", addr, err)
	}
	conn.SetWriteDeadline(time.Time{})
	r := newReader(conn, "gpsd at "+addr, MaxGPSDLine, 0, (*Reader).gpsdLine)
	r.hint = "is it gpsd that listens there?"
	r.closer = conn
	r.start(ctx)
	return r, nil
}

func gpsdAddr(addr string) string {
	if addr == "" {
		return DefaultGPSD
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return net.JoinHostPort(addr, "2947")
	}
	return addr
}

// gpsdState is what the Reader remembers between gpsd reports.
type gpsdState struct {
	satellites int // in use, from the latest SKY
	hdop       float64
}

// gpsdReport holds the fields read of the reports of gpsd's protocol
// (gpsd_json(5)); the others are ignored.
type gpsdReport struct {
	Class string `json:"class"`

	// TPV: time, position, velocity.
	Mode   int      `json:"mode"`   // 0 unknown, 1 no fix, 2 2D, 3 3D
	Status int      `json:"status"` // 2 DGPS, 3 RTK fixed, 4 RTK float, 5 dead reckoning...
	Time   string   `json:"time"`
	Lat    *float64 `json:"lat"`
	Lon    *float64 `json:"lon"`
	AltMSL *float64 `json:"altMSL"` // gpsd 3.20 and later
	Alt    *float64 `json:"alt"`    // before 3.20, above mean sea level
	Eph    *float64 `json:"eph"`    // metres, 95%
	Epx    *float64 `json:"epx"`
	Epy    *float64 `json:"epy"`

	// SKY: satellites.
	HDOP       *float64 `json:"hdop"`
	USat       *int     `json:"uSat"` // gpsd 3.23 and later
	Satellites []struct {
		Used bool `json:"used"`
	} `json:"satellites"`

	Message string `json:"message"` // ERROR
}

// gpsdLine reads one line of gpsd's JSON.
func (r *Reader) gpsdLine(line []byte) {
	var rep gpsdReport
	if err := json.Unmarshal(line, &rep); err != nil {
		r.skip(fmt.Errorf("gpsd report %q: %w: %v", prefix(string(line)), ErrSyntax, err))
		return
	}
	if rep.Class == "" {
		r.skip(fmt.Errorf("gpsd report %q: %w: no class", prefix(string(line)), ErrSyntax))
		return
	}
	now := r.now()
	switch rep.Class {
	case "TPV":
		fix, ok, err := rep.fix(&r.gpsd, now)
		if err != nil {
			r.skip(err)
			return
		}
		satellites := r.gpsd.satellites
		r.record(now, func(latest *Fix, st *Stats) {
			st.NoFix = !ok
			st.Satellites = satellites
			if ok {
				*latest = fix
			}
		})
	case "SKY":
		if err := rep.sky(&r.gpsd); err != nil {
			r.skip(err)
			return
		}
		// A SKY report follows the TPV of its moment.
		satellites, hdop := r.gpsd.satellites, r.gpsd.hdop
		r.record(now, func(latest *Fix, st *Stats) {
			st.Satellites = satellites
			if !latest.Received.IsZero() {
				latest.Satellites, latest.HDOP = satellites, hdop
			}
		})
	case "ERROR":
		r.skip(fmt.Errorf("gpsd says: %s", prefix(rep.Message)))
	default:
		r.record(now, func(*Fix, *Stats) {})
	}
}

// fix reads a TPV report: false when it says there is no fix.
func (rep *gpsdReport) fix(g *gpsdState, now time.Time) (Fix, bool, error) {
	bad := func(field, want string) error {
		return fmt.Errorf("gpsd TPV report, %s: %w: %s", field, ErrRange, want)
	}
	if rep.Mode < 0 || rep.Mode > 3 {
		return Fix{}, false, bad("mode", "0 to 3")
	}
	if rep.Mode < 2 {
		return Fix{}, false, nil
	}
	if rep.Lat == nil || rep.Lon == nil {
		return Fix{}, false, fmt.Errorf("gpsd TPV report: %w: a fix without lat and lon", ErrSyntax)
	}
	if math.Abs(*rep.Lat) > 90 {
		return Fix{}, false, bad("lat", "-90 to 90")
	}
	if math.Abs(*rep.Lon) > 180 {
		return Fix{}, false, bad("lon", "-180 to 180")
	}
	f := Fix{
		Lat:        *rep.Lat,
		Lon:        *rep.Lon,
		Quality:    gpsdQuality(rep.Status),
		Satellites: g.satellites,
		HDOP:       g.hdop,
		Received:   now,
	}
	if rep.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, rep.Time)
		if err != nil {
			return Fix{}, false, fmt.Errorf("gpsd TPV report, time %q: %w", prefix(rep.Time), ErrSyntax)
		}
		f.Time = t.UTC()
	}
	if alt := rep.AltMSL; rep.Mode == 3 && (alt != nil || rep.Alt != nil) {
		if alt == nil {
			alt = rep.Alt
		}
		if *alt < -1000 || *alt > 100000 {
			return Fix{}, false, bad("altMSL", "-1000 to 100000 metres")
		}
		f.Altitude, f.HasAltitude = *alt, true
	}
	// gpsd 3.20 and later estimate the horizontal error themselves; before,
	// the errors in longitude and latitude combine.
	switch {
	case rep.Eph != nil:
		f.HorizontalError = *rep.Eph
	case rep.Epx != nil && rep.Epy != nil:
		f.HorizontalError = math.Hypot(*rep.Epx, *rep.Epy)
	}
	if f.HorizontalError < 0 {
		return Fix{}, false, bad("eph", "at least 0")
	}
	return f, true, nil
}

// sky reads a SKY report.
func (rep *gpsdReport) sky(g *gpsdState) error {
	if rep.HDOP != nil {
		if *rep.HDOP < 0 {
			return fmt.Errorf("gpsd SKY report, hdop: %w: at least 0", ErrRange)
		}
		g.hdop = *rep.HDOP
	}
	switch {
	case rep.USat != nil:
		if *rep.USat < 0 {
			return fmt.Errorf("gpsd SKY report, uSat: %w: at least 0", ErrRange)
		}
		g.satellites = *rep.USat
	case rep.Satellites != nil:
		g.satellites = 0
		for _, s := range rep.Satellites {
			if s.Used {
				g.satellites++
			}
		}
	}
	return nil
}

// gpsdQuality reads a TPV report's status.
func gpsdQuality(status int) Quality {
	switch status {
	case 2:
		return QualityDGPS
	case 3:
		return QualityRTK
	case 4:
		return QualityRTKFloat
	case 5:
		return QualityEstimated
	case 7: // a surveyed position, typed in
		return QualityManual
	case 8:
		return QualitySimulated
	case 9:
		return QualityPPS
	}
	return QualityGPS
}
