package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"testing"
	"time"

	"lifeline/syncproto"
)

// FuzzParseRequest feeds ParseRequest arbitrary bytes, both as given and
// wrapped as a PEM request (so that mutations reach the DER parser). It must
// not panic, and anything it accepts must be valid, canonical claims that
// survive a trip through Sign and ClaimsOf unchanged, with the same key.
func FuzzParseRequest(f *testing.F) {
	k, err := NewKey()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []Claims{
		{Name: "cayo-laptop-07", Role: "field", District: "cayo"},
		{Name: "Oficina Orange Walk #2 & co?=%", Role: "relay", District: "orange walk"},
		{Name: "hq", Role: "hq", District: "Belize"},
	} {
		req, err := k.Request(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(req)
		b, _ := pem.Decode(req)
		f.Add(b.Bytes)
	}
	// A request ParseRequest refuses: another key's node id.
	other, _ := NewKey()
	der, err := x509.CreateCertificateRequest(rand.Reader, requestTemplate(Claims{Node: other.ID(), Name: "x", Role: "hq", District: "Toledo"}), k.Signer())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err = x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{URIs: requestTemplate(Claims{Node: k.ID(), Name: "x", Role: "hq", District: "Toledo"}).URIs}, ec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add([]byte{})
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"))

	ca, err := NewCA("Fuzz CA")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: data})} {
			c, pub, err := ParseRequest(in)
			if err != nil {
				if c != (Claims{}) || pub != nil {
					t.Fatalf("refused (%v) but returned %+v %x", err, c, pub)
				}
				continue
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("accepted invalid claims %+v: %v", c, err)
			}
			if c.canonical() != c {
				t.Fatalf("accepted claims not in canonical form: %+v", c)
			}
			if c.Node != syncproto.NodeIDFromKey(pub) {
				t.Fatalf("accepted claims for node %s with node %s's key", c.Node, syncproto.NodeIDFromKey(pub))
			}
			bundle, err := ca.Sign(in, time.Hour)
			if err != nil {
				t.Fatalf("accepted but Sign refuses: %v", err)
			}
			b, _ := pem.Decode(bundle)
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			back, err := VerifyPeer(cert, ca.Cert, time.Now())
			if err != nil {
				t.Fatalf("signed certificate refused: %v", err)
			}
			if back != c {
				t.Fatalf("claims %+v came back as %+v", c, back)
			}
			if !pub.Equal(cert.PublicKey) {
				t.Fatal("signed another key")
			}
		}
	})
}

// FuzzUnseal feeds Unseal arbitrary sealed blocks, as given and wrapped as
// PEM. It must not panic; parameters out of bounds are refused before
// Argon2id runs; anything that opens is what was sealed, which only an
// unaltered file can be. Blocks asking for costly parameters are only
// parsed, so that the fuzzer spends its time on the format.
func FuzzUnseal(f *testing.F) {
	const typ = "LIFELINE SEALED TEST"
	secret := []byte("a secret")
	good, err := seal(&counting{}, testKDF, typ, secret, testPassphrase)
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(good)
	f.Add(good)
	f.Add(block.Bytes)
	f.Add([]byte{})
	f.Add([]byte{sealVersion})
	f.Add(block.Bytes[:sealHeaderLen])
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: data})} {
			s, err := parseSealed(in, typ)
			if err != nil {
				continue
			}
			if s.kdf.check() != nil {
				t.Fatalf("accepted parameters out of bounds: %+v", s.kdf)
			}
			if s.kdf.Memory > 1024 || s.kdf.Time > 2 {
				continue
			}
			plain, err := Unseal(in, typ, testPassphrase)
			if b, _ := pem.Decode(in); err == nil && (!bytes.Equal(plain, secret) || !bytes.Equal(b.Bytes, block.Bytes)) {
				t.Fatalf("an altered file opened, to %q", plain)
			}
		}
	})
}

// FuzzDecrypting feeds a node's decrypting reader arbitrary files. It must
// not panic, every refusal says the file is not for the key, damaged or
// cut, and what reads whole is what was encrypted for the key (the seeds:
// age authenticates every chunk, so a mutation never reads whole).
func FuzzDecrypting(f *testing.F) {
	k, err := NewKey()
	if err != nil {
		f.Fatal(err)
	}
	other, _ := NewKey()
	plain := bytes.Repeat([]byte("Rosa Tzul, +501 622 0000, asthma; "), 3000)
	for _, to := range [][]*Key{{k}, {other}, {other, k}} {
		var b bytes.Buffer
		keys := make([]ed25519.PublicKey, len(to))
		for i, x := range to {
			keys[i] = x.Public()
		}
		w, err := Encrypting(&b, keys)
		if err != nil {
			f.Fatal(err)
		}
		w.Write(plain)
		w.Close()
		f.Add(b.Bytes())
	}
	f.Add([]byte(AgeMagic))
	f.Add([]byte(AgeMagic + "-> ssh-ed25519 AAAA\n--- \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := k.Decrypting(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotForKey) && !errors.Is(err, ErrDamaged) {
				t.Fatalf("a refusal that says neither: %v", err)
			}
			return
		}
		got, err := io.ReadAll(io.LimitReader(r, int64(len(data))+1))
		switch {
		case err == nil:
			if !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes read whole that were never encrypted", len(got))
			}
		case !errors.Is(err, ErrDamaged) && !errors.Is(err, io.ErrUnexpectedEOF):
			t.Fatalf("a read error that says neither damaged nor cut: %v", err)
		}
	})
}
