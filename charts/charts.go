package charts

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"lifeline/node"
)

// The languages a chart's words can be in: Bilingual gives each in
// English, then Spanish ("Damage / Daños").
const (
	English   = "en"
	Spanish   = "es"
	Bilingual = "en/es"
)

// Size is an image's size in pixels, and Scale how many pixels stand for
// one at the screen's usual 96 per inch: 2 draws the same chart, twice as
// sharp, for print.
type Size struct {
	W, H  int
	Scale float64
}

// The bounds of a chart's image: large enough for a printed page at twice
// the screen's density, small enough that a wrong size asked for cannot
// take the computer's memory.
const (
	minSide = 64
	maxSide = 4096
)

// ErrSize means a chart was asked for at a size it cannot be drawn at.
var ErrSize = errors.New("chart size out of bounds")

func (s Size) check() error {
	if s.W < minSide || s.H < minSide || s.W > maxSide || s.H > maxSide || !(s.Scale >= 0.5 && s.Scale <= 4) {
		return fmt.Errorf("%w: %d×%d pixels at scale %g (each side %d to %d, scale 0.5 to 4)", ErrSize, s.W, s.H, s.Scale, minSide, maxSide)
	}
	return nil
}

// The colours. Levels runs from none (light) to destroyed (dark); the
// others are Okabe and Ito's palette, one colour per district in the
// order of schemas.Districts, then grey for records naming none.
var (
	Levels = [node.DamageLevels]color.RGBA{
		{0xfd, 0xe7, 0x25, 0xff},
		{0x5e, 0xc9, 0x62, 0xff},
		{0x21, 0x91, 0x8c, 0xff},
		{0x3b, 0x52, 0x8b, 0xff},
		{0x44, 0x01, 0x54, 0xff},
	}
	orange    = color.RGBA{0xe6, 0x9f, 0x00, 0xff}
	skyBlue   = color.RGBA{0x56, 0xb4, 0xe9, 0xff}
	green     = color.RGBA{0x00, 0x9e, 0x73, 0xff}
	yellow    = color.RGBA{0xf0, 0xe4, 0x42, 0xff}
	blue      = color.RGBA{0x00, 0x72, 0xb2, 0xff}
	vermilion = color.RGBA{0xd5, 0x5e, 0x00, 0xff}
	purple    = color.RGBA{0xcc, 0x79, 0xa7, 0xff}
	grey      = color.RGBA{0x99, 0x99, 0x99, 0xff}
	districts = []color.RGBA{orange, skyBlue, green, yellow, blue, vermilion, purple}
)

// words are the charts' texts: key → {English, Spanish}.
var words = map[string][2]string{
	"damage":        {"Buildings assessed, by damage level", "Edificios evaluados, por nivel de daño"},
	"buildings":     {"Buildings", "Edificios"},
	"level.0":       {"0 none", "0 ninguno"},
	"level.1":       {"1 minor", "1 leve"},
	"level.2":       {"2 moderate", "2 moderado"},
	"level.3":       {"3 severe", "3 grave"},
	"level.4":       {"4 destroyed", "4 destruido"},
	"shelters":      {"Shelter occupancy and capacity", "Ocupación y capacidad de los albergues"},
	"people":        {"People", "Personas"},
	"occupancy":     {"Occupancy", "Ocupación"},
	"capacity":      {"Capacity", "Capacidad"},
	"missing":       {"People reported missing and found, per day", "Personas reportadas desaparecidas y localizadas, por día"},
	"reported":      {"Reported missing", "Reportadas desaparecidas"},
	"found":         {"Found", "Localizadas"},
	"written":       {"Records written per hour, by district", "Registros escritos por hora, por distrito"},
	"records":       {"Records", "Registros"},
	"none":          {"No district", "Sin distrito"},
	"nodata":        {"no records yet", "aún no hay registros"},
	"hours.caption": {"hour starting", "hora que empieza"},
}

func word(lang, key string) string {
	w := words[key]
	switch lang {
	case Spanish:
		return w[1]
	case Bilingual:
		return w[0] + " / " + w[1]
	}
	return w[0]
}

