package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"

	"lifeline/syncproto"
)

// maxPEMInput bounds an enrollment request or bundle. A real one is under
// 2 KiB; the bound keeps a hostile file from costing memory or time.
const maxPEMInput = 64 << 10

const (
	pemRequest     = "CERTIFICATE REQUEST"
	pemCertificate = "CERTIFICATE"
)

// Request makes an enrollment request: an X.509 certificate signing request
// (PEM "CERTIFICATE REQUEST") that carries c and is signed with the node's own
// key, so the CA sees that whoever asks for a certificate holds the key. The
// private key never leaves the node; only the request goes to headquarters.
//
// c.Node may be left zero: it is the key's id. The name is trimmed and the
// district put in its canonical spelling ("cayo" becomes "Cayo").
func (k *Key) Request(c Claims) ([]byte, error) {
	switch {
	case c.Node.IsZero():
		c.Node = k.id
	case c.Node != k.id:
		return nil, fmt.Errorf("enrollment request: the claims are for node %s but this key is node %s; leave Claims.Node empty", c.Node, k.id)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("enrollment request: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, requestTemplate(c.canonical()), k.priv)
	if err != nil {
		return nil, fmt.Errorf("enrollment request: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: der}), nil
}

// requestTemplate is the CSR Request signs for canonical claims c.
func requestTemplate(c Claims) *x509.CertificateRequest {
	return &x509.CertificateRequest{
		Subject:            subject(c),
		URIs:               []*url.URL{claimsURI(c)},
		SignatureAlgorithm: x509.PureEd25519,
	}
}

// ParseRequest reads an enrollment request made by Key.Request and checks it:
// one PEM "CERTIFICATE REQUEST" of at most 64 KiB, an Ed25519 key, a valid
// signature by that key (the requester holds it), claims in the form Request
// writes whose node id is the key's, and valid claims. It returns the claims,
// canonical, and the key. Nothing else in the request is used: Sign builds the
// certificate from these two alone.
func ParseRequest(pemBytes []byte) (Claims, ed25519.PublicKey, error) {
	c, pub, err := parseRequest(pemBytes)
	if err != nil {
		return Claims{}, nil, fmt.Errorf("enrollment request: %w", err)
	}
	return c, pub, nil
}

func parseRequest(pemBytes []byte) (Claims, ed25519.PublicKey, error) {
	if len(pemBytes) > maxPEMInput {
		return Claims{}, nil, fmt.Errorf("%d bytes, more than the %d KiB a request may be; is this the file Request wrote?", len(pemBytes), maxPEMInput>>10)
	}
	block, rest := pem.Decode(pemBytes)
	if block == nil {
		return Claims{}, nil, fmt.Errorf("no PEM %q block found; is this the file Request wrote?", pemRequest)
	}
	if block.Type != pemRequest {
		return Claims{}, nil, fmt.Errorf("PEM block is %q, want %q", block.Type, pemRequest)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return Claims{}, nil, errors.New("data after the request; send the request alone")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return Claims{}, nil, fmt.Errorf("not a certificate request: %v", err)
	}
	pub, ok := csr.PublicKey.(ed25519.PublicKey)
	if !ok || csr.PublicKeyAlgorithm != x509.Ed25519 {
		return Claims{}, nil, fmt.Errorf("the key is %v, not Ed25519; make the request with the node's own key (Key.Request)", csr.PublicKeyAlgorithm)
	}
	if csr.SignatureAlgorithm != x509.PureEd25519 {
		return Claims{}, nil, fmt.Errorf("signed with %v, want Ed25519", csr.SignatureAlgorithm)
	}
	if err := csr.CheckSignature(); err != nil {
		return Claims{}, nil, fmt.Errorf("the signature does not verify (the request was altered or damaged in transit; ask the node for it again): %v", err)
	}
	c, err := parseClaims(csr.URIs, csr.Subject.CommonName)
	if err != nil {
		return Claims{}, nil, err
	}
	if got := syncproto.NodeIDFromKey(pub); got != c.Node {
		return Claims{}, nil, fmt.Errorf("it claims node %s but is signed by node %s's key", c.Node, got)
	}
	return c, pub, nil
}
