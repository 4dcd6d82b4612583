package node_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/node/personal"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// The canary values of a missing-person report: distinctive enough that
// finding their bytes anywhere means the value was written in the clear.
const (
	canaryName  = "Zenaida Quixchan-Ortega"
	canaryPhone = "+501 622 4917"
	canaryNotes = "insulin at 7 and 19, blue cooler"
)

func missingReport(district string) string {
	return `{"full_name":"` + canaryName + `","district":"` + district + `","last_seen_place":"San Ignacio market","status":"missing",` +
		`"reporter_name":"Ana Cho","reporter_phone":"` + canaryPhone + `","medical_conditions":"` + canaryNotes + `","reported_at":"2026-11-20T09:00:00-06:00"}`
}

func syncOK(t *testing.T, from, to *nodetest.Member) {
	t.Helper()
	if _, err := from.Node.Sync(context.Background(), to.Addr); err != nil {
		t.Fatalf("%s with %s: %v", from.Name, to.Name, err)
	}
}

// meetHQ brings laptops their district's data keys: a session gives HQ
// their certificates, HQ grants them keys, the next session brings the
// grants (HQ may store a certificate just after the session that brought
// it ended: then the one after).
func meetHQ(t *testing.T, hq *nodetest.Member, laptops ...*nodetest.Member) {
	t.Helper()
	for _, l := range laptops {
		district := l.Node.Credentials().Claims.District // a moved laptop's newest
		nodetest.Eventually(t, 10*time.Second, l.Name+" holds its district's key", func() bool {
			syncOK(t, l, hq)
			if _, err := hq.Node.IssueGrants(context.Background()); err != nil {
				t.Fatal(err)
			}
			syncOK(t, l, hq)
			return l.Node.DataKeys()[district] > 0
		})
	}
}

