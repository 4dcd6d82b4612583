package desktop

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/match"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// People records for the queue of possible matches: two reports of one
// woman of Cayo, spelled as two callers gave her name; a report of a woman
// of Toledo, with her reporter's contact, and her registration at a
// shelter.
const (
	matchMaria      = `{"full_name":"María José Coc Caal","sex":"female","age":34,"district":"Cayo","last_seen_place":"the market","last_seen_village":"Benque Viejo","status":"missing","reporter_name":"Juana Caal","reported_at":"2026-11-21T08:00:00-06:00"}`
	matchCoc        = `{"full_name":"COC, Maria","age":35,"district":"Cayo","last_seen_place":"her house","last_seen_village":"Benque Viejo","status":"missing","reporter_name":"Pedro Coc","reported_at":"2026-11-21T11:30:00-06:00"}`
	matchReportAna  = `{"full_name":"Ana Teresa Bol","sex":"female","age":52,"district":"Toledo","last_seen_place":"the church","last_seen_village":"San Antonio","status":"missing","reporter_name":"Luis Bol","reporter_phone":"+501 622 1234","reporter_relationship":"son","reported_at":"2026-11-21T08:00:00-06:00"}`
	matchShelterAna = `{"full_name":"Ana Bol","sex":"female","age":52,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00"}`
)

// matchHQ is a cluster with a running HQ that leads its ledger, and the
// app over HQ.
func matchHQ(t *testing.T) (*nodetest.Cluster, *nodetest.Member, *UI) {
	t.Helper()
	c := nodetest.New(t)
	hq := c.Add("hq-belmopan", syncproto.RoleHQ, "Belize", func(cfg *node.Config) { cfg.Bootstrap = true })
	nodetest.Eventually(t, 30*time.Second, "hq-belmopan leads the ledger", func() bool { return hq.Daemon.Ledger().IsLeader() })
	u := uiOver(t, hq.Node)
	return c, hq, u
}

