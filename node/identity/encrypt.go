package identity

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// ErrNotForKey is wrapped by Key.Decrypt's error when what it is given was
// encrypted for another key.
var ErrNotForKey = errors.New("encrypted for another key")

// maxEncrypted bounds what Decrypt reads and returns: the secrets carried
// this way are a few hundred bytes.
const maxEncrypted = 64 << 10

// EncryptTo encrypts data so that only the holder of the Ed25519 key pub can
// read it: an age file (age-encryption.org/v1, binary) with pub as its
// ssh-ed25519 recipient. A node has no other key than its signing key; age
// converts it to X25519 the way it does for SSH keys, so no second key pair
// has to be made, kept and sent to headquarters.
func EncryptTo(pub ed25519.PublicKey, data []byte) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("encrypt: not an Ed25519 public key")
	}
	sshKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	r, err := agessh.NewEd25519Recipient(sshKey)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	var b bytes.Buffer
	w, err := age.Encrypt(&b, r)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	return b.Bytes(), nil
}

// Decrypt opens what EncryptTo encrypted for this key. Its error wraps
// ErrNotForKey when it was encrypted for another key.
func (k *Key) Decrypt(data []byte) ([]byte, error) {
	if len(data) > maxEncrypted {
		return nil, fmt.Errorf("decrypt: %d bytes, more than the %d KiB expected", len(data), maxEncrypted>>10)
	}
	id, err := agessh.NewEd25519Identity(k.priv)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %v", err)
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, fmt.Errorf("decrypt: %w: not this node's (node %s)", ErrNotForKey, k.id)
	}
	if err != nil {
		return nil, fmt.Errorf("decrypt: %v", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxEncrypted+1))
	if err != nil {
		return nil, fmt.Errorf("decrypt: damaged or altered: %v", err)
	}
	if len(plain) > maxEncrypted {
		return nil, fmt.Errorf("decrypt: more than the %d KiB expected", maxEncrypted>>10)
	}
	return plain, nil
}
