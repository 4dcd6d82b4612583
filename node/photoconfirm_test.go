package node_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// photoRecord is a Cayo damage assessment naming photos.
func photoRecord(ps ...node.Photo) string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = fmt.Sprintf("%q", p.Hash)
	}
	return `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[` + strings.Join(ids, ",") + `]}`
}

// confirmed says which of ps a node's photo store holds confirmed.
func confirmed(t *testing.T, n *node.Node, ps ...node.Photo) []bool {
	t.Helper()
	s, err := n.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]bool, len(ps))
	for i, p := range ps {
		info, err := s.Info(p.Hash)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = info.Confirmed
	}
	return out
}

func waiting(t *testing.T, n *node.Node) int {
	t.Helper()
	w, _, err := n.PhotosWaiting()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// refusedBy runs a session the lying peer opens with a node that logs to
// log, and returns the line the node logged as it refused the session:
// the liar may have finished its side before the refusal reaches it. A
// session the node completes fails the test. Only the liar's sessions are
// read: the node may log the end of an earlier session of another peer
// after that peer's side returned, and a session of the liar's own that
// ended well just before may be logged after this one began, so a
// completed session seen is only the liar's answer once no refusal follows.
func refusedBy(t *testing.T, log *syncBuffer, peer *node.Node, session func()) string {
	t.Helper()
	const failed, synced = `msg="sync session failed"`, "msg=synced"
	id := peer.Self().ID.String()
	ended := func() []string {
		var out []string
		for _, l := range strings.Split(log.String(), "\n") {
			if (strings.Contains(l, failed) || strings.Contains(l, synced)) && strings.Contains(l, id) {
				out = append(out, l)
			}
		}
		return out
	}
	before := len(ended())
	session()
	deadline := time.Now().Add(10 * time.Second * nodetest.Patience)
	for time.Now().Before(deadline) {
		for _, l := range ended()[before:] {
			if strings.Contains(l, failed) {
				return l
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if now := ended(); len(now) > before {
		t.Fatalf("the node completed the session: %s", now[len(now)-1])
	}
	t.Fatal("the node did not end the session")
	return ""
}

func hashOf(t *testing.T, p node.Photo) syncproto.Hash {
	t.Helper()
	b, err := hex.DecodeString(p.Hash)
	if err != nil || len(b) != 32 {
		t.Fatalf("photo id %q", p.Hash)
	}
	return syncproto.Hash(b)
}

// A laptop that syncs only with its district's relay learns that
// headquarters holds its full images: headquarters signs its word for the
// relay, which passes it on. The laptop then counts them no longer as
// waiting, and its budget may drop them, which it could not before.
func TestHQWordReachesALaptopThroughItsRelay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) { cfg.Bootstrap = true })
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	lap := laptop(c, "cayo-07", "Cayo", nil)
	ps := []node.Photo{addNoisePhoto(t, lap.Node, 1200, 900, 21), addNoisePhoto(t, lap.Node, 1200, 900, 22)}
	if ps[0].Bytes+ps[1].Bytes <= 1<<20 {
		t.Fatalf("the photos are %d bytes; want over the 1 MiB budget the test sets", ps[0].Bytes+ps[1].Bytes)
	}
	if _, err := lap.Node.Add(ctx, "damage-assessment", []byte(photoRecord(ps...)), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	s, err := lap.Node.PhotoStore()
	if err != nil {
		t.Fatal(err)
	}

	if _, err := lap.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if w := waiting(t, lap.Node); w != 2 {
		t.Fatalf("after the relay took them, %d full images wait to reach headquarters; want 2", w)
	}
	// Over the budget, the laptop drops nothing: no one has said
	// headquarters holds them.
	if err := s.SetBudget(1); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if _, full := photoKinds(t, lap.Node, p); !full {
			t.Fatal("the budget dropped a full image headquarters has not confirmed")
		}
	}

	res, err := relay.Node.Sync(ctx, hq.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.PhotosConfirmed != 2 {
		t.Fatalf("the relay took headquarters' word on %d full images; want 2", res.PhotosConfirmed)
	}
	for _, p := range ps {
		if _, full := photoKinds(t, hq.Node, p); !full {
			t.Fatalf("headquarters lacks the full image of %.8s", p.Hash)
		}
	}

	res, err = lap.Node.Sync(ctx, relay.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.PhotosConfirmed != 2 {
		t.Fatalf("the laptop took headquarters' word on %d full images from the relay; want 2", res.PhotosConfirmed)
	}
	if got := confirmed(t, lap.Node, ps...); !got[0] || !got[1] {
		t.Fatalf("confirmed on the laptop: %v; want both", got)
	}
	if w := waiting(t, lap.Node); w != 0 {
		t.Fatalf("%d full images still wait to reach headquarters", w)
	}
	st, err := lap.Node.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Peers {
		if p.Node == hq.Node.Self().ID.String() || p.Role.Decides() {
			t.Fatalf("the laptop met headquarters: %+v", p)
		}
	}
	// Confirmed, the oldest full image is dropped for the budget; every
	// thumbnail stays.
	dropped := 0
	for _, p := range ps {
		thumb, full := photoKinds(t, lap.Node, p)
		if !thumb {
			t.Fatal("the budget dropped a thumbnail")
		}
		if !full {
			dropped++
		}
	}
	if dropped == 0 {
		t.Fatal("the budget dropped no confirmed full image")
	}
	// A laptop that asks again, the relay answers with nothing new.
	if res, err := lap.Node.Sync(ctx, relay.Addr); err != nil || res.PhotosConfirmed != 0 {
		t.Fatalf("a session after: %d confirmed, %v", res.PhotosConfirmed, err)
	}
}

// A relay that forges headquarters' word that it holds a laptop's full
// image (signed by itself, by a field laptop, by an HQ node of another
// deployment or one headquarters revoked, an HQ signature altered or over
// another photo) is refused: nothing is confirmed, not even a genuine word
// sent beside the forgery, the error says what and of which photo, and
// the laptop goes on serving: the honest session after confirms both.
func TestForgedHQWordConfirmsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	lostHQ := c.Add("hq-2", syncproto.RoleHQ, "Belize", nil)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	other := laptop(c, "cayo-66", "Cayo", nil)
	log := &syncBuffer{}
	// The victim serves: the liar dials it.
	victim := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.Log = slog.New(slog.NewTextHandler(log, nil)) })
	ps := []node.Photo{addNoisePhoto(t, victim.Node, 400, 300, 31), addNoisePhoto(t, victim.Node, 400, 300, 32)}
	if _, err := victim.Node.Add(ctx, "damage-assessment", []byte(photoRecord(ps...)), "Ana Cho"); err != nil {
		t.Fatal(err)
	}
	if _, err := victim.Node.Sync(ctx, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if err := hq.Node.Revoke(ctx, lostHQ.Node.Self().ID, "key lost"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ signs the revocation as it applies it", func() bool {
		return len(noticesOf(t, hq.Node)) == 1
	})
	// The relay holds HQ's genuine word on both, and knows of the
	// revocation, which its hello passes on to the victim.
	if res, err := relay.Node.Sync(ctx, hq.Addr); err != nil || res.PhotosConfirmed != 2 {
		t.Fatalf("the relay took HQ's word on %d full images: %v", res.PhotosConfirmed, err)
	}
	outsider := nodetest.Credentials(t, must(identity.NewCA("Another CA")), "hq", syncproto.RoleHQ)

	p1, p2 := hashOf(t, ps[0]), hashOf(t, ps[1])
	word := func(key ed25519.PrivateKey, id syncproto.Hash) []byte {
		return ed25519.Sign(key, syncproto.PhotoHeldMessage(id))
	}
	hqKey, hqCert := hq.Node.Key().Signer(), hq.Node.Credentials().Cert.Raw
	genuine := syncproto.PhotoHeld{ID: p2, Sig: word(hqKey, p2)}
	// Each forgery is of the first photo, after HQ's genuine word on the
	// second, signed by the same certificate or by its own (signer 1).
	forged := []struct {
		what  string
		cert  []byte
		sig   []byte
		says  string
		alone bool // its own certificate
	}{
		{"signed by the relay itself", relay.Node.Credentials().Cert.Raw, word(relay.Node.Key().Signer(), p1), "relay-cayo", true},
		{"signed by a field laptop", other.Node.Credentials().Cert.Raw, word(other.Node.Key().Signer(), p1), "cayo-66", true},
		{"signed by an HQ node of another deployment", outsider.Cert.Raw, word(outsider.Key.Signer(), p1), "certificate does not check", true},
		{"signed by an HQ node headquarters revoked", lostHQ.Node.Credentials().Cert.Raw, word(lostHQ.Node.Key().Signer(), p1), "which headquarters revoked", true},
		{"HQ's signature altered", hqCert, func() []byte { s := word(hqKey, p1); s[10] ^= 1; return s }(), "signature is not the word of hq", false},
		{"HQ's signature over another photo", hqCert, word(hqKey, p2), "signature is not the word of hq", false},
	}
	for _, f := range forged {
		msg := refusedBy(t, log, relay.Node, func() {
			node.SyncForgingConfirmations(relay.Node, ctx, victim.Addr, func(asked []syncproto.Hash) ([][]byte, []syncproto.PhotoHeld) {
				if len(asked) != 2 {
					t.Errorf("%s: the victim asked about %d full images, want 2", f.what, len(asked))
				}
				bad := syncproto.PhotoHeld{ID: p1, Sig: f.sig}
				if f.alone {
					bad.Signer = 1
					return [][]byte{hqCert, f.cert}, []syncproto.PhotoHeld{genuine, bad}
				}
				return [][]byte{hqCert}, []syncproto.PhotoHeld{genuine, bad}
			})
		})
		if !strings.Contains(msg, f.says) || !strings.Contains(msg, fmt.Sprintf("photo %x", p1[:8])) || !strings.Contains(msg, "nothing confirmed") || !strings.Contains(msg, "name=relay-cayo") {
			t.Fatalf("%s: the victim logged %q; want it to say %q of photo %x, and the peer", f.what, msg, f.says, p1[:8])
		}
		t.Logf("%s: %s", f.what, msg)
		if got := confirmed(t, victim.Node, ps...); got[0] || got[1] {
			t.Fatalf("%s: confirmed on the victim: %v", f.what, got)
		}
		if w := waiting(t, victim.Node); w != 2 {
			t.Fatalf("%s: %d full images wait on the victim; want 2", f.what, w)
		}
	}
	if !revoked(t, victim.Node, lostHQ.Node.Self().ID) {
		t.Fatal("the victim did not learn the revocation the relay passed on")
	}
	// The victim still serves, and takes HQ's genuine word: once the
	// session ends on its side (the relay's may end first).
	if _, err := relay.Node.Sync(ctx, victim.Addr); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the victim takes HQ's word on both", func() bool {
		got := confirmed(t, victim.Node, ps...)
		return got[0] && got[1]
	})
	if w := waiting(t, victim.Node); w != 0 {
		t.Fatalf("%d full images still wait on the victim", w)
	}
}

// A confirmation of a photo the laptop did not ask about is refused.
func TestUnaskedHQWordRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) { cfg.Bootstrap = true })
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	log := &syncBuffer{}
	victim := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.Log = slog.New(slog.NewTextHandler(log, nil)) })
	p := addNoisePhoto(t, victim.Node, 300, 200, 41)
	id := syncproto.Hash{0xee, 1}
	msg := refusedBy(t, log, relay.Node, func() {
		node.SyncForgingConfirmations(relay.Node, ctx, victim.Addr, func(asked []syncproto.Hash) ([][]byte, []syncproto.PhotoHeld) {
			return [][]byte{hq.Node.Credentials().Cert.Raw}, []syncproto.PhotoHeld{{ID: id, Sig: ed25519.Sign(hq.Node.Key().Signer(), syncproto.PhotoHeldMessage(id))}}
		})
	})
	if !strings.Contains(msg, "did not ask about") {
		t.Fatalf("a confirmation not asked about: %s", msg)
	}
	if got := confirmed(t, victim.Node, p); got[0] {
		t.Fatal("a photo no one confirmed is confirmed")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
