package personal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

func testKey(district string, epoch uint32, fill byte) DataKey {
	return DataKey{District: district, Epoch: epoch, Key: bytes.Repeat([]byte{fill}, 32)}
}

func held(keys ...DataKey) Lookup {
	r := NewKeyring()
	r.Add(keys...)
	return r.Key
}

// cborText is the CBOR of a short text, as a field value holds it.
func cborText(s string) []byte {
	if len(s) >= 24 {
		panic("short texts only")
	}
	return append([]byte{0x60 | byte(len(s))}, s...)
}

// TestSealGolden pins the sealed value's bytes, built here from the
// format's definition (doc of the envelope) with the AEAD directly.
func TestSealGolden(t *testing.T) {
	cayo, hq := testKey("Cayo", 3, 0x11), testKey("", 1, 0x22)
	nonce := bytes.Repeat([]byte{0x33}, 24)
	content := bytes.Repeat([]byte{0x44}, 32)
	ad := AD{Record: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Field: "full_name"}
	value := cborText("Maria Chun") // 11 bytes, padded to 16

	got, err := seal(bytes.NewReader(append(nonce, content...)), value, ad, []DataKey{cayo, hq})
	if err != nil {
		t.Fatal(err)
	}

	id := func(k []byte) []byte {
		h := sha256.Sum256(append([]byte("lifeline/data-key/v1\x00"), k...))
		return h[:8]
	}
	prefix := append([]byte("lifeline/personal/v1\x00"), ad.Record[:]...)
	prefix = append(append(prefix, "full_name"...), 0)
	head := append([]byte{1, 2}, nonce...)
	env := append([]byte{}, head...)
	for _, k := range [][]byte{cayo.Key, hq.Key} {
		aead, _ := chacha20poly1305.NewX(k)
		wad := append(append(append([]byte{}, prefix...), head...), id(k)...)
		env = append(env, id(k)...)
		env = aead.Seal(env, nonce, content, wad)
	}
	aead, _ := chacha20poly1305.NewX(content)
	plain := append(append([]byte{}, value...), 0, 0, 0, 0, 0)
	env = aead.Seal(env, nonce, plain, append(append([]byte{}, prefix...), env...))
	// 26 + 2×56 + 16 + 16 = 170 bytes: a one-byte length.
	want := append([]byte{0x58, byte(len(env))}, env...)
	if !bytes.Equal(got, want) {
		t.Fatalf("sealed value:\n got %x\nwant %x", got, want)
	}
	if len(env) != 170 {
		t.Fatalf("envelope of %d bytes, want 170", len(env))
	}
	const pinned = "58aa0102333333333333333333333333333333333333333333333333"
	if !strings.HasPrefix(hex.EncodeToString(got), pinned) {
		t.Fatalf("sealed value starts %x, want %s", got[:28], pinned)
	}

	open, err := Open(got, ad, held(hq))
	if err != nil || !bytes.Equal(open, value) {
		t.Fatalf("Open = %x, %v; want %x", open, err, value)
	}
}

func TestSealOpens(t *testing.T) {
	cayo, toledo, hq := testKey("Cayo", 1, 1), testKey("Toledo", 1, 2), testKey("", 1, 3)
	ad := AD{Record: [16]byte{9}, Field: "phone"}
	for _, value := range [][]byte{cborText("+501 600 1234"), {0x18, 0x2a}, {0x61, 'a'}} {
		sealed, err := Seal(value, ad, cayo)
		if err != nil {
			t.Fatal(err)
		}
		if !IsSealed(sealed) || bytes.Contains(sealed, value[1:]) && len(value) > 4 {
			t.Fatalf("sealed value %x shows its value", sealed)
		}
		if got, err := Open(sealed, ad, held(toledo, cayo)); err != nil || !bytes.Equal(got, value) {
			t.Fatalf("Open = %x, %v; want %x", got, err, value)
		}
		if _, err := Open(sealed, ad, held(toledo, hq)); !errors.Is(err, ErrNoKey) {
			t.Fatalf("Open without the key: %v, want ErrNoKey", err)
		}
		moved := ad
		moved.Field = "full_name"
		if _, err := Open(sealed, moved, held(cayo)); !errors.Is(err, ErrDamaged) {
			t.Fatalf("Open in another field: %v, want ErrDamaged", err)
		}
		moved = ad
		moved.Record[0]++
		if _, err := Open(sealed, moved, held(cayo)); !errors.Is(err, ErrDamaged) {
			t.Fatalf("Open in another record: %v, want ErrDamaged", err)
		}
		for i := 7; i < len(sealed); i++ {
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x01
			if got, err := Open(bad, ad, held(cayo)); err == nil {
				t.Fatalf("byte %d altered: opened as %x", i, got)
			}
		}
	}
}

func TestSealRefuses(t *testing.T) {
	k := testKey("Cayo", 1, 1)
	ad := AD{Field: "x"}
	for name, keys := range map[string][]DataKey{
		"no key":    nil,
		"five keys": {testKey("a", 1, 1), testKey("b", 1, 2), testKey("c", 1, 3), testKey("d", 1, 4), testKey("e", 1, 5)},
		"twice":     {k, k},
		"short key": {{District: "Cayo", Epoch: 1, Key: []byte{1}}},
	} {
		if _, err := Seal(cborText("x"), ad, keys...); err == nil {
			t.Errorf("%s: sealed", name)
		}
	}
	if _, err := Seal([]byte{0x61}, ad, k); err == nil {
		t.Error("a value that is not whole CBOR sealed")
	}
	if _, err := Seal(nil, ad, k); err == nil {
		t.Error("an empty value sealed")
	}
	if _, err := Seal(make([]byte, MaxValue+1), ad, k); err == nil {
		t.Error("a value past MaxValue sealed")
	}
}

