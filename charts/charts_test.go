package charts_test

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lifeline/charts"
	"lifeline/node"
)

// report is a report of three districts, as node.Report makes them.
func report() node.Report {
	row := func(d string, damage [node.DamageLevels]int, occupancy, capacity int) node.DistrictReport {
		return node.DistrictReport{District: d, Records: map[string]int{}, Damage: damage, Occupancy: occupancy, Capacity: capacity}
	}
	return node.Report{Districts: []node.DistrictReport{
		row("Belize", [5]int{3, 5, 2, 1, 0}, 180, 240),
		row("Cayo", [5]int{0, 1, 4, 6, 2}, 90, 60),
		row("Toledo", [5]int{}, 0, 0),
	}}
}

func series() node.Series {
	loc := time.FixedZone("CST", -6*3600)
	var s node.Series
	for d := range 5 {
		s.Days = append(s.Days, node.DayCount{Day: time.Date(2026, 11, 2+d, 0, 0, 0, 0, loc), Missing: d, Found: 4 - d})
	}
	counts := make([]int, 48)
	for h := range 48 {
		s.Hours = append(s.Hours, time.Date(2026, 11, 3, 9+h, 0, 0, 0, loc))
		counts[h] = h % 7
	}
	s.Written = []node.HourlyCounts{{District: "Belize", Counts: counts}, {District: "Cayo", Counts: counts}, {District: "", Counts: counts}}
	return s
}

// TestChartsDrawAtTheSizeAsked draws each chart and checks that it has
// the size asked for and that it is a chart: most of it background, and
// the colours of its bars present.
func TestChartsDrawAtTheSizeAsked(t *testing.T) {
	draw := map[string]func(lang string, size charts.Size) (*image.RGBA, error){
		"damage":   func(lang string, size charts.Size) (*image.RGBA, error) { return charts.Damage(report(), lang, size) },
		"shelters": func(lang string, size charts.Size) (*image.RGBA, error) { return charts.Shelters(report(), lang, size) },
		"missing":  func(lang string, size charts.Size) (*image.RGBA, error) { return charts.Missing(series(), lang, size) },
		"written":  func(lang string, size charts.Size) (*image.RGBA, error) { return charts.Written(series(), lang, size) },
		"missing-none": func(lang string, size charts.Size) (*image.RGBA, error) {
			return charts.Missing(node.Series{}, lang, size)
		},
		"written-none": func(lang string, size charts.Size) (*image.RGBA, error) {
			return charts.Written(node.Series{}, lang, size)
		},
	}
	// The colour a chart must show: the darkest damage level (Cayo has
	// two destroyed), the blue of occupancy and found, the orange of
	// Belize's records.
	must := map[string]color.RGBA{
		"damage":   {0x44, 0x01, 0x54, 0xff},
		"shelters": {0x00, 0x72, 0xb2, 0xff},
		"missing":  {0x00, 0x72, 0xb2, 0xff},
		"written":  {0xe6, 0x9f, 0x00, 0xff},
	}
	dir := os.Getenv("LIFELINE_CHARTS_DIR") // to look at them
	for name, fn := range draw {
		for _, size := range []charts.Size{{W: 480, H: 280, Scale: 1}, {W: 1600, H: 900, Scale: 2}} {
			langs := []string{charts.English, charts.Spanish, charts.Bilingual}
			if size.Scale > 1 {
				langs = langs[2:] // as the situation report draws them
			}
			for _, lang := range langs {
				img, err := fn(lang, size)
				if err != nil {
					t.Fatalf("%s %v %s: %v", name, size, lang, err)
				}
				if b := img.Bounds(); b.Dx() != size.W || b.Dy() != size.H {
					t.Fatalf("%s: %v, want %d×%d", name, b, size.W, size.H)
				}
				white, ink, seen := 0, 0, false
				for y := 0; y < size.H; y++ {
					for x := 0; x < size.W; x++ {
						c := img.RGBAAt(x, y)
						switch {
						case c == color.RGBA{0xff, 0xff, 0xff, 0xff}:
							white++
						case c.R < 0x80 && c.G < 0x80 && c.B < 0x80:
							ink++ // text and axes
						}
						if want, ok := must[name]; ok && near(c, want) {
							seen = true
						}
					}
				}
				all := size.W * size.H
				if white < all/2 || ink < all/500 {
					t.Errorf("%s %v %s: %d of %d pixels white, %d dark: not a chart", name, size, lang, white, all, ink)
				}
				if _, ok := must[name]; ok && !seen {
					t.Errorf("%s %v %s: no pixel of the colour %v", name, size, lang, must[name])
				}
				if dir != "" && lang == charts.Bilingual {
					f, err := os.Create(filepath.Join(dir, name+"-"+string(rune('0'+int(size.Scale)))+".png"))
					if err != nil {
						t.Fatal(err)
					}
					png.Encode(f, img)
					f.Close()
				}
			}
		}
	}
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) < 8 && d(a.G, b.G) < 8 && d(a.B, b.B) < 8
}

func TestChartsRefuseASizeOutOfBounds(t *testing.T) {
	for _, size := range []charts.Size{{W: 0, H: 300, Scale: 1}, {W: 300, H: 1 << 20, Scale: 1}, {W: 300, H: 300, Scale: 0}, {W: 300, H: 300, Scale: 100}} {
		if _, err := charts.Damage(report(), charts.English, size); !errors.Is(err, charts.ErrSize) {
			t.Errorf("size %v: %v, want ErrSize", size, err)
		}
	}
}
