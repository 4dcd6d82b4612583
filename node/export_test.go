package node

import (
	"context"
	"crypto/x509"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/ledgerplane"
	"lifeline/node/peersync"
	"lifeline/node/personal"
	"lifeline/node/port"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// Forward lets tests send a ledger entry to the leader as a member would.
func Forward(n *Node, ctx context.Context, leader string, entry []byte) error {
	return ledgerplane.Forward(ctx, n.dialer(), leader, entry)
}

// SyncExpecting syncs with the node at addr, which must be id.
func SyncExpecting(n *Node, ctx context.Context, addr string, id syncproto.NodeID) (peersync.Result, error) {
	return n.syncWith(ctx, addr, id)
}

// HeadAt is a stream's chain hash at seq in n's store.
func HeadAt(n *Node, ctx context.Context, st syncproto.Stream, seq uint64) (syncproto.Hash, error) {
	return n.store.HeadAt(ctx, st, seq)
}

// PutReceipts plants receipts in n's store, unchecked, as a liar would.
func PutReceipts(n *Node, ctx context.Context, rs []store.Receipt) error {
	return n.store.PutReceipts(ctx, rs)
}

// ErrNotice is a notice refused for who signed it.
var ErrNotice = errNotice

// ApplyNotice applies a notice as if gossip had brought it.
func ApplyNotice(d *Daemon, msg []byte) error { return d.applyNotice(msg) }

// signedNotice is a notice d's node signs.
func signedNotice(d *Daemon, kind uint8, body any) []byte {
	msg, _ := d.n.signNotice(kind, body)
	return msg
}

// KeyNotice is a key step (2 install, 3 use, 4 remove) of a rotation that
// started at epoch, signed by d's node.
func KeyNotice(d *Daemon, kind uint8, epoch time.Time, key []byte) []byte {
	return signedNotice(d, kind, &keyNotice{Epoch: epoch.UnixMilli(), Key: key})
}

// RevocationNotice is the revocation of id, signed by d's node.
func RevocationNotice(d *Daemon, id syncproto.NodeID) []byte {
	return signedNotice(d, noticeRevoke, &revocationNotice{Revoke: ledger.Revoke{Node: id, Reason: "forged"}, Index: 1})
}

// SignedRevocation is a notice revoking id signed by n, whatever n's
// role: what headquarters signs, or a forgery.
func SignedRevocation(n *Node, id syncproto.NodeID) []byte {
	msg, _ := n.signNotice(noticeRevoke, &revocationNotice{Revoke: ledger.Revoke{Node: id, Reason: "forged", By: n.Self().ID}, Index: 1})
	return msg
}

// AlterRevocation is a revocation notice made to revoke id instead, its
// signature left as it was.
func AlterRevocation(msg []byte, id syncproto.NodeID) []byte {
	var nt notice
	var rn revocationNotice
	if syncproto.Unmarshal(msg, &nt) != nil || syncproto.Unmarshal(nt.Body, &rn) != nil {
		return nil
	}
	rn.Revoke.Node = id
	nt.Body, _ = syncproto.Marshal(&rn)
	out, _ := syncproto.Marshal(&nt)
	return out
}

// RevocationNotices are the notices n passes on.
func RevocationNotices(n *Node, ctx context.Context) ([][]byte, error) {
	return n.store.RevocationNotices(ctx)
}

// SyncPassing syncs n with the node at addr, n's hello carrying notices in
// place of the revocations n knows, as a liar's would.
func SyncPassing(n *Node, ctx context.Context, addr string, notices [][]byte) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Store = passing{n.store, notices}
	return peersync.Run(ctx, conn, cfg)
}

type passing struct {
	*store.SQLite
	notices [][]byte
}

func (p passing) RevocationNotices(context.Context) ([][]byte, error) { return p.notices, nil }

// SyncAs syncs n with the node at addr, presenting creds in the handshake
// in place of n's own and keeping whatever it is sent: a modified node
// presenting another certificate of its key.
func SyncAs(n *Node, ctx context.Context, addr string, creds *identity.Credentials) (peersync.Result, error) {
	conn, peer, err := port.Dialer{Creds: creds}.Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Take = func(syncproto.Stream) bool { return true }
	return peersync.Run(ctx, conn, cfg)
}

// SyncClaiming syncs n with the node at addr, n's hello claiming role and
// node id in place of its own, as a modified node's would.
func SyncClaiming(n *Node, ctx context.Context, addr string, role syncproto.Role, id syncproto.NodeID) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Hello.Role, cfg.Hello.Node = role, id
	return peersync.Run(ctx, conn, cfg)
}

