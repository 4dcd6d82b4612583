package node

import (
	"bytes"
	"cmp"
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
	"lifeline/schemas"
	"lifeline/syncproto"
)

// CAOptions say how InitCA makes the deployment's certificate authority.
type CAOptions struct {
	// Name is the CA's name, e.g. "NEMO Lifeline CA 2025"; "" for
	// "NEMO Lifeline CA".
	Name string
	// Dir is the CA folder to write, e.g. on a USB stick kept in a safe;
	// "" for CADir in HQ's data folder. It must not hold a CA already.
	Dir string
	// Passphrase gives the passphrase that seals the CA's key and the
	// gossip keys in the CA folder. It is asked once the node is known to
	// be one that may make a CA; it must pass identity.CheckPassphrase.
	Passphrase func() ([]byte, error)
}

// InitCA makes the deployment's certificate authority and its gossip key
// in a CA folder (see CADir), and enrolls this HQ node with it. HQ's data
// folder then holds what every enrolled node holds: its certificate, the
// CA's certificate (not its key) and the gossip keys; with CAOptions.Dir
// set, it holds nothing more, and the CA folder is the only place the CA's
// key is, sealed.
func (n *Node) InitCA(ctx context.Context, opt CAOptions) (*identity.CA, error) {
	if !n.Self().Role.Decides() {
		return nil, fmt.Errorf("node %s is a %s node: the certificate authority is made at headquarters (a node initialised with --role hq)", n.Self().Name, n.Self().Role)
	}
	if c := n.Credentials(); c != nil {
		return nil, fmt.Errorf("%s is already enrolled, with the certificate authority %q: a deployment has one, and a second would disown every node the first enrolled", n.Self().Name, c.CA.Subject.CommonName)
	}
	dir := opt.Dir
	if dir == "" {
		dir = filepath.Join(n.cfg.DataDir, CADir)
	}
	if fileExists(filepath.Join(dir, CAGossipFile)) {
		return nil, fmt.Errorf("%s holds gossip keys already: a CA folder is made once; choose another folder", dir)
	}
	name := opt.Name
	if name == "" {
		name = "NEMO Lifeline CA"
	}
	ca, err := identity.NewCA(name)
	if err != nil {
		return nil, err
	}
	if opt.Passphrase == nil {
		return nil, errors.New("no passphrase for the CA's key")
	}
	passphrase, err := opt.Passphrase()
	if err != nil {
		return nil, err
	}
	if err := identity.CheckPassphrase(passphrase); err != nil {
		return nil, fmt.Errorf("the CA's passphrase: %w", err)
	}
	if err := ca.Save(dir, passphrase); err != nil {
		return nil, err
	}
	// The deployment's gossip key is made with the CA and handed out with
	// every enrollment.
	key, err := gossip.NewKey()
	if err != nil {
		return nil, err
	}
	if err := writeGossipKeys(dir, [][]byte{key}, passphrase); err != nil {
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
	// A relay the ledger has as a voter keeps its vote without it.
	Voter bool
	// MemberAddr is where a relay's or HQ's port is, for the ledger's
	// leader to find it where gossip does not reach ("" for gossip only).
	MemberAddr string
	// Role and District are what the request must claim, as the person
	// signing knows them from elsewhere (who asked, for which office): a
	// request claiming another role or district is refused (ClaimsError).
	// Both are required.
	Role     syncproto.Role
	District string
	// HQ allows a request claiming role hq. Without it such a request is
	// refused: an HQ certificate decides for the whole deployment.
	HQ bool
}

// SignEnrollment signs a node's enrollment request with the certificate
// authority ca, which must be the one this HQ node is enrolled with. It
// checks the request's claims against opt (SignOptions.Check), returns
// the bundle the node installs (its certificate, the CA's and this HQ
// node's gossip keys, encrypted to the node's key) and queues the
// enrollment for the ledger, signed by this HQ node, so that every relay
// and HQ knows the node before its first change reaches them, and a relay
// or HQ becomes a member of the ledger.
func (n *Node) SignEnrollment(ctx context.Context, ca *Authority, request []byte, opt SignOptions) ([]byte, error) {
	creds := n.Credentials()
	if creds == nil || !n.Self().Role.Decides() {
		return nil, fmt.Errorf("%s is not an enrolled HQ node: enrollments are queued for the ledger by headquarters", n.Self().Name)
	}
	if !creds.CA.Equal(ca.Cert()) {
		return nil, fmt.Errorf("the certificate authority in %s (%q) is not the one %s is enrolled with (%q): it is another deployment's", ca.Dir, ca.Cert().Subject.CommonName, n.Self().Name, creds.CA.Subject.CommonName)
	}
	// A revoked key is taken for stolen: a renewal of it would hand its
	// holder the gossip keys, and a new season to peers not told yet.
	claims, err := RequestClaims(request)
	if err != nil {
		return nil, err
	}
	if gone, err := n.IsRevoked(ctx, claims.Node); err != nil || gone {
		return nil, cmp.Or(err, fmt.Errorf("%s (node %s) was revoked by headquarters: no certificate of its key is signed again; a laptop found again is enrolled anew, from a new data folder (lifeline init)", claims.Name, claims.Node))
	}
	// A renewal keeps the vote the ledger gave: a vote is taken by a
	// decision of its own (SetMember), not by a flag left out.
	members, err := n.store.LedgerMembers(ctx)
	if err != nil {
		return nil, err
	}
	opt.Voter = opt.Voter || members[claims.Node].Voter
	// The keys HQ's node uses now: a key rotation rewrote them, not the
	// CA folder's copy.
	keys := n.gossipKeys().ReadKeys
	bundle, cert, err := signBundle(ca.ca, request, opt, keys)
	if err != nil {
		return nil, err
	}
	if err := n.Queue(ctx, ledger.CmdEnroll, &ledger.Enroll{Cert: cert, Voter: opt.Voter, Addr: opt.MemberAddr}); err != nil {
		return nil, err
	}
	// This HQ node's certificate, for the node to encrypt the bundles it
	// writes for headquarters before it ever meets it.
	return append(bundle, pem.EncodeToMemory(&pem.Block{Type: pemHQCert, Bytes: creds.Cert.Raw})...), nil
}

// signBundle checks a request's claims against opt and signs it with ca.
// It returns the enrollment bundle, with the gossip keys encrypted to the
// requesting node's key, and the node's certificate (DER).
func signBundle(ca *identity.CA, request []byte, opt SignOptions, keys func() ([][]byte, error)) (bundle, cert []byte, err error) {
	claims, pub, err := identity.ParseRequest(request)
	if err != nil {
		return nil, nil, err
	}
	if err := opt.Check(claims); err != nil {
		return nil, nil, err
	}
	signed, err := ca.Sign(request, opt.Validity)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(signed)
	if block == nil {
		return nil, nil, errors.New("sign: the signed bundle holds no certificate")
	}
	gk, err := keys()
	if err != nil {
		return nil, nil, err
	}
	box, err := identity.EncryptTo(pub, encodeKeys(gk))
	if err != nil {
		return nil, nil, err
	}
	return append(signed, pem.EncodeToMemory(&pem.Block{Type: pemGossipKeys, Bytes: box})...), block.Bytes, nil
}

// InstallGossipKeys gives the node the deployment's gossip keys, kept in
// its data folder encrypted with its key.
func (n *Node) InstallGossipKeys(keys [][]byte) error {
	return n.gossipKeys().WriteKeys(keys)
}

// The PEM types of the gossip keys in an enrollment bundle: encrypted to
// the node's key (age, identity.EncryptTo), and, in bundles written before,
// in the clear, which Install refuses; and of the certificate of the HQ
// node that signed it, which bundles signed by the CA alone lack.
const (
	pemGossipKeys      = "LIFELINE ENCRYPTED GOSSIP KEYS"
	pemClearGossipKeys = "LIFELINE GOSSIP KEYS"
	pemHQCert          = "LIFELINE HQ CERTIFICATE"
)

// ErrClearBundle is wrapped by Install's error for an enrollment bundle
// that carries the gossip keys in the clear, as bundles did before they
// were encrypted to the node's key: whoever saw the file has the keys.
var ErrClearBundle = errors.New("the enrollment file carries the gossip keys in the clear")

// encodeKeys writes gossip keys as the bundle and the CA folder carry them:
// one base64 key per line, the primary first.
func encodeKeys(keys [][]byte) []byte {
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// decodeKeys reads what encodeKeys wrote; where names the file in errors.
func decodeKeys(text []byte, where string) ([][]byte, error) {
	var keys [][]byte
	for _, line := range strings.Fields(string(text)) {
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("%s: a gossip key that is not base64: %w", where, err)
		}
		keys = append(keys, k)
		if len(keys) > gossip.MaxKeys {
			return nil, fmt.Errorf("%s: more than %d gossip keys", where, gossip.MaxKeys)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no gossip keys", where)
	}
	return keys, nil
}

// splitEnrollment separates the certificates of an enrollment bundle from
// its gossip keys, which it decrypts with the node's key.
func (n *Node) splitEnrollment(bundle []byte) (certs []byte, keys [][]byte, hq []byte, err error) {
	rest := bundle
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		switch block.Type {
		case pemClearGossipKeys:
			return nil, nil, nil, fmt.Errorf("%w, as Lifeline wrote them before they were encrypted to the node's key; it is refused: have headquarters sign this node's request again (lifeline ca sign) and install the new file", ErrClearBundle)
		case pemGossipKeys:
			if keys != nil {
				return nil, nil, nil, errors.New("enrollment bundle: the gossip keys are given twice")
			}
			plain, err := n.key.Decrypt(block.Bytes)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("enrollment bundle: the gossip keys: %w; install the file signed for this node's own request", err)
			}
			if keys, err = decodeKeys(plain, "enrollment bundle"); err != nil {
				return nil, nil, nil, err
			}
		case pemHQCert:
			if hq != nil {
				return nil, nil, nil, errors.New("enrollment bundle: the HQ node's certificate is given twice")
			}
			hq = block.Bytes
		default:
			certs = append(certs, pem.EncodeToMemory(block)...)
		}
	}
	return certs, keys, hq, nil
}

