package node_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// The data plane's attacks, made by an enrolled node with the project's
// own packages: changes forged under another origin by bundle, changes
// that break the write policy or their kit, a flood of changes stamped far
// ahead, a record re-typed by a change stamped in the past. Each asserts
// the refusal, that nothing already saved was lost, and that honest peers
// keep syncing.

const assessment = `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"}`

// laptop adds a field laptop that serves nothing and gossips nowhere: it
// syncs when the test says.
func laptop(c *nodetest.Cluster, name, district string, edit func(*node.Config)) *nodetest.Member {
	return c.Add(name, syncproto.RoleField, district, func(cfg *node.Config) {
		cfg.SyncAddr = ""
		if edit != nil {
			edit(cfg)
		}
	})
}

// forgedBundle is nodetest.ForgedBundle, written by a member.
func forgedBundle(t *testing.T, writer *nodetest.Member, victim syncproto.Stream, seq uint64, c syncproto.Change) []byte {
	t.Helper()
	b, err := nodetest.ForgedBundle(writer.Node.Key().Signer(), writer.Node.Self().ID, writer.Node.Credentials().Cert.Raw, victim, seq, c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A laptop forges, by bundle, another responder's change (its sequence 2,
// after a gap): the forgery is held, takes no slot, and never merges; the
// real change comes by sync and merges; both ends agree.
func TestForgedChangeByBundleNeverMerges(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	victim := laptop(c, "cayo-07", "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	ctx := context.Background()
	id, err := victim.Node.Add(ctx, "damage-assessment", []byte(assessment), "Ana Cho")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := victim.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	// The victim's stream of Cayo's damage assessments: priority 3, Cayo's
	// scope.
	own := syncproto.Stream{Origin: victim.Node.Self().ID, Lane: syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))}
	// The forged change: sequence 3 of the victim's stream (2 is the
	// victim's next, not written yet), setting damage to 0.
	level0, _ := syncproto.Marshal(0)
	forged := syncproto.Change{Origin: own.Origin, Lane: own.Lane, Seq: 3, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0), Record: id,
		Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "Ana Cho",
		Fields: []syncproto.FieldChange{{Name: "damage_level", Value: level0, Base: []syncproto.Dot{{Origin: own.Origin, Lane: own.Lane, Seq: 1}}}}}
	path := filepath.Join(t.TempDir(), "forged.bundle")
	if err := os.WriteFile(path, forgedBundle(t, thief, own, 3, forged), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := hq.Node.ImportBundle(ctx, path)
	if err != nil {
		t.Fatal(err) // sealed by its writer, it is a bundle: its change waits
	}
	if res.Applied != 0 {
		t.Fatalf("the forged change merged: %+v", res)
	}
	// Nothing can check it until the gap closes: it counts in the share of
	// held changes of the thief, who wrote the bundle, not the victim's.
	if shares, err := node.HeldShares(hq.Node, ctx); err != nil || shares[thief.Node.Self().ID] != 1 || shares[own.Origin] != 0 {
		t.Fatalf("held shares at HQ: %v, %v; want the forgery in the thief's", shares, err)
	}
	// The victim writes 2 and 3 for real and syncs: both merge, the
	// forgery is gone.
	if _, err := victim.Node.Update(ctx, id, []byte(`{"damage_level":4}`), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	if _, err := victim.Node.Update(ctx, id, []byte(`{"damage_level":3}`), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	if _, err := victim.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if hq.Digest() != victim.Digest() {
		t.Fatal("HQ and the victim differ after the real changes came")
	}
	v, err := hq.Node.Record(ctx, id)
	if err != nil || v.Fields["damage_level"] != int64(3) {
		t.Fatalf("damage level at HQ: %v %v", v.Fields["damage_level"], err)
	}
	if st, _ := hq.Node.Status(ctx); st.Held != 0 {
		t.Fatalf("%d changes still held at HQ", st.Held)
	}
}

// A thief's stick holds a change forged as a responder's change 3, after a
// gap, at HQ; then a modified laptop's session sends a forged change 4,
// after it. Nothing can check either until the responder's 1 and 2 come:
// each counts in the held share of the node that brought it, the session's
// in the one its certificate names, and none in the responder's.
func TestChangesHeldUncheckedCountInTheirBringersShares(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	victim := laptop(c, "cayo-07", "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	liar := laptop(c, "cayo-77", "Cayo", nil)
	ctx := context.Background()
	own := syncproto.Stream{Origin: victim.Node.Self().ID, Lane: syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))}
	forged := func(seq uint64) syncproto.Change {
		level, _ := syncproto.Marshal(0)
		return syncproto.Change{Origin: own.Origin, Lane: own.Lane, Seq: seq, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0), Record: syncproto.NewRecordID(),
			Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "Ana Cho", Fields: []syncproto.FieldChange{{Name: "damage_level", Value: level}}}
	}
	path := filepath.Join(t.TempDir(), "forged.bundle")
	if err := os.WriteFile(path, forgedBundle(t, thief, own, 3, forged(3)), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err := hq.Node.ImportBundle(ctx, path); err != nil || res.Held != 1 {
		t.Fatalf("the thief's stick: %+v, %v", res, err)
	}
	four := forged(4)
	body, err := four.Encode()
	if err != nil {
		t.Fatal(err)
	}
	sig := liar.Node.Key().SignHead(own.Lane, 4, syncproto.ChainHash(syncproto.Hash{}, body))
	if _, err := node.SyncSending(liar.Node, ctx, hq.Addr, []syncproto.Run{{Stream: own, First: 4, Bodies: [][]byte{body}, Sig: sig}}); err != nil {
		t.Fatalf("the modified laptop's session: %v", err)
	}
	shares, err := node.HeldShares(hq.Node, ctx)
	if err != nil || shares[thief.Node.Self().ID] != 1 || shares[liar.Node.Self().ID] != 1 || shares[own.Origin] != 0 {
		t.Fatalf("held shares at HQ: %v, %v; want one in the thief's, one in the modified laptop's", shares, err)
	}
}

// handWhole hands a node's bundle to another whole, every scope with it:
// how a Toledo laptop comes to hold a Cayo record (it was a Cayo laptop
// before its responder moved, or it runs an older version).
func handWhole(t *testing.T, from, to *nodetest.Member) {
	t.Helper()
	if _, err := node.ImportBundleWhole(to.Node, context.Background(), bundleFile(t, from)); err != nil {
		t.Fatal(err)
	}
}

// rogueRun is a run of n changes a modified Cayo laptop writes after the
// head of its stream of damage assessments, signed with its key, as its
// own tools never would: fill sets the i-th change's stamp, record, kit
// and fields.
func rogueRun(t *testing.T, m *nodetest.Member, n int, fill func(i int, c *syncproto.Change)) syncproto.Run {
	t.Helper()
	ctx := context.Background()
	own := syncproto.Stream{Origin: m.Node.Self().ID, Lane: syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))}
	v, err := m.Node.Vector(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seq := v[own]
	var prev syncproto.Hash
	if seq > 0 {
		if prev, err = node.HeadAt(m.Node, ctx, own, seq); err != nil {
			t.Fatal(err)
		}
	}
	run := syncproto.Run{Stream: own, First: seq + 1}
	for i := range n {
		c := syncproto.Change{Origin: own.Origin, Lane: own.Lane, Seq: seq + 1 + uint64(i)}
		fill(i, &c)
		body, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		prev = syncproto.ChainHash(prev, body)
		run.Bodies = append(run.Bodies, body)
	}
	run.Sig = m.Node.Key().SignHead(own.Lane, seq+uint64(n), prev)
	return run
}

// handBeyond hands a member's changes beyond have to another, by bundle.
func handBeyond(t *testing.T, from, to *nodetest.Member, have syncproto.Vector) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "b.bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := from.Node.ExportBundle(ctx, f, have); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := to.Node.ImportBundle(ctx, path); err != nil {
		t.Fatal(err)
	}
}

