package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"lifeline/syncproto"
)

func TestKeySaveLoadSign(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), KeyFile)
	if err := k.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if err := k.Save(path); err == nil {
		t.Fatal("an existing key was overwritten")
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != k.ID() || back.ID() != syncproto.NodeIDFromKey(k.Public()) {
		t.Fatal("loaded key has another id")
	}
	head := syncproto.Hash{1, 2, 3}
	sig := back.SignHead(1, 7, head)
	s1 := syncproto.Stream{Origin: k.ID(), Lane: 1}
	if !VerifyHead(k.Public(), s1, 7, head, sig) {
		t.Fatal("signature does not verify")
	}
	if VerifyHead(k.Public(), s1, 8, head, sig) || VerifyHead(k.Public(), s1, 7, syncproto.Hash{9}, sig) ||
		VerifyHead(k.Public(), syncproto.Stream{Origin: k.ID(), Lane: 2}, 7, head, sig) {
		t.Fatal("signature verifies for another sequence, head or lane")
	}
	if err := os.WriteFile(path+".bad", []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path + ".bad"); !errors.Is(err, ErrKey) {
		t.Fatalf("garbage key file: %v", err)
	}
}