// SyncSendingReceipts syncs n with the node at addr, sending rs as the
// receipts n holds, with cert as every signer's certificate: what a
// modified node would pass on.
func SyncSendingReceipts(n *Node, ctx context.Context, addr string, rs []store.Receipt, cert []byte) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Store = receipting{peerStore{n.store, peer}, rs}
	cfg.Trust = presenting{n.trust, [][]byte{cert}}
	return peersync.Run(ctx, conn, cfg)
}

type receipting struct {
	peerStore
	rs []store.Receipt
}

func (r receipting) Receipts(context.Context, syncproto.NodeID, bool, syncproto.Vector, int) ([]store.Receipt, error) {
	return r.rs, nil
}

// SyncPresenting syncs n with the node at addr, sending certs in place of
// the certificates of the origins n sends: what a modified node would
// send of itself, an older certificate of its key.
func SyncPresenting(n *Node, ctx context.Context, addr string, certs [][]byte) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Trust = presenting{n.trust, certs}
	return peersync.Run(ctx, conn, cfg)
}

type presenting struct {
	*trust
	certs [][]byte
}

func (p presenting) Certs(context.Context, []syncproto.NodeID) ([][]byte, error) { return p.certs, nil }

// GossipKeys are the gossip keys d uses, the primary first.
func (d *Daemon) GossipKeys() [][]byte { return d.gossip.Keys() }

// ApplyKit applies a kit decision, signed by n (an HQ node of ca), to n's
// ledger state as the state machine of a running member does, then reloads
// n's kits as the running node does after it.
func ApplyKit(n *Node, ca *x509.Certificate, index uint64, k ledger.Kit) error {
	entry, err := ledger.Sign(ledger.CmdKit, &k, n.now(), n.Credentials().Cert.Raw, n.key.Signer())
	if err != nil {
		return err
	}
	if res := ledger.NewFSM(n.store, ca, n.log).Apply(ledger.Entry{Index: index, Term: 1, Data: entry}); res.Err != nil {
		return res.Err
	}
	return n.loadKits(context.Background())
}

// ApplyLedger applies ledger entries to n's ledger state from index on, as
// the state machine of a running member does.
func ApplyLedger(n *Node, ca *x509.Certificate, index uint64, entries [][]byte) error {
	f := ledger.NewFSM(n.store, ca, n.log)
	for i, e := range entries {
		if res := f.Apply(ledger.Entry{Index: index + uint64(i), Term: 1, Data: e}); res.Err != nil {
			return res.Err
		}
	}
	return nil
}

// PutPeer records a peer in n's store as gossip or a session would.
func PutPeer(n *Node, ctx context.Context, p store.Peer) error { return n.store.PutPeer(ctx, p) }

// PeerError is a failed session's error as the peers table keeps it.
var PeerError = peerError

// WriteEdit saves an edit in n's store as it is, unchecked by any kit, as
// a node with other software (or a forger) would write it.
func WriteEdit(n *Node, ctx context.Context, e store.Edit) error {
	_, err := n.store.Write(ctx, []store.Edit{e})
	return err
}

// WriteEdits writes edits in one transaction, as they come.
func WriteEdits(n *Node, ctx context.Context, es []store.Edit) error {
	_, err := n.store.Write(ctx, es)
	return err
}

// ImportBundleWhole applies a bundle whole, the streams of every scope:
// what a node that held another district's records (moved there from it,
// or of an older version) would hold.
func ImportBundleWhole(n *Node, ctx context.Context, path string) (peersync.ImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return peersync.ImportResult{}, err
	}
	defer f.Close()
	return peersync.Import(ctx, f, n.store, n.trust)
}

// SyncOfferingAll syncs n with the node at addr, offering every stream it
// holds whatever the peer keeps: what a node that ignores scopes (a
// modified one) would send.
func SyncOfferingAll(n *Node, ctx context.Context, addr string) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Offer = nil
	return peersync.Run(ctx, conn, cfg)
}

// SyncClaimingToHold syncs n with the node at addr, its hello claiming to
// hold claim beside what it does: what a modified laptop would say to be
// sent nothing and have the peer's changes shown as sent.
func SyncClaimingToHold(n *Node, ctx context.Context, addr string, claim syncproto.Vector) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Store = claiming{cfg.Store, claim}
	return peersync.Run(ctx, conn, cfg)
}

type claiming struct {
	peersync.Store
	claim syncproto.Vector
}

