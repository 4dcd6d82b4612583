package desktop

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/gps"
	"lifeline/schemas"
)

// How long "Use my position" waits for a fix, and how old a fix it takes.
const (
	gpsWait   = 15 * time.Second
	gpsMaxAge = 10 * time.Second
)

// findGPS opens the first receiver gps.Find lists, or else gpsd at its
// default address, and returns its Reader, already reading until ctx ends.
func findGPS(ctx context.Context) (*gps.Reader, error) {
	var devErr error
	if devices := gps.Find(); len(devices) > 0 {
		r, err := gps.Open(ctx, devices[0].Path, 0)
		if err == nil {
			return r, nil
		}
		devErr = err
	}
	r, err := gps.DialGPSD(ctx, "")
	if err != nil {
		return nil, errors.Join(devErr, err)
	}
	return r, nil
}

// hasPosition reports whether t has the decimal fields lat and lon that
// "Use my position" fills.
func hasPosition(t *schemas.Type) bool {
	n := 0
	for _, f := range t.Fields {
		if (f.Name == "lat" || f.Name == "lon") && f.Type == schemas.Decimal {
			n++
		}
	}
	return n == 2
}

// positionButton is a form's "Use my position": the button beside the
// lat field, and the line under lat and lon that says what the GPS gave.
type positionButton struct {
	fm     *form
	button *widget.Button
	status *widget.Label
}

func (fm *form) newPositionButton() *positionButton {
	p := &positionButton{fm: fm}
	p.button = widget.NewButton(fm.u.T("form.gps.use"), p.use)
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()
	return p
}

// beside lays out the button on the right of the lat input.
func (p *positionButton) beside(input fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, nil, p.button, input)
}

// use reads a fix off the UI thread and fills lat and lon with it, or says
// why there is none, leaving them as they were.
func (p *positionButton) use() {
	u := p.fm.u
	p.button.Disable()
	p.say(widget.MediumImportance, u.T("form.gps.waiting"))
	u.background(func() {
		fix, err := readFix(u.ctx, u.gpsSource)
		u.do(func() {
			p.button.Enable()
			if err != nil {
				p.say(widget.DangerImportance, fmt.Sprintf(u.T("form.gps.failed"), node.Printable(err.Error())))
				return
			}
			p.fill(fix)
		})
	})
}

// readFix opens the receiver with open and waits for a recent fix.
func readFix(ctx context.Context, open func(context.Context) (*gps.Reader, error)) (gps.Fix, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := open(ctx)
	if err != nil {
		return gps.Fix{}, err
	}
	defer r.Close()
	wait, stop := context.WithTimeout(ctx, gpsWait)
	defer stop()
	return r.Wait(wait, gpsMaxAge)
}

// fill puts the fix in lat and lon, rounded to 6 decimals (about 10 cm),
// and says how good it is.
func (p *positionButton) fill(fix gps.Fix) {
	u := p.fm.u
	round := func(x float64) float64 { return math.Round(x*1e6) / 1e6 }
	for name, v := range map[string]float64{"lat": fix.Lat, "lon": fix.Lon} {
		if ff, ok := p.fm.byName[name]; ok {
			ff.input.setValue(round(v))
		}
	}
	age := int(fix.Age().Round(time.Second) / time.Second)
	if fix.Quality.Measured() {
		p.say(widget.SuccessImportance, fmt.Sprintf(u.T("form.gps.fix"), fix.Satellites, fix.HDOP, age))
	} else {
		p.say(widget.WarningImportance, fmt.Sprintf(u.T("form.gps.estimated"), fix.Satellites, fix.HDOP, age))
	}
}

func (p *positionButton) say(importance widget.Importance, s string) {
	p.status.Importance = importance
	p.status.SetText(s)
	p.status.Show()
}
