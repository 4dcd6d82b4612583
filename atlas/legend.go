package atlas

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// legendTexts are the legend's words in the languages the map speaks.
var legendTexts = map[string]map[string]string{
	"en": {
		"damage":  "Damage level",
		"0":       "0 none",
		"1":       "1 minor",
		"2":       "2 moderate",
		"3":       "3 severe",
		"4":       "4 destroyed",
		"room":    "Shelter with room",
		"nearly":  "Shelter nearly full",
		"full":    "Shelter full",
		"missing": "Person still missing",
		"cluster": "Several records (count)",
		"source":  "Districts: Natural Earth",
	},
	"es": {
		"damage":  "Nivel de daño",
		"0":       "0 ninguno",
		"1":       "1 leve",
		"2":       "2 moderado",
		"3":       "3 grave",
		"4":       "4 destruido",
		"room":    "Albergue con espacio",
		"nearly":  "Albergue casi lleno",
		"full":    "Albergue lleno",
		"missing": "Persona aún desaparecida",
		"cluster": "Varios registros (cantidad)",
		"source":  "Distritos: Natural Earth",
	},
}

const legendRow = 18

// drawLegend puts the legend in the bottom left corner, and the source of
// the districts in the bottom right, when the image has room for them.
func drawLegend(dst *image.RGBA, lang string, regular, bold font.Face) {
	t, ok := legendTexts[lang]
	if !ok {
		t = legendTexts["en"]
	}
	W, H := dst.Rect.Dx(), dst.Rect.Dy()
	src := t["source"]
	if sw := font.MeasureString(regular, src).Ceil(); sw+8 < W {
		haloText(dst, regular, src, W-sw-6, H-6, textInk)
	}

	rows := []string{"damage", "0", "1", "2", "3", "4", "room", "nearly", "full", "missing", "cluster"}
	w := 0
	for _, k := range rows {
		w = max(w, font.MeasureString(bold, t[k]).Ceil())
	}
	w += 38
	h := len(rows)*legendRow + 10
	if w*3 > W || h*4 > H*3 {
		return // a small picture is better without it
	}
	box := image.Rect(8, H-h-8, 8+w, H-8)
	draw.Draw(dst, box, image.NewUniform(color.NRGBA{0xff, 0xff, 0xff, 0xe8}), image.Point{}, draw.Over)
	x, y := float64(box.Min.X+16), float64(box.Min.Y+5)
	for _, k := range rows {
		cy := y + legendRow/2
		face := regular
		switch k {
		case "damage":
			face = bold
		case "0", "1", "2", "3", "4":
			lvl := int(k[0] - '0')
			drawPoint(dst, Mark{X: x, Y: cy}, Point{Layer: Damage, Level: lvl})
		case "room":
			drawPoint(dst, Mark{X: x, Y: cy}, Point{Layer: Shelters, Occupancy: 10, Capacity: 100})
		case "nearly":
			drawPoint(dst, Mark{X: x, Y: cy}, Point{Layer: Shelters, Occupancy: 90, Capacity: 100})
		case "full":
			drawPoint(dst, Mark{X: x, Y: cy}, Point{Layer: Shelters, Occupancy: 100, Capacity: 100})
		case "missing":
			drawPoint(dst, Mark{X: x, Y: cy}, Point{Layer: Missing})
		case "cluster":
			disc(dst, x, cy, 8, clusterInk)
		}
		d := font.Drawer{Dst: dst, Face: face, Src: image.NewUniform(textInk), Dot: fixed.P(int(x)+16, int(cy)+5)}
		if k == "damage" {
			d.Dot = fixed.P(int(x)-8, int(cy)+5)
		}
		d.DrawString(t[k])
		y += legendRow
	}
}
