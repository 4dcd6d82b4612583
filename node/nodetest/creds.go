package nodetest

import (
	"lifeline/node/identity"
	"lifeline/syncproto"
)

// Credentials makes the key of a node of Cayo, named name, in role, and
// installs it in a temporary folder with the certificate ca signs for it:
// an enrolled node without a store, for the tests of the parts below
// package node.
func Credentials(t TB, ca *identity.CA, name string, role syncproto.Role) *identity.Credentials {
	t.Helper()
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	req, err := key.Request(identity.Claims{Node: key.ID(), Name: name, Role: role, District: "Cayo"})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := ca.Sign(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := identity.Install(t.TempDir(), key, bundle)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}
