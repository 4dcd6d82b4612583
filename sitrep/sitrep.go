// Package sitrep writes the situation report: a dated PDF of a few pages,
// in English and Spanish, that headquarters hands on to those who do not
// run Lifeline. It reads an opened node (its report, its series, its
// records) and draws the map (atlas) and the charts (charts) into it.
//
// Personal data stays out unless asked for: then the names of the people
// still missing, per district, with those this node cannot open (another
// district's sealed data) shown as withheld.
package sitrep

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"lifeline/atlas"
	"lifeline/charts"
	"lifeline/node"
	"lifeline/node/atomicfile"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Options choose what a report holds and how its times read.
type Options struct {
	// Personal adds the names of the people still missing.
	Personal bool
	// Now is when the report is made; Loc the zone its local times are in.
	Now time.Time
	Loc *time.Location
}

// The page: A4 portrait, in millimetres.
const (
	pageW  = 210.0
	margin = 15.0
	textW  = pageW - 2*margin
)

// pageCount is where the footer's count of pages goes.
const pageCount = "\x01nb\x01"

// Write makes the report of n and writes it to path whole or not at all:
// readable by its owner only when it holds personal data. A path in the
// node's data folder is refused (node.CheckExportPath).
func Write(ctx context.Context, n *node.Node, path string, opts Options) error {
	if err := n.CheckExportPath(path); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := Render(ctx, n, &buf, opts); err != nil {
		return err
	}
	perm := os.FileMode(0o644)
	if opts.Personal {
		perm = 0o600
	}
	return atomicfile.Write(path, buf.Bytes(), perm)
}

