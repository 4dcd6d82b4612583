package node

import (
	"context"
	"slices"
	"time"

	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// The spans a Series covers: its hours end with the hour of the newest
// record written, its days with the last day anyone was reported missing
// or found. A stamp or a date far off (a laptop whose clock was never set)
// cannot stretch them.
const (
	SeriesHours = 48
	SeriesDays  = 62
)

// Series are the counts over time that headquarters' charts draw, computed
// from the records as Report counts them: deleted records are not
// counted, a field in conflict counts with the value that wins.
//
// The store keeps no wall-clock time of when a change arrived here, only
// the stamp (HLC) its writer's clock gave it, which no node accepts more
// than a few minutes ahead of its own clock. So a record counts in the hour
// it was written: the stamp of the oldest value it still holds, which is
// its first change's unless every field that change set was overwritten
// since.
type Series struct {
	// Days are consecutive days, in the location Series was given, from
	// the first with a person reported missing or found to the last (at
	// most SeriesDays, the latest kept); empty when there is none.
	Days []DayCount `json:"days"`
	// Hours are the starts of consecutive hours, the last the hour of the
	// newest record written (at most SeriesHours); empty when no record.
	Hours []time.Time `json:"hours"`
	// Written are the records written in each of Hours, per district: one
	// row for each of schemas.Districts in order, then the records that
	// name no district (District "").
	Written []HourlyCounts `json:"written"`
	// Unconfirmed counts, per district ("" for records naming none), the
	// records holding a value headquarters' ledger has not yet confirmed:
	// what the situation may still lack at headquarters, or hold that it
	// has not yet put in order.
	Unconfirmed map[string]int `json:"unconfirmed"`
}

// DayCount is one day of missing persons: reported missing that day (by
// the report's reported_at, or when it was written if it has none or
// names a later time), and found that day (when the status became one
// other than missing).
type DayCount struct {
	Day     time.Time `json:"day"` // midnight starting the day
	Missing int       `json:"reported_missing"`
	Found   int       `json:"found"`
}

// HourlyCounts are one district's records written per hour.
type HourlyCounts struct {
	District string `json:"district"`
	Counts   []int  `json:"counts"` // one per hour of Series.Hours
}

// Series counts the records this node holds over time, days and hours
// starting in loc.
func (n *Node) Series(ctx context.Context, loc *time.Location) (Series, error) {
	var (
		written          []seriesEvent
		missing, found   []time.Time
		newest, lastDay  time.Time
		haveNewest, have bool
	)
	confirmed, err := n.store.Confirmed(ctx)
	if err != nil {
		return Series{}, err
	}
	s := Series{Unconfirmed: map[string]int{}}
	for r, err := range n.store.Records(ctx, store.Query{}) {
		if err != nil {
			return Series{}, err
		}
		win := make(map[string]store.Version, len(r.Fields))
		first := syncproto.HLC(0)
		unconfirmed := false
		for _, f := range r.Fields {
			win[f.Name] = f.Versions[0]
			for _, v := range f.Versions {
				if first == 0 || v.Stamp.HLC < first {
					first = v.Stamp.HLC
				}
				unconfirmed = unconfirmed || v.Stamp.Seq > confirmed[syncproto.Stream{Origin: v.Stamp.Origin, Lane: v.Stamp.Lane}]
			}
		}
		at := first.Time().In(loc)
		district, _ := schemas.District(textOf(win["district"].Value))
		if unconfirmed {
			s.Unconfirmed[district]++
		}
		written = append(written, seriesEvent{district, at})
		if !haveNewest || at.After(newest) {
			newest, haveNewest = at, true
		}
		if r.Type != typeMissing {
			continue
		}
		reported := at
		if s := textOf(win["reported_at"].Value); s != "" {
			// A report names when it was made; one naming a time after it
			// was written (a wrong clock, a typing slip) counts when written.
			if t, err := time.Parse(time.RFC3339, s); err == nil && !t.After(at.Add(24*time.Hour)) {
				reported = t.In(loc)
			}
		}
		missing = append(missing, reported)
		if s, ok := win["status"]; ok {
			if v := textOf(s.Value); v != "" && v != stillMissing {
				found = append(found, s.Stamp.HLC.Time().In(loc))
			}
		}
	}
	if haveNewest {
		end := hourOf(newest)
		start := end.Add(-(SeriesHours - 1) * time.Hour)
		var earliest time.Time
		for _, e := range written {
			if !e.at.Before(start) && (earliest.IsZero() || e.at.Before(earliest)) {
				earliest = e.at
			}
		}
		for h := hourOf(earliest); !h.After(end); h = h.Add(time.Hour) {
			s.Hours = append(s.Hours, h)
		}
		rows := map[string][]int{}
		for _, d := range schemas.Districts {
			rows[d] = make([]int, len(s.Hours))
		}
		for _, e := range written {
			i := int(hourOf(e.at).Sub(s.Hours[0]) / time.Hour)
			if e.at.Before(s.Hours[0]) || i >= len(s.Hours) {
				continue
			}
			if rows[e.district] == nil {
				rows[e.district] = make([]int, len(s.Hours))
			}
			rows[e.district][i]++
		}
		for _, d := range append(slices.Clone(schemas.Districts), "") {
			if rows[d] != nil {
				s.Written = append(s.Written, HourlyCounts{District: d, Counts: rows[d]})
			}
		}
	}
	for _, t := range append(slices.Clone(missing), found...) {
		if d := dayOf(t); !have || d.After(lastDay) {
			lastDay, have = d, true
		}
	}
	if have {
		firstDay := lastDay
		for _, t := range append(slices.Clone(missing), found...) {
			if d := dayOf(t); d.Before(firstDay) && !d.Before(lastDay.AddDate(0, 0, -(SeriesDays-1))) {
				firstDay = d
			}
		}
		index := map[time.Time]int{}
		for d := firstDay; !d.After(lastDay); d = d.AddDate(0, 0, 1) {
			index[d] = len(s.Days)
			s.Days = append(s.Days, DayCount{Day: d})
		}
		for _, t := range missing {
			if i, ok := index[dayOf(t)]; ok {
				s.Days[i].Missing++
			}
		}
		for _, t := range found {
			if i, ok := index[dayOf(t)]; ok {
				s.Days[i].Found++
			}
		}
	}
	return s, nil
}

// seriesEvent is a record written in a district at a time.
type seriesEvent struct {
	district string
	at       time.Time
}

// hourOf is the start of the hour holding t, in t's location (whose
// offset may not be whole hours).
func hourOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, t.Location())
}

// dayOf is the midnight starting the day holding t, in t's location.
func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}
