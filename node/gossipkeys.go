package node

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"lifeline/node/atomicfile"
	"lifeline/node/gossip"
	"lifeline/node/identity"
)

// The deployment's gossip keys in a node's data folder (gossip.KeyFile,
// "gossip.keys") are encrypted with a key derived from the node's own
// (identity.Key.Secret("lifeline/gossip-keys")): they are exactly as safe
// as the node's key file, and with it sealed, a copy of the folder gives
// nobody the gossip. The file is one PEM block of type "LIFELINE NODE
// GOSSIP KEYS", format version 1:
//
//	offset  size  field
//	0       1     version, 1
//	1       24    nonce, random
//	25      n+16  XChaCha20-Poly1305 sealing of the n bytes of the keys
//	              as gossip.FormatKeys writes them (base64 lines)
//
// The additional data is the PEM type, a zero byte, then bytes 0 to 24.
// A file written before the keys were encrypted holds gossip.FormatKeys's
// text in the clear: it is still read, and rewritten encrypted when the
// node reads it to gossip.
const (
	pemNodeGossipKeys   = "LIFELINE NODE GOSSIP KEYS"
	gossipKeysPurpose   = "lifeline/gossip-keys"
	gossipKeysVersion   = 1
	gossipKeysHeaderLen = 1 + chacha20poly1305.NonceSizeX
	// maxGossipKeysFile bounds what is read: a few keys in base64.
	maxGossipKeysFile = 64 << 10
)

// ErrGossipKeys is wrapped by errors about the gossip keys of a data
// folder: missing, damaged, or not this node's.
var ErrGossipKeys = errors.New("gossip keys")

// gossipKeyFile is the gossip keys of a data folder, encrypted with the
// node's key: the gossip.KeyStore a running node gossips with.
type gossipKeyFile struct {
	path string
	key  *identity.Key
	log  *slog.Logger
}

func (n *Node) gossipKeys() gossipKeyFile {
	return gossipKeyFile{path: filepath.Join(n.cfg.DataDir, gossip.KeyFile), key: n.key, log: n.log}
}

// ReadKeys reads the keys; a file in the clear, as nodes wrote it before
// the keys were encrypted, is rewritten encrypted.
func (f gossipKeyFile) ReadKeys() ([][]byte, error) {
	keys, clear, err := f.read()
	if err != nil || !clear {
		return keys, err
	}
	if err := f.WriteKeys(keys); err != nil {
		// The keys are good; gossip goes on, and the next read tries again.
		f.log.Warn("the gossip keys are in the clear and could not be encrypted", "file", f.path, "err", err)
	} else {
		f.log.Info("the gossip keys, in the clear until now, are encrypted with the node's key", "file", f.path)
	}
	return keys, nil
}

// WriteKeys replaces the file, whole or not at all, by keys encrypted.
func (f gossipKeyFile) WriteKeys(keys [][]byte) error {
	data, err := sealGossipKeys(rand.Reader, f.key, f.path, keys)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.path, data, 0o600); err != nil {
		return fmt.Errorf("%w: %v", ErrGossipKeys, err)
	}
	return nil
}

// read reads the keys, encrypted or, as before, in the clear (clear).
func (f gossipKeyFile) read() (keys [][]byte, clear bool, err error) {
	file, err := os.Open(f.path)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrGossipKeys, err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxGossipKeysFile+1))
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s: %v", ErrGossipKeys, f.path, err)
	}
	if block, _ := pem.Decode(data); block == nil || block.Type != pemNodeGossipKeys {
		// gossip.ReadKeyFile checks what only a clear file needs: that no
		// one else may read it.
		keys, err := gossip.ReadKeyFile(f.path)
		return keys, err == nil, err
	}
	keys, err = openGossipKeys(f.key, f.path, data)
	return keys, false, err
}

// sealGossipKeys is the encrypted file of keys, its nonce read from
// random; where names the file in errors.
func sealGossipKeys(random io.Reader, key *identity.Key, where string, keys [][]byte) ([]byte, error) {
	text, err := gossip.FormatKeys(where, keys)
	if err != nil {
		return nil, err
	}
	aead := gossipKeysAEAD(key)
	h := make([]byte, gossipKeysHeaderLen)
	h[0] = gossipKeysVersion
	if _, err := io.ReadFull(random, h[1:]); err != nil {
		return nil, fmt.Errorf("%w: no randomness: %v", ErrGossipKeys, err)
	}
	out := make([]byte, 0, len(h)+len(text)+aead.Overhead())
	out = aead.Seal(append(out, h...), h[1:], text, gossipKeysAD(h))
	return pem.EncodeToMemory(&pem.Block{Type: pemNodeGossipKeys, Bytes: out}), nil
}

// openGossipKeys reads what sealGossipKeys wrote, with the node's key.
func openGossipKeys(key *identity.Key, where string, data []byte) ([][]byte, error) {
	if len(data) > maxGossipKeysFile {
		return nil, fmt.Errorf("%w: %s is larger than %d KiB: it is another file", ErrGossipKeys, where, maxGossipKeysFile>>10)
	}
	block, rest := pem.Decode(data)
	switch {
	case block == nil || block.Type != pemNodeGossipKeys:
		return nil, fmt.Errorf("%w: %s holds no PEM %q block: it is damaged or another file", ErrGossipKeys, where, pemNodeGossipKeys)
	case len(strings.TrimSpace(string(rest))) != 0:
		return nil, fmt.Errorf("%w: %s has more after its keys", ErrGossipKeys, where)
	case len(block.Headers) != 0:
		return nil, fmt.Errorf("%w: %s has PEM headers", ErrGossipKeys, where)
	}
	b := block.Bytes
	if len(b) < 1 || b[0] != gossipKeysVersion {
		v := -1
		if len(b) > 0 {
			v = int(b[0])
		}
		return nil, fmt.Errorf("%w: %s is in format %d; this Lifeline reads format %d: use the Lifeline that wrote it, or a newer one", ErrGossipKeys, where, v, gossipKeysVersion)
	}
	aead := gossipKeysAEAD(key)
	if len(b) < gossipKeysHeaderLen+aead.Overhead() {
		return nil, fmt.Errorf("%w: %s is cut short", ErrGossipKeys, where)
	}
	h := b[:gossipKeysHeaderLen]
	text, err := aead.Open(nil, h[1:], b[gossipKeysHeaderLen:], gossipKeysAD(h))
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not open with this node's key: it is another node's, or damaged; install this node's enrollment file again", ErrGossipKeys, where)
	}
	return gossip.ParseKeys(where, text)
}

func gossipKeysAEAD(key *identity.Key) cipher.AEAD {
	secret := key.Secret(gossipKeysPurpose)
	aead, err := chacha20poly1305.NewX(secret[:])
	if err != nil {
		panic(err) // only for a key of another size than 32 bytes
	}
	return aead
}

func gossipKeysAD(header []byte) []byte {
	return append(append([]byte(pemNodeGossipKeys), 0), header...)
}

// GossipKeys reads the deployment's gossip keys kept in the data folder
// dataDir, with the node's key, asking passphrase for its passphrase if it
// is sealed. It writes nothing.
func GossipKeys(dataDir string, passphrase identity.Passphrase) ([][]byte, error) {
	key, err := identity.LoadKey(filepath.Join(dataDir, identity.KeyFile), passphrase)
	if err != nil {
		return nil, err
	}
	keys, _, err := gossipKeyFile{path: filepath.Join(dataDir, gossip.KeyFile), key: key}.read()
	return keys, err
}
