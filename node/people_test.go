package node_test

import (
	"context"
	"errors"
	"testing"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// Two responders share a Cayo laptop; each signs in with a name and a
// passphrase. HQ revokes one of them (a passphrase overheard): once the
// laptop syncs, that person can no longer sign in there, and the other
// still can; the laptop itself is not revoked. A laptop's forged
// revocation of a person changes nothing.
func TestPersonRevokedOnASharedLaptop(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	shared := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	other := c.Add("cayo-12", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	ana, luis := []byte("mango trees by the river"), []byte("the bridge at Santa Elena")
	if _, err := shared.Node.AddPerson(ctx, "Ana  Cho", ana); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Node.AddPerson(ctx, "Luis Sho", luis); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Node.AddPerson(ctx, "ana cho", luis); err == nil {
		t.Fatal("a second person of the same name, in other case, was added")
	}
	if _, err := shared.Node.AddPerson(ctx, "Rosa Tzul", []byte("short")); err == nil {
		t.Fatal("a person was added with a weak passphrase")
	}
	if who, err := shared.Node.SignIn(ctx, "ANA CHO", ana); err != nil || who != "Ana Cho" {
		t.Fatalf("Ana signs in as %q, %v", who, err)
	}
	if _, err := shared.Node.SignIn(ctx, "Ana Cho", luis); !errors.Is(err, identity.ErrPassphrase) {
		t.Fatalf("Ana with Luis's passphrase: %v", err)
	}
	if _, err := shared.Node.SignIn(ctx, "Rosa Tzul", ana); !errors.Is(err, node.ErrNoPerson) {
		t.Fatalf("a person never added: %v", err)
	}

	// A laptop's forgery reaches the shared laptop first: nothing changes.
	forged := node.PersonRevocationBy(other.Node, shared.Node.Self().ID, "Ana Cho")
	if _, err := node.SyncPassing(other.Node, ctx, shared.Addr, [][]byte{forged}); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Node.SignIn(ctx, "Ana Cho", ana); err != nil {
		t.Fatalf("a laptop's forged revocation stopped Ana: %v", err)
	}

	if err := hq.Node.RevokePerson(ctx, shared.Node.Self().ID, "ana cho", "passphrase overheard"); err != nil {
		t.Fatal(err)
	}
	if err := other.Node.RevokePerson(ctx, shared.Node.Self().ID, "Luis Sho", ""); err == nil {
		t.Fatal("a laptop revoked a person")
	}
	syncOK(t, shared, hq)
	if _, err := shared.Node.SignIn(ctx, "Ana Cho", ana); !errors.Is(err, node.ErrPersonRevoked) {
		t.Fatalf("Ana signs in after HQ revoked her: %v", err)
	}
	if who, err := shared.Node.SignIn(ctx, "Luis Sho", luis); err != nil || who != "Luis Sho" {
		t.Fatalf("Luis after Ana's revocation: %q, %v", who, err)
	}
	if _, err := shared.Node.AddPerson(ctx, "Ana Cho", []byte("a brand new passphrase")); !errors.Is(err, node.ErrPersonRevoked) {
		t.Fatalf("Ana added again after her revocation: %v", err)
	}
	ps, err := shared.Node.People(ctx)
	if err != nil || len(ps) != 2 || !ps[0].Revoked || ps[1].Revoked {
		t.Fatalf("people: %+v, %v", ps, err)
	}
	if revoked(t, shared.Node, shared.Node.Self().ID) {
		t.Fatal("the laptop was revoked with the person")
	}
	// The revocation travels on: the other laptop passes it on too.
	syncOK(t, other, shared)
	if _, err := shared.Node.SignIn(ctx, "Luis Sho", luis); err != nil {
		t.Fatal(err)
	}
	notices, err := node.RevocationNotices(other.Node, ctx)
	if err != nil || len(notices) != 1 {
		t.Fatalf("the other laptop passes on %d notices, %v", len(notices), err)
	}
}
