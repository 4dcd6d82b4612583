package desktop

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"lifeline/node/gps"
	"lifeline/syncproto"
)

// nmea makes a sentence of body with its checksum: the XOR of the bytes
// between $ and *.
func nmea(body string) string {
	var sum byte
	for i := 0; i < len(body); i++ {
		sum ^= body[i]
	}
	return fmt.Sprintf("$%s*%02X\r\n", body, sum)
}

// pipeGPS is a source of a Reader of what a receiver sends: lines, then
// the end of its input.
func pipeGPS(lines ...string) func(ctx context.Context) (*gps.Reader, error) {
	return func(ctx context.Context) (*gps.Reader, error) {
		pr, pw := io.Pipe()
		r := gps.NewReader(pr)
		go r.Run(ctx)
		go func() {
			for _, l := range lines {
				if _, err := io.WriteString(pw, l); err != nil {
					return
				}
			}
			pw.Close()
		}()
		return r, nil
	}
}

func TestUseMyPositionFillsLatAndLon(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	u.gpsSource = pipeGPS(
		nmea("GPGGA,123519,1715.000,N,08846.000,W,1,08,0.9,75.2,M,-18.0,M,,"),
		nmea("GPRMC,123519,A,1715.000,N,08846.000,W,0.0,0.0,230394,,,A"),
	)
	fm := openType(t, u, "Initial damage assessment", "Building damage assessment")
	p := fm.position
	if p.button.Text != "Use my position" {
		t.Fatalf("button %q", p.button.Text)
	}
	test.Tap(p.button)
	u.bg.Wait()

	if got := fm.input(t, "lat").entry.Text; got != "17.25" {
		t.Errorf("lat %q, want 17.25", got)
	}
	if got := fm.input(t, "lon").entry.Text; got != "-88.766667" {
		t.Errorf("lon %q, want -88.766667", got)
	}
	if got := p.status.Text; !p.status.Visible() || !strings.HasPrefix(got, "GPS fix: 8 satellites, HDOP 0.9, ") || !strings.HasSuffix(got, " s old") {
		t.Errorf("status line %q (shown: %v)", got, p.status.Visible())
	}
	if p.button.Disabled() {
		t.Error("button left disabled")
	}
	// The values are the form's: they are kept in its draft and saved.
	if v, err := fm.input(t, "lat").value(); err != nil || v != 17.25 {
		t.Errorf("lat value %v, %v", v, err)
	}
}

func TestUseMyPositionWarnsOfAnEstimate(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	u.gpsSource = pipeGPS(nmea("GPGGA,123519,1715.000,N,08846.000,W,6,00,,,,,,,"))
	fm := openType(t, u, "Evaluación inicial de daños", "Evaluación de daños a la edificación")
	p := fm.position
	if p.button.Text != "Usar mi posición" {
		t.Fatalf("button %q", p.button.Text)
	}
	test.Tap(p.button)
	u.bg.Wait()
	if got := fm.input(t, "lat").entry.Text; got != "17.25" {
		t.Errorf("lat %q, want 17.25", got)
	}
	if got := p.status.Text; !strings.HasPrefix(got, "Posición estimada") {
		t.Errorf("status line %q", got)
	}
}

func TestUseMyPositionSaysWhyNoFix(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	u.gpsSource = pipeGPS("\x7f\x00garbage at the wrong speed\r\n")
	fm := openType(t, u, "Initial damage assessment", "Building damage assessment")
	test.Type(fm.input(t, "lat").entry, "17.1589")
	p := fm.position
	test.Tap(p.button)
	u.bg.Wait()

	if got := fm.input(t, "lat").entry.Text; got != "17.1589" {
		t.Errorf("lat %q after a failure, want it untouched", got)
	}
	if got := fm.input(t, "lon").entry.Text; got != "" {
		t.Errorf("lon %q after a failure, want it untouched", got)
	}
	got := p.status.Text
	for _, want := range []string{"No position from the GPS, nothing filled: ", gps.ErrNoFix.Error(), "none readable"} {
		if !strings.Contains(got, want) {
			t.Errorf("status line %q lacks %q", got, want)
		}
	}
}

// Only the kinds of record with decimal lat and lon fields have the button.
func TestPositionButtonOnlyWithLatAndLon(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	with := 0
	for _, k := range u.node.Kits().Kits() {
		for _, ty := range k.Types {
			fm := u.openForm(ty)
			if (fm.position != nil) != hasPosition(ty) {
				t.Errorf("%s: button %v, lat and lon %v", ty.Name, fm.position != nil, hasPosition(ty))
			}
			if fm.position != nil {
				with++
			}
		}
	}
	if with == 0 || with == countTypes(u) {
		t.Errorf("%d kinds of record of %d have the button", with, countTypes(u))
	}
}

func countTypes(u *UI) int {
	n := 0
	for _, k := range u.node.Kits().Kits() {
		n += len(k.Types)
	}
	return n
}
