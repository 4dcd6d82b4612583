package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/peersync"
	"lifeline/syncproto"
)

// canaries are personal data no one would write by chance, saved in
// missing-person records: a lost stick must show none of them.
var canaries = []struct{ field, value string }{
	{"full_name", "Xochitl Canarybird-Quetzalmen"},
	{"reporter_phone", "+501 622 9917 4403"},
	{"medical_conditions", "insulin twice daily; pacemaker serial ZQ-88317-CANARY"},
	{"case_notes", "last seen near the Canarywharf footbridge with her grandson Ixchel"},
}

// canaryRecord is a missing person in Toledo carrying the canaries, with
// i in each so that every record differs.
func canaryRecord(i int) (string, map[string]string) {
	want := map[string]string{}
	fields := `{"district":"Toledo","last_seen_place":"Punta Gorda market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"`
	for _, c := range canaries {
		want[c.field] = fmt.Sprintf("%s #%d", c.value, i)
		fields += fmt.Sprintf(",%q:%q", c.field, want[c.field])
	}
	return fields + "}", want
}

// exportFor writes a member's whole bundle, encrypted for the nodes names
// stand for, to a file.
func exportFor(t *testing.T, from *nodetest.Member, names ...string) string {
	t.Helper()
	ctx := context.Background()
	to, err := from.Node.Recipients(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stick.bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := from.Node.ExportBundleFor(ctx, f, nil, to)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != res.Bytes {
		t.Fatalf("the export says %d bytes, the file holds %v (%v)", res.Bytes, fi.Size(), err)
	}
	return path
}

// plainBodies decrypts a bundle file with a key and returns its plain
// bytes and every change body its batches carry, decompressed.
func plainBodies(t *testing.T, file []byte, k *identity.Key) (plain []byte, bodies [][]byte) {
	t.Helper()
	r, err := k.Decrypting(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err = io.ReadAll(r); err != nil {
		t.Fatal(err)
	}
	rest, ok := bytes.CutPrefix(plain, []byte(peersync.BundleMagic))
	if !ok {
		t.Fatal("the decrypted file is no bundle")
	}
	fr := syncproto.NewFrameReader(bytes.NewReader(rest))
	for {
		typ, body, err := fr.Read()
		if errors.Is(err, io.EOF) {
			return plain, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		if typ != syncproto.MsgBatch {
			continue
		}
		msg, err := syncproto.Decode(typ, body)
		if err != nil {
			t.Fatal(err)
		}
		b := msg.(*syncproto.Batch)
		if b.Codec != syncproto.CodecZstd {
			t.Fatalf("batch %d is not zstd-compressed: the search below would not show that compressed forms are hidden", b.Seq)
		}
		runs, err := b.Runs()
		if err != nil {
			t.Fatal(err)
		}
		for _, run := range runs {
			bodies = append(bodies, run.Bodies...)
		}
	}
}

// A laptop's missing persons, taken to headquarters on a stick: the file
// shows none of their names, phones or notes, in the clear or as the
// compressed batches carry them, though they are all inside for HQ, which
// reads every one exactly. A Toledo relay, not named, cannot open it and
// applies nothing; a stick cut or altered anywhere is refused whole.
func TestStickRevealsNothing(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	relay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	c.AddToLedger(relay, false)
	tol := laptop(c, "tol-02", "Toledo", nil)
	ctx := context.Background()

	// A laptop that never met headquarters knows no key to encrypt for.
	if _, err := tol.Node.Recipients(ctx, []string{node.RecipientHQ}); !errors.Is(err, node.ErrNoRecipient) {
		t.Fatalf("a laptop that knows no HQ node: %v", err)
	}
	// Once it met HQ, it does.
	mustAdd(t, hq.Node, "missing-person", missingInToledo)
	meetHQ(t, hq, tol) // and it holds Toledo's data key
	to, err := tol.Node.Recipients(ctx, []string{node.RecipientHQ})
	if err != nil || len(to) != 1 || to[0].Node != hq.Node.Self().ID {
		t.Fatalf("the laptop's HQ: %+v, %v", to, err)
	}

	ids := map[syncproto.RecordID]map[string]string{}
	for i := range 40 {
		rec, want := canaryRecord(i)
		ids[mustAdd(t, tol.Node, "missing-person", rec)] = want
	}
	path := exportFor(t, tol, node.RecipientHQ)
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Inside, for HQ's key: the changes, whose personal fields are sealed
	// for Toledo's readers in turn (TestPersonalFieldsReadOnlyByThoseWhoNeedThem);
	// HQ reads them all below.
	plain, bodies := plainBodies(t, file, hq.Node.Key())
	if len(bodies) < len(ids) {
		t.Fatalf("the positive control fails: %d changes decrypted, %d written", len(bodies), len(ids))
	}
	// On the stick: no canary, and no stretch of the plain bundle (its
	// frames, and the compressed batches that carry the canaries).
	for _, cn := range canaries {
		for _, form := range []string{cn.value, strings.ToLower(cn.value), cn.value[:12], cn.value[len(cn.value)-12:]} {
			if bytes.Contains(file, []byte(form)) {
				t.Fatalf("%q is on the stick in the clear", form)
			}
		}
	}
	// The grants of data keys the bundle's hello carries are age files
	// themselves, whose headers read as the stick's does.
	grants, err := node.GrantNotices(tol.Node, ctx)
	if err != nil {
		t.Fatal(err)
	}
	inGrant := func(b []byte) bool {
		return slices.ContainsFunc(grants, func(g []byte) bool { return bytes.Contains(g, b) })
	}
	const window = 16
	for i := 0; i+window <= len(plain); i += window {
		if bytes.Contains(file, plain[i:i+window]) && !inGrant(plain[i:i+window]) {
			t.Fatalf("bytes %d-%d of the plain bundle are on the stick: %q", i, i+window, plain[i:i+window])
		}
	}

	// The relay, not named, cannot open it: refused, nothing applied, and
	// the refusal says whom it was for.
	_, err = relay.Node.ImportBundle(ctx, path)
	if !errors.Is(err, node.ErrNotForThisNode) || !errors.Is(err, peersync.ErrBundle) {
		t.Fatalf("the relay's import: %v", err)
	}
	for _, want := range []string{"it is for hq (hq, Cayo) and 1 other node this one does not know", "this node is relay-toledo"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("the relay's refusal %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "at byte") {
		t.Fatalf("the relay's refusal %q names a byte of a bundle it never read", err)
	}
	for id := range ids {
		if holds(relay, id) {
			t.Fatal("the relay holds a record of a stick not for it")
		}
	}

	// Cut or altered anywhere: refused whole, at HQ which it is for.
	damaged := map[string][]byte{
		"cut in the header":     file[:60],
		"cut in half":           file[:len(file)/2],
		"cut by 40 bytes":       file[:len(file)-40],
		"a header byte flipped": flipped(file, 30),
		"a middle byte flipped": flipped(file, len(file)/2),
		"the last byte flipped": flipped(file, len(file)-1),
		"a byte added":          append(slices.Clone(file), 0),
	}
	for name, data := range damaged {
		bad := filepath.Join(t.TempDir(), "bad.bundle")
		if err := os.WriteFile(bad, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := hq.Node.ImportBundle(ctx, bad); !errors.Is(err, peersync.ErrBundle) || !strings.Contains(err.Error(), "nothing applied") {
			t.Fatalf("%s: %v", name, err)
		}
		for id := range ids {
			if holds(hq, id) {
				t.Fatalf("%s: HQ holds a record of a damaged stick", name)
			}
		}
	}

	// HQ reads every value exactly.
	res, err := hq.Node.ImportBundle(ctx, path)
	if err != nil || !res.Encrypted || res.Applied != len(ids) || res.From.Node != tol.Node.Self().ID {
		t.Fatalf("HQ's import: %+v, %v", res, err)
	}
	for id, want := range ids {
		r, err := hq.Node.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for field, value := range want {
			if r.Fields[field] != value {
				t.Fatalf("HQ reads %s of %s as %q, want %q", field, id, r.Fields[field], value)
			}
		}
	}
	// The writer reads what it wrote.
	if _, bodies := plainBodies(t, file, tol.Node.Key()); len(bodies) == 0 {
		t.Fatal("the writer cannot read its own stick")
	}
}

func flipped(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x10
	return c
}

// Recipients finds a district's relays and nodes by name or id, leaves
// out revoked nodes, and refuses names it cannot find.
func TestRecipients(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	relay := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	c.AddToLedger(relay, false)
	ctx := context.Background()
	nodetest.Eventually(t, 30*time.Second, "HQ knows the relay", func() bool {
		_, err := hq.Node.Recipients(ctx, []string{"relay:toledo"})
		return err == nil
	})
	for _, names := range [][]string{{"relay:toledo"}, {"relay-toledo"}, {relay.Node.Self().ID.String()}, {"relay-toledo", "relay:Toledo", "hq"}} {
		to, err := hq.Node.Recipients(ctx, names)
		if err != nil || len(to) != 1 || to[0].Node != relay.Node.Self().ID || to[0].Role != syncproto.RoleRelay {
			t.Fatalf("%v: %+v, %v", names, to, err)
		}
	}
	for _, names := range [][]string{{"relay:Cayo"}, {"relay:Gotham"}, {"nobody"}} {
		if _, err := hq.Node.Recipients(ctx, names); !errors.Is(err, node.ErrNoRecipient) {
			t.Fatalf("%v: %v, want ErrNoRecipient", names, err)
		}
	}
	if err := hq.Node.Revoke(ctx, relay.Node.Self().ID, "laptop bag stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the revoked relay is no recipient", func() bool {
		_, err := hq.Node.Recipients(ctx, []string{"relay-toledo"})
		return errors.Is(err, node.ErrNoRecipient)
	})
}
