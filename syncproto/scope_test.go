package syncproto_test

import (
	"testing"

	"lifeline/syncproto"
)

// The lane byte: priority in the low four bits, scope in the high four,
// written out by hand.
func TestLaneLayout(t *testing.T) {
	for _, tc := range []struct {
		lane            uint8
		priority, scope uint8
		valid           bool
	}{
		{0x01, 1, 0, true}, // lane 1 as written before scopes: national
		{0x03, 3, 0, true},
		{0x09, 9, 0, true},
		{0x0a, 10, 0, false},
		{0x00, 0, 0, false},
		{0x10, 0, 1, false},
		{0x13, 3, 1, true}, // Belize's damage assessments
		{0x63, 3, 6, true}, // Toledo's
		{0xf9, 9, 15, true},
		{0xff, 15, 15, false},
	} {
		if p, s, v := syncproto.LanePriority(tc.lane), syncproto.LaneScope(tc.lane), syncproto.ValidLane(tc.lane); p != tc.priority || s != tc.scope || v != tc.valid {
			t.Errorf("lane %#x: priority %d, scope %d, valid %v; want %d, %d, %v", tc.lane, p, s, v, tc.priority, tc.scope, tc.valid)
		}
		if tc.valid && syncproto.MakeLane(tc.priority, tc.scope) != tc.lane {
			t.Errorf("MakeLane(%d, %d) = %#x, want %#x", tc.priority, tc.scope, syncproto.MakeLane(tc.priority, tc.scope), tc.lane)
		}
	}
}

// Streams are sent by priority first, whatever their scope: Toledo's
// missing persons before any damage assessment of a national stream.
func TestStreamsOrderByPriorityThenScope(t *testing.T) {
	a, b := syncproto.NodeID{1}, syncproto.NodeID{2}
	ordered := []syncproto.Stream{
		{Origin: a, Lane: 0x01}, {Origin: b, Lane: 0x01}, {Origin: a, Lane: 0x61},
		{Origin: b, Lane: 0x02}, {Origin: a, Lane: 0x03}, {Origin: b, Lane: 0x13}, {Origin: a, Lane: 0x63}, {Origin: b, Lane: 0x63},
		{Origin: a, Lane: 0x09},
	}
	for i := range ordered {
		for j := range ordered {
			got := ordered[i].Compare(ordered[j])
			if (i < j) != (got < 0) || (i == j) != (got == 0) {
				t.Errorf("%s against %s: %d", ordered[i], ordered[j], got)
			}
		}
	}
}

