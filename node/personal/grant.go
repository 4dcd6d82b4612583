package personal

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// Grant hands a district's data keys to the nodes allowed to hold them:
// headquarters makes it, for the district's nodes and its own HQ nodes,
// and signs it as a notice; any node passes it on, and those it is for
// open it. It carries every epoch's key headquarters holds of the
// district, so that a node added later reads what was written before it
// came; a node revoked is left out of the next epoch's grant, and the new
// key it does not get seals what is written afterwards.
type Grant struct {
	District string `cbor:"1,keyasint"` // "" for headquarters' own key
	Epoch    uint32 `cbor:"2,keyasint"` // the highest epoch it carries
	// Issued is when headquarters made it, in Unix milliseconds: of two
	// grants of one epoch, the later one has the readers headquarters
	// knows of now.
	Issued  int64              `cbor:"3,keyasint"`
	Readers []syncproto.NodeID `cbor:"4,keyasint"` // sorted, unique
	// Box is the keys, as the CBOR of a list of DataKey, encrypted with
	// age for every reader's Ed25519 key.
	Box []byte `cbor:"5,keyasint"`
}

// Bounds on a grant: a receiver refuses one past them before it opens it.
const (
	// MaxGrantReaders bounds the nodes of one grant: a district's
	// laptops and relays, and HQ's nodes.
	MaxGrantReaders = 4096
	// MaxGrantBytes bounds a grant, signed: age writes about 150 bytes
	// for each reader.
	MaxGrantBytes = 1 << 20
	// MaxEpochs bounds the keys one grant carries.
	MaxEpochs = 1024
)

// ErrNotReader: the grant is not for this node.
var ErrNotReader = errors.New("the grant is not for this node")

// NewGrant makes a grant of keys, all of one district, for readers.
func NewGrant(keys []DataKey, readers map[syncproto.NodeID]ed25519.PublicKey, issued time.Time) (*Grant, error) {
	if len(keys) == 0 || len(keys) > MaxEpochs {
		return nil, fmt.Errorf("a grant carries 1 to %d keys, not %d", MaxEpochs, len(keys))
	}
	if len(readers) == 0 || len(readers) > MaxGrantReaders {
		return nil, fmt.Errorf("a grant is for 1 to %d nodes, not %d", MaxGrantReaders, len(readers))
	}
	keys = slices.Clone(keys)
	sortKeys(keys)
	g := &Grant{District: keys[0].District, Epoch: keys[len(keys)-1].Epoch, Issued: issued.UnixMilli()}
	for _, k := range keys {
		if k.District != g.District {
			return nil, fmt.Errorf("a grant of %q carries a key of %q", g.District, k.District)
		}
	}
	var pubs []ed25519.PublicKey
	for id := range readers {
		g.Readers = append(g.Readers, id)
	}
	slices.SortFunc(g.Readers, func(a, b syncproto.NodeID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range g.Readers {
		pubs = append(pubs, readers[id])
	}
	plain, err := syncproto.Marshal(keys)
	if err != nil {
		return nil, err
	}
	var box bytes.Buffer
	w, err := identity.Encrypting(&box, pubs)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	g.Box = box.Bytes()
	return g, g.Check()
}

// Check checks a grant's shape and bounds.
func (g *Grant) Check() error {
	switch {
	case len(g.District) > syncproto.MaxNameLen:
		return fmt.Errorf("a grant of a district named in %d bytes", len(g.District))
	case g.Epoch == 0:
		return errors.New("a grant of epoch 0")
	case len(g.Readers) == 0 || len(g.Readers) > MaxGrantReaders:
		return fmt.Errorf("a grant for %d nodes: 1 to %d", len(g.Readers), MaxGrantReaders)
	case len(g.Box) == 0 || len(g.Box) > MaxGrantBytes:
		return fmt.Errorf("a grant of %d bytes: at most %d", len(g.Box), MaxGrantBytes)
	}
	for i := 1; i < len(g.Readers); i++ {
		if bytes.Compare(g.Readers[i-1][:], g.Readers[i][:]) >= 0 {
			return errors.New("a grant's readers are not sorted and unique")
		}
	}
	return nil
}

// For says whether the grant names node among its readers.
func (g *Grant) For(node syncproto.NodeID) bool {
	_, ok := slices.BinarySearchFunc(g.Readers, node, func(a, b syncproto.NodeID) int { return bytes.Compare(a[:], b[:]) })
	return ok
}

// Open returns the keys the grant carries, with the reader's key. Every
// key must be of the grant's district and epoch 1 to the grant's, the
// grant's own epoch among them.
func (g *Grant) Open(k *identity.Key) ([]DataKey, error) {
	if err := g.Check(); err != nil {
		return nil, err
	}
	if !g.For(k.ID()) {
		return nil, ErrNotReader
	}
	r, err := k.Decrypting(bytes.NewReader(g.Box))
	if err != nil {
		return nil, fmt.Errorf("the grant of %q, epoch %d: %w", g.District, g.Epoch, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxEpochs*64+16))
	if err != nil {
		return nil, fmt.Errorf("the grant of %q, epoch %d: %w", g.District, g.Epoch, err)
	}
	var keys []DataKey
	if err := syncproto.Unmarshal(plain, &keys); err != nil {
		return nil, fmt.Errorf("the grant of %q, epoch %d: its keys: %v", g.District, g.Epoch, err)
	}
	top := false
	for _, key := range keys {
		switch {
		case key.District != g.District || key.Epoch == 0 || key.Epoch > g.Epoch || len(key.Key) != keyLen:
			return nil, fmt.Errorf("the grant of %q, epoch %d, carries a key of %q, epoch %d", g.District, g.Epoch, key.District, key.Epoch)
		case key.Epoch == g.Epoch:
			top = true
		}
	}
	if !top || len(keys) > MaxEpochs {
		return nil, fmt.Errorf("the grant of %q, epoch %d, does not carry its epoch's key", g.District, g.Epoch)
	}
	return keys, nil
}

func sortKeys(keys []DataKey) {
	slices.SortFunc(keys, func(a, b DataKey) int {
		return cmp.Or(cmp.Compare(a.Epoch, b.Epoch), bytes.Compare(keyID(a), keyID(b)))
	})
}
