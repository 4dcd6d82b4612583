package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// names lists a folder's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteMakesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys")
	for _, want := range []string{"first\n", "second, longer than the first\n", ""} {
		if err := Write(path, []byte(want), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("read %q after writing %q", got, want)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"keys"}) {
		t.Fatalf("the folder holds %q, want only the file", got)
	}
}

func TestWriteSetsPermissions(t *testing.T) {
	dir := t.TempDir()
	for _, perm := range []os.FileMode{0o600, 0o644} {
		path := filepath.Join(dir, perm.String())
		if err := Write(path, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != perm {
			t.Fatalf("mode %v, want %v", fi.Mode().Perm(), perm)
		}
	}
}

// A failure at any step leaves the old file as it was and no temporary
// file behind.
func TestFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "draft.json")
	if err := Write(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("the writer gave up")
	err := WriteFunc(path, 0o600, func(w io.Writer) error {
		w.Write([]byte("half of the n"))
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("WriteFunc returned %v, want the writer's error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("the file holds %q after a failed write, want the old contents", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"draft.json"}) {
		t.Fatalf("the folder holds %q after a failed write, want only the old file", got)
	}

	// The rename fails: a folder stands where the file would go.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "inside"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(blocked, []byte("new"), 0o600); err == nil || !strings.Contains(err.Error(), "write "+blocked+":") {
		t.Fatalf("Write over a folder returned %v, want an error naming the file", err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"blocked", "draft.json"}) {
		t.Fatalf("the folder holds %q after a failed rename, want no temporary file", got)
	}
	if got := names(t, blocked); !slices.Equal(got, []string{"inside"}) {
		t.Fatalf("the folder in the way holds %q, want it untouched", got)
	}

	// The folder does not exist: nothing is made.
	if err := Write(filepath.Join(dir, "missing", "file"), []byte("x"), 0o600); err == nil {
		t.Fatal("Write wrote into a folder that does not exist")
	}
}
