package identity

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// ErrPassphrase is wrapped by the error of Unseal (and so of LoadCA) when
// the passphrase does not open a sealed file: it is the wrong one, or the
// file was altered.
var ErrPassphrase = errors.New("wrong passphrase")

// Passphrase gives the passphrase of a sealed file when one is needed. It
// is called at most once per sealed file read, and not at all for a file
// that is not sealed, so that a person is asked only when it matters.
type Passphrase func() ([]byte, error)

// KDF is how Seal turns a passphrase into a key: Argon2id's parameters.
// They are written into every sealed file, so that files sealed with
// other parameters still open.
type KDF struct {
	// Time is the number of passes over the memory.
	Time uint32
	// Memory is the memory used, in KiB.
	Memory uint32
	// Threads is the number of lanes.
	Threads uint8
}

// DefaultKDF is what Seal uses: RFC 9106's recommended Argon2id parameters
// for a machine whose memory is limited (section 4, the second option):
// 3 passes over 64 MiB in 4 lanes. It takes a few tenths of a second on a
// field laptop, once per signing, and makes every guess of a stolen file's
// passphrase cost as much.
func DefaultKDF() KDF {
	if cheapKDF.Load() {
		return KDF{Time: 1, Memory: 64, Threads: 1}
	}
	return KDF{Time: 3, Memory: 64 << 10, Threads: 4}
}

// cheapKDF is set by CheapKDFInTests.
var cheapKDF atomic.Bool

// CheapKDFInTests makes DefaultKDF one pass over 64 KiB in this process,
// for the tests of a package that seal and open many files, where
// Argon2id's cost (seconds each under the race detector) is not what they
// show: every sealed file and verifier names its parameters, so nothing
// else changes. It panics outside a test binary.
func CheapKDFInTests() {
	if !testing.Testing() {
		panic("identity: CheapKDFInTests called outside a test")
	}
	cheapKDF.Store(true)
}

// Bounds on the parameters a sealed file may ask for: a hostile file must
// not make a reader spend gigabytes or minutes before it fails.
const (
	maxKDFTime    = 16
	maxKDFMemory  = 1 << 20 // KiB: 1 GiB
	maxKDFThreads = 16
)

func (k KDF) check() error {
	if k.Time < 1 || k.Time > maxKDFTime || k.Threads < 1 || k.Threads > maxKDFThreads ||
		k.Memory < 8*uint32(k.Threads) || k.Memory > maxKDFMemory {
		return fmt.Errorf("Argon2id parameters t=%d m=%d KiB p=%d are out of bounds (1-%d passes, 8 KiB per lane to %d MiB, 1-%d lanes)",
			k.Time, k.Memory, k.Threads, maxKDFTime, maxKDFMemory>>10, maxKDFThreads)
	}
	return nil
}

// MinPassphrase is the fewest characters a new passphrase may have.
const MinPassphrase = 12

// maxPassphrase bounds a passphrase in bytes.
const maxPassphrase = 1024

// CheckPassphrase says what is wrong with a new passphrase: it must have
// at least MinPassphrase characters. Several words are easier to type on a
// laptop in a shelter, and to remember, than a short password.
func CheckPassphrase(p []byte) error {
	switch {
	case len(p) == 0:
		return errors.New("no passphrase given")
	case len(p) > maxPassphrase:
		return fmt.Errorf("a passphrase of %d bytes: at most %d", len(p), maxPassphrase)
	case !utf8.Valid(p):
		return errors.New("the passphrase is not UTF-8 text")
	case utf8.RuneCount(p) < MinPassphrase:
		return fmt.Errorf("a passphrase of %d characters: at least %d, e.g. a few words", utf8.RuneCount(p), MinPassphrase)
	}
	return nil
}

// The sealed format, version 1. A sealed file is one PEM block whose type
// names what it holds (e.g. "LIFELINE SEALED CA KEY") and whose bytes are:
//
//	offset  size  field
//	0       1     version, 1
//	1       4     Argon2id passes, big-endian
//	5       4     Argon2id memory in KiB, big-endian
//	9       1     Argon2id lanes
//	10      16    salt, random
//	26      24    nonce, random
//	50      n+16  XChaCha20-Poly1305 sealing of the n bytes of plaintext
//
// The key is Argon2id(passphrase, salt, passes, memory, lanes), 32 bytes.
// The additional data is the PEM type, a zero byte, then bytes 0 to 49:
// the parameters cannot be lowered nor one sealed file passed off as
// another kind without the AEAD noticing.
const (
	sealVersion   = 1
	saltLen       = 16
	sealHeaderLen = 1 + 4 + 4 + 1 + saltLen + chacha20poly1305.NonceSizeX
)

