package gossip

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/hashicorp/memberlist"

	"lifeline/node/atomicfile"
)

// KeyFile is the usual name of the gossip key file in a node's data folder.
const KeyFile = "gossip.keys"

// MaxKeys bounds the keys of a keyring. memberlist tries every key on every
// packet that does not decrypt with the first; a rotation needs two.
const MaxKeys = 8

// maxKeyFileSize bounds what ParseKeys reads: MaxKeys lines of base64 and
// room for comments.
const maxKeyFileSize = 64 << 10

// ErrKeyFile is wrapped by errors about a gossip key file.
var ErrKeyFile = errors.New("gossip key file")

// NewKey makes a fresh gossip key: 32 random bytes, for AES-256-GCM.
func NewKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("gossip: no randomness for a key: %v", err)
	}
	return key, nil
}

// checkKey refuses what memberlist would refuse: AES keys are 16, 24 or 32
// bytes.
func checkKey(key []byte) error {
	if err := memberlist.ValidateKey(key); err != nil {
		return fmt.Errorf("gossip: key of %d bytes: a gossip key is 16, 24 or 32 bytes (NewKey makes one)", len(key))
	}
	return nil
}

// KeyStore keeps a member's keys, the primary first, between runs: Start
// reads them, and each rotation step writes them before the keyring
// changes, so that a restarted member comes back with the keys it had.
// Calls are made one at a time. A node keeps them encrypted with its own
// key; KeyFile is the clear file.
type KeyStore interface {
	ReadKeys() ([][]byte, error)
	WriteKeys(keys [][]byte) error
}

// keyFile is a clear key file as a KeyStore.
type keyFile string

func (f keyFile) ReadKeys() ([][]byte, error)   { return ReadKeyFile(string(f)) }
func (f keyFile) WriteKeys(keys [][]byte) error { return WriteKeyFile(string(f), keys) }

// FormatKeys writes keys, the primary first, as a key file holds them: one
// base64 key per line. It refuses what a keyring could not hold: no key,
// more than MaxKeys, a key given twice or of a size AES does not take.
// where names the file in errors.
func FormatKeys(where string, keys [][]byte) ([]byte, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %s: no keys to write (a member needs at least the primary key)", ErrKeyFile, where)
	}
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("%w %s: %d keys, at most %d: remove the keys no member uses any more", ErrKeyFile, where, len(keys), MaxKeys)
	}
	var b bytes.Buffer
	for i, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, fmt.Errorf("%w %s: key %d: %v", ErrKeyFile, where, i+1, err)
		}
		if slices.ContainsFunc(keys[:i], func(o []byte) bool { return bytes.Equal(o, k) }) {
			return nil, fmt.Errorf("%w %s: key %d is given twice", ErrKeyFile, where, i+1)
		}
		b.WriteString(base64.StdEncoding.EncodeToString(k))
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// WriteKeyFile writes keys, the primary first, one base64 key per line
// (FormatKeys), in the clear, readable by the owner only. It replaces the
// file atomically: a crash leaves the old keys or the new ones, never a
// member without a key.
func WriteKeyFile(path string, keys [][]byte) error {
	text, err := FormatKeys(path, keys)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, text, 0o600); err != nil {
		return fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	return nil
}

// ReadKeyFile reads the keys WriteKeyFile wrote, the primary first
// (ParseKeys). On Unix it refuses a file that others may read: anyone
// holding the key can join the deployment's gossip and read it.
func ReadKeyFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w %s: others may read it (mode %v): chmod 600 %s", ErrKeyFile, path, info.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrKeyFile, path, err)
	}
	return ParseKeys(path, data)
}

// ParseKeys reads what FormatKeys wrote, the primary first; where names
// the file in errors. Blank lines and lines starting with # are ignored,
// so that an operator may annotate a clear file.
func ParseKeys(where string, data []byte) ([][]byte, error) {
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w %s: over %d bytes; it should hold a few lines of base64", ErrKeyFile, where, maxKeyFileSize)
	}
	var keys [][]byte
	lines := map[string]int{} // key -> line, to name both lines of a duplicate
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("%w %s, line %d: not base64 (one key per line, as WriteKeyFile writes)", ErrKeyFile, where, n)
		}
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("%w %s, line %d: %v", ErrKeyFile, where, n, err)
		}
		if first, ok := lines[string(key)]; ok {
			return nil, fmt.Errorf("%w %s, line %d: the same key as line %d: remove one", ErrKeyFile, where, n, first)
		}
		lines[string(key)] = n
		keys = append(keys, key)
		if len(keys) > MaxKeys {
			return nil, fmt.Errorf("%w %s, line %d: more than %d keys: remove the keys no member uses any more", ErrKeyFile, where, n, MaxKeys)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrKeyFile, where, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %s: holds no key: copy the deployment's key file from headquarters", ErrKeyFile, where)
	}
	return keys, nil
}

