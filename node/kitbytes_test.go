package node_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"lifeline/fieldkits"
	"lifeline/node/ledger"
)

// cborHead is a CBOR item's head, as RFC 8949 §3 defines it: the major
// type in the top three bits, the argument in the low five bits when it is
// under 24, else in the 1, 2, 4 or 8 bytes that follow (24 to 27),
// shortest first (§4.2.1, deterministic encoding).
func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func cborUint(n uint64) []byte  { return cborHead(0, n) }
func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

// The bytes headquarters signs and the ledger carries when it publishes a
// kit with logic, built from their definition (docs/kits.md, "How a kit is
// published"): the entry type 6, a signed envelope {1: 4 (kit), 2: the
// kit command's CBOR, 3: Unix milliseconds, 4: certificate, 5: Ed25519
// signature of "lifeline/decision/v1", the byte 4, the milliseconds as 8
// bytes big-endian and the command}, the command {1: name, 2: version, 3:
// the kit file, byte for byte}. A node that changed any of it, the file's
// rules included, would be refused by every other.
func TestPublishedKitBytes(t *testing.T) {
	file, err := os.ReadFile("../fieldkits/kits/missing-persons.yaml")
	if err != nil {
		t.Fatal(err)
	}
	k, err := fieldkits.Parse("missing-persons.yaml", file)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := k.Types[0].Field("found_at_place"); f == nil || f.Relevant == "" {
		t.Fatal("the kit has no logic to carry: found_at_place has no relevant")
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	cert := []byte("a certificate's DER")
	at := time.UnixMilli(1764923400123)

	got, err := ledger.Sign(ledger.CmdKit, &ledger.Kit{Name: k.Name, Version: k.Version, Body: file}, at, cert, key)
	if err != nil {
		t.Fatal(err)
	}

	var cmd []byte
	cmd = append(cmd, cborHead(5, 3)...)
	cmd = append(cmd, cborUint(1)...)
	cmd = append(cmd, cborText("missing-persons")...)
	cmd = append(cmd, cborUint(2)...)
	cmd = append(cmd, cborText(k.Version)...)
	cmd = append(cmd, cborUint(3)...)
	cmd = append(cmd, cborBytes(file)...)
	msg := append([]byte("lifeline/decision/v1"), 4)
	msg = binary.BigEndian.AppendUint64(msg, 1764923400123)
	msg = append(msg, cmd...)
	sig := ed25519.Sign(key, msg)
	want := []byte{6}
	want = append(want, cborHead(5, 5)...)
	want = append(want, cborUint(1)...)
	want = append(want, cborUint(4)...)
	want = append(want, cborUint(2)...)
	want = append(want, cborBytes(cmd)...)
	want = append(want, cborUint(3)...)
	want = append(want, cborUint(1764923400123)...)
	want = append(want, cborUint(4)...)
	want = append(want, cborBytes(cert)...)
	want = append(want, cborUint(5)...)
	want = append(want, cborBytes(sig)...)

	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("the published kit's %d bytes differ from the %d of its definition from byte %d", len(got), len(want), i)
	}
	if !bytes.Contains(got, []byte(`relevant: "starts-with(${status}, 'found-') or ${status} = 'reunited'"`)) {
		t.Fatal("the kit's rule is not carried as the file writes it")
	}
}
