package drill

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"lifeline/drill/netlab"
	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// The addresses of the thieves' laptops of this file, on HQ's site.
const (
	thiefIP   = "10.77.1.205"
	unawareIP = "10.77.1.206"
)

// damageLane is the lane of Cayo's damage assessments: the kit's priority
// 3, in Cayo's scope.
var damageLane = syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))

// forgedBundle: the spare laptop, enrolled and not yet stolen, writes a
// bundle that passes a change off as cayo-1's, after a gap in cayo-1's
// stream, signed with its own key and sealed as itself. HQ may take the
// bundle, but the change must never merge, and cayo-1's real changes at
// those sequences must.
func (a *intruder) forgedBundle(ctx context.Context, spare *Node) error {
	d, hq := a.d, a.d.hq
	cayo := d.node("cayo-1")
	st, err := cayo.status(ctx)
	if err != nil {
		return err
	}
	victim, err := syncproto.ParseNodeID(st.Node)
	if err != nil {
		return err
	}
	key, err := identity.Load(filepath.Join(spare.Dir, identity.KeyFile))
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(spare.Dir, "node.crt"), filepath.Join(spare.Dir, identity.KeyFile))
	if err != nil {
		return err
	}
	// What HQ holds of cayo-1's stream, from HQ's own hello.
	r, err := openRogue(ctx, a.via, spare.Dir, hq.syncAddr())
	if err != nil {
		return err
	}
	stream := syncproto.Stream{Origin: victim, Lane: damageLane}
	seq := r.peer.Vector[stream] + 2
	r.conn.Close()

	var fields []syncproto.FieldChange
	for _, f := range []struct {
		name  string
		value any
	}{{"damage_level", 0}, {"district", "Cayo"}, {"village", "Forged"}} {
		v, err := syncproto.Marshal(f.value)
		if err != nil {
			return err
		}
		fields = append(fields, syncproto.FieldChange{Name: f.name, Value: v})
	}
	c := syncproto.Change{Origin: victim, Lane: damageLane, Seq: seq, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0),
		Record: syncproto.NewRecordID(), Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "drill", Fields: fields}
	b, err := nodetest.ForgedBundle(key.Signer(), key.ID(), cert.Certificate[0], stream, seq, c)
	if err != nil {
		return err
	}
	path := filepath.Join(d.cfg.Dir, "forged.bundle")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("a bundle %s wrote and sealed, enrolled: a damage assessment passed off as cayo-1's change %d "+
		"(a gap after what hq holds), signed with %s's key, imported at hq", spare.Name, seq, spare.Name))
	imported := "took the bundle"
	if _, err := hq.lifeline(ctx, "", "bundle", "import", "--data", hq.Dir, path); err != nil {
		imported = "refused the bundle: " + lastPart(err.Error())
	}
	forged := c.Record.String()
	// cayo-1 writes on: its real changes at those sequences reach hq.
	var real []string
	for i := range 2 {
		id, err := d.add(ctx, cayo, "damage-assessment", fmt.Sprintf(damageJSON, "Cayo", 8800+i, 2, 3, "after the forged bundle"))
		if err != nil {
			return err
		}
		real = append(real, id)
	}
	if err := d.waitFor(ctx, 2*time.Minute, "hq holds cayo-1's real changes", func() bool {
		c, err := held(ctx, hq, real)
		return err == nil && c == len(real)
	}); err != nil {
		a.notRefused("cayo-1's real changes did not reach hq within 2m of the forged bundle: they may have counted as duplicates of the forgery")
		return nil
	}
	if c, err := held(ctx, hq, []string{forged}); err != nil {
		return err
	} else if c > 0 {
		a.notRefused("the change %s forged as cayo-1's merged at hq", spare.Name)
		return nil
	}
	a.observe("hq %s; the forged change never merged, and cayo-1's real changes after it did", imported)
	return nil
}

