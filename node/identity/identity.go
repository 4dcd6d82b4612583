package identity

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"lifeline/node/atomicfile"
	"lifeline/syncproto"
)

// KeyFile is the name of the private key in a node's data folder. It holds
// the key as PKCS #8 PEM, in the clear ("PRIVATE KEY", Save) or sealed
// with a passphrase ("LIFELINE SEALED NODE KEY", SaveSealed): the sealed
// format of Seal, whose plaintext is the same PKCS #8 bytes.
const KeyFile = "node.key"

// pemSealedNodeKey is the PEM type of a node's key sealed with a
// passphrase.
const pemSealedNodeKey = "LIFELINE SEALED NODE KEY"

// ErrKey is wrapped by errors about a node's key file.
var ErrKey = errors.New("node key")

// ErrKeySealed is wrapped by LoadKey's error when the key file is sealed
// and no Passphrase was given to open it.
var ErrKeySealed = errors.New("the node's key is sealed with a passphrase")

// ErrKeySealedAlready is wrapped by SealKeyFile's error when the key file
// is sealed already.
var ErrKeySealedAlready = errors.New("the node's key is sealed already")

// ErrKeyNotSealed is wrapped by ChangeKeyPassphrase's error when the key
// file is in the clear: there is no passphrase to change (SealKeyFile
// seals it).
var ErrKeyNotSealed = errors.New("the node's key is not sealed")

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

// Secret is a 32-byte key for one purpose, derived from the node's private
// key (HKDF-SHA256 of its seed, the purpose as info): what the node keeps
// encrypted on its own disk (its data keys, drafts) is encrypted with
// such keys, so that it is exactly as safe as the node's key file, and no
// second secret has to be kept beside it. Different purposes give
// unrelated keys.
func (k *Key) Secret(purpose string) [32]byte {
	b, err := hkdf.Key(sha256.New, k.priv.Seed(), []byte("lifeline/node-secret/v1"), purpose, 32)
	if err != nil {
		panic(err) // only for a length HKDF cannot give
	}
	return [32]byte(b)
}

// SignHead signs the chain head of one of this node's lanes: one signature
// vouches for every change of the lane up to seq.
func (k *Key) SignHead(lane uint8, seq uint64, head syncproto.Hash) []byte {
	return ed25519.Sign(k.priv, syncproto.HeadMessage(syncproto.Stream{Origin: k.id, Lane: lane}, seq, head))
}

// VerifyHead checks an origin's signature over a stream's chain head.
func VerifyHead(pub ed25519.PublicKey, s syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, syncproto.HeadMessage(s, seq, head), sig)
}

// Save writes the private key as PKCS #8 PEM, in the clear, readable by
// the owner only. It refuses to overwrite an existing key: losing a key
// orphans every change the node signed.
func (k *Key) Save(path string) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrKey, err)
	}
	return k.saveNew(path, pem.EncodeToMemory(&pem.Block{Type: pemPlainKey, Bytes: der}))
}

// SaveSealed writes the private key sealed with passphrase (Seal,
// DefaultKDF, PEM type "LIFELINE SEALED NODE KEY"), readable by the owner
// only: a copy of the data folder, or the disk of a stolen laptop that is
// off, gives nobody the key without the passphrase. The passphrase must
// pass CheckPassphrase. Like Save, it refuses to overwrite an existing key.
func (k *Key) SaveSealed(path string, passphrase []byte) error {
	return k.saveSealed(path, passphrase, DefaultKDF())
}

// saveSealed is SaveSealed with the Argon2id parameters given: tests use
// cheap ones.
func (k *Key) saveSealed(path string, passphrase []byte, kdf KDF) error {
	data, err := k.seal(rand.Reader, kdf, passphrase)
	if err != nil {
		return err
	}
	return k.saveNew(path, data)
}

// seal is the key as a sealed KeyFile holds it.
func (k *Key) seal(random io.Reader, kdf KDF, passphrase []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %v", ErrKey, err)
	}
	data, err := seal(random, kdf, pemSealedNodeKey, der, passphrase)
	if err != nil {
		return nil, fmt.Errorf("%w: seal: %w", ErrKey, err)
	}
	return data, nil
}

