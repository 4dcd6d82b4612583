package featureapi

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"lifeline/syncproto"
)

// Bounds of a request's query: whoever reaches the port may send it.
const (
	maxQueryLen   = 4096
	maxValueLen   = 256
	maxFilters    = 16
	DefaultLimit  = 1000
	MaxLimit      = 10000
	crs84         = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	cursorEncoded = 22 // a record id, 16 bytes, in unpadded base64url
)

// Params are the parameters of an items request, checked.
type Params struct {
	Limit int
	// After is the record the page starts after (the cursor of a next
	// link); zero for the first page.
	After syncproto.RecordID
	// BBox is minimum longitude, minimum latitude, maximum longitude,
	// maximum latitude (WGS 84); nil when not asked.
	BBox *[4]float64
	// From and To bound the records' time, both included; a zero one is
	// open. HasTime says whether datetime was given at all.
	From, To time.Time
	HasTime  bool
	// Filters are property=value pairs, in the query's order.
	Filters []Filter
	// CSV is f=csv; otherwise GeoJSON.
	CSV bool
}

// Filter keeps the records whose property Name reads Value.
type Filter struct{ Name, Value string }

// Filtered reports whether anything but the page is asked: then the
// number of records matched is not known without reading them all.
func (p Params) Filtered() bool { return p.BBox != nil || p.HasTime || len(p.Filters) > 0 }

// ParamError is a parameter the server refuses: what it is and why.
type ParamError struct{ Param, Reason string }

func (e *ParamError) Error() string {
	if e.Param == "" {
		return e.Reason
	}
	return fmt.Sprintf("parameter %s: %s", e.Param, e.Reason)
}

func bad(param, format string, args ...any) error {
	return &ParamError{Param: param, Reason: fmt.Sprintf(format, args...)}
}

// ParseParams checks the raw query of an items request. filterable says
// whether a name is a property the collection may be filtered on, and if
// not, why not ("" when it may).
func ParseParams(rawQuery string, filterable func(name string) string) (Params, error) {
	p := Params{Limit: DefaultLimit}
	if len(rawQuery) > maxQueryLen {
		return p, bad("", "the query is %d bytes, more than the %d this server reads", len(rawQuery), maxQueryLen)
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, bad("", "the query is not a URL query: %v", err)
	}
	if len(values) > maxFilters+8 {
		return p, bad("", "the query has %d parameters, more than %d", len(values), maxFilters+8)
	}
	for name, vs := range values {
		if len(vs) != 1 {
			return p, bad(quote(name), "given %d times, at most once", len(vs))
		}
		v := vs[0]
		if len(v) > maxValueLen {
			return p, bad(quote(name), "the value is %d bytes, more than %d", len(v), maxValueLen)
		}
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxLimit {
				return p, bad(name, "%s is not a whole number from 1 to %d", quote(v), MaxLimit)
			}
			p.Limit = n
		case "cursor":
			if p.After, err = parseCursor(v); err != nil {
				return p, err
			}
		case "bbox":
			b, err := parseBBox(v)
			if err != nil {
				return p, err
			}
			p.BBox = &b
		case "bbox-crs":
			if v != crs84 {
				return p, bad(name, "only %s (longitude, latitude in WGS 84) is served", crs84)
			}
		case "datetime":
			if p.From, p.To, err = parseDatetime(v); err != nil {
				return p, err
			}
			p.HasTime = true
		case "f":
			switch v {
			case "json", "geojson":
			case "csv":
				p.CSV = true
			default:
				return p, bad(name, "%s is not a format served here: json or csv", quote(v))
			}
		default:
			if why := filterable(name); why != "" {
				return p, bad(quote(name), "%s", why)
			}
			p.Filters = append(p.Filters, Filter{Name: name, Value: v})
		}
	}
	if len(p.Filters) > maxFilters {
		return p, bad("", "%d property filters, more than %d", len(p.Filters), maxFilters)
	}
	return p, nil
}

// quote is a name or value from a request as an error shows it: quoted,
// its unprintable characters escaped, and cut short.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// Cursor is the opaque cursor of the page that starts after a record.
func Cursor(after syncproto.RecordID) string { return base64.RawURLEncoding.EncodeToString(after[:]) }

func parseCursor(v string) (syncproto.RecordID, error) {
	var id syncproto.RecordID
	b, err := base64.RawURLEncoding.Strict().DecodeString(v) // one spelling per cursor
	if len(v) != cursorEncoded || err != nil || len(b) != len(id) {
		return id, bad("cursor", "%s is not a cursor this server gave (take the next link as it is)", quote(v))
	}
	copy(id[:], b)
	if id.IsZero() {
		return id, bad("cursor", "%s is not a cursor this server gave (take the next link as it is)", quote(v))
	}
	return id, nil
}

// parseBBox reads four numbers: minimum longitude, minimum latitude,
// maximum longitude, maximum latitude.
func parseBBox(v string) ([4]float64, error) {
	var b [4]float64
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return b, bad("bbox", "%s is not 4 numbers (min longitude, min latitude, max longitude, max latitude)", quote(v))
	}
	for i, s := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return b, bad("bbox", "%s is not a number", quote(s))
		}
		b[i] = x
	}
	switch {
	case b[0] < -180 || b[0] > 180 || b[2] < -180 || b[2] > 180:
		return b, bad("bbox", "a longitude is outside -180 to 180 in %s", quote(v))
	case b[1] < -90 || b[1] > 90 || b[3] < -90 || b[3] > 90:
		return b, bad("bbox", "a latitude is outside -90 to 90 in %s", quote(v))
	case b[1] > b[3]:
		return b, bad("bbox", "the minimum latitude is above the maximum in %s", quote(v))
	case b[0] > b[2]:
		return b, bad("bbox", "the minimum longitude is east of the maximum in %s (a box across the antimeridian is not served)", quote(v))
	}
	return b, nil
}

// parseDatetime reads an RFC 3339 instant, or an interval of two with
// ".." (or nothing) for an open end.
func parseDatetime(v string) (from, to time.Time, err error) {
	start, end, interval := strings.Cut(v, "/")
	if !interval {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return from, to, bad("datetime", "%s is not an RFC 3339 instant (2024-11-18T14:05:00Z) or an interval of two with /", quote(v))
		}
		return t, t, nil
	}
	open := func(s string) bool { return s == ".." || s == "" }
	if open(start) && open(end) {
		return from, to, bad("datetime", "%s is open at both ends", quote(v))
	}
	if !open(start) {
		if from, err = time.Parse(time.RFC3339, start); err != nil {
			return from, to, bad("datetime", "the start %s is not an RFC 3339 instant (2024-11-18T14:05:00Z) or ..", quote(start))
		}
	}
	if !open(end) {
		if to, err = time.Parse(time.RFC3339, end); err != nil {
			return from, to, bad("datetime", "the end %s is not an RFC 3339 instant (2024-11-18T14:05:00Z) or ..", quote(end))
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, bad("datetime", "the interval %s ends before it starts", quote(v))
	}
	return from, to, nil
}

// InTime reports whether an instant is within the params' datetime.
func (p Params) InTime(t time.Time) bool {
	return (p.From.IsZero() || !t.Before(p.From)) && (p.To.IsZero() || !t.After(p.To))
}

// InBBox reports whether a point is within the params' bbox, edges
// included.
func (p Params) InBBox(lon, lat float64) bool {
	b := p.BBox
	return b == nil || lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3]
}
