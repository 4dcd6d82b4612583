package port_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/port"
	"lifeline/syncproto"
)

// The attacks of this file come from loopback addresses other than
// 127.0.0.1, where the honest nodes dial from: 127.0.0.0/8 gives a test as
// many source addresses as a rogue device on a shelter's network could
// take (nodetest.Flood).

// dialFrom opens a channel as port.Dialer does, from a loopback address.
func dialFrom(ctx context.Context, from, addr string, creds *identity.Credentials, ch port.Channel) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, creds.ClientTLS())
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	if _, err := conn.Write([]byte{byte(ch)}); err != nil {
		raw.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

// eventually polls until cond holds, and fails the test if it does not
// within a deadline far longer than it should take.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logLines is a node's log, for tests that look for a line.
type logLines struct{ nodetest.Output }

func (l *logLines) has(s string) bool { return strings.Contains(l.String(), s) }

func (l *logLines) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// Sixty-four idle sockets, from one address or spread over several and
// dialled again as soon as they are closed, delay no enrolled peer: a
// sync session is served, and a ledger link that broke is made again.
// The handshake's time is long here: the places, not the deadline, keep
// the flood from the peers.
func TestIdleSocketsDelayNoEnrolledPeer(t *testing.T) {
	ca := newCA(t)
	server := nodetest.Credentials(t, ca, "relay-cayo", syncproto.RoleRelay)
	field := nodetest.Credentials(t, ca, "cayo-07", syncproto.RoleField)
	hq := nodetest.Credentials(t, ca, "hq", syncproto.RoleHQ)
	for _, c := range []struct {
		name string
		from []string
	}{
		{"one address", nodetest.Loopback(2, 1)},
		{"eight addresses", nodetest.Loopback(2, 8)},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := serve(t, port.Config{Creds: server, Handshake: time.Minute, MaxHandshakes: 16}, map[port.Channel]port.Door{
				port.Sync:   {Who: admitAll, Serve: echo},
				port.Ledger: {Who: admitAll, Serve: keepEcho, ReplaceOldest: true},
			})
			ctx := context.Background()
			link, _, err := port.Dialer{Creds: hq}.Dial(ctx, addr, port.Ledger)
			if err != nil {
				t.Fatal(err)
			}
			nodetest.Flood(t, addr, 64, c.from...)
			link.Close() // the link breaks while the flood goes on

			eventually(t, "a sync session of an enrolled laptop", func() bool {
				conn, _, err := port.Dialer{Creds: field}.Dial(ctx, addr, port.Sync)
				return err == nil && answers(t, conn)
			})
			eventually(t, "the ledger link made again", func() bool {
				conn, _, err := port.Dialer{Creds: hq}.Dial(ctx, addr, port.Ledger)
				return err == nil && answers(t, conn)
			})
		})
	}
}

// One address holds at most MaxPerAddr handshakes: its next connection is
// refused at once, with a line in the log, while another address's is
// served.
func TestHandshakesPerAddressAreBounded(t *testing.T) {
	ca := newCA(t)
	server := nodetest.Credentials(t, ca, "relay-cayo", syncproto.RoleRelay)
	field := nodetest.Credentials(t, ca, "cayo-07", syncproto.RoleField)
	var log logLines
	addr := serve(t, port.Config{Creds: server, Log: log.logger(), Handshake: time.Minute, MaxPerAddr: 4},
		map[port.Channel]port.Door{port.Sync: {Who: admitAll, Serve: echo}})
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	for range 4 {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	ctx := context.Background()
	// The port may not have accepted the four yet: the fifth is refused
	// once it has.
	eventually(t, "a fifth handshake from 127.0.0.2 refused", func() bool {
		conn, err := dialFrom(ctx, "127.0.0.2", addr, field, port.Sync)
		if err == nil && answers(t, conn) {
			return false
		}
		return log.has(`msg="refused a connection: too many handshakes from its address" from=127.0.0.2:`)
	})
	conn, err := dialFrom(ctx, "127.0.0.3", addr, field, port.Sync)
	if err != nil {
		t.Fatalf("from another address: %v", err)
	}
	if !answers(t, conn) {
		t.Fatal("a session from another address was not served")
	}
}

// slowConn writes a byte at a time, each after a pause: a slow-loris
// client.
type slowConn struct {
	net.Conn
	pause time.Duration
}

func (s slowConn) Write(p []byte) (int, error) {
	for i := range p {
		time.Sleep(s.pause)
		if _, err := s.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// A connection that has not named its channel by Config.Handshake after
// its accept is cut, and reported as too slow: a TLS ClientHello sent a
// byte at a time (which would take half a minute), and an enrolled peer
// that completes its handshake and never sends its channel byte.
func TestSlowHandshakesAreCutAtTheDeadline(t *testing.T) {
	ca := newCA(t)
	server := nodetest.Credentials(t, ca, "relay-cayo", syncproto.RoleRelay)
	field := nodetest.Credentials(t, ca, "cayo-07", syncproto.RoleField)
	var mu sync.Mutex
	var slow []string
	addr := serve(t, port.Config{Creds: server, Handshake: 500 * time.Millisecond,
		Refused: func(addr string, _ identity.Claims, err error) {
			if errors.Is(err, port.ErrTooSlow) {
				mu.Lock()
				slow = append(slow, addr)
				mu.Unlock()
			}
		}}, map[port.Channel]port.Door{port.Sync: {Who: admitAll, Serve: echo}})
	reported := func(local net.Addr) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, a := range slow {
				if a == local.String() {
					return true
				}
			}
			return false
		}
	}

	t.Run("a byte of ClientHello at a time", func(t *testing.T) {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		done := make(chan error, 1)
		go func() {
			done <- tls.Client(slowConn{Conn: raw, pause: 100 * time.Millisecond}, field.ClientTLS()).Handshake()
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("the slow handshake completed")
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the port did not cut a ClientHello sent a byte at a time")
		}
		eventually(t, "the slow handshake reported", reported(raw.LocalAddr()))
	})

	t.Run("no channel byte", func(t *testing.T) {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		conn := tls.Client(raw, field.ClientTLS())
		if err := conn.Handshake(); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		var b [1]byte
		_, err = conn.Read(b[:])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the port kept a peer that never named its channel")
		}
		eventually(t, "the silent peer reported", reported(raw.LocalAddr()))
	})
}

// A session served for Door.MaxTime is ended, however busy it keeps.
func TestSessionsEndAtTheirTimeLimit(t *testing.T) {
	ca := newCA(t)
	server := nodetest.Credentials(t, ca, "relay-cayo", syncproto.RoleRelay)
	field := nodetest.Credentials(t, ca, "cayo-07", syncproto.RoleField)
	var log logLines
	addr := serve(t, port.Config{Creds: server, Log: log.logger()},
		map[port.Channel]port.Door{port.Sync: {Who: admitAll, Serve: echo, MaxTime: 300 * time.Millisecond}})
	conn, _, err := port.Dialer{Creds: field}.Dial(context.Background(), addr, port.Sync)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	eventually(t, "the session ended", func() bool { return !echoes(conn) })
	eventually(t, "its end logged", func() bool { return log.has(`msg="ended a connection: it lasted too long"`) })
}
