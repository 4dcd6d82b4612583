package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"lifeline/syncproto"
)

// KeyFile is the name of the private key in a node's data folder.
const KeyFile = "node.key"

// ErrKey is wrapped by errors about a node's key file.
var ErrKey = errors.New("node key")

// Key is a node's signing key.
type Key struct {
	priv ed25519.PrivateKey
	id   syncproto.NodeID
}

// NewKey makes a fresh key pair.
func NewKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: generate: %v", ErrKey, err)
	}
	return fromPrivate(priv), nil
}

func fromPrivate(priv ed25519.PrivateKey) *Key {
	return &Key{priv: priv, id: syncproto.NodeIDFromKey(priv.Public().(ed25519.PublicKey))}
}

// ID is the node id the key defines.
func (k *Key) ID() syncproto.NodeID { return k.id }

// Public is the public half of the key.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// Signer exposes the key for TLS certificates.
func (k *Key) Signer() ed25519.PrivateKey { return k.priv }

// SignHead signs the chain head of one of this node's lanes: one signature
// vouches for every change of the lane up to seq.
func (k *Key) SignHead(lane uint8, seq uint64, head syncproto.Hash) []byte {
	return ed25519.Sign(k.priv, syncproto.HeadMessage(syncproto.Stream{Origin: k.id, Lane: lane}, seq, head))
}

// VerifyHead checks an origin's signature over a stream's chain head.
func VerifyHead(pub ed25519.PublicKey, s syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, syncproto.HeadMessage(s, seq, head), sig)
}

// Save writes the private key as PKCS #8 PEM, readable by the owner only.
// It refuses to overwrite an existing key: losing a key orphans every change
// the node signed.
func (k *Key) Save(path string) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrKey, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("%w: write %s: %v", ErrKey, path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%w: write %s: %v", ErrKey, path, err)
	}
	return f.Close()
}

// Load reads a key written by Save.
func Load(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s holds no PEM private key", ErrKey, path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKey, path, err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an Ed25519 key", ErrKey, path)
	}
	return fromPrivate(priv), nil
}