func matchAdd(t *testing.T, n *node.Node, typ, data string) syncproto.RecordID {
	t.Helper()
	id, err := n.Add(context.Background(), typ, []byte(data), "ana")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Two reports of one woman, spelled two ways, wait in HQ's queue of
// possible matches as one pair, with its kind, score, names, districts and
// reasons; picked, the two records show side by side. Later keeps it in
// the queue; Link sends the decision to the ledger, which applies it, and
// the pair leaves the queue and stays out of it once read again.
func TestMatchQueueLinksTwoReportsOfOnePerson(t *testing.T) {
	ctx := context.Background()
	_, hq, u := matchHQ(t)
	a := matchAdd(t, hq.Node, "missing-person", matchMaria)
	b := matchAdd(t, hq.Node, "missing-person", matchCoc)

	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.matches
	if p.read1 || p.tab.Text != "Possible matches" {
		t.Fatalf("before the tab opens: read %v, tab %q; matching should wait for the tab", p.read1, p.tab.Text)
	}
	v.sides.Select(p.tab)
	if len(p.items) != 1 {
		t.Fatalf("queue lists %d pairs, want the one pair of the two reports", len(p.items))
	}
	it := p.items[0]
	lo, hi := ledger.PairOf(a, b)
	if it.a != lo || it.b != hi {
		t.Errorf("pair %s–%s, want %s–%s", it.a, it.b, lo, hi)
	}
	if !strings.HasPrefix(it.title, "Same person reported twice · ") || !strings.HasSuffix(it.title, "%") {
		t.Errorf("row title %q, want the kind and a percentage", it.title)
	}
	for _, want := range []string{"María José Coc Caal (Cayo)", "COC, Maria (Cayo)", "surname"} {
		if !strings.Contains(it.line, want) {
			t.Errorf("row line %q does not say %q", it.line, want)
		}
	}
	if p.tab.Text != "Possible matches (1)" || !strings.HasPrefix(p.msg.Text, "Possible matches: 1, strongest first.") {
		t.Errorf("tab %q, list says %q", p.tab.Text, p.msg.Text)
	}

	p.list.Select(0)
	left, right := strings.Join(labelTexts(p.left), "|"), strings.Join(labelTexts(p.right), "|")
	if !strings.Contains(left+right, "María José Coc Caal") || !strings.Contains(left+right, "COC, Maria") ||
		!strings.Contains(left, "Benque Viejo") || !strings.Contains(right, "Benque Viejo") {
		t.Errorf("side by side: left %q, right %q", left, right)
	}

	test.Tap(p.later)
	if len(p.items) != 1 || p.picked != "" {
		t.Fatalf("after Later: %d pairs, picked %q; the pair stays listed, nothing picked", len(p.items), p.picked)
	}

	p.list.Select(0)
	test.Tap(p.link)
	if len(p.items) != 0 || p.tab.Text != "Possible matches (0)" {
		t.Fatalf("after Link: %d pairs, tab %q; the pair leaves the queue", len(p.items), p.tab.Text)
	}
	if !strings.Contains(p.result.Text, "Linked as one person") || p.confirm.Visible() {
		t.Errorf("result %q, confirm shown %v: two reports are linked, nobody is found", p.result.Text, p.confirm.Visible())
	}
	nodetest.Eventually(t, 60*time.Second, "the ledger links the two reports", func() bool {
		s, err := hq.Node.LinkState(ctx, a, b)
		return err == nil && s == ledger.LinkLinked
	})
	v.load()
	if len(p.items) != 0 || len(p.sent) != 0 {
		t.Errorf("read again: %d pairs, %d decisions awaiting the ledger; the linked pair stays out", len(p.items), len(p.sent))
	}
}

// A missing woman registered at a shelter, alone or as a row of her
// family's registration, waits in the queue under her own name; Link
// proposes her found at the shelter, naming whom to tell, and writes
// nothing; Confirm writes it into her report.
func TestMatchFoundInAShelterIsConfirmedByAPerson(t *testing.T) {
	for _, reg := range []struct{ what, typ, data string }{
		{"alone", "sheltered-person", matchShelterAna},
		{"in her family's registration", "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Luis Bol","members":2,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193",
		"household":[{"name":"Luis Bol","sex":"male","age":30},{"name":"Ana Bol","sex":"female","age":52}]}`},
	} {
		t.Run(reg.what, func(t *testing.T) {
			ctx := context.Background()
			_, hq, u := matchHQ(t)
			missing := matchAdd(t, hq.Node, "missing-person", matchReportAna)
			matchAdd(t, hq.Node, reg.typ, reg.data)

			v := u.newHQView()
			u.win.SetContent(v.content())
			p := v.matches
			v.sides.Select(p.tab)
			if len(p.items) != 1 || !strings.HasPrefix(p.items[0].title, "Missing person found in a shelter · ") {
				t.Fatalf("queue %d pairs, first %v; want the report and the registration as found", len(p.items), p.items)
			}
			if line := p.items[0].line; !strings.Contains(line, "Ana Teresa Bol (Toledo) — Ana Bol (Toledo)") {
				t.Errorf("row line %q; want the report and the woman registered, by name", line)
			}
			p.list.Select(0)
			test.Tap(p.link)
			if !p.confirm.Visible() || !strings.Contains(p.proposal.Text, "Punta Gorda Town Hall") ||
				!strings.Contains(p.proposal.Text, "Luis Bol, son, +501 622 1234") {
				t.Fatalf("after Link: confirm shown %v, proposal %q", p.confirm.Visible(), p.proposal.Text)
			}
			if p.proposal.Importance != widget.MediumImportance || strings.Contains(p.proposal.Text, "child") {
				t.Errorf("a woman of 52 reported at HQ: proposal %q of importance %v, want no caution", p.proposal.Text, p.proposal.Importance)
			}
			if rec, err := hq.Node.Record(ctx, missing); err != nil || rec.Fields["status"] != "missing" {
				t.Fatalf("before confirming, the report says %v (%v); a link writes nothing", rec.Fields["status"], err)
			}
			test.Tap(p.confirm)
			rec, err := hq.Node.Record(ctx, missing)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Fields["status"] != "found-safe" || rec.Fields["found_at_place"] != "Punta Gorda Town Hall" {
				t.Errorf("confirmed report: status %v, found at %v", rec.Fields["status"], rec.Fields["found_at_place"])
			}
			if p.confirm.Visible() || !strings.Contains(p.result.Text, "found safe, at Punta Gorda Town Hall") {
				t.Errorf("after confirming: button shown %v, result %q", p.confirm.Visible(), p.result.Text)
			}
		})
	}
}

// openQueue shows HQ's view with its queue of possible matches.
func openQueue(u *UI) *matchPanel {
	v := u.newHQView()
	u.win.SetContent(v.content())
	v.sides.Select(v.matches.tab)
	return v.matches
}

// linkTheOnePair opens HQ's queue, which must hold one pair of a report
// and a registration, and links it.
func linkTheOnePair(t *testing.T, u *UI) *matchPanel {
	t.Helper()
	p := openQueue(u)
	if len(p.items) != 1 {
		t.Fatalf("queue %d pairs; want a report and its registration", len(p.items))
	}
	p.list.Select(0)
	test.Tap(p.link)
	return p
}

// A girl found in a shelter: Link's proposal warns, in the app's
// language, to check that the reporter is her parent or guardian before
// telling them where she is.
func TestMatchFoundChildSaysToCheckTheReporterFirst(t *testing.T) {
	for _, tc := range []struct{ lang, want string }{
		{"en", "A child (7): before telling the reporter where the child is, check that they are the child's parent or guardian"},
		{"es", "Un niño o una niña (7): antes de decir a quien lo reportó dónde está, compruebe que es su madre, padre o tutor"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			_, hq, u := matchHQ(t)
			if err := hq.Node.SetLang(tc.lang); err != nil {
				t.Fatal(err)
			}
			matchAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Luisa Tzib","sex":"female","age":7,"district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Coc","reporter_phone":"+501 600 0000","reported_at":"2026-11-21T08:00:00-06:00"}`)
			matchAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Tzib","sex":"female","age":7,"home_village":"San Antonio","home_district":"Toledo","shelter_name":"Punta Gorda Town Hall","district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00"}`)
			p := linkTheOnePair(t, u)
			if !strings.Contains(p.proposal.Text, tc.want) || p.proposal.Importance != widget.WarningImportance {
				t.Fatalf("after Link: proposal %q of importance %v; want it to say %q, as a warning", p.proposal.Text, p.proposal.Importance, tc.want)
			}
		})
	}
}

