package personal

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"
	"golang.org/x/crypto/chacha20poly1305"
)

// A sealed value is a CBOR byte string holding the envelope. No field
// type's value is a byte string (kits declare text, numbers, choices,
// dates, places, references), so a byte string in a field is a sealed
// value, and nothing else: the change's CBOR needs no tag, which sync's
// decoder refuses.
//
// The envelope, version 1:
//
//	offset      bytes   field
//	0           1       version, 1
//	1           1       n: 0 when the value is sealed under one data key
//	                    directly, else 2 to MaxReaders data keys it is
//	                    sealed for through a content key
//	2           24      nonce, random
//	when n is 0:
//	26          8       the data key's KeyID
//	34          m + 16  the value sealed under the data key
//	else:
//	26          n × 56  for each data key: its KeyID (8), then the content
//	                    key sealed under it (32 + 16)
//	26 + 56n    m + 16  the value sealed under the content key
//
// m is a multiple of 16. Every seal is XChaCha20-Poly1305 with the nonce;
// each key seals once with it (a content key is new for every value, the
// data keys are distinct, and a nonce of 24 random bytes does not come
// twice). Most values are sealed for one key (a record of its author's
// district): sealed directly, the envelope is 56 bytes shorter, which
// counts on a thin link, as sealed bytes do not compress. The value is
// the field's CBOR item, then zero bytes up to a multiple of 16, so that
// the length tells the length of a name only roughly. Each seal's
// additional data is AD (record, field) then the envelope's bytes before
// the sealed bytes: for a wrap, bytes 0 to 25 and its KeyID; for the
// value, everything before it.
const (
	version   = 1
	nonceLen  = chacha20poly1305.NonceSizeX
	headLen   = 2 + nonceLen
	keyLen    = chacha20poly1305.KeySize
	overhead  = chacha20poly1305.Overhead
	idLen     = len(KeyID{})
	wrapLen   = idLen + keyLen + overhead
	directLen = headLen + idLen // an envelope sealed directly, before the value
	padTo     = 16
	adContext = "lifeline/personal/v1\x00"
)

// Bounds on an envelope: what a reader accepts before it opens anything.
const (
	// MaxReaders bounds the data keys one value is sealed for: its
	// district's, and its author's district's when that is another.
	MaxReaders = 4
	// MaxValue bounds a value's CBOR before sealing: kits bound text far
	// below it.
	MaxValue = 64 << 10
)

// Errors of Open and Parse.
var (
	// ErrNotSealed: the value is not a sealed value.
	ErrNotSealed = errors.New("not a sealed value")
	// ErrMalformed: the value claims to be sealed but its envelope is
	// not one Lifeline writes.
	ErrMalformed = errors.New("malformed sealed value")
	// ErrNoKey: none of the data keys the value is sealed for is held
	// here: it is personal data of another district.
	ErrNoKey = errors.New("sealed for keys this node does not hold")
	// ErrDamaged: a key held here should open the value, and it does not:
	// the value was altered, or moved from another record or field.
	ErrDamaged = errors.New("the sealed value does not open: altered, or moved from another record or field")
)

// KeyID names a data key: the first 8 bytes of SHA-256 of a context and
// the key. It tells which key opens a value, and nothing of the key.
type KeyID [8]byte

func (id KeyID) String() string { return fmt.Sprintf("%x", id[:]) }

// DataKey is one data key: whose it is (a district's name, or "" for
// headquarters alone), its epoch, and the key.
type DataKey struct {
	_        struct{} `cbor:",toarray"`
	District string
	Epoch    uint32
	Key      []byte // 32 bytes
}

// ID is the key's KeyID.
func (k DataKey) ID() KeyID {
	h := sha256.New()
	h.Write([]byte("lifeline/data-key/v1\x00"))
	h.Write(k.Key)
	var id KeyID
	copy(id[:], h.Sum(nil))
	return id
}

// NewDataKey makes a random data key.
func NewDataKey(district string, epoch uint32) (DataKey, error) {
	k := DataKey{District: district, Epoch: epoch, Key: make([]byte, keyLen)}
	if _, err := rand.Read(k.Key); err != nil {
		return DataKey{}, fmt.Errorf("no randomness for a data key: %v", err)
	}
	return k, nil
}

// AD is what a sealed value is bound to: its record and its field.
type AD struct {
	Record [16]byte
	Field  string
}

func (a AD) bytes(env []byte) []byte {
	out := make([]byte, 0, len(adContext)+16+len(a.Field)+1+len(env))
	out = append(out, adContext...)
	out = append(out, a.Record[:]...)
	out = append(out, a.Field...)
	out = append(out, 0)
	return append(out, env...)
}

// IsSealed says whether a field value is a sealed value: a CBOR byte
// string (it may still be malformed: Parse says).
func IsSealed(value []byte) bool { return len(value) > 0 && value[0]&0xe0 == 0x40 }

