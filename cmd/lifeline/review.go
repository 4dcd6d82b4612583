package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"lifeline/node"
	"lifeline/node/store"
)

func runRecordReview(ctx context.Context, e *env, fs *flagSet, args []string) error {
	id := recordID(fs)
	decision := fs.required("decision", "approved, needs-correction or rejected")
	reason := fs.String("reason", "", "why (required for needs-correction and rejected; one line, at most 500 characters), e.g. \"wrong village\"; every node holding the record reads it, so name no one in it")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		err := n.Review(ctx, *id, strings.TrimSpace(*decision), *reason)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no record %s on %s: sync with the node that holds it first (lifeline record list shows the records here)", *id, n.Self().Name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "review of %s queued: the running node proposes it to the ledger and writes it into the record once the ledger applied it\n", *id)
		return nil
	})
}

// reviewFilter is the flag of record list that selects records by their
// review state.
func reviewFilter(fs *flagSet) *string {
	s := fs.String("review", "", "only records whose review is "+strings.Join(node.ReviewStates, ", ")+" (pending: not reviewed yet)")
	fs.checks = append(fs.checks, func() error {
		if *s == "" {
			return nil
		}
		if err := node.CheckReviewState(*s); err != nil {
			return usagef("--review: %v", err)
		}
		return nil
	})
	return s
}

// reviewLine is a record's review as people read it: "needs correction:
// wrong village — by hq-belmopan at 2026-12-05 10:02 CST".
func reviewLine(r *node.RecordReview) string {
	who := r.By
	if who == "" {
		who = "node " + r.Node
	}
	s := strings.ReplaceAll(r.Decision, "-", " ")
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	s = fmt.Sprintf("%s — by %s at %s", s, who, r.At.Local().Format("2006-01-02 15:04 MST"))
	if r.Corrected {
		s += "; corrected since, waiting for review again"
	}
	return node.Printable(s)
}

// printReview writes a record's review, if it has one.
func printReview(w io.Writer, r *node.RecordReview) {
	if r != nil {
		fmt.Fprintf(w, "review: %s\n", reviewLine(r))
	}
}