// Who keeps a stream, and what passes between two nodes, as a table: HQ
// and voters keep all; a relay or laptop the national streams, its
// district's and its own; a relay also takes a laptop's own streams.
func TestWhoKeepsWhatPasses(t *testing.T) {
	const cayo, toledo = 2, 6
	hq := syncproto.Reach{Node: syncproto.NodeID{0x01}, Role: syncproto.RoleHQ, District: 1}
	relayCayo := syncproto.Reach{Node: syncproto.NodeID{0x02}, Role: syncproto.RoleRelay, District: cayo}
	relayTol := syncproto.Reach{Node: syncproto.NodeID{0x03}, Role: syncproto.RoleRelay, District: toledo}
	lapCayo := syncproto.Reach{Node: syncproto.NodeID{0x04}, Role: syncproto.RoleField, District: cayo}
	lapTol := syncproto.Reach{Node: syncproto.NodeID{0x05}, Role: syncproto.RoleField, District: toledo}
	noDistrict := syncproto.Reach{Node: syncproto.NodeID{0x06}, Role: syncproto.RoleField}
	voterTol := syncproto.Reach{Node: syncproto.NodeID{0x07}, Role: syncproto.RoleRelay, District: toledo, Voter: true}

	national := syncproto.Stream{Origin: lapTol.Node, Lane: 0x01}
	tolByTol := syncproto.Stream{Origin: lapTol.Node, Lane: syncproto.MakeLane(3, toledo)}
	cayoByTol := syncproto.Stream{Origin: lapTol.Node, Lane: syncproto.MakeLane(3, cayo)} // a Toledo responder working in Cayo
	cayoByCayo := syncproto.Stream{Origin: lapCayo.Node, Lane: syncproto.MakeLane(3, cayo)}

	for _, tc := range []struct {
		who  syncproto.Reach
		st   syncproto.Stream
		want bool
	}{
		{hq, national, true}, {hq, tolByTol, true}, {hq, cayoByTol, true}, {hq, cayoByCayo, true},
		{relayCayo, national, true}, {relayCayo, tolByTol, false}, {relayCayo, cayoByTol, true}, {relayCayo, cayoByCayo, true},
		{relayTol, national, true}, {relayTol, tolByTol, true}, {relayTol, cayoByTol, false}, {relayTol, cayoByCayo, false},
		{lapCayo, national, true}, {lapCayo, tolByTol, false}, {lapCayo, cayoByTol, true}, {lapCayo, cayoByCayo, true},
		{lapTol, national, true}, {lapTol, tolByTol, true}, {lapTol, cayoByTol, true}, {lapTol, cayoByCayo, false},
		{noDistrict, national, true}, {noDistrict, tolByTol, false}, {noDistrict, cayoByCayo, false},
		{voterTol, national, true}, {voterTol, tolByTol, true}, {voterTol, cayoByTol, true}, {voterTol, cayoByCayo, true},
	} {
		if got := tc.who.Keeps(tc.st); got != tc.want {
			t.Errorf("node %s (%s, district %d) keeps %s: %v, want %v", tc.who.Node, tc.who.Role, tc.who.District, tc.st, got, tc.want)
		}
	}

	for _, tc := range []struct {
		name     string
		from, to syncproto.Reach
		st       syncproto.Stream
		want     bool
	}{
		{"a Toledo laptop's Cayo writing to its home relay", lapTol, relayTol, cayoByTol, true},
		{"a Toledo laptop's Cayo writing to Cayo's relay", lapTol, relayCayo, cayoByTol, true},
		{"a Toledo laptop's Cayo writing to HQ", lapTol, hq, cayoByTol, true},
		{"a Toledo laptop's Cayo writing to another Toledo laptop", lapTol, syncproto.Reach{Node: syncproto.NodeID{9}, Role: syncproto.RoleField, District: toledo}, cayoByTol, false},
		{"a Cayo laptop's writing to Toledo's relay, to carry", lapCayo, relayTol, cayoByCayo, true},
		{"Cayo's relay passing a Cayo laptop's writing to Toledo's relay", relayCayo, relayTol, cayoByCayo, false},
		{"a Cayo laptop passing another's writing to Toledo's relay", lapCayo, relayTol, syncproto.Stream{Origin: syncproto.NodeID{9}, Lane: syncproto.MakeLane(3, cayo)}, false},
		{"Toledo's relay passing on a Toledo laptop's Cayo writing to HQ", relayTol, hq, cayoByTol, true},
		{"Toledo's relay passing on a Toledo laptop's Cayo writing to a Toledo laptop", relayTol, syncproto.Reach{Node: syncproto.NodeID{9}, Role: syncproto.RoleField, District: toledo}, cayoByTol, false},
		{"HQ to a Toledo laptop, Cayo's records", hq, lapTol, cayoByCayo, false},
		{"HQ to a Toledo laptop, its own records", hq, lapTol, cayoByTol, true},
		{"a laptop of no district to a relay of none", noDistrict, syncproto.Reach{Node: syncproto.NodeID{8}, Role: syncproto.RoleRelay}, syncproto.Stream{Origin: noDistrict.Node, Lane: syncproto.MakeLane(3, cayo)}, true},
		{"a laptop's own writing to another laptop", lapCayo, lapTol, cayoByCayo, false},
	} {
		if got := syncproto.Passes(tc.from, tc.to, tc.st); got != tc.want {
			t.Errorf("%s: passes %v, want %v", tc.name, got, tc.want)
		}
	}
}