// A laptop whose hello claims to be a relay, or another laptop, is sent
// the receipts its certificate's own streams have, not those of every
// district's laptops that a relay passes on.
func TestReceiptsGoByTheCertificateNotTheHello(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	spy := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	mustAdd(t, toledo.Node, "damage-assessment", assessment)
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "HQ signs its receipt of the Toledo laptop's change", func() bool {
		st, _ := hq.Node.Status(ctx)
		return st.Receipts > 0
	})
	for _, claim := range []struct {
		role syncproto.Role
		id   syncproto.NodeID
	}{{syncproto.RoleRelay, spy.Node.Self().ID}, {syncproto.RoleHQ, spy.Node.Self().ID}, {syncproto.RoleField, toledo.Node.Self().ID}} {
		if _, err := node.SyncClaiming(spy.Node, ctx, hq.Addr, claim.role, claim.id); err != nil {
			t.Fatal(err)
		}
		rs, err := node.Receipts(spy.Node, ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Stream.Origin == toledo.Node.Self().ID {
				t.Fatalf("a Cayo laptop whose hello claims %s %s was sent HQ's receipt of the Toledo laptop's stream %s", claim.role, claim.id, r.Stream)
			}
		}
	}
}

// A Toledo laptop that holds Cayo records (handed whole) edits and
// deletes a Cayo damage assessment, and deletes a Cayo missing person:
// each is kept aside, with its reason, nothing changes, and HQ lists them;
// an edit of the missing person (a national record) from Toledo is taken.
// The missing person's deletion waits for a move of its district.
func TestWritePolicyKeepsAsideWhatALaptopMayNotDo(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	damage := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	person := mustAdd(t, cayo.Node, "missing-person", `{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"San Ignacio market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	handWhole(t, cayo, toledo)
	mustUpdate(t, toledo.Node, damage, `{"damage_level":0}`)
	if err := toledo.Node.Delete(ctx, damage, "tol"); err != nil {
		t.Fatal(err)
	}
	if err := toledo.Node.Delete(ctx, person, "tol"); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, toledo.Node, person, `{"status":"found-safe","found_at_place":"Punta Gorda shelter"}`)
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err) // honest peers keep syncing: kept aside is not an error
	}
	d, _ := hq.Node.Record(ctx, damage)
	if d.Deleted || d.Fields["damage_level"] != int64(3) {
		t.Fatalf("the Toledo laptop changed a Cayo assessment at HQ: deleted %v, level %v", d.Deleted, d.Fields["damage_level"])
	}
	p, _ := hq.Node.Record(ctx, person)
	if p.Deleted || p.Fields["status"] != "found-safe" {
		t.Fatalf("the missing person at HQ: deleted %v, status %v", p.Deleted, p.Fields["status"])
	}
	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var why []string
	for _, q := range qs {
		// The missing person's deletion waits for a move of its district
		// (by HQ or a Cayo node), which would make it Toledo's, and says
		// so.
		national := q.Type == "missing-person"
		if q.Origin != "tol-02" || q.Final == national || national != (q.WaitsForField == "district") {
			t.Fatalf("kept aside: %+v", q)
		}
		why = append(why, q.Reason)
	}
	if len(qs) != 3 || !strings.Contains(strings.Join(why, "|"), "edits a record of Cayo") || !strings.Contains(strings.Join(why, "|"), "deletes a record of Cayo") {
		t.Fatalf("kept aside, with reasons: %q", why)
	}
	// The Toledo laptop's changes stay in its stream: HQ passes them on,
	// and a Cayo laptop keeps them aside too.
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if st, _ := cayo.Node.Status(ctx); st.Quarantined != 3 {
		t.Fatalf("the Cayo laptop kept %d aside, want 3", st.Quarantined)
	}
	if hq.Digest() != cayo.Digest() {
		t.Fatal("HQ and the Cayo laptop differ")
	}
}

// moveTo has headquarters sign m a certificate of district for its key,
// later than its first and ending later, and installs it, as for a
// responder who moved there. It returns m's certificate from before.
func moveTo(t *testing.T, c *nodetest.Cluster, m *nodetest.Member, district string) *x509.Certificate {
	t.Helper()
	old := m.Node.Credentials().Cert
	req, err := m.Node.EnrollmentRequestIn(district)
	if err != nil {
		t.Fatal(err)
	}
	// Signed later and ending later whatever second the first was signed
	// in.
	bundle, err := c.CA.SignAt(req, old.NotBefore.Add(time.Minute), old.NotAfter.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	install(t, m, bundle)
	return old
}

// install has m install an enrollment bundle, stopped, and starts it again.
func install(t *testing.T, m *nodetest.Member, bundle []byte) {
	t.Helper()
	ctx := context.Background()
	m.Stop()
	n, err := node.Open(ctx, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Install(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	n.Close()
	m.Start()
}

// A Cayo laptop moves to Toledo: headquarters signs it a certificate of
// Toledo, for the same key, and HQ holds it. Modified, the laptop edits a
// Cayo assessment and sends HQ its older certificate, of Cayo, which the
// CA signed and which has not expired: HQ judges the edit by the newer
// certificate it holds, and keeps it aside.
func TestAnOlderCertificateOfANodeGivesItNothing(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	mover := laptop(c, "cayo-31", "Cayo", nil)
	ctx := context.Background()
	damage := mustAdd(t, mover.Node, "damage-assessment", assessment)
	if _, err := mover.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	old := moveTo(t, c, mover, "Toledo")
	if _, err := mover.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}

	mustUpdate(t, mover.Node, damage, `{"damage_level":0}`)
	if _, err := node.SyncPresenting(mover.Node, ctx, hq.Addr, [][]byte{old.Raw}); err != nil {
		t.Fatal(err)
	}
	if d, _ := hq.Node.Record(ctx, damage); d.Fields["damage_level"] != int64(3) {
		t.Fatalf("the laptop moved to Toledo changed a Cayo assessment at HQ by its older certificate: level %v", d.Fields["damage_level"])
	}
	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || !strings.Contains(qs[0].Reason, "edits a record of Cayo; cayo-31 is of Toledo") {
		t.Fatalf("kept aside at HQ: %+v", qs)
	}
}

// The laptop moved to Toledo, modified, presents its older certificate, of
// Cayo, in the handshake, to be sent Cayo's records again: HQ, which holds
// its newer one, refuses the connection, and the Cayo assessment written
// since never reaches it. With its newer certificate
// it syncs.
func TestAnOlderCertificateOfANodeIsRefusedInTheHandshake(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	mover := laptop(c, "cayo-31", "Cayo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	old := moveTo(t, c, mover, "Toledo")
	if _, err := mover.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	damage := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}

	creds := &identity.Credentials{Key: mover.Node.Key(), Cert: old, CA: c.CA.Cert, Claims: must(identity.ClaimsOf(old))}
	if _, err := node.SyncAs(mover.Node, ctx, hq.Addr, creds); err == nil {
		t.Fatal("a session presenting the older certificate was served")
	}
	if holds(mover, damage) {
		t.Fatal("the laptop moved to Toledo was sent a Cayo assessment by its older certificate")
	}
	if _, err := mover.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
}

// A Toledo laptop's deletion of a Cayo record reaches HQ before the
// record: it waits for the record, instead of merging unchecked and
// standing once the record came; when the record comes, it is refused. A
// Cayo laptop's edit that overtakes its record merges once the record is
// there.
func TestChangeThatOvertakesItsRecordWaitsForIt(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	cayo2 := laptop(c, "cayo-09", "Cayo", nil)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	damage := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	bundle := func(from, to *nodetest.Member, skip ...*nodetest.Member) {
		t.Helper()
		have := syncproto.Vector{}
		for _, m := range skip {
			v, err := m.Node.Vector(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for st, seq := range v {
				have[st] = seq
			}
		}
		handBeyond(t, from, to, have)
	}
	handWhole(t, cayo, toledo)
	bundle(cayo, cayo2)
	if err := toledo.Node.Delete(ctx, damage, "tol"); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, cayo2.Node, damage, `{"village":"Bullet Tree"}`)
	// Without the Cayo laptop's stream: the record is not in them.
	bundle(toledo, hq, cayo)
	bundle(cayo2, hq, cayo)
	if _, err := hq.Node.Record(ctx, damage); err == nil {
		t.Fatal("HQ holds a record it never received")
	}
	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Both wait: for the record, or for the certificate of the node whose
	// version the edit names.
	if len(qs) != 2 || qs[0].Final || qs[1].Final {
		t.Fatalf("before the record, kept aside: %+v", qs)
	}

	bundle(cayo, hq)
	d, err := hq.Node.Record(ctx, damage)
	if err != nil {
		t.Fatal(err)
	}
	if d.Deleted || d.Fields["village"] != "Bullet Tree" {
		t.Fatalf("at HQ: deleted %v, village %v; want the Cayo edit merged and the Toledo deletion refused", d.Deleted, d.Fields["village"])
	}
	qs, err = hq.Node.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0].Origin != "tol-02" || !qs[0].Final || !strings.Contains(qs[0].Reason, "deletes a record of Cayo") {
		t.Fatalf("after the record, kept aside: %+v", qs)
	}
}

// Changes that break their kit (a value out of bounds, a field the kit
// does not declare, the wrong lane) are kept aside; an HQ decision is not
// replaced by a laptop.
func TestChangesThatBreakTheirKitAreKeptAside(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	rogue := laptop(c, "cayo-66", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, rogue.Node, "damage-assessment", assessment)
	huge := append([]byte{0x1b}, bytes.Repeat([]byte{0xff}, 8)...) // 2^64-1
	for _, fields := range [][]syncproto.FieldChange{
		{{Name: "damage_level", Value: huge}},
		{{Name: "damage_level", Value: []byte{0x09}}}, // 9, above 4
		{{Name: "ransom_note", Value: []byte{0x61, 0x78}}},
	} {
		if err := node.WriteEdit(rogue.Node, ctx, store.Edit{Record: id, Lane: 3, Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Fields: fields}); err != nil {
			t.Fatal(err)
		}
	}
	// A change of this record in another lane: a second, forged stream.
	if err := node.WriteEdit(rogue.Node, ctx, store.Edit{Record: id, Lane: 1, Kit: "damage-assessment", Type: "damage-assessment", Version: 1,
		Fields: []syncproto.FieldChange{{Name: "damage_level", Value: []byte{0x00}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rogue.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	qs, _ := hq.Node.Quarantine(ctx, 0)
	var why []string
	for _, q := range qs {
		why = append(why, q.Reason)
	}
	all := strings.Join(why, "|")
	for _, want := range []string{"whole number Lifeline can hold", "above the maximum 4", "does not declare", "priority 1"} {
		if !strings.Contains(all, want) {
			t.Errorf("no change kept aside for %q: %q", want, why)
		}
	}
	v, _ := hq.Node.Record(ctx, id)
	if v.Fields["damage_level"] != int64(3) {
		t.Fatalf("damage level at HQ %v, want 3", v.Fields["damage_level"])
	}
	rep, err := hq.Node.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Districts {
		for level, n := range d.Damage {
			if n < 0 || level > 4 {
				t.Fatalf("the report counts %d at level %d", n, level)
			}
		}
	}
}

// A laptop whose clock runs a year ahead floods a relay: the relay holds
// at most its share, and an honest laptop's records still arrive.
func TestFloodOfChangesStampedAheadIsBounded(t *testing.T) {
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	fast := laptop(c, "cayo-66", "Cayo", func(cfg *node.Config) { cfg.ClockOffset = 365 * 24 * time.Hour })
	honest := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	var lines bytes.Buffer
	for range store.MaxHeldPerOrigin + 500 {
		lines.WriteString(assessment + "\n")
	}
	if _, err := fast.Node.Import(ctx, "damage-assessment", &lines, "x", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := fast.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if st, _ := relay.Node.Status(ctx); st.Held > store.MaxHeldPerOrigin {
		t.Fatalf("the relay holds %d changes of one origin, the bound is %d", st.Held, store.MaxHeldPerOrigin)
	}
	add(t, honest, 3)
	if _, err := honest.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if st, _ := relay.Node.Status(ctx); st.Records["damage-assessment"] != 3 {
		t.Fatalf("the relay shows %d assessments, want the honest laptop's 3", st.Records["damage-assessment"])
	}
}

// A laptop whose clock is 55 years back, and one whose clock is right,
// "create" an asset with the id of a missing person: both are kept aside;
// the person stays a missing person, HQ can mark them found, and the
// counts hold.
func TestRecordCannotBeRetypedByAChangeStampedInThePast(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	reporter := laptop(c, "cayo-07", "Cayo", nil)
	past := laptop(c, "cayo-66", "Cayo", func(cfg *node.Config) { cfg.ClockOffset = -55 * 365 * 24 * time.Hour })
	now := laptop(c, "cayo-67", "Cayo", nil)
	ctx := context.Background()
	person := mustAdd(t, reporter.Node, "missing-person", `{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"San Ignacio market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00","medical_conditions":"insulin twice a day"}`)
	if _, err := reporter.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	asset := `{"id":"` + person.String() + `","asset_tag":"GEN-1","kind":"generator","district":"Cayo","status":"available"}`
	for _, rogue := range []*nodetest.Member{past, now} {
		if _, err := rogue.Node.Import(ctx, "asset", strings.NewReader(asset+"\n"), "x", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := rogue.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	v, err := hq.Node.Record(ctx, person)
	if err != nil || v.Type != "missing-person" {
		t.Fatalf("the record at HQ is a %q (%v)", v.Type, err)
	}
	mustUpdate(t, hq.Node, person, `{"status":"found-safe","found_at_place":"Dangriga shelter"}`)
	if st, _ := hq.Node.Status(ctx); st.Records["missing-person"] != 1 || st.Records["asset"] != 0 || st.Quarantined != 2 {
		t.Fatalf("HQ counts %v, kept aside %d", st.Records, st.Quarantined)
	}
}

// A stolen laptop that headquarters revoked writes a record and syncs it
// to a laptop that has not heard of the revocation, which passes it on to
// the relay: the relay keeps it aside, keeps the thief's earlier records,
// and takes the honest laptop's own.
func TestStolenLaptopCannotSyncThroughAnUnawareOne(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	relay := relays[0]
	thief := c.Add("cayo-66", syncproto.RoleField, "Cayo", nil)
	unaware := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	before := add(t, thief, 2)
	if _, err := thief.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if err := hq.Node.Revoke(ctx, thief.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the relay knows of the revocation", func() bool {
		revoked, _ := relay.Node.IsRevoked(ctx, thief.Node.Self().ID)
		return revoked
	})
	if _, err := thief.Node.Sync(ctx, relay.Addr); err == nil {
		t.Fatal("the relay synced with a revoked laptop")
	}
	after := add(t, thief, 1)
	if _, err := unaware.Node.Sync(ctx, thief.Addr); err != nil {
		t.Fatal(err) // it has not heard: it takes the thief's record
	}
	mine := add(t, unaware, 1)
	if _, err := unaware.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(before, mine...) {
		if _, err := relay.Node.Record(ctx, id); err != nil {
			t.Fatalf("the relay lacks %s: %v", id, err)
		}
	}
	if _, err := relay.Node.Record(ctx, after[0]); err == nil {
		t.Fatal("the relay took a record the thief wrote after its revocation")
	}
	qs, _ := relay.Node.Quarantine(ctx, 0)
	if len(qs) != 1 || !strings.Contains(qs[0].Reason, "revoked") {
		t.Fatalf("kept aside at the relay: %+v", qs)
	}
}

// A modified laptop sends HQ version after version of one field of its
// record, none replacing another, as if that many responders had edited it
// unseen. Past store.MaxHeads they are kept aside for good, saying why; the
// record still reads, a person at HQ resolves the conflict with one edit
// (which names every version standing), and an honest laptop's session
// and its copy of the record are unharmed.
func TestARogueLaptopsVersionsOfOneFieldLeaveTheConflictResolvable(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	rogue := laptop(c, "cayo-66", "Cayo", nil)
	honest := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, rogue.Node, "damage-assessment", assessment)
	if _, err := rogue.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	const versions = store.MaxHeads + 5
	now := time.Now().UnixMilli()
	run := rogueRun(t, rogue, versions, func(i int, c *syncproto.Change) {
		v, _ := syncproto.Marshal("Succotz " + strings.Repeat("I", i+1))
		c.HLC, c.Record, c.Kit, c.Type, c.Version = syncproto.MakeHLC(now, uint16(i)), id, "damage-assessment", "damage-assessment", 1
		c.Fields = []syncproto.FieldChange{{Name: "village", Value: v}}
	})
	if _, err := node.SyncSending(rogue.Node, ctx, hq.Addr, []syncproto.Run{run}); err != nil {
		t.Fatalf("the rogue's session: %v", err)
	}
	// The record's first version and MaxHeads-1 of the rogue's stand; the
	// other six are kept aside.
	q, err := hq.Node.Quarantine(ctx, 0)
	if err != nil || len(q) != versions-(store.MaxHeads-1) {
		t.Fatalf("HQ keeps aside %d changes (%v), want %d", len(q), err, versions-(store.MaxHeads-1))
	}
	for _, k := range q {
		if k.Origin != "cayo-66" || !k.Final || k.Reason != "village would stand in 65 versions at once, at most 64 may: no one could resolve them" {
			t.Fatalf("kept aside: %+v", k)
		}
	}
	rec, err := hq.Node.Record(ctx, id)
	if err != nil || len(rec.Conflicts["village"]) != store.MaxHeads {
		t.Fatalf("HQ's record: %d versions of village (%v), want %d", len(rec.Conflicts["village"]), err, store.MaxHeads)
	}
	if _, err := hq.Node.Update(ctx, id, []byte(`{"village":"Succotz"}`), "hq-desk"); err != nil {
		t.Fatalf("resolving the conflict at HQ: %v", err)
	}
	if rec, err := hq.Node.Record(ctx, id); err != nil || len(rec.Conflicts) != 0 || rec.Fields["village"] != "Succotz" {
		t.Fatalf("after the decision: %+v, %v", rec.Conflicts, err)
	}
	mustAdd(t, honest.Node, "damage-assessment", assessment)
	for range 2 {
		if _, err := honest.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatalf("the honest laptop's session: %v", err)
		}
	}
	// The laptop may take HQ's decision before the rogue's versions, and
	// then the few HQ kept aside stand on it, replacing nothing it holds:
	// still a conflict a person resolves there.
	rec, err = honest.Node.Record(ctx, id)
	if err != nil || len(rec.Conflicts["village"]) > versions-(store.MaxHeads-1)+1 {
		t.Fatalf("the honest laptop's copy of the record: %d versions of village, %v", len(rec.Conflicts["village"]), err)
	}
	if _, err := honest.Node.Update(ctx, id, []byte(`{"village":"Succotz"}`), "vol-7"); err != nil {
		t.Fatalf("resolving it on the honest laptop: %v", err)
	}
	if rec, err := honest.Node.Record(ctx, id); err != nil || len(rec.Conflicts) != 0 || rec.Fields["village"] != "Succotz" {
		t.Fatalf("the honest laptop's copy after its decision: %+v, %v", rec.Conflicts, err)
	}
}

// A modified laptop adds rows to a family's registration past the kit's
// schemas.MaxRows, which no kit lets a node write: the change that would
// pass it is kept aside for good, saying why. Rows removed are not
// counted: once a family's rows are removed, others may be added.
func TestRowsPastTheKitsBoundAreKeptAside(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	rogue := laptop(c, "cayo-66", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, rogue.Node, "shelter-registration", `{"shelter_name":"Benque Viejo RC School","district":"Cayo","family_head_name":"Ana Cho","members":2,
		"arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"M. Bol","household":[{"name":"Ana Cho","age":30}]}`)
	lane := syncproto.MakeLane(2, schemas.DistrictScope("Cayo"))
	var rows []string
	write := func(fields []syncproto.FieldChange) {
		t.Helper()
		slices.SortFunc(fields, func(a, b syncproto.FieldChange) int { return strings.Compare(a.Name, b.Name) })
		if err := node.WriteEdit(rogue.Node, ctx, store.Edit{Record: id, Lane: lane, Kit: "shelter-registration", Type: "shelter-registration", Version: 1, Fields: fields}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(n int) {
		var fields []syncproto.FieldChange
		for _, row := range schemas.NewRowIDs(n) {
			rows = append(rows, row)
			fields = append(fields, syncproto.FieldChange{Name: schemas.RowField("household", row, "age"), Value: []byte{0x05}})
		}
		write(fields)
	}
	add(150) // 151 rows
	add(60)  // 211: past the bound
	var removes []syncproto.FieldChange
	for _, row := range rows[:20] {
		removes = append(removes, syncproto.FieldChange{Name: schemas.RowField("household", row, schemas.RemoveKey), Value: []byte{0xf5}})
	}
	write(removes)
	if _, err := rogue.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatalf("the rogue's session: %v", err)
	}
	q, err := hq.Node.Quarantine(ctx, 0)
	if err != nil || len(q) != 1 || !q[0].Final || q[0].Reason != "household would hold 211 rows, at most 200 are allowed" {
		t.Fatalf("HQ keeps aside %+v (%v); want the 60 rows past the bound, saying why", q, err)
	}
	// 151 rows, 20 of them removed: 131 live, and 60 more are 191.
	add(60)
	if _, err := rogue.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatalf("the rogue's session: %v", err)
	}
	if q, err := hq.Node.Quarantine(ctx, 0); err != nil || len(q) != 1 {
		t.Fatalf("HQ keeps aside %d changes (%v), want still the one", len(q), err)
	}
	got, err := hq.Node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for name := range got.Fields {
		if rep, row, field, ok := schemas.SplitRowField(name); ok && rep == "household" && field == "age" && got.Fields[schemas.RowField(rep, row, schemas.RemoveKey)] != true {
			live++
		}
	}
	if live != 191 {
		t.Fatalf("HQ's record has %d rows of its household, want 191", live)
	}
	// One change that removes 20 of the live rows and adds 25: 196, the
	// rows it removes counted out though they were held.
	var both []syncproto.FieldChange
	for _, row := range rows[20:40] {
		both = append(both, syncproto.FieldChange{Name: schemas.RowField("household", row, schemas.RemoveKey), Value: []byte{0xf5}})
	}
	for _, row := range schemas.NewRowIDs(25) {
		both = append(both, syncproto.FieldChange{Name: schemas.RowField("household", row, "age"), Value: []byte{0x05}})
	}
	write(both)
	if _, err := rogue.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatalf("the rogue's session: %v", err)
	}
	if q, err := hq.Node.Quarantine(ctx, 0); err != nil || len(q) != 1 {
		t.Fatalf("HQ keeps aside %d changes (%v), want still the one", len(q), err)
	}
}

// An edit made on HQ's version of a field reaches a laptop before HQ's
// version does: it waits aside for that version, and merges when it comes.
// A rogue laptop's changes of one record, naming a kit version no node
// has, wait aside for the kit, and the changes of that record that follow
// them merge as usual (the store looks at each change kept aside again
// only when what it waits for may have come: TestChangesKeptAsideAreLookedAtWhenWhatTheyWaitForComes).
func TestAnEditOfHQsVersionWaitsForThatVersion(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	writer := laptop(c, "cayo-07", "Cayo", nil)
	late := laptop(c, "cayo-09", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, writer.Node, "damage-assessment", assessment)
	for _, m := range []*nodetest.Member{writer, late} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := hq.Node.Update(ctx, id, []byte(`{"village":"San José Succotz"}`), "hq-desk"); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, writer.Node, id, `{"village":"Succotz Village"}`)
	// The writer's changes alone, without HQ's streams.
	have, err := hq.Node.Vector(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for st := range have {
		if st.Origin == writer.Node.Self().ID {
			delete(have, st)
		}
	}
	handBeyond(t, writer, late, have)
	qs, err := late.Node.Quarantine(ctx, 0)
	if err != nil || len(qs) != 1 || qs[0].Final || qs[0].Reason != "replaces hq's version of village, which is not here yet" {
		t.Fatalf("before HQ's version, kept aside: %+v, %v", qs, err)
	}
	if _, err := late.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if n, err := late.Node.QuarantineCount(ctx); err != nil || n != 0 {
		t.Fatalf("%d kept aside once HQ's version came (%v)", n, err)
	}
	if r, err := late.Node.Record(ctx, id); err != nil || r.Fields["village"] != "Succotz Village" || len(r.Conflicts) != 0 {
		t.Fatalf("the record: %+v, %v", r, err)
	}

	// The rogue's changes of a kit version no node has.
	rogue := writer
	const waiting = 40
	now := time.Now().UnixMilli()
	run := rogueRun(t, rogue, waiting+1, func(i int, c *syncproto.Change) {
		version := uint32(99)
		if i == waiting {
			version = 1 // the last is of the kit every node has
		}
		val, _ := syncproto.Marshal(fmt.Sprintf("Succotz %d", i))
		c.HLC, c.Record, c.Kit, c.Type, c.Version = syncproto.MakeHLC(now, uint16(i)), id, "damage-assessment", "damage-assessment", version
		c.Fields = []syncproto.FieldChange{{Name: "address", Value: val}}
	})
	if _, err := node.SyncSending(rogue.Node, ctx, hq.Addr, []syncproto.Run{run}); err != nil {
		t.Fatalf("the rogue's session: %v", err)
	}
	qs, err = hq.Node.Quarantine(ctx, 0)
	if err != nil || len(qs) != waiting {
		t.Fatalf("HQ keeps aside %d changes (%v), want %d", len(qs), err, waiting)
	}
	for _, q := range qs {
		if q.Final || !strings.HasPrefix(q.Reason, "written with version 99 of ") {
			t.Fatalf("kept aside: %+v", q)
		}
	}
	if r, err := hq.Node.Record(ctx, id); err != nil || r.Fields["address"] != fmt.Sprintf("Succotz %d", waiting) {
		t.Fatalf("HQ's record: %+v, %v", r, err)
	}
}

// A record a laptop edited many times is shown beside a match, to a
// responder typing a name, and by the feature API from its values and the
// change that created it alone (Node.RecordBrief): who reported it and
// when, as the whole history says, without reading that history.
func TestABriefRecordIsItsValuesAndWhoCreatedIt(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	id, err := cayo.Node.Add(ctx, "damage-assessment", []byte(assessment), "Marisol Chan")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := cayo.Node.Update(ctx, id, fmt.Appendf(nil, `{"household_size":%d}`, i+5), "Luis Sho"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := hq.Node.Update(ctx, id, []byte(`{"village":"San José Succotz"}`), "hq-desk"); err != nil {
		t.Fatal(err)
	}
	// The ledger gives the case number and confirms the report on its own
	// time; the brief and the full reading below are compared once both
	// have settled, or one could read "sent" and the other "confirmed".
	nodetest.Eventually(t, 10*time.Second, "the ledger confirms the report", func() bool {
		v, err := hq.Node.RecordBrief(ctx, id)
		return err == nil && v.Case != "" && len(v.History) == 1 && v.History[0].Status == node.StatusConfirmed
	})
	brief, err := hq.Node.RecordBrief(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(brief.History) != 1 || brief.History[0].Author != "Marisol Chan" || brief.History[0].Via != "cayo-07" || brief.History[0].Seq != 1 {
		t.Fatalf("the brief record's history: %+v; want only the report of Marisol Chan, via cayo-07", brief.History)
	}
	if brief.Fields["household_size"] != int64(34) || brief.Fields["village"] != "San José Succotz" || brief.Type != "damage-assessment" {
		t.Fatalf("the brief record's values: %+v", brief.Fields)
	}
	full, err := hq.Node.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.History) != 32 || !reflect.DeepEqual(full.History[0], brief.History[0]) || !reflect.DeepEqual(full.Fields, brief.Fields) || full.Case != brief.Case {
		t.Fatalf("the record in full: %d changes, the first %+v, case %q, values %+v;\nthe brief: the first %+v, case %q, values %+v",
			len(full.History), full.History[0], full.Case, full.Fields, brief.History[0], brief.Case, brief.Fields)
	}
	if _, err := hq.Node.RecordBrief(ctx, syncproto.NewRecordID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a record not here: %v", err)
	}
}

// forked has a stolen laptop sign two changes 1 of each of its streams of
// the national and Cayo scopes, at every priority: one for HQ by a session,
// with a change 2 after it, the other for a Cayo laptop by sticks. The two
// honest nodes hold those 18 streams forked, more than the origins a
// session leaves out. Each then writes a record of its own, of the same
// lane as one of the forks. It returns HQ, the laptop, their records and
// that stream.
func forked(t *testing.T) (hq, honest *nodetest.Member, fromHQ, fromLaptop syncproto.RecordID, fork syncproto.Stream) {
	t.Helper()
	c := nodetest.New(t)
	hq, _ = voters(t, c, 0, true)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	honest = laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	change := func(lane uint8, seq uint64, village string) syncproto.Change {
		v, _ := syncproto.Marshal(village)
		return syncproto.Change{Origin: thief.Node.Self().ID, Lane: lane, Seq: seq, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), uint16(seq)),
			Record: syncproto.NewRecordID(), Kit: "damage-assessment", Type: "damage-assessment", Version: 1,
			Fields: []syncproto.FieldChange{{Name: "village", Value: v}}}
	}
	runs := map[uint8][]syncproto.Run{} // by priority: a batch is of one
	for _, scope := range []uint8{syncproto.National, schemas.DistrictScope("Cayo")} {
		for p := uint8(syncproto.MinPriority); p <= syncproto.MaxPriority; p++ {
			lane := syncproto.MakeLane(p, scope)
			run := syncproto.Run{Stream: syncproto.Stream{Origin: thief.Node.Self().ID, Lane: lane}, First: 1}
			var head syncproto.Hash
			for seq := uint64(1); seq <= 2; seq++ {
				ch := change(lane, seq, "Succotz")
				body, err := ch.Encode()
				if err != nil {
					t.Fatal(err)
				}
				head = syncproto.ChainHash(head, body)
				run.Bodies = append(run.Bodies, body)
			}
			run.Sig = thief.Node.Key().SignHead(lane, 2, head)
			runs[p] = append(runs[p], run)
			other := change(lane, 1, "Benque")
			path := filepath.Join(t.TempDir(), "fork.bundle")
			if err := os.WriteFile(path, forgedBundle(t, thief, other.Stream(), 1, other), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := honest.Node.ImportBundle(ctx, path); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, rs := range runs {
		if _, err := node.SyncSending(thief.Node, ctx, hq.Addr, rs); err != nil {
			t.Fatal(err)
		}
	}
	fork = syncproto.Stream{Origin: thief.Node.Self().ID, Lane: syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))}
	return hq, honest, mustAdd(t, hq.Node, "damage-assessment", assessment), mustAdd(t, honest.Node, "damage-assessment", assessment), fork
}

// Two honest nodes hold a stolen laptop's streams forked (forked):
// whichever holds one further sends what the other cannot link to its
// chain. The laptop's streams are left out, not the session: what else
// each node wrote still passes, both ways, at every session, and the fork
// stays where it was.
func TestAForkedStreamStopsNoSession(t *testing.T) {
	hq, honest, fromHQ, fromLaptop, fork := forked(t)
	ctx := context.Background()
	for range 2 {
		if _, err := honest.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatalf("a session between two honest nodes: %v", err)
		}
	}
	if _, err := honest.Node.Record(ctx, fromHQ); err != nil {
		t.Fatalf("HQ's record at the laptop: %v", err)
	}
	if _, err := hq.Node.Record(ctx, fromLaptop); err != nil {
		t.Fatalf("the laptop's record at HQ: %v", err)
	}
	if v, _ := honest.Node.Vector(ctx); v[fork] != 1 {
		t.Fatalf("the laptop holds the thief's stream to %d, want its own fork's 1", v[fork])
	}
}

