package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"lifeline/node"
)

// The intruder's and the spare laptop's addresses, on headquarters' site
// (the deployment's nodes take .10 and up), and the port of the intruder's
// proxy.
const (
	intruderIP = "10.77.1.200"
	spareIP    = "10.77.1.201"
	proxyPort  = "7421"
)

// attack: an intruder on headquarters' network. A node of another
// authority tries to sync with HQ and to join its gossip; a man in the
// middle replays a laptop's session to HQ and alters a byte of another;
// stolen laptops of the deployment, still enrolled, flood HQ's sessions
// with acknowledgements of nothing and send it a stream of changes too
// large to pass on; a laptop of the deployment, stolen and revoked, tries
// to sync again; random bytes go to every port of every node; silent
// sockets flood HQ's port and, from a rogue device at a shelter, a
// relay's. Each must be
// refused and logged, and the nodes must keep serving.
func (d *Drill) attack(ctx context.Context, s *StepReport) error {
	offsets := d.logOffsets()
	defer func() { s.Refusals = d.refusals(offsets) }()
	ns, err := d.lab.Host("intruder", "hq", intruderIP+"/16")
	if err != nil {
		return err
	}
	via, err := enterNS(ns)
	if err != nil {
		return err
	}
	defer via.close()
	a := &intruder{d: d, s: s, via: via,
		node: &Node{Name: "intruder", Role: "hq", District: "Belize", Site: "hq", IP: intruderIP, NS: ns,
			Dir: filepath.Join(d.cfg.Dir, "intruder"), d: d}}
	// An attack that cannot be made is a failure of the step; the others
	// are still made.
	failed := func(err error) {
		if err != nil {
			s.Failures = append(s.Failures, err.Error())
		}
	}
	failed(a.otherAuthority(ctx))
	spare, err := a.enrollSpare(ctx)
	failed(err)
	if err == nil {
		failed(a.manInTheMiddle(ctx, spare))
	}
	failed(a.floodAcks(ctx))
	failed(a.poisonStream(ctx))
	failed(a.keptAside(ctx))
	if err == nil {
		failed(a.forgedBundle(ctx, spare))
		failed(a.stolenRelay(ctx, spare))
		failed(a.stolen(ctx, spare))
		failed(a.viaUnaware(ctx, spare))
	}
	failed(a.rogueGossip(ctx))
	failed(a.badBundles(ctx))
	failed(a.noise(ctx))
	return a.flood(ctx)
}

// intruder is the attacker: a namespace on HQ's site, and a node of
// another authority in it.
type intruder struct {
	d    *Drill
	s    *StepReport
	via  *nsNet
	node *Node
}

// observe notes what an attack found, on one line.
func (a *intruder) observe(format string, args ...any) {
	o := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	a.s.Observed = append(a.s.Observed, o)
	a.d.logf("attack: %s", o)
}

// notRefused notes an attack that was not refused: the step fails.
func (a *intruder) notRefused(format string, args ...any) {
	a.s.Failures = append(a.s.Failures, fmt.Sprintf(format, args...))
	a.d.logf("attack: NOT REFUSED: "+format, args...)
}

// gossipSpell is how long the other authority's node tries the gossip.
const gossipSpell = 8 * time.Second

