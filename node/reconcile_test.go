//go:build !mutate

package node_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/match"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// Two reports of one woman, spelled two ways, of Cayo.
const (
	reconcileMaria = `{"full_name":"María José Coc Caal","sex":"female","age":34,"district":"Cayo","last_seen_place":"the market","last_seen_village":"Benque Viejo","status":"missing","reporter_name":"Juana Caal","reported_at":"2026-11-21T08:00:00-06:00"}`
	reconcileCoc   = `{"full_name":"COC, Maria","age":35,"district":"Cayo","last_seen_place":"her house","last_seen_village":"Benque Viejo","status":"missing","reporter_name":"Pedro Coc","reported_at":"2026-11-21T11:30:00-06:00"}`
)

// linkStates is each member's decision on a pair.
func linkStates(t *testing.T, ms []*nodetest.Member, a, b syncproto.RecordID) []string {
	t.Helper()
	out := make([]string, len(ms))
	for i, m := range ms {
		s, err := m.Node.LinkState(context.Background(), a, b)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// A ledger of three voters, HQ and two relays of Cayo. HQ links two
// reports while a relay decides, at the same moment, that they are two
// people: whichever the ledger applied last is the pair's state on every
// member, and each member's groups follow it. A decision made after both
// replaces it everywhere.
func TestConcurrentLinkAndDifferentEndTheSameOnEveryMember(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 2, true)
	members := []*nodetest.Member{hq, relays[0], relays[1]}
	ctx := context.Background()
	a, b := mustAdd(t, hq.Node, "missing-person", reconcileMaria), mustAdd(t, hq.Node, "missing-person", reconcileCoc)
	for _, r := range relays {
		if _, err := r.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := hq.Node.Matches(ctx, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := ledger.PairOf(a, b)
	if len(ms) != 1 || ms[0].A != lo.String() || ms[0].B != hi.String() || ms[0].Kind != node.MatchDuplicate || ms[0].Decision != "" {
		t.Fatalf("HQ matches %+v, want the two reports as a duplicate", ms)
	}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []struct {
		m        *nodetest.Member
		decision string
	}{{hq, ledger.LinkLinked}, {relays[0], ledger.LinkDifferent}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = d.m.Node.Link(ctx, a, b, d.decision)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Both decisions are only queued when Link returns: the members are
	// read once they agree and the ledger has settled (the same decision
	// and the same applied height on all three for two seconds), so that
	// the one applied first is not taken for the last.
	var states []string
	var seen string
	var since time.Time
	nodetest.Eventually(t, 60*time.Second, "every member holds one decision on the pair, the ledger settled", func() bool {
		states = linkStates(t, members, a, b)
		var heights []uint64
		for _, m := range members {
			heights = append(heights, m.Daemon.Ledger().Status().Height)
		}
		if states[0] == "" || states[0] != states[1] || states[1] != states[2] || heights[0] != heights[1] || heights[1] != heights[2] {
			seen = ""
			return false
		}
		if now := fmt.Sprint(states, heights); now != seen {
			seen, since = now, time.Now()
			return false
		}
		return time.Since(since) >= 2*time.Second
	})
	for _, m := range members {
		linked, err := m.Node.LinkedWith(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if inGroup := len(linked) == 1 && linked[0].ID == b.String(); inGroup != (states[0] == ledger.LinkLinked) {
			t.Fatalf("%s: the pair is %s and %s's group is %+v", m.Name, states[0], a, linked)
		}
	}

	// Then the other relay withdraws the decision: every member follows.
	if _, err := relays[1].Node.Link(ctx, b, a, ledger.LinkUnlinked); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 60*time.Second, "every member holds the pair unlinked", func() bool {
		s := linkStates(t, members, a, b)
		return s[0] == ledger.LinkUnlinked && s[1] == s[0] && s[2] == s[0]
	})
}

// A link of records of Cayo signed by a Cayo laptop, or by a relay of
// another district, forwarded to the leader by a member of the ledger as
// a malicious relay would, is refused by the ledger and changes nothing;
// the laptop's own node, and a relay of another district, refuse to make
// one. HQ's own link of the same pair applies.
func TestLinksOfNodesThatMayNotAreRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	toledoRelay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	a, b := mustAdd(t, cayo.Node, "missing-person", reconcileMaria), mustAdd(t, cayo.Node, "missing-person", reconcileCoc)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := cayo.Node.Link(ctx, a, b, ledger.LinkLinked); !errors.Is(err, node.ErrNotReconciler) || !strings.Contains(err.Error(), "cayo-07 is a field node") {
		t.Fatalf("a laptop's link: %v", err)
	}
	if _, err := cayo.Node.Matches(ctx, 0.5); !errors.Is(err, node.ErrNotReconciler) {
		t.Fatalf("a laptop's matching: %v", err)
	}
	handWhole(t, cayo, toledoRelay)
	if _, err := toledoRelay.Node.Link(ctx, a, b, ledger.LinkLinked); !errors.Is(err, node.ErrNotReconciler) || !strings.Contains(err.Error(), "are of Cayo and Cayo") {
		t.Fatalf("a Toledo relay's link of Cayo reports: %v", err)
	}

	lo, hi := ledger.PairOf(a, b)
	for _, by := range []*nodetest.Member{cayo, toledoRelay} {
		self := by.Node.Self()
		l := &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: self.ID, District: "Cayo", At: time.Now().UnixMilli()}
		entry, err := ledger.Sign(ledger.CmdLink, l, time.Now(), by.Node.Credentials().Cert.Raw, by.Node.Key().Signer())
		if err != nil {
			t.Fatal(err)
		}
		if err := forwardToHQ(t, relays[0], hq, entry); err == nil || !strings.Contains(err.Error(), "nor by a relay of both records' district") {
			t.Fatalf("a link signed by %s, forwarded: %v", self.Name, err)
		}
	}
	if s, err := hq.Node.LinkState(ctx, a, b); err != nil || s != "" {
		t.Fatalf("after the refused links, HQ holds the pair %q (%v)", s, err)
	}
	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 60*time.Second, "HQ's link applies", func() bool {
		s, err := hq.Node.LinkState(ctx, a, b)
		return err == nil && s == ledger.LinkLinked
	})
}

// Names are personal data of their district: HQ, holding every district's
// key, matches two Toledo reports; a Cayo relay, which holds them too
// (missing persons are national) but not Toledo's key, cannot read the
// names, matches neither, and says how many it left out.
func TestMatchingReadsOnlyTheNamesANodeCanOpen(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, false)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil { // the laptop's data key comes with the session
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the laptop holds Toledo's data key", func() bool {
		if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
		_, ok := toledo.Node.DataKeys()["Toledo"]
		return ok
	})
	toToledo := func(s string) string {
		return strings.NewReplacer(`"Cayo"`, `"Toledo"`, "Benque Viejo", "San Antonio").Replace(s)
	}
	mustAdd(t, toledo.Node, "missing-person", toToledo(reconcileMaria))
	mustAdd(t, toledo.Node, "missing-person", toToledo(reconcileCoc))
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := relays[0].Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	at, err := hq.Node.Matching(ctx, 0.5)
	if err != nil || len(at.Matches) != 1 || at.Withheld != 0 {
		t.Fatalf("HQ matches %+v, %d left out (%v); want the pair, none left out", at.Matches, at.Withheld, err)
	}
	nodetest.Eventually(t, 30*time.Second, "the Cayo relay holds both reports", func() bool {
		n := 0
		for _, err := range relays[0].Node.Records(ctx, node.Query{Type: node.MissingPersonType}) {
			if err == nil {
				n++
			}
		}
		return n == 2
	})
	got, err := relays[0].Node.Matching(ctx, 0.5)
	if err != nil || len(got.Matches) != 0 || got.Withheld != 2 {
		t.Fatalf("the Cayo relay matches %+v, %d left out (%v); want none, 2 left out", got.Matches, got.Withheld, err)
	}
}

