package identity

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// serverResult is what a test server saw of one connection.
type serverResult struct {
	handshake error
	peer      Claims
	peerErr   error
	got       []byte // application bytes read
}

// serveOnce accepts one connection on loopback with cfg. If the handshake
// succeeds it reads "ping" and answers "pong".
func serveOnce(t *testing.T, cfg *tls.Config) (string, <-chan serverResult) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	res := make(chan serverResult, 1)
	go func() {
		var r serverResult
		defer func() { res <- r }()
		conn, err := ln.Accept()
		if err != nil {
			r.handshake = err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Server(conn, cfg)
		if r.handshake = tc.Handshake(); r.handshake != nil {
			return
		}
		r.peer, r.peerErr = PeerClaims(tc.ConnectionState())
		buf := make([]byte, 4)
		n, _ := io.ReadFull(tc, buf)
		r.got = buf[:n]
		tc.Write([]byte("pong"))
	}()
	return ln.Addr().String(), res
}

// clientResult is what a test client saw.
type clientResult struct {
	handshake error
	peer      Claims
	reply     string
	err       error // of the exchange after the handshake
}

func dial(t *testing.T, addr string, cfg *tls.Config) clientResult {
	t.Helper()
	var r clientResult
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(conn, cfg)
	if r.handshake = tc.Handshake(); r.handshake != nil {
		return r
	}
	r.peer, r.err = PeerClaims(tc.ConnectionState())
	if r.err != nil {
		return r
	}
	if _, r.err = tc.Write([]byte("ping")); r.err != nil {
		return r
	}
	buf := make([]byte, 4)
	n, err := io.ReadFull(tc, buf)
	r.reply, r.err = string(buf[:n]), err
	return r
}

func wait(t *testing.T, res <-chan serverResult) serverResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("server did not finish")
		return serverResult{}
	}
}

func TestTLSMutual(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	hq := enroll(t, ca, "hq-belmopan", "hq", "Cayo")
	laptop := enroll(t, ca, "toledo-laptop-02", "field", "toledo")

	addr, res := serveOnce(t, hq.ServerTLS())
	c := dial(t, addr, laptop.ClientTLS())
	s := wait(t, res)
	if c.handshake != nil || s.handshake != nil {
		t.Fatalf("handshake: client %v, server %v", c.handshake, s.handshake)
	}
	if c.err != nil || c.reply != "pong" || string(s.got) != "ping" {
		t.Fatalf("exchange: %v %q %q", c.err, c.reply, s.got)
	}
	if c.peer != hq.Claims {
		t.Errorf("client learned %+v, want %+v", c.peer, hq.Claims)
	}
	if s.peerErr != nil || s.peer != laptop.Claims {
		t.Errorf("server learned %+v (%v), want %+v", s.peer, s.peerErr, laptop.Claims)
	}
	if s.peer.District != "Toledo" {
		t.Errorf("district %q", s.peer.District)
	}
}

func TestTLSRefuses(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	hq := enroll(t, ca, "hq-belmopan", "hq", "Cayo")
	laptop := enroll(t, ca, "toledo-laptop-02", "field", "Toledo")
	rogue := enroll(t, newTestCA(t, "Rogue CA"), "hq-belmopan", "hq", "Cayo")
	// An impostor knows the deployment's CA certificate (it is no secret) and
	// trusts servers signed by it, but its own certificate is the rogue CA's:
	// so it is the server that must refuse it.
	impostor := *rogue
	impostor.CA = ca.Cert
	now := time.Now()
	expired := enrollAt(t, ca, "expired-laptop", now.Add(-48*time.Hour), now.Add(-24*time.Hour))

	noCert := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	tls12 := laptop.ClientTLS()
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12

	cases := []struct {
		name           string
		server         *tls.Config
		client         *tls.Config
		serverRefuses  bool   // else the client refuses the server
		says           string // in the refusing side's error
		wantUntrusted  bool
		clientNeverHas bool // the client's handshake itself fails
	}{
		{"server refuses a client of another CA", hq.ServerTLS(), impostor.ClientTLS(), true, "certificate of hq-belmopan (hq, Cayo, node " + rogue.Claims.Node.String() + ") is not signed by this deployment's CA", true, false},
		{"client refuses a server of another CA", rogue.ServerTLS(), laptop.ClientTLS(), false, "is not signed by this deployment's CA", true, true},
		{"server refuses an expired client", hq.ServerTLS(), expired.ClientTLS(), true, "expired on", true, false},
		{"client refuses an expired server", expired.ServerTLS(), laptop.ClientTLS(), false, "expired on", true, true},
		{"server refuses a client with no certificate", hq.ServerTLS(), noCert, true, "didn't provide a certificate", false, false},
		{"server refuses TLS 1.2", hq.ServerTLS(), tls12, true, "unsupported versions", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, res := serveOnce(t, tc.server)
			c := dial(t, addr, tc.client)
			s := wait(t, res)
			if s.handshake == nil {
				t.Fatalf("server handshake succeeded (client: %v)", c.handshake)
			}
			if len(s.got) != 0 {
				t.Fatalf("server read %q from a refused peer", s.got)
			}
			if c.reply != "" {
				t.Fatalf("client got a reply %q from a refusing server", c.reply)
			}
			refuser := s.handshake
			if !tc.serverRefuses {
				refuser = c.handshake
			}
			wantErr(t, refuser, tc.says)
			t.Logf("refused: %v; client: handshake %v, then %v", refuser, c.handshake, c.err)
			if tc.wantUntrusted != errors.Is(refuser, ErrUntrusted) {
				t.Fatalf("errors.Is(%v, ErrUntrusted) = %v", refuser, !tc.wantUntrusted)
			}
			if tc.clientNeverHas && c.handshake == nil {
				t.Fatal("client handshake succeeded")
			}
			if !tc.clientNeverHas && c.handshake == nil && c.err == nil {
				t.Fatal("client exchanged data with a server that refused it")
			}
		})
	}
}

// The server's clock decides: a certificate valid when dialled is refused by a
// server whose clock says it has expired.
func TestTLSClock(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	hq := enroll(t, ca, "hq-belmopan", "hq", "Cayo")
	laptop := enroll(t, ca, "toledo-laptop-02", "field", "Toledo")
	later := laptop.Cert.NotAfter.Add(time.Minute)
	hq.Now = func() time.Time { return later }
	addr, res := serveOnce(t, hq.ServerTLS())
	dial(t, addr, laptop.ClientTLS())
	s := wait(t, res)
	wantErr(t, s.handshake, "certificate of "+laptop.Claims.String()+" expired on "+fmtTime(laptop.Cert.NotAfter))
}

func TestVerifyConnection(t *testing.T) {
	ca := newTestCA(t, "NEMO Lifeline CA")
	hq := enroll(t, ca, "hq-belmopan", "hq", "Cayo")
	err := hq.verifyConnection(tls.ConnectionState{Version: tls.VersionTLS13})
	wantErr(t, err, "presented no certificate")
	if !errors.Is(err, ErrUntrusted) {
		t.Fatal(err)
	}
	wantErr(t, hq.verifyConnection(tls.ConnectionState{Version: tls.VersionTLS12}), "TLS 1.3 only")
	_, err = PeerClaims(tls.ConnectionState{HandshakeComplete: true})
	wantErr(t, err, "no certificate")
	_, err = PeerClaims(tls.ConnectionState{})
	wantErr(t, err, "not complete")
}
