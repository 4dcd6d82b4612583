package drill

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"lifeline/drill/netlab"
)

// The flood's numbers: idle sockets held on each node flooded, the
// rogue device's addresses for them, the ClientHellos sent a byte a second
// (from an address of their own, so that they are not refused at once
// for the idle sockets'), and how long it lasts at least: several times
// the nodes' handshake deadline (5 seconds), so that what they cut comes
// back, and is cut again.
const (
	floodSockets = 64
	rogueAddrs   = 8
	lorises      = 4
	floodSpell   = 20 * time.Second
	// lorisIP is the intruder's second address, on HQ's site.
	lorisIP = "10.77.1.202"
)

// flood: sockets that say nothing, on the sync port of HQ (from the
// intruder's address) and of relay-cayo (from a rogue device at a Cayo
// shelter, with eight addresses), each dialled again as soon as the node
// closes it, and ClientHellos sent a byte a second to both. While they
// last, a laptop syncs with both nodes, and relay-cayo restarts: the
// ledger's leader must reach it again through the flood, and it must
// catch up.
func (a *intruder) flood(ctx context.Context) error {
	hq, relay, laptop := a.d.hq, a.d.node("relay-cayo"), a.d.node("cayo-1")
	if !hq.running() || !relay.running() || !laptop.running() {
		return fmt.Errorf("the flood needs hq, relay-cayo and cayo-1 running")
	}
	rogue, addrs, err := a.rogue(ctx, relay)
	if err != nil {
		return err
	}
	defer rogue.close()
	addrs, rogueLoris := addrs[:rogueAddrs], addrs[rogueAddrs]
	if err := addAddrs(ctx, a.node.NS, lorisIP); err != nil {
		return err
	}
	offsets := a.d.logOffsets()

	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var opened, cut atomic.Int64
	hold := func(via *nsNet, from, addr string) {
		defer wg.Done()
		for fctx.Err() == nil {
			c, err := via.dialFrom(fctx, from, addr)
			if err != nil {
				pause(fctx, 50*time.Millisecond) // the node restarts
				continue
			}
			opened.Add(1)
			closed := context.AfterFunc(fctx, func() { c.Close() })
			io.Copy(io.Discard, c) // until the node closes it
			if closed() {
				cut.Add(1)
			}
			c.Close()
		}
	}
	hello := clientHello()
	var slow atomic.Int64
	loris := func(via *nsNet, from, addr string) {
		defer wg.Done()
		for fctx.Err() == nil {
			c, err := via.dialFrom(fctx, from, addr)
			if err != nil {
				pause(fctx, 50*time.Millisecond)
				continue
			}
			closed := context.AfterFunc(fctx, func() { c.Close() })
			sent := 0
			for _, b := range hello {
				if _, err := c.Write([]byte{b}); err != nil {
					break
				}
				sent++
				if !pause(fctx, time.Second) {
					break
				}
			}
			// One refused at once fails by its second byte; one cut
			// while it trickles, later.
			if closed() && sent > 2 {
				slow.Add(1)
			}
			c.Close()
		}
	}
	for i := range floodSockets {
		wg.Add(2)
		go hold(a.via, intruderIP, hq.syncAddr())
		go hold(rogue, addrs[i%len(addrs)], relay.syncAddr())
	}
	for range lorises {
		wg.Add(2)
		go loris(a.via, lorisIP, hq.syncAddr())
		go loris(rogue, rogueLoris, relay.syncAddr())
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("a flood of silent sockets for %v: %d held open on hq's sync port from %s, and %d on relay-cayo's from a rogue device "+
		"at a Cayo shelter with %d addresses (%s to %s), each dialled again as soon as it is closed; %d ClientHellos sent a byte a second to each, from %s and %s; "+
		"meanwhile %s syncs with both, and relay-cayo restarts", floodSpell, floodSockets, intruderIP, floodSockets, len(addrs), addrs[0], addrs[len(addrs)-1],
		lorises, lorisIP, rogueLoris, laptop.Name))
	if err := a.d.waitFor(ctx, 30*time.Second, "the flood's sockets open", func() bool { return opened.Load() >= 2*floodSockets }); err != nil {
		return err
	}
	began := time.Now()
	pause(ctx, floodSpell/3) // past a handshake deadline: the sockets cut have come back

	for _, n := range []*Node{relay, hq} {
		start := time.Now()
		if ran, msg := syncWith(ctx, laptop, n.syncAddr()); ran {
			a.observe("under the flood, %s synced with %s (in %.1fs)", laptop.Name, n.Name, time.Since(start).Seconds())
		} else {
			a.notRefused("under the flood, %s could not sync with %s: %s", laptop.Name, n.Name, msg)
		}
	}

	// relay-cayo's Raft connections are made again through the flood: the
	// leader's, to send it what it missed. Until then it knows no leader
	// (a status it records is read with the time it was recorded).
	relay.signal(syscall.SIGTERM)
	if err := relay.start(); err != nil {
		return err
	}
	start := time.Now()
	target, err := ledgerHeight(ctx, hq)
	if err != nil {
		return err
	}
	var last string
	err = a.d.waitFor(ctx, 2*time.Minute, "relay-cayo, restarted, hears from the ledger's leader", func() bool {
		s, err := relay.status(ctx)
		if err != nil || s.Raft == nil {
			return false
		}
		last = fmt.Sprintf("%s, leader %q, height %d, as of %s", s.Raft.State, s.Raft.Leader, s.Raft.Height, s.Raft.AsOf)
		at, err := time.Parse(time.RFC3339, s.Raft.AsOf)
		return err == nil && at.After(start.Truncate(time.Second)) && s.Raft.Leader != "" && s.Raft.Height >= target
	})
	if err != nil {
		a.notRefused("under the flood, relay-cayo, restarted, did not hear from the ledger's leader (hq's height %d; relay-cayo's status: %s)", target, last)
	} else {
		a.observe("under the flood, relay-cayo restarted and heard from the ledger's leader, at height %d or more, %.1fs after it started", target, time.Since(start).Seconds())
	}
	if ran, msg := syncWith(ctx, laptop, relay.syncAddr()); !ran {
		a.notRefused("under the flood, %s could not sync with relay-cayo after its restart: %s", laptop.Name, msg)
	}

	pause(ctx, time.Until(began.Add(floodSpell)))
	stop()
	wg.Wait()
	var kinds []string
	for _, n := range []*Node{hq, relay} {
		counts := n.refusals(offsets[n])
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
		kinds = append(kinds, fmt.Sprintf("%s: %s", n.Name, strings.Join(parts, ", ")))
	}
	a.observe("the flood opened %d sockets, %d of them closed by the nodes; %d ClientHellos sent a byte a second were cut while they trickled; refused, by kind: %s",
		opened.Load(), cut.Load(), slow.Load(), strings.Join(kinds, "; "))
	return nil
}

