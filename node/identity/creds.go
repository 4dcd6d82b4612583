package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"lifeline/node/atomicfile"
	"lifeline/syncproto"
)

// Files an enrolled node keeps in its data folder, beside KeyFile.
const (
	// CertFile is the node's certificate, issued by the CA.
	CertFile = "node.crt"
	// CAFile is the certificate of the CA the node trusts: the only one
	// whose node certificates it accepts from peers.
	CAFile = "ca.crt"
)

// ErrNotEnrolled is wrapped by LoadCredentials' error when the node has a
// key but no certificate yet: it must send an enrollment request to
// headquarters and install the bundle it gets back.
var ErrNotEnrolled = errors.New("node is not enrolled")

// ErrAnotherCA is wrapped by Install's error for an enrollment bundle of
// another certificate authority than the one the node is enrolled with.
var ErrAnotherCA = errors.New("another certificate authority")

// ErrOlderCert is wrapped by Install's error for an enrollment bundle
// whose certificate ends before the one the node holds.
var ErrOlderCert = errors.New("an older certificate")

// ErrUntrusted is wrapped by every error of VerifyPeer, and so by TLS
// handshake errors from ServerTLS and ClientTLS configs when the peer's
// certificate is refused: it tells "this peer may not sync with us" apart
// from a broken network.
var ErrUntrusted = errors.New("peer certificate not trusted")

// untrusted is a VerifyPeer error: its message says what is wrong; it is
// ErrUntrusted.
type untrusted struct {
	msg string
	err error
}

func (e *untrusted) Error() string        { return e.msg }
func (e *untrusted) Unwrap() error        { return e.err }
func (e *untrusted) Is(target error) bool { return target == ErrUntrusted }

func distrust(err error, format string, args ...any) error {
	return &untrusted{msg: fmt.Sprintf(format, args...), err: err}
}

// Credentials are what an enrolled node holds: its key, its certificate and
// the CA's certificate, and the claims its certificate makes. They make the
// node's TLS configs.
type Credentials struct {
	// Key is the node's own key; Cert is for it.
	Key *Key
	// Cert is the node's certificate, presented to every peer.
	Cert *x509.Certificate
	// CA is the deployment's CA certificate: peers' certificates must be
	// signed by it.
	CA *x509.Certificate
	// Claims are what Cert says about the node.
	Claims Claims
	// Now is the clock peers' certificates are checked against; nil means
	// time.Now. Tests set it to check expiry.
	Now func() time.Time
	// Revoked, if set, refuses peers headquarters revoked: it returns an
	// error saying so for a revoked node, nil otherwise. Handshakes call it
	// after the certificate checks.
	Revoked func(node syncproto.NodeID) error
	// Superseded, if set, refuses a peer's certificate when a newer one of
	// its key says otherwise (the node moved to another district): it
	// returns an error saying so, nil otherwise. Handshakes call it after
	// Revoked.
	Superseded func(claims Claims, cert *x509.Certificate) error
}

