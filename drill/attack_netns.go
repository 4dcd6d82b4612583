package drill

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// nsNet opens sockets inside a node's network namespace from the drill's
// own process, so that the drill can speak raw bytes on the lab's network
// without a helper program and without touching the machine's network.
//
// A socket belongs to the namespace of the thread that made it, whichever
// thread uses it afterwards. So one goroutine, locked to an OS thread that
// joined the namespace, makes every socket (listen, dial); reading and
// writing them happens anywhere. The thread is never unlocked: it ends with
// the goroutine and the Go runtime never reuses it, nor starts new threads
// from it.
type nsNet struct {
	ns string
	do chan func()
}

func enterNS(ns string) (*nsNet, error) {
	f, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", ns, err)
	}
	defer f.Close()
	t := &nsNet{ns: ns, do: make(chan func())}
	joined := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			joined <- fmt.Errorf("joining network namespace %s: %w", ns, err)
			return
		}
		joined <- nil
		for fn := range t.do {
			fn()
		}
	}()
	if err := <-joined; err != nil {
		return nil, err
	}
	return t, nil
}

// close ends the namespace's thread; the sockets it made stay usable.
func (t *nsNet) close() { close(t.do) }

func (t *nsNet) run(fn func()) {
	done := make(chan struct{})
	t.do <- func() {
		defer close(done)
		fn()
	}
	<-done
}

// dial connects from the namespace, within 5 seconds.
func (t *nsNet) dial(ctx context.Context, network, addr string) (c net.Conn, err error) {
	t.run(func() {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err = d.DialContext(ctx, network, addr)
	})
	return c, err
}

// dialFrom connects over TCP from one of the namespace's addresses, within
// 5 seconds.
func (t *nsNet) dialFrom(ctx context.Context, local, addr string) (c net.Conn, err error) {
	t.run(func() {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c, err = d.DialContext(ctx, "tcp", addr)
	})
	return c, err
}

// listen listens on a TCP address of the namespace.
func (t *nsNet) listen(addr string) (ln net.Listener, err error) {
	t.run(func() { ln, err = net.Listen("tcp", addr) })
	return ln, err
}