// A laptop writes the same report again and again (MaxPairs+8 times): HQ
// still matches the other people, and says how many it could not compare
// with all their namesakes, whichever least score it is asked for (the
// kept index, or one built for a low score).
func TestMatchingSaysWhatAFloodOfOneNameCrowded(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	a := mustAdd(t, hq.Node, "missing-person", reconcileMaria)
	b := mustAdd(t, hq.Node, "missing-person", reconcileCoc)
	const copies = match.MaxPairs + 8
	flood := strings.NewReplacer("María José Coc Caal", "Ana Bol", "Benque Viejo", "Succotz").Replace(reconcileMaria)
	for range copies {
		mustAdd(t, hq.Node, "missing-person", flood)
	}
	lo, hi := ledger.PairOf(a, b)
	for _, least := range []float64{0.5, 0.1} {
		m, err := hq.Node.Matching(ctx, least)
		if err != nil {
			t.Fatal(err)
		}
		// The k-th copy has k-1 namesakes before it: those past
		// MaxPairs+1 are crowded.
		if want := copies - (match.MaxPairs + 1); m.Crowded != want {
			t.Errorf("at %v, %d crowded, want %d", least, m.Crowded, want)
		}
		if !slices.ContainsFunc(m.Matches, func(x node.Match) bool { return x.A == lo.String() && x.B == hi.String() }) {
			t.Errorf("at %v, HQ does not list the two reports of María Coc beside the flood", least)
		}
	}
}
