package desktop

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lifeline/charts"
	"lifeline/sitrep"
)

// chartsView is the Charts tab of the Headquarters screen: the four
// charts of package charts, two a row, in a scroll that fits a 1024×600
// screen, drawn again when records change and when the tab is shown; and
// the button that writes the situation report.
type chartsView struct {
	u        *UI
	note     *widget.Label
	personal *widget.Check
	result   *widget.Label
	images   [chartCount]*canvas.Image

	mu             sync.Mutex
	loading, again bool
}

// The charts, in the order they are laid out.
const (
	chartDamage = iota
	chartShelters
	chartMissing
	chartWritten
	chartCount
)

// chartSize is each chart's size on screen: two side by side fill the
// width the Headquarters screen has on a 1024-wide screen.
var chartSize = fyne.NewSize(480, 270)

func (u *UI) newChartsView() *chartsView {
	c := &chartsView{u: u, note: widget.NewLabel(u.T("charts.loading")), result: widget.NewLabel("")}
	c.note.Wrapping = fyne.TextWrapWord
	c.result.Wrapping = fyne.TextWrapWord
	c.personal = widget.NewCheck(u.T("charts.personal"), nil)
	for i := range c.images {
		img := canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 1, 1)))
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(chartSize)
		c.images[i] = img
	}
	u.whenRefreshed(c.load)
	return c
}

func (c *chartsView) content() fyne.CanvasObject {
	u := c.u
	report := widget.NewButton(u.T("charts.sitrep"), func() { askFolder(u.win, c.writeReport) })
	top := container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(c.personal, report), c.note), c.result)
	grid := container.NewGridWithColumns(2)
	for _, img := range c.images {
		grid.Add(img)
	}
	return container.NewBorder(top, nil, nil, nil, container.NewVScroll(grid))
}

// load reads the report and the series again and draws the charts, off
// the UI thread, one drawing at a time: a change during one draws again
// after it.
func (c *chartsView) load() {
	c.mu.Lock()
	if c.loading {
		c.again = true
		c.mu.Unlock()
		return
	}
	c.loading = true
	c.mu.Unlock()
	c.u.background(func() {
		for {
			imgs, err := c.draw(c.u.ctx)
			if c.u.ctx.Err() != nil {
				return
			}
			c.u.do(func() { c.show(imgs, err) })
			c.mu.Lock()
			if !c.again {
				c.loading = false
				c.mu.Unlock()
				return
			}
			c.again = false
			c.mu.Unlock()
		}
	})
}

// draw makes the four charts in the app's language, at the screen's
// density.
func (c *chartsView) draw(ctx context.Context) ([chartCount]image.Image, error) {
	var out [chartCount]image.Image
	n := c.u.node
	rep, err := n.Report(ctx)
	if err != nil {
		return out, err
	}
	series, err := n.Series(ctx, time.Local)
	if err != nil {
		return out, err
	}
	scale := 1.0
	if s := c.u.win.Canvas().Scale(); s >= 1 && s <= 3 {
		scale = float64(s)
	}
	size := charts.Size{W: int(float64(chartSize.Width) * scale), H: int(float64(chartSize.Height) * scale), Scale: scale}
	lang := c.u.Lang()
	for i, draw := range [chartCount]func() (*image.RGBA, error){
		chartDamage:   func() (*image.RGBA, error) { return charts.Damage(rep, lang, size) },
		chartShelters: func() (*image.RGBA, error) { return charts.Shelters(rep, lang, size) },
		chartMissing:  func() (*image.RGBA, error) { return charts.Missing(series, lang, size) },
		chartWritten:  func() (*image.RGBA, error) { return charts.Written(series, lang, size) },
	} {
		img, err := draw()
		if err != nil {
			return out, err
		}
		out[i] = img
	}
	return out, nil
}

// show puts drawn charts on the screen.
func (c *chartsView) show(imgs [chartCount]image.Image, err error) {
	u := c.u
	if err != nil {
		c.note.SetText(fmt.Sprintf(u.T("charts.failed"), plainError(u, err)))
		return
	}
	for i, img := range imgs {
		c.images[i].Image = img
		c.images[i].Refresh()
	}
	c.note.SetText(fmt.Sprintf(u.T("charts.note"), showTime(time.Now())))
}

// writeReport writes the situation report into a new file in dir, named
// after the day, as a job on the status line, and says where.
func (c *chartsView) writeReport(dir string) {
	u := c.u
	personal := c.personal.Checked
	var path string
	u.job(u.T("charts.writing"), func(ctx context.Context, progress func(string)) error {
		f, p, err := createExport(u.node, dir, "situation-report", "pdf")
		if err != nil {
			return err
		}
		f.Close()
		path = p
		err = sitrep.Write(ctx, u.node, p, sitrep.Options{Personal: personal, Now: time.Now(), Loc: time.Local})
		if err != nil {
			os.Remove(p)
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	}, func(err error) string {
		switch {
		case errors.Is(err, context.Canceled) && u.ctx.Err() == nil:
			c.result.SetText(u.T("charts.sitrep.cancelled"))
		case err != nil:
			c.result.SetText("")
			return ""
		case personal:
			c.result.SetText(fmt.Sprintf(u.T("charts.sitrep.personal"), path))
		default:
			c.result.SetText(fmt.Sprintf(u.T("charts.sitrep.written"), path))
		}
		return c.result.Text
	})
}
