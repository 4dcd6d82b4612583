package identity

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// ServerTLS is the TLS config a node accepts peers with: TLS 1.3 only, the
// node's certificate, and a required client certificate checked with
// VerifyPeer against the node's CA at c.Now. A peer that presents no
// certificate, one the CA did not sign, or an expired one fails the handshake,
// before the server reads any application byte.
//
// Session tickets are off: every connection is a full handshake whose peer
// certificate is checked against the clock of the day, and a thin link does
// not carry tickets no client keeps.
func (c *Credentials) ServerTLS() *tls.Config {
	cfg := c.baseTLS()
	cfg.ClientAuth = tls.RequireAnyClientCert
	cfg.SessionTicketsDisabled = true
	return cfg
}

// ClientTLS is the TLS config a node dials peers with: TLS 1.3 only, the
// node's certificate offered to the server, and the server's certificate
// checked with VerifyPeer against the node's CA at c.Now.
//
// No server name is checked: nodes are known by id, not by name or address.
// Read who answered from PeerClaims, and check it is the node meant.
func (c *Credentials) ClientTLS() *tls.Config {
	cfg := c.baseTLS()
	cert := cfg.Certificates[0]
	// Always offer the node's certificate, whatever the server's request
	// says it accepts: the server decides, and says why it refuses.
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return cfg
}

func (c *Credentials) baseTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		// The leaf alone: peers trust the CA certificate they already hold,
		// and every byte counts on a satellite or radio link.
		Certificates: []tls.Certificate{{
			Certificate: [][]byte{c.Cert.Raw},
			PrivateKey:  c.Key.Signer(),
			Leaf:        c.Cert,
		}},
		// Go's own verification checks a host name, which nodes do not have;
		// VerifyConnection does the whole check instead, on every handshake,
		// resumed ones included.
		InsecureSkipVerify: true,
		VerifyConnection:   c.verifyConnection,
	}
}

// verifyConnection accepts a TLS 1.3 connection whose peer presented a node
// certificate VerifyPeer accepts, neither revoked nor superseded.
func (c *Credentials) verifyConnection(cs tls.ConnectionState) error {
	if cs.Version != tls.VersionTLS13 {
		return fmt.Errorf("TLS version %s: Lifeline nodes speak TLS 1.3 only", tls.VersionName(cs.Version))
	}
	if len(cs.PeerCertificates) == 0 {
		return distrust(nil, "the peer presented no certificate; every Lifeline node presents the one headquarters issued it")
	}
	claims, err := VerifyPeer(cs.PeerCertificates[0], c.CA, c.now())
	if err != nil {
		return err
	}
	if c.Revoked != nil {
		if err := c.Revoked(claims.Node); err != nil {
			return distrust(err, "%s is revoked: %v", claims, err)
		}
	}
	if c.Superseded != nil {
		if err := c.Superseded(claims, cs.PeerCertificates[0]); err != nil {
			return distrust(err, "the certificate of %s is superseded: %v", claims, err)
		}
	}
	return nil
}

// PeerClaims returns the claims of the peer of a connection made with a
// ServerTLS or ClientTLS config, whose handshake already checked them with
// VerifyPeer. It does not check the certificate again: on a connection made
// with another config it would believe anyone.
func PeerClaims(cs tls.ConnectionState) (Claims, error) {
	if !cs.HandshakeComplete {
		return Claims{}, errors.New("peer claims: the TLS handshake is not complete")
	}
	if len(cs.PeerCertificates) == 0 {
		return Claims{}, errors.New("peer claims: the peer presented no certificate")
	}
	c, err := ClaimsOf(cs.PeerCertificates[0])
	if err != nil {
		return Claims{}, fmt.Errorf("peer claims: %w", err)
	}
	return c, nil
}