// EnrollmentRequest is the node's request to be enrolled: its claims
// (name, role, district, id) signed with its own key, to carry to
// headquarters.
func (n *Node) EnrollmentRequest() ([]byte, error) {
	return n.key.Request(n.Claims())
}

// EnrollmentRequestIn is the node's request for a certificate of another
// district, for a responder who moved there ("" is its own): once
// installed, the node keeps that district's records, and its new records
// without a district are of it.
func (n *Node) EnrollmentRequestIn(district string) ([]byte, error) {
	c := n.Claims()
	if district != "" {
		d, ok := schemas.District(district)
		if !ok {
			return nil, fmt.Errorf("--district %.80q: one of %s", district, strings.Join(schemas.Districts, ", "))
		}
		c.District = d
	}
	return n.key.Request(c)
}

// Claims are what the node's enrollment request claims: its id, name,
// role and district.
func (n *Node) Claims() identity.Claims {
	self := n.Self()
	return identity.Claims{Node: self.ID, Name: self.Name, Role: self.Role, District: self.District}
}

// Install installs the enrollment bundle headquarters sent back: the
// node's certificate, the CA's, and the deployment's gossip keys, which
// only this node's key decrypts, and remembers the certificate of the HQ
// node that signed it, if it carries one. Nothing is installed from a
// bundle whose certificates and keys do not all check, nor from one whose
// certificate ends before the node's (identity.ErrOlderCert). A bundle of
// the certificate the node holds gives it gossip keys only if its own do
// not read: anyone may encrypt keys to the node's key, and every peer
// holds its certificate.
func (n *Node) Install(ctx context.Context, bundle []byte) error {
	certs, keys, hq, err := n.splitEnrollment(bundle)
	if err != nil {
		return err
	}
	held := n.Credentials()
	creds, err := identity.Install(n.cfg.DataDir, n.key, certs)
	if err != nil {
		return err
	}
	if held != nil && held.Cert.Equal(creds.Cert) {
		if _, err := n.gossipKeys().ReadKeys(); err == nil {
			keys = nil
		}
	}
	if len(keys) > 0 {
		if err := n.InstallGossipKeys(keys); err != nil {
			return err
		}
	}
	if err := n.loadCredentials(ctx); err != nil {
		return err
	}
	if hq != nil {
		// The node is enrolled without it; it learns HQ's nodes later.
		if err := n.trust.AddCerts(ctx, [][]byte{hq}); err != nil {
			n.log.Warn("enrollment bundle: the certificate of the HQ node that signed it is not kept", "err", err)
		}
	}
	return nil
}

