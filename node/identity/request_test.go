package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"

	"lifeline/syncproto"
)

func TestClaimsValidate(t *testing.T) {
	id := syncproto.NodeID{1}
	good := Claims{Node: id, Name: "cayo-laptop-07", Role: "field", District: "Cayo"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []Claims{
		{Node: id, Name: " cayo-laptop-07 ", Role: "relay", District: "  stann   CREEK"},
		{Node: id, Name: strings.Repeat("x", 64), Role: "hq", District: "belize"},
		{Node: id, Name: "Oficina de Orange Walk — sección 2", Role: "relay", District: "Orange Walk"},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		c    Claims
		says string
	}{
		{Claims{Name: "a", Role: "field", District: "Cayo"}, "node id"},
		{Claims{Node: id, Name: "", Role: "field", District: "Cayo"}, "node name"},
		{Claims{Node: id, Name: "   ", Role: "field", District: "Cayo"}, "node name"},
		{Claims{Node: id, Name: strings.Repeat("x", 65), Role: "field", District: "Cayo"}, "1 to 64"},
		{Claims{Node: id, Name: "a\nb", Role: "field", District: "Cayo"}, "printable"},
		{Claims{Node: id, Name: "a\xffb", Role: "field", District: "Cayo"}, "printable"},
		{Claims{Node: id, Name: "a", Role: "admin", District: "Cayo"}, `role "admin": one of field, relay, hq`},
		{Claims{Node: id, Name: "a", Role: "Field", District: "Cayo"}, "role"},
		{Claims{Node: id, Name: "a", Role: "field", District: "Petén"}, `district "Petén": one of Belize, Cayo`},
	} {
		wantErr(t, tc.c.Validate(), tc.says)
	}
	// All problems at once.
	wantErr(t, Claims{}.Validate(), "node id", "node name", "role", "district")
}

func TestRequestRoundTrip(t *testing.T) {
	k := newTestKey(t)
	req := request(t, k, Claims{Name: " cayo-laptop-07 ", Role: "field", District: "cayo"})
	if !bytes.HasPrefix(req, []byte("-----BEGIN CERTIFICATE REQUEST-----\n")) {
		t.Fatalf("not a PEM CSR:\n%s", req)
	}
	c, pub, err := ParseRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Node: k.ID(), Name: "cayo-laptop-07", Role: "field", District: "Cayo"}
	if c != want {
		t.Fatalf("claims %+v, want %+v", c, want)
	}
	if !pub.Equal(k.Public()) {
		t.Fatal("another key")
	}
	// Names and districts that need escaping survive.
	c2 := Claims{Name: "Oficina Orange Walk #2 & co?=%", Role: "relay", District: "orange walk"}
	got, _, err := ParseRequest(request(t, k, c2))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != c2.Name || got.District != "Orange Walk" || got.Node != k.ID() {
		t.Fatalf("claims %+v", got)
	}
}

func TestRequestRefuses(t *testing.T) {
	k := newTestKey(t)
	_, err := k.Request(Claims{Node: syncproto.NodeID{9}, Name: "a", Role: "field", District: "Cayo"})
	wantErr(t, err, "this key is node "+k.ID().String())
	_, err = k.Request(Claims{Name: "a", Role: "boss", District: "Petén"})
	wantErr(t, err, "enrollment request", `role "boss"`, `district "Petén"`)
}

// csr signs a hand-made request template with any key, for requests
// Key.Request would never write.
func csr(t *testing.T, tmpl *x509.CertificateRequest, priv any) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: der})
}

