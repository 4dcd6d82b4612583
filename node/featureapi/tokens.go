package featureapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"lifeline/node/atomicfile"
)

// TokensFile is the file in a node's data folder that holds the hashes of
// the feature API's tokens, never the tokens.
const TokensFile = "api-tokens.json"

// Bounds of the tokens file, which a running node reads on every request.
const (
	maxTokensFile = 1 << 20
	maxTokens     = 1000
	maxNameLen    = 64
)

// tokenPrefix starts every token, so that a token found in a file or a
// log is known for what it is.
const tokenPrefix = "lifeline-api-"

// Token is one token as the node keeps it: its name, the SHA-256 of the
// token, and whether it may read personal fields.
type Token struct {
	Name     string `json:"name"`
	SHA256   string `json:"sha256"`
	Personal bool   `json:"personal"`
	Created  string `json:"created"` // RFC 3339, UTC
}

// ErrUnknownToken means no token has the name given.
var ErrUnknownToken = errors.New("no API token of that name")

// tokensPath is the tokens file of a data folder.
func tokensPath(dataDir string) string { return filepath.Join(dataDir, TokensFile) }

// ValidName checks a token's name: 1 to 64 letters, digits, '.', '_' or
// '-', so that it is safe in a listing and a log.
func ValidName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("an API token's name is 1 to %d characters, not %d", maxNameLen, len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("an API token's name has only letters, digits, '.', '_' and '-': %q", name)
		}
	}
	return nil
}

// ListTokens reads the tokens a data folder holds, by name; none when
// there is no tokens file yet. A file that others may write is
// refused.
func ListTokens(dataDir string) ([]Token, error) {
	path := tokensPath(dataDir)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("%s may be written by its group or everyone (mode %v), who could add a token of their own: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTokensFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTokensFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxTokensFile)
	}
	var list []Token
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(list) > maxTokens {
		return nil, fmt.Errorf("%s: more than %d tokens", path, maxTokens)
	}
	for i, t := range list {
		if err := ValidName(t.Name); err != nil {
			return nil, fmt.Errorf("%s: token %d: %w", path, i+1, err)
		}
		if h, err := hex.DecodeString(t.SHA256); err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("%s: token %s: the hash is not a SHA-256 in hex", path, t.Name)
		}
	}
	slices.SortFunc(list, func(a, b Token) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// writeTokens replaces the tokens file whole, readable by its owner only.
func writeTokens(dataDir string, list []Token) error {
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(tokensPath(dataDir), append(data, '\n'), 0o600)
}

// lockTokens keeps other commands from changing the tokens file until
// unlock: each writes the file whole as it read it, so that a token made
// while another was revoked would bring the revoked one back. The lock is
// the system's, on a file kept beside the tokens: a command that is killed
// holding it lets it go as it ends, and the next one is not refused.
func lockTokens(dataDir string) (unlock func(), err error) {
	path := tokensPath(dataDir) + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another command is changing the API tokens (it holds %s): try again once it is done", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Closing the file lets the lock go.
	return func() { f.Close() }, nil
}

// CreateToken makes a new token of that name, hands it to keep (which
// writes it where its holder finds it) and then keeps its hash in the
// data folder: 256 random bits, which nothing keeps but keep. When keep
// fails, nothing is kept.
func CreateToken(dataDir, name string, personal bool, keep func(token string) error) error {
	if err := ValidName(name); err != nil {
		return err
	}
	unlock, err := lockTokens(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	list, err := ListTokens(dataDir)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(list, func(t Token) bool { return t.Name == name }) {
		return fmt.Errorf("an API token named %s exists: revoke it first, or choose another name", name)
	}
	if len(list) >= maxTokens {
		return fmt.Errorf("this node holds %d API tokens, as many as it keeps: revoke some first", len(list))
	}
	var secret [32]byte
	rand.Read(secret[:])
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	if err := keep(token); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(token))
	list = append(list, Token{Name: name, SHA256: hex.EncodeToString(sum[:]), Personal: personal, Created: time.Now().UTC().Format(time.RFC3339)})
	return writeTokens(dataDir, list)
}

// RevokeToken removes the token of that name: a running node refuses it
// from its next request.
func RevokeToken(dataDir, name string) error {
	unlock, err := lockTokens(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	list, err := ListTokens(dataDir)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(t Token) bool { return t.Name == name })
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownToken, name)
	}
	return writeTokens(dataDir, slices.Delete(list, i, i+1))
}

// maxTokenLen bounds what a request may present as a token.
const maxTokenLen = 128

// checkToken finds the token presented among those held, comparing its
// hash with each in constant time.
func checkToken(list []Token, presented string) (Token, bool) {
	if presented == "" || len(presented) > maxTokenLen {
		return Token{}, false
	}
	sum := sha256.Sum256([]byte(presented))
	var found Token
	ok := false
	for _, t := range list {
		h, err := hex.DecodeString(t.SHA256)
		if err == nil && subtle.ConstantTimeCompare(h, sum[:]) == 1 {
			found, ok = t, true
		}
	}
	return found, ok
}