func (c *Credentials) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Install checks an enrollment bundle (what CA.Sign returns: the node's
// certificate then the CA's, PEM) and writes it into the node's data folder
// dir as CertFile and CAFile, mode 0644. It checks that the certificate is
// for key, that the CA in the bundle signed it, that it is valid now and that
// its claims parse. Each file is replaced atomically (temporary file, then
// rename), so installing again to re-enroll is allowed, with the CA the
// node is enrolled with (the same key): another one is refused
// (ErrAnotherCA), as is a certificate ending before the one the node
// holds (ErrOlderCert); CAFile is written
// first and CertFile last, so a node interrupted in between still finds its
// older certificate, and LoadCredentials says if it no longer matches.
func Install(dir string, key *Key, bundlePEM []byte) (*Credentials, error) {
	creds, err := parseBundle(key, bundlePEM)
	if err != nil {
		return nil, fmt.Errorf("install enrollment bundle: %w", err)
	}
	if _, err := VerifyPeer(creds.Cert, creds.CA, time.Now()); err != nil {
		return nil, fmt.Errorf("install enrollment bundle: %w", err)
	}
	// Anyone who holds the node's certificate or request can make it a
	// bundle of a CA of their own: an enrolled node stays with its CA.
	if held, err := LoadCredentials(dir, key); err == nil {
		if !bytes.Equal(held.CA.RawSubjectPublicKeyInfo, creds.CA.RawSubjectPublicKeyInfo) {
			return nil, fmt.Errorf("install enrollment bundle: %w: the file is signed by %q, not by the CA this node is enrolled with (%q, of another key): it is another deployment's, or made to take this node from its own; a node joins another deployment from a new data folder (lifeline init)",
				ErrAnotherCA, creds.CA.Subject.CommonName, held.CA.Subject.CommonName)
		}
		// A node is what the certificate of its key that ends last says:
		// an earlier file would take it back to what that one replaced.
		if creds.Cert.NotAfter.Before(held.Cert.NotAfter) {
			return nil, fmt.Errorf("install enrollment bundle: %w: the file's certificate, of %s until %s, is older than the one this node holds, of %s until %s: it is an earlier file; install the latest headquarters signed",
				ErrOlderCert, creds.Claims, fmtTime(creds.Cert.NotAfter), held.Claims, fmtTime(held.Cert.NotAfter))
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("install enrollment bundle: %v", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, CAFile), pemCert(creds.CA), 0o644); err != nil {
		return nil, fmt.Errorf("install enrollment bundle: %v", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, CertFile), pemCert(creds.Cert), 0o644); err != nil {
		return nil, fmt.Errorf("install enrollment bundle: %v", err)
	}
	return creds, nil
}

// parseBundle reads an enrollment bundle for key and checks everything but
// the time: the certificate is key's, signed by the CA in the bundle, and
// its claims parse.
func parseBundle(key *Key, bundlePEM []byte) (*Credentials, error) {
	if key == nil {
		return nil, errors.New("no node key given")
	}
	if len(bundlePEM) > maxPEMInput {
		return nil, fmt.Errorf("%d bytes, more than the %d KiB a bundle may be; is this the file headquarters sent?", len(bundlePEM), maxPEMInput>>10)
	}
	var certs []*x509.Certificate
	rest := bundlePEM
	for len(bytes.TrimSpace(rest)) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("not PEM certificates after the first ones; is this the file headquarters sent?")
		}
		if block.Type != pemCertificate {
			return nil, fmt.Errorf("holds a PEM %q block; a bundle holds certificates only", block.Type)
		}
		if len(certs) == 2 {
			return nil, errors.New("more than two certificates; a bundle holds the node's then the CA's")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) != 2 {
		return nil, fmt.Errorf("%d certificates, want two: the node's then the CA's, as CA.Sign writes them", len(certs))
	}
	cert, ca := certs[0], certs[1]
	if !ca.IsCA {
		return nil, errors.New("the second certificate is not a CA's; a bundle holds the node's then the CA's")
	}
	if err := ownedBy(cert, key); err != nil {
		return nil, err
	}
	claims, err := checkChain(cert, ca)
	if err != nil {
		return nil, err
	}
	return &Credentials{Key: key, Cert: cert, CA: ca, Claims: claims}, nil
}

// ownedBy checks that a certificate is for key.
func ownedBy(cert *x509.Certificate, key *Key) error {
	if pub, ok := cert.PublicKey.(ed25519.PublicKey); ok && pub.Equal(key.Public()) {
		return nil
	}
	who := describe(cert)
	return fmt.Errorf("the certificate is for %s, another key than this node's (node %s); it was made from another node's request: send this node's own request", who, key.ID())
}

// LoadCredentials reads the credentials Install wrote into dir, for key. The
// error wraps ErrNotEnrolled when dir holds no CertFile. It checks that the
// certificate is key's, that CAFile signed it and that its claims parse; it
// does not refuse an expired certificate, so that a node can still start,
// show its records and say when its certificate expired (Cert.NotAfter).
// Peers refuse it in the handshake.
func LoadCredentials(dir string, key *Key) (*Credentials, error) {
	if key == nil {
		return nil, errors.New("load credentials: no node key given")
	}
	certPath, caPath := filepath.Join(dir, CertFile), filepath.Join(dir, CAFile)
	if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load credentials: %w: %s does not exist; send an enrollment request to headquarters and install the bundle it returns", ErrNotEnrolled, certPath)
	}
	cert, err := readCertFile(certPath, "this node's certificate")
	if err != nil {
		return nil, fmt.Errorf("load credentials: %w", err)
	}
	ca, err := readCertFile(caPath, "the CA's certificate")
	if err != nil {
		return nil, fmt.Errorf("load credentials: %w; install the enrollment bundle again", err)
	}
	if err := ownedBy(cert, key); err != nil {
		return nil, fmt.Errorf("load credentials: %s: %w", certPath, err)
	}
	claims, err := checkChain(cert, ca)
	if err != nil {
		return nil, fmt.Errorf("load credentials: %s and %s: %w; install the enrollment bundle again", certPath, caPath, err)
	}
	return &Credentials{Key: key, Cert: cert, CA: ca, Claims: claims}, nil
}