// keptAside: a stolen laptop of Belize district (enrolled, not revoked)
// creates an asset with the id of a Cayo missing person, its clock 55
// years back so that it would come first, and deletes another Cayo
// missing person (national records: every laptop holds them; a Cayo
// damage assessment never reaches a Belize laptop). HQ must keep both
// changes aside, with their reason: the person stays a missing person,
// the other stays.
func (a *intruder) keptAside(ctx context.Context) error {
	d, hq := a.d, a.d.hq
	cayo := d.node("cayo-1")
	person, err := d.add(ctx, cayo, "missing-person", fmt.Sprintf(missingJSON, 8900, "Cayo"))
	if err != nil {
		return err
	}
	other, err := d.add(ctx, cayo, "missing-person", fmt.Sprintf(missingJSON, 8901, "Cayo"))
	if err != nil {
		return err
	}
	if err := d.waitFor(ctx, 2*time.Minute, "hq holds cayo-1's two records", func() bool {
		c, err := held(ctx, hq, []string{person, other})
		return err == nil && c == 2
	}); err != nil {
		return err
	}
	before, err := hq.status(ctx)
	if err != nil {
		return err
	}
	thief, err := a.enrollLaptop(ctx, "thief-3", thiefIP)
	if err != nil {
		return err
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("%s, a Belize laptop enrolled with hq's authority, stolen: an asset with the id of cayo-1's missing person, "+
		"its clock 55 years back (LIFELINE_CLOCK_OFFSET); then cayo-1's other missing person deleted; both synced with hq", thief.Name))
	asset := fmt.Sprintf(`{"id":%q,"asset_tag":"GEN-666","kind":"generator","district":"Belize","status":"available"}`+"\n", person)
	if _, err := thief.lifelineEnv(ctx, []string{"LIFELINE_CLOCK_OFFSET=-482000h"}, asset, "record", "import", "--data", thief.Dir, "--type", "asset", "-"); err != nil {
		return err
	}
	if ran, msg := syncWith(ctx, thief, hq.syncAddr()); !ran {
		return fmt.Errorf("%s's sync with hq: %s", thief.Name, msg)
	}
	if _, err := thief.lifeline(ctx, "", "record", "delete", "--data", thief.Dir, "--id", other); err != nil {
		return err
	}
	if ran, msg := syncWith(ctx, thief, hq.syncAddr()); !ran {
		return fmt.Errorf("%s's sync with hq: %s", thief.Name, msg)
	}

	p, err := hq.record(ctx, person)
	if err != nil {
		return err
	}
	if p.Type != "missing-person" {
		a.notRefused("a change stamped 55 years back made cayo-1's missing person a %s at hq", p.Type)
	}
	as, err := hq.record(ctx, other)
	if err != nil {
		return err
	}
	if as.Deleted {
		a.notRefused("a Belize laptop deleted a Cayo missing person at hq")
	}
	after, err := hq.status(ctx)
	if err != nil {
		return err
	}
	out, err := hq.lifeline(ctx, "", "quarantine", "--data", hq.Dir, "--json")
	if err != nil {
		return err
	}
	var kept []node.QuarantinedChange
	if err := json.Unmarshal([]byte(out), &kept); err != nil {
		return fmt.Errorf("hq: quarantine --json: %v", err)
	}
	var reasons []string
	for _, q := range kept {
		if q.Record == person || q.Record == other {
			reasons = append(reasons, q.Reason)
		}
	}
	if len(reasons) < 2 {
		a.notRefused("hq kept aside %d of the thief's 2 changes (%s)", len(reasons), strings.Join(reasons, "; "))
		return nil
	}
	a.s.KeptAside += after.Quarantined - before.Quarantined
	a.observe("hq kept both of %s's changes aside (kept aside at hq: %d, was %d): %s", thief.Name, after.Quarantined, before.Quarantined,
		strings.Join(reasons, "; "))
	return nil
}

// record is a record as the node shows it.
func (n *Node) record(ctx context.Context, id string) (node.RecordView, error) {
	var v node.RecordView
	out, err := n.lifeline(ctx, "", "record", "show", "--data", n.Dir, "--id", id, "--json")
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return v, fmt.Errorf("%s: record show --json: %v", n.Name, err)
	}
	return v, nil
}

