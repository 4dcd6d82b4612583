package main

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// lifeline record add takes a damage assessment whose numbers sit at each
// bound of the kit, or just inside, keeps them as typed, and refuses one
// just outside with a reason naming the field and the bound, writing
// nothing. The bounds are restated from fieldkits/kits/damage-assessment.yaml,
// and the values tried are computed from them here.
func TestRecordAddNumericBounds(t *testing.T) {
	dir := newNode(t)
	add := []string{"record", "add", "--data", dir, "--type", "damage-assessment"}
	type value struct {
		field string
		x     float64
	}
	kept := map[string]value{} // by record id
	for _, b := range []struct {
		field    string
		integer  bool
		min, max float64
	}{
		{"damage_level", true, 0, 4},
		{"household_size", true, 0, 60},
		{"lat", false, 15.5, 18.6},
		{"lon", false, -89.5, -87.3},
	} {
		type try struct {
			x    float64
			rule string // "" when the value is taken
		}
		tries := []try{{b.min, ""}, {b.max, ""}}
		if b.integer {
			tries = append(tries, try{b.min + 1, ""}, try{b.min - 1, "min"}, try{b.max - 1, ""}, try{b.max + 1, "max"})
		} else {
			// A ten-thousandth, as the form shows degrees, and the nearest
			// other float64.
			tries = append(tries, try{b.min + 0.0001, ""}, try{b.min - 0.0001, "min"}, try{b.max - 0.0001, ""}, try{b.max + 0.0001, "max"},
				try{math.Nextafter(b.min, b.max), ""}, try{math.Nextafter(b.min, math.Inf(-1)), "min"},
				try{math.Nextafter(b.max, b.min), ""}, try{math.Nextafter(b.max, math.Inf(1)), "max"})
		}
		for _, tr := range tries {
			lit := strconv.FormatFloat(tr.x, 'g', -1, 64)
			t.Run(b.field+"="+lit, func(t *testing.T) {
				input := withField(t, assessment, b.field, lit)
				if tr.rule != "" {
					word := map[string]string{"min": "below the minimum", "max": "above the maximum"}[tr.rule]
					fails(t, input, []string{"damage-assessment." + b.field, word, "rule " + tr.rule}, add...)
					return
				}
				kept[strings.TrimSpace(ok(t, input, add...))] = value{b.field, tr.x}
			})
		}
	}
	var list []struct {
		ID     string
		Fields map[string]any
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "list", "--data", dir, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != len(kept) {
		t.Fatalf("%d records, want the %d taken: a refused one was written", len(list), len(kept))
	}
	for _, rec := range list {
		want, ok := kept[rec.ID]
		if !ok {
			t.Fatalf("record %s was not taken", rec.ID)
		}
		if got := rec.Fields[want.field]; got != want.x {
			t.Errorf("record %s keeps %s = %v, want %v as typed", rec.ID, want.field, got, want.x)
		}
	}
}

// withField is a JSON object with one member set to a number, written as
// given.
func withField(t *testing.T, object, field, number string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(object), &m); err != nil {
		t.Fatal(err)
	}
	m[field] = json.RawMessage(number)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