// describe names a certificate's subject in errors: its claims if they
// parse, or else its common name or serial, quoted since they are not checked.
func describe(cert *x509.Certificate) string {
	if c, err := ClaimsOf(cert); err == nil {
		return c.String()
	}
	if cert.Subject.CommonName != "" {
		return fmt.Sprintf("%q", cert.Subject.CommonName)
	}
	return fmt.Sprintf("serial %x", cert.SerialNumber)
}

// checkChain checks all VerifyPeer does except times: that cert is a node's
// certificate signed by ca, fit for node-to-node TLS, with valid claims.
func checkChain(cert, ca *x509.Certificate) (Claims, error) {
	if cert == nil {
		return Claims{}, distrust(nil, "no certificate to check")
	}
	if ca == nil || !ca.IsCA || !ca.BasicConstraintsValid {
		return Claims{}, distrust(nil, "the trusted CA certificate is missing or is not a CA certificate; install the enrollment bundle again")
	}
	who := describe(cert)
	if cert.IsCA {
		return Claims{}, distrust(nil, "certificate of %s is a CA certificate, not a node's", who)
	}
	if err := cert.CheckSignatureFrom(ca); err != nil || !bytes.Equal(cert.RawIssuer, ca.RawSubject) {
		return Claims{}, distrust(err, "certificate of %s is not signed by this deployment's CA (%q; it names %q as issuer): it was enrolled elsewhere, or is forged", who, ca.Subject.CommonName, cert.Issuer.CommonName)
	}
	if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 ||
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return Claims{}, distrust(nil, "certificate of %s is not for node-to-node TLS (it needs digital signature, server and client authentication usages)", who)
	}
	claims, err := ClaimsOf(cert)
	if err != nil {
		return Claims{}, distrust(err, "certificate of %s signed by this deployment's CA has bad claims: %v", who, err)
	}
	return claims, nil
}

// VerifyPeer checks a certificate presented by a peer: it is a node's
// certificate signed by ca, within its validity at now (as is ca), fit for
// node-to-node TLS, and its claims parse, with a node id that is its key's.
// It returns the claims. Its errors wrap ErrUntrusted and say what is wrong
// and with which node: "certificate of cayo-laptop-07 (field, Cayo, node …)
// expired on 2026-01-02 14:00 UTC …".
//
// Host names and addresses are not checked: nodes are known by id, and a
// laptop's address changes with every network it joins.
func VerifyPeer(cert *x509.Certificate, ca *x509.Certificate, now time.Time) (Claims, error) {
	claims, err := checkChain(cert, ca)
	if err != nil {
		return Claims{}, err
	}
	if now.After(ca.NotAfter) {
		return Claims{}, distrust(nil, "this deployment's CA certificate (%q) expired on %s (this computer's clock says %s); headquarters must make a new CA and re-enroll every node", ca.Subject.CommonName, fmtTime(ca.NotAfter), fmtTime(now))
	}
	if now.Before(cert.NotBefore) {
		return Claims{}, distrust(nil, "certificate of %s is not valid until %s (this computer's clock says %s); check the clocks of both computers", claims, fmtTime(cert.NotBefore), fmtTime(now))
	}
	if now.After(cert.NotAfter) {
		return Claims{}, distrust(nil, "certificate of %s expired on %s (this computer's clock says %s); re-enroll the node with headquarters", claims, fmtTime(cert.NotAfter), fmtTime(now))
	}
	// The checks above give clear errors; the standard path validation is
	// the backstop for everything else RFC 5280 asks (critical extensions,
	// name chaining, the CA's own validity and constraints).
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err = cert.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return Claims{}, distrust(err, "certificate of %s does not verify against this deployment's CA: %v", claims, err)
	}
	return claims, nil
}

// pemCert is a certificate as PEM.
func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: c.Raw})
}

// syncDir makes a folder's new entries durable where the system allows it;
// on systems that cannot sync a folder (Windows) it does nothing.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// VerifyOrigin checks the certificate of a node whose changes arrive,
// perhaps relayed long after they were written: it is a node's certificate
// signed by ca, with valid claims. Its dates are not checked: a change
// signed while the certificate was valid stays valid once it has expired.
// Withdrawing trust from a node is revocation's work, not expiry's.
func VerifyOrigin(cert, ca *x509.Certificate) (Claims, error) {
	return checkChain(cert, ca)
}
