package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/fieldkits"
	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// syncBuffer is a log several goroutines may write.
type syncBuffer = nodetest.Output

// openHQ makes, enrolls and opens an HQ node of a new CA, logging to log.
func openHQ(t *testing.T, log *syncBuffer) (*node.Node, *identity.CA) {
	t.Helper()
	ctx := context.Background()
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "hq")
	cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	if err := node.Init(ctx, cfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.EnrollWith(ctx, ca); err != nil {
		t.Fatal(err)
	}
	return n, ca
}

// missingPersons is the embedded missing-persons kit file, with edits.
func missingPersons(t *testing.T, edits ...string) []byte {
	t.Helper()
	data, err := os.ReadFile("../fieldkits/kits/missing-persons.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("the kit file has no %q", edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return []byte(s)
}

// builtinMP is the version of the missing-persons kit built in, and its
// type's schema version: the tests speak of the versions after it.
func builtinMP(t *testing.T) (version string, typeVersion int) {
	t.Helper()
	k, err := fieldkits.Parse("missing-persons.yaml", missingPersons(t))
	if err != nil {
		t.Fatal(err)
	}
	return k.Version, int(k.Types[0].Version)
}

// mpAfter is a version of missing-persons after the one built in, its
// second number raised by minor, its third patch: 1.3.5 is mpAfter(t, 1, 5)
// when 1.2.0 is built in.
func mpAfter(t *testing.T, minor, patch int) string {
	t.Helper()
	v, _ := builtinMP(t)
	var major, min int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &min); err != nil {
		t.Fatalf("built-in version %q: %v", v, err)
	}
	return fmt.Sprintf("%d.%d.%d", major, min+minor, patch)
}

// mpAs is the missing-persons kit file of version v, with edits.
func mpAs(t *testing.T, v string, edits ...string) []byte {
	t.Helper()
	cur, _ := builtinMP(t)
	return missingPersons(t, append([]string{"version: " + cur, "version: " + v}, edits...)...)
}

// The update that came to the ledger, and how it is refused: full_name is
// no longer personal, the type moves from lane 1 to 9, a bound is cut, and
// the type's schema version stays.
var withdrawn = []string{
	"        required: true\n        personal: true\n        max: 120", "        required: true\n        max: 60",
	"    priority: 1", "    priority: 9",
}

func kitVersion(n *node.Node, name string) string {
	k, _ := n.Kits().Kit(name)
	return k.Version
}

func TestPublishKitRefusesAnIncompatibleUpdate(t *testing.T) {
	ctx := context.Background()
	n, _ := openHQ(t, &syncBuffer{})
	cur, tv := builtinMP(t)
	next := mpAfter(t, 1, 0)
	_, err := n.PublishKit(ctx, "missing-persons.yaml", mpAs(t, next, withdrawn...))
	if !errors.Is(err, fieldkits.ErrIncompatible) {
		t.Fatalf("an update that withdraws promises: %v", err)
	}
	for _, want := range []string{"missing-persons.yaml:", "missing-persons/missing-person", next + " may not replace " + cur} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	personal := mpAs(t, next,
		"        required: true\n        personal: true\n        max: 120", "        required: true\n        max: 120",
		fmt.Sprintf("    version: %d\n    scope: national", tv), fmt.Sprintf("    version: %d\n    scope: national", tv+1))
	if _, err := n.PublishKit(ctx, "missing-persons.yaml", personal); err == nil || !strings.Contains(err.Error(), "missing-persons/missing-person.full_name: personal") {
		t.Fatalf("personal cleared: %v", err)
	}
	if _, err := n.PublishKit(ctx, "missing-persons.yaml", mpAs(t, "0.9.0")); !errors.Is(err, fieldkits.ErrNotNewer) {
		t.Fatalf("a downgrade: %v", err)
	}
	k, err := n.PublishKit(ctx, "missing-persons.yaml", mpAs(t, next))
	if err != nil || k.Version != next {
		t.Fatalf("a compatible update: %v", err)
	}
}

