package node

import (
	"context"
	"fmt"
	"path/filepath"

	"lifeline/node/identity"
)

// CADir is the folder of headquarters' certificate authority inside HQ's
// data folder.
const CADir = "ca"

// InitCA makes the deployment's certificate authority in the data folder of
// an HQ node, and enrols that node with it.
func (n *Node) InitCA(ctx context.Context, name string) (*identity.CA, error) {
	if n.Self().Role != RoleHQ {
		return nil, fmt.Errorf("node %s is a %s node: the certificate authority lives at headquarters (a node initialised with --role hq)", n.Self().Name, n.Self().Role)
	}
	ca, err := identity.NewCA(name)
	if err != nil {
		return nil, err
	}
	if err := ca.Save(filepath.Join(n.cfg.DataDir, CADir)); err != nil {
		return nil, err
	}
	return ca, n.EnrollWith(ctx, ca)
}

// LoadCA loads the certificate authority kept in an HQ data folder.
func LoadCA(hqDir string) (*identity.CA, error) {
	return identity.LoadCA(filepath.Join(hqDir, CADir))
}

// EnrollmentRequest is the node's request to be enrolled: its claims
// (name, role, district, id) signed with its own key, to carry to
// headquarters.
func (n *Node) EnrollmentRequest() ([]byte, error) {
	self := n.Self()
	return n.key.Request(identity.Claims{Node: self.ID, Name: self.Name, Role: self.Role, District: self.District})
}

// Install installs the enrolment bundle headquarters sent back.
func (n *Node) Install(ctx context.Context, bundle []byte) error {
	if _, err := identity.Install(n.cfg.DataDir, n.key, bundle); err != nil {
		return err
	}
	return n.loadCredentials(ctx)
}

// EnrollWith enrols the node with a certificate authority at hand: request,
// signature and installation in one step, for when both folders are on one
// machine.
func (n *Node) EnrollWith(ctx context.Context, ca *identity.CA) error {
	req, err := n.EnrollmentRequest()
	if err != nil {
		return err
	}
	bundle, err := ca.Sign(req, 0)
	if err != nil {
		return err
	}
	return n.Install(ctx, bundle)
}