func (c claiming) Vector(ctx context.Context) (syncproto.Vector, error) {
	v, err := c.Store.Vector(ctx)
	if err != nil {
		return nil, err
	}
	v = v.Clone()
	for st, seq := range c.claim {
		v[st] = max(v[st], seq)
	}
	return v, nil
}

// SyncClaimingAndAcking syncs n with the node at addr as a modified laptop
// would to have the peer's changes shown as sent: its hello claims to hold
// claim beside what it does, and to hold held aside, and it acknowledges
// every batch it is sent without storing any.
func SyncClaimingAndAcking(n *Node, ctx context.Context, addr string, claim, held syncproto.Vector) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Store = acking{claiming{cfg.Store, claim}, held}
	return peersync.Run(ctx, conn, cfg)
}

type acking struct {
	claiming
	held syncproto.Vector
}

func (a acking) HeldAside(context.Context) (syncproto.Vector, error) { return a.held, nil }

func (a acking) ApplyAll(_ context.Context, batches iter.Seq2[[]store.Incoming, error], _ bool) ([]store.ApplyResult, error) {
	var out []store.ApplyResult
	for b, err := range batches {
		if err != nil {
			return nil, err
		}
		out = append(out, store.ApplyResult{Applied: len(b)})
	}
	return out, nil
}

// StoreRecords lists every record of n's store as the store holds them,
// deleted ones included.
func StoreRecords(n *Node, ctx context.Context) ([]store.Record, error) {
	var out []store.Record
	for r, err := range n.store.Records(ctx, store.Query{WithDeleted: true}) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Receipts lists the receipts of headquarters n holds.
func Receipts(n *Node, ctx context.Context) ([]store.Receipt, error) {
	return n.store.Receipts(ctx, syncproto.NodeID{}, false, nil, syncproto.MaxReceipts)
}

// GrantNotices are the signed grants of data keys n passes on.
func GrantNotices(n *Node, ctx context.Context) ([][]byte, error) { return n.store.GrantNotices(ctx) }

// PersonRevocationBy is a revocation of a person on a node signed by n,
// whatever n's role: a forgery when n is no HQ node.
func PersonRevocationBy(n *Node, on syncproto.NodeID, name string) []byte {
	msg, err := n.signNotice(noticePersonRevoked, &personRevocation{Node: on, Name: name, At: time.Now().UnixMilli()})
	if err != nil {
		panic(err)
	}
	return msg
}

// AddKits takes the signed kits a peer would pass on.
func AddKits(n *Node, ctx context.Context, list [][]byte) (int, error) { return n.addKits(ctx, list) }

// KitNotices are the signed kits n passes on.
func KitNotices(n *Node, ctx context.Context) ([][]byte, error) { return n.store.KitNotices(ctx) }

// LedgerLinks is every link decision the ledger applied here, whether or
// not it stands.
func LedgerLinks(n *Node, ctx context.Context) ([]ledger.Link, error) {
	return n.store.Links(ctx)
}

// LedgerLinkOf is the decision the ledger holds on a pair, standing or not.
func LedgerLinkOf(n *Node, ctx context.Context, a, b syncproto.RecordID) (ledger.Link, bool, error) {
	return n.store.LinkOf(ctx, a, b)
}

// SyncForgingConfirmations syncs n with the node at addr, answering the
// peer's asking for headquarters' word on its full images with what forge
// makes of the ids asked: what a lying relay would send.
func SyncForgingConfirmations(n *Node, ctx context.Context, addr string, forge func(asked []syncproto.Hash) ([][]byte, []syncproto.PhotoHeld)) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Photos = forging{cfg.Photos.(*photoPeer), forge}
	return peersync.Run(ctx, conn, cfg)
}

type forging struct {
	*photoPeer
	forge func(asked []syncproto.Hash) ([][]byte, []syncproto.PhotoHeld)
}

func (f forging) Confirmations(ctx context.Context, ids []syncproto.Hash) ([][]byte, []syncproto.PhotoHeld, error) {
	certs, held := f.forge(ids)
	return certs, held, nil
}

// HeldShares is the store's count of held changes by the node that
// answers for them.
func HeldShares(n *Node, ctx context.Context) (map[syncproto.NodeID]int, error) {
	return n.store.HeldShares(ctx)
}

// SyncSending syncs n with the node at addr, sending runs, once, in place
// of what n holds: what a modified node would send.
func SyncSending(n *Node, ctx context.Context, addr string, runs []syncproto.Run) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Store = &sending{SQLite: n.store, runs: runs}
	return peersync.Run(ctx, conn, cfg)
}

