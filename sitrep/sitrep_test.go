package sitrep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/sitrep"
	"lifeline/syncproto"
)

// poppler finds pdftotext and pdfinfo, which make deps installs; without
// them the test is skipped, saying how to install them, except in CI (CI
// set), where it fails.
func poppler(t *testing.T) tools {
	t.Helper()
	paths := nodetest.NeedPrograms(t, "install poppler-utils (make deps) to read the situation report back", "pdftotext", "pdfinfo")
	return tools{pdftotext: paths[0], pdfinfo: paths[1]}
}

// tools are the programs that read a PDF back.
type tools struct{ pdftotext, pdfinfo string }

// openNode makes and opens a node in a folder of the test's; it never
// runs, so nothing it holds is ever confirmed by headquarters' ledger.
func openNode(t *testing.T, name string, role syncproto.Role, district string) *node.Node {
	t.Helper()
	return nodetest.Open(t, name, role, district, nil)
}

func add(t *testing.T, n *node.Node, typ, data string) {
	t.Helper()
	if _, err := n.Add(context.Background(), typ, []byte(data), "vol-193"); err != nil {
		t.Fatalf("add %s: %v\n%s", typ, err, data)
	}
}

func damage(district string, level, household int, displaced bool) string {
	return fmt.Sprintf(`{"district":%q,"village":"Somewhere","lat":17.2,"lon":-88.7,"structure_type":"timber frame","damage_level":%d,
		"household_size":%d,"displaced":%t,"head_of_household":"Hilario Pech-Yam","reported_by":"vol-007","reported_at":"2026-11-20T09:00:00-06:00"}`,
		district, level, household, displaced)
}

func shelter(district, status string, occupancy, capacity int) string {
	return fmt.Sprintf(`{"shelter_name":"A school","district":%q,"status":%q,"occupancy":%d,"capacity":%d}`, district, status, occupancy, capacity)
}

func family(district string, members int, departed string) string {
	left := ""
	if departed != "" {
		left = `,"departed_at":"` + departed + `"`
	}
	return fmt.Sprintf(`{"shelter_name":"A school","district":%q,"family_head_name":"Ofelia Sho-Tun","members":%d,
		"arrived_at":"2026-11-20T18:40:00-06:00","registered_by":"M. Bol"%s}`, district, members, left)
}

func missing(name, district, status string) string {
	return fmt.Sprintf(`{"full_name":%q,"district":%q,"last_seen_place":"the market","status":%q,
		"reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`, name, district, status)
}

// The names of people reported missing: distinctive enough that finding
// one in a report means the report named that person.
const (
	belizeMissing = "Zenaida Quixchan-Ortega"
	cayoMissing   = "Esperanza Choc-Xol"
	cayoFound     = "Teodoro Canul-Bih" // found: never among the missing
	toledoMissing = "Wilfredo Mes-Cucul"
)

// now is when the test's reports are made: 14:05 in Belize (UTC−6, no
// summer time), 20:05 UTC.
var now = time.Date(2026, 11, 21, 14, 5, 0, 0, time.FixedZone("CST", -6*3600))

// render writes n's report and reads it back as a person would: its text
// with runs of white space made one space, and its number of pages.
func (p tools) render(t *testing.T, n *node.Node, personal bool) (text string, pages int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := sitrep.Write(context.Background(), n, path, sitrep.Options{Personal: personal, Now: now, Loc: now.Location()}); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(p.pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text = strings.Join(strings.Fields(string(b)), " ")
	b, err = exec.Command(p.pdfinfo, path).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("pdfinfo names no number of pages:\n%s", b)
	}
	pages, _ = strconv.Atoi(string(m[1]))
	return text, pages
}

