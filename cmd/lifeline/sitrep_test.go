package main

import (
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lifeline/node/nodetest"
)

// poppler finds pdftotext and pdftoppm, which make deps installs; without
// them the test is skipped, saying how to install them, except in CI (CI
// set), where it fails.
func poppler(t *testing.T) (pdftotext, pdftoppm string) {
	t.Helper()
	paths := nodetest.NeedPrograms(t, "install poppler-utils (make deps) to read the situation report back", "pdftotext", "pdftoppm")
	return paths[0], paths[1]
}

// TestReportPDF writes the situation report of a few records and reads
// it back as a person would see it: its pages drawn, its words in both
// languages, the counts per district worked out by hand from the records,
// and the names of the missing only when personal data is asked for.
func TestReportPDF(t *testing.T) {
	t.Parallel()
	pdftotext, pdftoppm := poppler(t)
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment") // Cayo, level 2
	ok(t, destroyed, "record", "add", "--data", dir, "--type", "damage-assessment")  // Toledo, level 4, 7 displaced
	ok(t, openShelter, "record", "add", "--data", dir, "--type", "shelter")          // Cayo, open
	ok(t, missingPerson, "record", "add", "--data", dir, "--type", "missing-person") // Toledo: Maria Pop
	ok(t, `{"full_name":"José Ñúñez","district":"Cayo","last_seen_place":"San Ignacio market","status":"missing",
 "reporter_name":"Ana Cho","reported_at":"2024-11-18T10:00:00Z"}`, "record", "add", "--data", dir, "--type", "missing-person")
	ok(t, `{"full_name":"Rosa Tzul","district":"Cayo","last_seen_place":"Benque","status":"found-safe",
 "reporter_name":"Ana Cho","reported_at":"2024-11-18T11:00:00Z"}`, "record", "add", "--data", dir, "--type", "missing-person")

	out := t.TempDir()
	read := func(personal bool, pages int) string {
		t.Helper()
		pdf := filepath.Join(out, "plain.pdf")
		args := []string{"report", "--data", dir, "--pdf", pdf}
		if personal {
			pdf = filepath.Join(out, "personal.pdf")
			args = append(args[:4], pdf, "--personal")
		}
		r := lifeline(t, "", args...)
		if r.code != 0 {
			t.Fatalf("lifeline %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "Report of cayo-07") || !strings.Contains(r.stderr, "wrote the situation report to "+pdf) {
			t.Fatalf("report --pdf printed %q and said %q", r.stdout, r.stderr)
		}
		if personal != strings.Contains(r.stderr, "personal data included") {
			t.Errorf("personal %t, and the command said %q", personal, r.stderr)
		}
		prefix := filepath.Join(out, strings.TrimSuffix(filepath.Base(pdf), ".pdf"))
		if b, err := exec.Command(pdftoppm, "-r", "40", "-png", pdf, prefix).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, b)
		}
		drawn, _ := filepath.Glob(prefix + "-*.png")
		if len(drawn) != pages {
			t.Fatalf("%d pages drawn of %s, want %d", len(drawn), pdf, pages)
		}
		f, err := os.Open(drawn[0])
		if err != nil {
			t.Fatal(err)
		}
		first, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if inked(first) < 0.01 {
			t.Errorf("the first page of %s is blank", pdf)
		}
		b, err := exec.Command(pdftotext, "-layout", pdf, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		return strings.Join(strings.Fields(string(b)), " ")
	}

	text := read(false, 4) // the situation, the map, two pages of charts
	for _, want := range []string{
		"Situation report", "Informe de situación", "Situation per district", "Situación por distrito",
		"Still unconfirmed", "Aún sin confirmar", "Map of the records", "Mapa de los registros", "Charts", "Gráficos",
		"By / Por: cayo-07 (field laptop / portátil de campo, Cayo)", "UTC",
		// District, records, damage by level, displaced, sheltered,
		// shelters open of all, missing.
		"Belize 0 0/0/0/0/0 0 0 0/0 0",
		"Cayo 4 0/0/1/0/0 0 0 1/1 1",
		"Corozal 0 0/0/0/0/0 0 0 0/0 0",
		"Orange Walk 0 0/0/0/0/0 0 0 0/0 0",
		"Stann Creek 0 0/0/0/0/0 0 0 0/0 0",
		"Toledo 2 0/0/0/0/1 7 0 0/0 1",
		"Total 6 0/0/1/0/1 7 0 1/1 2",
		// Nothing is confirmed: the node never synced with headquarters.
		"Cayo 4 0", "Toledo 2 0", "Total 6 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	for _, name := range []string{"Maria Pop", "Ñúñez", "Rosa Tzul", "People still missing"} {
		if strings.Contains(text, name) {
			t.Errorf("the report without personal data says %q", name)
		}
	}

	text = read(true, 5) // and the people still missing
	for _, want := range []string{"People still missing", "Personas aún desaparecidas", "Cayo (1) José Ñúñez", "Toledo (1) Maria Pop"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report with personal data does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Rosa Tzul") {
		t.Errorf("the report names a person found among the missing:\n%s", text)
	}
	if fi, err := os.Stat(filepath.Join(out, "personal.pdf")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the report with personal data: %v, %v; want readable by its owner only", fi.Mode(), err)
	}

	fails(t, "", []string{"--personal goes with --pdf"}, "report", "--data", dir, "--personal")
}

// inked is the share of an image's pixels that are not white.
func inked(img image.Image) float64 {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}