// A report whose reporter's phone someone else changed: Link's proposal
// names who, as a warning, so that the phone is checked before anyone is
// told where the woman is.
func TestMatchFoundSaysWhoChangedTheReportersPhone(t *testing.T) {
	ctx := context.Background()
	_, hq, u := matchHQ(t)
	report := matchAdd(t, hq.Node, "missing-person", matchReportAna)
	matchAdd(t, hq.Node, "sheltered-person", matchShelterAna)
	if _, err := hq.Node.Update(ctx, report, []byte(`{"reporter_phone":"+501 699 9999"}`), "Pedro Chen"); err != nil {
		t.Fatal(err)
	}
	p := linkTheOnePair(t, u)
	const want = "The reporter's name, phone or relationship was changed after the report was written, on hq-belmopan by Pedro Chen"
	if !strings.Contains(p.proposal.Text, want) || !strings.Contains(p.proposal.Text, "+501 699 9999") || p.proposal.Importance != widget.WarningImportance {
		t.Fatalf("after Link: proposal %q of importance %v; want the new phone, and %q as a warning", p.proposal.Text, p.proposal.Importance, want)
	}
}

// In Spanish, the tab, the kinds and the decisions are said in Spanish.
// Different marks the pair as two people: it leaves the queue, and the
// ledger holds the decision.
func TestMatchQueueInSpanish(t *testing.T) {
	ctx := context.Background()
	_, hq, u := matchHQ(t)
	a := matchAdd(t, hq.Node, "missing-person", matchMaria)
	b := matchAdd(t, hq.Node, "missing-person", matchCoc)
	if err := hq.Node.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.matches
	if p.tab.Text != "Posibles coincidencias" {
		t.Errorf("tab %q", p.tab.Text)
	}
	v.sides.Select(p.tab)
	if p.tab.Text != "Posibles coincidencias (1)" || len(p.items) != 1 ||
		!strings.HasPrefix(p.items[0].title, "La misma persona reportada dos veces · ") {
		t.Fatalf("tab %q, rows %v", p.tab.Text, p.items)
	}
	if p.link.Text != "Vincular (misma persona)" || p.differ.Text != "Distintas" || p.later.Text != "Más tarde" || p.confirm.Text != "Confirmar hallada a salvo" {
		t.Errorf("buttons %q %q %q %q", p.link.Text, p.differ.Text, p.later.Text, p.confirm.Text)
	}
	p.list.Select(0)
	test.Tap(p.differ)
	if len(p.items) != 0 || p.tab.Text != "Posibles coincidencias (0)" || !strings.HasPrefix(p.result.Text, "Marcadas como dos personas: ") {
		t.Fatalf("after Distintas: %d pairs, tab %q, result %q", len(p.items), p.tab.Text, p.result.Text)
	}
	nodetest.Eventually(t, 60*time.Second, "the ledger holds the two reports as two people", func() bool {
		s, err := hq.Node.LinkState(ctx, a, b)
		return err == nil && s == ledger.LinkDifferent
	})
}

