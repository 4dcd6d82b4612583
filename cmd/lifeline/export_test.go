package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/node"
)

const (
	destroyed = `{"district":"Toledo","village":"Punta Gorda","lat":16.1,"lon":-88.8,"structure_type":"thatch",
 "damage_level":4,"household_size":7,"displaced":true,"head_of_household":"Marta Chun","phone":"=1+1",
 "reported_by":"vol-011","reported_at":"2024-11-18T15:00:00Z"}`
	openShelter = `{"shelter_name":"Belmopan Comprehensive School","district":"Cayo","location":{"lat":17.251,"lon":-88.7668},
 "status":"open","occupancy":120,"capacity":400}`
	missingPerson = `{"full_name":"Maria Pop","district":"Toledo","last_seen_place":"Punta Gorda market","status":"missing",
 "reporter_name":"Ana Cho","reported_at":"2024-11-18T09:00:00Z"}`
)

func TestReport(t *testing.T) {
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment")
	ok(t, destroyed, "record", "add", "--data", dir, "--type", "damage-assessment")
	ok(t, openShelter, "record", "add", "--data", dir, "--type", "shelter")
	ok(t, missingPerson, "record", "add", "--data", dir, "--type", "missing-person")

	var rep node.Report
	if err := json.Unmarshal([]byte(ok(t, "", "report", "--data", dir, "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	row := map[string]node.DistrictReport{}
	for _, d := range rep.Districts {
		row[d.District] = d
	}
	cayo, toledo := row["Cayo"], row["Toledo"]
	if cayo.Damage != [5]int{0, 0, 1, 0, 0} || cayo.Displaced != 0 || cayo.Shelters != 1 || cayo.SheltersOpen != 1 ||
		cayo.Occupancy != 120 || cayo.Capacity != 400 {
		t.Errorf("Cayo %+v", cayo)
	}
	if toledo.Damage != [5]int{0, 0, 0, 0, 1} || toledo.Displaced != 7 || toledo.Missing != 1 || toledo.Records["missing-person"] != 1 {
		t.Errorf("Toledo %+v", toledo)
	}
	if len(rep.Districts) != 6 || rep.Total.Records["damage-assessment"] != 2 {
		t.Errorf("report %+v", rep)
	}

	text := ok(t, "", "report", "--data", dir)
	for _, want := range []string{"DISTRICT", "LEVELS 3-4", "Stann Creek", "Total", "120/400", "Records per type:", "shelter-registration"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "No district") {
		t.Errorf("a row for records without a district, though every record names one:\n%s", text)
	}
}

func TestRecordExport(t *testing.T) {
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment")
	id := strings.TrimSpace(ok(t, destroyed, "record", "add", "--data", dir, "--type", "damage-assessment"))
	ok(t, openShelter, "record", "add", "--data", dir, "--type", "shelter")

	r := lifeline(t, "", "record", "export", "--data", dir, "--type", "damage-assessment")
	if r.code != 0 || r.stderr != "wrote 2 damage-assessment records to standard output\n" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("%d rows (%v):\n%s", len(rows), err, r.stdout)
	}
	if !slices.Equal(rows[0][:4], []string{"id", "case", "sync_status", "district"}) || slices.Contains(rows[0], "head_of_household") {
		t.Fatalf("header %q", rows[0])
	}
	if strings.Contains(r.stdout, "Marta Chun") {
		t.Fatalf("personal data exported without --personal:\n%s", r.stdout)
	}

	out := filepath.Join(t.TempDir(), "damage-assessment.csv")
	r = lifeline(t, "", "record", "export", "--data", dir, "--type", "damage-assessment", "--personal", "--out", out)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "wrote 2 damage-assessment records to "+out+", personal data included") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("the export is readable by others: %v", fi.Mode())
	}
	rows, err = csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, phone := slices.Index(rows[0], "head_of_household"), slices.Index(rows[0], "phone")
	if head < 0 || rows[2][0] != id || rows[2][head] != "Marta Chun" || rows[2][phone] != "'=1+1" {
		t.Fatalf("with --personal: %q", rows)
	}

	var fc struct {
		Features []struct {
			Geometry struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	text := ok(t, "", "record", "export", "--data", dir, "--type", "shelter", "--format", "geojson")
	if err := json.Unmarshal([]byte(text), &fc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, text)
	}
	if len(fc.Features) != 1 || !slices.Equal(fc.Features[0].Geometry.Coordinates, []float64{-88.7668, 17.251}) ||
		fc.Features[0].Properties["shelter_name"] != "Belmopan Comprehensive School" {
		t.Fatalf("GeoJSON %+v", fc)
	}

	fails(t, "", []string{"--type is required"}, "record", "export", "--data", dir)
	fails(t, "", []string{"--format", "csv or geojson"}, "record", "export", "--data", dir, "--type", "shelter", "--format", "xlsx")
	fails(t, "", []string{"unknown record type", "damage-assessment"}, "record", "export", "--data", dir, "--type", "damage")
	noFile := filepath.Join(t.TempDir(), "families.geojson")
	fails(t, "", []string{"no location", "shelter-registration"},
		"record", "export", "--data", dir, "--type", "shelter-registration", "--format", "geojson", "--out", noFile)
	if _, err := os.Stat(noFile); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s behind (%v)", noFile, err)
	}
}