// The same by stick: HQ's bundle holds the forks the laptop cannot link.
// The stolen laptop's streams are left out, and the rest of the stick is
// taken.
func TestAForkedStreamStopsNoStick(t *testing.T) {
	hq, honest, fromHQ, _, fork := forked(t)
	ctx := context.Background()
	if _, err := honest.Node.ImportBundle(ctx, bundleFile(t, hq)); err != nil {
		t.Fatalf("HQ's stick at the laptop: %v", err)
	}
	if _, err := honest.Node.Record(ctx, fromHQ); err != nil {
		t.Fatalf("HQ's record at the laptop: %v", err)
	}
	if v, _ := honest.Node.Vector(ctx); v[fork] != 1 {
		t.Fatalf("the laptop holds the thief's stream to %d, want its own fork's 1", v[fork])
	}
}

// A stolen Cayo laptop sets the district of a Cayo damage assessment to
// Toledo, as a Cayo laptop may edit a Cayo record. The record stays
// Cayo's, as its scope says, whatever its district field: the honest Cayo
// responder's next edit still merges at HQ, and the Toledo laptop, which
// never holds the record, still may not edit it.
func TestADistrictFieldMovesNoRecordOutOfItsDistrict(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	damage := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := thief.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, thief.Node, damage, `{"district":"Toledo"}`)
	if _, err := thief.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if d, _ := hq.Node.Record(ctx, damage); d.Fields["district"] != "Toledo" {
		t.Fatalf("the thief's edit at HQ: district %v", d.Fields["district"])
	}
	// The responder, who has not seen it, corrects the damage level.
	mustUpdate(t, cayo.Node, damage, `{"damage_level":4}`)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if d, _ := hq.Node.Record(ctx, damage); d.Fields["damage_level"] != int64(4) {
		qs, _ := hq.Node.Quarantine(ctx, 0)
		t.Fatalf("the responder's edit at HQ: damage level %v; kept aside %+v", d.Fields["damage_level"], qs)
	}
	// A Toledo laptop handed the record still may not edit it.
	handWhole(t, hq, toledo)
	mustUpdate(t, toledo.Node, damage, `{"damage_level":0}`)
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if d, _ := hq.Node.Record(ctx, damage); d.Fields["damage_level"] != int64(4) {
		t.Fatalf("the Toledo laptop's edit at HQ: damage level %v", d.Fields["damage_level"])
	}
}