// Render writes the report of n as a PDF to w.
func Render(ctx context.Context, n *node.Node, w io.Writer, opts Options) error {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Loc == nil {
		opts.Loc = time.Local
	}
	rep, err := n.Report(ctx)
	if err != nil {
		return err
	}
	series, err := n.Series(ctx, opts.Loc)
	if err != nil {
		return err
	}
	r := &report{n: n, opts: opts, rep: rep, series: series}
	if err := r.read(ctx); err != nil {
		return err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	r.pdf, r.tr = pdf, pdf.UnicodeTranslatorFromDescriptor("") // cp1252: Spanish's letters
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCreationDate(opts.Now)
	pdf.SetModificationDate(opts.Now)
	pdf.SetTitle(r.tr("Situation report / Informe de situación"), false)
	pdf.SetCreator("Lifeline", false)
	// The page count's mark is of bytes no text holds once made
	// printable (node.Printable): "{nb}", the usual mark, would turn a
	// name written so into the count.
	pdf.AliasNbPages(pageCount)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(textW/2, 5, r.tr("NEMO · Lifeline · "+r.madeAt()), "", 0, "L", false, 0, "")
		pdf.CellFormat(textW/2, 5, fmt.Sprintf("%d / %s", pdf.PageNo(), pageCount), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	r.situation()
	if err := r.mapPage(); err != nil {
		return err
	}
	if err := r.chartPages(); err != nil {
		return err
	}
	if opts.Personal {
		r.missingPage()
	}
	return pdf.Output(w)
}

// report is one report being written.
type report struct {
	n      *node.Node
	opts   Options
	rep    node.Report
	series node.Series
	// Read from the records: the points of the map, the records in
	// conflict and waiting for review per district, and the names of the
	// people still missing (only with Personal).
	points    []atlas.Point
	review    map[string]int
	missing   map[string][]string
	reviewing bool // this node reviews records: a relay or headquarters

	pdf *fpdf.Fpdf
	tr  func(string) string
}

// read gathers what the report needs beside the node's report and
// series: the map's points, and from the records the names of the
// missing and what waits for review.
func (r *report) read(ctx context.Context) error {
	r.missing = map[string][]string{}
	r.review = map[string]int{}
	for v, err := range r.n.Records(ctx, node.Query{Type: "missing-person"}) {
		if err != nil {
			return err
		}
		if !r.opts.Personal {
			break
		}
		if text(v.Fields["status"]) != "missing" {
			continue
		}
		district, _ := schemas.District(text(v.Fields["district"]))
		name := node.Printable(text(v.Fields["full_name"]))
		if _, ok := v.Fields["full_name"].(node.Withheld); ok {
			name = "(" + word("withheld") + ")"
		}
		if name == "" {
			name = "(" + word("noname") + ")"
		}
		if v.Case != "" {
			name += " — " + node.Printable(v.Case)
		}
		r.missing[district] = append(r.missing[district], name)
	}
	points, err := r.n.MapPoints(ctx, node.MapFilter{})
	if err != nil {
		return err
	}
	r.points = points
	self := r.n.Self()
	r.reviewing = self.Role != syncproto.RoleField
	if r.reviewing {
		for v, err := range r.n.Reviewed(ctx, node.Query{}, node.ReviewPending) {
			if err != nil {
				return err
			}
			district, _ := schemas.District(text(v.Fields["district"]))
			r.review[district]++
		}
	}
	return nil
}

// words are the report's texts, each English / Spanish.
var words = map[string][2]string{
	"title":       {"Situation report", "Informe de situación"},
	"made":        {"Made at", "Hecho el"},
	"by":          {"By", "Por"},
	"situation":   {"Situation per district", "Situación por distrito"},
	"district":    {"District", "Distrito"},
	"records":     {"Records", "Registros"},
	"damage":      {"Damage 0/1/2/3/4", "Daños 0/1/2/3/4"},
	"displaced":   {"Displaced", "Desplazados"},
	"sheltered":   {"Sheltered", "Albergados"},
	"open":        {"Shelters open", "Albergues abiertos"},
	"missingcol":  {"Missing", "Desaparecidos"},
	"total":       {"Total", "Total"},
	"nodistrict":  {"No district", "Sin distrito"},
	"levels":      {"Damage levels: 0 none, 1 minor, 2 moderate, 3 severe (unsafe to live in), 4 destroyed. Sheltered: people of families registered at a shelter that have not left. Missing: people reported missing not yet found.", "Niveles de daño: 0 ninguno, 1 leve, 2 moderado, 3 grave (inhabitable), 4 destruido. Albergados: personas de familias registradas en un albergue que no se han ido. Desaparecidos: personas reportadas desaparecidas aún no localizadas."},
	"unconfirmed": {"Still unconfirmed", "Aún sin confirmar"},
	"notconf":     {"Not yet confirmed at HQ", "Aún no confirmados en la sede"},
	"conflict":    {"In conflict", "En conflicto"},
	"review":      {"Awaiting review", "Pendientes de revisión"},
	"unconfnote":  {"Records holding a change headquarters' ledger has not yet confirmed: the figures above may still change when they are. In conflict: records on which two people wrote different values, counted with the value that wins until someone decides. Awaiting review: records nobody reviewed yet.", "Registros con un cambio que el registro de la sede aún no ha confirmado: las cifras de arriba pueden cambiar cuando lo haga. En conflicto: registros en los que dos personas escribieron valores distintos, contados con el valor que prevalece hasta que alguien decida. Pendientes de revisión: registros que nadie ha revisado aún."},
	"map":         {"Map of the records", "Mapa de los registros"},
	"mapnote":     {"Shelters, damage assessments and people still missing where they were last seen; nearby records are drawn as one circle with their count.", "Albergues, evaluaciones de daños y personas aún desaparecidas donde se les vio por última vez; los registros cercanos se dibujan como un círculo con su número."},
	"charts":      {"Charts", "Gráficos"},
	"chartnote":   {"Records count in the hour they were written, by their writer's clock: Lifeline keeps no time of when a record reached this computer.", "Los registros cuentan en la hora en que se escribieron, según el reloj de quien los escribió: Lifeline no guarda la hora en que un registro llegó a esta computadora."},
	"people":      {"People still missing", "Personas aún desaparecidas"},
	"personal":    {"Personal data: keep this report where only the response team reads it.", "Datos personales: guarde este informe donde solo lo lea el equipo de respuesta."},
	"nobody":      {"Nobody reported missing is still missing.", "Nadie reportado como desaparecido sigue desaparecido."},
	"withheld":    {"withheld: personal data of another district", "retenido: datos personales de otro distrito"},
	"noname":      {"no name", "sin nombre"},
	"role.field":  {"field laptop", "portátil de campo"},
	"role.relay":  {"district relay", "relevo distrital"},
	"role.hq":     {"headquarters", "sede central"},
}

// word is a text in both languages.
func word(key string) string {
	if w := words[key]; w[0] != w[1] {
		return w[0] + " / " + w[1]
	}
	return words[key][0]
}

func (r *report) madeAt() string {
	local := r.opts.Now.In(r.opts.Loc)
	return local.Format("2006-01-02 15:04 MST") + " (" + r.opts.Now.UTC().Format("15:04 UTC") + ")"
}

// heading writes a section's heading, English above Spanish.
func (r *report) heading(key string) {
	p := r.pdf
	p.SetFont("Helvetica", "B", 14)
	p.CellFormat(textW, 7, r.tr(words[key][0]), "", 1, "L", false, 0, "")
	p.SetFont("Helvetica", "I", 12)
	p.SetTextColor(70, 70, 70)
	p.CellFormat(textW, 6, r.tr(words[key][1]), "", 1, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.Ln(2)
}

// note writes a paragraph in both languages.
func (r *report) note(key string) {
	p := r.pdf
	p.SetFont("Helvetica", "", 8)
	p.MultiCell(textW, 3.8, r.tr(words[key][0]), "", "L", false)
	p.SetTextColor(70, 70, 70)
	p.SetFont("Helvetica", "I", 8)
	p.MultiCell(textW, 3.8, r.tr(words[key][1]), "", "L", false)
	p.SetTextColor(0, 0, 0)
	p.Ln(3)
}

// table writes a table whose header cells hold each heading in both
// languages, one above the other.
func (r *report) table(widths []float64, heads []string, rows [][]string, boldLast bool) {
	p := r.pdf
	p.SetFillColor(225, 232, 240)
	p.SetFont("Helvetica", "B", 8)
	x, y := p.GetXY()
	for i, h := range heads {
		p.SetXY(x, y)
		p.CellFormat(widths[i], 9, "", "1", 0, "C", true, 0, "")
		p.SetXY(x, y+0.8)
		p.SetFont("Helvetica", "B", 8)
		p.CellFormat(widths[i], 3.8, r.tr(words[h][0]), "", 0, "C", false, 0, "")
		p.SetXY(x, y+4.6)
		p.SetFont("Helvetica", "I", 8)
		p.CellFormat(widths[i], 3.8, r.tr(words[h][1]), "", 0, "C", false, 0, "")
		x += widths[i]
	}
	p.SetXY(margin, y+9)
	for i, row := range rows {
		style := ""
		if boldLast && i == len(rows)-1 {
			style = "B"
		}
		p.SetFont("Helvetica", style, 9)
		for c, cell := range row {
			align := "R"
			if c == 0 {
				align = "L"
			}
			p.CellFormat(widths[c], 6, r.tr(cell), "1", 0, align, false, 0, "")
		}
		p.Ln(-1)
	}
	p.Ln(4)
}

// districtName is a row's district as the report names it.
func districtName(d string) string {
	if d == "" {
		return word("nodistrict")
	}
	return d
}

// situation is the first page: the title, and the node's report and what
// of it is still unconfirmed, per district.
func (r *report) situation() {
	p := r.pdf
	p.AddPage()
	p.SetFont("Helvetica", "B", 20)
	p.CellFormat(textW, 10, r.tr(word("title")), "", 1, "L", false, 0, "")
	self := r.n.Self()
	p.SetFont("Helvetica", "", 10)
	p.CellFormat(textW, 5.5, r.tr(word("made")+": "+r.madeAt()), "", 1, "L", false, 0, "")
	role := "role." + string(self.Role)
	p.CellFormat(textW, 5.5, r.tr(word("by")+": "+node.Printable(self.Name)+" ("+word(role)+", "+node.Printable(self.District)+")"), "", 1, "L", false, 0, "")
	p.Ln(5)

	r.heading("situation")
	var rows [][]string
	for _, d := range append(slices.Clone(r.rep.Districts), r.rep.Total) {
		name := districtName(d.District)
		if len(rows) == len(r.rep.Districts) {
			name = word("total")
		}
		records := 0
		for _, c := range d.Records {
			records += c
		}
		levels := make([]string, len(d.Damage))
		for l, c := range d.Damage {
			levels[l] = fmt.Sprint(c)
		}
		rows = append(rows, []string{name, fmt.Sprint(records), strings.Join(levels, "/"), fmt.Sprint(d.Displaced), fmt.Sprint(d.People),
			fmt.Sprintf("%d/%d", d.SheltersOpen, d.Shelters), fmt.Sprint(d.Missing)})
	}
	r.table([]float64{34, 22, 32, 22, 22, 28, 20},
		[]string{"district", "records", "damage", "displaced", "sheltered", "open", "missingcol"}, rows, true)
	r.note("levels")

	r.heading("unconfirmed")
	heads := []string{"district", "notconf", "conflict"}
	widths := []float64{40, 60, 40}
	if r.reviewing {
		heads, widths = append(heads, "review"), append(widths, 40)
	}
	rows = nil
	var total [3]int
	for _, d := range r.rep.Districts {
		row := []string{districtName(d.District), fmt.Sprint(r.series.Unconfirmed[d.District]), fmt.Sprint(d.Conflicts)}
		total[0] += r.series.Unconfirmed[d.District]
		total[1] += d.Conflicts
		if r.reviewing {
			row = append(row, fmt.Sprint(r.review[d.District]))
			total[2] += r.review[d.District]
		}
		rows = append(rows, row)
	}
	row := []string{word("total"), fmt.Sprint(total[0]), fmt.Sprint(total[1])}
	if r.reviewing {
		row = append(row, fmt.Sprint(total[2]))
	}
	r.table(widths, heads, append(rows, row), true)
	r.note("unconfnote")
}

// image places img across the text's width at the current line.
func (r *report) image(name string, img image.Image, w, h float64) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	p := r.pdf
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	p.RegisterImageOptionsReader(name, opts, &buf)
	p.ImageOptions(name, margin, p.GetY(), w, h, false, opts, 0, "")
	p.SetY(p.GetY() + h + 3)
	return p.Error()
}

// mapPage draws the records on the map of Belize's districts.
func (r *report) mapPage() error {
	r.pdf.AddPage()
	r.heading("map")
	const wPx, hPx = 760, 980 // Belize is taller than wide; the map's words readable at 13 cm
	img := image.NewRGBA(image.Rect(0, 0, wPx, hPx))
	atlas.Render(img, atlas.Fit(atlas.BelizeBounds(), wPx, hPx), r.points, "en")
	h := 195.0
	w := h * wPx / hPx
	if err := r.image("map", img, w, h); err != nil {
		return err
	}
	r.note("mapnote")
	return nil
}

// chartPages draws the four charts, two a page.
func (r *report) chartPages() error {
	size := charts.Size{W: 1600, H: 860, Scale: 2}
	draws := []func() (*image.RGBA, error){
		func() (*image.RGBA, error) { return charts.Damage(r.rep, charts.Bilingual, size) },
		func() (*image.RGBA, error) { return charts.Shelters(r.rep, charts.Bilingual, size) },
		func() (*image.RGBA, error) { return charts.Missing(r.series, charts.Bilingual, size) },
		func() (*image.RGBA, error) { return charts.Written(r.series, charts.Bilingual, size) },
	}
	for i, draw := range draws {
		if i%2 == 0 {
			r.pdf.AddPage()
			r.heading("charts")
		}
		img, err := draw()
		if err != nil {
			return err
		}
		if err := r.image(fmt.Sprintf("chart%d", i), img, textW, textW*float64(size.H)/float64(size.W)); err != nil {
			return err
		}
		if i == len(draws)-1 {
			r.note("chartnote")
		}
	}
	return nil
}

// missingPage names the people still missing, per district.
func (r *report) missingPage() {
	p := r.pdf
	p.AddPage()
	r.heading("people")
	p.SetFont("Helvetica", "B", 9)
	p.SetTextColor(160, 40, 0)
	p.MultiCell(textW, 4.5, r.tr(word("personal")), "", "L", false)
	p.SetTextColor(0, 0, 0)
	p.Ln(3)
	any := false
	for _, d := range append(slices.Clone(schemas.Districts), "") {
		names := r.missing[d]
		if len(names) == 0 {
			continue
		}
		any = true
		slices.Sort(names)
		p.SetFont("Helvetica", "B", 11)
		p.CellFormat(textW, 6, r.tr(fmt.Sprintf("%s (%d)", districtName(d), len(names))), "", 1, "L", false, 0, "")
		p.SetFont("Helvetica", "", 10)
		// A name may be as long as a line (120 characters, more once made
		// printable): it wraps, so that its end and its case number stay
		// on the page.
		const indent = 3
		for _, name := range names {
			p.SetX(margin + indent)
			p.MultiCell(textW-indent, 5, r.tr(name), "", "L", false)
		}
		p.Ln(2)
	}
	if !any {
		p.SetFont("Helvetica", "", 10)
		p.MultiCell(textW, 5, r.tr(word("nobody")), "", "L", false)
	}
}

func text(v any) string {
	s, _ := v.(string)
	return s
}

func integer(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case uint64:
		return int(x), true
	}
	return 0, false
}
