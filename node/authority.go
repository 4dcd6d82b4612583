package node

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"lifeline/node/atomicfile"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// A CA folder holds the deployment's certificate authority: what signs a
// node's enrollment, and all it hands out. It may be HQ's data folder's
// CADir, or a folder on removable media (InitCA with CAOptions.Dir), so that
// HQ's running node never holds the CA's key.
//
//	ca.crt         the CA's certificate (identity.CAFile), public
//	ca.key         the CA's key, sealed with the passphrase (identity.CAKeyFile)
//	gossip.sealed  the deployment's gossip keys, sealed with the same passphrase
//
// A CA folder written before keys were sealed holds ca.key and gossip.keys
// in the clear; it still works, and SealAuthority seals it.
const (
	// CADir is the CA folder inside HQ's data folder, where InitCA puts
	// the CA unless told otherwise.
	CADir = "ca"
	// CAGossipFile is the gossip keys in a CA folder, sealed: what a node
	// enrolled from the CA folder alone is given.
	CAGossipFile = "gossip.sealed"
)

// pemSealedGossip is the PEM type of CAGossipFile.
const pemSealedGossip = "LIFELINE SEALED GOSSIP KEYS"

// Authority is the deployment's certificate authority, opened from its CA
// folder: it signs enrollments. Open it with OpenAuthority.
type Authority struct {
	// Dir is the CA folder.
	Dir string
	// HQDir is HQ's data folder when the CA folder is its CADir, and ""
	// for a CA folder on its own (on removable media, say).
	HQDir string

	ca         *identity.CA
	passphrase identity.Passphrase
}

// OpenAuthority opens the certificate authority in dir, which is a CA
// folder or HQ's data folder (whose CADir is used), asking passphrase for
// its passphrase (once, and only if its key is sealed). A wrong passphrase
// is an error wrapping identity.ErrPassphrase.
func OpenAuthority(dir string, passphrase func() ([]byte, error)) (*Authority, error) {
	caDir, hqDir, err := locateCA(dir)
	if err != nil {
		return nil, err
	}
	a := &Authority{Dir: caDir, HQDir: hqDir}
	if passphrase != nil {
		a.passphrase = sync.OnceValues(passphrase)
	}
	ca, err := identity.LoadCA(a.Dir, a.passphrase)
	if err != nil {
		return nil, err
	}
	a.ca = ca
	return a, nil
}

// locateCA finds the CA folder of dir: dir itself, or, when dir is HQ's
// data folder, its CADir (hqDir is then dir).
func locateCA(dir string) (caDir, hqDir string, err error) {
	if fileExists(filepath.Join(dir, identity.CAKeyFile)) {
		return dir, "", nil
	}
	inHQ := filepath.Join(dir, CADir)
	switch {
	case fileExists(filepath.Join(inHQ, identity.CAKeyFile)):
		return inHQ, dir, nil
	case fileExists(filepath.Join(dir, identity.KeyFile)):
		return "", "", fmt.Errorf("%s is a node's data folder with no certificate authority in it (lifeline ca init --out puts the CA elsewhere, e.g. on a USB stick): give that CA folder (--ca DIR)", dir)
	default:
		return "", "", fmt.Errorf("%s holds no certificate authority (no %s): give the CA folder lifeline ca init made, or HQ's data folder", dir, identity.CAKeyFile)
	}
}

// Cert is the CA's certificate.
func (a *Authority) Cert() *x509.Certificate { return a.ca.Cert }

// ErrInCAFolder means a file for elsewhere (a signed certificate) was to be
// written into the CA folder.
var ErrInCAFolder = errors.New("a signed certificate is not written into the CA folder")

// CheckOutPath refuses a file to write, the certificate Sign returns, in
// the CA folder or in a folder inside it, as CheckExportPath refuses one
// in a node's data folder: a path mistyped there would replace the CA's
// key, and every node it enrolled would have to be enrolled again.
func (a *Authority) CheckOutPath(path string) error {
	in, err := within(path, a.Dir)
	if err != nil || !in {
		return err
	}
	return fmt.Errorf("%s: %w (%s): it holds the CA's key; write the certificate elsewhere", path, ErrInCAFolder, a.Dir)
}