// A Toledo laptop may edit a Cayo missing person, a national record, but
// not delete it. Setting its district to Toledo, and then deleting it, is
// refused too: a node moves a national record out of a district only from
// within it. Its other edits still merge.
func TestANationalRecordIsNotMovedToBeDeleted(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	person := mustAdd(t, cayo.Node, "missing-person", `{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"San Ignacio market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, toledo.Node, person, `{"status":"found-safe","found_at_place":"Punta Gorda shelter"}`)
	mustUpdate(t, toledo.Node, person, `{"district":"Toledo"}`)
	if err := toledo.Node.Delete(ctx, person, "tol"); err != nil {
		t.Fatal(err)
	}
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	p, _ := hq.Node.Record(ctx, person)
	if p.Deleted || p.Fields["district"] != "Cayo" || p.Fields["status"] != "found-safe" {
		t.Fatalf("the missing person at HQ: deleted %v, district %v, status %v", p.Deleted, p.Fields["district"], p.Fields["status"])
	}
}

// A stolen Toledo laptop sets a Toledo family's registration's district
// field to Cayo. The family is still Toledo's: it travels in Toledo's
// scope, held by Toledo's nodes, the voting relays and HQ. HQ, which holds
// every district's key, then writes the family's phone: it is sealed for
// Toledo, and a relay of Cayo that votes, holding the family and Cayo's
// key, does not read it. Before, what HQ wrote after the edit was sealed
// for the district the field named: Cayo's voting relays read the
// family's phone, names and medical needs.
func TestADistrictFieldSealsNothingForAnotherDistrict(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	cayoRelay := relays[0]
	toledo := laptop(c, "tol-02", "Toledo", nil)
	thief := laptop(c, "tol-66", "Toledo", nil)
	ctx := context.Background()
	withDistrictKey(t, toledo, hq, "Toledo")
	withDistrictKey(t, cayoRelay, hq, "Cayo")
	family := mustAdd(t, toledo.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Cristóbal Tzib","members":2,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193"}`)
	for _, m := range []*nodetest.Member{toledo, thief} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	mustUpdate(t, thief.Node, family, `{"district":"Cayo"}`)
	if _, err := thief.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if f, _ := hq.Node.Record(ctx, family); f.Fields["district"] != "Cayo" {
		t.Fatalf("HQ holds the family's district as %v", f.Fields["district"])
	}
	mustUpdate(t, hq.Node, family, `{"phone":"+501 611 2222"}`)
	if f, _ := hq.Node.Record(ctx, family); f.Fields["phone"] != "+501 611 2222" {
		t.Fatalf("HQ reads the family's phone as %v", f.Fields["phone"])
	}
	if _, err := cayoRelay.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	f, err := cayoRelay.Node.Record(ctx, family)
	if err != nil {
		t.Fatalf("the Cayo relay, a voter, holds the family: %v", err)
	}
	if f.Fields["phone"] != (node.Withheld{}) {
		t.Fatalf("the Cayo relay reads the Toledo family's phone as %v; want it withheld", f.Fields["phone"])
	}
}

