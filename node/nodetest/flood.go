package nodetest

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Flood keeps n connections to addr open from the addresses given (the
// sockets spread over them in turn) and says nothing on them, not a byte
// of TLS; each one the node closes is dialled again at once, until the
// test ends. It returns once n have been opened: an attacker's idle
// sockets. Loopback gives a test the addresses (127.0.0.0/8), and honest
// nodes dial from 127.0.0.1: flood from others.
func Flood(t TB, addr string, n int, from ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	var opened atomic.Int64
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from[i%len(from)])}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					time.Sleep(time.Millisecond) // out of ports for a moment
					continue
				}
				opened.Add(1)
				closed := context.AfterFunc(ctx, func() { c.Close() })
				io.Copy(io.Discard, c) // until the node closes it
				closed()
				c.Close()
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for opened.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the flood opened %d connections of %d", opened.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Loopback lists n loopback addresses from 127.0.0.first.
func Loopback(first, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("127.0.0.%d", first+i))
	}
	return out
}