// TestReport makes the report of records put in here, in three districts,
// and reads it back: its date, its headings in English and Spanish, each
// district's counts as worked out by hand from those records, its pages
// (four, five with the names of the missing), and the names of the people
// still missing only when personal data is asked for.
func TestReport(t *testing.T) {
	t.Parallel()
	read := poppler(t)
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Belize")
	add(t, n, "damage-assessment", damage("Belize", 1, 3, false))
	add(t, n, "damage-assessment", damage("Belize", 3, 6, true))
	add(t, n, "damage-assessment", damage("Cayo", 4, 5, true))
	add(t, n, "shelter", shelter("Belize", "open", 50, 200))
	add(t, n, "shelter", shelter("Cayo", "closed", 0, 80))
	add(t, n, "shelter-registration", family("Belize", 4, ""))
	add(t, n, "shelter-registration", family("Belize", 2, "2026-11-21T08:00:00-06:00")) // left: not sheltered
	add(t, n, "missing-person", missing(belizeMissing, "Belize", "missing"))
	add(t, n, "missing-person", missing(cayoMissing, "Cayo", "missing"))
	add(t, n, "missing-person", missing(cayoFound, "Cayo", "found-safe"))
	add(t, n, "missing-person", missing(toledoMissing, "Toledo", "missing"))

	text, pages := read.render(t, n, false)
	if pages != 4 { // the situation, the map, two pages of charts
		t.Errorf("the report has %d pages, want 4", pages)
	}
	for _, want := range []string{
		"Made at / Hecho el: 2026-11-21 14:05 CST (20:05 UTC)",
		"By / Por: hq-belmopan (headquarters / sede central, Belize)",
		"Situation report", "Informe de situación",
		"Situation per district", "Situación por distrito",
		"Still unconfirmed", "Aún sin confirmar",
		"Map of the records", "Mapa de los registros",
		"Charts", "Gráficos",
		// District, records, damage by level 0/1/2/3/4, displaced (the
		// households of displaced buildings), sheltered (the families
		// that have not left), shelters open of all, missing.
		"Belize 6 0/1/0/1/0 6 4 1/1 1",
		"Cayo 4 0/0/0/0/1 5 0 0/1 1",
		"Corozal 0 0/0/0/0/0 0 0 0/0 0",
		"Orange Walk 0 0/0/0/0/0 0 0 0/0 0",
		"Stann Creek 0 0/0/0/0/0 0 0 0/0 0",
		"Toledo 1 0/0/0/0/0 0 0 0/0 1",
		"Total 11 0/1/0/1/1 11 4 1/2 3",
		// Not yet confirmed at HQ (all: the node never ran), in conflict,
		// awaiting review (headquarters reviews; nobody did yet).
		"Belize 6 0 6", "Cayo 4 0 4", "Toledo 1 0 1", "Total 11 0 11",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	for _, name := range []string{belizeMissing, cayoMissing, cayoFound, toledoMissing, "Quixchan", "Choc-Xol", "Mes-Cucul", "People still missing", "Personas aún desaparecidas"} {
		if strings.Contains(text, name) {
			t.Errorf("the report without personal data says %q", name)
		}
	}

	text, pages = read.render(t, n, true)
	if pages != 5 { // and the people still missing
		t.Errorf("the report with personal data has %d pages, want 5", pages)
	}
	_, people, ok := strings.Cut(text, "People still missing Personas aún desaparecidas")
	if !ok {
		t.Fatalf("the report with personal data has no page of the people still missing:\n%s", text)
	}
	for _, want := range []string{"Belize (1) " + belizeMissing, "Cayo (1) " + cayoMissing, "Toledo (1) " + toledoMissing} {
		if !strings.Contains(people, want) {
			t.Errorf("the people still missing do not read %q:\n%s", want, people)
		}
	}
	if strings.Contains(text, cayoFound) {
		t.Errorf("the report names a person found among the missing:\n%s", text)
	}
}

// TestReportWithheldName makes headquarters' report with the names of the
// missing, of a record whose name headquarters cannot open: a laptop that
// never met headquarters seals it with its own key. The report says the
// name is withheld, and never shows it.
func TestReportWithheldName(t *testing.T) {
	t.Parallel()
	read := poppler(t)
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Belize", func(cfg *node.Config) { cfg.Bootstrap = true })
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	laptop := c.Add("cayo-01", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	add(t, laptop.Node, "missing-person", missing(cayoMissing, "Cayo", "missing"))
	add(t, hq.Node, "missing-person", missing(belizeMissing, "Belize", "missing"))
	if _, err := laptop.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}

	text, _ := read.render(t, hq.Node, true)
	_, people, ok := strings.Cut(text, "People still missing Personas aún desaparecidas")
	if !ok {
		t.Fatalf("the report with personal data has no page of the people still missing:\n%s", text)
	}
	for _, want := range []string{"Belize (1) " + belizeMissing, "Cayo (1) (withheld: personal data of another district / retenido: datos personales de otro distrito)"} {
		if !strings.Contains(people, want) {
			t.Errorf("the people still missing do not read %q:\n%s", want, people)
		}
	}
	if strings.Contains(text, cayoMissing) || strings.Contains(text, "Choc-Xol") {
		t.Errorf("headquarters' report shows a name it cannot open:\n%s", text)
	}
}

// A report never goes into the node's data folder, where a mistyped path
// would replace the database the node holds open: refused, nothing
// written, the database as it was.
func TestReportNotIntoTheDataFolder(t *testing.T) {
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Belize")
	add(t, n, "damage-assessment", damage("Cayo", 3, 5, true))
	db := filepath.Join(n.Config().DataDir, "lifeline.db")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := sitrep.Write(context.Background(), n, db, sitrep.Options{Now: now, Loc: now.Location()}); !errors.Is(err, node.ErrInDataFolder) {
		t.Fatalf("a report over the node's database: %v, want it refused", err)
	}
	if after, err := os.ReadFile(db); err != nil || !bytes.Equal(after, before) {
		t.Fatalf("the database after the refused report: %d bytes, %v; %d before", len(after), err, len(before))
	}
}

// A name as long as the kit lets it be (120 characters) is written whole
// on the page of the people still missing, on as many lines as it takes:
// written on one line, its end ran off the page's edge, and with it the
// case number that follows it.
func TestReportWrapsALongName(t *testing.T) {
	t.Parallel()
	read := poppler(t)
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Belize")
	words := []string{"Wilhelmina", "Maximiliana", "Guadalupe", "Bartolomea", "Wenceslaa", "Hermenegilda", "Quixchan-Ortega", "Mes-Cucul", "Choc-Xol", "Zyxwvutsrq"}
	name := strings.Join(words, " ")
	for len(name) < 120 {
		name = "W" + name
	}
	add(t, n, "missing-person", missing(name, "Toledo", "missing"))
	text, _ := read.render(t, n, true)
	_, people, ok := strings.Cut(text, "People still missing Personas aún desaparecidas")
	if !ok {
		t.Fatalf("the report with personal data has no page of the people still missing:\n%s", text)
	}
	for _, w := range words {
		if !strings.Contains(people, w) {
			t.Errorf("the page of the people still missing lacks %q of the name %q:\n%s", w, name, people)
		}
	}
}

// The page count is written in the footer in a mark no record's text can
// hold once made printable: a missing person named {nb}, the mark's
// usual form, by a stolen laptop, is shown as written, not as the count.
func TestANameIsNotThePageCount(t *testing.T) {
	t.Parallel()
	read := poppler(t)
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Belize")
	add(t, n, "missing-person", missing("Rosa {nb} Pop", "Toledo", "missing"))
	text, _ := read.render(t, n, true)
	_, people, ok := strings.Cut(text, "People still missing Personas aún desaparecidas")
	if !ok {
		t.Fatalf("the report with personal data has no page of the people still missing:\n%s", text)
	}
	if !strings.Contains(people, "Rosa {nb} Pop") {
		t.Errorf("the name Rosa {nb} Pop is not shown as written:\n%s", people)
	}
}
