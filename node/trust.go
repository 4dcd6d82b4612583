package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// trust vouches for origins: it knows the deployment's CA (once the node is
// enrolled) and the certificates of the nodes whose changes arrive, and
// checks their signatures. It is safe for concurrent use.
type trust struct {
	store *store.SQLite
	log   *slog.Logger
	// learned is called when AddCerts stored a node's certificate this
	// node did not hold: a change kept aside may have waited for it.
	learned func(context.Context)
	// dropper, while a daemon runs, closes a node's connections once
	// headquarters revoked it.
	dropper atomic.Pointer[func(syncproto.NodeID)]
	// grants checks, keeps and opens grants of data keys (personal.go).
	grants atomic.Pointer[func(context.Context, [][]byte) (int, error)]
	// people keeps a revocation of a person a list brought (people.go).
	people atomic.Pointer[func(context.Context, *notice, []byte) error]
	// kits takes the kits a list brought (kits.go).
	kits atomic.Pointer[func(context.Context, [][]byte) (int, error)]

	mu      sync.Mutex
	ca      *x509.Certificate // nil until enrolled
	keys    map[syncproto.NodeID]ed25519.PublicKey
	origins map[syncproto.NodeID]originInfo
}

// originInfo is who an origin is, as its certificate says, and whether
// headquarters revoked it.
type originInfo struct {
	Name, District string
	Role           syncproto.Role
	// Revoked, Trusted: the node is revoked, and its changes after
	// Trusted (per stream) are refused.
	Revoked bool
	Trusted syncproto.Vector
}

// origin says who a node is, from the certificate this node holds of it.
func (t *trust) origin(node syncproto.NodeID) (originInfo, bool) {
	t.mu.Lock()
	o, ok := t.origins[node]
	t.mu.Unlock()
	if ok {
		return o, true
	}
	n, found, err := t.store.Node(context.Background(), node)
	if err != nil || !found {
		return originInfo{}, false
	}
	o = originInfo{Name: n.Name, District: n.District, Role: n.Role}
	if o.Trusted, o.Revoked, err = t.store.Revocation(context.Background(), node); err != nil {
		return originInfo{}, false
	}
	t.mu.Lock()
	if t.origins == nil {
		t.origins = map[syncproto.NodeID]originInfo{}
	}
	t.origins[node] = o
	t.mu.Unlock()
	return o, true
}

// setCA is the deployment's CA, once the node is enrolled.
// began is when the deployment's CA became valid, zero until enrolled:
// nothing of the deployment was written long before.
func (t *trust) began() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ca == nil {
		return time.Time{}
	}
	return t.ca.NotBefore
}

func (t *trust) setCA(ca *x509.Certificate) {
	t.mu.Lock()
	t.ca = ca
	t.mu.Unlock()
}

func newTrust() *trust { return &trust{keys: map[syncproto.NodeID]ed25519.PublicKey{}} }

// verifyHead checks an origin's signature over a stream's chain head. It is
// the store's Options.VerifyHead.
func (t *trust) verifyHead(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
	pub, err := t.key(context.Background(), st.Origin)
	if err != nil {
		return err
	}
	if !identity.VerifyHead(pub, st, seq, head, sig) {
		return fmt.Errorf("the signature of %s at %d is not %s's", st, seq, st.Origin)
	}
	return nil
}

func (t *trust) key(ctx context.Context, node syncproto.NodeID) (ed25519.PublicKey, error) {
	t.mu.Lock()
	pub, ok := t.keys[node]
	t.mu.Unlock()
	if ok {
		return pub, nil
	}
	n, found, err := t.store.Node(ctx, node)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no certificate of origin %s has reached this node", identity.ErrNotEnrolled, node)
	}
	cert, err := x509.ParseCertificate(n.Cert)
	if err != nil {
		return nil, fmt.Errorf("certificate of %s in the store: %w", node, err)
	}
	pub, ok = cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("certificate of %s has no Ed25519 key", node)
	}
	t.mu.Lock()
	t.keys[node] = pub
	t.mu.Unlock()
	return pub, nil
}

// forget drops a node's cached key, so that its next change is checked
// again (and refused, once revoked).
func (t *trust) forget(node syncproto.NodeID) {
	t.mu.Lock()
	delete(t.keys, node)
	delete(t.origins, node)
	t.mu.Unlock()
}

