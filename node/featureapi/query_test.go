package featureapi

import (
	"errors"
	"math"
	"net/url"
	"testing"
	"time"

	"lifeline/syncproto"
)

func fieldsOf(names ...string) func(string) string {
	return func(name string) string {
		for _, n := range names {
			if n == name {
				return ""
			}
		}
		return "is no field"
	}
}

func TestParseParamsReadsWhatIsAsked(t *testing.T) {
	id := syncproto.NewRecordID()
	p, err := ParseParams("limit=25&bbox=-89.2,17.0,-89,17.25&datetime=2024-11-18T00:00:00Z/..&district=Cayo&cursor="+Cursor(id)+"&f=csv", fieldsOf("district"))
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 11, 18, 0, 0, 0, 0, time.UTC)
	if p.Limit != 25 || p.After != id || *p.BBox != [4]float64{-89.2, 17.0, -89, 17.25} || !p.HasTime || !p.From.Equal(from) || !p.To.IsZero() ||
		len(p.Filters) != 1 || p.Filters[0] != (Filter{"district", "Cayo"}) || !p.CSV || !p.Filtered() {
		t.Fatalf("%+v", p)
	}
	p, err = ParseParams("", fieldsOf())
	if err != nil || p.Limit != DefaultLimit || p.Filtered() || p.CSV || !p.After.IsZero() {
		t.Fatalf("no parameters: %+v %v", p, err)
	}
	p, _ = ParseParams("datetime=2024-11-18T10:00:00-06:00", fieldsOf())
	at := time.Date(2024, 11, 18, 16, 0, 0, 0, time.UTC)
	if !p.InTime(at) || p.InTime(at.Add(time.Second)) || p.InTime(at.Add(-time.Second)) {
		t.Fatalf("an instant keeps that instant only: %+v", p)
	}
}

// FuzzParseParams: no query makes the parser panic, and what it accepts
// is within the bounds the server relies on.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"", "limit=7", "limit=10001", "bbox=-89.2,17,-89,17.2", "bbox=1,2,3,4,5,6", "bbox=NaN,0,0,0",
		"datetime=2024-11-18T00:00:00Z", "datetime=../2024-11-18T00:00:00Z", "datetime=/", "cursor=" + Cursor(syncproto.NewRecordID()),
		"cursor=AAAAAAAAAAAAAAAAAAAAAA", "district=Cayo&damage_level=4", "f=csv", "%zz", "a=1&a=2", "bbox-crs=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := ParseParams(q, fieldsOf("district", "damage_level"))
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("%q: %v is not a ParamError with a reason", q, err)
			}
			return
		}
		if len(q) > maxQueryLen || p.Limit < 1 || p.Limit > MaxLimit || len(p.Filters) > maxFilters {
			t.Fatalf("%q accepted: %+v", q, p)
		}
		if b := p.BBox; b != nil {
			for _, x := range b {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("%q: bbox %v", q, *b)
				}
			}
			if b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 {
				t.Fatalf("%q: bbox %v", q, *b)
			}
		}
		if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
			t.Fatalf("%q: interval %v to %v", q, p.From, p.To)
		}
		if p.HasTime && p.From.IsZero() && p.To.IsZero() {
			t.Fatalf("%q: datetime open at both ends accepted", q)
		}
		values, _ := url.ParseQuery(q)
		for _, fl := range p.Filters {
			if fl.Name != "district" && fl.Name != "damage_level" || len(fl.Value) > maxValueLen || values.Get(fl.Name) != fl.Value {
				t.Fatalf("%q: filter %+v", q, fl)
			}
		}
		if !p.After.IsZero() && Cursor(p.After) != values.Get("cursor") {
			t.Fatalf("%q: cursor %v", q, p.After)
		}
	})
}
