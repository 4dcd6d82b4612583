package desktop

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"lifeline/node"
	"lifeline/node/atomicfile"
)

// The drafts folder holds what a responder typed and has not saved yet:
// names, phone numbers, medical needs. Every file in it is sealed under a
// key derived from the node's key, so that a laptop taken while powered
// off yields none of it: the drafts are exactly as safe as the node's key
// file.
//
// The sealed draft format, version 1:
//
//	offset  size  field
//	0       7     magic, "LLdraft"
//	7       1     version, 1
//	8       24    nonce, random
//	32      n+16  XChaCha20-Poly1305 sealing of the n bytes of the contents
//
// The key is the node key's Secret(draftPurpose). The additional data is
// bytes 0 to 7, then the file's name under the drafts folder, with
// slashes (draftName: "damage-assessment.draft", or in a person's folder
// "3f09c1d2a4b5e6f7/damage-assessment.draft"): one draft cannot be passed
// off as another kind's, nor as the kind last opened, nor as another
// person's, and a later version of the format is not read as this one.
//
// Where the node's people sign in (docs/desktop.md, "People and sign-in"),
// each keeps their drafts in a folder of their own under the drafts folder
// (personDrafts); the drafts folder itself keeps those typed where no one
// signs in.
const (
	draftMagic     = "LLdraft"
	draftVersion   = 1
	draftHeaderLen = len(draftMagic) + 1 + chacha20poly1305.NonceSizeX
	draftPurpose   = "lifeline/drafts"
	// draftsOfPurpose keys the names of the people's folders.
	draftsOfPurpose = "lifeline/drafts-of"
	// maxDraft bounds a draft's contents: far above a form's texts (each
	// at most schemas.MaxTextLimit characters), far below what a planted
	// file would need to make the app read a disk's worth.
	maxDraft = 8 << 20
)

// errDraft is wrapped by the errors of a file of the drafts folder that
// does not open: it is set aside, not read.
var errDraft = errors.New("the draft does not open")

// sealDraft seals plain as the contents of the file name of the drafts
// folder, with the nonce given (random, but for the golden test).
func sealDraft(key *[32]byte, nonce []byte, name string, plain []byte) []byte {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		panic(err) // only for a key of another size
	}
	out := make([]byte, draftHeaderLen, draftHeaderLen+len(plain)+aead.Overhead())
	copy(out, draftMagic)
	out[len(draftMagic)] = draftVersion
	copy(out[len(draftMagic)+1:], nonce)
	return aead.Seal(out, nonce, plain, draftAD(out, name))
}

// openDraft opens b, the bytes of the file name of the drafts folder. An
// error wraps errDraft.
func openDraft(key *[32]byte, name string, b []byte) ([]byte, error) {
	switch {
	case !isSealedDraft(b):
		return nil, fmt.Errorf("%w: it is not a sealed draft", errDraft)
	case b[len(draftMagic)] != draftVersion:
		return nil, fmt.Errorf("%w: it was sealed in format %d, which this version of Lifeline does not know", errDraft, b[len(draftMagic)])
	case len(b) < draftHeaderLen+chacha20poly1305.Overhead:
		return nil, fmt.Errorf("%w: it is cut short", errDraft)
	case len(b) > draftHeaderLen+maxDraft+chacha20poly1305.Overhead:
		return nil, fmt.Errorf("%w: %d bytes, more than any draft", errDraft, len(b))
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		panic(err)
	}
	plain, err := aead.Open(nil, b[len(draftMagic)+1:draftHeaderLen], b[draftHeaderLen:], draftAD(b, name))
	if err != nil {
		return nil, fmt.Errorf("%w with this node's key: another node sealed it, or it was altered", errDraft)
	}
	return plain, nil
}

// draftAD is the additional data of the sealed file name starting with b.
func draftAD(b []byte, name string) []byte {
	return append(bytes.Clone(b[:len(draftMagic)+1]), name...)
}

// isSealedDraft says whether b begins as a sealed draft does, of any
// version. The files an older app wrote in the clear do not: a JSON
// object, or a type's name.
func isSealedDraft(b []byte) bool {
	return len(b) > len(draftMagic) && string(b[:len(draftMagic)]) == draftMagic
}

// draftKey is the key the drafts folder's files are sealed under.
func (u *UI) draftKey() *[32]byte {
	k := u.node.Key().Secret(draftPurpose)
	return &k
}

// writeDraftFile replaces a file of the drafts folder with plain, sealed,
// whole or not at all (a kill leaves the old file or the new one, never a
// part), making the folder on first use. Only the user reads the folder.
func (u *UI) writeDraftFile(path string, plain []byte) error {
	if len(plain) > maxDraft {
		return fmt.Errorf("a draft of %d bytes, more than the %d a draft may hold", len(plain), maxDraft)
	}
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	rand.Read(nonce)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, sealDraft(u.draftKey(), nonce, u.draftName(path), plain), 0o600)
}