// Keys are the keys of the member's keyring, the primary first (copies).
func (g *Gossip) Keys() [][]byte {
	g.keyMu.Lock()
	defer g.keyMu.Unlock()
	return cloneKeys(g.keyring.GetKeys())
}

// InstallKey adds a key to the keyring, and to the key file: the member can
// now read gossip written with it. It is the first step of a rotation, and
// it must reach every member before any member uses the key. Installing a
// key already installed does nothing.
func (g *Gossip) InstallKey(key []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return g.changeKeys("install", key, func(keys [][]byte) ([][]byte, error) {
		if containsKey(keys, key) {
			return keys, nil
		}
		if len(keys) >= MaxKeys {
			return nil, fmt.Errorf("already %d keys: remove one that no member uses any more first", len(keys))
		}
		return append(keys, bytes.Clone(key)), nil
	}, func() error { return g.keyring.AddKey(bytes.Clone(key)) })
}

// UseKey makes an installed key the primary, in the keyring and the key
// file: the member now writes its gossip with it. Every member must have
// installed the key first, or they cannot read this member any more.
func (g *Gossip) UseKey(key []byte) error {
	return g.changeKeys("use", key, func(keys [][]byte) ([][]byte, error) {
		if !containsKey(keys, key) {
			return nil, errors.New("not installed here: install it (InstallKey) on every member first")
		}
		out := [][]byte{bytes.Clone(key)}
		for _, k := range keys {
			if !bytes.Equal(k, key) {
				out = append(out, k)
			}
		}
		return out, nil
	}, func() error { return g.keyring.UseKey(key) })
}

// RemoveKey drops a key from the keyring and the key file: gossip written
// with it is no longer read. It refuses the primary key. Removing a key that
// is not installed does nothing, so that a rotation step can be repeated.
func (g *Gossip) RemoveKey(key []byte) error {
	return g.changeKeys("remove", key, func(keys [][]byte) ([][]byte, error) {
		if len(keys) > 0 && bytes.Equal(keys[0], key) {
			return nil, errors.New("it is the primary key: use another key (UseKey) on every member first")
		}
		return slices.DeleteFunc(keys, func(k []byte) bool { return bytes.Equal(k, key) }), nil
	}, func() error { return g.removeFromKeyring(key) })
}

// changeKeys applies one key operation: it computes the new key list,
// writes it to the key file, then changes the keyring. If the file cannot
// be written nothing changes, so that the file and the running member agree.
func (g *Gossip) changeKeys(op string, key []byte, next func([][]byte) ([][]byte, error), apply func() error) error {
	g.keyMu.Lock()
	defer g.keyMu.Unlock()
	cur := cloneKeys(g.keyring.GetKeys())
	keys, err := next(cloneKeys(cur))
	if err != nil {
		return fmt.Errorf("gossip: %s key %s: %v", op, keyID(key), err)
	}
	if equalKeys(cur, keys) {
		return nil
	}
	if err := g.store.WriteKeys(keys); err != nil {
		return fmt.Errorf("gossip: %s key %s: the keyring is unchanged: %v", op, keyID(key), err)
	}
	if err := apply(); err != nil {
		return fmt.Errorf("gossip: %s key %s: the key file is changed but the keyring is not (restart the node to use the file): %v", op, keyID(key), err)
	}
	g.log.Info("gossip: key changed", "op", op, "key", keyID(key), "keys", len(keys), "primary", keyID(keys[0]))
	return nil
}

// removeFromKeyring removes key from memberlist's keyring. Keyring.RemoveKey
// shifts the keys after the removed one in place, in the very array that
// packets being decrypted concurrently are reading (a data race); removing
// the last key shifts nothing. So the keys after it are removed from the end
// first and added back after: each of those is missing for a moment, which
// costs at most a packet or two, which gossip tolerates.
func (g *Gossip) removeFromKeyring(key []byte) error {
	keys := g.keyring.GetKeys()
	i := slices.IndexFunc(keys, func(k []byte) bool { return bytes.Equal(k, key) })
	if i < 0 {
		return nil
	}
	after := cloneKeys(keys[i+1:])
	for j := len(after) - 1; j >= 0; j-- {
		if err := g.keyring.RemoveKey(after[j]); err != nil {
			return err
		}
	}
	if err := g.keyring.RemoveKey(key); err != nil {
		return err
	}
	for _, k := range after {
		if err := g.keyring.AddKey(k); err != nil {
			return err
		}
	}
	return nil
}

// keyID names a key in logs and errors without revealing it: the first 4
// bytes of its SHA-256, in hex.
func keyID(key []byte) string {
	if len(key) == 0 {
		return "(none)"
	}
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

func containsKey(keys [][]byte, key []byte) bool {
	return slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, key) })
}

func cloneKeys(keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = bytes.Clone(k)
	}
	return out
}

func equalKeys(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}
