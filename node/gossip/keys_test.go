package gossip

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestKeyFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFile)
	keys := [][]byte{mustKey(t), mustKey(t), bytes.Repeat([]byte{7}, 16)}
	if err := WriteKeyFile(path, keys); err != nil {
		t.Fatal(err)
	}
	got, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, keys, bytes.Equal) {
		t.Errorf("read %x, wrote %x", got, keys)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	// Rewriting replaces the file and leaves no temporary file behind.
	if err := WriteKeyFile(path, keys[1:2]); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadKeyFile(path); err != nil || len(got) != 1 || !bytes.Equal(got[0], keys[1]) {
		t.Errorf("after rewrite: %x, %v", got, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("folder holds %d files", len(entries))
	}
	// Comments and blank lines are allowed.
	annotated := "# rotated 2025-06-01\n\n  " + base64.StdEncoding.EncodeToString(keys[0]) + "  \n"
	if err := os.WriteFile(path, []byte(annotated), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadKeyFile(path); err != nil || len(got) != 1 || !bytes.Equal(got[0], keys[0]) {
		t.Errorf("annotated: %x, %v", got, err)
	}
}

func TestKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	k1 := base64.StdEncoding.EncodeToString(mustKey(t))
	k2 := base64.StdEncoding.EncodeToString(mustKey(t))
	short := base64.StdEncoding.EncodeToString([]byte("0123456789"))
	for _, c := range []struct {
		name, content, want string
	}{
		{"bad base64", k1 + "\n# old\n" + "not*base64\n", "line 3: not base64"},
		{"short key", k1 + "\n" + short + "\n", "line 2: gossip: key of 10 bytes"},
		{"duplicate", k1 + "\n" + k2 + "\n\n" + k1 + "\n", "line 4: the same key as line 1"},
		{"empty", "# nothing yet\n\n", "holds no key"},
		{"too many", manyKeys(t, MaxKeys+1), "line 9: more than 8 keys"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadKeyFile(path)
			if err == nil || !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrKeyFile naming %s and saying %q", err, path, c.want)
			}
		})
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing")); err == nil || !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
	if runtime.GOOS != "windows" {
		path := filepath.Join(dir, "open")
		if err := os.WriteFile(path, []byte(k1+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode 0644: %v", err)
		}
	}
	for _, keys := range [][][]byte{nil, {[]byte("short")}, {bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{1}, 32)}} {
		if err := WriteKeyFile(filepath.Join(dir, "w"), keys); err == nil {
			t.Errorf("WriteKeyFile(%x) accepted", keys)
		}
	}
}

func manyKeys(t *testing.T, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(base64.StdEncoding.EncodeToString(mustKey(t)) + "\n")
	}
	return b.String()
}
