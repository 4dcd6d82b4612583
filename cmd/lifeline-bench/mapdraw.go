package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"slices"
	"time"

	"lifeline/atlas"
)

// A1: drawing headquarters' map of Belize with the workload's 50,000
// damage assessments at 1280×800, as the desktop's Map tab and the
// situation report draw it: whole Belize, and zoomed four times into Belize
// City, where more points stand alone.
func init() {
	register(workload{name: "A1-map", what: "draw the map, 50,000 points, 1280×800", rows: mapDraw})
}

func mapDraw(ctx context.Context, e *env) ([]namedResult, error) {
	pts, err := damagePoints(e.damage)
	if err != nil {
		return nil, err
	}
	const w, h, draws = 1280, 800, 15
	whole := atlas.Fit(atlas.BelizeBounds(), w, h)
	city := atlas.View{Lat: 17.4986, Lon: -88.1967, Scale: whole.Scale * 4, Width: w, Height: h}
	var out []namedResult
	for _, c := range []struct {
		name, what string
		v          atlas.View
	}{{"A1-map", "draw the map of Belize, 50,000 points, 1280×800", whole}, {"A1-map-zoom4", "the same, four times closer on Belize City", city}} {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		var times []time.Duration
		marks := 0
		for range draws {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			start := time.Now()
			marks = len(atlas.Render(img, c.v, pts, "en"))
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		out = append(out, namedResult{name: c.name, what: c.what, result: result{Records: len(pts), Elapsed: times[len(times)/2],
			Extra: fmt.Sprintf("; median of %d draws (fastest %v, slowest %v); %d marks drawn", draws, times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), marks)}})
	}
	return out, nil
}

// damagePoints reads the place and damage level of each assessment.
func damagePoints(file string) ([]atlas.Point, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pts []atlas.Point
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct {
			ID       string   `json:"id"`
			District string   `json:"district"`
			Lat      *float64 `json:"lat"`
			Lon      *float64 `json:"lon"`
			Level    *int     `json:"damage_level"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", file, len(pts)+1, err)
		}
		if r.Lat == nil || r.Lon == nil {
			continue
		}
		p := atlas.Point{ID: r.ID, Layer: atlas.Damage, Lat: *r.Lat, Lon: *r.Lon, Level: -1, District: r.District}
		if r.Level != nil {
			p.Level = *r.Level
		}
		pts = append(pts, p)
	}
	return pts, sc.Err()
}