// Certs returns the certificates of nodes, those this node holds.
func (t *trust) Certs(ctx context.Context, nodes []syncproto.NodeID) ([][]byte, error) {
	var out [][]byte
	for _, id := range nodes {
		n, found, err := t.store.Node(ctx, id)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, n.Cert)
		}
	}
	return out, nil
}

// CheckCert verifies a certificate as an origin's, without remembering it.
func (t *trust) CheckCert(der []byte) (syncproto.NodeID, ed25519.PublicKey, error) {
	_, claims, err := t.check(der)
	if err != nil {
		return syncproto.NodeID{}, nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return claims.Node, t.keys[claims.Node], nil
}

func (t *trust) check(der []byte) (*x509.Certificate, identity.Claims, error) {
	t.mu.Lock()
	ca := t.ca
	t.mu.Unlock()
	if ca == nil {
		return nil, identity.Claims{}, fmt.Errorf("%w: this node cannot check other nodes' certificates until it is enrolled (lifeline enroll)", identity.ErrNotEnrolled)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, identity.Claims{}, fmt.Errorf("a certificate that does not parse: %w", err)
	}
	claims, err := identity.VerifyOrigin(cert, ca)
	if err != nil {
		return nil, identity.Claims{}, err
	}
	// A node is what its newest certificate says: one signed earlier for
	// the same key (before the node moved to another district), which may
	// not have expired, says nothing more.
	held, found, err := t.store.Node(context.Background(), claims.Node)
	if err != nil {
		return nil, identity.Claims{}, err
	}
	if found && held.NotAfter.After(cert.NotAfter) {
		if newer, err := x509.ParseCertificate(held.Cert); err == nil {
			cert, claims = newer, identity.Claims{Node: held.Node, Name: held.Name, Role: held.Role, District: held.District}
		}
	}
	t.mu.Lock()
	t.keys[claims.Node] = cert.PublicKey.(ed25519.PublicKey)
	if t.origins == nil {
		t.origins = map[syncproto.NodeID]originInfo{}
	}
	t.mu.Unlock()
	o := originInfo{Name: claims.Name, District: claims.District, Role: claims.Role}
	if o.Trusted, o.Revoked, err = t.store.Revocation(context.Background(), claims.Node); err != nil {
		return nil, identity.Claims{}, err
	}
	t.mu.Lock()
	t.origins[claims.Node] = o
	t.mu.Unlock()
	return cert, claims, nil
}

// claims reads a certificate's claims once check accepted it.
func (t *trust) claims(der []byte) (identity.Claims, error) {
	_, c, err := t.check(der)
	return c, err
}

// AddCerts checks certificates a peer sent and remembers them. Of those
// that do not verify, it says why the first does not and how many more:
// a peer may send 4,096, and the error is what a failed session logs.
func (t *trust) AddCerts(ctx context.Context, ders [][]byte) error {
	var first error
	bad := 0
	learned := false
	for _, der := range ders {
		cert, claims, err := t.check(der)
		if err != nil {
			if bad++; first == nil {
				first = err
			}
			continue
		}
		// Held in the store, not in the cache: check caches what it
		// checked. The same certificate again, as most sessions bring
		// those of every origin they carry, is not written again.
		held, known, err := t.store.Node(ctx, claims.Node)
		if err != nil {
			return err
		}
		if known && bytes.Equal(held.Cert, der) {
			continue
		}
		if err := t.put(ctx, cert, claims); err != nil {
			return err
		}
		learned = learned || !known
	}
	if learned && t.learned != nil {
		t.learned(ctx)
	}
	if bad > 1 {
		return fmt.Errorf("%w (and %d more certificates that do not verify)", first, bad-1)
	}
	return first
}

func (t *trust) put(ctx context.Context, cert *x509.Certificate, c identity.Claims) error {
	return t.store.PutNode(ctx, store.NodeCert{Node: c.Node, Name: c.Name, Role: c.Role, District: c.District, Cert: cert.Raw, NotAfter: cert.NotAfter})
}

// Revoked reports whether this node knows that headquarters revoked a
// node.
func (t *trust) Revoked(node syncproto.NodeID) bool {
	revoked, err := t.store.Revoked(context.Background(), node)
	return err != nil || revoked
}
