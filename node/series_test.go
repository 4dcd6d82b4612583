package node_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/syncproto"
)

// TestSeriesCountsByHourAndDay writes records on a node whose clock is set
// to four moments of a storm, then checks the counts per hour and per day
// against the ones worked out by hand below.
func TestSeriesCountsByHourAndDay(t *testing.T) {
	ctx := context.Background()
	belize := time.FixedZone("CST", -6*3600)
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "hq")
	if err := node.Init(ctx, cfg, node.Identity{Name: "hq", Role: syncproto.RoleHQ, District: "Belize"}); err != nil {
		t.Fatal(err)
	}
	// at opens the node with its clock showing the local time given; the
	// test writes in a few seconds, well within the hour.
	at := func(s string) *node.Node {
		t.Helper()
		when, err := time.ParseInLocation("2006-01-02 15:04", s, belize)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.ClockOffset = time.Until(when)
		n, err := node.Open(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	damage := func(n *node.Node, district string) syncproto.RecordID {
		return mustAdd(t, n, "damage-assessment", fmt.Sprintf(`{"district":%q,"village":"V","lat":17.2,"lon":-88.7,
			"structure_type":"timber frame","damage_level":2,"household_size":3,"reported_by":"vol-1","reported_at":"2026-11-01T10:00:00Z"}`, district))
	}
	person := func(n *node.Node, name, district, reported string) syncproto.RecordID {
		return mustAdd(t, n, "missing-person", fmt.Sprintf(`{"full_name":%q,"district":%q,"last_seen_place":"the market",
			"status":"missing","reporter_name":"Ana Cho","reported_at":%q}`, name, district, reported))
	}

	// Sunday 1 November, noon: one assessment, more than 48 hours before
	// the newest record, so outside the hours.
	n := at("2026-11-01 12:00")
	damage(n, "Stann Creek")
	n.Close()

	// Tuesday 3 November, 09:20: two assessments in Cayo, a shelter in
	// Belize, and Marisol reported missing in Toledo the evening before.
	n = at("2026-11-03 09:20")
	damage(n, "Cayo")
	damage(n, "Cayo")
	mustAdd(t, n, "shelter", `{"shelter_name":"St. John's","district":"Belize","occupancy":40,"capacity":120,"status":"open"}`)
	marisol := person(n, "Marisol Tzib", "Toledo", "2026-11-02T20:00:00-06:00")
	n.Close()

	// 11:40: an assessment in Belize; Marisol found; an assessment entered
	// twice, deleted.
	n = at("2026-11-03 11:40")
	damage(n, "Belize")
	mustUpdate(t, n, marisol, `{"status":"found-safe","found_at_place":"Punta Gorda hospital"}`)
	if err := n.Delete(ctx, damage(n, "Cayo"), "vol-193"); err != nil {
		t.Fatal(err)
	}
	n.Close()

	// Thursday 5 November, 08:05: two more people reported missing, one
	// in the early morning, one with a report time years ahead (it counts
	// when written).
	n = at("2026-11-05 08:05")
	defer n.Close()
	person(n, "Pedro Coc", "Toledo", "2026-11-05T07:00:00-06:00")
	person(n, "Lucia Ek", "Corozal", "2030-01-01T00:00:00Z")

	s, err := n.Series(ctx, belize)
	if err != nil {
		t.Fatal(err)
	}

	// Hours: the newest record was written in the hour from 08:00 on the
	// 5th; the 48 hours ending with it start at 09:00 on the 3rd.
	if len(s.Hours) != 48 {
		t.Fatalf("%d hours, want 48: %v", len(s.Hours), s.Hours)
	}
	if first, last := s.Hours[0], s.Hours[47]; !first.Equal(time.Date(2026, 11, 3, 9, 0, 0, 0, belize)) || !last.Equal(time.Date(2026, 11, 5, 8, 0, 0, 0, belize)) {
		t.Fatalf("hours from %v to %v, want 2026-11-03 09:00 to 2026-11-05 08:00 CST", first, last)
	}
	hours := func(at map[int]int) []int {
		c := make([]int, 48)
		for i, n := range at {
			c[i] = n
		}
		return c
	}
	want := []node.HourlyCounts{
		{District: "Belize", Counts: hours(map[int]int{0: 1, 2: 1})}, // the shelter at 09:20, the assessment at 11:40
		{District: "Cayo", Counts: hours(map[int]int{0: 2})},         // the deleted one not counted
		{District: "Corozal", Counts: hours(map[int]int{47: 1})},
		{District: "Orange Walk", Counts: hours(nil)},
		{District: "Stann Creek", Counts: hours(nil)}, // before the hours
		{District: "Toledo", Counts: hours(map[int]int{0: 1, 47: 1})},
	}
	if !reflect.DeepEqual(s.Written, want) {
		t.Errorf("written per hour:\n got %v\nwant %v", s.Written, want)
	}

	// The node runs no ledger: nothing is confirmed.
	if want := map[string]int{"Belize": 2, "Cayo": 2, "Corozal": 1, "Stann Creek": 1, "Toledo": 2}; !reflect.DeepEqual(s.Unconfirmed, want) {
		t.Errorf("unconfirmed %v, want %v", s.Unconfirmed, want)
	}

	// Days: Marisol reported on the 2nd and found on the 3rd; Pedro and
	// Lucia reported on the 5th; nothing on the 4th.
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, belize) }
	wantDays := []node.DayCount{
		{Day: day(2), Missing: 1},
		{Day: day(3), Found: 1},
		{Day: day(4)},
		{Day: day(5), Missing: 2},
	}
	if len(s.Days) != len(wantDays) {
		t.Fatalf("days %v, want %v", s.Days, wantDays)
	}
	for i, d := range s.Days {
		if !d.Day.Equal(wantDays[i].Day) || d.Missing != wantDays[i].Missing || d.Found != wantDays[i].Found {
			t.Errorf("day %d: %v, want %v", i, d, wantDays[i])
		}
	}
}

func TestSeriesOfNoRecords(t *testing.T) {
	n := openNode(t, "hq", syncproto.RoleHQ, "Belize")
	s, err := n.Series(context.Background(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Hours) != 0 || len(s.Days) != 0 || len(s.Written) != 0 || len(s.Unconfirmed) != 0 {
		t.Fatalf("series of an empty node: %+v", s)
	}
}