// A relay of Cayo holds two reports of Toledo but not Toledo's data key:
// it cannot open their names, so it lists no pair and says how many people
// records it left out, and why.
func TestMatchQueueAtARelaySaysWhatItCannotRead(t *testing.T) {
	ctx := context.Background()
	c, hq, _ := matchHQ(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	matchAdd(t, hq.Node, "missing-person", matchReportAna)
	matchAdd(t, hq.Node, "sheltered-person", matchShelterAna)
	if _, err := relay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	u := uiOver(t, relay.Node)
	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.matches
	v.sides.Select(p.tab)
	want := "No possible match awaits a decision. 2 people records were left out: their names are personal data this computer cannot read; headquarters or their district's relay matches them."
	if len(p.items) != 0 || p.msg.Text != want {
		t.Errorf("relay lists %d pairs and says %q, want none and %q", len(p.items), p.msg.Text, want)
	}
}

// A third report of the same woman makes three pairs of two reports each;
// picking one pair lists, below its two records, the queue's other pairs
// of either record (and no pair twice), each with a button that picks it,
// so that every candidate of a report is compared before deciding one.
func TestMatchPairShowsTheOtherPairsOfItsRecords(t *testing.T) {
	_, hq, u := matchHQ(t)
	a := matchAdd(t, hq.Node, "missing-person", matchMaria)
	b := matchAdd(t, hq.Node, "missing-person", matchCoc)
	c := matchAdd(t, hq.Node, "missing-person", `{"full_name":"Maria Coc","age":34,"district":"Cayo","last_seen_place":"the bus stop","last_seen_village":"Benque Viejo","status":"missing","reporter_name":"Rosa Chan","reported_at":"2026-11-22T09:00:00-06:00"}`)

	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.matches
	v.sides.Select(p.tab)
	if len(p.items) != 3 {
		t.Fatalf("queue lists %d pairs, want the 3 pairs of three reports of one woman", len(p.items))
	}
	pairOf := func(x, y syncproto.RecordID) string {
		lo, hi := ledger.PairOf(x, y)
		return lo.String() + " " + hi.String()
	}
	p.list.Select(p.indexOf(pairOf(a, b)))
	shown := labelTextsIn(p.others)
	if len(shown) != 3 || !strings.HasPrefix(shown[0], "Other possible matches of these two records") {
		t.Fatalf("below the pair a–b: %q; want a heading and the pairs a–c and b–c", shown)
	}
	var compare []*widget.Button
	for _, bt := range objectsIn[*widget.Button](p.others) {
		if bt.Text == "Compare" {
			compare = append(compare, bt)
		}
	}
	if len(compare) != 2 {
		t.Fatalf("%d Compare buttons below the pair a–b, want 2", len(compare))
	}
	// The first button picks one of the other two pairs, whose own list
	// then names a–b among its others.
	test.Tap(compare[0])
	if p.picked != pairOf(a, c) && p.picked != pairOf(b, c) {
		t.Fatalf("Compare picked %q, want a–c or b–c", p.picked)
	}
	if n := len(objectsIn[*widget.Button](p.others)); n != 2 {
		t.Errorf("below the pair picked by Compare: %d buttons, want the 2 other pairs", n)
	}

	// A pair with no other pair of its records lists nothing below it.
	d := matchAdd(t, hq.Node, "missing-person", matchReportAna)
	matchAdd(t, hq.Node, "missing-person", `{"full_name":"Ana T. Bol","sex":"female","age":52,"district":"Toledo","last_seen_place":"the road","last_seen_village":"San Antonio","status":"missing","reporter_name":"Marta Bol","reported_at":"2026-11-22T08:00:00-06:00"}`)
	v.load()
	for i, it := range p.items {
		if it.a == d || it.b == d {
			p.list.Select(i)
			if shown := labelTextsIn(p.others); len(shown) != 0 {
				t.Errorf("below a pair with no other: %q", shown)
			}
			return
		}
	}
	t.Fatal("the two reports of Ana Bol are not in the queue")
}

// A report of Ana Teresa Bol, 52, matches the registration of Ana Bol, 52,
// and of an Ana Bol of no age, of one village: she is registered once, so
// the queue lists the stronger, and under it the other, set aside, saying
// why, with a button that shows it side by side with the report. Marked
// two people there, it leaves the panel, and the queue's pair stays.
func TestMatchPairShowsWhatWasSetAsideForIt(t *testing.T) {
	ctx := context.Background()
	_, hq, u := matchHQ(t)
	report := matchAdd(t, hq.Node, "missing-person", matchReportAna)
	same := matchAdd(t, hq.Node, "sheltered-person", matchShelterAna)
	noAge := matchAdd(t, hq.Node, "sheltered-person", `{"full_name":"Ana Bol","sex":"female","home_village":"San Antonio","home_district":"Toledo","shelter_name":"San Antonio RC School","district":"Toledo","arrived_at":"2026-11-22T10:00:00-06:00"}`)
	pairOf := func(x, y syncproto.RecordID) string {
		lo, hi := ledger.PairOf(x, y)
		return lo.String() + " " + hi.String()
	}

	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.matches
	v.sides.Select(p.tab)
	if len(p.items) != 1 || p.items[0].key() != pairOf(report, same) {
		t.Fatalf("queue lists %d pairs, want the report with Ana Bol, 52, alone", len(p.items))
	}
	p.list.Select(0)
	shown := labelTextsIn(p.others)
	if len(shown) != 2 || !strings.HasPrefix(shown[0], "Set aside for a stronger match") ||
		!strings.Contains(shown[1], "Ana Teresa Bol (Toledo) — Ana Bol (Toledo)") ||
		!strings.HasSuffix(shown[1], " · set aside: a stronger match gives the person another shelter registration") {
		t.Fatalf("below the pair: %q; want a heading and the registration of no age, saying why it was set aside", shown)
	}
	compare := objectsIn[*widget.Button](p.others)
	if len(compare) != 1 || compare[0].Text != "Compare" {
		t.Fatalf("%d buttons below the pair, want one Compare", len(compare))
	}
	test.Tap(compare[0])
	if p.picked != pairOf(report, noAge) {
		t.Fatalf("Compare picked %q, want the pair set aside", p.picked)
	}
	if sides := strings.Join(labelTexts(p.left), "|") + strings.Join(labelTexts(p.right), "|"); !strings.Contains(sides, "San Antonio RC School") || !strings.Contains(sides, "Ana Teresa Bol") {
		t.Fatalf("side by side: %q; want the report and the registration of no age", sides)
	}
	if shown := labelTextsIn(p.others); len(shown) != 2 || !strings.Contains(shown[1], "Ana Bol (Toledo)") {
		t.Fatalf("below the pair set aside: %q; want the queue's pair of the report", shown)
	}

	test.Tap(p.differ)
	if len(p.aside) != 0 || len(p.items) != 1 || p.picked != "" {
		t.Fatalf("after Different: %d set aside, %d in the queue, picked %q; want none, the queue's pair, nothing picked", len(p.aside), len(p.items), p.picked)
	}
	nodetest.Eventually(t, 60*time.Second, "the ledger holds the pair set aside as two people", func() bool {
		s, err := hq.Node.LinkState(ctx, report, noAge)
		return err == nil && s == ledger.LinkDifferent
	})
	v.load()
	if len(p.items) != 1 || p.items[0].key() != pairOf(report, same) || len(p.aside) != 0 {
		t.Fatalf("read again: %d pairs, %d set aside; want the report with Ana Bol, 52, and nothing set aside", len(p.items), len(p.aside))
	}
}

// Two reports linked as one person at HQ: each, opened on the Records
// screen, lists the other with its case number, and opens it. A report
// linked with nothing lists nothing.
func TestLinkedReportsShowEachOtherWithTheirCaseNumbers(t *testing.T) {
	ctx := context.Background()
	_, hq, u := matchHQ(t)
	a := matchAdd(t, hq.Node, "missing-person", matchMaria)
	b := matchAdd(t, hq.Node, "missing-person", matchCoc)
	alone := matchAdd(t, hq.Node, "missing-person", matchReportAna)
	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	var caseB string
	nodetest.Eventually(t, 60*time.Second, "the ledger links the two reports, and numbers the second", func() bool {
		s, err := hq.Node.LinkState(ctx, a, b)
		caseB, _ = hq.Node.CaseNumber(ctx, b)
		return err == nil && s == ledger.LinkLinked && caseB != ""
	})
	u.bg.Wait()
	v := u.screens.records
	v.open(a.String())
	u.bg.Wait()
	shown := strings.Join(labelTexts(v.detail), "\n")
	if !strings.Contains(shown, "Linked as one person") || !strings.Contains(shown, "Case "+caseB+" · Missing person · COC, Maria") {
		t.Fatalf("the first report shows %q; want the second linked, with its case number %s", shown, caseB)
	}
	var open *widget.Button
	for _, bt := range objectsIn[*widget.Button](v.detail) {
		if bt.Text == "Open that record" {
			open = bt
		}
	}
	if open == nil {
		t.Fatal("no button opens the linked report")
	}
	test.Tap(open)
	u.bg.Wait()
	if v.selected != b.String() || !strings.Contains(strings.Join(labelTexts(v.detail), "\n"), "María José Coc Caal") {
		t.Fatalf("the button opened %s, want the linked report %s, listing the first", v.selected, b)
	}
	v.open(alone.String())
	u.bg.Wait()
	if shown := strings.Join(labelTexts(v.detail), "\n"); strings.Contains(shown, "Linked as one person") {
		t.Fatalf("a report linked with nothing shows %q", shown)
	}
}

// A laptop wrote one report again and again: the queue says how many
// people it could not compare with all their namesakes, and what to look
// for.
func TestMatchQueueSaysWhatAFloodCrowded(t *testing.T) {
	_, hq, u := matchHQ(t)
	for range match.MaxPairs + 3 {
		matchAdd(t, hq.Node, "missing-person", matchReportAna)
	}
	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.matches
	v.sides.Select(p.tab)
	want := "2 people were not compared with all their namesakes: more records of one name, age and place than any event gives. Look for the laptop or the import that wrote them."
	if len(p.items) == 0 || !strings.HasSuffix(p.msg.Text, " "+want) {
		t.Errorf("the queue lists %d pairs and says %q, want pairs and %q", len(p.items), p.msg.Text, want)
	}
}

// A woman reported twice, the reports linked as one person, is found in a
// shelter: the proposal says her other report is written found too and
// names its reporter; confirmed, both reports say found safe, and whom to
// tell stays in view.
func TestMatchFoundWritesTheLinkedReportToo(t *testing.T) {
	ctx := context.Background()
	_, hq, u := matchHQ(t)
	report := matchAdd(t, hq.Node, "missing-person", matchReportAna)
	other := matchAdd(t, hq.Node, "missing-person", `{"full_name":"BOL, ANA","sex":"female","age":53,"district":"Toledo","last_seen_place":"her house","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rita Bol","reporter_phone":"+501 633 3333","reporter_relationship":"niece","reported_at":"2026-11-21T09:00:00-06:00"}`)
	shelter := matchAdd(t, hq.Node, "sheltered-person", matchShelterAna)
	if _, err := hq.Node.Link(ctx, report, other, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the ledger holds the two reports linked", func() bool {
		l, err := hq.Node.LinkedWith(ctx, report)
		return err == nil && len(l) == 1
	})
	p := openQueue(u)
	i := slices.IndexFunc(p.items, func(it matchItem) bool {
		return it.m.Kind == node.MatchFound && (it.a == report && it.b == shelter || it.a == shelter && it.b == report)
	})
	if i < 0 {
		t.Fatalf("queue %v; want the report and the registration", p.items)
	}
	p.list.Select(i)
	test.Tap(p.link)
	for _, want := range []string{"Tell the reporter: Luis Bol, son, +501 622 1234.", "is written found safe too.", "Tell the reporter: Rita Bol, niece, +501 633 3333."} {
		if !strings.Contains(p.proposal.Text, want) {
			t.Fatalf("after Link: proposal %q; want it to say %q", p.proposal.Text, want)
		}
	}
	test.Tap(p.confirm)
	for _, id := range []syncproto.RecordID{report, other} {
		if rec, err := hq.Node.Record(ctx, id); err != nil || rec.Fields["status"] != "found-safe" || rec.Fields["found_at_place"] != "Punta Gorda Town Hall" {
			t.Errorf("report %s after confirming: %v at %v (%v)", id, rec.Fields["status"], rec.Fields["found_at_place"], err)
		}
	}
	if !strings.Contains(p.result.Text, "So does their other report.") || !p.proposal.Visible() || !strings.Contains(p.proposal.Text, "Rita Bol, niece") {
		t.Errorf("after confirming: result %q; proposal shown %v, %q; want both reporters still in view", p.result.Text, p.proposal.Visible(), p.proposal.Text)
	}
}