// A modified laptop edits a record naming, as the versions it replaces,
// changes an honest responder has not written yet: the next ones of the
// responder's stream. When the responder's edit comes, written an hour
// after the rogue's and so never seen by it, it stands, on the responder's
// laptop and at HQ, and the rogue's change is kept aside for good: before,
// the edit came "already replaced", and the field showed no value at all.
func TestAnEditNamingVersionsNotWrittenYetReplacesNone(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	rogue := laptop(c, "cayo-66", "Cayo", nil)
	honest := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	id := mustAdd(t, honest.Node, "damage-assessment", assessment)
	for _, m := range []*nodetest.Member{honest, rogue} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	victim := syncproto.Stream{Origin: honest.Node.Self().ID, Lane: syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))}
	v, err := honest.Node.Vector(ctx)
	if err != nil || v[victim] != 1 {
		t.Fatalf("the honest laptop's stream holds %d changes (%v), want its record's one", v[victim], err)
	}
	var bases []syncproto.Dot
	for seq := uint64(1); seq <= 9; seq++ {
		bases = append(bases, syncproto.Dot{Origin: victim.Origin, Lane: victim.Lane, Seq: seq})
	}
	then := time.Now().Add(-time.Hour).UnixMilli()
	run := rogueRun(t, rogue, 1, func(i int, c *syncproto.Change) {
		val, _ := syncproto.Marshal("Benque Viejo")
		c.HLC, c.Record, c.Kit, c.Type, c.Version = syncproto.MakeHLC(then, 0), id, "damage-assessment", "damage-assessment", 1
		c.Fields = []syncproto.FieldChange{{Name: "village", Value: val, Base: bases}}
	})
	if _, err := node.SyncSending(rogue.Node, ctx, hq.Addr, []syncproto.Run{run}); err != nil {
		t.Fatalf("the rogue's session: %v", err)
	}
	if _, err := honest.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, honest.Node, id, `{"village":"San Ignacio"}`)
	if r, err := honest.Node.Record(ctx, id); err != nil || r.Fields["village"] != "San Ignacio" || len(r.Conflicts) != 0 {
		t.Fatalf("the responder's own copy after the edit: village %v, conflicts %v (%v)", r.Fields["village"], r.Conflicts, err)
	}
	for range 2 {
		if _, err := honest.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := hq.Node.Record(ctx, id); err != nil || r.Fields["village"] != "San Ignacio" || len(r.Conflicts) != 0 {
		t.Fatalf("HQ's copy: village %v, conflicts %v (%v)", r.Fields["village"], r.Conflicts, err)
	}
	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil || len(qs) != 1 || qs[0].Origin != "cayo-66" || !qs[0].Final {
		t.Fatalf("HQ keeps aside %+v (%v), want the rogue's change, for good", qs, err)
	}
}