func (k *Key) saveNew(path string, data []byte) error {
	if err := writeNew(path, data, 0o600); err != nil {
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	return nil
}

// Load reads a key Save wrote, in the clear. A sealed key needs LoadKey
// and its passphrase; Load's error for one wraps ErrKeySealed.
func Load(path string) (*Key, error) { return LoadKey(path, nil) }

// LoadKey reads a key written by Save or SaveSealed. passphrase is asked
// (once) only when the file is sealed, after everything that costs nothing
// is checked; with none, the error for a sealed file wraps ErrKeySealed. A
// wrong passphrase, or an altered file, gives an error wrapping
// ErrPassphrase. Every error wraps ErrKey and names the file.
func LoadKey(path string, passphrase Passphrase) (*Key, error) {
	const what = "the node's key"
	data, err := readBounded(path, what)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return decodeKey(path, data, passphrase)
}

// decodeKey is LoadKey for the bytes read from path.
func decodeKey(path string, data []byte, passphrase Passphrase) (*Key, error) {
	const what = "the node's key"
	var der []byte
	var err error
	switch {
	case IsSealed(data, pemPlainKey):
		der, err = readPEM(path, data, pemPlainKey, what)
	case IsSealed(data, pemSealedNodeKey):
		if _, err := parseSealed(data, pemSealedNodeKey); err != nil {
			return nil, fmt.Errorf("%w: %s should hold %s, sealed: %v", ErrKey, path, what, err)
		}
		if passphrase == nil {
			return nil, fmt.Errorf("%w: %s: %w, and none was given", ErrKey, path, ErrKeySealed)
		}
		der, err = unsealFile(path, data, pemSealedNodeKey, what, passphrase)
	default:
		return nil, fmt.Errorf("%w: %s holds no PEM private key, sealed or not: it is damaged or another file", ErrKey, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKey, path, err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an Ed25519 key", ErrKey, path)
	}
	return fromPrivate(priv), nil
}

// KeyFileSealed says whether the key file at path is sealed with a
// passphrase (true) or in the clear (false). It reads the file's PEM type
// only: LoadKey checks the rest.
func KeyFileSealed(path string) (bool, error) {
	data, err := readBounded(path, "the node's key")
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrKey, err)
	}
	switch {
	case IsSealed(data, pemSealedNodeKey):
		return true, nil
	case IsSealed(data, pemPlainKey):
		return false, nil
	}
	return false, fmt.Errorf("%w: %s holds no PEM private key, sealed or not: it is damaged or another file", ErrKey, path)
}

// SealKeyFile seals, in place, a key file Save wrote in the clear: it is
// replaced, whole or not at all, by the same key sealed with passphrase
// (SaveSealed's format), which must pass CheckPassphrase. The error wraps
// ErrKeySealedAlready when the file is sealed already. The old file's
// blocks may remain on the disk until overwritten.
func SealKeyFile(path string, passphrase []byte) error {
	return sealKeyFile(path, passphrase, DefaultKDF())
}

func sealKeyFile(path string, passphrase []byte, kdf KDF) error {
	sealed, err := KeyFileSealed(path)
	if err != nil {
		return err
	}
	if sealed {
		return fmt.Errorf("%w: %s: %w", ErrKey, path, ErrKeySealedAlready)
	}
	k, err := LoadKey(path, nil)
	if err != nil {
		return err
	}
	return k.replace(path, passphrase, kdf)
}

// ChangeKeyPassphrase seals the key file at path, sealed with the
// passphrase old gives, with the one next gives instead, whole or not at
// all. next is asked once old has opened the key, and must pass
// CheckPassphrase. The error wraps ErrKeyNotSealed for a key in the clear
// (SealKeyFile seals it), and ErrPassphrase when old does not open it.
func ChangeKeyPassphrase(path string, old, next Passphrase) error {
	return changeKeyPassphrase(path, old, next, DefaultKDF())
}

func changeKeyPassphrase(path string, old, next Passphrase, kdf KDF) error {
	sealed, err := KeyFileSealed(path)
	if err != nil {
		return err
	}
	if !sealed {
		return fmt.Errorf("%w: %s: %w", ErrKey, path, ErrKeyNotSealed)
	}
	k, err := LoadKey(path, old)
	if err != nil {
		return err
	}
	if next == nil {
		return fmt.Errorf("%w: no new passphrase given", ErrKey)
	}
	p, err := next()
	if err != nil {
		return err
	}
	if err := CheckPassphrase(p); err != nil {
		return fmt.Errorf("%w: the new passphrase: %w", ErrKey, err)
	}
	return k.replace(path, p, kdf)
}

// replace writes the key, sealed with passphrase, over the file at path.
func (k *Key) replace(path string, passphrase []byte, kdf KDF) error {
	data, err := k.seal(rand.Reader, kdf, passphrase)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	return nil
}