func TestParseRefuses(t *testing.T) {
	k, k2 := testKey("Cayo", 1, 1), testKey("", 1, 2)
	good, err := Seal(cborText("Maria"), AD{Field: "f"}, k, k2)
	if err != nil {
		t.Fatal(err)
	}
	env := good[2:]
	direct, err := Seal(cborText("Maria"), AD{Field: "f"}, k)
	if err != nil {
		t.Fatal(err)
	}
	denv := direct[2:]
	cases := map[string][]byte{
		"plain text":      cborText("Maria"),
		"empty":           {},
		"a short string":  {0x41, 'x'},
		"long form short": append([]byte{0x59, 0, byte(len(env))}, env...),
		"cut":             good[:len(good)-1],
		"padded":          append(bytes.Clone(good), 0),
		"version 2":       wrapCBOR(append([]byte{2}, env[1:]...)),
		"one reader":      wrapCBOR(append([]byte{1, 1}, env[2:]...)),
		"five readers":    wrapCBOR(append([]byte{1, 5}, env[2:]...)),
		"direct, cut":     wrapCBOR(denv[:len(denv)-1]),
		"direct, short":   wrapCBOR(denv[:directLen+overhead]),
	}
	for name, v := range cases {
		if _, err := Parse(v); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	twice := append(append(append(append([]byte{1, 2}, env[2:26]...), env[26:82]...), env[26:82]...), env[138:]...)
	if _, err := Parse(wrapCBOR(twice)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a key named twice: %v", err)
	}
	e, err := Parse(good)
	if err != nil || len(e.Keys) != 2 || e.Keys[0] != k.ID() || e.Keys[1] != k2.ID() {
		t.Fatalf("Parse = %+v, %v", e, err)
	}
	e, err = Parse(direct)
	if err != nil || len(e.Keys) != 1 || e.Keys[0] != k.ID() {
		t.Fatalf("Parse of a direct envelope = %+v, %v", e, err)
	}
}

// TestSealDirectGolden pins a value sealed for one key, built from the
// format's definition.
func TestSealDirectGolden(t *testing.T) {
	cayo := testKey("Cayo", 1, 0x11)
	nonce := bytes.Repeat([]byte{0x33}, 24)
	ad := AD{Record: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Field: "phone"}
	value := cborText("+501 624-1187") // 14 bytes, padded to 16
	got, err := seal(bytes.NewReader(nonce), value, ad, []DataKey{cayo})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append([]byte("lifeline/data-key/v1\x00"), cayo.Key...))
	env := append(append([]byte{1, 0}, nonce...), h[:8]...)
	prefix := append(append(append([]byte("lifeline/personal/v1\x00"), ad.Record[:]...), "phone"...), 0)
	aead, _ := chacha20poly1305.NewX(cayo.Key)
	env = aead.Seal(env, nonce, append(append([]byte{}, value...), 0, 0), append(prefix, env...))
	want := append([]byte{0x58, byte(len(env))}, env...) // 34 + 16 + 16 = 66 bytes
	if !bytes.Equal(got, want) || len(env) != 66 {
		t.Fatalf("sealed value:\n got %x\nwant %x", got, want)
	}
	if open, err := Open(got, ad, held(cayo)); err != nil || !bytes.Equal(open, value) {
		t.Fatalf("Open = %x, %v", open, err)
	}
}

func TestKeyringCurrent(t *testing.T) {
	r := NewKeyring()
	a1, a2, b2 := testKey("Cayo", 1, 1), testKey("Cayo", 2, 2), testKey("Cayo", 2, 3)
	if added := r.Add(a1, a2); len(added) != 2 {
		t.Fatalf("added %d", len(added))
	}
	if added := r.Add(a2); len(added) != 0 {
		t.Fatalf("added a key twice")
	}
	r.Add(b2)
	want := a2
	if bytes.Compare(keyID(b2), keyID(a2)) < 0 {
		want = b2
	}
	if c, _ := r.Current("Cayo"); !bytes.Equal(c.Key, want.Key) {
		t.Fatalf("current key of epoch %d, not the lower id of epoch 2", c.Epoch)
	}
	if _, ok := r.Current("Toledo"); ok {
		t.Fatal("a key of a district never added")
	}
	if of := r.Of("Cayo"); len(of) != 3 || of[0].Epoch != 1 {
		t.Fatalf("Of = %v", of)
	}
}

func FuzzOpen(f *testing.F) {
	k := testKey("Cayo", 1, 1)
	ad := AD{Record: [16]byte{1}, Field: "full_name"}
	for _, v := range []string{"Maria", strings.Repeat("x", 300)} {
		b, _ := Seal(append([]byte{0x79, byte(len(v) >> 8), byte(len(v))}, v...), ad, k)
		f.Add(b)
	}
	f.Add([]byte{0x5a, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Open(b, ad, held(k))
		if err == nil && (len(v) == 0 || len(v) > MaxValue+padTo) {
			t.Fatalf("opened %d bytes", len(v))
		}
	})
}
