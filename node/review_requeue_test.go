package node_test

import (
	"context"
	"slices"
	"testing"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// reviewed lists the ids of the records m's node holds in a review state.
func reviewed(t *testing.T, m *nodetest.Member, state string) []string {
	t.Helper()
	var ids []string
	for v, err := range m.Node.Reviewed(context.Background(), node.Query{}, state) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	return ids
}

// A record sent back for a correction waits for review again once its
// author corrects it: on the laptop as soon as it is edited, and at HQ
// once the edit arrives. The request for a correction is still shown,
// marked corrected. A new review ends the wait, and a review is not
// itself a correction.
func TestCorrectedRecordWaitsForReviewAgain(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, false)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	other := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	for _, r := range []syncproto.RecordID{id, other} {
		if err := hq.Node.Review(ctx, r, node.ReviewNeedsCorrection, "wrong village"); err != nil {
			t.Fatal(err)
		}
		reviewOn(t, hq, r, node.ReviewNeedsCorrection, "wrong village")
	}
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if got := reviewOn(t, cayo, id, node.ReviewNeedsCorrection, "wrong village"); got.Corrected || got.State() != node.ReviewNeedsCorrection {
		t.Fatalf("before any edit the laptop shows %+v, state %s", got, got.State())
	}
	if got := reviewed(t, cayo, node.ReviewPending); len(got) != 0 {
		t.Fatalf("before any edit the laptop lists %v as pending", got)
	}

	mustUpdate(t, cayo.Node, id, `{"village":"San José Succotz"}`)
	v, err := cayo.Node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Review.Corrected || v.Review.State() != node.ReviewPending || v.Review.Decision != node.ReviewNeedsCorrection || v.Review.Reason != "wrong village" {
		t.Fatalf("after the correction the laptop shows %+v, state %s", v.Review, v.Review.State())
	}
	if got := reviewed(t, cayo, node.ReviewPending); !slices.Equal(got, []string{id.String()}) {
		t.Fatalf("the laptop lists %v as pending, want the corrected record %s", got, id)
	}
	if got := reviewed(t, cayo, node.ReviewNeedsCorrection); !slices.Equal(got, []string{other.String()}) {
		t.Fatalf("the laptop lists %v as needing a correction, want only %s", got, other)
	}

	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	v, err = hq.Node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Fields["village"] != "San José Succotz" || v.Review.State() != node.ReviewPending {
		t.Fatalf("HQ holds village %v, review %+v", v.Fields["village"], v.Review)
	}
	if got := reviewed(t, hq, node.ReviewPending); !slices.Equal(got, []string{id.String()}) {
		t.Fatalf("HQ's queue of records to review is %v, want %s", got, id)
	}

	// HQ approves the corrected record: it leaves the queue.
	if err := hq.Node.Review(ctx, id, node.ReviewApproved, ""); err != nil {
		t.Fatal(err)
	}
	if got := reviewOn(t, hq, id, node.ReviewApproved, ""); got.Corrected || got.State() != node.ReviewApproved {
		t.Fatalf("after approval HQ shows %+v", got)
	}
	if got := reviewed(t, hq, node.ReviewPending); len(got) != 0 {
		t.Fatalf("after approval HQ lists %v as pending", got)
	}
}