// rogue is a device on the site of node n, with rogueAddrs+1 addresses of
// its own, and the addresses.
func (a *intruder) rogue(ctx context.Context, n *Node) (*nsNet, []string, error) {
	prefix := n.IP[:strings.LastIndex(n.IP, ".")+1]
	var addrs []string
	for i := range rogueAddrs + 1 {
		addrs = append(addrs, fmt.Sprintf("%s%d", prefix, 210+i))
	}
	ns, err := a.d.lab.Host("rogue", n.Site, addrs[0]+"/16")
	if err != nil {
		return nil, nil, err
	}
	if err := addAddrs(ctx, ns, addrs[1:]...); err != nil {
		return nil, nil, err
	}
	via, err := enterNS(ns)
	if err != nil {
		return nil, nil, err
	}
	return via, addrs, nil
}

// addAddrs gives a host of the lab more addresses on its network.
func addAddrs(ctx context.Context, ns string, ips ...string) error {
	for _, ip := range ips {
		if out, err := netlab.Command(ctx, ns, "ip", "addr", "add", ip+"/16", "dev", "eth0").CombinedOutput(); err != nil {
			return fmt.Errorf("address %s in %s: %v: %s", ip, ns, err, out)
		}
	}
	return nil
}

// ledgerHeight is the last ledger entry the node applied.
func ledgerHeight(ctx context.Context, n *Node) (uint64, error) {
	st, err := n.status(ctx)
	if err != nil {
		return 0, err
	}
	if st.Raft == nil {
		return 0, fmt.Errorf("%s says nothing of the ledger", n.Name)
	}
	return st.Raft.Height, nil
}

// clientHello is the first flight of a TLS client: what a slow-loris
// client trickles.
func clientHello() []byte {
	client, server := net.Pipe()
	defer server.Close()
	go func() {
		tls.Client(client, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}).Handshake()
		client.Close()
	}()
	b := make([]byte, 16<<10)
	n, _ := server.Read(b)
	return b[:n]
}

// pause waits d, and reports false if ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