// otherAuthority: a node with a certificate authority and a gossip key of
// its own, as anyone can make with the lifeline tool, tries to sync with
// HQ, then to join the deployment's gossip.
func (a *intruder) otherAuthority(ctx context.Context) error {
	n, hq := a.node, a.d.hq
	for _, args := range [][]string{
		{"init", "--data", n.Dir, "--role", "hq", "--district", "Belize", "--name", n.Name},
		{"ca", "init", "--data", n.Dir},
	} {
		if _, err := n.lifeline(ctx, "", args...); err != nil {
			return err
		}
	}
	me, err := n.status(ctx)
	if err != nil {
		return err
	}
	planted, err := a.d.add(ctx, n, "missing-person", fmt.Sprintf(missingJSON, 666, "Belize"))
	if err != nil {
		return err
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("a node of another authority (its own CA, certificate and gossip key) at %s on HQ's network: "+
		"lifeline sync with hq; a TLS handshake presenting its certificate and believing hq's; lifeline run joining hq's gossip for %v", intruderIP, gossipSpell))

	off := logEnd(hq)
	if ran, msg := syncWith(ctx, n, hq.syncAddr()); ran {
		a.notRefused("hq synced with a node of another authority: %s", msg)
	} else if line, ok := hq.waitLogged(ctx, off, regexp.MustCompile(`msg="refused a connection" from=`+regexp.QuoteMeta(intruderIP)+`:`), 10*time.Second); ok {
		a.observe("lifeline sync of the other authority's node with hq failed (%s); hq logged: refused a connection: %s", msg, logErr(line))
	} else {
		a.notRefused("lifeline sync of the other authority's node with hq failed (%s), but hq logged no refusal", msg)
	}

	// The tool checks hq's certificate too and may give up first: an
	// attacker's program would not.
	off = logEnd(hq)
	local, answered, err := handshake(ctx, a.via, n.Dir, hq.syncAddr())
	switch {
	case local == "":
		return err
	case answered:
		a.notRefused("hq answered a sync session of a node of another authority")
	default:
		if line, ok := hq.waitLogged(ctx, off, refusedFrom(local), 10*time.Second); ok {
			a.observe("a TLS handshake with the other authority's certificate, believing hq's: ended with %v; hq logged: refused a connection: %s", err, logErr(line))
		} else {
			a.notRefused("hq logged no refusal of a TLS handshake with another authority's certificate (from %s; it ended with %v)", local, err)
		}
	}

	off = logEnd(hq)
	if err := n.start(); err != nil {
		return err
	}
	listed := ""
	deadline := time.Now().Add(gossipSpell)
	for time.Now().Before(deadline) && listed == "" {
		time.Sleep(time.Second)
		if st, err := hq.status(ctx); err == nil {
			if p := lists(st, me.Node, n.Name); p != "" {
				listed = hq.Name + " lists " + p
			}
		}
	}
	n.signal(syscall.SIGTERM)
	for _, m := range a.d.nodes {
		if listed != "" {
			break
		}
		if st, err := m.status(ctx); err == nil {
			if p := lists(st, me.Node, n.Name); p != "" {
				listed = m.Name + " lists " + p
			}
		}
	}
	if listed != "" {
		a.notRefused("a node with another gossip key joined the deployment's gossip: %s", listed)
	}
	at, err := hq.ids(ctx)
	if err != nil {
		return err
	}
	if at[planted] {
		a.notRefused("a record of the other authority's node reached hq (%s)", planted)
	}
	gossiped := hq.loggedSince(off, regexp.MustCompile(`memberlist: .*`+regexp.QuoteMeta(intruderIP)+`:`))
	first := "none"
	if len(gossiped) > 0 {
		first = logAttr(gossiped[0], "msg")
	}
	why := "its log says nothing of it"
	if lines := n.loggedSince(0, regexp.MustCompile(`no join address answered`)); len(lines) > 0 {
		why = logErr(lines[0])
		if m := regexp.MustCompile(`failed to join \S+: ([^\n]+)`).FindStringSubmatch(why); m != nil {
			why = m[1]
		}
	}
	if listed == "" {
		a.observe("its gossip for %v: no node listed it among its peers and its record did not reach hq; hq's gossip logged %d refusals of it (first: %s); it could not join: %s",
			gossipSpell, len(gossiped), first, why)
	}
	return nil
}

// handshake connects to addr from the namespace as an attacker's program
// would: it presents the node certificate and key in dir, believes
// whatever the node presents, and asks for a sync session. It returns its
// own address (as the node logs it), whether the node answered with any
// data, and the error that ended the connection.
func handshake(ctx context.Context, via *nsNet, dir, addr string) (local string, answered bool, err error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key"))
	if err != nil {
		return "", false, err
	}
	raw, err := via.dial(ctx, "tcp", addr)
	if err != nil {
		return "", false, err
	}
	defer raw.Close()
	local = raw.LocalAddr().String()
	// The attacker does not care whom it talks to: it skips the check of
	// hq's certificate that would end the handshake on its side first.
	c := tls.Client(raw, &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		return local, false, err
	}
	// 'S' asks for a sync session (node/mux.go); a node that accepted the
	// peer would answer with its Hello.
	if _, err := c.Write([]byte{'S'}); err != nil {
		return local, false, err
	}
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil {
		return local, false, err
	}
	return local, true, nil
}

// enrollSpare makes a laptop enrolled with HQ's authority, on HQ's site,
// with a few records, that syncs with HQ: the laptop the man in the middle
// watches and the thief later takes.
func (a *intruder) enrollSpare(ctx context.Context) (*Node, error) {
	n, err := a.enrollLaptop(ctx, "spare-1", spareIP)
	if err != nil {
		return nil, err
	}
	if _, err := a.spareRecords(ctx, n, 0, 4); err != nil {
		return nil, err
	}
	if ran, msg := syncWith(ctx, n, a.d.hq.syncAddr()); !ran {
		return nil, fmt.Errorf("%s, just enrolled with hq's authority, could not sync with hq: %s", n.Name, msg)
	}
	return n, nil
}

