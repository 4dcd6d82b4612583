package drill

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// The addresses of the laptops the thieves use, on headquarters' site.
const (
	floodIP  = "10.77.1.204"
	poisonIP = "10.77.1.203"
)

// rogue is a sync session a thief drives by hand, with syncproto's frames,
// as an enrolled laptop whose folder it holds: its certificate and key.
type rogue struct {
	wmu   sync.Mutex
	conn  *tls.Conn
	r     *syncproto.FrameReader
	local string // the address the node logs
	peer  *syncproto.Hello
	// done: the node's done came while another message was awaited.
	done bool
}

// openRogue connects to addr from the namespace as the laptop whose folder
// is dir, asks for a sync session and reads the node's hello.
func openRogue(ctx context.Context, via *nsNet, dir, addr string) (*rogue, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "node.crt"), filepath.Join(dir, identity.KeyFile))
	if err != nil {
		return nil, err
	}
	raw, err := via.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	if err := c.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	// 'S' asks for a sync session (node/port).
	if _, err := c.Write([]byte{'S'}); err != nil {
		c.Close()
		return nil, err
	}
	r := &rogue{conn: c, r: syncproto.NewFrameReader(c), local: raw.LocalAddr().String()}
	m, err := r.read(syncproto.MsgHello)
	if err != nil {
		c.Close()
		return nil, err
	}
	r.peer = m.(*syncproto.Hello)
	return r, nil
}

// hello says the rogue is the laptop id and holds what the node holds, so
// that the node sends it nothing.
func (r *rogue) hello(id syncproto.NodeID, name string) error {
	h := syncproto.NewHello(id, r.peer.Vector)
	h.Name, h.Role, h.District = name, syncproto.RoleField, "Belize"
	return r.send(syncproto.MsgHello, &h)
}

func (r *rogue) send(t syncproto.MsgType, msg any) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	_, err := syncproto.WriteFrame(r.conn, t, msg)
	return err
}

// read returns the next message of type t the node sends, acknowledging
// the node's batches on the way (changes written since its hello); an
// error the node sends instead is returned as a *syncproto.ProtocolError.
func (r *rogue) read(t syncproto.MsgType) (any, error) {
	for {
		typ, body, err := r.r.Read()
		if err != nil {
			return nil, err
		}
		if typ == syncproto.MsgDone && t != syncproto.MsgDone {
			r.done = true
		}
		if typ != t && typ != syncproto.MsgError && typ != syncproto.MsgBatch {
			continue
		}
		m, err := syncproto.Decode(typ, body)
		if err != nil {
			return nil, err
		}
		switch m := m.(type) {
		case *syncproto.Error:
			return nil, &syncproto.ProtocolError{Code: m.Code, Msg: m.Message, Remote: true}
		case *syncproto.Batch:
			if err := r.send(syncproto.MsgAck, &syncproto.Ack{Seq: m.Seq}); err != nil {
				return nil, err
			}
			if t != syncproto.MsgBatch {
				continue
			}
		}
		return m, nil
	}
}

// refusal reads until the node ends the session, and returns the error it
// ended it with (or why the connection ended otherwise).
func (r *rogue) refusal() error {
	_, err := r.read(syncproto.MsgType(0)) // no message has type 0
	return err
}

