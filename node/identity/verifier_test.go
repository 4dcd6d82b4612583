package identity

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// The verifier's bytes, built here from the format's table.
func TestVerifierGolden(t *testing.T) {
	kdf := KDF{Time: 1, Memory: 64, Threads: 1}
	salt := bytes.Repeat([]byte{0x5a}, 16)
	pass := []byte("rain on the zinc roof")
	got, err := newVerifier(bytes.NewReader(salt), kdf, pass)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1}
	want = binary.BigEndian.AppendUint32(want, 1)
	want = binary.BigEndian.AppendUint32(want, 64)
	want = append(want, 1)
	want = append(want, salt...)
	want = append(want, xargon2.IDKey(pass, salt, 1, 64, 1, 32)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("verifier\n got %x\nwant %x", got, want)
	}
	if err := CheckVerifier(got, pass); err != nil {
		t.Fatal(err)
	}
	for _, wrong := range [][]byte{[]byte("rain on the zinc roof "), []byte("Rain on the zinc roof"), nil} {
		if err := CheckVerifier(got, wrong); !errors.Is(err, ErrPassphrase) {
			t.Fatalf("%q: %v", wrong, err)
		}
	}
	bad := bytes.Clone(got)
	binary.BigEndian.PutUint32(bad[5:], 4<<20) // 4 GiB of memory asked
	if err := CheckVerifier(bad, pass); err == nil || errors.Is(err, ErrPassphrase) {
		t.Fatalf("a verifier asking 4 GiB: %v", err)
	}
	if _, err := newVerifier(bytes.NewReader(salt), kdf, []byte("short")); err == nil {
		t.Fatal("a weak passphrase took a verifier")
	}
}