func TestParseRequestRefuses(t *testing.T) {
	k, other := newTestKey(t), newTestKey(t)
	claims := Claims{Node: k.ID(), Name: "cayo-laptop-07", Role: "field", District: "Cayo"}
	good := request(t, k, claims)
	block, _ := pem.Decode(good)
	der := block.Bytes
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	with := func(edit func(c *Claims)) *x509.CertificateRequest {
		c := claims
		edit(&c)
		return requestTemplate(c)
	}
	// Flip one letter of the name inside the signed part: it still parses.
	tampered := bytes.Clone(der)
	i := bytes.Index(tampered, []byte("cayo-laptop-07"))
	if i < 0 {
		t.Fatal("name not found in the DER")
	}
	tampered[i] = 'C'
	twoURIs := requestTemplate(claims)
	twoURIs.URIs = append(twoURIs.URIs, claimsURI(Claims{Node: k.ID(), Name: "x", Role: "hq", District: "Belize"}))
	noURI := requestTemplate(claims)
	noURI.URIs = nil
	otherCN := requestTemplate(claims)
	otherCN.Subject.CommonName = "hq"
	extraClaim := requestTemplate(claims)
	extraClaim.URIs[0].RawQuery += "&role2=hq"
	lowerDistrict := requestTemplate(claims)
	lowerDistrict.URIs[0].RawQuery = strings.Replace(lowerDistrict.URIs[0].RawQuery, "Cayo", "cayo", 1)
	upperID := requestTemplate(claims)
	upperID.URIs[0].Path = strings.ToUpper(upperID.URIs[0].Path)
	otherScheme := requestTemplate(claims)
	otherScheme.URIs[0] = &url.URL{Scheme: "https", Host: "node", Path: otherScheme.URIs[0].Path, RawQuery: otherScheme.URIs[0].RawQuery}
	ecdsaReq := requestTemplate(claims)
	ecdsaReq.SignatureAlgorithm = x509.ECDSAWithSHA256

	cases := []struct {
		name string
		in   []byte
		says string
	}{
		{"node id not the key's", csr(t, requestTemplate(claims), other.Signer()), "claims node " + k.ID().String() + " but is signed by node " + other.ID().String()},
		{"tampered name", pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: tampered}), "signature does not verify"},
		{"not Ed25519", csr(t, ecdsaReq, ecKey), "not Ed25519"},
		{"unknown role", csr(t, with(func(c *Claims) { c.Role = "admin" }), k.Signer()), `role "admin"`},
		{"unknown district", csr(t, with(func(c *Claims) { c.District = "Petén" }), k.Signer()), `district "Petén"`},
		{"empty name", csr(t, with(func(c *Claims) { c.Name = "" }), k.Signer()), "node name"},
		{"oversized", append(bytes.Clone(good), bytes.Repeat([]byte("\n"), maxPEMInput)...), "more than the 64 KiB"},
		{"empty", nil, "no PEM"},
		{"garbage", []byte("hello"), "no PEM"},
		{"DER not PEM", der, "no PEM"},
		{"wrong PEM type", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), `"CERTIFICATE"`},
		{"trailing data", append(bytes.Clone(good), good...), "data after the request"},
		{"not a CSR", pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}), "not a certificate request"},
		{"two URIs", csr(t, twoURIs, k.Signer()), "2 URI names"},
		{"no URI", csr(t, noURI, k.Signer()), "0 URI names"},
		{"common name differs", csr(t, otherCN, k.Signer()), `common name "hq"`},
		{"extra claim", csr(t, extraClaim, k.Signer()), `unknown claim "role2"`},
		{"district not canonical", csr(t, lowerDistrict, k.Signer()), "canonical"},
		{"node id not canonical", csr(t, upperID, k.Signer()), "not a node id"},
		{"other scheme", csr(t, otherScheme, k.Signer()), "want lifeline://node/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseRequest(tc.in)
			wantErr(t, err, "enrollment request: ", tc.says)
		})
	}

	// Every single-byte change anywhere in the DER is refused.
	for i := range der {
		for _, x := range []byte{0x01, 0x80} {
			d := bytes.Clone(der)
			d[i] ^= x
			if c, _, err := ParseRequest(pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: d})); err == nil {
				t.Fatalf("byte %d ^ %#x accepted: %+v", i, x, c)
			}
		}
	}
}
