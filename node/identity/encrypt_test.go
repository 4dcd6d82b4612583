package identity

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// What EncryptTo encrypts for a node's key, only that key opens; the bytes
// carry nothing of the secret.
func TestEncryptToANodesKey(t *testing.T) {
	k, other := newTestKey(t), newTestKey(t)
	secret := []byte("c2VjcmV0IGdvc3NpcCBrZXkgb2YgMzIgYnl0ZXM=\n")
	box, err := EncryptTo(k.Public(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(box, secret) || bytes.Contains(box, secret[:16]) {
		t.Fatal("the secret is in the clear")
	}
	got, err := k.Decrypt(box)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("the node's own key: %q, %v", got, err)
	}
	if _, err := other.Decrypt(box); !errors.Is(err, ErrNotForKey) {
		t.Fatalf("another node's key: %v, want ErrNotForKey", err)
	}
	altered := slices.Clone(box)
	altered[len(altered)-3] ^= 1
	if _, err := k.Decrypt(altered); err == nil {
		t.Fatal("an altered file opened")
	}
	if _, err := k.Decrypt([]byte("not age")); err == nil {
		t.Fatal("garbage opened")
	}
}