// holdsNoCanary fails if any file under dir holds a canary's bytes.
func holdsNoCanary(t *testing.T, dir string, canaries ...string) {
	t.Helper()
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s holds %q in the clear", path, c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A Cayo laptop reports a missing person (a national record: every node
// holds it). HQ and the Cayo laptop read its personal fields; a Toledo
// laptop holds, merges and passes on the record, and reads "personal data
// of another district" in their place; no file of any of them holds a
// personal value in the clear.
func TestPersonalFieldsReadOnlyByThoseWhoNeedThem(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	toledo := c.Add("toledo-03", syncproto.RoleField, "Toledo", nil)
	meetHQ(t, hq, cayo, toledo)
	ctx := context.Background()
	if k := cayo.Node.DataKeys(); k["Cayo"] != 1 || k["Toledo"] != 0 || k[""] != 0 {
		t.Fatalf("the Cayo laptop holds keys %v, want Cayo's alone", k)
	}
	if k := toledo.Node.DataKeys(); k["Toledo"] != 1 || k["Cayo"] != 0 {
		t.Fatalf("the Toledo laptop holds keys %v, want Toledo's alone", k)
	}
	// HQ's hello carried the Toledo laptop its own district's grant alone.
	if g, err := node.GrantNotices(toledo.Node, ctx); err != nil || len(g) != 1 {
		t.Fatalf("the Toledo laptop keeps %d grants (%v), want its district's", len(g), err)
	}

	id, err := cayo.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	syncOK(t, cayo, hq)
	syncOK(t, toledo, hq)

	for _, m := range []*nodetest.Member{cayo, hq} {
		v, err := m.Node.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if v.Fields["full_name"] != canaryName || v.Fields["reporter_phone"] != canaryPhone || v.Fields["medical_conditions"] != canaryNotes {
			t.Fatalf("%s reads %v", m.Name, v.Fields)
		}
		if v.Fields["last_seen_place"] != "San Ignacio market" {
			t.Fatalf("%s reads last_seen_place %v", m.Name, v.Fields["last_seen_place"])
		}
	}
	v, err := toledo.Node.Record(ctx, id)
	if err != nil {
		t.Fatalf("the Toledo laptop does not hold the national record: %v", err)
	}
	for _, f := range []string{"full_name", "reporter_phone", "medical_conditions", "reporter_name"} {
		if _, ok := v.Fields[f].(node.Withheld); !ok || v.Texts[f] != "personal data of another district" {
			t.Fatalf("the Toledo laptop reads %s as %v (%q)", f, v.Fields[f], v.Texts[f])
		}
	}
	if v.Fields["last_seen_place"] != "San Ignacio market" || v.Fields["status"] != "missing" {
		t.Fatalf("the Toledo laptop cannot read the record's other fields: %v", v.Fields)
	}
	for _, h := range v.History {
		if _, ok := h.Fields["full_name"].(node.Withheld); !ok {
			t.Fatalf("the Toledo laptop's history shows full_name as %v", h.Fields["full_name"])
		}
	}
	// The Toledo laptop passes on what it cannot read: a second Cayo
	// laptop that meets only it reads the report.
	cayo2 := c.Add("cayo-12", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, cayo2)
	if _, err := toledo.Node.Sync(ctx, cayo2.Addr); err != nil {
		t.Fatal(err)
	}
	if v, err := cayo2.Node.Record(ctx, id); err != nil || v.Fields["full_name"] != canaryName {
		t.Fatalf("a Cayo laptop reads the report passed on by Toledo as %v, %v", v.Fields["full_name"], err)
	}
	for _, m := range []*nodetest.Member{cayo, hq, toledo, cayo2} {
		m.Stop()
		holdsNoCanary(t, m.Config.DataDir, canaryName, canaryPhone, canaryNotes)
	}
}

// HQ revokes a Cayo laptop: it makes Cayo's next key and hands it to the
// district's other nodes. What is written afterwards the revoked laptop
// cannot read, even given the records by hand; what was written before,
// it still can (it held the key then).
func TestRevokedNodeCannotReadWhatFollows(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	stolen := c.Add("cayo-66", syncproto.RoleField, "Cayo", nil)
	kept := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, stolen, kept)
	ctx := context.Background()
	before, err := kept.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	syncOK(t, kept, hq)
	syncOK(t, stolen, hq)

	if err := hq.Node.Revoke(ctx, stolen.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ knows of the revocation", func() bool { return revoked(t, hq.Node, stolen.Node.Self().ID) })
	if _, err := hq.Node.IssueGrants(ctx); err != nil {
		t.Fatal(err)
	}
	syncOK(t, kept, hq)
	if k := kept.Node.DataKeys(); k["Cayo"] != 2 {
		t.Fatalf("the kept laptop holds keys %v after the revocation, want Cayo's epoch 2", k)
	}
	after, err := kept.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	// The thief gets the new record by hand: a bundle from the kept laptop.
	bundle := filepath.Join(t.TempDir(), "b.lifeline")
	f, err := os.Create(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Node.ExportBundle(ctx, f, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := stolen.Node.ImportBundle(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	if v, err := stolen.Node.Record(ctx, before); err != nil || v.Fields["full_name"] != canaryName {
		t.Fatalf("the revoked laptop reads what came before as %v, %v", v.Fields["full_name"], err)
	}
	if k := stolen.Node.DataKeys(); k["Cayo"] != 1 {
		t.Fatalf("the revoked laptop holds keys %v", k)
	}
	v, err := stolen.Node.Record(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Fields["full_name"].(node.Withheld); !ok {
		t.Fatalf("the revoked laptop reads what followed its revocation: %v", v.Fields["full_name"])
	}
}

// A Cayo laptop moves to Toledo: headquarters signs it a certificate of
// Toledo, for the same key. It no longer needs Cayo's personal data, so
// Cayo gets its next key as for a revocation: a missing person reported in
// Cayo afterwards, a national record the laptop still receives, reads
// "personal data of another district" there; what it read before, it
// still reads.
func TestALaptopMovedAwayCannotReadWhatFollows(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	mover := c.Add("cayo-31", syncproto.RoleField, "Cayo", nil)
	kept := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, mover, kept)
	ctx := context.Background()
	before, err := kept.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	syncOK(t, kept, hq)

	moveTo(t, c, mover, "Toledo")
	meetHQ(t, hq, mover)
	syncOK(t, kept, hq)
	if k := kept.Node.DataKeys(); k["Cayo"] != 2 {
		t.Fatalf("the Cayo laptop that stayed holds keys %v once the other moved, want Cayo's epoch 2", k)
	}
	after, err := kept.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	syncOK(t, kept, hq)
	syncOK(t, mover, hq)
	if v, err := mover.Node.Record(ctx, before); err != nil || v.Fields["full_name"] != canaryName {
		t.Fatalf("the moved laptop reads what came before as %v, %v", v.Fields["full_name"], err)
	}
	v, err := mover.Node.Record(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Fields["full_name"].(node.Withheld); !ok {
		t.Fatalf("the laptop moved to Toledo reads what Cayo wrote after it left: %v", v.Fields["full_name"])
	}
}

// A laptop moved from Cayo to Toledo, holding Toledo's key now and Cayo's
// of before, reports a person missing in Toledo: the report is sealed for
// Toledo, its district now, and a Cayo laptop, which holds every national
// record and Cayo's keys, does not read the name. Before, a value was
// sealed for the district the node was made in as well: the data folder
// keeps it, and a move changes the certificate alone. What the laptop
// wrote in Toledo went out sealed for Cayo's key too, and before Toledo's
// key came for Cayo's alone, which every Cayo node read and Toledo's did
// not.
func TestAMovedLaptopSealsForTheDistrictItMovedTo(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	mover := c.Add("cayo-31", syncproto.RoleField, "Cayo", nil)
	kept := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, mover, kept)
	moveTo(t, c, mover, "Toledo")
	ctx := context.Background()
	early, err := mover.Node.Add(ctx, "missing-person", []byte(missingReport("Toledo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the moved laptop holds Toledo's key", func() bool {
		syncOK(t, mover, hq)
		if _, err := hq.Node.IssueGrants(ctx); err != nil {
			t.Fatal(err)
		}
		syncOK(t, mover, hq)
		return mover.Node.DataKeys()["Toledo"] > 0
	})
	late, err := mover.Node.Add(ctx, "missing-person", []byte(missingReport("Toledo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	syncOK(t, mover, hq)
	syncOK(t, kept, hq)
	for i, id := range []syncproto.RecordID{early, late} {
		when := []string{"before Toledo's key came", "once it came"}[i]
		if v, err := hq.Node.Record(ctx, id); err != nil || v.Fields["full_name"] != canaryName {
			t.Fatalf("HQ reads the moved laptop's report %s as %v, %v", when, v.Fields["full_name"], err)
		}
		v, err := kept.Node.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v.Fields["full_name"].(node.Withheld); !ok {
			t.Fatalf("a Cayo laptop reads what the laptop moved to Toledo wrote there %s: %v", when, v.Fields["full_name"])
		}
	}
}

// A laptop moved from Cayo to Toledo keeps the Cayo key of before, which
// a Cayo laptop stolen since holds too. What the moved laptop writes of a
// Cayo record is sealed for Toledo's key alone, as any Toledo laptop's
// is: the stolen laptop, revoked and given it on a stick, does not read
// it. Before, it was sealed for the Cayo key the moved laptop kept as
// well, which no grant replaces there, and which the stolen laptop holds.
func TestAMovedLaptopSealsNothingWithTheKeyItKept(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	mover := laptop(c, "cayo-31", "Cayo", nil)
	stolen := laptop(c, "cayo-66", "Cayo", nil)
	meetHQ(t, hq, mover, stolen)
	moveTo(t, c, mover, "Toledo")
	meetHQ(t, hq, mover)
	ctx := context.Background()
	if err := hq.Node.Revoke(ctx, stolen.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	report, err := mover.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := mover.Node.Record(ctx, report); err != nil || v.Fields["full_name"] != canaryName {
		t.Fatalf("the moved laptop reads its own report as %v, %v", v.Fields["full_name"], err)
	}
	bundle := filepath.Join(t.TempDir(), "b.lifeline")
	f, err := os.Create(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mover.Node.ExportBundle(ctx, f, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := stolen.Node.ImportBundle(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	v, err := stolen.Node.Record(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Fields["full_name"].(node.Withheld); !ok {
		t.Fatalf("the stolen Cayo laptop reads what the laptop moved to Toledo wrote after: %v", v.Fields["full_name"])
	}
}

// A laptop that reports before it ever met HQ holds no key of
// headquarters': it seals with its own, which only it reads. Once the
// keys come, it seals those values again for their readers, and HQ reads
// them after the next session.
func TestValuesSealedBeforeTheKeysCameAreSealedAgain(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	early := c.Add("cayo-01", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	id, err := early.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := early.Node.Record(ctx, id); err != nil || v.Fields["full_name"] != canaryName {
		t.Fatalf("the author reads %v, %v", v.Fields["full_name"], err)
	}
	syncOK(t, early, hq)
	if v, err := hq.Node.Record(ctx, id); err != nil {
		t.Fatal(err)
	} else if _, ok := v.Fields["full_name"].(node.Withheld); !ok {
		t.Fatalf("HQ reads a value sealed with the laptop's own key: %v", v.Fields["full_name"])
	}
	meetHQ(t, hq, early)
	syncOK(t, early, hq)
	v, err := hq.Node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Fields["full_name"] != canaryName || v.Fields["medical_conditions"] != canaryNotes || len(v.Conflicts) != 0 {
		t.Fatalf("HQ reads %v, conflicts %v, after the keys came", v.Fields, v.Conflicts)
	}
	if v.Fields["last_seen_place"] != "San Ignacio market" {
		t.Fatalf("the record's other fields changed: %v", v.Fields)
	}
}

// A node with other software writes byte strings where the kits expect
// values: a sealed-looking value in a field that is not personal, a
// malformed envelope in a personal one, and a sealed value moved from
// another record. HQ keeps the first two aside with their reason; the
// moved one merges (no node but its readers can tell) and reads as
// altered ("?") at HQ, never as the value it was sealed with.
func TestSealedValuesWhereTheyDoNotBelong(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	rogue := c.Add("cayo-66", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, rogue)
	ctx := context.Background()
	first, err := rogue.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	second, err := rogue.Node.Add(ctx, "missing-person", []byte(strings.Replace(missingReport("Cayo"), canaryName, "Someone Else", 1)), "ana")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := node.StoreRecords(rogue.Node, ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sealedName []byte
	for _, r := range recs {
		if r.ID != first {
			continue
		}
		for _, f := range r.Fields {
			if f.Name == "full_name" {
				sealedName = f.Versions[0].Value
			}
		}
	}
	if len(sealedName) == 0 || sealedName[0]&0xe0 != 0x40 {
		t.Fatalf("the stored full_name is %x, not a sealed value", sealedName)
	}
	write := func(id syncproto.RecordID, name string, value []byte) {
		t.Helper()
		if err := node.WriteEdit(rogue.Node, ctx, store.Edit{Record: id, Lane: syncproto.MakeLane(1, syncproto.National), Kit: "missing-persons", Type: "missing-person", Version: 1,
			Fields: []syncproto.FieldChange{{Name: name, Value: value}}}); err != nil {
			t.Fatal(err)
		}
	}
	write(second, "last_seen_place", sealedName)                                // not a personal field
	write(second, "description", append([]byte{0x58, 40}, make([]byte, 40)...)) // no envelope
	write(second, "full_name", sealedName)                                      // first's name, moved
	syncOK(t, rogue, hq)

	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var why []string
	for _, q := range qs {
		why = append(why, q.Reason)
	}
	all := strings.Join(why, "|")
	for _, want := range []string{"missing-person.last_seen_place: ", "missing-person.description: malformed sealed value"} {
		if !strings.Contains(all, want) {
			t.Errorf("no change kept aside for %q: %q", want, why)
		}
	}
	v, err := hq.Node.Record(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if v.Fields["last_seen_place"] != "San Ignacio market" {
		t.Fatalf("last_seen_place at HQ: %v", v.Fields["last_seen_place"])
	}
	if _, ok := v.Fields["full_name"].(node.Withheld); !ok || v.Texts["full_name"] != "?" {
		t.Fatalf("a name moved from another record reads at HQ as %v (%q)", v.Fields["full_name"], v.Texts["full_name"])
	}
}

// A sealed value is checked by the node that opens it, not as it came: a
// Cayo laptop, modified, seals into a missing-person report a name that
// is no text (a NaN, a list) and one longer than the kit lets a name be.
// HQ reads each as altered ("?"), never as the value sealed, and its
// exports with personal data are written whole: before, a NaN for a name
// made HQ's GeoJSON export of missing persons fail at that report, and
// the name of 5,000 characters went into the CSV.
func TestASealedValueItsFieldRefusesReadsAsAltered(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	rogue := c.Add("cayo-66", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, rogue)
	ctx := context.Background()
	long := strings.Repeat("Quixchan ", 600)
	values := map[string]any{"full_name": math.NaN(), "also_known_as": []string{"=1+1", "x"}, "description": long}
	report := strings.Replace(missingReport("Cayo"), `"status"`, `"last_seen_location":{"lat":17.16,"lon":-89.07},"status"`, 1)
	id, err := rogue.Node.Add(ctx, "missing-person", []byte(report), "ana")
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range values {
		raw, err := syncproto.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := node.SealAs(rogue.Node, ctx, "Cayo", id, name, raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := node.WriteEdit(rogue.Node, ctx, store.Edit{Record: id, Lane: syncproto.MakeLane(1, syncproto.National), Kit: "missing-persons", Type: "missing-person", Version: 1,
			Fields: []syncproto.FieldChange{{Name: name, Value: sealed}}}); err != nil {
			t.Fatal(err)
		}
	}
	syncOK(t, rogue, hq)

	v, err := hq.Node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for name := range values {
		if _, ok := v.Fields[name].(node.Withheld); !ok || v.Texts[name] != "?" {
			t.Errorf("HQ reads %s, sealed as its field does not take, as %.80v (%.80q)", name, v.Fields[name], v.Texts[name])
		}
	}
	var geo, csv bytes.Buffer
	if n, err := hq.Node.ExportGeoJSON(ctx, "missing-person", &geo, node.ExportOptions{Personal: true}); err != nil || n != 1 {
		t.Errorf("HQ's GeoJSON export of missing persons: %d written, %v", n, err)
	}
	if n, err := hq.Node.ExportCSV(ctx, "missing-person", &csv, node.ExportOptions{Personal: true}); err != nil || n != 1 {
		t.Errorf("HQ's CSV export of missing persons: %d written, %v", n, err)
	}
	if strings.Contains(csv.String(), "Quixchan Quixchan") {
		t.Errorf("HQ's CSV export holds the description its field refuses")
	}
}

// Headquarters runs two nodes, each of which makes a district's key when
// it holds none. The second starts before it ever met the first: each
// made Cayo's first key, and the laptops each met hold one of them. Once
// the two meet, each reads what the other's laptops wrote, and so does a
// laptop that met only the other.
func TestTwoHQNodesReadWhatEitherGranted(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	alt := c.Add("hq-2", syncproto.RoleHQ, "Belize", nil)
	cayo := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	cayo2 := c.Add("cayo-12", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, cayo)
	meetHQ(t, alt, cayo2)
	ctx := context.Background()
	first, err := cayo.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "ana")
	if err != nil {
		t.Fatal(err)
	}
	second, err := cayo2.Node.Add(ctx, "missing-person", []byte(missingReport("Cayo")), "luis")
	if err != nil {
		t.Fatal(err)
	}
	syncOK(t, cayo, hq)
	syncOK(t, cayo2, alt)
	// The two HQ nodes meet, and grant again what the other lacks, until
	// each reads both reports: a grant is signed as it is applied, so one
	// made in a round may only travel in the next.
	reads := func(m *nodetest.Member) bool {
		for _, id := range []syncproto.RecordID{first, second} {
			if v, err := m.Node.Record(ctx, id); err != nil || v.Fields["full_name"] != canaryName {
				return false
			}
		}
		return true
	}
	nodetest.Eventually(t, 10*time.Second, "each HQ node reads both reports", func() bool {
		syncOK(t, alt, hq)
		for _, m := range []*nodetest.Member{hq, alt} {
			if _, err := m.Node.IssueGrants(ctx); err != nil {
				t.Fatal(err)
			}
		}
		syncOK(t, alt, hq)
		return reads(hq) && reads(alt)
	})
	// Each laptop meets the HQ node it had not met, and reads the other's
	// report.
	syncOK(t, cayo, alt)
	syncOK(t, cayo2, hq)
	for _, m := range []*nodetest.Member{cayo, cayo2} {
		for _, id := range []syncproto.RecordID{first, second} {
			if v, err := m.Node.Record(ctx, id); err != nil || v.Fields["full_name"] != canaryName {
				t.Errorf("%s reads %v (%v)", m.Name, v.Fields["full_name"], err)
			}
		}
	}
}

// Headquarters' clock ran two days fast when it made Cayo's grant, and was
// set right since. The grants it makes now are stamped before the one
// every node keeps, yet a laptop enrolled afterwards gets its key.
func TestAGrantMadeWhileHQsClockRanFastIsReplaced(t *testing.T) {
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) { cfg.Bootstrap, cfg.ClockOffset = true, 48*time.Hour })
	early := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, early)
	hq.Stop()
	hq.Config.ClockOffset = 0
	hq.Start()
	late := c.Add("cayo-12", syncproto.RoleField, "Cayo", nil)
	meetHQ(t, hq, late)
}

// A data key the node could not write to disk is not one it seals with:
// a rotation whose key a cut session or a full disk kept from the store
// would otherwise seal Cayo's new values with a key a restart loses. Kept
// once the write goes through, it is the node's after a restart.
func TestADataKeyNotWrittenIsNotSealedWith(t *testing.T) {
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Belize", nil)
	k, err := personal.NewDataKey("Cayo", 90)
	if err != nil {
		t.Fatal(err)
	}
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	if err := node.KeepDataKeys(hq.Node, cut, k); err == nil {
		t.Fatal("a key kept with the store's write cut: no error")
	}
	if e := hq.Node.DataKeys()["Cayo"]; e == 90 {
		t.Fatal("the node seals Cayo's values with a key it did not write")
	}
	if err := node.KeepDataKeys(hq.Node, context.Background(), k); err != nil {
		t.Fatal(err)
	}
	if e := hq.Node.DataKeys()["Cayo"]; e != 90 {
		t.Fatalf("Cayo's key is of epoch %d once written, want 90", e)
	}
	hq.Stop()
	hq.Start()
	if e := hq.Node.DataKeys()["Cayo"]; e != 90 {
		t.Fatalf("after a restart, Cayo's key is of epoch %d, want 90", e)
	}
}

// A laptop moved from Cayo to Toledo still holds Cayo's key of before. It
// registers a Toledo family before it meets HQ as a Toledo laptop, sealing
// the phone with its own key, and corrects the family's district field to
// Cayo. The family is still Toledo's, in Toledo's scope. Once Toledo's key
// comes, the phone is sealed again for Toledo, and a relay of Cayo that
// votes, holding the family and Cayo's keys, does not read it. Before,
// sealing again took the district the field names: the phone went out
// sealed for Cayo's key the laptop kept, and Cayo's voting relays read it.
func TestValuesSealedAgainAreForTheRecordsDistrict(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	cayoRelay := relays[0]
	mover := laptop(c, "cayo-31", "Cayo", nil)
	meetHQ(t, hq, mover)
	withDistrictKey(t, cayoRelay, hq, "Cayo")
	moveTo(t, c, mover, "Toledo")
	ctx := context.Background()
	family := mustAdd(t, mover.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Cristóbal Tzib","members":2,
		"phone":"`+canaryPhone+`","home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193"}`)
	mustUpdate(t, mover.Node, family, `{"district":"Cayo"}`)
	meetHQ(t, hq, mover)
	syncOK(t, mover, hq)
	if v, err := hq.Node.Record(ctx, family); err != nil || v.Fields["phone"] != canaryPhone {
		t.Fatalf("HQ reads the family's phone, sealed again, as %v, %v", v.Fields["phone"], err)
	}
	syncOK(t, cayoRelay, hq)
	v, err := cayoRelay.Node.Record(ctx, family)
	if err != nil {
		t.Fatalf("the Cayo relay, a voter, holds the family: %v", err)
	}
	if v.Fields["phone"] != (node.Withheld{}) {
		t.Fatalf("the Cayo relay reads the Toledo family's phone as %v; want it withheld", v.Fields["phone"])
	}
}

// A Cayo laptop meets the alternate HQ node alone, which grants it Cayo's
// key; headquarters' node takes that grant and key from the alternate, and
// never holds the laptop's certificate. The laptop is stolen, and
// headquarters revokes it while the alternate is off: Cayo's key is
// rotated, so that what is written of Cayo's records afterwards is sealed
// with a key the laptop never gets. Before, headquarters looked for the
// revoked among the nodes whose certificates it held: the laptop kept the
// key every Cayo value went on being sealed with.
func TestARevokedNodeWhoseCertificateHQLacksLosesItsKey(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	// The alternate's clock runs a minute ahead: its grants are the later
	// of two made at once, and HQ's node keeps them.
	alt := c.Add("hq-2", syncproto.RoleHQ, "Belize", func(cfg *node.Config) { cfg.ClockOffset = time.Minute })
	thief := laptop(c, "cayo-12", "Cayo", nil)
	ctx := context.Background()
	meetHQ(t, alt, thief)
	// The two meet until, twice running, neither has a grant to make (a
	// session may bring one the running node answers meanwhile): HQ's node
	// then keeps the alternate's, which names the laptop.
	quiet := 0
	nodetest.Eventually(t, 10*time.Second, "the two HQ nodes hold the same grants", func() bool {
		made := 0
		for _, m := range []*nodetest.Member{hq, alt} {
			syncOK(t, alt, hq)
			n, err := m.Node.IssueGrants(ctx)
			if err != nil {
				t.Fatal(err)
			}
			made += n
		}
		syncOK(t, alt, hq)
		if quiet++; made > 0 {
			quiet = 0
		}
		return quiet == 2
	})
	held := thief.Node.DataKeys()["Cayo"]
	alt.Stop()
	if err := hq.Node.Revoke(ctx, thief.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ's node knows of the revocation", func() bool { return revoked(t, hq.Node, thief.Node.Self().ID) })
	if _, err := hq.Node.IssueGrants(ctx); err != nil {
		t.Fatal(err)
	}
	if got := hq.Node.DataKeys()["Cayo"]; got <= held {
		t.Fatalf("after the revocation HQ's node seals Cayo's values with epoch %d; the revoked laptop holds epoch %d", got, held)
	}
}

// A Cayo laptop's season ends and it is not renewed: lost in the field,
// say. HQ's next look at its grants rotates Cayo's key, as for a node
// revoked, so that what is written afterwards is sealed with a key the
// laptop never gets, whoever finds it and a stick. Before, a laptop whose
// certificate had ended was only left out of later grants: it kept the key
// Cayo's values went on being sealed with, and a revocation after it ended
// rotated nothing, as no grant HQ kept named it any more.
func TestALaptopWhoseSeasonEndedLosesItsKey(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	lapsed := laptop(c, "cayo-44", "Cayo", nil)
	meetHQ(t, hq, lapsed)
	held := lapsed.Node.DataKeys()["Cayo"]
	// HQ's node is started again a season and a month later, by its clock.
	hq.Stop()
	hq.Config.ClockOffset = 150 * 24 * time.Hour
	hq.Start()
	if _, err := hq.Node.IssueGrants(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := hq.Node.DataKeys()["Cayo"]; got <= held {
		t.Fatalf("HQ's node seals Cayo's values with epoch %d once the laptop's certificate ended; the laptop holds epoch %d", got, held)
	}
}
