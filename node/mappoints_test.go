package node_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"lifeline/atlas"
	"lifeline/node"
	"lifeline/syncproto"
)

func TestMapPoints(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "hq", syncproto.RoleHQ, "Belize")
	assess := func(district string, level int, lat, lon float64) syncproto.RecordID {
		return mustAdd(t, n, "damage-assessment", `{"district":"`+district+`","village":"V","lat":`+ftoa(lat)+`,"lon":`+ftoa(lon)+`,
			"structure_type":"timber frame","damage_level":`+ftoa(float64(level))+`,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`)
	}
	destroyed := assess("Cayo", 4, 17.2510, -88.7590)
	minor := assess("Toledo", 1, 16.0983, -88.8097)
	gone := assess("Cayo", 3, 17.1561, -89.0714)
	if err := n.Delete(ctx, gone, "vol-1"); err != nil {
		t.Fatal(err)
	}
	// No place: not on the map.
	mustAdd(t, n, "shelter", `{"shelter_name":"Hopkins Church","district":"Stann Creek","occupancy":10,"capacity":50}`)
	school := mustAdd(t, n, "shelter", `{"shelter_name":"Belmopan Comprehensive School","district":"Cayo","occupancy":180,"capacity":200,
		"location":{"lat":17.251,"lon":-88.7668}}`)
	person := func(status string) syncproto.RecordID {
		return mustAdd(t, n, "missing-person", `{"full_name":"Person","district":"Stann Creek","last_seen_place":"Dangriga",
			"last_seen_location":{"lat":16.9697,"lon":-88.2311},"status":"`+status+`","reporter_name":"Ana Cho","reported_at":"2026-11-27T09:00:00Z"}`)
	}
	still := person("missing")
	person("found-safe")
	person("reunited")

	pts, err := n.MapPoints(ctx, node.MapFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []atlas.Point{
		{ID: destroyed.String(), Layer: atlas.Damage, Lat: 17.2510, Lon: -88.7590, Level: 4, District: "Cayo"},
		{ID: minor.String(), Layer: atlas.Damage, Lat: 16.0983, Lon: -88.8097, Level: 1, District: "Toledo"},
		{ID: school.String(), Layer: atlas.Shelters, Lat: 17.251, Lon: -88.7668, Level: -1, Occupancy: 180, Capacity: 200, District: "Cayo"},
		{ID: still.String(), Layer: atlas.Missing, Lat: 16.9697, Lon: -88.2311, Level: -1, District: "Stann Creek"},
	}
	byID := func(a, b atlas.Point) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(pts, byID)
	slices.SortFunc(want, byID)
	if !slices.Equal(pts, want) {
		t.Fatalf("map points\n%+v\nwant\n%+v", pts, want)
	}

	cayo, err := n.MapPoints(ctx, node.MapFilter{District: "Cayo", Layers: []atlas.Layer{atlas.Damage}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cayo) != 1 || cayo[0].ID != destroyed.String() {
		t.Fatalf("Cayo's damage points %+v, want only %s", cayo, destroyed)
	}

	// An assessment changed to level 0 and back out of deletion shows as it is now.
	mustUpdate(t, n, destroyed, `{"damage_level":0}`)
	if err := n.Restore(ctx, gone, "vol-1"); err != nil {
		t.Fatal(err)
	}
	cayo, err = n.MapPoints(ctx, node.MapFilter{District: "Cayo", Layers: []atlas.Layer{atlas.Damage}})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(cayo, byID)
	levels := map[string]int{}
	for _, p := range cayo {
		levels[p.ID] = p.Level
	}
	if len(cayo) != 2 || levels[destroyed.String()] != 0 || levels[gone.String()] != 3 {
		t.Fatalf("after the changes Cayo's damage points are %+v", cayo)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
