package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A review's round trip with the real binaries and real mutual TLS: a
// laptop adds a record and syncs it to HQ; HQ, running, asks for a
// correction; the laptop, no ledger member, sees it after its next sync,
// in record show and in record list --review.
func TestReviewRoundTrip(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	hqSync, _ := runNode(t, d.hq, "--sync-addr", "127.0.0.1:0", "--bootstrap", "--sync-idle", "10s")
	ids := addRecords(t, field, 2, "Succotz")
	ok(t, "", "sync", "--data", field, "--peer", hqSync)

	// What a reviewer gets wrong is refused with what to do.
	fails(t, "", []string{"cayo-07 is a field node", "only headquarters, or a relay"}, "record", "review", "--data", field, "--id", ids[0], "--decision", "approved")
	fails(t, "", []string{"needs-correction needs a reason", "wrong village"}, "record", "review", "--data", d.hq, "--id", ids[0], "--decision", "needs-correction")
	fails(t, "", []string{"a reason of 501 characters; at most 500"}, "record", "review", "--data", d.hq, "--id", ids[0], "--decision", "rejected", "--reason", strings.Repeat("x", 501))
	fails(t, "", []string{"decision \"maybe\" is none of approved, needs-correction, rejected"}, "record", "review", "--data", d.hq, "--id", ids[0], "--decision", "maybe")
	fails(t, "", []string{"no record 0190f5a2-0000-7000-8000-000000000000 on hq-belmopan"}, "record", "review", "--data", d.hq, "--id", "0190f5a2-0000-7000-8000-000000000000", "--decision", "approved")
	fails(t, "", []string{"--review: review state \"maybe\" is none of approved, needs-correction, rejected, pending"}, "record", "list", "--data", field, "--review", "maybe")

	out := ok(t, "", "record", "review", "--data", d.hq, "--id", ids[0], "--decision", "needs-correction", "--reason", "wrong village")
	if !strings.Contains(out, "review of "+ids[0]+" queued") {
		t.Fatalf("record review said %q", out)
	}
	type shown struct {
		Review *struct{ Decision, Reason, By string }
	}
	reviewOf := func(dir string) shown {
		var s shown
		if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", ids[0], "--json")), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor(t, 60*time.Second, "HQ writes the review into the record", func() bool { return reviewOf(d.hq).Review != nil })
	if s := reviewOf(field); s.Review != nil {
		t.Fatalf("the laptop shows a review before it synced: %+v", s.Review)
	}
	ok(t, "", "sync", "--data", field, "--peer", hqSync)
	if s := reviewOf(field); s.Review == nil || s.Review.Decision != "needs-correction" || s.Review.Reason != "wrong village" || s.Review.By != "hq-belmopan" {
		t.Fatalf("the laptop shows review %+v after its sync", s.Review)
	}
	r := lifelineEnv(t, []string{"TZ=America/Belize"}, "", "record", "show", "--data", field, "--id", ids[0])
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	line := regexp.MustCompile(`(?m)^review: needs correction: wrong village — by hq-belmopan at \d{4}-\d\d-\d\d \d\d:\d\d CST$`)
	if !line.MatchString(r.stdout) {
		t.Fatalf("record show on the laptop:\n%s", r.stdout)
	}
	if fields, _, _ := strings.Cut(r.stdout, "History:"); strings.Contains(fields, "_review") {
		t.Fatalf("record show lists the review field among the record's fields:\n%s", r.stdout)
	}
	listed := func(review string) string {
		return ok(t, "", "record", "list", "--data", field, "--review", review)
	}
	if l := listed("needs-correction"); !strings.Contains(l, ids[0]) || strings.Contains(l, ids[1]) || !strings.Contains(l, "needs correction") {
		t.Fatalf("record list --review needs-correction:\n%s", l)
	}
	if l := listed("pending"); strings.Contains(l, ids[0]) || !strings.Contains(l, ids[1]) {
		t.Fatalf("record list --review pending:\n%s", l)
	}
	if l := listed("approved"); strings.Contains(l, ids[0]) || strings.Contains(l, ids[1]) {
		t.Fatalf("record list --review approved:\n%s", l)
	}
}
