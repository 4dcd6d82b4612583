package personal

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

func nodeKey(t *testing.T) *identity.Key {
	t.Helper()
	k, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGrantOpensForItsReadersOnly(t *testing.T) {
	relay, laptop, other := nodeKey(t), nodeKey(t), nodeKey(t)
	keys := []DataKey{testKey("Cayo", 2, 2), testKey("Cayo", 1, 1)}
	readers := map[syncproto.NodeID]ed25519.PublicKey{relay.ID(): relay.Public(), laptop.ID(): laptop.Public()}
	g, err := NewGrant(keys, readers, time.UnixMilli(1_700_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if g.District != "Cayo" || g.Epoch != 2 || len(g.Readers) != 2 || !g.For(laptop.ID()) || g.For(other.ID()) {
		t.Fatalf("grant %q epoch %d for %d readers", g.District, g.Epoch, len(g.Readers))
	}
	for _, k := range []*identity.Key{relay, laptop} {
		got, err := g.Open(k)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Epoch != 1 || got[1].Epoch != 2 || got[1].ID() != keys[0].ID() {
			t.Fatalf("opened %v", got)
		}
	}
	if _, err := g.Open(other); !errors.Is(err, ErrNotReader) {
		t.Fatalf("another node opened it: %v", err)
	}
	// Naming a node among the readers does not make the box open for it.
	forged := *g
	forged.Readers = append([]syncproto.NodeID(nil), g.Readers...)
	forged.Readers = append(forged.Readers, other.ID())
	sortIDs(forged.Readers)
	if _, err := forged.Open(other); err == nil {
		t.Fatal("a node added to the readers opened the box")
	}
	bad := *g
	bad.Box = append([]byte(nil), g.Box...)
	bad.Box[len(bad.Box)-3] ^= 1
	if _, err := bad.Open(laptop); err == nil {
		t.Fatal("an altered box opened")
	}
}

func TestGrantRefusesKeysItDoesNotClaim(t *testing.T) {
	laptop := nodeKey(t)
	readers := map[syncproto.NodeID]ed25519.PublicKey{laptop.ID(): laptop.Public()}
	if _, err := NewGrant([]DataKey{testKey("Cayo", 1, 1), testKey("Toledo", 1, 2)}, readers, time.Now()); err == nil {
		t.Fatal("a grant of two districts made")
	}
	g, err := NewGrant([]DataKey{testKey("Toledo", 1, 2)}, readers, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	g.District = "Cayo" // the box holds Toledo's key
	if _, err := g.Open(laptop); err == nil {
		t.Fatal("a grant of Cayo carrying Toledo's key opened")
	}
	g.District, g.Epoch = "Toledo", 2 // claims an epoch it does not carry
	if _, err := g.Open(laptop); err == nil {
		t.Fatal("a grant without its epoch's key opened")
	}
}

func sortIDs(ids []syncproto.NodeID) {
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if string(ids[j][:]) < string(ids[i][:]) {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
}