// Seal seals value, one CBOR item, for the keys, bound to ad. It returns
// the sealed value: a CBOR item to store in place of value.
func Seal(value []byte, ad AD, keys ...DataKey) ([]byte, error) {
	return seal(rand.Reader, value, ad, keys)
}

// seal is Seal with its randomness (the nonce, then the content key)
// given: the golden test pins the format with fixed ones.
func seal(random io.Reader, value []byte, ad AD, keys []DataKey) ([]byte, error) {
	switch {
	case len(keys) == 0 || len(keys) > MaxReaders:
		return nil, fmt.Errorf("a value is sealed for 1 to %d keys, not %d", MaxReaders, len(keys))
	case len(value) == 0 || len(value) > MaxValue:
		return nil, fmt.Errorf("a value of %d bytes: 1 to %d are sealed", len(value), MaxValue)
	}
	if wellFormed.Wellformed(value) != nil {
		return nil, errors.New("a value to seal is not one CBOR item")
	}
	padded := (len(value) + padTo - 1) / padTo * padTo
	plain := make([]byte, padded)
	copy(plain, value)
	if len(keys) == 1 {
		return sealDirect(random, plain, ad, keys[0])
	}
	size := headLen + len(keys)*wrapLen + padded + overhead
	env := make([]byte, headLen, size)
	env[0], env[1] = version, byte(len(keys))
	var fresh [nonceLen + keyLen]byte // the nonce, then the content key
	if _, err := io.ReadFull(random, fresh[:]); err != nil {
		return nil, fmt.Errorf("no randomness to seal a value: %v", err)
	}
	copy(env[2:headLen], fresh[:nonceLen])
	nonce, content := env[2:headLen], fresh[nonceLen:]
	seen := map[KeyID]bool{}
	for _, k := range keys {
		if len(k.Key) != keyLen {
			return nil, fmt.Errorf("a data key of %d bytes, not %d", len(k.Key), keyLen)
		}
		id := k.ID()
		if seen[id] {
			return nil, fmt.Errorf("data key %s given twice", id)
		}
		seen[id] = true
		aead, err := chacha20poly1305.NewX(k.Key)
		if err != nil {
			return nil, err
		}
		env = append(env, id[:]...)
		env = aead.Seal(env, nonce, content, ad.bytes(append(env[:headLen:headLen], id[:]...)))
	}
	aead, err := chacha20poly1305.NewX(content)
	if err != nil {
		return nil, err
	}
	env = aead.Seal(env, nonce, plain, ad.bytes(env))
	return wrapCBOR(env), nil
}

// sealDirect seals plain, padded, under one data key.
func sealDirect(random io.Reader, plain []byte, ad AD, k DataKey) ([]byte, error) {
	if len(k.Key) != keyLen {
		return nil, fmt.Errorf("a data key of %d bytes, not %d", len(k.Key), keyLen)
	}
	env := make([]byte, directLen, directLen+len(plain)+overhead)
	env[0], env[1] = version, 0
	if _, err := io.ReadFull(random, env[2:headLen]); err != nil {
		return nil, fmt.Errorf("no randomness to seal a value: %v", err)
	}
	id := k.ID()
	copy(env[headLen:], id[:])
	aead, err := chacha20poly1305.NewX(k.Key)
	if err != nil {
		return nil, err
	}
	env = aead.Seal(env, env[2:headLen], plain, ad.bytes(env))
	return wrapCBOR(env), nil
}

// wrapCBOR writes env as a CBOR byte string, in CBOR's shortest form.
func wrapCBOR(env []byte) []byte {
	out := make([]byte, 0, 5+len(env))
	switch n := len(env); {
	case n < 24:
		out = append(out, 0x40|byte(n))
	case n < 1<<8:
		out = append(out, 0x58, byte(n))
	case n < 1<<16:
		out = binary.BigEndian.AppendUint16(append(out, 0x59), uint16(n))
	default:
		out = binary.BigEndian.AppendUint32(append(out, 0x5a), uint32(n))
	}
	return append(out, env...)
}

// Envelope is a parsed sealed value.
type Envelope struct {
	env   []byte
	Keys  []KeyID // the data keys it is sealed for
	wraps []byte
	box   []byte
	// direct: sealed under its one data key, without a content key.
	direct bool
}

// maxEnvelope bounds an envelope's bytes.
const maxEnvelope = headLen + MaxReaders*wrapLen + MaxValue + padTo + overhead

