package peersync

import (
	"context"
	"crypto/tls"
	"iter"
	"net"
	"sync"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// The tests of this file run sessions as nodes do: over TCP on loopback,
// in mutual TLS with certificates of one test CA, and watch the order in
// which the receiver stores what it is sent.

// enroll gives a peer a certificate of ca.
func enroll(t *testing.T, ca *identity.CA, p *peer) *identity.Credentials {
	t.Helper()
	req, err := p.key.Request(identity.Claims{Node: p.key.ID(), Name: p.name, Role: "field", District: "Cayo"})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := ca.Sign(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := identity.Install(t.TempDir(), p.key, bundle)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

// tlsSession is a session under way between a client and a server.
type tlsSession struct {
	done chan struct{}
	// The client's and the server's results, once done is closed.
	client, server       Result
	clientErr, serverErr error
}

// wait waits for the session to end, within a minute.
func (s *tlsSession) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatal("the session did not end within a minute")
	}
	if s.clientErr != nil || s.serverErr != nil {
		t.Fatalf("session: client %v, server %v", s.clientErr, s.serverErr)
	}
}

// startTLS starts a session between a client and a server that listens on
// loopback, each side with its own certificate and configuration. The
// session ends by itself, or with the test.
func startTLS(t *testing.T, client *identity.Credentials, ccfg Config, server *identity.Credentials, scfg Config) *tlsSession {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server.ServerTLS())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &tlsSession{done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		conn, err := ln.Accept()
		ln.Close()
		if err != nil {
			s.serverErr = err
			return
		}
		defer conn.Close()
		s.server, s.serverErr = Run(ctx, conn, scfg)
	}()
	go func() {
		defer wg.Done()
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: client.ClientTLS()}
		conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			s.clientErr = err
			ln.Close()
			return
		}
		defer conn.Close()
		s.client, s.clientErr = Run(ctx, conn, ccfg)
	}()
	go func() {
		wg.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		<-s.done
	})
	return s
}

// orderStore is a receiver's store that notes, transaction by
// transaction, the priorities of the batches it stores, and holds its
// first transaction until release is closed (or the session ends).
type orderStore struct {
	Store
	entered, release chan struct{}
	first            sync.Once

	mu      sync.Mutex
	commits [][]uint8 // per transaction stored, each batch's one priority (0 if several)
}

func newOrderStore(s Store) *orderStore {
	return &orderStore{Store: s, entered: make(chan struct{}), release: make(chan struct{})}
}

