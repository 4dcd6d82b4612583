package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
)

// A girl reported missing from San Antonio is registered at a shelter in
// her family's registration, a row of its household: HQ finds her there,
// names the row, and proposes her found at the family's shelter. The
// family's head, on no row, is matched too. A row taken out of the
// registration is no longer found, and a report decided another person
// than the family's is not paired with any of its people.
func TestAPersonInAFamilysRegistrationIsFound(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	girl := mustAdd(t, hq.Node, "missing-person", `{"full_name":"Ana Luisa Tzib","sex":"female","age":7,"district":"Toledo","last_seen_place":"the school","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rosa Tzib","reporter_phone":"+501 622 0000","reported_at":"2026-11-21T08:00:00-06:00"}`)
	father := mustAdd(t, hq.Node, "missing-person", `{"full_name":"TZIB, CRISTOBAL","sex":"male","age":41,"district":"Toledo","last_seen_place":"the farm","last_seen_village":"San Antonio","status":"missing","reporter_name":"Rosa Tzib","reported_at":"2026-11-21T08:05:00-06:00"}`)
	family := mustAdd(t, hq.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Cristóbal Tzib","members":3,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193",
		"household":[{"name":"Juana Tzib Coc","sex":"female","age":38},{"name":"Ana Tzib","sex":"female","age":7},{"name":"Pedro Tzib","sex":"male","age":12}]}`)
	match := func() map[string]node.Match {
		t.Helper()
		ms, err := hq.Node.Matches(ctx, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]node.Match{}
		for _, m := range ms {
			out[m.A+" "+m.B] = m
		}
		return out
	}
	key := func(a, b string) string { lo, hi := min(a, b), max(a, b); return lo + " " + hi }
	got := match()
	ana, ok := got[key(girl.String(), family.String())]
	if !ok || len(got) != 2 {
		t.Fatalf("HQ lists %v; want the girl and the father each found in the family's registration", got)
	}
	if ana.Kind != node.MatchFound || ana.Member == "" || ana.Member == node.HeadMember {
		t.Fatalf("the girl's pair is %+v; want found, naming her household row", ana)
	}
	row, err := hq.Node.Person(ctx, family.String()+"/"+ana.Member)
	if err != nil {
		t.Fatal(err)
	}
	if row.Fields["full_name"] != "Ana Tzib" || row.Fields["age"] != int64(7) || row.Fields["shelter_name"] != "Punta Gorda Town Hall" {
		t.Fatalf("the member named is %v; want Ana Tzib, 7, of Punta Gorda Town Hall", row.Fields)
	}
	if m := got[key(father.String(), family.String())]; m.Member != node.HeadMember {
		t.Fatalf("the father's pair is %+v; want him found as the family's head", m)
	}
	p, err := hq.Node.ProposeFound(ctx, girl, family)
	if err != nil {
		t.Fatal(err)
	}
	if p.FoundAtPlace != "Punta Gorda Town Hall" || p.ReporterPhone != "+501 622 0000" || p.Status != "found-safe" {
		t.Fatalf("proposed %+v; want found-safe at Punta Gorda Town Hall, with the reporter's phone", p)
	}

	// The father decided another person than the family's: none of its
	// people is paired with him, and the pair stays listed, decided.
	if _, err := hq.Node.Link(ctx, father, family, ledger.LinkDifferent); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the ledger holds the father different", func() bool {
		s, err := hq.Node.LinkState(ctx, father, family)
		return err == nil && s == ledger.LinkDifferent
	})
	got = match()
	if m := got[key(father.String(), family.String())]; len(got) != 2 || m.Decision != ledger.LinkDifferent {
		t.Fatalf("after different, HQ lists %v; want the girl's pair and the father's, decided", got)
	}

	// The girl's row taken out of the registration: she is no longer
	// found in it.
	mustUpdate(t, hq.Node, family, `{"household":[{"row":"`+ana.Member+`","remove":true}]}`)
	got = match()
	if _, ok := got[key(girl.String(), family.String())]; ok {
		t.Fatalf("with her row removed, HQ lists %v; want the girl not found", got)
	}
	if _, err := hq.Node.Person(ctx, family.String()+"/"+ana.Member); err == nil || !strings.Contains(err.Error(), "no member") {
		t.Fatalf("reading the removed row: %v; want it refused as no member", err)
	}
}

// A person's id as matches name it: a record's, or a record's and a
// member's; anything else is refused, saying what.
func TestSplitPersonID(t *testing.T) {
	const rec = "01a24976-7e07-7a3a-b75b-1f2d0dabc8d5"
	for _, tc := range []struct{ id, member, err string }{
		{rec, "", ""},
		{rec + "/head", "head", ""},
		{rec + "/0123456789abcdef", "0123456789abcdef", ""},
		{rec + "/../x", "", "neither a household row"},
		{rec + "/0123456789ABCDEF", "", "neither a household row"},
		{rec + "/", "", "neither a household row"},
		{"not-a-record/head", "", "not-a-record"},
	} {
		id, member, err := node.SplitPersonID(tc.id)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.id, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want an error saying %q", tc.id, err, tc.err)
		case tc.err == "" && (id.String() != rec || member != tc.member):
			t.Errorf("%q: record %s member %q, want %s and %q", tc.id, id, member, rec, tc.member)
		}
	}
}