// Parse reads a sealed value's envelope, checking its shape: what a node
// that holds no key checks of a sealed value it stores and passes on.
func Parse(value []byte) (*Envelope, error) {
	if !IsSealed(value) {
		return nil, ErrNotSealed
	}
	rest := value
	var n, head int
	switch b := rest[0]; {
	case b < 0x58:
		n, head = int(b&0x1f), 1
	case b == 0x58 && len(rest) >= 2:
		n, head = int(rest[1]), 2
		if n < 24 {
			n = -1
		}
	case b == 0x59 && len(rest) >= 3:
		n, head = int(binary.BigEndian.Uint16(rest[1:])), 3
		if n < 1<<8 {
			n = -1
		}
	case b == 0x5a && len(rest) >= 5:
		n64 := binary.BigEndian.Uint32(rest[1:])
		n, head = -1, 5
		if n64 >= 1<<16 && int(n64) <= maxEnvelope {
			n = int(n64)
		}
	default:
		return nil, fmt.Errorf("%w: its byte string's length is not one Lifeline writes", ErrMalformed)
	}
	if n < 0 || n != len(rest)-head {
		return nil, fmt.Errorf("%w: its byte string's length does not match the value", ErrMalformed)
	}
	env := rest[head:]
	if len(env) < directLen+padTo+overhead || len(env) > maxEnvelope {
		return nil, fmt.Errorf("%w: an envelope of %d bytes", ErrMalformed, len(env))
	}
	if env[0] != version {
		return nil, fmt.Errorf("%w: envelope version %d, this node reads version %d", ErrMalformed, env[0], version)
	}
	if env[1] == 0 {
		if body := len(env) - directLen - overhead; body%padTo != 0 {
			return nil, fmt.Errorf("%w: a value of %d bytes, not a multiple of %d", ErrMalformed, body, padTo)
		}
		return &Envelope{env: env, Keys: []KeyID{KeyID(env[headLen:])}, box: env[directLen:], direct: true}, nil
	}
	readers := int(env[1])
	body := len(env) - headLen - readers*wrapLen - overhead
	if readers < 2 || readers > MaxReaders || body < padTo || body%padTo != 0 {
		return nil, fmt.Errorf("%w: %d keys in an envelope of %d bytes", ErrMalformed, readers, len(env))
	}
	e := &Envelope{env: env, wraps: env[headLen : headLen+readers*wrapLen], box: env[headLen+readers*wrapLen:]}
	for i := range readers {
		id := KeyID(e.wraps[i*wrapLen:])
		for _, seen := range e.Keys {
			if seen == id {
				return nil, fmt.Errorf("%w: key %s named twice", ErrMalformed, id)
			}
		}
		e.Keys = append(e.Keys, id)
	}
	return e, nil
}

// wellFormed checks that a value to seal is one CBOR item.
var wellFormed, _ = cbor.DecOptions{}.DecMode()

// Lookup finds a data key by its id: the keys a node holds.
type Lookup func(KeyID) ([]byte, bool)

// Open opens a sealed value bound to ad with the first of its keys that
// lookup holds, and returns the field's CBOR item. Its error wraps
// ErrNoKey when no key is held, ErrDamaged when a held key does not open
// it, ErrMalformed when it is not a well-formed envelope.
func Open(value []byte, ad AD, lookup Lookup) ([]byte, error) {
	e, err := Parse(value)
	if err != nil {
		return nil, err
	}
	return e.Open(ad, lookup)
}

// Open is the package's Open, of a parsed envelope.
func (e *Envelope) Open(ad AD, lookup Lookup) ([]byte, error) {
	nonce := e.env[2:headLen]
	if e.direct {
		key, ok := lookup(e.Keys[0])
		if !ok {
			return nil, ErrNoKey
		}
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, fmt.Errorf("%w: data key %s: %v", ErrDamaged, e.Keys[0], err)
		}
		plain, err := aead.Open(nil, nonce, e.box, ad.bytes(e.env[:directLen]))
		if err != nil {
			return nil, ErrDamaged
		}
		return unpad(plain)
	}
	for i, id := range e.Keys {
		key, ok := lookup(id)
		if !ok {
			continue
		}
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, fmt.Errorf("%w: data key %s: %v", ErrDamaged, id, err)
		}
		wrap := e.wraps[i*wrapLen : (i+1)*wrapLen]
		content, err := aead.Open(nil, nonce, wrap[len(id):], ad.bytes(append(e.env[:headLen:headLen], id[:]...)))
		if err != nil {
			return nil, ErrDamaged
		}
		aead, err = chacha20poly1305.NewX(content)
		if err != nil {
			return nil, ErrDamaged
		}
		plain, err := aead.Open(nil, nonce, e.box, ad.bytes(e.env[:headLen+len(e.wraps)]))
		if err != nil {
			return nil, ErrDamaged
		}
		return unpad(plain)
	}
	return nil, ErrNoKey
}

// unpad returns the CBOR item at the start of plain, which the rest must
// only pad with zeros.
func unpad(plain []byte) ([]byte, error) {
	var item cbor.RawMessage
	rest, err := cbor.UnmarshalFirst(plain, &item)
	if err != nil {
		return nil, fmt.Errorf("%w: it holds no value: %v", ErrDamaged, err)
	}
	if len(rest) >= padTo || bytes.ContainsFunc(rest, func(r rune) bool { return r != 0 }) {
		return nil, fmt.Errorf("%w: it holds more than one value", ErrDamaged)
	}
	return plain[:len(plain)-len(rest)], nil
}
