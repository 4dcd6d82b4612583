package identity

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"lifeline/syncproto"
)

// testPassphrase seals the CAs tests save; testKDF makes it cheap, where
// the cost of Argon2id is not what a test is about.
var (
	testPassphrase = []byte("correct horse battery staple")
	testKDF        = KDF{Time: 1, Memory: 64, Threads: 1}
)

// passphrase is a Passphrase that gives p.
func passphrase(p []byte) Passphrase {
	return func() ([]byte, error) { return p, nil }
}

func newTestCA(t testing.TB, name string) *CA {
	t.Helper()
	ca, err := NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func newTestKey(t testing.TB) *Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func request(t testing.TB, k *Key, c Claims) []byte {
	t.Helper()
	req, err := k.Request(c)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// enroll makes a key, has ca sign its request and installs the bundle in a
// fresh folder.
func enroll(t testing.TB, ca *CA, name string, role syncproto.Role, district string) *Credentials {
	t.Helper()
	k := newTestKey(t)
	bundle, err := ca.Sign(request(t, k, Claims{Name: name, Role: role, District: district}), 0)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := Install(t.TempDir(), k, bundle)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

// enrollAt is enroll with a chosen validity, which may be over already:
// Install would refuse such a bundle, so the credentials are made directly.
func enrollAt(t testing.TB, ca *CA, name string, notBefore, notAfter time.Time) *Credentials {
	t.Helper()
	k := newTestKey(t)
	bundle, err := ca.SignAt(request(t, k, Claims{Name: name, Role: "field", District: "Toledo"}), notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := parseBundle(k, bundle)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func wantErr(t testing.TB, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("error %q does not say %q", err, f)
		}
	}
}

func parseCert(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func x509VerifyOptions(ca *CA) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
}
