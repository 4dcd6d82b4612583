package syncproto

import (
	"crypto/ed25519"
	"fmt"
)

// Receipt is headquarters' statement that the ledger committed a stream's
// changes 1 to Seq, whose chain head is Head: how a field laptop learns
// that HQ has its reports. It is signed by an HQ node (Receipts.Certs
// holds the signers' certificates), and a node believes it only once it
// has checked that Head is the chain hash it holds at Seq.
type Receipt struct {
	_      struct{} `cbor:",toarray"`
	Stream Stream
	Seq    uint64
	Head   Hash
	Signer uint16 // index of the signer's certificate in Receipts.Certs
	Sig    []byte
}

// Receipts carries receipts, and the certificates of the HQ nodes that
// signed them. CBOR keys are append-only.
type Receipts struct {
	Certs    [][]byte  `cbor:"1,keyasint"`
	Receipts []Receipt `cbor:"2,keyasint"`
}

// Bounds on a Receipts message.
const (
	// MaxReceipts bounds the receipts of one message: a deployment's
	// streams, two thousand laptops' lanes and then some.
	MaxReceipts = 1 << 16
	// MaxReceiptSigners bounds the signers' certificates.
	MaxReceiptSigners = 16
)

// Check bounds a Receipts message and checks each receipt's shape.
func (r *Receipts) Check() error {
	if len(r.Receipts) > MaxReceipts || len(r.Certs) > MaxReceiptSigners {
		return fmt.Errorf("%w: %d receipts by %d signers, the limits are %d and %d", ErrTooLarge, len(r.Receipts), len(r.Certs), MaxReceipts, MaxReceiptSigners)
	}
	for _, der := range r.Certs {
		if len(der) == 0 || len(der) > MaxCertBytes {
			return fmt.Errorf("%w: a certificate of %d bytes", ErrMalformed, len(der))
		}
	}
	for _, x := range r.Receipts {
		switch {
		case x.Stream.Origin.IsZero() || !ValidLane(x.Stream.Lane) || x.Seq == 0:
			return fmt.Errorf("%w: a receipt of %s at %d", ErrMalformed, x.Stream, x.Seq)
		case int(x.Signer) >= len(r.Certs):
			return fmt.Errorf("%w: a receipt by signer %d of %d", ErrMalformed, x.Signer, len(r.Certs))
		case len(x.Sig) != ed25519.SignatureSize:
			return fmt.Errorf("%w: a receipt's signature of %d bytes", ErrMalformed, len(x.Sig))
		}
	}
	return nil
}

// ReceiptMessage is what an HQ node signs in a receipt.
func ReceiptMessage(s Stream, seq uint64, head Hash) []byte {
	const domain = "lifeline/receipt/v1"
	b := make([]byte, 0, len(domain)+16+1+8+32)
	b = append(b, domain...)
	b = append(b, s.Origin[:]...)
	b = append(b, s.Lane)
	b = append(b, byte(seq>>56), byte(seq>>48), byte(seq>>40), byte(seq>>32), byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq))
	return append(b, head[:]...)
}