// HQ moves a missing person reported in Cayo to Toledo, and a Toledo
// laptop that saw the move deletes the report, as a node of its district
// may. A node that takes the deletion before the move, by a stick that
// carries the laptop's changes alone, deletes it too once the move comes:
// before, it kept the deletion aside for good, and showed the report
// every other node had deleted, for ever.
func TestADeletionThatOvertakesTheMoveThatAllowsItMergesWhenTheMoveComes(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	toledo := laptop(c, "tol-02", "Toledo", nil)
	late := laptop(c, "cayo-09", "Cayo", nil)
	ctx := context.Background()
	person := mustAdd(t, cayo.Node, "missing-person", `{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"San Ignacio market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`)
	for _, m := range []*nodetest.Member{cayo, toledo, late} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	mustUpdate(t, hq.Node, person, `{"district":"Toledo"}`)
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if err := toledo.Node.Delete(ctx, person, "tol"); err != nil {
		t.Fatal(err)
	}
	// The Toledo laptop's changes alone, without HQ's move.
	have, err := hq.Node.Vector(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for st := range have {
		if st.Origin == toledo.Node.Self().ID {
			delete(have, st)
		}
	}
	handBeyond(t, toledo, late, have)
	for _, m := range []*nodetest.Member{toledo, late} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*nodetest.Member{hq, late} {
		p, err := m.Node.Record(ctx, person)
		if err != nil || !p.Deleted || p.Fields["district"] != "Toledo" {
			t.Fatalf("the report on %s: deleted %v, district %v (%v); want it deleted in Toledo, as everywhere", m.Name, p.Deleted, p.Fields["district"], err)
		}
		if n, err := m.Node.QuarantineCount(ctx); err != nil || n != 0 {
			t.Fatalf("%s keeps %d changes aside (%v)", m.Name, n, err)
		}
	}
}

// HQ moves a Toledo family's registration to Cayo in the same edit as it
// writes the family's phone. The family is still Toledo's: its records
// travel in Toledo's scope whatever the district field says. The phone is
// sealed for Toledo, whose laptop reads it, and a relay of Cayo that votes,
// holding the family and Cayo's key, does not. Before, the values of an
// update were sealed for the district the update itself named: Cayo's
// voting relays read the phone, and Toledo's nodes did not.
func TestAnUpdateNamingAnotherDistrictSealsForTheRecordsOwn(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	cayoRelay := relays[0]
	toledo := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()
	withDistrictKey(t, toledo, hq, "Toledo")
	withDistrictKey(t, cayoRelay, hq, "Cayo")
	family := mustAdd(t, toledo.Node, "shelter-registration", `{"shelter_name":"Punta Gorda Town Hall","district":"Toledo","family_head_name":"Cristóbal Tzib","members":2,
		"home_village":"San Antonio","home_district":"Toledo","arrived_at":"2026-11-21T18:40:00-06:00","registered_by":"vol-193"}`)
	if _, err := toledo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, hq.Node, family, `{"district":"Cayo","phone":"+501 611 2222"}`)
	for _, m := range []*nodetest.Member{cayoRelay, toledo} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	f, err := cayoRelay.Node.Record(ctx, family)
	if err != nil {
		t.Fatalf("the Cayo relay, a voter, holds the family: %v", err)
	}
	if f.Fields["phone"] != (node.Withheld{}) {
		t.Fatalf("the Cayo relay reads the Toledo family's phone as %v; want it withheld", f.Fields["phone"])
	}
	if f, _ := toledo.Node.Record(ctx, family); f.Fields["phone"] != "+501 611 2222" {
		t.Fatalf("the Toledo laptop reads its family's phone as %v", f.Fields["phone"])
	}
}
