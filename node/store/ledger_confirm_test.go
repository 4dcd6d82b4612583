package store

import (
	"context"
	"testing"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// A commit confirms on a member the changes it holds of the history the
// commit names, whether they reached it before the commit or after: a
// change of another history of the stream (its origin signed two) is not
// what the ledger committed, and stays unconfirmed.
func TestACommitConfirmsTheHistoryItNames(t *testing.T) {
	ctx := context.Background()
	origin, key := newStore(t, Options{})
	member, _ := newStore(t, Options{})
	for range 2 {
		if _, err := origin.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "village", "Succotz")}); err != nil {
			t.Fatal(err)
		}
	}
	st := syncproto.Stream{Origin: key.ID(), Lane: 3}
	var heads [3]syncproto.Hash
	for seq := uint64(1); seq <= 2; seq++ {
		h, err := origin.HeadAt(ctx, st, seq)
		if err != nil {
			t.Fatal(err)
		}
		heads[seq] = h
	}
	index := uint64(0)
	commit := func(seq uint64, head syncproto.Hash) {
		t.Helper()
		index++
		if _, err := member.LedgerApply(ctx, index, 1, func(tx ledger.Tx) error { return tx.SetCommitted(st, seq, head) }); err != nil {
			t.Fatal(err)
		}
	}
	confirmed := func(want uint64, when string) {
		t.Helper()
		v, err := member.Confirmed(ctx)
		if err != nil || v[st] != want {
			t.Fatalf("%s: the member holds the stream confirmed to %d (%v); want %d", when, v[st], err, want)
		}
	}
	commit(1, heads[1])
	confirmed(0, "committed before the change arrives")
	exchange(t, origin, member)
	if _, err := member.CheckReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	confirmed(1, "once the change committed arrives")
	commit(2, syncproto.Hash{0xba, 0xd})
	confirmed(1, "a commit of another history at 2")
	commit(2, heads[2])
	confirmed(2, "a commit of the history held at 2")
}

// Headquarters signs receipts of what it holds of the history the ledger
// committed, never of another history of the stream: its receipt says the
// ledger committed the changes it names.
func TestHeadquartersSignsNoReceiptOfAHistoryTheLedgerDidNotCommit(t *testing.T) {
	ctx := context.Background()
	hq, key := newStore(t, Options{})
	for range 2 {
		if _, err := hq.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "village", "Succotz")}); err != nil {
			t.Fatal(err)
		}
	}
	st := syncproto.Stream{Origin: key.ID(), Lane: 3}
	commit := func(index, seq uint64, head syncproto.Hash) {
		t.Helper()
		if _, err := hq.LedgerApply(ctx, index, 1, func(tx ledger.Tx) error { return tx.SetCommitted(st, seq, head) }); err != nil {
			t.Fatal(err)
		}
	}
	commit(1, 2, syncproto.Hash{0xba, 0xd})
	if due, err := hq.Unreceipted(ctx); err != nil || len(due) != 0 {
		t.Fatalf("receipts due of a history the ledger did not commit: %+v (%v); want none", due, err)
	}
	head, err := hq.HeadAt(ctx, st, 2)
	if err != nil {
		t.Fatal(err)
	}
	commit(2, 2, head)
	if due, err := hq.Unreceipted(ctx); err != nil || len(due) != 1 || due[0].Stream != st || due[0].Seq != 2 || due[0].Head != head {
		t.Fatalf("receipts due of the history committed: %+v (%v); want the stream's at 2", due, err)
	}
}
