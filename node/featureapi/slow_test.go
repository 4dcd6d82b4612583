package featureapi

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/syncproto"
)

// slowGet sends a request on a connection of its own, from a socket that
// takes in little at a time, and reads the status line of its answer and
// nothing more: a client that reads slowly, or has stopped reading. It
// gives the status.
func slowGet(t *testing.T, addr string, cfg *tls.Config, tok, target string) (int, error) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	t.Cleanup(func() { raw.Close() })
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	conn := tls.Client(raw, cfg)
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", target, addr, tok); err != nil {
		return 0, err
	}
	line, err := bufio.NewReaderSize(conn, 16).ReadString('\n')
	if err != nil {
		return 0, err
	}
	var code int
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &code); err != nil {
		return 0, fmt.Errorf("status line %q: %v", line, err)
	}
	return code, nil
}

// A client that asks for large pages and then reads them slowly, or not
// at all, holds what serves its requests until the write timeout, five
// minutes. One token's requests hold half of those places at most, so
// that another analyst is still served while it does.
func TestOneTokensSlowReadsDoNotHoldEveryTurn(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	// 3,000 records of 2 KB notes: pages of 6 MB, more than a socket's
	// buffers hold.
	notes := strings.Repeat("roof gone, walls standing; ", 74)
	var lines strings.Builder
	for i := range 3000 {
		a := assessment{"Cayo", fmt.Sprintf("v%d", i), 17.1, -89.0, 2, "2024-11-18T14:05:00Z", "A"}.json()
		fmt.Fprintf(&lines, "%s,\"notes\":%q}\n", strings.TrimSuffix(a, "}"), notes)
	}
	if _, err := n.Import(context.Background(), "damage-assessment", strings.NewReader(lines.String()), "vol-007", nil); err != nil {
		t.Fatal(err)
	}
	s := New(n, nil)
	slow, office := token(t, n, "slow", false), token(t, n, "office", false)
	addr, cfg := serveTLS(t, s)

	codes := make(chan int, maxConcurrent)
	for range maxConcurrent {
		go func() {
			code, err := slowGet(t, addr, cfg, slow, "/collections/damage-assessment/items?limit=10000")
			if err != nil {
				t.Error(err)
			}
			codes <- code
		}()
	}
	// Those served are held writing; the others are refused once they
	// have waited their time.
	served := 0
	for range maxConcurrent {
		if <-codes == http.StatusOK {
			served++
		}
	}
	if served > maxPerToken {
		t.Errorf("one token's slow reads hold %d of the %d turns, want %d at most", served, maxConcurrent, maxPerToken)
	}

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://%s/collections/damage-assessment/items?limit=1", addr), nil)
	req.Header.Set("Authorization", "Bearer "+office)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("another analyst, while one token's slow reads are held: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("another analyst, while one token's slow reads are held: %s", resp.Status)
	}
}
