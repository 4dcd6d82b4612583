package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"lifeline/node/identity"
)

// A data folder may be named anything a responder types or a stick is
// called: "NEMO #2", "Cayo?", "50% done". Each store is the file at its
// own path, never another one that a path cut at '#' or '?' names.
func TestAStoreIsTheFileAtItsPath(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	ids := map[string]string{}
	for _, dir := range []string{"NEMO #1", "NEMO #2", "Cayo?district=Toledo", "50% done", "NEMO "} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o700); err != nil {
			t.Fatal(err)
		}
		key, err := identity.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, dir, FileName)
		s, err := Create(ctx, path, Self{ID: key.ID(), Name: dir, Role: "field", District: "Cayo"}, Options{Key: key})
		if err != nil {
			t.Fatalf("%q: %v", dir, err)
		}
		s.Close()
		ids[path] = key.ID().String()
	}
	for path, id := range ids {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		self := s.Self()
		s.Close()
		if self.ID.String() != id {
			t.Errorf("%s holds node %s (%s), want %s", path, self.ID, self.Name, id)
		}
	}
	// Nothing was made beside the folders.
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(ids) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("the root holds %q; want only the %d folders", names, len(ids))
	}
}