type sending struct {
	*store.SQLite
	runs []syncproto.Run
}

func (s *sending) Outgoing(_ context.Context, have syncproto.Vector, _ int) ([]syncproto.Run, syncproto.Vector, error) {
	runs := s.runs
	s.runs = nil
	next := have.Clone()
	for _, r := range runs {
		next[r.Stream] = r.Last()
	}
	return runs, next, nil
}

// PhotoRefs is what the node's kept index says its records name of
// photos: per photo, its priority and its streams, sorted.
func PhotoRefs(n *Node, ctx context.Context) (map[string]string, error) {
	refs, err := n.photoRefs(ctx)
	return refsText(refs), err
}

// PhotoRefsRead is the same, read from every record of every type.
func PhotoRefsRead(n *Node, ctx context.Context) (map[string]string, error) {
	def := n.refsDef(n.Kits())
	x := photoIndex{of: map[syncproto.RecordID][]store.Ref{}, named: map[string]map[syncproto.RecordID]bool{}}
	for r, err := range n.store.Records(ctx, store.Query{WithDeleted: true}) {
		if err != nil {
			return nil, err
		}
		x.set(r.ID, def.Of(&r))
	}
	refs := map[string]*photoRef{}
	for id := range x.named {
		refs[id] = x.ref(id)
	}
	return refsText(refs), nil
}

func refsText(refs map[string]*photoRef) map[string]string {
	out := map[string]string{}
	for id, r := range refs {
		var sts []string
		for _, st := range r.streams {
			sts = append(sts, st.String())
		}
		slices.Sort(sts)
		out[id] = fmt.Sprintf("%d|%s", r.prio, strings.Join(sts, ","))
	}
	return out
}

// PhotosNamed is what the node takes a record to name of photos.
func PhotosNamed(n *Node, r store.Record) []string {
	var out []string
	for _, ref := range n.refsDef(n.Kits()).Of(&r) {
		out = append(out, ref.Name)
	}
	return out
}

// SealAs seals a value of a record's field as the node seals the personal
// values of a district's records.
func SealAs(n *Node, ctx context.Context, district string, rec syncproto.RecordID, field string, value []byte) ([]byte, error) {
	keys, err := n.sealKeys(ctx, district)
	if err != nil {
		return nil, err
	}
	return personal.Seal(value, personal.AD{Record: rec, Field: field}, keys...)
}

// UpdateAll sets the same fields on several records, all or none; with
// undecided, none over a conflict.
func UpdateAll(n *Node, ctx context.Context, ids []syncproto.RecordID, data []byte, author string, undecided bool) ([]store.Written, error) {
	return n.updateAll(ctx, ids, data, author, undecided, nil)
}

// QueueEntry puts a ledger entry, as encoded, in the node's outbox: the
// same bytes twice are a proposal tried again.
func QueueEntry(n *Node, ctx context.Context, entry []byte) error {
	return n.store.AddOutbox(ctx, ledger.CommandType(entry[0]), entry[1:])
}

// SignTime is the time the node signs its next decision at.
func SignTime(n *Node) time.Time { return n.signTime() }

// SyncServingPhotos syncs n with the node at addr, answering the peer's
// asking for photos with what serve makes of each chunk asked (data, the
// kind's size and hash), whatever n holds: what a modified node would
// send.
func SyncServingPhotos(n *Node, ctx context.Context, addr string, serve func(id syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error)) (peersync.Result, error) {
	conn, peer, err := n.dialer().Dial(ctx, addr, port.Sync)
	if err != nil {
		return peersync.Result{}, err
	}
	defer conn.Close()
	cfg := n.sessionConfig(peer)
	cfg.Photos = serving{cfg.Photos.(*photoPeer), serve}
	return peersync.Run(ctx, conn, cfg)
}

type serving struct {
	*photoPeer
	serve func(id syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error)
}

func (s serving) Read(ctx context.Context, id syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error) {
	return s.serve(id, kind, off)
}

// KeepDataKeys keeps data keys as a grant or a rotation does.
func KeepDataKeys(n *Node, ctx context.Context, keys ...personal.DataKey) error {
	return n.keepDataKeys(ctx, keys)
}

// LedgerMembers are the ledger's members as n's ledger decided.
func LedgerMembers(n *Node, ctx context.Context) (map[syncproto.NodeID]store.LedgerMember, error) {
	return n.store.LedgerMembers(ctx)
}
