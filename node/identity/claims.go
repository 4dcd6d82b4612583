package identity

import (
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"lifeline/schemas"
	"lifeline/syncproto"
)

// Organization is the subject organization of every certificate a Lifeline
// CA issues, its own included. It is informative: trust comes from the CA's
// signature and the claims URI, never from this name.
const Organization = "NEMO Belize Lifeline"

// MaxNameLen bounds a node's name in bytes. It is X.509's upper bound for a
// common name, which carries the name, and the bound node.Identity applies.
const MaxNameLen = 64

// Claims is what a node's certificate says about it: who it is (its node id,
// bound to its key) and what headquarters enrolled it as. Peers decide what a
// node may do from these claims, so they are only believed from a certificate
// that VerifyPeer accepted.
type Claims struct {
	// Node is the node's id, derived from its Ed25519 public key.
	Node syncproto.NodeID
	// Name is what people call the node, e.g. cayo-laptop-07.
	Name string
	// Role is field, relay or hq.
	Role syncproto.Role
	// District is one of schemas.Districts, in its canonical spelling once
	// the claims have been through Request, ParseRequest or ClaimsOf.
	District string
}

// Validate says what is wrong with the claims, all of it at once: the node id
// must be set, the name 1 to 64 bytes of printable UTF-8 (surrounding space is
// ignored), the role one of field, relay, hq, and the district one of Belize's
// six in any case or spacing.
func (c Claims) Validate() error {
	var errs []error
	if c.Node.IsZero() {
		errs = append(errs, errors.New("node id: none given (it is derived from the node's key)"))
	}
	name := strings.TrimSpace(c.Name)
	switch {
	case name == "" || len(name) > MaxNameLen:
		errs = append(errs, fmt.Errorf("node name %q: 1 to %d characters, e.g. cayo-laptop-07", c.Name, MaxNameLen))
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		errs = append(errs, fmt.Errorf("node name %q: only printable characters, e.g. cayo-laptop-07", c.Name))
	}
	if !c.Role.Valid() {
		errs = append(errs, fmt.Errorf("role %q: one of %s", c.Role, syncproto.RoleList()))
	}
	if _, ok := schemas.District(c.District); !ok {
		errs = append(errs, fmt.Errorf("district %q: one of %s", c.District, strings.Join(schemas.Districts, ", ")))
	}
	return errors.Join(errs...)
}

// canonical returns valid claims in the one form certificates carry: the
// name without surrounding space and the district as schemas.Districts spells
// it. Two spellings of the same claims would otherwise be two identities.
func (c Claims) canonical() Claims {
	c.Name = strings.TrimSpace(c.Name)
	if d, ok := schemas.District(c.District); ok {
		c.District = d
	}
	return c
}

// String names the node for logs and messages, e.g.
// "cayo-laptop-07 (field, Cayo, node 0123…)".
func (c Claims) String() string {
	return fmt.Sprintf("%s (%s, %s, node %s)", c.Name, c.Role, c.District, c.Node)
}

// uriScheme and uriHost make the claims URI lifeline://node/<id>?….
const (
	uriScheme = "lifeline"
	uriHost   = "node"
)

// claimsURI encodes canonical claims as the certificate's URI SAN:
// lifeline://node/<id>?name=<name>&role=<role>&district=<district>.
func claimsURI(c Claims) *url.URL {
	return &url.URL{
		Scheme:   uriScheme,
		Host:     uriHost,
		Path:     "/" + c.Node.String(),
		RawQuery: "name=" + url.QueryEscape(c.Name) + "&role=" + url.QueryEscape(string(c.Role)) + "&district=" + url.QueryEscape(c.District),
	}
}

// subject is the X.509 subject a node's request and certificate carry.
func subject(c Claims) pkix.Name {
	return pkix.Name{CommonName: c.Name, Organization: []string{Organization}}
}

// parseClaims reads claims from a request's or certificate's URI SANs and
// subject common name. It accepts only the canonical form claimsURI writes.
// It does not check the node id against a key: its callers do.
func parseClaims(uris []*url.URL, commonName string) (Claims, error) {
	var c Claims
	if len(uris) != 1 {
		return c, fmt.Errorf("%d URI names, want exactly one lifeline://node/… URI carrying the node's claims", len(uris))
	}
	u := uris[0]
	const want = "want lifeline://node/<node id>?name=…&role=…&district=…"
	if u.Scheme != uriScheme || u.Host != uriHost || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return c, fmt.Errorf("claims URI %q: %s", u.Redacted(), want)
	}
	id, err := syncproto.ParseNodeID(strings.TrimPrefix(u.EscapedPath(), "/"))
	if err != nil || u.EscapedPath() != "/"+id.String() {
		return c, fmt.Errorf("claims URI %q: the path is not a node id; %s", u.Redacted(), want)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("claims URI %q: query: %v", u.Redacted(), err)
	}
	for k, v := range q {
		if k != "name" && k != "role" && k != "district" {
			return c, fmt.Errorf("claims URI %q: unknown claim %q; %s", u.Redacted(), k, want)
		}
		if len(v) != 1 {
			return c, fmt.Errorf("claims URI %q: claim %q given %d times, want once", u.Redacted(), k, len(v))
		}
	}
	if len(q) != 3 {
		return c, fmt.Errorf("claims URI %q: name, role and district are all required; %s", u.Redacted(), want)
	}
	c = Claims{Node: id, Name: q.Get("name"), Role: syncproto.Role(q.Get("role")), District: q.Get("district")}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.canonical() != c {
		return c, fmt.Errorf("claims URI %q: name or district not in canonical form (want %q, %q)", u.Redacted(), c.canonical().Name, c.canonical().District)
	}
	if commonName != c.Name {
		return c, fmt.Errorf("subject common name %q differs from the claimed name %q", commonName, c.Name)
	}
	return c, nil
}

// ClaimsOf reads and checks the claims a node certificate carries: its one
// lifeline://node/ URI, valid claims in canonical form, a common name equal
// to the claimed name, and a node id that is its Ed25519 key's. It does not
// check who signed the certificate or when it expires: use VerifyPeer for a
// certificate that came over a network.
func ClaimsOf(cert *x509.Certificate) (Claims, error) {
	if cert == nil {
		return Claims{}, errors.New("certificate claims: no certificate")
	}
	c, err := parseClaims(cert.URIs, cert.Subject.CommonName)
	if err != nil {
		return Claims{}, fmt.Errorf("certificate claims: %w", err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return Claims{}, fmt.Errorf("certificate claims: the key is %v, not Ed25519; node keys are Ed25519", cert.PublicKeyAlgorithm)
	}
	if got := syncproto.NodeIDFromKey(pub); got != c.Node {
		return Claims{}, fmt.Errorf("certificate claims: it claims node %s but its key is node %s's", c.Node, got)
	}
	return c, nil
}

// Supersedes reports whether newer, a certificate of the same node as
// older, takes its place: signed later and ending later, it says another
// name, role or district (a responder who moved). A node is then what
// newer says, whatever older, still signed and unexpired, says. One
// renewed with the same claims does not: a node whose renewal is on its
// way keeps using the older.
func Supersedes(newer, older *x509.Certificate) bool {
	if !newer.NotBefore.After(older.NotBefore) || !newer.NotAfter.After(older.NotAfter) {
		return false
	}
	a, err := ClaimsOf(newer)
	if err != nil {
		return false
	}
	b, err := ClaimsOf(older)
	return err == nil && a.Node == b.Node && (a.Name != b.Name || a.Role != b.Role || a.District != b.District)
}