// EnrollWith enrolls the node with a certificate authority at hand: request,
// signature and installation in one step. The node's own claims are signed
// as they are; no gossip key is given.
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

// EnrollFrom enrolls the node with the certificate authority ca, for when
// the node's folder and the CA are on one machine: its own request, signed
// and installed in one step. When ca was opened from HQ's data folder, HQ's
// node signs it and queues the enrollment for the ledger (SignEnrollment),
// opened with this node's configuration; from a CA folder alone, the CA
// signs it (Authority.Sign). opt's Role and District are the node's own;
// HQ must be set to enroll an HQ node.
func (n *Node) EnrollFrom(ctx context.Context, ca *Authority, opt SignOptions) error {
	self := n.Self()
	opt.Role, opt.District = self.Role, self.District
	req, err := n.EnrollmentRequest()
	if err != nil {
		return err
	}
	var bundle []byte
	if ca.HQDir == "" {
		bundle, err = ca.Sign(req, opt)
	} else {
		bundle, err = n.signAtHQ(ctx, ca, req, opt)
	}
	if err != nil {
		return err
	}
	return n.Install(ctx, bundle)
}

// signAtHQ has the HQ node whose data folder holds ca sign req.
func (n *Node) signAtHQ(ctx context.Context, ca *Authority, req []byte, opt SignOptions) ([]byte, error) {
	cfg := n.cfg
	cfg.DataDir = ca.HQDir
	hq, err := Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("the HQ folder %s: %w", ca.HQDir, err)
	}
	defer hq.Close()
	return hq.SignEnrollment(ctx, ca, req, opt)
}