// An export to a file that exists replaces it whole, readable by its
// owner only whatever the file was before, and keeps it as it was when the
// export fails. A file of the node's data folder is never one: the export
// is refused and the node holds its records as before.
func TestRecordExportOverAFile(t *testing.T) {
	dir := newNode(t)
	ok(t, destroyed, "record", "add", "--data", dir, "--type", "damage-assessment")
	out := filepath.Join(t.TempDir(), "damage.csv")
	if err := os.WriteFile(out, []byte("an earlier export\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fails(t, "", []string{"no location"}, "record", "export", "--data", dir, "--type", "shelter-registration", "--format", "geojson", "--out", out)
	if b, err := os.ReadFile(out); err != nil || string(b) != "an earlier export\n" {
		t.Fatalf("a failed export over a file left %q (%v), want the file as it was", b, err)
	}
	ok(t, "", "record", "export", "--data", dir, "--type", "damage-assessment", "--personal", "--out", out)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("an export with personal data over a file of mode 0644 is %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "Marta Chun") {
		t.Errorf("the export wrote %q", b)
	}

	for _, f := range []string{"lifeline.db", "node.key"} {
		path := filepath.Join(dir, f)
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fails(t, "", []string{path, "data folder", "elsewhere"}, "record", "export", "--data", dir, "--type", "damage-assessment", "--out", path)
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Errorf("%s changed by a refused export", f)
		}
	}
	// A pipe another program reads is written to, not replaced.
	fifo := filepath.Join(t.TempDir(), "to-the-spreadsheet")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		read <- b
	}()
	ok(t, "", "record", "export", "--data", dir, "--type", "damage-assessment", "--personal", "--out", fifo)
	if fi, err := os.Stat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the export replaced the pipe by %v (%v)", fi.Mode(), err)
	}
	if b := <-read; !strings.Contains(string(b), "Marta Chun") {
		t.Errorf("the export to a pipe wrote %q", b)
	}

	if list := ok(t, "", "record", "list", "--data", dir, "--type", "damage-assessment"); !strings.Contains(list, "Punta Gorda") {
		t.Errorf("the node after the refused exports lists:\n%s", list)
	}
}

// Every command that writes a file for elsewhere (a vector, a bundle, a
// snapshot, a photo) refuses a path in the node's data folder, where it
// would replace the database the node holds, and leaves it as it was.
func TestFilesForElsewhereStayOutOfTheDataFolder(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	hashes := added(t, ok(t, "", "photo", "add", "--data", field, photoFile(t, t.TempDir(), 800, 600, 7)))
	var hash string
	for _, h := range hashes {
		hash = h
	}
	form := writeForm(t, t.TempDir(), "road-check.xlsx", map[string][][]any{
		"survey": {{"type", "name", "label"}, {"text", "road", "Road"}},
	})
	for _, c := range []struct {
		dir  string
		args []string
	}{
		{field, []string{"vector", "--data", field}},
		{field, []string{"bundle", "export", "--data", field}},
		{field, []string{"photo", "get", "--data", field, "--hash", hash}},
		{d.hq, []string{"snapshot", "export", "--data", d.hq, "--to", "hq", "--district", "cayo"}},
		{d.hq, []string{"kits", "import", "--data", d.hq, form}},
	} {
		db := filepath.Join(c.dir, "lifeline.db")
		before, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		args := append(c.args, "--out", db)
		fails(t, "", []string{db, "data folder", "elsewhere"}, args...)
		if after, _ := os.ReadFile(db); !bytes.Equal(after, before) {
			t.Errorf("lifeline %s changed lifeline.db", strings.Join(args, " "))
		}
		// Elsewhere, the same command writes its file.
		out := filepath.Join(t.TempDir(), "out")
		ok(t, "", append(c.args, "--out", out)...)
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Errorf("lifeline %s --out elsewhere wrote no file (%v)", strings.Join(c.args, " "), err)
		}
	}
}