// spareRecords writes count damage assessments on the spare laptop,
// numbered from first, and returns their ids. Their notes are random: the
// sync batch that carries them does not compress to a few bytes, and is
// the long record the proxy alters.
func (a *intruder) spareRecords(ctx context.Context, n *Node, first, count int) ([]string, error) {
	var ids []string
	for i := first; i < first+count; i++ {
		notes := make([]byte, 600)
		rand.Read(notes)
		body := fmt.Sprintf(damageJSON, n.District, i, i%5, 1+i%7, hex.EncodeToString(notes))
		id, err := a.d.add(ctx, n, "damage-assessment", body)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// manInTheMiddle: the intruder's proxy sits between the spare laptop and
// HQ. It passes one session on and keeps the laptop's bytes, replays them
// to HQ on a connection of its own, and flips one byte of a later session.
func (a *intruder) manInTheMiddle(ctx context.Context, spare *Node) error {
	hq := a.d.hq
	ln, err := a.via.listen(intruderIP + ":" + proxyPort)
	if err != nil {
		return err
	}
	defer ln.Close()
	p := &proxy{ln: ln, via: a.via, target: hq.syncAddr()}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("a man in the middle at %s between %s (a laptop enrolled with hq's authority) and hq: "+
		"one session passed on and its client's bytes kept, those bytes replayed to hq on a new connection, one byte flipped in a later session", ln.Addr(), spare.Name))

	rec, ran, msg, err := a.throughProxy(ctx, p, spare, false)
	if err != nil {
		return fmt.Errorf("the proxy: %w", err)
	}
	if !ran {
		return fmt.Errorf("a session through the proxy, passed on untouched, failed: %s", msg)
	}

	off := logEnd(hq)
	local, got, err := replay(ctx, a.via, hq.syncAddr(), rec.fromClient)
	if err != nil {
		return fmt.Errorf("replaying: %w", err)
	}
	if line, ok := hq.waitLogged(ctx, off, refusedFrom(local), 10*time.Second); ok {
		a.observe("the %d bytes %s sent in a session recorded through the proxy, replayed to hq: hq answered %d bytes and refused the handshake: %s",
			len(rec.fromClient), spare.Name, got, logErr(line))
	} else {
		a.notRefused("hq logged no refusal of %s's session replayed from %s (it answered %d bytes)", spare.Name, local, got)
	}

	fresh, err := a.spareRecords(ctx, spare, 100, 12)
	if err != nil {
		return err
	}
	off = logEnd(hq)
	rec, ran, msg, err = a.throughProxy(ctx, p, spare, true)
	if err != nil {
		return fmt.Errorf("the proxy: %w", err)
	}
	if rec.flipped < 0 {
		return fmt.Errorf("the proxy found no record of %d bytes or more to alter in %d bytes from %s", flipAt, len(rec.fromClient), spare.Name)
	}
	if ran {
		a.notRefused("a session with a byte flipped at offset %d of %s's stream to hq completed: %s", rec.flipped, spare.Name, msg)
	}
	failed := regexp.MustCompile(`msg="sync failed" peer="` + regexp.QuoteMeta(spare.Name) + ` `)
	if line, ok := hq.waitLogged(ctx, off, failed, 10*time.Second); ok {
		a.observe("one byte flipped at offset %d of the %d bytes %s sent: hq broke the session off: %s; %s's sync failed: %s",
			rec.flipped, len(rec.fromClient), spare.Name, logErr(line), spare.Name, msg)
	} else if !ran {
		a.notRefused("hq logged no failed session after a byte of %s's stream was flipped (%s's sync failed: %s)", spare.Name, spare.Name, msg)
	}
	kept, err := held(ctx, hq, fresh)
	if err != nil {
		return err
	}
	if ran, msg := syncWith(ctx, spare, hq.syncAddr()); !ran {
		a.notRefused("after the session with the flipped byte, %s could not sync with hq: %s", spare.Name, msg)
		return nil
	}
	after, err := held(ctx, hq, fresh)
	if err != nil {
		return err
	}
	a.observe("of %d records %s wrote before that session, hq held %d after it (only batches complete before the flipped byte may stay) and %d after its next session, which synced",
		len(fresh), spare.Name, kept, after)
	if after != len(fresh) {
		a.notRefused("after the session with the flipped byte, %s's next session left hq with %d of its %d new records", spare.Name, after, len(fresh))
	}
	return nil
}

// throughProxy runs one sync session of n with HQ through the proxy.
func (a *intruder) throughProxy(ctx context.Context, p *proxy, n *Node, flip bool) (proxied, bool, string, error) {
	type relayed struct {
		p   proxied
		err error
	}
	done := make(chan relayed, 1)
	go func() {
		r, err := p.relay(ctx, flip, time.Minute)
		done <- relayed{r, err}
	}()
	ran, msg := syncWith(ctx, n, p.ln.Addr().String())
	// A relay still waiting for the laptop gives up.
	p.ln.(*net.TCPListener).SetDeadline(time.Now())
	r := <-done
	return r.p, ran, msg, r.err
}

// held counts the ids the node holds.
func held(ctx context.Context, n *Node, ids []string) (int, error) {
	at, err := n.ids(ctx)
	if err != nil {
		return 0, err
	}
	c := 0
	for _, id := range ids {
		if at[id] {
			c++
		}
	}
	return c, nil
}

// stolen: the spare laptop is stolen. HQ revokes it while it runs (the
// revocation goes through the ledger); the thief's next syncs with HQ and
// with every relay must be refused, and what it writes after must not
// reach HQ.
func (a *intruder) stolen(ctx context.Context, spare *Node) error {
	hq := a.d.hq
	st, err := spare.status(ctx)
	if err != nil {
		return err
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("%s, which synced with hq, stolen: revoked at hq (lifeline revoke, reason \"laptop stolen\") while hq runs, "+
		"then syncing with hq and every relay, with a record written after the theft", spare.Name))
	if _, err := hq.lifeline(ctx, "", "revoke", "--data", hq.Dir, "--node", st.Node, "--reason", "laptop stolen"); err != nil {
		return err
	}
	queued := time.Now()
	served := 0
	err = a.d.waitFor(ctx, time.Minute, "hq refuses the revoked laptop", func() bool {
		ran, _ := syncWith(ctx, spare, hq.syncAddr())
		if ran {
			served++
		}
		return !ran
	})
	if err != nil {
		a.notRefused("hq still synced with %s a minute after revoking it (%d sessions)", spare.Name, served)
		return nil
	}
	refusedAfter := time.Since(queued)

	after, err := a.spareRecords(ctx, spare, 200, 1)
	if err != nil {
		return err
	}
	off := logEnd(hq)
	revoked := regexp.MustCompile(`msg="refused a connection" from=` + regexp.QuoteMeta(spareIP) + `:.* is revoked`)
	if ran, msg := syncWith(ctx, spare, hq.syncAddr()); ran {
		a.notRefused("hq synced with the revoked %s again after refusing it: %s", spare.Name, msg)
	} else if line, ok := hq.waitLogged(ctx, off, revoked, 10*time.Second); ok {
		a.observe("hq refused the revoked %s %.1fs after the revocation was queued (sessions it still served before the ledger applied it: %d); its next sync failed (%s); hq logged: refused a connection: %s",
			spare.Name, refusedAfter.Seconds(), served, msg, logErr(line))
	} else {
		a.notRefused("the revoked %s's sync with hq failed (%s), but hq logged no refusal of a revoked node", spare.Name, msg)
	}
	if kept, err := held(ctx, hq, after); err != nil {
		return err
	} else if kept > 0 {
		a.notRefused("a record the revoked %s wrote after the theft reached hq", spare.Name)
	}

	var others []string
	for _, r := range a.d.nodes {
		if r == hq || r.Role.Field() || !r.running() {
			continue
		}
		off := logEnd(r)
		start := time.Now()
		err := a.d.waitFor(ctx, 30*time.Second, r.Name+" refuses the revoked laptop", func() bool {
			ran, _ := syncWith(ctx, spare, r.syncAddr())
			return !ran
		})
		if err != nil {
			a.notRefused("%s still synced with the revoked %s 30s after hq refused it", r.Name, spare.Name)
			continue
		}
		if _, ok := r.waitLogged(ctx, off, revoked, 10*time.Second); !ok {
			a.notRefused("%s's sync with the revoked %s failed, but %s logged no refusal of a revoked node", r.Name, spare.Name, r.Name)
			continue
		}
		others = append(others, fmt.Sprintf("%s (%.1fs later)", r.Name, time.Since(start).Seconds()))
	}
	if len(others) > 0 {
		a.observe("every other node that serves sync refused it too, logging it revoked: %s", strings.Join(others, ", "))
	}
	return nil
}

// syncWith runs `lifeline sync` of n with the peer at addr. ran says
// whether the session ran to its end (the tool says "synced with", even
// when someone wrote meanwhile and the two did not end equal); msg is what
// the tool said.
func syncWith(ctx context.Context, n *Node, addr string) (ran bool, msg string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := execTool(ctx, n, nil, "", "sync", "--data", n.Dir, "--peer", addr, "--timeout", "45s")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if o := strings.TrimSpace(out.String()); strings.Contains(o, "synced with") {
		return true, o
	}
	if e := strings.TrimSpace(errb.String()); e != "" {
		return false, e
	}
	return false, fmt.Sprint(err)
}

// lists says how a node's status lists the peer with the id or name, ""
// when it does not.
func lists(st node.Status, id, name string) string {
	for _, p := range st.Peers {
		if p.Node == id || p.Name == name {
			return fmt.Sprintf("%s (%s, gossip %q)", p.Name, p.Node, p.Gossip)
		}
	}
	return ""
}