// floodAcks: a laptop enrolled with HQ's authority is stolen; the thief
// opens as many sync sessions with HQ as HQ serves at once and sends, on
// each, acknowledgements of batches HQ never sent (nine; on one, ninety).
// Nine once hung a session for good, and 32 left HQ serving no sync. HQ
// must end each with a protocol error, and serve the next sync.
func (a *intruder) floodAcks(ctx context.Context) error {
	hq := a.d.hq
	n, err := a.enrollLaptop(ctx, "flood-1", floodIP)
	if err != nil {
		return err
	}
	me, err := n.status(ctx)
	if err != nil {
		return err
	}
	id, err := syncproto.ParseNodeID(me.Node)
	if err != nil {
		return err
	}
	const sessions = 32
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("%s, enrolled with hq's authority, stolen: %d sync sessions with hq at once, "+
		"each a hello and then acknowledgements of batches hq never sent (9; on one, 90)", n.Name, sessions))
	off := logEnd(hq)
	var mu sync.Mutex
	ends := map[string]int{}
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := "refused before its hello"
			defer func() {
				mu.Lock()
				ends[end]++
				mu.Unlock()
			}()
			r, err := openRogue(ctx, a.via, n.Dir, hq.syncAddr())
			if err != nil {
				return
			}
			defer r.conn.Close()
			if err := r.hello(id, n.Name); err != nil {
				return
			}
			acks := 9
			if i == 0 {
				acks = 90
			}
			go func() {
				for s := range acks {
					if r.send(syncproto.MsgAck, &syncproto.Ack{Seq: uint64(1 + s), Applied: 1000}) != nil {
						return
					}
				}
			}()
			end = "no error"
			var pe *syncproto.ProtocolError
			if err := r.refusal(); errors.As(err, &pe) {
				end = pe.Code.String()
			} else if err != nil {
				end = "cut: " + err.Error()
			}
		}()
	}
	wg.Wait()
	logged := len(hq.loggedSince(off, regexp.MustCompile(`msg="sync failed".*sync: unexpected: an acknowledgement`)))
	var parts []string
	for end, c := range ends {
		parts = append(parts, fmt.Sprintf("%d %s", c, end))
	}
	if ends["unexpected"] == 0 {
		a.notRefused("hq ended none of %s's %d sessions of unsolicited acknowledgements with a protocol error (%s)", n.Name, sessions, strings.Join(parts, ", "))
		return nil
	}
	if ran, msg := syncWith(ctx, n, hq.syncAddr()); !ran {
		a.notRefused("after %s's flood of acknowledgements, hq served no sync: %s", n.Name, msg)
		return nil
	}
	a.observe("%s's %d sessions of unsolicited acknowledgements ended: %s; hq logged %d refusals (sync failed: unexpected); a sync right after synced",
		n.Name, sessions, strings.Join(parts, ", "), logged)
	return nil
}

// poisonLen is the size of each change of the poison stream: within a
// change's bound (256 KiB), far above what a kit's fields hold.
const poisonLen = 200 << 10

// poisonStream: another stolen laptop sends HQ changes of 200 KiB, as the
// tool never writes them, signed with its own key. First 22 of them under
// one signature, a run larger than any node could pass on: refused. Then
// 60 in runs of five, each within every bound: accepted, and then passed
// on to every node (counted in changes alone, the batch that carried them
// on was 12 MB, past the 8 MiB a frame holds, and every session from HQ
// failed with it; 180 made 36 MB).
func (a *intruder) poisonStream(ctx context.Context) error {
	hq := a.d.hq
	n, err := a.enrollLaptop(ctx, "poison-1", poisonIP)
	if err != nil {
		return err
	}
	key, err := identity.Load(filepath.Join(n.Dir, identity.KeyFile))
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(n.Dir, "node.crt"), filepath.Join(n.Dir, identity.KeyFile))
	if err != nil {
		return err
	}
	const total, lane = 60, 3
	stream := syncproto.Stream{Origin: key.ID(), Lane: lane}
	var bodies [][]byte
	var heads []syncproto.Hash
	var prev syncproto.Hash
	for seq := uint64(1); seq <= total; seq++ {
		c, err := poisonChange(key.ID(), lane, seq)
		if err != nil {
			return err
		}
		body, err := c.Encode()
		if err != nil {
			return err
		}
		prev = syncproto.ChainHash(prev, body)
		bodies, heads = append(bodies, body), append(heads, prev)
	}
	run := func(from, to int) syncproto.Run { // changes from to to, counted from 1
		return syncproto.Run{Stream: stream, First: uint64(from), Bodies: bodies[from-1 : to], Sig: key.SignHead(lane, uint64(to), heads[to-1])}
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("%s, enrolled with hq's authority, stolen: a stream of changes of %d KiB signed with its key, "+
		"22 under one signature, then %d in runs of five", n.Name, poisonLen>>10, total))

	// Too large to pass on: refused, nothing kept.
	r, err := openRogue(ctx, a.via, n.Dir, hq.syncAddr())
	if err != nil {
		return err
	}
	defer r.conn.Close()
	big, err := syncproto.NewBatch(1, []syncproto.Run{run(1, 22)})
	if err != nil {
		return err
	}
	if err := errors.Join(r.hello(key.ID(), n.Name), r.send(syncproto.MsgCerts, &syncproto.Certs{Certs: cert.Certificate}), r.send(syncproto.MsgBatch, big)); err != nil {
		return fmt.Errorf("the run too large to pass on: %w", err)
	}
	var pe *syncproto.ProtocolError
	if err := r.refusal(); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "too large") {
		a.notRefused("hq took a run of 22 changes of %d KiB under one signature (it ended the session with %v)", poisonLen>>10, err)
	} else {
		a.observe("a run of 22 changes of %d KiB under one signature from %s: hq refused it: %s", poisonLen>>10, n.Name, pe)
	}
	r.conn.Close()

	// Small runs: accepted, then passed on.
	before := map[*Node]int{}
	for _, m := range a.d.nodes {
		if m.running() {
			st, err := m.status(ctx)
			if err != nil {
				return err
			}
			before[m] = st.Quarantined
		}
	}
	r, err = openRogue(ctx, a.via, n.Dir, hq.syncAddr())
	if err != nil {
		return err
	}
	defer r.conn.Close()
	if err := errors.Join(r.hello(key.ID(), n.Name), r.send(syncproto.MsgCerts, &syncproto.Certs{Certs: cert.Certificate})); err != nil {
		return err
	}
	for i := 0; i < total/5; i++ {
		b, err := syncproto.NewBatch(uint64(i+1), []syncproto.Run{run(5*i+1, 5*i+5)})
		if err != nil {
			return err
		}
		if err := r.send(syncproto.MsgBatch, b); err != nil {
			return err
		}
		if _, err := r.read(syncproto.MsgAck); err != nil {
			a.notRefused("hq refused a run of five changes of %d KiB, each within every bound: %v", poisonLen>>10, err)
			return nil
		}
	}
	r.send(syncproto.MsgDone, &syncproto.Done{})
	if !r.done {
		// Read while the acknowledgements were, the node's done is not
		// waited for again: the node would end the session only when it
		// tired of waiting for the photos' exchange, a minute on.
		r.read(syncproto.MsgDone)
	}
	r.conn.Close()
	// Notes of 200 KiB are far past what the kit allows: every node keeps
	// the changes aside, and passes them on in their stream all the same.
	start := time.Now()
	var reached []string
	for _, m := range a.d.nodes {
		if !m.running() {
			continue
		}
		err := a.d.waitFor(ctx, 2*time.Minute, m.Name+" holds the poison stream", func() bool {
			st, err := m.status(ctx)
			return err == nil && st.Quarantined-before[m] >= total
		})
		if err != nil {
			a.s.Failures = append(a.s.Failures, fmt.Sprintf("the %d changes of %d KiB hq accepted from %s did not reach %s within 2m", total, poisonLen>>10, n.Name, m.Name))
			continue
		}
		reached = append(reached, fmt.Sprintf("%s %.1fs", m.Name, time.Since(start).Seconds()))
	}
	a.observe("hq accepted %s's %d changes of %d KiB in runs of five, kept them aside (their notes are past the kit's bound), and passed them on in batches bounded in bytes: every node held them aside (%s)",
		n.Name, total, poisonLen>>10, strings.Join(reached, ", "))
	return nil
}