// Sealed says whether the CA's key is sealed with a passphrase; when it is
// not (a CA folder written before keys were), SealAuthority seals it.
func (a *Authority) Sealed() bool { return a.ca.Sealed() }

// Sign signs a node's enrollment request with the CA alone, with no HQ
// node at hand: for a field laptop enrolled from a CA folder on a USB
// stick. It checks the request's claims against opt (SignOptions.Check)
// and returns the bundle the node installs: its certificate, the CA's, and
// the deployment's gossip keys from the CA folder, encrypted to the node's
// key. Nothing is queued for the ledger, so a relay or an HQ, which the
// ledger must know, and a voter or member address, which the ledger
// decides, are refused: those are signed by HQ's node (SignEnrollment).
func (a *Authority) Sign(request []byte, opt SignOptions) ([]byte, error) {
	claims, err := RequestClaims(request)
	if err != nil {
		return nil, err
	}
	if err := opt.Check(claims); err != nil {
		return nil, err
	}
	if claims.Role.InLedger() {
		return nil, fmt.Errorf("%s is a %s node: it takes part in the ledger, which learns of it only from HQ's node; sign its request with HQ's data folder at hand (lifeline ca sign --data HQDIR, or enroll --ca HQDIR)", claims, claims.Role)
	}
	if opt.Voter || opt.MemberAddr != "" {
		return nil, errors.New("a voter or a member address is the ledger's to decide: sign with HQ's data folder at hand")
	}
	bundle, _, err := signBundle(a.ca, request, opt, a.gossipKeys)
	return bundle, err
}

// gossipKeys reads the deployment's gossip keys kept in the CA folder.
// Keys in the clear are read only beside a key in the clear: beside a
// sealed one, they are a sealing cut short, or anyone's who held the
// folder, since only the passphrase seals them.
func (a *Authority) gossipKeys() ([][]byte, error) {
	sealed := filepath.Join(a.Dir, CAGossipFile)
	if _, err := os.Stat(sealed); errors.Is(err, fs.ErrNotExist) {
		if clear := filepath.Join(a.Dir, gossip.KeyFile); fileExists(clear) {
			if a.Sealed() {
				return nil, fmt.Errorf("%s holds gossip keys in the clear beside a sealed key, and no %s: if lifeline ca seal was cut short, run it again; if the folder was out of your hands, the keys may be anyone's: sign with HQ's data folder at hand (--data HQDIR), which gives the keys HQ uses", clear, CAGossipFile)
			}
			return gossip.ReadKeyFile(clear) // a CA folder not sealed yet
		}
	}
	plain, err := identity.UnsealFile(sealed, pemSealedGossip, "the deployment's gossip keys", a.passphrase)
	if err != nil {
		return nil, err
	}
	return decodeKeys(plain, sealed)
}

// writeGossipKeys writes the gossip keys into a CA folder, sealed.
func writeGossipKeys(dir string, keys [][]byte, passphrase []byte) error {
	sealed, err := identity.Seal(pemSealedGossip, encodeKeys(keys), passphrase)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, CAGossipFile), sealed, 0o600)
}

// ErrSealedAlready is wrapped by SealAuthority's error when every secret
// of the CA folder is sealed already.
var ErrSealedAlready = identity.ErrSealedAlready

