package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/peersync"
	"lifeline/node/photos"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// stickOf is a plain bundle a member writes and seals by hand: its hello,
// then the frames given, then done and the seal over them all.
func stickOf(t *testing.T, writer *nodetest.Member, frames ...any) string {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(peersync.BundleMagic)
	hello := syncproto.NewHello(writer.Node.Self().ID, syncproto.Vector{})
	write := func(typ syncproto.MsgType, msg any) {
		if _, err := syncproto.WriteFrame(&buf, typ, msg); err != nil {
			t.Fatal(err)
		}
	}
	write(syncproto.MsgHello, &hello)
	for _, f := range frames {
		switch m := f.(type) {
		case *syncproto.Certs:
			write(syncproto.MsgCerts, m)
		case *syncproto.Receipts:
			write(syncproto.MsgReceipts, m)
		default:
			t.Fatalf("a frame of %T", f)
		}
	}
	write(syncproto.MsgDone, &syncproto.Done{Vector: hello.Vector})
	sum := sha256.Sum256(buf.Bytes())
	write(syncproto.MsgSeal, &syncproto.Seal{Hash: sum, Node: hello.Node, Sig: ed25519.Sign(writer.Node.Key().Signer(), syncproto.SealMessage(sum))})
	path := filepath.Join(t.TempDir(), "stick.bundle")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A bundle is written with one frame of certificates and at most one of
// receipts. One that repeats them (a thief's stick can hold 4 GiB of its
// own certificate, each copy checked against the CA and the store, and
// all kept in memory until the seal is read) is refused as it is read,
// nothing of it applied, and a bundle of one of each is taken.
func TestAStickThatRepeatsItsCertificatesIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	cert := thief.Node.Credentials().Cert.Raw
	certs := func() *syncproto.Certs { return &syncproto.Certs{Certs: [][]byte{cert, cert}} }
	receipts := func() *syncproto.Receipts { return &syncproto.Receipts{} }
	if _, err := relay.Node.ImportBundle(ctx, stickOf(t, thief, certs(), receipts())); err != nil {
		t.Fatalf("a bundle of one frame of certificates and one of receipts: %v", err)
	}
	for _, f := range []struct {
		what   string
		frames []any
		says   string
	}{
		{"certificates twice", []any{certs(), certs()}, "certificates"},
		{"receipts twice", []any{certs(), receipts(), receipts()}, "receipts"},
	} {
		_, err := relay.Node.ImportBundle(ctx, stickOf(t, thief, f.frames...))
		if err == nil || !strings.Contains(err.Error(), "second") || !strings.Contains(err.Error(), f.says) {
			t.Errorf("a bundle of %s: %v; want it refused, saying so", f.what, err)
		}
	}
}

// onStick is what a bundle file tells the reader whose key opens it: the
// records it carries changes of, and the scopes its hello's vector names.
func onStick(t *testing.T, path string, reader *nodetest.Member) (records map[syncproto.RecordID]bool, scopes map[uint8]bool) {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, bodies := plainBodies(t, file, reader.Node.Key())
	records = map[syncproto.RecordID]bool{}
	for _, b := range bodies {
		c, err := syncproto.DecodeChange(b)
		if err != nil {
			t.Fatal(err)
		}
		records[c.Record] = true
	}
	typ, body, err := syncproto.NewFrameReader(bytes.NewReader(plain[len(peersync.BundleMagic):])).Read()
	if err != nil || typ != syncproto.MsgHello {
		t.Fatalf("the stick opens with a %s (%v), not a hello", typ, err)
	}
	msg, err := syncproto.Decode(typ, body)
	if err != nil {
		t.Fatal(err)
	}
	scopes = map[uint8]bool{}
	for st := range msg.(*syncproto.Hello).Vector {
		scopes[syncproto.LaneScope(st.Lane)] = true
	}
	return records, scopes
}

// A stick headquarters writes for a Toledo laptop, or for Toledo's relays,
// carries what they keep: the national records and Toledo's, and none of
// Cayo's damage assessments, which their keys would open as well as the
// rest, for a thief holding the laptop or the relay to read; its vector
// does not even count Cayo's changes. Written for a relay that votes,
// which keeps every district's records, it carries Cayo's too.
func TestAStickCarriesOnlyWhatItsReadersKeep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	hq, voting := voters(t, c, 1, true)
	relayTol := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	tol := laptop(c, "tol-02", "Toledo", nil)
	cayoIDs := addIn(t, cayo, "Cayo", 3)
	tolIDs := addIn(t, tol, "Toledo", 2)
	person := mustAdd(t, cayo.Node, "missing-person", missingInToledo)
	for _, m := range []*nodetest.Member{cayo, tol, relayTol} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	// HQ leads: it applied the relay's vote before the relay did.
	nodetest.Eventually(t, 10*time.Second, "the relay knows it votes", func() bool { return voting[0].Node.Scopes() == nil })
	keeps := append(tolIDs, person)
	for _, f := range []struct {
		to     string
		reader *nodetest.Member
		cayo   bool
	}{
		{"tol-02", tol, false},
		{"relay:Toledo", relayTol, false},
		{"relay-1", voting[0], true},
	} {
		records, scopes := onStick(t, exportFor(t, hq, f.to), f.reader)
		for _, id := range keeps {
			if !records[id] {
				t.Errorf("HQ's stick for %s lacks %s, which its reader keeps", f.to, id)
			}
		}
		for _, id := range cayoIDs {
			if records[id] != f.cayo {
				t.Errorf("HQ's stick for %s carries Cayo's record %s: %v, want %v", f.to, id, records[id], f.cayo)
			}
		}
		if cayoScope := schemas.DistrictScope("Cayo"); scopes[cayoScope] != f.cayo {
			t.Errorf("HQ's stick for %s names streams of Cayo in its vector: %v, want %v", f.to, scopes[cayoScope], f.cayo)
		}
	}
}

