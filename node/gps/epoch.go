package gps

import (
	"errors"
	"time"
)

// nmeaState is what the Reader remembers between NMEA sentences: the
// epoch being read, and the latest date, for the epochs without an RMC.
type nmeaState struct {
	epoch epoch

	// The Reader's latest fix before this epoch, put back if a sentence
	// of the epoch says there is no fix after another said there was.
	before    Fix
	published bool

	date     time.Time     // UTC midnight of the latest RMC with a date
	dateTOD  time.Duration // that RMC's time of day
	dateSeen time.Time     // when it was received, on the local clock
}

// An epoch is the sentences a receiver sends for one moment it computed,
// all bearing its UTC time of day.
type epoch struct {
	tod     time.Duration
	hasTime bool
	gga     GGA
	hasGGA  bool
	rmc     RMC
	hasRMC  bool
}

// nmeaLine reads one line of an NMEA stream.
func (r *Reader) nmeaLine(line []byte) {
	s, err := ParseSentence(string(line))
	now := r.now()
	switch {
	case errors.Is(err, ErrUnsupported):
		r.record(now, func(*Fix, *Stats) {})
		return
	case err != nil:
		r.skip(err)
		return
	}
	n := &r.nmea
	fix, ok, newEpoch := n.add(s, now)
	r.record(now, func(latest *Fix, st *Stats) {
		if newEpoch {
			n.before, n.published = *latest, false
		}
		switch {
		case ok:
			*latest, n.published = fix, true
		case n.published:
			*latest, n.published = n.before, false
		}
		st.NoFix = !ok
		st.Satellites = fix.Satellites
	})
}

// add puts s in its epoch and returns the epoch's fix, false if the
// receiver said in it that it has no position; and whether s began the epoch.
func (n *nmeaState) add(s Sentence, now time.Time) (fix Fix, ok, newEpoch bool) {
	var tod time.Duration
	var hasTime bool
	switch s := s.(type) {
	case GGA:
		tod, hasTime = s.TimeOfDay, s.HasTime
	case RMC:
		tod, hasTime = s.TimeOfDay, s.HasTime
	}
	// A sentence without a time cannot be matched with another.
	if !hasTime || !n.epoch.hasTime || tod != n.epoch.tod {
		n.epoch = epoch{tod: tod, hasTime: hasTime}
		newEpoch = true
	}
	switch s := s.(type) {
	case GGA:
		n.epoch.gga, n.epoch.hasGGA = s, true
	case RMC:
		n.epoch.rmc, n.epoch.hasRMC = s, true
		if !s.Date.IsZero() && s.HasTime {
			n.date, n.dateTOD, n.dateSeen = s.Date, s.TimeOfDay, now
		}
	}
	fix, ok = n.fix(now)
	return fix, ok, newEpoch
}

// fix combines the epoch's sentences: GGA says the quality, satellites,
// HDOP and altitude, RMC the date. Either may say there is no fix, and
// then there is none.
func (n *nmeaState) fix(now time.Time) (Fix, bool) {
	e := &n.epoch
	f := Fix{Received: now}
	if e.hasGGA {
		g := e.gga
		f.Quality, f.Satellites, f.HDOP = g.Quality, g.Satellites, g.HDOP
		f.Altitude, f.HasAltitude = g.Altitude, g.HasAltitude
		f.Lat, f.Lon = g.Lat, g.Lon
	}
	if e.hasRMC {
		m := e.rmc
		if m.Quality() == QualityNone {
			return Fix{Satellites: f.Satellites}, false
		}
		if !e.hasGGA {
			f.Quality, f.Lat, f.Lon = m.Quality(), m.Lat, m.Lon
		}
		f.Time = m.Time()
	}
	if f.Quality == QualityNone {
		return Fix{Satellites: f.Satellites}, false
	}
	if f.Time.IsZero() && e.hasTime {
		f.Time = n.dateOf(e.tod, now)
	}
	return f, true
}

// dateOf gives a time of day the date of the latest RMC, if that came
// within the last minute: for a receiver that sends its GGA before its
// RMC, or sends RMC less often. A time of day much earlier than the RMC's
// is past the midnight since.
func (n *nmeaState) dateOf(tod time.Duration, now time.Time) time.Time {
	if n.date.IsZero() || now.Sub(n.dateSeen) > time.Minute {
		return time.Time{}
	}
	switch {
	case tod >= n.dateTOD:
		return n.date.Add(tod)
	case n.dateTOD-tod > 12*time.Hour:
		return n.date.AddDate(0, 0, 1).Add(tod)
	}
	return time.Time{}
}