// viaUnaware: the stolen, revoked spare laptop writes a record and hands
// it on a stick to a laptop freshly enrolled, which has heard of no
// revocation; that laptop syncs with hq. HQ must keep the thief's record
// aside and take the rest.
func (a *intruder) viaUnaware(ctx context.Context, spare *Node) error {
	d, hq := a.d, a.d.hq
	written, err := a.spareRecords(ctx, spare, 300, 1)
	if err != nil {
		return err
	}
	unaware, err := a.enrollLaptop(ctx, "unaware-1", unawareIP)
	if err != nil {
		return err
	}
	stick := filepath.Join(d.cfg.Dir, "stolen.bundle")
	if _, err := spare.lifeline(ctx, "", "bundle", "export", "--data", spare.Dir, "--out", stick); err != nil {
		return err
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("the revoked %s writes a record after the theft and exports a bundle; %s, enrolled and never told of the revocation, imports it and syncs with hq",
		spare.Name, unaware.Name))
	if _, err := unaware.lifeline(ctx, "", "bundle", "import", "--data", unaware.Dir, stick); err != nil {
		a.observe("%s refused the revoked laptop's bundle itself: %s", unaware.Name, lastPart(err.Error()))
		return nil
	}
	before, err := hq.status(ctx)
	if err != nil {
		return err
	}
	if ran, msg := syncWith(ctx, unaware, hq.syncAddr()); !ran {
		return fmt.Errorf("%s's sync with hq: %s", unaware.Name, msg)
	}
	if c, err := held(ctx, hq, written); err != nil {
		return err
	} else if c > 0 {
		a.notRefused("a record the revoked %s wrote after the theft reached hq through %s", spare.Name, unaware.Name)
		return nil
	}
	after, err := hq.status(ctx)
	if err != nil {
		return err
	}
	a.s.KeptAside += after.Quarantined - before.Quarantined
	a.observe("hq kept aside the record the revoked %s wrote after the theft, carried by %s (kept aside at hq: %d, was %d)",
		spare.Name, unaware.Name, after.Quarantined, before.Quarantined)
	// The session's hello carried hq's revocations: the stick is refused now.
	if _, err := unaware.lifeline(ctx, "", "bundle", "import", "--data", unaware.Dir, stick); err == nil {
		a.notRefused("%s took the revoked %s's bundle again after syncing with hq, whose hello carries the revocation", unaware.Name, spare.Name)
	} else {
		a.observe("%s learnt the revocation from hq's hello: the stick again refused: %s", unaware.Name, lastPart(err.Error()))
	}
	return nil
}

// lastPart is the end of an error the tool printed: what it said last.
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 300 {
		return msg[i+2:]
	}
	return msg
}

// raftStream is Raft's transport over the port's ledger channel, dialled
// from the intruder's namespace with a stolen relay's certificate.
type raftStream struct {
	ctx  context.Context
	via  *nsNet
	cert tls.Certificate
	addr string
}

