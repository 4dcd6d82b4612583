package desktop

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/container"

	"lifeline/syncproto"
)

// The Headquarters screen has a Charts tab; showing it draws the four
// charts at the size laid out for them, from the records held.
func TestChartsTabDrawsTheCharts(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 3, 5))
	v := u.newHQView()
	v.content()
	var tab *container.TabItem
	for _, it := range v.sides.Items {
		if it.Text == "Charts" {
			tab = it
		}
	}
	if tab == nil {
		t.Fatal("no Charts tab on the Headquarters screen")
	}

	c := u.newChartsView()
	c.content()
	c.load() // in line in tests
	for i, img := range c.images {
		b := img.Image.Bounds()
		if b.Dx() < int(chartSize.Width) || b.Dy() < int(chartSize.Height) {
			t.Errorf("chart %d is %v, want at least %v", i, b, chartSize)
		}
		if rgba, ok := img.Image.(*image.RGBA); !ok || noInk(rgba) {
			t.Errorf("chart %d is blank", i)
		}
	}
	if !strings.HasPrefix(c.note.Text, "As this computer holds the records at ") {
		t.Errorf("the note says %q", c.note.Text)
	}
}

func noInk(img *image.RGBA) bool {
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] < 0x80 && img.Pix[i+1] < 0x80 && img.Pix[i+2] < 0x80 {
			return false
		}
	}
	return true
}

// The situation report is written as a new PDF into the folder picked,
// with the names of the missing only when the box is ticked.
func TestChartsWritesTheSituationReport(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 3, 5))
	c := u.newChartsView()
	c.content()
	dir := t.TempDir()
	c.writeReport(dir)
	files, _ := filepath.Glob(filepath.Join(dir, "situation-report-*.pdf"))
	if len(files) != 1 {
		t.Fatalf("files %v; the line says %q", files, c.result.Text)
	}
	if c.result.Text != "Situation report written to "+files[0]+"." {
		t.Errorf("result %q", c.result.Text)
	}
	b, err := os.ReadFile(files[0])
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b, []byte("%%EOF")) {
		t.Fatalf("%s is no whole PDF (%v)", files[0], err)
	}

	c.personal.SetChecked(true)
	c.writeReport(dir)
	files, _ = filepath.Glob(filepath.Join(dir, "situation-report-*.pdf"))
	if len(files) != 2 || !strings.Contains(c.result.Text, "with the names of the missing") {
		t.Errorf("files %v, result %q", files, c.result.Text)
	}
}
