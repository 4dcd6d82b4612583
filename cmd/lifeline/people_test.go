package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/match"
)

// Two reports of one woman, spelled as two callers gave her name, and her
// registration at a shelter, written at a running HQ; a report of another
// person; a damage assessment.
const (
	reportMaria = `{"full_name":"María José Coc Caal","sex":"female","age":34,"district":"Toledo","last_seen_place":"the market","last_seen_village":"San Antonio","status":"missing",
 "reporter_name":"Juana Caal","reporter_phone":"+501 622 1234","reporter_relationship":"sister","reported_at":"2026-11-21T08:00:00-06:00"}`
	reportCoc = `{"full_name":"COC, Maria","age":35,"district":"Toledo","last_seen_place":"her house","last_seen_village":"San Antonio","status":"missing",
 "reporter_name":"Pedro Coc","reported_at":"2026-11-21T11:30:00-06:00"}`
	reportSho = `{"full_name":"Pedro Sho","sex":"male","age":61,"district":"Cayo","last_seen_place":"the bridge","last_seen_village":"Succotz","status":"missing",
 "reporter_name":"Ana Sho","reported_at":"2026-11-21T09:00:00-06:00"}`
	shelteredMaria = `{"full_name":"Maria Coc","sex":"female","age":34,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall",
 "district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00"}`
)

// matchJSON is one pair as people match --json prints it.
type matchJSON struct {
	A, B     string
	Kind     string
	Score    float64
	Reasons  []string
	Member   string
	Decision string
}