// SealAuthority seals, in place, a CA folder written before keys were
// sealed (dir is the CA folder or HQ's data folder): its key, then its
// gossip keys, whose clear file is removed. passphrase is asked once, only
// when there is something to seal; it must pass identity.CheckPassphrase.
// It may be run again after an interruption (then passphrase must be the
// one the key was sealed with); once every secret is sealed, its error
// wraps ErrSealedAlready.
func SealAuthority(dir string, passphrase func() ([]byte, error)) error {
	caDir, _, err := locateCA(dir)
	if err != nil {
		return err
	}
	_, err = identity.LoadCA(caDir, nil)
	keySealed := errors.Is(err, identity.ErrNeedsPassphrase)
	if err != nil && !keySealed {
		return err
	}
	clear := filepath.Join(caDir, gossip.KeyFile)
	if keySealed && !fileExists(clear) {
		return fmt.Errorf("%s: %w", caDir, ErrSealedAlready)
	}
	ask := sync.OnceValues(passphrase)
	if keySealed {
		// Sealed before an interruption: the gossip keys take the
		// passphrase the key has.
		if _, err := identity.LoadCA(caDir, ask); err != nil {
			return err
		}
	} else {
		p, err := ask()
		if err != nil {
			return err
		}
		if err := identity.SealCA(caDir, p); err != nil {
			return err
		}
	}
	if !fileExists(clear) {
		return nil
	}
	keys, err := gossip.ReadKeyFile(clear)
	if err != nil {
		return err
	}
	p, err := ask()
	if err != nil {
		return err
	}
	if err := writeGossipKeys(caDir, keys, p); err != nil {
		return err
	}
	return os.Remove(clear)
}

// ErrClaims is wrapped by the error of a signature refused because the
// request claims other than the signer expects (a ClaimsError).
var ErrClaims = errors.New("the request claims other than expected")

// ClaimsError says which of a request's claims is not what the signer
// expected.
type ClaimsError struct {
	// Claims are what the request claims.
	Claims identity.Claims
	// Claim is "role" or "district" for a claim other than expected, or
	// "hq" for a request claiming role hq when SignOptions.HQ was not set.
	Claim string
	// Expected is the role or district expected ("" for "hq").
	Expected string
}

func (e *ClaimsError) Error() string {
	c := e.Claims
	who := fmt.Sprintf("the request of %s (node %s)", c.Name, c.Node)
	switch e.Claim {
	case "hq":
		return who + " claims role hq, which can enroll and revoke every node, publish kits and decide the ledger's members: it is signed only when headquarters is meant, on purpose"
	case "role":
		return fmt.Sprintf("%s claims role %s, but %s was expected; refused: check who sent it", who, c.Role, e.Expected)
	default:
		return fmt.Sprintf("%s claims district %s, but %s was expected; refused: check who sent it", who, c.District, e.Expected)
	}
}

func (e *ClaimsError) Unwrap() error { return ErrClaims }

// Check says whether a request's claims are what the signer expects: the
// role and district given, and role hq only with HQ set. It is the check
// every signature makes; a person's tool may call it first, to refuse
// before asking for the CA's passphrase.
func (opt SignOptions) Check(c identity.Claims) error {
	if !opt.Role.Valid() {
		return fmt.Errorf("the role the request should claim is not given (one of %s)", syncproto.RoleList())
	}
	district, ok := schemas.District(opt.District)
	if !ok {
		return fmt.Errorf("the district the request should claim is not given (district %q: one of %s)", opt.District, strings.Join(schemas.Districts, ", "))
	}
	switch {
	case c.Role != opt.Role:
		return &ClaimsError{Claims: c, Claim: "role", Expected: string(opt.Role)}
	case c.District != district:
		return &ClaimsError{Claims: c, Claim: "district", Expected: district}
	case c.Role.Decides() && !opt.HQ:
		return &ClaimsError{Claims: c, Claim: "hq"}
	}
	return nil
}

// CheckPassphrase says what is wrong with a new passphrase for a CA: it
// needs identity.MinPassphrase characters or more.
func CheckPassphrase(p []byte) error { return identity.CheckPassphrase(p) }

// RequestClaims reads and checks a node's enrollment request and returns
// what it claims: its node id, name, role and district.
func RequestClaims(request []byte) (identity.Claims, error) {
	c, _, err := identity.ParseRequest(request)
	return c, err
}