func (r raftStream) Accept() (net.Conn, error) { <-r.ctx.Done(); return nil, r.ctx.Err() }
func (r raftStream) Close() error              { return nil }
func (r raftStream) Addr() net.Addr            { return &net.TCPAddr{} }
func (r raftStream) Dial(_ raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	raw, err := r.via.dial(ctx, "tcp", r.addr)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, &tls.Config{Certificates: []tls.Certificate{r.cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	c.SetDeadline(time.Now().Add(timeout))
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	if _, err := c.Write([]byte{'L'}); err != nil { // Raft's channel (node/port)
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// stolenRelay: relay-cayo's folder is stolen. From HQ's network, with the
// relay's certificate, the thief speaks Raft to HQ: an AppendEntries with
// a far higher term carrying the revocation of the spare laptop, unsigned,
// first claiming to be HQ, then as relay-cayo. The first must be refused.
// relay-cayo is a voter, and Raft follows a voter's higher term: HQ may
// step down, but the entry must change nothing (every member checks HQ's
// signature on a revocation), HQ must lead again, and the spare laptop
// must still sync.
func (a *intruder) stolenRelay(ctx context.Context, spare *Node) error {
	d, hq := a.d, a.d.hq
	relay := d.node("relay-cayo")
	cert, err := tls.LoadX509KeyPair(filepath.Join(relay.Dir, "node.crt"), filepath.Join(relay.Dir, identity.KeyFile))
	if err != nil {
		return err
	}
	rst, err := relay.status(ctx)
	if err != nil {
		return err
	}
	hst, err := hq.status(ctx)
	if err != nil {
		return err
	}
	if hst.Raft == nil {
		return fmt.Errorf("hq's status says nothing of the ledger")
	}
	sst, err := spare.status(ctx)
	if err != nil {
		return err
	}
	victim, err := syncproto.ParseNodeID(sst.Node)
	if err != nil {
		return err
	}
	forged, err := ledger.Encode(ledger.CmdRevoke, &ledger.Revoke{Node: victim, Reason: "forged"})
	if err != nil {
		return err
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("relay-cayo's folder stolen: with its certificate, from %s, Raft's AppendEntries to hq with a term 1000 higher, "+
		"carrying an unsigned revocation of %s, claiming to be hq, then as relay-cayo (a voter)", intruderIP, spare.Name))
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	high := hst.Raft.Height + 1000
	appendAs := func(claim string) error {
		tr := raft.NewNetworkTransport(raftStream{ctx: rctx, via: a.via, cert: cert, addr: hq.syncAddr()}, 1, 10*time.Second, io.Discard)
		defer tr.Close()
		req := &raft.AppendEntriesRequest{
			RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(claim), Addr: []byte(relay.syncAddr())},
			Term:      high, LeaderCommitIndex: hst.Raft.Height + 1,
			Entries: []*raft.Log{{Index: hst.Raft.Height + 1, Term: high, Type: raft.LogCommand, Data: forged}},
		}
		var resp raft.AppendEntriesResponse
		return tr.AppendEntries(raft.ServerID(claim), raft.ServerAddress(hq.syncAddr()), req, &resp)
	}
	off := logEnd(hq)
	if err := appendAs(hst.Node); err == nil {
		a.notRefused("hq answered the stolen relay's AppendEntries claiming to be hq")
	} else if line, ok := hq.waitLogged(ctx, off, regexp.MustCompile(`msg="refused a Raft RPC"`), 10*time.Second); ok {
		a.observe("the stolen relay's AppendEntries claiming to be hq: refused (%s); hq logged: %s", lastPart(err.Error()), logErr(line))
	} else {
		a.notRefused("the stolen relay's AppendEntries claiming to be hq failed (%v), but hq logged no refusal", err)
	}
	answered := appendAs(rst.Node) == nil
	// The term the forged call carried makes hq step down; the voters
	// elect a leader again, hq or another of them: any is the ledger
	// recovered, since each is a node of the deployment.
	var now node.Status
	var leader *Node
	if err := d.waitFor(ctx, time.Minute, "a voter leads the ledger again", func() bool {
		now, err = hq.status(ctx)
		if err != nil || now.Raft == nil || now.Raft.AsOf == hst.Raft.AsOf || now.Raft.Leader == "" {
			return false
		}
		l, _, lerr := d.leader(ctx)
		leader = l
		return lerr == nil
	}); err != nil {
		a.notRefused("no voter led the ledger again within a minute of the stolen relay's AppendEntries (hq: %+v)", now.Raft)
		return nil
	}
	if ran, msg := syncWith(ctx, spare, hq.syncAddr()); !ran {
		a.notRefused("%s no longer syncs with hq after the stolen relay's unsigned revocation: %s", spare.Name, msg)
		return nil
	}
	a.observe("as relay-cayo, a voter, the AppendEntries was answered: %v (Raft follows its voters: a stolen voter must be revoked at once); "+
		"its unsigned revocation changed nothing: %s leads the ledger again (hq's height %d, was %d) and %s still syncs", answered, leader.Name, now.Raft.Height, hst.Raft.Height, spare.Name)
	return nil
}

// rogueEnv makes the drill's own executable, started again in a
// namespace, a rogue gossip member instead (see rogueMember).
const rogueEnv = "LIFELINE_DRILL_ROGUE"

// rogueGossip: a device on HQ's network holds the gossip key of a stolen
// laptop (every laptop holds it) and joins gossip saying it is HQ, a
// voter of the ledger. The leader must never make it a member of the
// ledger, and must keep leading.
func (a *intruder) rogueGossip(ctx context.Context) error {
	d, hq := a.d, a.d.hq
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	laptop := d.node("cayo-1")
	// The thief reads the gossip keys with the laptop's key, in the clear
	// in the drill's folders, and hands them to the rogue as a clear file.
	keys, err := node.GossipKeys(laptop.Dir, nil)
	if err != nil {
		return fmt.Errorf("the stolen laptop's gossip keys: %w", err)
	}
	stolen, err := os.MkdirTemp("", "lifeline-drill-rogue")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stolen)
	keyFile := filepath.Join(stolen, gossip.KeyFile)
	if err := gossip.WriteKeyFile(keyFile, keys); err != nil {
		return err
	}
	id := syncproto.NewRecordID() // any 16 bytes: an id no certificate holds
	rogueID := syncproto.NodeID(id)
	// The voter leading before the rogue comes must lead after it: hq,
	// or another voter of the deployment that an earlier step left
	// leading (an election after the stolen relay's AppendEntries).
	before, height, err := d.leader(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := netlab.Command(rctx, a.node.NS, exe)
	cmd.Env = append(os.Environ(), rogueEnv+"=gossip",
		"LIFELINE_DRILL_ROGUE_KEYS="+keyFile,
		"LIFELINE_DRILL_ROGUE_BIND="+intruderIP+":7947",
		"LIFELINE_DRILL_ROGUE_JOIN="+hq.IP+":7946",
		"LIFELINE_DRILL_ROGUE_ID="+rogueID.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	defer cancel()
	joined := make(chan string, 1)
	go func() {
		b := make([]byte, 256)
		n, _ := io.ReadAtLeast(out, b, 1)
		joined <- strings.TrimSpace(string(b[:n]))
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-joined:
		if !strings.HasPrefix(line, "joined") {
			return fmt.Errorf("the rogue gossip member: %s", line)
		}
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the rogue gossip member did not join hq's gossip within 30s")
	}
	a.s.Injected = append(a.s.Injected, fmt.Sprintf("a rogue device at %s with cayo-1's gossip key joins gossip as \"hq-2\", role hq, a ledger voter", intruderIP))
	// The leader looks at gossip's members in rounds of a few seconds.
	select {
	case <-time.After(15 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	log, err := hq.lifeline(ctx, "", "ledger", "log", "--data", hq.Dir)
	if err != nil {
		return err
	}
	now, err := hq.status(ctx)
	if err != nil {
		return err
	}
	after, _, leadErr := d.leader(ctx)
	switch {
	case strings.Contains(log, rogueID.String()):
		a.notRefused("the rogue gossip member %s is in hq's ledger log", rogueID)
	case leadErr != nil || after != before || now.Raft == nil:
		a.notRefused("%s no longer leads the ledger with a rogue gossip member claiming to be a voter (hq: %+v)", before.Name, now.Raft)
	default:
		seen := slices.ContainsFunc(now.Peers, func(p node.PeerStatus) bool { return p.Node == rogueID.String() })
		a.observe("a rogue gossip member claiming to be an hq voter was never made a member of the ledger; %s still leads (hq's height %d, was %d); "+
			"hq lists it among its peers: %v", before.Name, now.Raft.Height, height, seen)
	}
	return nil
}