// A report whose status is in conflict: Link's proposal shows each
// version as a warning, by the field's label, and Confirm writes nothing
// and says why, until a person decides the conflict on the record.
func TestMatchFoundOverAConflictIsRefused(t *testing.T) {
	ctx := context.Background()
	c, hq, u := matchHQ(t)
	report := matchAdd(t, hq.Node, "missing-person", matchReportAna)
	matchAdd(t, hq.Node, "sheltered-person", matchShelterAna)
	clinic := c.Add("tol-clinic", syncproto.RoleField, "Toledo", nil)
	nodetest.Eventually(t, 30*time.Second, "the clinic's laptop holds the report", func() bool {
		if _, err := clinic.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
		_, err := clinic.Node.Record(ctx, report)
		return err == nil
	})
	if _, err := clinic.Node.Update(ctx, report, []byte(`{"status":"found-deceased","found_at_place":"Punta Gorda Hospital"}`), "Nurse Bol"); err != nil {
		t.Fatal(err)
	}
	if _, err := hq.Node.Update(ctx, report, []byte(`{"last_seen_place":"the church steps","status":"missing"}`), "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := clinic.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if r, err := hq.Node.Record(ctx, report); err != nil || len(r.Conflicts["status"]) != 2 {
		t.Fatalf("HQ's report: status versions %+v (%v); want the clinic's and HQ's", r.Conflicts["status"], err)
	}

	p := linkTheOnePair(t, u)
	if !strings.Contains(p.proposal.Text, "Case status is in conflict on this report: ") || !strings.Contains(p.proposal.Text, "«Found deceased»") ||
		!strings.Contains(p.proposal.Text, "«Missing»") || p.proposal.Importance != widget.WarningImportance {
		t.Fatalf("after Link: proposal %q of importance %v; want the status's two versions, as a warning", p.proposal.Text, p.proposal.Importance)
	}
	test.Tap(p.confirm)
	if said := strings.Join(overlayTexts(u.win), "\n"); !strings.Contains(said, "Not confirmed, nothing written: a report holds a conflict") || !strings.Contains(said, "Found deceased") {
		t.Fatalf("Confirm over the conflict: the app says %q", said)
	}
	if r, err := hq.Node.Record(ctx, report); err != nil || len(r.Conflicts["status"]) != 2 || !p.confirm.Visible() {
		t.Fatalf("after the refused Confirm: status versions %+v (%v), button shown %v; want nothing written, the button still there", r.Conflicts["status"], err, p.confirm.Visible())
	}
}