// poisonChange is a damage assessment with notes of poisonLen bytes: text
// that compresses well, so that the drill's thin links carry it quickly;
// a node's bounds are on the bytes it stores and sends on, not on the wire.
func poisonChange(origin syncproto.NodeID, lane uint8, seq uint64) (*syncproto.Change, error) {
	var seed [16]byte
	rand.Read(seed[:])
	word := hex.EncodeToString(seed[:]) + " storm surge "
	notes := strings.Repeat(word, poisonLen/len(word)+1)[:poisonLen]
	var fields []syncproto.FieldChange
	for _, f := range [][2]string{{"district", "Belize"}, {"notes", notes}, {"village", "Poison"}} {
		v, err := syncproto.Marshal(f[1])
		if err != nil {
			return nil, err
		}
		fields = append(fields, syncproto.FieldChange{Name: f[0], Value: v})
	}
	return &syncproto.Change{Origin: origin, Lane: lane, Seq: seq, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), uint16(seq)),
		Record: syncproto.NewRecordID(), Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "poison", Fields: fields}, nil
}

// enrollLaptop makes a laptop enrolled with HQ's authority, on HQ's site.
func (a *intruder) enrollLaptop(ctx context.Context, name, ip string) (*Node, error) {
	hq := a.d.hq
	ns, err := a.d.lab.Host(name, "hq", ip+"/16")
	if err != nil {
		return nil, err
	}
	n := &Node{Name: name, Role: syncproto.RoleField, District: "Belize", Site: "hq", IP: ip, NS: ns,
		Dir: filepath.Join(a.d.cfg.Dir, name), d: a.d}
	for _, args := range [][]string{
		{"init", "--data", n.Dir, "--role", string(n.Role), "--district", n.District, "--name", n.Name},
		{"enroll", "--data", n.Dir, "--ca", hq.Dir},
	} {
		if _, err := n.lifeline(ctx, "", args...); err != nil {
			return nil, err
		}
	}
	return n, nil
}