// title is a chart's title; in both languages each has its line.
func title(lang, key string) string {
	if lang == Bilingual {
		return words[key][0] + "\n" + words[key][1]
	}
	return word(lang, key)
}

// districtName is a report row's district as a chart labels it.
func districtName(lang, d string) string {
	if d == "" {
		return word(lang, "none")
	}
	return d
}

// Damage draws the buildings assessed per district, stacked by damage
// level.
func Damage(rep node.Report, lang string, size Size) (*image.RGBA, error) {
	p, err := newPlot(title(lang, "damage"), word(lang, "buildings"), size)
	if err != nil {
		return nil, err
	}
	var names []string
	levels := make([]plotter.Values, node.DamageLevels)
	top := 0
	for _, d := range rep.Districts {
		names = append(names, districtName(lang, d.District))
		sum := 0
		for l := range levels {
			levels[l] = append(levels[l], float64(d.Damage[l]))
			sum += d.Damage[l]
		}
		top = max(top, sum)
	}
	var below *plotter.BarChart
	for l := range levels {
		bars, err := plotter.NewBarChart(levels[l], barWidth(size, len(names), 1))
		if err != nil {
			return nil, err
		}
		bars.Color = Levels[l]
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(word(lang, fmt.Sprintf("level.%d", l)), bars)
	}
	p.NominalX(names...)
	return draw1(p, top, node.DamageLevels, size)
}

// Shelters draws, per district, the people in its shelters beside the
// places they have.
func Shelters(rep node.Report, lang string, size Size) (*image.RGBA, error) {
	p, err := newPlot(title(lang, "shelters"), word(lang, "people"), size)
	if err != nil {
		return nil, err
	}
	var names []string
	var occupancy, capacity plotter.Values
	top := 0
	for _, d := range rep.Districts {
		names = append(names, districtName(lang, d.District))
		occupancy = append(occupancy, float64(d.Occupancy))
		capacity = append(capacity, float64(d.Capacity))
		top = max(top, d.Occupancy, d.Capacity)
	}
	if err := grouped(p, size, names, []plotter.Values{capacity, occupancy}, []color.RGBA{grey, blue},
		[]string{word(lang, "capacity"), word(lang, "occupancy")}); err != nil {
		return nil, err
	}
	return draw1(p, top, 2, size)
}

// Missing draws, per day, the people reported missing and those found.
func Missing(s node.Series, lang string, size Size) (*image.RGBA, error) {
	p, err := newPlot(title(lang, "missing"), word(lang, "people"), size)
	if err != nil {
		return nil, err
	}
	if len(s.Days) == 0 {
		return empty(p, lang, size)
	}
	var names []string
	var reported, found plotter.Values
	top := 0
	every := labelEvery(size, len(s.Days), 40)
	for i, d := range s.Days {
		name := ""
		if i%every == 0 {
			name = d.Day.Format("01-02")
		}
		names = append(names, name)
		reported = append(reported, float64(d.Missing))
		found = append(found, float64(d.Found))
		top = max(top, d.Missing, d.Found)
	}
	if err := grouped(p, size, names, []plotter.Values{reported, found}, []color.RGBA{orange, blue},
		[]string{word(lang, "reported"), word(lang, "found")}); err != nil {
		return nil, err
	}
	return draw1(p, top, 2, size)
}

// Written draws the records written per hour, stacked by district.
func Written(s node.Series, lang string, size Size) (*image.RGBA, error) {
	p, err := newPlot(title(lang, "written"), word(lang, "records"), size)
	if err != nil {
		return nil, err
	}
	if len(s.Hours) == 0 {
		return empty(p, lang, size)
	}
	var names []string
	every := labelEvery(size, len(s.Hours), 70)
	for i, h := range s.Hours {
		name := ""
		if i%every == 0 {
			name = h.Format("01-02 15h")
		}
		names = append(names, name)
	}
	p.X.Label.Text = word(lang, "hours.caption") + " (" + s.Hours[0].Format("MST") + ")"
	totals := make([]int, len(s.Hours))
	var below *plotter.BarChart
	for i, row := range s.Written {
		values := make(plotter.Values, len(s.Hours))
		for h := range values {
			if h < len(row.Counts) {
				values[h] = float64(row.Counts[h])
				totals[h] += row.Counts[h]
			}
		}
		bars, err := plotter.NewBarChart(values, barWidth(size, len(s.Hours), 1))
		if err != nil {
			return nil, err
		}
		bars.Color = grey
		if row.District != "" && i < len(districts) {
			bars.Color = districts[i]
		}
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(districtName(lang, row.District), bars)
	}
	p.NominalX(names...)
	top := 0
	for _, t := range totals {
		top = max(top, t)
	}
	return draw1(p, top, len(s.Written), size)
}