// readDraftFile reads and opens a file of the drafts folder. An error
// wraps errDraft when the file is there but does not open, and
// fs.ErrNotExist when there is none.
func (u *UI) readDraftFile(path string) ([]byte, error) {
	b, err := readAtMost(path, draftHeaderLen+maxDraft+chacha20poly1305.Overhead)
	if err != nil {
		return nil, err
	}
	return openDraft(u.draftKey(), u.draftName(path), b)
}

// draftName is what a file of the drafts folder is sealed as: its path
// under the folder, with slashes whatever the system. A file directly in
// the folder is sealed as its base name, as before people had folders.
func (u *UI) draftName(path string) string {
	rel, err := filepath.Rel(u.drafts, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.Base(path)
	}
	return filepath.ToSlash(rel)
}

// personDrafts is the name of the folder, under the drafts folder, of the
// drafts of the person named: 16 hex digits of an HMAC-SHA256 of the name
// folded as the node folds it (node/people.go, personName: spaces
// collapsed, lower case), keyed by a secret of the node's key. The folder
// names no one, and a guessed name cannot be tried against it without the
// key that opens the drafts anyway.
func (u *UI) personDrafts(name string) string {
	key := u.node.Key().Secret(draftsOfPurpose)
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(node.FoldName(name)))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// moveDrafts moves the drafts of one folder under the drafts folder to
// another (subfolder names, "" for the drafts folder itself): each form's
// draft, each edit's, the kind of record last picked and the edit left on
// show, sealed again under their new
// names. One that the other folder already has stays where it is: the
// other folder's is not replaced. One that does not open is moved as it
// is, to be set aside there as it would have been here. A file that
// cannot be moved stays, and the first error is returned.
func (u *UI) moveDrafts(from, to string) error {
	src, dst := filepath.Join(u.drafts, from), filepath.Join(u.drafts, to)
	entries, err := os.ReadDir(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var first error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || name != openTypeName && name != editingName && !strings.HasSuffix(name, draftExt) {
			continue
		}
		oldPath, newPath := filepath.Join(src, name), filepath.Join(dst, name)
		_, err := os.Lstat(newPath)
		if err == nil {
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			var b []byte
			b, err = u.readDraftFile(oldPath)
			switch {
			case err == nil:
				if err = u.writeDraftFile(newPath, b); err == nil {
					err = os.Remove(oldPath)
				}
			case errors.Is(err, errDraft):
				if err = os.MkdirAll(dst, 0o700); err == nil {
					err = os.Rename(oldPath, newPath)
				}
			}
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// readAtMost reads a file of at most limit bytes; a larger one is refused
// (wrapping errDraft) without being read whole.
func readAtMost(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err == nil && len(b) > limit {
		return nil, fmt.Errorf("%w: %s holds more than %d bytes", errDraft, filepath.Base(path), limit)
	}
	return b, err
}

// setAsideDraft renames a file of the drafts folder that does not open, so
// that what the user types next does not replace it: it may be opened with
// the key that sealed it. It returns the name it is kept under.
func setAsideDraft(path string) (string, error) {
	aside := path + ".set-aside-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return filepath.Base(aside), nil
}

// Suffixes of the drafts folder's files: a form's draft, sealed; what an
// older app wrote in the clear; what a write cut short leaves.
const (
	draftExt      = ".draft"
	clearDraftExt = ".json"
	leftoverExt   = ".tmp"
)

// sealClearDrafts seals what an older app left in the clear in the drafts
// folder: each form's draft (<type>.json, written again as <type>.draft)
// and the kind of record last opened. Each is read once, written again
// sealed, and removed; one that does not read as a draft is removed, as it
// could not fill a form. Leftovers of a write a kill cut short are
// removed: they are never read, and an older app's were in the clear. A
// file that cannot be sealed is left as it was, and the first error
// returned.
func (u *UI) sealClearDrafts() error {
	entries, err := os.ReadDir(u.drafts)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(u.drafts, name)
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, leftoverExt) {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				keep(err)
			}
			continue
		}
		if name != openTypeName && !strings.HasSuffix(name, clearDraftExt) {
			continue
		}
		b, err := readAtMost(path, maxDraft)
		if err == nil && isSealedDraft(b) {
			continue
		}
		if name == openTypeName {
			switch {
			case err == nil:
				err = u.writeDraftFile(path, b)
			case errors.Is(err, errDraft): // too large to be a type's name
				err = os.Remove(path)
			}
			if err != nil {
				keep(err)
			}
			continue
		}
		// A sealed draft already beside it is the same or newer: a kill
		// came between writing it and removing this one.
		sealed := strings.TrimSuffix(path, clearDraftExt) + draftExt
		var d map[string][]string
		if _, statErr := os.Stat(sealed); err == nil && json.Unmarshal(b, &d) == nil && errors.Is(statErr, fs.ErrNotExist) {
			if err := u.writeDraftFile(sealed, b); err != nil {
				keep(err)
				continue
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			keep(err)
		}
	}
	return first
}