// A report that says the woman was found injured at a hospital already:
// Link's proposal says so, as a warning, in the app's language, before
// Confirm writes found safe at the shelter over it.
func TestMatchFoundSaysTheReportWasFoundAlready(t *testing.T) {
	for _, tc := range []struct{ lang, want string }{
		{"en", "The report says Found injured at Punta Gorda Hospital already: confirming writes found safe at the shelter over it."},
		{"es", "El reporte ya dice Localizada con lesiones en Punta Gorda Hospital: al confirmar se anota hallada a salvo en el albergue en su lugar."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			_, hq, u := matchHQ(t)
			if err := hq.Node.SetLang(tc.lang); err != nil {
				t.Fatal(err)
			}
			matchAdd(t, hq.Node, "missing-person", strings.Replace(matchReportAna, `"status":"missing"`, `"status":"found-injured","found_at_place":"Punta Gorda Hospital"`, 1))
			matchAdd(t, hq.Node, "sheltered-person", matchShelterAna)
			p := linkTheOnePair(t, u)
			if !strings.Contains(p.proposal.Text, tc.want) || p.proposal.Importance != widget.WarningImportance {
				t.Fatalf("after Link: proposal %q of importance %v; want %q, as a warning", p.proposal.Text, p.proposal.Importance, tc.want)
			}
		})
	}
}