// newPlot is a plot with the charts' title, fonts and legend, its fonts
// sized for the image.
func newPlot(title, yLabel string, size Size) (*plot.Plot, error) {
	if err := size.check(); err != nil {
		return nil, err
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 12
	p.Title.TextStyle.Font.Variant = "Sans"
	p.Y.Label.Text = yLabel
	for _, s := range []*font.Font{&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font, &p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		s.Variant = "Sans"
		s.Size = 8
	}
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = 9, 9
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(4)
	p.Legend.ThumbnailWidth = vg.Points(10)
	p.Y.Min = 0
	p.Y.Tick.Marker = wholeTicks{}
	return p, nil
}

// grouped adds bar series side by side within each of names.
func grouped(p *plot.Plot, size Size, names []string, series []plotter.Values, colors []color.RGBA, labels []string) error {
	w := barWidth(size, len(names), len(series))
	for i, vs := range series {
		bars, err := plotter.NewBarChart(vs, w)
		if err != nil {
			return err
		}
		bars.Color = colors[i]
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		p.Legend.Add(labels[i], bars)
	}
	p.NominalX(names...)
	return nil
}

// empty draws a plot that has nothing to show, saying so.
func empty(p *plot.Plot, lang string, size Size) (*image.RGBA, error) {
	p.X.Label.Text = "(" + word(lang, "nodata") + ")"
	p.HideX()
	p.X.Min, p.X.Max = 0, 1
	return draw1(p, 0, 0, size)
}

// barWidth is the width of one bar of groups bars side by side, for n
// categories across the image.
func barWidth(size Size, n, groups int) vg.Length {
	plotWidth := vg.Length(float64(size.W)/size.dpi()) * vg.Inch * 0.8
	return max(plotWidth/vg.Length(max(n, 1))*0.8/vg.Length(groups), vg.Points(0.5))
}

// labelEvery is how many categories each label on the x axis stands for,
// so that labels about room points wide do not overlap.
func labelEvery(size Size, n int, room float64) int {
	plotWidth := float64(size.W) / size.dpi() * 72 * 0.8
	fit := max(int(plotWidth/room), 1)
	return max((n+fit-1)/fit, 1)
}

func (s Size) dpi() float64 { return 96 * s.Scale }

// draw1 leaves room above the tallest bar (top) for the legend of entries, and draws
// the plot into an image.
func draw1(p *plot.Plot, top, entries int, size Size) (*image.RGBA, error) {
	p.Y.Max = math.Max(float64(top)*(1.1+0.09*float64(entries)), 4)
	p.X.Min, p.X.Max = p.X.Min-0.5, p.X.Max+0.5
	img := image.NewRGBA(image.Rect(0, 0, size.W, size.H))
	c := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(int(math.Round(size.dpi()))))
	p.Draw(draw.New(c))
	out, ok := c.Image().(*image.RGBA)
	if !ok {
		return nil, errors.New("charts: the canvas did not draw into an RGBA image")
	}
	return out, nil
}

// wholeTicks marks whole numbers only: the charts count people and
// records.
type wholeTicks struct{}

func (wholeTicks) Ticks(lo, hi float64) []plot.Tick {
	step := wholeStep(hi - lo)
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ticks
}

// wholeStep is the smallest of 1, 2, 5, 10, 20, 50… that marks span in at
// most six steps.
func wholeStep(span float64) float64 {
	for mag := 1.0; ; mag *= 10 {
		for _, s := range []float64{1, 2, 5} {
			if span/(s*mag) <= 6 {
				return s * mag
			}
		}
	}
}
