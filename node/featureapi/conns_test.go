package featureapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"lifeline/syncproto"
)

// serveTLS serves s over real HTTPS on a loopback port until the test
// ends, with a certificate for 127.0.0.1, and gives its address and the
// client configuration that trusts it.
func serveTLS(t *testing.T, s *Server) (string, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "api"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(ctx, ln, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
}

// holdH2 opens a connection from the address from and holds it as a
// client of HTTP/2 may, without a token: the TLS handshake, the client's
// preface and its settings, then nothing. The server keeps such a
// connection until its idle timeout, two minutes. It reports false when
// the server closed the connection instead.
func holdH2(t *testing.T, from, addr string, cfg *tls.Config) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"h2"}
	conn := tls.Client(raw, cfg)
	if err := conn.Handshake(); err != nil {
		return raw, false
	}
	// The preface, then an empty SETTINGS frame: length 0, type 4, flags
	// 0, stream 0.
	if _, err := conn.Write(append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0)); err != nil {
		return raw, false
	}
	return raw, true
}

// A device on the office's network that opens as many connections as the
// server holds, from one address, and keeps them open without a token as
// HTTP/2 lets it, does not keep an analyst from being served: an address
// holds its share of the connections and no more, the rest are closed
// as they are accepted.
func TestOneAddressDoesNotTakeEveryConnection(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	id := add(t, n, assessment{"Cayo", "San Ignacio", 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "A"})
	tok := token(t, n, "gis", false)
	addr, cfg := serveTLS(t, New(n, nil))

	var conns []net.Conn
	for range maxConns {
		if c, ok := holdH2(t, "127.0.0.2", addr, cfg); ok {
			conns = append(conns, c)
		}
	}
	if len(conns) != maxConnsPerAddr {
		t.Errorf("one address holds %d connections, want %d", len(conns), maxConnsPerAddr)
	}

	// The analyst, from another address. Its deadline is only for the
	// test to end if it is never served: the server would hold the others
	// for two minutes.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://%s/collections/damage-assessment/items/%s", addr, id), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("the analyst, while one address holds connections: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the analyst: %s", resp.Status)
	}

	// Closed, the address's connections give their places back.
	for _, c := range conns {
		c.Close()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, ok := holdH2(t, "127.0.0.2", addr, cfg); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the address's connections closed, it is refused still")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// counting counts the lines of a log, and what their count attributes
// say they stand for, and keeps when each line without one was logged.
type counting struct {
	mu    sync.Mutex
	total int
	one   []time.Time // the lines that stand for themselves
}

func (c *counting) Enabled(context.Context, slog.Level) bool { return true }
func (c *counting) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *counting) WithGroup(string) slog.Handler            { return c }
func (c *counting) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "count" {
			n = int(a.Value.Int64())
		}
		return true
	})
	if n == 0 {
		n = 1
		c.one = append(c.one, r.Time)
	}
	c.total += n
	return nil
}

// most is the most lines that stood for themselves in one second.
func (c *counting) most() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	most := 0
	for i, at := range c.one {
		n := 0
		for _, next := range c.one[i:] {
			if next.Sub(at) < time.Second {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// Anyone who reaches the port may send requests without a token, as
// fast as it makes connections, and over HTTP/2 several on one. Ten a
// second at most are logged one by one, and the rest counted in a line:
// before, each made a line, and a flood as many as it liked in the
// relay's log.
func TestRequestsWithoutATokenAreLoggedInAFewLines(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	log := &counting{}
	addr, cfg := serveTLS(t, New(n, slog.New(log)))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer client.CloseIdleConnections()

	const flood = 300
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range flood / 10 {
				resp, err := client.Get(fmt.Sprintf("https://%s/collections", addr))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("without a token: %s", resp.Status)
				}
			}
		})
	}
	wg.Wait()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		log.mu.Lock()
		total := log.total
		log.mu.Unlock()
		if total >= flood {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests without a token logged or counted", total, flood)
		}
	}
	// The server counts its seconds from its first line: in a second of
	// the clock, two of its own meet.
	if most := log.most(); most > 2*untokenedLines {
		t.Fatalf("%d requests without a token: %d lines in one second, want %d at most", flood, most, 2*untokenedLines)
	}
}