// A stick headquarters writes with thumbnails for a Toledo laptop carries
// the photos of the records the laptop reads: a person reported missing
// in Toledo, not one reported in Cayo, whose photos field is sealed for
// Cayo's key, nor a Cayo house, whose record the laptop does not keep. A
// session would hand it neither. Before, the stick carried every
// thumbnail headquarters held, and the laptop kept them all.
func TestAStickCarriesOnlyThePhotosItsReadersRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	tol := laptop(c, "tol-02", "Toledo", nil)
	reader := laptop(c, "tol-05", "Toledo", nil)
	meetHQ(t, hq, cayo, tol, reader)

	person := func(district string, p node.Photo) string {
		return `{"full_name":"Ana Pop","district":"` + district + `","last_seen_place":"the market","status":"missing","reporter_name":"Luis Coc","reported_at":"2026-11-20T09:00:00-06:00","photos":["` + p.Hash + `"]}`
	}
	cayoFace := addNoisePhoto(t, cayo.Node, 320, 240, 1)
	mustAdd(t, cayo.Node, "missing-person", person("Cayo", cayoFace))
	cayoHouse := addNoisePhoto(t, cayo.Node, 320, 240, 2)
	mustAdd(t, cayo.Node, "damage-assessment", `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":["`+cayoHouse.Hash+`"]}`)
	tolFace := addNoisePhoto(t, tol.Node, 320, 240, 3)
	mustAdd(t, tol.Node, "missing-person", person("Toledo", tolFace))
	syncOK(t, cayo, hq)
	syncOK(t, tol, hq)
	for _, p := range []node.Photo{cayoFace, cayoHouse, tolFace} {
		if thumb, _ := photoKinds(t, hq.Node, p); !thumb {
			t.Fatalf("HQ lacks the thumbnail of %.8s", p.Hash)
		}
	}

	to, err := hq.Node.Recipients(ctx, []string{"tol-05"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stick.bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := hq.Node.ExportBundleWithPhotos(ctx, f, nil, to, photos.Thumbs); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := reader.Node.ImportBundle(ctx, path); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		what string
		p    node.Photo
		held bool
	}{
		{"the Toledo person's", tolFace, true},
		{"the Cayo person's", cayoFace, false},
		{"the Cayo house's", cayoHouse, false},
	} {
		if thumb, _ := photoKinds(t, reader.Node, want.p); thumb != want.held {
			t.Errorf("the Toledo laptop holds %s thumbnail from HQ's stick: %v, want %v", want.what, thumb, want.held)
		}
	}
}

// A snapshot holds every record of its district, and each reader's key
// opens all of it: one of Toledo written for a Cayo laptop too (two new
// laptops set up at once, a --to typed wrong) is refused, saying so,
// and nothing is written. Written for the Toledo laptop and Toledo's
// relay, it is.
func TestASnapshotIsWrittenForItsDistrictsReadersAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	relayTol := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	tol := laptop(c, "tol-09", "Toledo", nil)
	cayo := laptop(c, "cayo-03", "Cayo", nil)
	for _, m := range []*nodetest.Member{tol, cayo, relayTol} {
		syncOK(t, m, hq)
	}
	toledo := identity.Claims{Role: syncproto.RoleField, District: "Toledo"}
	for _, f := range []struct {
		to      []string
		refused bool
	}{
		{[]string{"tol-09", "cayo-03"}, true},
		{[]string{"cayo-03"}, true},
		{[]string{"tol-09", "relay:Toledo"}, false},
	} {
		to, err := hq.Node.Recipients(ctx, f.to)
		if err != nil {
			t.Fatal(err)
		}
		var file bytes.Buffer
		_, err = hq.Node.ExportSnapshotFor(ctx, &file, toledo, to)
		switch {
		case f.refused && (!errors.Is(err, node.ErrNoRecipient) || !strings.Contains(err.Error(), "cayo-03") || file.Len() > 0):
			t.Errorf("a snapshot of Toledo for %v: %v, %d bytes written; want it refused, naming cayo-03, and nothing written", f.to, err, file.Len())
		case !f.refused && err != nil:
			t.Errorf("a snapshot of Toledo for %v: %v", f.to, err)
		}
	}
}