func (o *orderStore) ApplyAll(ctx context.Context, batches iter.Seq2[[]store.Incoming, error], holdGaps bool) ([]store.ApplyResult, error) {
	held := false
	o.first.Do(func() { held = true })
	if held {
		close(o.entered)
		select {
		case <-o.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var prios []uint8
	res, err := o.Store.ApplyAll(ctx, func(yield func([]store.Incoming, error) bool) {
		for b, err := range batches {
			prios = append(prios, priority(b))
			if !yield(b, err) {
				return
			}
		}
	}, holdGaps)
	if err == nil {
		o.mu.Lock()
		o.commits = append(o.commits, prios)
		o.mu.Unlock()
	}
	return res, err
}

// order checks what the receiver stored: every batch of one priority, no
// transaction holding two, and the life-safety batches (one, or more if
// the sender planned a batch between two of their writes) one after the
// other, after at most ahead bulk batches and before at least one. It
// returns the bulk batches stored before them.
func (o *orderStore) order(t *testing.T, ahead int) int {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	before, after, lifeSafety := 0, 0, 0
	for i, c := range o.commits {
		for _, p := range c {
			if p == 0 {
				t.Fatalf("transaction %d stored a batch of several priorities (%v)", i, o.commits)
			}
			if p != c[0] {
				t.Fatalf("transaction %d stored batches of priorities %v together", i, c)
			}
			switch {
			case p == 1 && after > 0:
				t.Fatalf("bulk stored between two life-safety batches: transactions %v", o.commits)
			case p == 1:
				lifeSafety++
			case lifeSafety == 0:
				before++
			default:
				after++
			}
		}
	}
	if lifeSafety == 0 || before > ahead || after == 0 {
		t.Fatalf("the receiver stored %d bulk batches, then %d of life safety, then %d of bulk: want at most %d bulk batches (what was in flight) before those of life safety, and the rest of the bulk after them; transactions %v",
			before, lifeSafety, after, ahead, o.commits)
	}
	return before
}

// holds waits until p holds n changes of stream.
func holds(t *testing.T, p *peer, st syncproto.Stream, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		v, err := p.Vector(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v[st] >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d changes of %s, not %d, after 30s", p.name, v[st], st, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// saveMissing saves lifeChanges new records of lane 1 on p at once, in one
// transaction, as an operator saves a form.
func saveMissing(t *testing.T, p *peer) {
	t.Helper()
	var edits []store.Edit
	for i := range lifeChanges {
		v, err := syncproto.Marshal(i)
		if err != nil {
			t.Fatal(err)
		}
		edits = append(edits, store.Edit{Record: syncproto.NewRecordID(), Create: true, Lane: 1, Kit: "k", Type: "lane1",
			Version: 1, Author: p.name, Fields: []syncproto.FieldChange{{Name: "missing", Value: v}}})
	}
	if _, err := p.Write(context.Background(), edits); err != nil {
		t.Fatal(err)
	}
}

const (
	bulkChanges = 300 // lane 3, in batches of lanesBatch
	lanesBatch  = 10
	lifeChanges = 3 // lane 1
)

// A laptop is part way through sending bulk (lane 3) when its operator
// saves missing persons (lane 1): they go in the next batch, before the
// rest of the bulk, and are stored by the receiver before it, apart from
// it. Only the batches already in flight, the window, go before them.
func TestLifeSafetySavedMidSessionGoesNext(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	laptop, hq := newPeer(t, ring, "laptop"), newPeer(t, ring, "hq")
	for i := range bulkChanges {
		laptop.write(t, syncproto.NewRecordID(), true, 3, "damage", i)
	}
	lcfg, hcfg := laptop.config(ring), hq.config(ring)
	lcfg.BatchChanges = lanesBatch
	ordered := newOrderStore(hq)
	hcfg.Store = ordered
	s := startTLS(t, enroll(t, ca, laptop), lcfg, enroll(t, ca, hq), hcfg)

	// HQ is storing the first batch of bulk: the laptop has sent at most
	// a window of batches, and waits for an acknowledgement.
	select {
	case <-ordered.entered:
	case <-s.done:
		t.Fatalf("the session ended before HQ stored anything: %v %v", s.clientErr, s.serverErr)
	}
	saveMissing(t, laptop)
	close(ordered.release)
	s.wait(t)

	before := ordered.order(t, syncproto.Window)
	t.Logf("%d bulk batches of %d stored before life safety", before, bulkChanges/lanesBatch)
	holds(t, hq, syncproto.Stream{Origin: laptop.key.ID(), Lane: 1}, lifeChanges)
	holds(t, hq, syncproto.Stream{Origin: laptop.key.ID(), Lane: 3}, bulkChanges)
}

// A relay is sending HQ the bulk one laptop brought when another laptop
// brings it missing persons in another session: the relay sends them to
// HQ next, before the rest of the bulk, and HQ stores them apart from it.
func TestRelayPassesLifeSafetyAcrossSessions(t *testing.T) {
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	bulky, urgent := newPeer(t, ring, "laptop-1"), newPeer(t, ring, "laptop-2")
	relay, hq := newPeer(t, ring, "relay"), newPeer(t, ring, "hq")
	bulkyCreds, urgentCreds := enroll(t, ca, bulky), enroll(t, ca, urgent)
	relayCreds, hqCreds := enroll(t, ca, relay), enroll(t, ca, hq)
	for i := range bulkChanges {
		bulky.write(t, syncproto.NewRecordID(), true, 3, "damage", i)
	}
	saveMissing(t, urgent)
	bcfg := bulky.config(ring)
	bcfg.BatchChanges = lanesBatch
	startTLS(t, bulkyCreds, bcfg, relayCreds, relay.config(ring)).wait(t)

	rcfg, hcfg := relay.config(ring), hq.config(ring)
	rcfg.BatchChanges = lanesBatch
	ordered := newOrderStore(hq)
	hcfg.Store = ordered
	toHQ := startTLS(t, relayCreds, rcfg, hqCreds, hcfg)
	select {
	case <-ordered.entered:
	case <-toHQ.done:
		t.Fatalf("the session ended before HQ stored anything: %v %v", toHQ.clientErr, toHQ.serverErr)
	}
	// HQ is storing the first batch of bulk; meanwhile the second laptop
	// meets the relay.
	startTLS(t, urgentCreds, urgent.config(ring), relayCreds, relay.config(ring)).wait(t)
	close(ordered.release)
	toHQ.wait(t)

	before := ordered.order(t, syncproto.Window)
	t.Logf("%d bulk batches of %d stored at HQ before life safety", before, bulkChanges/lanesBatch)
	holds(t, hq, syncproto.Stream{Origin: urgent.key.ID(), Lane: 1}, lifeChanges)
	holds(t, hq, syncproto.Stream{Origin: bulky.key.ID(), Lane: 3}, bulkChanges)
}