// sealed is a parsed sealed file.
type sealed struct {
	kdf        KDF
	salt       []byte
	nonce      []byte
	header     []byte // bytes 0 to 49, in the additional data
	ciphertext []byte
}

// Seal encrypts plaintext with a key derived from passphrase (DefaultKDF)
// and returns it as a PEM block of type blockType, the sealed format
// version 1. The passphrase must pass CheckPassphrase.
func Seal(blockType string, plaintext, passphrase []byte) ([]byte, error) {
	return seal(rand.Reader, DefaultKDF(), blockType, plaintext, passphrase)
}

// seal is Seal with its randomness (salt, then nonce) and parameters
// given: the golden test pins the format with fixed ones.
func seal(random io.Reader, kdf KDF, blockType string, plaintext, passphrase []byte) ([]byte, error) {
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	if err := kdf.check(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(blockType) == "" {
		return nil, errors.New("seal: no PEM type")
	}
	h := make([]byte, sealHeaderLen)
	h[0] = sealVersion
	binary.BigEndian.PutUint32(h[1:], kdf.Time)
	binary.BigEndian.PutUint32(h[5:], kdf.Memory)
	h[9] = kdf.Threads
	salt, nonce := h[10:10+saltLen], h[10+saltLen:]
	if _, err := io.ReadFull(random, salt); err != nil {
		return nil, fmt.Errorf("seal: no randomness: %v", err)
	}
	if _, err := io.ReadFull(random, nonce); err != nil {
		return nil, fmt.Errorf("seal: no randomness: %v", err)
	}
	aead, err := chacha20poly1305.NewX(kdf.key(passphrase, salt))
	if err != nil {
		return nil, fmt.Errorf("seal: %v", err)
	}
	out := make([]byte, 0, len(h)+len(plaintext)+aead.Overhead())
	out = aead.Seal(append(out, h...), nonce, plaintext, additionalData(blockType, h))
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: out}), nil
}

func (k KDF) key(passphrase, salt []byte) []byte {
	return argon2.IDKey(passphrase, salt, k.Time, k.Memory, k.Threads, chacha20poly1305.KeySize)
}

func additionalData(blockType string, header []byte) []byte {
	ad := append([]byte(blockType), 0)
	return append(ad, header...)
}

// IsSealed says whether data is a PEM block of type blockType, as Seal
// writes; it does not check anything else.
func IsSealed(data []byte, blockType string) bool {
	block, _ := pem.Decode(data)
	return block != nil && block.Type == blockType
}

// Unseal opens what Seal sealed as a PEM block of type blockType, with the
// passphrase. Its error wraps ErrPassphrase when the passphrase does not
// open it.
func Unseal(data []byte, blockType string, passphrase []byte) ([]byte, error) {
	s, err := parseSealed(data, blockType)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(s.kdf.key(passphrase, s.salt))
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, s.nonce, s.ciphertext, additionalData(blockType, s.header))
	if err != nil {
		return nil, fmt.Errorf("%w (or the file was altered)", ErrPassphrase)
	}
	return plain, nil
}

// parseSealed reads a sealed file's PEM block and header, checking all but
// the passphrase: it costs nothing, so a damaged or hostile file is refused
// before Argon2id runs.
func parseSealed(data []byte, blockType string) (*sealed, error) {
	if len(data) > maxPEMInput {
		return nil, fmt.Errorf("larger than %d KiB: it is another file", maxPEMInput>>10)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != blockType {
		return nil, fmt.Errorf("no PEM %q block: it is damaged or another file", blockType)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("more after the sealed block")
	}
	if len(block.Headers) != 0 {
		return nil, errors.New("PEM headers in a sealed block")
	}
	b := block.Bytes
	if len(b) < 1 {
		return nil, errors.New("an empty sealed block")
	}
	if b[0] != sealVersion {
		return nil, fmt.Errorf("sealed in format %d; this Lifeline reads format %d: use the Lifeline that sealed it, or a newer one", b[0], sealVersion)
	}
	if len(b) < sealHeaderLen+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("a sealed block of %d bytes, cut short", len(b))
	}
	s := &sealed{
		kdf: KDF{
			Time:    binary.BigEndian.Uint32(b[1:]),
			Memory:  binary.BigEndian.Uint32(b[5:]),
			Threads: b[9],
		},
		salt:       b[10 : 10+saltLen],
		nonce:      b[10+saltLen : sealHeaderLen],
		header:     b[:sealHeaderLen],
		ciphertext: b[sealHeaderLen:],
	}
	if err := s.kdf.check(); err != nil {
		return nil, err
	}
	return s, nil
}