// People reconciled with the real binary at a running HQ: the two reports
// of María match, with reasons; a link goes through the ledger and record
// show lists the other report with its case number; the shelter's
// registration proposes her found safe, with whom to tell, and confirming
// writes it into her report; an unlink takes the report out of her group.
// Mistakes are refused with what was wrong.
func TestPeopleMatchLinkAndUnlink(t *testing.T) {
	// Its processes mostly wait (for sessions, gossip, elections):
	// it runs beside other such tests.
	t.Parallel()
	d := newDeployment(t)
	field := d.node(t, "toledo-03", "field", "Toledo")
	runNode(t, d.hq, "--sync-addr", "127.0.0.1:0", "--bootstrap", "--sync-idle", "10s")
	add := func(typ, rec string) string {
		return strings.TrimSpace(ok(t, rec, "record", "add", "--data", d.hq, "--type", typ))
	}
	maria, coc, sho := add("missing-person", reportMaria), add("missing-person", reportCoc), add("missing-person", reportSho)
	damage := add("damage-assessment", assessment)

	matches := func() []matchJSON {
		out := ok(t, "", "people", "match", "--data", d.hq, "--json")
		var raw []map[string]any
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatalf("people match --json: %v\n%s", err, out)
		}
		for _, m := range raw {
			for k := range m {
				if !slices.Contains([]string{"a", "b", "kind", "score", "reasons", "member", "decision"}, k) {
					t.Fatalf("people match --json prints a key %q:\n%s", k, out)
				}
			}
		}
		var got []matchJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	pair := func(ms []matchJSON, x, y string) *matchJSON {
		for i, m := range ms {
			if m.A == min(x, y) && m.B == max(x, y) {
				return &ms[i]
			}
		}
		return nil
	}
	got := matches()
	m := pair(got, maria, coc)
	if m == nil || m.Kind != "duplicate" || m.Score < 0.5 || m.Score > 1 || m.Decision != "" {
		t.Fatalf("the two reports of María: %+v in %+v", m, got)
	}
	if reasons := strings.Join(m.Reasons, "; "); !strings.Contains(strings.ToLower(reasons), "coc") || !strings.Contains(reasons, "34") {
		t.Fatalf("the reasons name neither the surname nor the ages: %q", reasons)
	}
	if pair(got, maria, sho) != nil || pair(got, coc, sho) != nil {
		t.Fatalf("Pedro Sho of Cayo, 61, matches a report of María: %+v", got)
	}
	if out := ok(t, "", "people", "match", "--data", d.hq); !strings.Contains(out, "duplicate") || !strings.Contains(out, maria) || !strings.Contains(out, "María José Coc Caal") {
		t.Fatalf("people match:\n%s", out)
	}

	// Pedro Sho is in his daughter's family's registration at a shelter,
	// a row of its household: the pair names the row, and people match
	// says his name under the family's record.
	family := add("shelter-registration", `{"shelter_name":"San Ignacio Community Centre","district":"Cayo","family_head_name":"Ana Sho","members":2,
 "home_village":"Succotz","home_district":"Cayo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193",
 "household":[{"name":"Ana Sho","sex":"female","age":35},{"name":"SHO, PEDRO","sex":"male","age":60}]}`)
	if m := pair(matches(), sho, family); m == nil || m.Kind != "found" || m.Member == "" || m.Member == "head" {
		t.Fatalf("Pedro Sho in his family's registration: %+v", m)
	}
	if out := ok(t, "", "people", "match", "--data", d.hq); !strings.Contains(out, "SHO, PEDRO") || !strings.Contains(out, family) {
		t.Fatalf("people match does not name the family's member:\n%s", out)
	}

	fails(t, "", []string{"toledo-03 is a field node", "headquarters, or a relay"}, "people", "match", "--data", field)
	fails(t, "", []string{"toledo-03 is a field node"}, "people", "link", "--data", field, "--a", maria, "--b", coc)
	fails(t, "", []string{"is one record; give two"}, "people", "link", "--data", d.hq, "--a", maria, "--b", maria)
	fails(t, "", []string{"0190f5a2-0000-7000-8000-000000000000", "sync with the node that holds it"}, "people", "link", "--data", d.hq, "--a", maria, "--b", "0190f5a2-0000-7000-8000-000000000000")
	fails(t, "", []string{"is a damage-assessment; only missing-person, sheltered-person and shelter-registration records are linked"}, "people", "link", "--data", d.hq, "--a", maria, "--b", damage)
	fails(t, "", []string{"--min-score 2: give a score from 0 to 1"}, "people", "match", "--data", d.hq, "--min-score", "2")
	fails(t, "", []string{"--b is required"}, "people", "unlink", "--data", d.hq, "--a", maria)

	if out := ok(t, "", "people", "link", "--data", d.hq, "--a", maria, "--b", coc); !strings.Contains(out, "linked of "+maria+" and "+coc+" queued") {
		t.Fatalf("people link said %q", out)
	}
	shown := func(id string) string { return ok(t, "", "record", "show", "--data", d.hq, "--id", id) }
	linkedCase := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(coc) + `  case [A-Z]{3}-\d{4}-\d{6}  \(missing-person\)$`)
	waitFor(t, 120*time.Second, "record show lists the linked report with its case number", func() bool {
		return linkedCase.MatchString(shown(maria))
	})
	if out := shown(coc); !strings.Contains(out, "linked (one person):\n  "+maria) {
		t.Fatalf("record show of the other report:\n%s", out)
	}
	if out := shown(sho); strings.Contains(out, "linked") {
		t.Fatalf("record show of a report linked with nothing:\n%s", out)
	}
	if m := pair(matches(), maria, coc); m == nil || m.Decision != "linked" {
		t.Fatalf("after the link, the pair is %+v", m)
	}

	// Found in a shelter: the link proposes, a person confirms.
	shelter := add("sheltered-person", shelteredMaria)
	if m := pair(matches(), maria, shelter); m == nil || m.Kind != "found" {
		t.Fatalf("María in the shelter: %+v", m)
	}
	second := add("sheltered-person", shelteredMaria)
	fails(t, "", []string{"both people in shelters"}, "people", "link", "--data", d.hq, "--a", shelter, "--b", second)
	// María is registered twice: her reports are listed with the first
	// registration, and the second is set aside beside them, saying why.
	var aside []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "", "people", "match", "--data", d.hq, "--json", "--set-aside")), &aside); err != nil {
		t.Fatal(err)
	}
	registeredTwice := "set aside: a stronger match gives the person another shelter registration"
	for _, report := range []string{maria, coc} {
		if !slices.ContainsFunc(aside, func(m map[string]any) bool {
			r, _ := m["reasons"].([]any)
			return m["a"] == min(report, second) && m["b"] == max(report, second) && m["set_aside"] == true && len(r) > 0 && r[0] == registeredTwice
		}) {
			t.Fatalf("people match --json --set-aside does not set aside %s with %s:\n%v", report, second, aside)
		}
	}
	if m := pair(matches(), maria, second); m != nil {
		t.Fatalf("people match --json lists the registration set aside: %+v", m)
	}
	if out := ok(t, "", "people", "match", "--data", d.hq); !regexp.MustCompile(`(?m)^    beside it, \d\.\d\d  found +`+regexp.QuoteMeta(min(maria, second)+"  "+max(maria, second))+`$`).MatchString(out) ||
		!strings.Contains(out, "        "+registeredTwice+"; ") {
		t.Fatalf("people match does not print the registration set aside beside María's pair:\n%s", out)
	}
	fails(t, "", []string{"--set-aside is for --json"}, "people", "match", "--data", d.hq, "--set-aside")
	out := ok(t, "", "people", "link", "--data", d.hq, "--a", shelter, "--b", maria)
	for _, want := range []string{
		"proposed: missing person " + maria + ", status found-safe, found_at_place \"Punta Gorda Town Hall\"",
		"lifeline people confirm-found --data DIR --id " + maria + " --shelter-record " + shelter,
		"reporter: Juana Caal, +501 622 1234 (sister)",
		// Her other report, linked above: its reporter is told too.
		"linked report of the same person: " + coc,
		", status missing: written found-safe too once confirmed\n  reporter: Pedro Coc\n",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("people link of a shelter's registration does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "caution:") {
		t.Fatalf("people link of a woman of 34, reported at HQ, cautions:\n%s", out)
	}
	if strings.Contains(shown(maria), "Found safe") {
		t.Fatal("a link wrote the report as found, before anyone confirmed")
	}
	fails(t, "", []string{"give the report as the missing person"}, "people", "confirm-found", "--data", d.hq, "--id", shelter, "--shelter-record", maria)
	if out := ok(t, "", "people", "confirm-found", "--data", d.hq, "--id", maria, "--shelter-record", shelter); !strings.Contains(out, "record "+maria+": status found-safe, found at Punta Gorda Town Hall") ||
		!strings.Contains(out, "record "+coc+", linked: status found-safe, found at Punta Gorda Town Hall") {
		t.Fatalf("confirm-found said %q", out)
	}
	if !strings.Contains(shown(coc), "Found safe") {
		t.Fatalf("the linked report after confirm-found:\n%s", shown(coc))
	}
	// A child: the link and the confirmation say to check the reporter
	// is her parent or guardian before telling them where she is.
	girl := add("missing-person", `{"full_name":"Ana Luisa Tzib","sex":"female","age":7,"district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio",
 "status":"missing","reporter_name":"Marta Coc","reported_at":"2026-11-21T08:00:00-06:00"}`)
	girlSheltered := add("sheltered-person", `{"full_name":"Ana Tzib","sex":"female","age":7,"home_village":"San Antonio","home_district":"Toledo",
 "shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00"}`)
	const child = "caution: a child (7): before telling the reporter where the child is, check that they are the child's parent or guardian"
	if out := ok(t, "", "people", "link", "--data", d.hq, "--a", girl, "--b", girlSheltered); !strings.Contains(out, child) {
		t.Fatalf("people link of a girl of 7 does not say %q:\n%s", child, out)
	}
	if out := ok(t, "", "people", "confirm-found", "--data", d.hq, "--id", girl, "--shelter-record", girlSheltered); !strings.Contains(out, child) {
		t.Fatalf("confirm-found of a girl of 7 does not say %q:\n%s", child, out)
	}

	var rec struct {
		Fields map[string]any
		Linked []struct{ ID, Type, Case string }
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", d.hq, "--id", maria, "--json")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Fields["status"] != "found-safe" || rec.Fields["found_at_place"] != "Punta Gorda Town Hall" {
		t.Fatalf("the report after confirm-found: %v", rec.Fields)
	}
	caseNumber := regexp.MustCompile(`^[A-Z]{3}-\d{4}-\d{6}$`)
	if !slices.ContainsFunc(rec.Linked, func(l struct{ ID, Type, Case string }) bool {
		return l.ID == coc && l.Type == "missing-person" && caseNumber.MatchString(l.Case)
	}) {
		t.Fatalf("record show --json lists as linked %+v, want %s, a missing-person with its case number", rec.Linked, coc)
	}

	// Unlinked, the other report leaves María's group; the shelter stays.
	ok(t, "", "people", "unlink", "--data", d.hq, "--a", coc, "--b", maria)
	waitFor(t, 120*time.Second, "record show no longer lists the unlinked report", func() bool {
		out := shown(maria)
		return !strings.Contains(out, coc) && strings.Contains(out, "  "+shelter)
	})
	if m := pair(matches(), maria, coc); m == nil || m.Decision != "unlinked" {
		t.Fatalf("after the unlink, the pair is %+v", m)
	}
	// Two people after all: the pair is listed with that decision.
	ok(t, "", "people", "link", "--data", d.hq, "--a", coc, "--b", maria, "--different")
	waitFor(t, 120*time.Second, "the ledger holds the pair as two people", func() bool {
		m := pair(matches(), maria, coc)
		return m != nil && m.Decision == "different"
	})

	// An import run again and again: one report, MaxPairs+3 times. The
	// matching says how many people it could not compare with all their
	// namesakes, and still lists the others.
	one := strings.NewReplacer("María José Coc Caal", "Ana Bol", "San Antonio", "Otoxha", "\n", "").Replace(reportMaria)
	flood := strings.Repeat(one+"\n", match.MaxPairs+3)
	file := filepath.Join(t.TempDir(), "again.ndjson")
	if err := os.WriteFile(file, []byte(flood), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "", "record", "import", "--data", d.hq, "--type", "missing-person", "--author", "vol-007", file)
	r := lifeline(t, "", "people", "match", "--data", d.hq)
	if want := "2 people were not compared with all their namesakes: more records of one name, age and place than any event gives"; r.code != 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stdout, maria) {
		t.Fatalf("people match after a flood: exit %d, %q; want María's pairs and %q on stderr", r.code, r.stderr, want)
	}
}

// A conflict on what confirming found writes is printed with each
// version, escaped as every value from another node is, and says that
// confirm-found is refused until it is decided; a report found already
// says what it says.
func TestACautionOfAConflictListsEachVersion(t *testing.T) {
	var b strings.Builder
	printCautions(&b, "  ", []node.Caution{
		{Code: node.CautionConflict, Field: "status", Values: []string{"Missing", "Found deceased\x1b[2J"}},
		{Code: node.CautionStatus, Values: []string{"Found injured", "Punta Gorda Hospital"}},
	})
	const want = `  caution: status is in conflict on this report, "Missing" or "Found deceased\\x1b[2J": decide it on the record first (record show), or confirm-found is refused` + "\n" +
		"  caution: the report says Found injured at Punta Gorda Hospital already: confirming writes found safe at the shelter over it; find out which is true first\n"
	if b.String() != want {
		t.Fatalf("printed %q, want %q", b.String(), want)
	}
}
