package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/node/photos"
	"lifeline/syncproto"
)

// Headquarters' word that it holds a full image (docs/photos.md,
// "Confirmed"): a laptop may drop a full image headquarters holds, and
// only then. An HQ node signs that word for each full image a peer asks
// about and it holds whole; relays keep the words they are given, beside
// the photo, and pass them on to the laptops that ask. A laptop believes
// one only once it has checked it is an HQ node's of this deployment, not
// revoked: a relay that could make one would make a laptop drop the only
// copy of a photo.

// A proof, as the photo store keeps it beside a photo: the signer's node
// id, then its signature over syncproto.PhotoHeldMessage.
const proofBytes = len(syncproto.NodeID{}) + ed25519.SignatureSize

func makeProof(signer syncproto.NodeID, sig []byte) []byte {
	return append(append(make([]byte, 0, proofBytes), signer[:]...), sig...)
}

// readProof splits a proof kept beside a photo; ok is false for none.
func readProof(b []byte) (signer syncproto.NodeID, sig []byte, ok bool) {
	if len(b) != proofBytes {
		return signer, nil, false
	}
	copy(signer[:], b)
	return signer, b[len(signer):], true
}

// Unconfirmed are the full images held here, oldest first, that a peer
// may have headquarters' word on: on a laptop, those not confirmed; on a
// relay, which passes the words on, those it holds no word of an HQ node
// not revoked since. Headquarters asks for none.
func (p *photoPeer) Unconfirmed(ctx context.Context) ([]syncproto.Hash, error) {
	self := p.n.Self()
	if self.Role.Decides() {
		return nil, nil
	}
	s, err := p.n.PhotoStore()
	if err != nil {
		return nil, err
	}
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	var out []syncproto.Hash
	for _, ph := range list {
		if len(out) == syncproto.MaxPhotoWants {
			break
		}
		if !ph.Has(photos.Full) {
			continue
		}
		if self.Role.Field() && ph.Confirmed {
			continue
		}
		if !self.Role.Field() {
			if signer, _, ok := readProof(ph.Proof); ok && !p.n.trust.Revoked(signer) {
				continue
			}
		}
		h, err := hex.DecodeString(ph.ID)
		if err != nil {
			continue
		}
		out = append(out, syncproto.Hash(h))
	}
	return out, nil
}

// Confirmations answers a peer's Confirm. An HQ node signs its word for
// each full image asked about that it holds whole (unless headquarters
// revoked it); another node passes on the words it keeps, of HQ nodes it
// does not know revoked. A word says only that headquarters holds the
// bytes of an id the asker already has: it is given whatever the asker's
// district.
func (p *photoPeer) Confirmations(ctx context.Context, ids []syncproto.Hash) ([][]byte, []syncproto.PhotoHeld, error) {
	s, err := p.n.PhotoStore()
	if err != nil {
		return nil, nil, err
	}
	self := p.n.Self()
	if self.Role.Decides() {
		creds := p.n.Credentials()
		if creds == nil || p.n.trust.Revoked(self.ID) {
			return nil, nil, nil
		}
		var held []syncproto.PhotoHeld
		for _, id := range ids {
			if info, err := s.Info(hex.EncodeToString(id[:])); err != nil || !info.Has(photos.Full) {
				continue
			}
			held = append(held, syncproto.PhotoHeld{ID: id, Sig: ed25519.Sign(p.n.key.Signer(), syncproto.PhotoHeldMessage(id))})
		}
		if len(held) == 0 {
			return nil, nil, nil
		}
		return [][]byte{creds.Cert.Raw}, held, nil
	}
	var certs [][]byte
	var held []syncproto.PhotoHeld
	signers := map[syncproto.NodeID]uint16{}
	for _, id := range ids {
		info, err := s.Info(hex.EncodeToString(id[:]))
		if err != nil {
			continue
		}
		signer, sig, ok := readProof(info.Proof)
		if !ok || p.n.trust.Revoked(signer) {
			continue
		}
		i, known := signers[signer]
		if !known {
			if len(certs) == syncproto.MaxHeldSigners {
				continue
			}
			der, err := p.n.trust.Certs(ctx, []syncproto.NodeID{signer})
			if err != nil {
				return nil, nil, err
			}
			if len(der) == 0 {
				continue
			}
			i = uint16(len(certs))
			certs = append(certs, der[0])
			signers[signer] = i
		}
		held = append(held, syncproto.PhotoHeld{ID: id, Signer: i, Sig: sig})
	}
	return certs, held, nil
}

// Confirmed checks every confirmation a peer sent (its signer's
// certificate of this deployment's CA, an HQ node's, not revoked here, and
// its signature over the photo's id) before it marks any full image
// confirmed: one that does not check refuses them all.
func (p *photoPeer) Confirmed(ctx context.Context, certs [][]byte, held []syncproto.PhotoHeld) error {
	type signer struct {
		claims identity.Claims
		pub    ed25519.PublicKey
		err    error
	}
	t := p.n.trust
	signers := make([]*signer, len(certs))
	check := func(i int) *signer {
		if signers[i] != nil {
			return signers[i]
		}
		sg := &signer{}
		cert, claims, err := t.check(certs[i])
		switch {
		case err != nil:
			sg.err = fmt.Errorf("%w: its signer's certificate does not check: %v", peersync.ErrBadConfirmation, err)
		case !claims.Role.Decides():
			sg.err = fmt.Errorf("%w: signed by %s, not an HQ node", peersync.ErrBadConfirmation, claims)
		default:
			revoked, err := t.store.Revoked(ctx, claims.Node)
			switch {
			case err != nil:
				sg.err = err
			case revoked:
				sg.err = fmt.Errorf("%w: signed by %s, which headquarters revoked", peersync.ErrBadConfirmation, claims)
			default:
				sg.claims, sg.pub = claims, cert.PublicKey.(ed25519.PublicKey)
				if err := t.put(ctx, cert, claims); err != nil {
					sg.err = err
				}
			}
		}
		signers[i] = sg
		return sg
	}
	for _, h := range held {
		sg := check(int(h.Signer))
		switch {
		case sg.err != nil:
			return fmt.Errorf("the confirmation of photo %x: %w", h.ID[:8], sg.err)
		case !ed25519.Verify(sg.pub, syncproto.PhotoHeldMessage(h.ID), h.Sig):
			return fmt.Errorf("the confirmation of photo %x: %w: its signature is not the word of %s on this photo", h.ID[:8], peersync.ErrBadConfirmation, sg.claims)
		}
	}
	s, err := p.n.PhotoStore()
	if err != nil {
		return err
	}
	for _, h := range held {
		proof := makeProof(signers[h.Signer].claims.Node, h.Sig)
		if err := s.ConfirmWith(hex.EncodeToString(h.ID[:]), proof); err != nil && !errors.Is(err, photos.ErrNotFound) {
			return err
		}
	}
	return nil
}
