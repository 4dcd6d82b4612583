package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
)

// A verifier checks a person's passphrase without keeping it: version 1,
// the Argon2id parameters, a random salt, and Argon2id of the passphrase:
//
//	offset  bytes  field
//	0       1      version, 1
//	1       4      passes (big-endian)
//	5       4      memory, KiB
//	9       1      lanes
//	10      16     salt
//	26      32     Argon2id(passphrase, salt)
//
// It is what a laptop keeps of each person who signs in on it: guessing a
// passphrase from it costs an Argon2id per guess, as a sealed file does.
const (
	verifierVersion = 1
	verifierHashLen = 32
	// VerifierLen is a verifier's length in bytes.
	VerifierLen = 10 + saltLen + verifierHashLen
)

// NewVerifier makes the verifier of a new passphrase, which must pass
// CheckPassphrase.
func NewVerifier(passphrase []byte) ([]byte, error) {
	return newVerifier(rand.Reader, DefaultKDF(), passphrase)
}

// newVerifier is NewVerifier with its salt and parameters given: the
// golden test pins the format with fixed ones.
func newVerifier(random io.Reader, kdf KDF, passphrase []byte) ([]byte, error) {
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	if err := kdf.check(); err != nil {
		return nil, err
	}
	v := make([]byte, 10+saltLen, VerifierLen)
	v[0] = verifierVersion
	binary.BigEndian.PutUint32(v[1:], kdf.Time)
	binary.BigEndian.PutUint32(v[5:], kdf.Memory)
	v[9] = kdf.Threads
	if _, err := io.ReadFull(random, v[10:]); err != nil {
		return nil, fmt.Errorf("no randomness for a verifier: %v", err)
	}
	return append(v, argon2.IDKey(passphrase, v[10:], kdf.Time, kdf.Memory, kdf.Threads, verifierHashLen)...), nil
}

// CheckVerifier says whether passphrase is the one verifier was made of.
// Its error wraps ErrPassphrase when it is not.
func CheckVerifier(verifier, passphrase []byte) error {
	if len(verifier) != VerifierLen || verifier[0] != verifierVersion {
		return errors.New("a passphrase verifier of another format")
	}
	kdf := KDF{Time: binary.BigEndian.Uint32(verifier[1:]), Memory: binary.BigEndian.Uint32(verifier[5:]), Threads: verifier[9]}
	if err := kdf.check(); err != nil {
		return err
	}
	if len(passphrase) == 0 || len(passphrase) > maxPassphrase {
		return ErrPassphrase
	}
	salt := verifier[10 : 10+saltLen]
	got := argon2.IDKey(passphrase, salt, kdf.Time, kdf.Memory, kdf.Threads, verifierHashLen)
	if subtle.ConstantTimeCompare(got, verifier[10+saltLen:]) != 1 {
		return ErrPassphrase
	}
	return nil
}
