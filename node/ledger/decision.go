package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// Headquarters' decisions (enrollments, revocations, kits, conflicts it
// decides, the ledger's membership) are signed by the HQ node that made
// them, and every member's state machine checks the signature when it
// applies the entry: a relay, which may forward entries and may even lead
// the ledger while HQ is cut off, cannot make one up.

// IsDecision reports whether a command is one only headquarters decides,
// and so travels signed (a review, signed too, may also be a relay's: see
// Review).
func IsDecision(t CommandType) bool {
	switch t {
	case CmdEnroll, CmdRevoke, CmdKit, CmdResolve, CmdMember, CmdReview, CmdLink:
		return true
	}
	return false
}

// Signed is the body of a CmdSigned entry: a decision, when it was made,
// the certificate of the HQ node that made it, and that node's signature
// over DecisionMessage. CBOR keys are append-only.
type Signed struct {
	Type CommandType `cbor:"1,keyasint"`
	Body []byte      `cbor:"2,keyasint"` // the command's CBOR
	At   int64       `cbor:"3,keyasint"` // Unix milliseconds, by the signer's clock
	Cert []byte      `cbor:"4,keyasint"` // the signer's certificate, DER
	Sig  []byte      `cbor:"5,keyasint"`
}

// Decision is a decoded CmdSigned entry: the signed envelope and the
// command it carries.
type Decision struct {
	Signed
	Cmd any
}

// Digest identifies a decision by what its signer signed: the same
// decision forwarded again has the same digest, and no other has.
func (d *Decision) Digest() [32]byte {
	return sha256.Sum256(DecisionMessage(d.Type, d.At, d.Body))
}

// decisionDomain separates decisions' signatures from every other
// signature a node's key makes.
const decisionDomain = "lifeline/decision/v1"

// DecisionMessage is what an HQ node signs: the domain, the command's type,
// the time, and the command's bytes.
func DecisionMessage(t CommandType, at int64, body []byte) []byte {
	b := make([]byte, 0, len(decisionDomain)+1+8+len(body))
	b = append(b, decisionDomain...)
	b = append(b, byte(t))
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	return append(b, body...)
}

// Sign makes the ledger entry of a decision, signed by an HQ node with its
// key and certificate.
func Sign(t CommandType, cmd any, at time.Time, cert []byte, key ed25519.PrivateKey) ([]byte, error) {
	if !IsDecision(t) {
		return nil, fmt.Errorf("ledger: a %s is not one of headquarters' decisions", t)
	}
	body, err := syncproto.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	ms := at.UnixMilli()
	return Encode(CmdSigned, &Signed{Type: t, Body: body, At: ms, Cert: cert, Sig: ed25519.Sign(key, DecisionMessage(t, ms, body))})
}

func decodeSigned(body []byte) (*Decision, error) {
	var s Signed
	if err := syncproto.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	if !IsDecision(s.Type) {
		return nil, fmt.Errorf("a signed %s, which is no decision", s.Type)
	}
	if len(s.Cert) == 0 || len(s.Cert) > syncproto.MaxCertBytes || len(s.Sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("a %s whose certificate or signature is malformed", s.Type)
	}
	cmd, err := decodeCommand(s.Type, s.Body)
	if err != nil {
		return nil, err
	}
	return &Decision{Signed: s, Cmd: cmd}, nil
}

// ErrNotHQ is wrapped by the refusal of a decision that no valid,
// unrevoked HQ certificate signed.
var ErrNotHQ = errors.New("not signed by headquarters")

// ErrNotReviewer is wrapped by the refusal of a review that neither an HQ
// node nor a relay of the record's district signed; it wraps ErrNotHQ.
var ErrNotReviewer = fmt.Errorf("%w, nor by a relay of the record's district", ErrNotHQ)

// Verify checks who made a decision: a certificate of this deployment's CA,
// valid when the decision says it was made, of an HQ node not revoked
// (revoked says, from the ledger's own state), whose key signed it. It
// returns the signer's claims.
//
// The time a decision says it was made is its signer's word. So the
// certificate must also not have ended by appended, when the decision
// reached the ledger: the time its leader appended the entry, which every
// member reads in the entry alike, or the leader's clock as it takes a
// forwarded decision. Otherwise a node whose certificate ended, and that
// headquarters never had to revoke, would go on deciding by stamping its
// decisions back to when it was valid. appended is zero for a decision
// read outside the ledger (a kit passed on by sync, long after it was
// published).
func (d *Decision) Verify(ca *x509.Certificate, revoked func(syncproto.NodeID) (bool, error), appended time.Time) (identity.Claims, error) {
	cert, err := x509.ParseCertificate(d.Cert)
	if err != nil {
		return identity.Claims{}, fmt.Errorf("%w: the signer's certificate: %v", ErrNotHQ, err)
	}
	claims, err := identity.VerifyPeer(cert, ca, time.UnixMilli(d.At))
	if err != nil {
		return identity.Claims{}, fmt.Errorf("%w: %v", ErrNotHQ, err)
	}
	if !appended.IsZero() && appended.After(cert.NotAfter) {
		return claims, fmt.Errorf("%w: a %s signed by %s, whose certificate ended on %s, before the decision reached the ledger on %s",
			ErrNotHQ, d.Type, claims, cert.NotAfter.UTC().Format(time.RFC3339), appended.UTC().Format(time.RFC3339))
	}
	if r, ok := d.Cmd.(*Review); ok {
		if err := r.reviewer(claims); err != nil {
			return claims, fmt.Errorf("%w: %v", ErrNotReviewer, err)
		}
	} else if l, ok := d.Cmd.(*Link); ok {
		if err := l.linker(claims); err != nil {
			return claims, fmt.Errorf("%w: %v", ErrNotLinker, err)
		}
	} else if !claims.Role.Decides() {
		return claims, fmt.Errorf("%w: a %s signed by %s", ErrNotHQ, d.Type, claims)
	}
	gone, err := revoked(claims.Node)
	if err != nil {
		return claims, err
	}
	if gone {
		return claims, fmt.Errorf("%w: a %s signed by %s, which headquarters revoked", ErrNotHQ, d.Type, claims)
	}
	if !ed25519.Verify(cert.PublicKey.(ed25519.PublicKey), DecisionMessage(d.Type, d.At, d.Body), d.Sig) {
		return claims, fmt.Errorf("%w: a %s whose signature is not %s's", ErrNotHQ, d.Type, claims.Name)
	}
	return claims, nil
}