// Every node checks a published kit again when it loads it: one that is
// not a compatible successor of the kit it would replace is skipped,
// loudly, and the kit built in stays.
func TestLoadedKitsAreCompatibleSuccessors(t *testing.T) {
	var log syncBuffer
	n, ca := openHQ(t, &log)
	publish := func(index uint64, version string, body []byte) {
		t.Helper()
		if err := node.ApplyKit(n, ca.Cert, index, ledger.Kit{Name: "missing-persons", Version: version, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := builtinMP(t)
	v1, v2, v3 := mpAfter(t, 1, 0), mpAfter(t, 2, 0), mpAfter(t, 3, 0)
	publish(1, v1, mpAs(t, v1))
	if v := kitVersion(n, "missing-persons"); v != v1 {
		t.Fatalf("after a compatible update the node uses %s", v)
	}

	publish(2, v2, mpAs(t, v2, withdrawn...))
	if v := kitVersion(n, "missing-persons"); v != cur {
		t.Fatalf("after an incompatible update the node uses %s, want the kit built in", v)
	}
	ty, _ := n.Kits().Type("missing-person")
	if f, _ := ty.Field("full_name"); !f.Personal || ty.Priority != 1 {
		t.Fatal("an incompatible update took effect")
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "not a compatible successor") {
		t.Fatalf("the skip is not logged as an error:\n%s", log.String())
	}

	// A file that is not the version the ledger names is skipped too.
	publish(3, v3, mpAs(t, mpAfter(t, 4, 0)))
	if v := kitVersion(n, "missing-persons"); v != cur {
		t.Fatalf("a file of another version than the ledger's is used: %s", v)
	}

	// The ledger refuses a lower version than the one it holds.
	lower := mpAfter(t, 1, 5)
	err := node.ApplyKit(n, ca.Cert, 4, ledger.Kit{Name: "missing-persons", Version: lower, Body: mpAs(t, lower)})
	if err == nil || !strings.Contains(err.Error(), "not after "+v3) {
		t.Fatalf("a lower version than the ledger holds: %v", err)
	}
	// and HQ is told so when it publishes, before anything is queued.
	_, err = n.PublishKit(context.Background(), "missing-persons.yaml", mpAs(t, mpAfter(t, 2, 5)))
	if !errors.Is(err, fieldkits.ErrNotNewer) || !strings.Contains(err.Error(), "the ledger holds version "+v3) {
		t.Fatalf("publishing below the ledger's version: %v", err)
	}
}

// A record a laptop captured offline under a kit keeps that kit's schema
// version when a newer kit arrives, and stays valid: it is held and passed
// on whole, and an edit of another field is accepted, though the new kit
// adds a rule the record's value breaks; a record added under the new kit
// is held to that rule.
func TestOfflineRecordKeepsItsKitVersion(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	laptop := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	_, tv := builtinMP(t)
	const person = `{"full_name":"Elena Chub","age":%d,"district":"Cayo","last_seen_place":"Succotz ferry","status":"missing","reporter_name":"Rosa Chub","reported_at":"2026-11-20T10:00:00Z"}`
	id := mustAdd(t, laptop.Node, "missing-person", fmt.Sprintf(person, 112))

	next := mpAfter(t, 1, 0)
	update := mpAs(t, next,
		fmt.Sprintf("    version: %d\n    scope: national", tv), fmt.Sprintf("    version: %d\n    scope: national", tv+1),
		"        min: 0\n        max: 120\n", "        min: 0\n        max: 120\n        constraint: \". <= 110\"\n        constraint_message: {en: Ages over 110 are checked with the registry first., es: Las edades de más de 110 años se verifican primero con el registro.}\n")
	if _, err := hq.Node.PublishKit(ctx, "missing-persons.yaml", update); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "HQ applies its kit", func() bool { return kitVersion(hq.Node, "missing-persons") == next })
	res, err := laptop.Node.Sync(ctx, hq.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kits != 1 || kitVersion(laptop.Node, "missing-persons") != next {
		t.Fatalf("the laptop took %d kits and has %s", res.Kits, kitVersion(laptop.Node, "missing-persons"))
	}

	schemaVersion := func(n *node.Node) uint32 {
		t.Helper()
		recs, err := node.StoreRecords(n, ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.ID == id {
				return r.Version
			}
		}
		t.Fatalf("%s does not hold record %s", n.Self().Name, id)
		return 0
	}
	for _, n := range []*node.Node{laptop.Node, hq.Node} {
		if v := schemaVersion(n); v != uint32(tv) {
			t.Errorf("%s holds the record at schema version %d, want %d, the kit it was captured under", n.Self().Name, v, tv)
		}
		v, err := n.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if v.Kit != "missing-persons" || v.Fields["age"] != int64(112) || v.Fields["last_seen_place"] != "Succotz ferry" || len(v.Conflicts) != 0 {
			t.Errorf("%s holds %v (conflicts %v)", n.Self().Name, v.Fields, v.Conflicts)
		}
	}

	// The person is found: an edit that does not touch the age is taken.
	mustUpdate(t, laptop.Node, id, `{"status":"found-safe","found_at_place":"Ladyville shelter"}`)
	// A new record is held to the new kit's rule.
	_, err = laptop.Node.Add(ctx, "missing-person", []byte(fmt.Sprintf(person, 112)), "vol-193")
	if err == nil || !strings.Contains(err.Error(), "Ages over 110 are checked with the registry first.") {
		t.Fatalf("a new record over the new kit's age rule: %v", err)
	}
}

// A kit reaches laptops in sync hellos, which carry at most
// syncproto.MaxKitNoticeBytes of one signed kit and MaxKitListBytes of all:
// HQ refuses to publish a kit past them, which the ledger's members would
// take and no laptop ever, and every kit it took reaches a laptop.
func TestAKitTooLargeForAHelloIsRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	laptop := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	// padded is a kit file made size bytes long by a comment at its end.
	padded := func(data []byte, size int) []byte {
		return append(data, "#"+strings.Repeat("x", size-len(data)-2)+"\n"...)
	}
	_, err := hq.Node.PublishKit(ctx, "missing-persons.yaml", padded(mpAs(t, mpAfter(t, 1, 0)), syncproto.MaxKitNoticeBytes))
	if !errors.Is(err, node.ErrKitTooLarge) || !strings.Contains(err.Error(), "a sync hello carries at most 256 KiB of one kit") {
		t.Fatalf("a kit of %d bytes, signed more: %v", syncproto.MaxKitNoticeBytes, err)
	}

	// Four new kits of 250 KiB fit in a hello, a fifth does not.
	roads, err := os.ReadFile("../fieldkits/kits/road-status.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kit := func(i int) []byte {
		s := strings.Replace(string(roads), "kit: road-status", fmt.Sprintf("kit: roads-%d", i), 1)
		s = strings.Replace(s, "- name: road-segment", fmt.Sprintf("- name: road-segment-%d", i), 1)
		return padded([]byte(s), 250<<10)
	}
	for i := range 4 {
		if _, err := hq.Node.PublishKit(ctx, fmt.Sprintf("roads-%d.yaml", i), kit(i)); err != nil {
			t.Fatalf("kit %d of 250 KiB: %v", i, err)
		}
	}
	nodetest.Eventually(t, 10*time.Second, "HQ applies its four kits", func() bool {
		l, err := node.KitNotices(hq.Node, ctx)
		return err == nil && len(l) == 4
	})
	_, err = hq.Node.PublishKit(ctx, "roads-4.yaml", kit(4))
	if !errors.Is(err, node.ErrKitTooLarge) || !strings.Contains(err.Error(), "with the 4 other kits published or queued, a sync hello would carry over 1024 KiB") {
		t.Fatalf("a fifth kit of 250 KiB: %v", err)
	}
	res, err := laptop.Node.Sync(ctx, hq.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kits != 4 {
		t.Fatalf("the laptop took %d kits of HQ's 4", res.Kits)
	}
	for i := range 4 {
		if _, ok := laptop.Node.Kits().Kit(fmt.Sprintf("roads-%d", i)); !ok {
			t.Errorf("the laptop lacks roads-%d", i)
		}
	}
}

// Kits published while the ledger has no quorum wait in HQ's queue, and
// reach laptops together once it applies them: each is counted with those
// queued before it, not with those applied alone, which let five kits of
// 250 KiB be queued where a hello carries four.
func TestKitsQueuedTogetherFitAHello(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 2, true)
	ctx := context.Background()
	for _, r := range relays {
		r.Stop()
	}
	roads, err := os.ReadFile("../fieldkits/kits/road-status.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kit := func(i int) []byte {
		s := strings.Replace(string(roads), "kit: road-status", fmt.Sprintf("kit: roads-%d", i), 1)
		s = strings.Replace(s, "- name: road-segment", fmt.Sprintf("- name: road-segment-%d", i), 1)
		return append([]byte(s), "#"+strings.Repeat("x", 250<<10-len(s)-2)+"\n"...)
	}
	for i := range 4 {
		if _, err := hq.Node.PublishKit(ctx, fmt.Sprintf("roads-%d.yaml", i), kit(i)); err != nil {
			t.Fatalf("kit %d of 250 KiB: %v", i, err)
		}
	}
	if l, err := node.KitNotices(hq.Node, ctx); err != nil || len(l) != 0 {
		t.Fatalf("HQ applied %d kits with no quorum (%v)", len(l), err)
	}
	if _, err := hq.Node.PublishKit(ctx, "roads-4.yaml", kit(4)); !errors.Is(err, node.ErrKitTooLarge) || !strings.Contains(err.Error(), "with the 4 other kits published or queued") {
		t.Fatalf("a fifth kit of 250 KiB, four queued: %v", err)
	}
	// A newer version of a queued kit takes its place, not a place more.
	if _, err := hq.Node.PublishKit(ctx, "roads-0.yaml", bytes.Replace(kit(0), []byte("version: 1.0.0"), []byte("version: 1.0.1"), 1)); err != nil {
		t.Fatalf("a newer version of a queued kit: %v", err)
	}
}
