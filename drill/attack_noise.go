package drill

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// noiseBytes is what the intruder sends on each noisy connection.
const noiseBytes = 64 << 10

// Headers that take random bytes one parser further: a TLS handshake
// record's of the largest length, and memberlist's label header (type
// 244) with the deployment's label (node/gossip).
var (
	tlsRecordHeader   = []byte{recordHandshake, 3, 1, 0x40, 0x00}
	gossipLabelHeader = append([]byte{244, byte(len("lifeline"))}, "lifeline"...)
)

// noise: random bytes from the intruder to every port of every node: the
// sync port (TLS), the gossip port over TCP and over UDP; some behind a
// valid header, and one connection to each TCP port that says nothing and
// stays open. While those are open, a laptop syncs with every node that
// serves sync.
func (a *intruder) noise(ctx context.Context) error {
	offsets := a.d.logOffsets()
	var (
		mu                     sync.Mutex
		wg                     sync.WaitGroup
		silent                 []net.Conn
		conns, datagrams, sent int
		resetAtOnce            int
		unreachable            []string
	)
	defer func() {
		for _, c := range silent {
			c.Close()
		}
	}()
	// stream opens a connection to addr and sends header then random
	// bytes; a quiet one sends nothing and stays open.
	stream := func(addr string, header []byte, quiet bool) {
		defer wg.Done()
		c, err := a.via.dial(ctx, "tcp", addr)
		if errors.Is(err, syscall.ECONNRESET) {
			// The node took the connection and reset it at once, before
			// the dial returned: its port refuses a flood of handshakes
			// from one address so (node/port). A refusal, not silence.
			mu.Lock()
			resetAtOnce++
			mu.Unlock()
			return
		}
		if err != nil {
			mu.Lock()
			unreachable = append(unreachable, fmt.Sprintf("%s: %v", addr, err))
			mu.Unlock()
			return
		}
		n := 0
		if !quiet {
			b := make([]byte, noiseBytes)
			rand.Read(b)
			c.SetDeadline(time.Now().Add(15 * time.Second))
			// The node may reset the connection at the first byte it
			// refuses.
			n, _ = c.Write(slices.Concat(header, b))
			c.Close()
		}
		mu.Lock()
		defer mu.Unlock()
		conns++
		sent += n
		if quiet {
			silent = append(silent, c)
		}
	}
	packets := func(addr string) {
		defer wg.Done()
		c, err := a.via.dial(ctx, "udp", addr)
		if err != nil {
			mu.Lock()
			unreachable = append(unreachable, fmt.Sprintf("%s (UDP): %v", addr, err))
			mu.Unlock()
			return
		}
		defer c.Close()
		n := 0
		for i := range 128 {
			b := make([]byte, 1+mrand.IntN(1400))
			rand.Read(b)
			if i%2 == 1 {
				b = slices.Concat(gossipLabelHeader, b)
			}
			if _, err := c.Write(b); err == nil {
				n++
			}
			// Paced, so that the datagrams reach the node rather than
			// overflow a queue on the way.
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		datagrams += n
		mu.Unlock()
	}
	var serving []*Node
	targets := 0
	for _, n := range a.d.nodes {
		if !n.running() {
			continue
		}
		targets++
		if !n.Role.Field() {
			serving = append(serving, n)
			wg.Add(5)
			go stream(n.syncAddr(), nil, false)
			go stream(n.syncAddr(), nil, false)
			go stream(n.syncAddr(), nil, false)
			go stream(n.syncAddr(), tlsRecordHeader, false)
			go stream(n.syncAddr(), nil, true)
		}
		wg.Add(5)
		go stream(n.gossipAddr(), nil, false)
		go stream(n.gossipAddr(), nil, false)
		go stream(n.gossipAddr(), gossipLabelHeader, false)
		go stream(n.gossipAddr(), nil, true)
		go packets(n.gossipAddr())
	}
	wg.Wait()
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("random bytes from the intruder to every port of the %d nodes: %d TCP connections "+
		"(to each sync port 3 of 64 KiB, 1 behind a TLS record header, 1 silent; to each gossip port 2 of 64 KiB, 1 behind memberlist's label header, 1 silent), "+
		"%d KiB sent; %d random datagrams to the gossip UDP ports, half behind the label header", targets, conns, sent>>10, datagrams))
	for _, u := range unreachable {
		a.notRefused("a node's port did not take the intruder's connection: %s", u)
	}

	// With the silent connections still open, every node that serves sync
	// must still serve a laptop.
	laptop := a.d.node("cayo-1")
	var served []string
	for _, n := range serving {
		if ran, msg := syncWith(ctx, laptop, n.syncAddr()); ran {
			served = append(served, n.Name)
		} else {
			a.notRefused("%s did not serve %s after the random bytes, %d silent connections open: %s", n.Name, laptop.Name, len(silent), msg)
		}
	}
	var logged []string
	for _, n := range a.d.nodes {
		c := 0
		for _, k := range n.refusals(offsets[n]) {
			c += k
		}
		logged = append(logged, fmt.Sprintf("%s %d", n.Name, c))
	}
	a.observe("refusals logged during the random bytes: %s; %d connections reset as they opened; with the %d silent connections open, %s synced with %s",
		strings.Join(logged, ", "), resetAtOnce, len(silent), laptop.Name, strings.Join(served, ", "))
	return nil
}
