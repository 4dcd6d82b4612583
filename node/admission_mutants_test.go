package node_test

// Tests of the write policy that mutation testing (make mutate) found
// unpinned: undeletion, what a deletion may hold, an ordinary edit of
// headquarters', bases past any sequence, and a quiet start.

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// A node that starts with nothing kept aside says nothing about it.
func TestQuietStartWithNothingAside(t *testing.T) {
	c := nodetest.New(t)
	log := &syncBuffer{}
	laptop(c, "cayo-07", "Cayo", func(cfg *node.Config) { cfg.Log = slog.New(slog.NewTextHandler(log, nil)) })
	if strings.Contains(log.String(), "kept aside") {
		t.Fatalf("a start with nothing kept aside logged:\n%s", log.String())
	}
}

func TestDeletionValuesFromAPeer(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	if err := cayo.Node.Delete(ctx, id, "vol-193"); err != nil {
		t.Fatal(err)
	}
	deletion := func(v byte) {
		t.Helper()
		if err := node.WriteEdit(cayo.Node, ctx, store.Edit{Record: id, Lane: 3, Kit: "damage-assessment", Type: "damage-assessment", Version: 1,
			Fields: []syncproto.FieldChange{{Name: syncproto.DeletedField, Value: []byte{v}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	// Undeleted by its own district: merges.
	deletion(0xf4)
	if d, err := hq.Node.Record(ctx, id); err != nil || d.Deleted {
		t.Fatalf("the record undeleted by its laptop, at HQ: deleted %v, %v", d.Deleted, err)
	}
	if n, _ := hq.Node.QuarantineCount(ctx); n != 0 {
		t.Fatalf("%d changes kept aside", n)
	}
	// A deletion that is neither true nor false.
	deletion(0x01)
	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil || len(qs) != 1 || !qs[0].Final || !strings.Contains(qs[0].Reason, "not true or false") {
		t.Fatalf("a deletion of 1: kept aside %+v, %v", qs, err)
	}
}

// Headquarters' ordinary edit (it replaced one version, deciding nothing)
// is edited again by the laptop of the record's district.
func TestLaptopEditsAfterHeadquarters(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, hq.Node, id, `{"village":"Bullet Tree"}`)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, cayo.Node, id, `{"village":"Cristo Rey"}`)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	d, err := hq.Node.Record(ctx, id)
	if err != nil || d.Fields["village"] != "Cristo Rey" {
		t.Fatalf("at HQ: village %v, %v; want the laptop's edit after HQ's", d.Fields["village"], err)
	}
	if n, _ := hq.Node.QuarantineCount(ctx); n != 0 {
		t.Fatalf("%d changes kept aside", n)
	}
}

// A base naming a sequence the store cannot hold (2^40 and past) is
// refused for good; one just below waits for its record like any edit.
func TestBasePastAnySequence(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	for i, seq := range []uint64{1 << 40, 1<<40 - 1} {
		rogue := laptop(c, "cayo-6"+string(rune('0'+i)), "Cayo", nil)
		own := syncproto.Stream{Origin: rogue.Node.Self().ID, Lane: 3}
		change := syncproto.Change{Origin: own.Origin, Lane: 3, Seq: 1, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0),
			Record: syncproto.NewRecordID(), Kit: "damage-assessment", Type: "damage-assessment", Version: 1,
			Fields: []syncproto.FieldChange{{Name: "village", Value: []byte{0x61, 0x78}, Base: []syncproto.Dot{{Origin: own.Origin, Lane: 3, Seq: seq}}}}}
		path := filepath.Join(t.TempDir(), "b.bundle")
		if err := os.WriteFile(path, forgedBundle(t, rogue, own, 1, change), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := hq.Node.ImportBundle(ctx, path); err != nil {
			t.Fatal(err)
		}
		qs, err := hq.Node.Quarantine(ctx, 1)
		if err != nil || len(qs) != 1 || qs[0].Record != change.Record.String() {
			t.Fatalf("base %d: kept aside %+v, %v", seq, qs, err)
		}
		past := strings.Contains(qs[0].Reason, "past any sequence")
		if want := seq >= 1<<40; past != want || qs[0].Final != want {
			t.Errorf("base %d: kept aside final %v, %q", seq, qs[0].Final, qs[0].Reason)
		}
	}
}
