package identity

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestEnrollRoundTrip(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	k := newTestKey(t)
	dir := t.TempDir()
	if err := k.Save(filepath.Join(dir, KeyFile)); err != nil {
		t.Fatal(err)
	}

	_, err := LoadCredentials(dir, k)
	if !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("before enrollment: %v, want ErrNotEnrolled", err)
	}
	wantErr(t, err, filepath.Join(dir, CertFile), "enrollment request")

	before := time.Now()
	bundle, err := ca.Sign(request(t, k, Claims{Name: "cayo-laptop-07", Role: "field", District: "cayo"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := Install(dir, k, bundle)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Node: k.ID(), Name: "cayo-laptop-07", Role: "field", District: "Cayo"}
	if creds.Claims != want {
		t.Fatalf("claims %+v, want %+v", creds.Claims, want)
	}

	// The certificate says what the brief says it says.
	c := creds.Cert
	if c.Subject.CommonName != want.Name || !slices.Equal(c.Subject.Organization, []string{Organization}) {
		t.Errorf("subject %v", c.Subject)
	}
	wantURI := "lifeline://node/" + k.ID().String() + "?name=cayo-laptop-07&role=field&district=Cayo"
	if len(c.URIs) != 1 || c.URIs[0].String() != wantURI {
		t.Errorf("URIs %v, want %s", c.URIs, wantURI)
	}
	if len(c.DNSNames)+len(c.IPAddresses)+len(c.EmailAddresses) != 0 {
		t.Error("other names than the claims URI")
	}
	if c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature ||
		!slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("usages %v %v, IsCA %v", c.KeyUsage, c.ExtKeyUsage, c.IsCA)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || c.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %x is not a random 128-bit number", c.SerialNumber)
	}
	// A field laptop's certificate lasts 120 days, a season; a relay's or
	// HQ's a year.
	season := 120 * 24 * time.Hour
	if c.NotBefore.After(before.Add(-ClockSlack+time.Second)) || c.NotAfter.Sub(before) < season-time.Minute || c.NotAfter.Sub(before) > season+time.Minute {
		t.Errorf("validity %v to %v, want %v", c.NotBefore, c.NotAfter, season)
	}
	if !creds.CA.Equal(ca.Cert) || creds.Key != k {
		t.Error("credentials hold another CA or key")
	}
	// The bundle is the node's certificate then the CA's.
	b1, rest := pem.Decode(bundle)
	b2, rest := pem.Decode(rest)
	if b1 == nil || b2 == nil || len(rest) != 0 || !bytes.Equal(b1.Bytes, c.Raw) || !bytes.Equal(b2.Bytes, ca.Cert.Raw) {
		t.Error("bundle is not the node's certificate then the CA's")
	}
	if runtime.GOOS != "windows" {
		for _, f := range []string{CertFile, CAFile} {
			fi, err := os.Stat(filepath.Join(dir, f))
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("%s: %v %v", f, fi.Mode(), err)
			}
		}
	}

	// Load what Install wrote, with the key loaded back from disk.
	k2, err := Load(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCredentials(dir, k2)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Claims != want || !loaded.Cert.Equal(c) || !loaded.CA.Equal(ca.Cert) {
		t.Fatalf("loaded %+v", loaded.Claims)
	}
	// Another key cannot use these credentials.
	_, err = LoadCredentials(dir, newTestKey(t))
	wantErr(t, err, filepath.Join(dir, CertFile), "another key")

	// Re-enrollment (a new role, say) replaces the certificate; no temporary
	// files are left behind.
	bundle2, err := ca.Sign(request(t, k, Claims{Name: "cayo-relay", Role: "relay", District: "Cayo"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Install(dir, k, bundle2); err != nil {
		t.Fatal(err)
	}
	loaded, err = LoadCredentials(dir, k)
	if err != nil || loaded.Claims.Role != "relay" || loaded.Claims.Name != "cayo-relay" {
		t.Fatalf("after re-enrollment: %+v %v", loaded, err)
	}
	// The earlier file, whose certificate ends first, no longer installs.
	if _, err := Install(dir, k, bundle); !errors.Is(err, ErrOlderCert) {
		t.Fatalf("the earlier file installed again: %v, want ErrOlderCert", err)
	}
	if loaded, err = LoadCredentials(dir, k); err != nil || loaded.Claims.Role != "relay" {
		t.Fatalf("after the earlier file: %+v %v", loaded, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("folder holds %d files, want %s, %s, %s", len(entries), KeyFile, CertFile, CAFile)
	}

	// An expired certificate still loads, so the node can say so.
	if err := os.WriteFile(filepath.Join(dir, CertFile), pemCert(enrollAtKey(t, ca, k, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(dir, k); err != nil {
		t.Fatalf("expired certificate: %v", err)
	}
	// A missing CA file, or one of another CA, is refused, naming the file.
	os.WriteFile(filepath.Join(dir, CAFile), pemCert(newTestCA(t, "Other").Cert), 0o644)
	_, err = LoadCredentials(dir, k)
	wantErr(t, err, filepath.Join(dir, CAFile), "not signed by this deployment's CA")
	os.Remove(filepath.Join(dir, CAFile))
	_, err = LoadCredentials(dir, k)
	wantErr(t, err, filepath.Join(dir, CAFile), "does not exist")
	if errors.Is(err, ErrNotEnrolled) {
		t.Fatal("a missing CA file is not a missing enrollment")
	}
}

// enrollAtKey is a certificate for k with the validity given.
func enrollAtKey(t *testing.T, ca *CA, k *Key, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	bundle, err := ca.SignAt(request(t, k, Claims{Name: "n", Role: "field", District: "Cayo"}), notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(bundle)
	return parseCert(t, b.Bytes)
}

func TestInstallRefuses(t *testing.T) {
	ca, otherCA := newTestCA(t, "NEMO Lifeline CA"), newTestCA(t, "Rogue CA")
	k, other := newTestKey(t), newTestKey(t)
	claims := Claims{Name: "cayo-laptop-07", Role: "field", District: "Cayo"}
	good, err := ca.Sign(request(t, k, claims), 0)
	if err != nil {
		t.Fatal(err)
	}
	fromOtherCA, err := otherCA.Sign(request(t, k, claims), 0)
	if err != nil {
		t.Fatal(err)
	}
	first := func(b []byte) []byte { blk, _ := pem.Decode(b); return pem.EncodeToMemory(blk) }
	now := time.Now()
	expired, err := ca.SignAt(request(t, k, claims), now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	notYet, err := ca.SignAt(request(t, k, claims), now.Add(24*time.Hour), now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		key    *Key
		bundle []byte
		says   string
	}{
		{"another key's bundle", other, good, "another key than this node's (node " + other.ID().String() + ")"},
		{"signed by another CA", k, append(first(fromOtherCA), pemCert(ca.Cert)...), "not signed by this deployment's CA"},
		{"expired", k, expired, "expired on " + now.Add(-24*time.Hour).UTC().Format("2006-01-02")},
		{"not valid yet", k, notYet, "not valid until"},
		{"node certificate alone", k, first(good), "1 certificates, want two"},
		{"three certificates", k, append(bytes.Clone(good), pemCert(ca.Cert)...), "more than two"},
		{"CA first", k, append(pemCert(ca.Cert), first(good)...), "not a CA's"},
		{"garbage", k, []byte("garbage"), "not PEM"},
		{"a key in it", k, append(bytes.Clone(good), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")...), `"PRIVATE KEY"`},
		{"oversized", k, append(bytes.Clone(good), bytes.Repeat([]byte(" "), maxPEMInput)...), "64 KiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Install(dir, tc.key, tc.bundle)
			wantErr(t, err, "install enrollment bundle: ", tc.says)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("a refused bundle left %d files", len(entries))
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	req := request(t, newTestKey(t), Claims{Name: "a", Role: "hq", District: "Belize"})
	now := time.Now()
	_, err := ca.SignAt(req, now, now.Add(-time.Second))
	wantErr(t, err, "ends", "before it starts")
	_, err = ca.Sign(req, 30*365*24*time.Hour)
	wantErr(t, err, "after the CA itself expires on "+ca.Cert.NotAfter.UTC().Format("2006-01-02"))
	_, err = ca.Sign(req, -time.Hour)
	wantErr(t, err, "negative")
	_, err = ca.Sign([]byte("nonsense"), 0)
	wantErr(t, err, "sign: enrollment request: no PEM")
	_, err = (&CA{Cert: ca.Cert}).Sign(req, 0)
	wantErr(t, err, "no private key")
}

func TestVerifyPeer(t *testing.T) {
	ca, otherCA := newTestCA(t, "NEMO Lifeline CA"), newTestCA(t, "Rogue CA")
	good := enroll(t, ca, "cayo-laptop-07", "field", "Cayo")
	now := time.Now()
	c, err := VerifyPeer(good.Cert, ca.Cert, now)
	if err != nil || c != good.Claims {
		t.Fatalf("%+v %v", c, err)
	}
	rogue := enroll(t, otherCA, "cayo-laptop-07", "field", "Cayo")
	expiry := now.Add(-time.Hour)
	expired := enrollAt(t, ca, "toledo-7", now.Add(-48*time.Hour), expiry)

	// A certificate signed by the CA whose claims are forged: node id of
	// another key.
	k, victim := newTestKey(t), newTestKey(t)
	serial, _ := randomSerial()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject(Claims{Name: "hq"}),
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{claimsURI(Claims{Node: victim.ID(), Name: "hq", Role: "hq", District: "Belize"})},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, k.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	forged := parseCert(t, der)
	// Signed by the CA but only for clients.
	tmpl.URIs = []*url.URL{claimsURI(Claims{Node: k.ID(), Name: "hq", Role: "hq", District: "Belize"})}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, k.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	clientOnly := parseCert(t, der)

	cases := []struct {
		name string
		cert *x509.Certificate
		ca   *x509.Certificate
		now  time.Time
		says string
	}{
		{"other CA", rogue.Cert, ca.Cert, now, "certificate of " + rogue.Claims.String() + " is not signed by this deployment's CA"},
		{"expired", expired.Cert, ca.Cert, now, "certificate of toledo-7 (field, Toledo, node " + expired.Claims.Node.String() + ") expired on " + fmtTime(expiry)},
		{"not yet valid", good.Cert, ca.Cert, now.Add(-2 * ClockSlack), "is not valid until"},
		{"expired later", good.Cert, ca.Cert, now.Add(DefaultValidity + time.Hour), "expired on"},
		{"CA expired", good.Cert, ca.Cert, ca.Cert.NotAfter.Add(time.Hour), "CA certificate (\"NEMO Lifeline CA\") expired on"},
		{"forged node id", forged, ca.Cert, now, "claims node " + victim.ID().String() + " but its key is node " + k.ID().String()},
		{"client only", clientOnly, ca.Cert, now, "not for node-to-node TLS"},
		{"CA as peer", ca.Cert, ca.Cert, now, "is a CA certificate"},
		{"node as CA", good.Cert, good.Cert, now, "not a CA certificate"},
		{"no certificate", nil, ca.Cert, now, "no certificate"},
		{"no CA", good.Cert, nil, now, "not a CA certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyPeer(tc.cert, tc.ca, tc.now)
			wantErr(t, err, tc.says)
			if !errors.Is(err, ErrUntrusted) {
				t.Fatalf("%v is not ErrUntrusted", err)
			}
		})
	}
}

func TestClaimsOf(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	creds := enroll(t, ca, "orange-walk relay", "relay", "ORANGE  walk")
	c, err := ClaimsOf(creds.Cert)
	if err != nil || c != creds.Claims || c.District != "Orange Walk" || c.Name != "orange-walk relay" {
		t.Fatalf("%+v %v", c, err)
	}
	_, err = ClaimsOf(ca.Cert)
	wantErr(t, err, "0 URI names")
	_, err = ClaimsOf(nil)
	wantErr(t, err, "no certificate")
}

// Sign copies nothing from a request but the claims and the key: a request
// asking to be a CA, or for host names, gets a plain node certificate.
func TestSignIgnoresRequestExtras(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	k := newTestKey(t)
	tmpl := requestTemplate(Claims{Node: k.ID(), Name: "sneaky", Role: "field", District: "Corozal"})
	tmpl.DNSNames = []string{"hq.example"}
	tmpl.IPAddresses = []net.IP{net.IPv4(10, 0, 0, 1)}
	tmpl.EmailAddresses = []string{"a@example.org"}
	tmpl.ExtraExtensions = []pkix.Extension{{
		Id:       asn1.ObjectIdentifier{2, 5, 29, 19}, // basic constraints
		Critical: true,
		Value:    []byte{0x30, 0x03, 0x01, 0x01, 0xff}, // cA TRUE
	}}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := ca.Sign(pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: der}), 0)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := Install(t.TempDir(), k, bundle)
	if err != nil {
		t.Fatal(err)
	}
	c := creds.Cert
	if c.IsCA || len(c.DNSNames)+len(c.IPAddresses)+len(c.EmailAddresses) != 0 || len(c.URIs) != 1 {
		t.Fatalf("IsCA %v, names %v %v %v %v", c.IsCA, c.DNSNames, c.IPAddresses, c.EmailAddresses, c.URIs)
	}
}
