package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"lifeline/syncproto"
)

// ErrNotForKey is wrapped by Key.Decrypt's and Key.Decrypting's error when
// what they are given was encrypted for other keys.
var ErrNotForKey = errors.New("encrypted for another key")

// ErrDamaged is wrapped by the errors of a reader Key.Decrypting returns
// when the encrypted bytes were altered or damaged.
var ErrDamaged = errors.New("the encrypted file is damaged or altered")

// AgeMagic opens every file Encrypting writes (age's binary format): it
// tells an encrypted file from a plain one.
const AgeMagic = "age-encryption.org/v1\n"

// maxEncrypted bounds what Decrypt reads and returns: the secrets carried
// this way are a few hundred bytes.
const maxEncrypted = 64 << 10

// recipient is the age recipient of a node's Ed25519 key. A node has no
// other key than its signing key; age converts it to X25519 the way it
// does for SSH keys, so no second key pair has to be made, kept and sent
// to headquarters.
func recipient(pub ed25519.PublicKey) (age.Recipient, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("not an Ed25519 public key")
	}
	sshKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return agessh.NewEd25519Recipient(sshKey)
}

// RecipientTag is how an encrypted file names each key it is for: the
// first four bytes of the SHA-256 of the key (as age writes them, in
// base64). It tells which of the nodes one knows a file is for, and
// nothing to one who does not know their keys.
func RecipientTag(pub ed25519.PublicKey) string {
	sshKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(sshKey.Marshal())
	return base64.RawStdEncoding.EncodeToString(h[:4])
}

// Encrypting returns a writer that encrypts what is written to it for
// every key of to and writes it to w, streaming: age seals the payload in
// chunks of 64 KiB, each authenticated on its own, so a file of any size
// takes no more memory than a chunk. Close writes the last chunk, which
// marks the end: a file cut short does not decrypt whole. Close does not
// close w.
func Encrypting(w io.Writer, to []ed25519.PublicKey) (io.WriteCloser, error) {
	if len(to) == 0 {
		return nil, errors.New("encrypt: no recipient")
	}
	rs := make([]age.Recipient, len(to))
	for i, pub := range to {
		r, err := recipient(pub)
		if err != nil {
			return nil, fmt.Errorf("encrypt: %v", err)
		}
		rs[i] = r
	}
	ew, err := age.Encrypt(w, rs...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	return ew, nil
}

// EncryptTo encrypts data so that only the holder of the Ed25519 key pub can
// read it: an age file (age-encryption.org/v1, binary) with pub as its
// ssh-ed25519 recipient.
func EncryptTo(pub ed25519.PublicKey, data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := Encrypting(&b, []ed25519.PublicKey{pub})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %v", err)
	}
	return b.Bytes(), nil
}

// NotForKeyError is Key.Decrypting's error for a file encrypted for other
// keys. It wraps ErrNotForKey.
type NotForKeyError struct {
	// Node is the node whose key was tried.
	Node syncproto.NodeID
	// For are the RecipientTag of each key the file is for, as its header
	// names them (none for keys that are not Ed25519).
	For []string
}

func (e *NotForKeyError) Error() string {
	return fmt.Sprintf("%v: not this node's (node %s)", ErrNotForKey, e.Node)
}

func (e *NotForKeyError) Unwrap() error { return ErrNotForKey }

// taggedIdentity is a node's age identity that notes the recipients a
// file's header names, to say whom a file not for it was for.
type taggedIdentity struct {
	age.Identity
	seen []string
}

func (t *taggedIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		if s.Type == "ssh-ed25519" && len(s.Args) > 0 {
			t.seen = append(t.seen, s.Args[0])
		}
	}
	return t.Identity.Unwrap(stanzas)
}

// Decrypting returns a reader of what Encrypting wrote for this key among
// others, decrypting r as it is read, a chunk at a time. The header is
// read (age bounds it to 2 MiB) before it returns: a file for other keys
// is a *NotForKeyError, one whose header is damaged or is no age file an
// error wrapping ErrDamaged. The reader's errors wrap ErrDamaged for a
// chunk that does not authenticate, and are io.ErrUnexpectedEOF for a file
// that ends before its last chunk: what it returned before that is not to
// be trusted as a whole.
func (k *Key) Decrypting(r io.Reader) (io.Reader, error) {
	base, err := agessh.NewEd25519Identity(k.priv)
	if err != nil {
		return nil, err
	}
	id := &taggedIdentity{Identity: base}
	plain, err := age.Decrypt(r, id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, &NotForKeyError{Node: k.id, For: id.seen}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return damageReader{plain}, nil
}

// damageReader says what a decryption error means for the file.
type damageReader struct{ r io.Reader }

func (d damageReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return n, err
}

// Decrypt opens what EncryptTo encrypted for this key. Its error wraps
// ErrNotForKey when it was encrypted for another key.
func (k *Key) Decrypt(data []byte) ([]byte, error) {
	if len(data) > maxEncrypted {
		return nil, fmt.Errorf("decrypt: %d bytes, more than the %d KiB expected", len(data), maxEncrypted>>10)
	}
	r, err := k.Decrypting(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
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
