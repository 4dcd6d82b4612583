package identity

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

// A certificate takes the place of another of the same key only when it
// is signed later, ends later and says another name, role or district; a
// renewal with the same claims, one signed earlier or ending earlier, or
// one of another key does not.
func TestSupersedes(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	k, other := newTestKey(t), newTestKey(t)
	now := time.Now()
	cert := func(k *Key, district string, from, to time.Duration) *x509.Certificate {
		t.Helper()
		bundle, err := ca.SignAt(request(t, k, Claims{Name: "cayo-31", Role: "field", District: district}), now.Add(from), now.Add(to))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(bundle)
		return parseCert(t, b.Bytes)
	}
	cayo := cert(k, "Cayo", -48*time.Hour, 24*time.Hour)
	for _, c := range []struct {
		what  string
		newer *x509.Certificate
		want  bool
	}{
		{"moved to Toledo, signed later, ending later", cert(k, "Toledo", -time.Hour, 48*time.Hour), true},
		{"renewed in Cayo", cert(k, "Cayo", -time.Hour, 48*time.Hour), false},
		{"of Toledo, signed earlier", cert(k, "Toledo", -72*time.Hour, 48*time.Hour), false},
		{"of Toledo, ending earlier", cert(k, "Toledo", -time.Hour, 12*time.Hour), false},
		{"of another key", cert(other, "Toledo", -time.Hour, 48*time.Hour), false},
	} {
		if got := Supersedes(c.newer, cayo); got != c.want {
			t.Errorf("%s: supersedes %v, want %v", c.what, got, c.want)
		}
	}
}
