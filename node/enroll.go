package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/ledger"
)

// CADir is the folder of headquarters' certificate authority inside HQ's
// data folder.
const CADir = "ca"

// InitCA makes the deployment's certificate authority in the data folder of
// an HQ node, and enrolls that node with it.
func (n *Node) InitCA(ctx context.Context, name string) (*identity.CA, error) {
	if !n.Self().Role.Decides() {
		return nil, fmt.Errorf("node %s is a %s node: the certificate authority lives at headquarters (a node initialised with --role hq)", n.Self().Name, n.Self().Role)
	}
	ca, err := identity.NewCA(name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(n.cfg.DataDir, CADir)
	if err := ca.Save(dir); err != nil {
		return nil, err
	}
	// The deployment's gossip key is made with the CA and handed out with
	// every enrollment.
	key, err := gossip.NewKey()
	if err != nil {
		return nil, err
	}
	if err := gossip.WriteKeyFile(filepath.Join(dir, gossip.KeyFile), [][]byte{key}); err != nil {
		return nil, err
	}
	if err := n.EnrollWith(ctx, ca); err != nil {
		return nil, err
	}
	if err := n.InstallGossipKeys([][]byte{key}); err != nil {
		return nil, err
	}
	// HQ's own enrollment is the ledger's first, once it runs.
	return ca, n.Queue(ctx, ledger.CmdEnroll, &ledger.Enroll{Cert: n.Credentials().Cert.Raw})
}

// SignOptions are headquarters' choices when it enrolls a node.
type SignOptions struct {
	// Validity is how long the certificate is valid; zero for the default.
	Validity time.Duration
	// Voter makes a relay a voter of the ledger (HQ nodes always vote).
	Voter bool
	// MemberAddr is where a relay's or HQ's port is, for the ledger's
	// leader to find it where gossip does not reach ("" for gossip only).
	MemberAddr string
}

// SignEnrollment signs a node's enrollment request with the certificate
// authority in this HQ node's folder. It returns the bundle the node
// installs (its certificate, the CA's and the deployment's gossip keys) and
// queues the enrollment for the ledger, signed by this HQ node, so that
// every relay and HQ knows the node before its first change reaches them,
// and a relay or HQ becomes a member of the ledger.
func (n *Node) SignEnrollment(ctx context.Context, request []byte, opt SignOptions) ([]byte, error) {
	ca, err := LoadCA(n.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	bundle, err := ca.Sign(request, opt.Validity)
	if err != nil {
		return nil, err
	}
	keys, err := GossipKeys(n.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(bundle)
	if block == nil {
		return nil, errors.New("sign: the signed bundle holds no certificate")
	}
	if err := n.Queue(ctx, ledger.CmdEnroll, &ledger.Enroll{Cert: block.Bytes, Voter: opt.Voter, Addr: opt.MemberAddr}); err != nil {
		return nil, err
	}
	return append(bundle, GossipBlock(keys)...), nil
}

// GossipKeys reads the deployment's gossip keys kept with the CA in an HQ
// data folder.
func GossipKeys(hqDir string) ([][]byte, error) {
	return gossip.ReadKeyFile(filepath.Join(hqDir, CADir, gossip.KeyFile))
}

// InstallGossipKeys gives the node the deployment's gossip keys.
func (n *Node) InstallGossipKeys(keys [][]byte) error {
	return gossip.WriteKeyFile(filepath.Join(n.cfg.DataDir, gossip.KeyFile), keys)
}

// pemGossipKeys is the PEM block type an enrollment bundle carries the
// gossip keys in.
const pemGossipKeys = "LIFELINE GOSSIP KEYS"

// GossipBlock is the PEM block to append to an enrollment bundle.
func GossipBlock(keys [][]byte) []byte {
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k))
		b.WriteByte('\n')
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemGossipKeys, Bytes: b.Bytes()})
}

// splitEnrollment separates the gossip keys from the certificates of an
// enrollment bundle.
func splitEnrollment(bundle []byte) ([]byte, [][]byte, error) {
	var certs []byte
	var keys [][]byte
	rest := bundle
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		if block.Type != pemGossipKeys {
			certs = append(certs, pem.EncodeToMemory(block)...)
			continue
		}
		for _, line := range strings.Fields(string(block.Bytes)) {
			k, err := base64.StdEncoding.DecodeString(line)
			if err != nil {
				return nil, nil, fmt.Errorf("enrollment bundle: a gossip key that is not base64: %w", err)
			}
			keys = append(keys, k)
		}
	}
	return certs, keys, nil
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

// Install installs the enrollment bundle headquarters sent back: the
// node's certificate, the CA's, and the deployment's gossip keys.
func (n *Node) Install(ctx context.Context, bundle []byte) error {
	certs, keys, err := splitEnrollment(bundle)
	if err != nil {
		return err
	}
	if _, err := identity.Install(n.cfg.DataDir, n.key, certs); err != nil {
		return err
	}
	if len(keys) > 0 {
		if err := n.InstallGossipKeys(keys); err != nil {
			return err
		}
	}
	return n.loadCredentials(ctx)
}

// EnrollWith enrolls the node with a certificate authority at hand: request,
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