// An --out is where the system takes it: after a link, or in a folder
// reached through one (a shell's $PWD keeps the link), ".." is the folder
// of the link's target, not of the link. An export to ../node/lifeline.db
// from there, or to LINK/../node/lifeline.db, beside the node's data
// folder, is refused as any path in it: before, the check took ".." by
// the link's name and let it through, and the export replaced the node's
// database.
func TestAnExportThroughALinkStaysOutOfTheDataFolder(t *testing.T) {
	dir := newNode(t)
	ok(t, destroyed, "record", "add", "--data", dir, "--type", "damage-assessment")
	work := filepath.Join(filepath.Dir(dir), "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "work")
	if err := os.Symlink(work, link); err != nil {
		t.Fatal(err)
	}
	// Where the link's name would have "..": a folder of the data
	// folder's name beside the link.
	if err := os.Mkdir(filepath.Join(filepath.Dir(link), filepath.Base(dir)), 0o700); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "lifeline.db")
	var all [][]string
	for _, out := range []string{
		filepath.Join("..", filepath.Base(dir), "lifeline.db"),
		link + "/../" + filepath.Base(dir) + "/lifeline.db",
	} {
		all = append(all,
			[]string{"record", "export", "--data", dir, "--type", "damage-assessment", "--personal", "--out", out},
			[]string{"record", "export", "--data", dir, "--format", "gpkg", "--out", out},
			[]string{"report", "--data", dir, "--pdf", out})
	}
	for _, args := range all {
		before, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = link
		cmd.Env = append(os.Environ(), "PWD="+link, "LIFELINE_OPERATOR=", "LIFELINE_DATA=", "LIFELINE_PASSPHRASE=")
		b, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(b), "data folder") {
			t.Errorf("lifeline %s in %s: %v, %q; want the data folder refused", strings.Join(args, " "), link, err, b)
		}
		if after, _ := os.ReadFile(db); !bytes.Equal(after, before) {
			t.Errorf("lifeline %s in %s changed lifeline.db", strings.Join(args, " "), link)
		}
	}
	// The other way: a link beside the data folder, to a folder elsewhere.
	// LINK/../node is elsewhere to the system, and the data folder to
	// filepath.Join, which names the photos written there: refused too.
	away := filepath.Join(filepath.Dir(dir), "away")
	if err := os.Symlink(t.TempDir(), away); err != nil {
		t.Fatal(err)
	}
	photos := away + "/../" + filepath.Base(dir)
	r := lifeline(t, "", "record", "export", "--data", dir, "--type", "damage-assessment", "--personal",
		"--out", filepath.Join(t.TempDir(), "damage.csv"), "--photos", photos)
	if r.code == 0 || !strings.Contains(r.stderr, photos+": an export is not written into the node's data folder") {
		t.Errorf("photos written to %s: exit %d, %q; want the data folder refused", photos, r.code, r.stderr)
	}
}

// A file picked by mistake (a video on the same stick) for a record, a
// request, a certificate or a kit is refused as larger than such a file may be,
// saying which, without being read whole.
func TestAFileLargerThanItsKindIsRefusedUnread(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	big := filepath.Join(t.TempDir(), "VID_0412.mp4")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 1<<30); err != nil { // a gibibyte, sparse
		t.Fatal(err)
	}
	fails(t, "", []string{big, "larger than", "1024 KiB"}, "record", "add", "--data", field, "--type", "damage-assessment", "--file", big)
	fails(t, "", []string{big, "an enrollment bundle", "larger than 64 KiB"}, "enroll", "install", "--data", field, "--cert", big)
	fails(t, "", []string{big, "an enrollment request", "larger than 64 KiB"}, "ca", "sign", "--data", d.hq, "--request", big, "--out", filepath.Join(t.TempDir(), "cert.pem"))
	fails(t, "", []string{big, "larger than the 256 KiB a kit may be"}, "kits", "publish", "--data", d.hq, big)
}

// A pipe on a stick under a bundle's, a snapshot's, a photo's, a form's, a
// kit's, a record's or a vector's name, or a link to one, is refused, saying
// so, and not opened to wait for a writer: the command waited for good,
// deaf to Ctrl-C. So that the test ends either way, a writer opens the
// pipe whenever a reader waits on it, and closes it at once.
func TestAPipeOnAStickIsRefusedUnopened(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	usb := t.TempDir()
	fifo := filepath.Join(usb, "cayo-07.bundle")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(usb, "IMG_0412.jpg")
	if err := os.Symlink(fifo, photo); err != nil {
		t.Fatal(err)
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
			}
			if fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				syscall.Close(fd)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	defer func() {
		close(done)
		<-stopped
	}()
	for _, c := range []struct {
		path string
		args []string
	}{
		{fifo, []string{"bundle", "import", "--data", field, fifo}},
		{fifo, []string{"snapshot", "import", "--data", field, fifo}},
		{photo, []string{"photo", "add", "--data", field, photo}},
		{fifo, []string{"kits", "import", "--out", filepath.Join(t.TempDir(), "kit.yaml"), fifo}},
		{fifo, []string{"kits", "publish", "--data", d.hq, fifo}},
		{fifo, []string{"record", "add", "--data", field, "--type", "damage-assessment", "--file", fifo}},
		{fifo, []string{"bundle", "export", "--data", field, "--for", fifo, "--out", filepath.Join(t.TempDir(), "out.bundle")}},
	} {
		fails(t, "", []string{c.path, "not a file"}, c.args...)
	}
}