// A found proposal standing on a link a revoked relay made says so, in
// the window's language, naming the relay.
func TestALinkOfARevokedRelayIsSaid(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Belize")
	p := u.newMatchPanel()
	cs := []node.Caution{{Code: node.CautionRevokedLinker, Node: "relay-cayo"}}
	for lang, want := range map[string]string{
		"en": "A link of these records, or of the reports linked with them, was made on relay-cayo, which headquarters has since revoked",
		"es": "Un enlace de estos registros, o de los reportes enlazados con ellos, se hizo en relay-cayo, que la sede central ha revocado",
	} {
		if err := u.SetLang(lang); err != nil {
			t.Fatal(err)
		}
		if got := p.cautionsText(cs); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want it to say %q", lang, got, want)
		}
	}
}

// A person removed from HQ's laptop since they signed in links no more
// records as one person: the sign-in comes back and says why, and the pair
// stays in the queue.
func TestARemovedPersonLinksNoMore(t *testing.T) {
	ctx := context.Background()
	_, hq, u := matchHQ(t)
	matchAdd(t, hq.Node, "missing-person", matchMaria)
	matchAdd(t, hq.Node, "missing-person", matchCoc)
	for _, p := range []struct{ name, pass string }{{"Ana Cho", anaPass}, {"Luis Sho", luisPass}} {
		if _, err := hq.Node.AddPerson(ctx, p.name, []byte(p.pass)); err != nil {
			t.Fatal(err)
		}
	}
	u.RequireSignIn()
	signInAs(t, u, "Luis Sho", luisPass)
	v := u.newHQView()
	u.win.SetContent(v.content())
	p := v.matches
	v.sides.Select(p.tab)
	if len(p.items) != 1 {
		t.Fatalf("queue lists %d pairs, want the one pair", len(p.items))
	}
	if err := hq.Node.RemovePerson(ctx, "Luis Sho"); err != nil {
		t.Fatal(err)
	}
	p.list.Select(0)
	test.Tap(p.link)
	u.bg.Wait()
	if !u.gate.isLocked() || len(p.items) != 1 {
		t.Fatalf("Luis, removed, linked the pair: sign-in shown %v, %d pairs listed", u.gate.isLocked(), len(p.items))
	}
}
