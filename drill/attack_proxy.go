package drill

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"
)

// proxy is a man in the middle on the lab's network: it takes one
// connection meant for a node, passes it on to the node and the answers
// back, and keeps or alters what the client sends on the way. It reads
// the client's bytes as TLS records (type, version, length, then the
// body), a framing anyone on the wire sees without a key.
type proxy struct {
	ln     net.Listener
	via    *nsNet // where the proxy dials the node from
	target string
}

// proxied is what the proxy did with one connection.
type proxied struct {
	// fromClient is every byte the client sent, in order.
	fromClient []byte
	// upstream is the proxy's end of its connection to the node: the
	// address the node logs.
	upstream string
	// flipped is the offset in fromClient of the byte the proxy altered,
	// -1 when it altered none.
	flipped int
}

// TLS record types (RFC 8446, section 5.1).
const (
	recordHandshake       = 22
	recordApplicationData = 23
)

// flipAt is how long a record must be for the proxy to alter it. After its
// ClientHello a TLS 1.3 client sends only encrypted records; those of its
// handshake (certificate, its signature, Finished) are shorter than this,
// so the first record this long carries the session's own data.
const flipAt = 1024

// relay serves the next connection, within the given time. With flip, it
// alters one byte in the middle of the first long encrypted record the
// client sends.
func (p *proxy) relay(ctx context.Context, flip bool, within time.Duration) (proxied, error) {
	res := proxied{flipped: -1}
	deadline := time.Now().Add(within)
	if tl, ok := p.ln.(*net.TCPListener); ok {
		tl.SetDeadline(deadline)
	}
	client, err := p.ln.Accept()
	if err != nil {
		return res, err
	}
	defer client.Close()
	up, err := p.via.dial(ctx, "tcp", p.target)
	if err != nil {
		return res, err
	}
	defer up.Close()
	res.upstream = up.LocalAddr().String()
	client.SetDeadline(deadline)
	up.SetDeadline(deadline)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(client, up)
		client.Close()
	}()
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(client, hdr[:]); err != nil {
			break
		}
		body := make([]byte, binary.BigEndian.Uint16(hdr[3:5]))
		if _, err := io.ReadFull(client, body); err != nil {
			break
		}
		if flip && res.flipped < 0 && hdr[0] == recordApplicationData && len(body) >= flipAt {
			body[len(body)/2] ^= 0x01
			res.flipped = len(res.fromClient) + len(hdr) + len(body)/2
		}
		res.fromClient = append(append(res.fromClient, hdr[:]...), body...)
		if _, err := up.Write(append(hdr[:], body...)); err != nil {
			break
		}
	}
	up.Close()
	wg.Wait()
	return res, nil
}

// replay opens a new connection to addr from the namespace, sends b as it
// is, and reads what comes back until the node closes the connection. It
// returns its own address, as the node logs it, and how many bytes the
// node sent.
func replay(ctx context.Context, via *nsNet, addr string, b []byte) (string, int, error) {
	c, err := via.dial(ctx, "tcp", addr)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	local := c.LocalAddr().String()
	got := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	// The node may stop reading (and reset the connection) at the first
	// record it refuses: that is no error of the replay.
	c.Write(b)
	n := <-got
	return local, int(n), nil
}
