package node

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"lifeline/fieldkits"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Revoke asks the ledger to revoke a node: every relay and HQ refuses it
// once the command is committed, and gossip carries the news to the field.
// Only headquarters revokes.
func (n *Node) Revoke(ctx context.Context, node syncproto.NodeID, reason string) error {
	if !n.Self().Role.Decides() {
		return fmt.Errorf("only headquarters revokes nodes; %s is a %s node", n.Self().Name, n.Self().Role)
	}
	if node == n.Self().ID {
		return errors.New("a node cannot revoke itself")
	}
	// What HQ holds of the node now is what stays trusted: its later
	// changes, made with a stolen key, are refused everywhere.
	held, err := n.store.Vector(ctx)
	if err != nil {
		return err
	}
	trusted := syncproto.Vector{}
	for st, seq := range held {
		if st.Origin == node {
			trusted[st] = seq
		}
	}
	return n.Queue(ctx, ledger.CmdRevoke, &ledger.Revoke{Node: node, Reason: reason, At: time.Now().UnixMilli(), By: n.Self().ID, Trusted: trusted})
}

// SetMember asks the ledger to make an enrolled relay a voter or a
// non-voter, or (remove) no member; addr, if given, is where its port is.
// Only headquarters decides it.
func (n *Node) SetMember(ctx context.Context, node syncproto.NodeID, voter, remove bool, addr string) error {
	if !n.Self().Role.Decides() {
		return fmt.Errorf("only headquarters decides the ledger's members; %s is a %s node", n.Self().Name, n.Self().Role)
	}
	return n.Queue(ctx, ledger.CmdMember, &ledger.Member{Node: node, Voter: voter, Remove: remove, Addr: addr})
}

// PublishKit asks the ledger to publish a kit file to every relay and HQ.
// The file is checked first: it must be a compatible successor of the kit
// of its name here (fieldkits.Catalogue.ParseUpdate), of a version after
// the one the ledger holds, and fit with the kits already here.
func (n *Node) PublishKit(ctx context.Context, name string, data []byte) (*schemas.Kit, error) {
	if !n.Self().Role.Decides() {
		return nil, fmt.Errorf("only headquarters publishes kits; %s is a %s node", n.Self().Name, n.Self().Role)
	}
	k, err := n.Kits().ParseUpdate(name, data)
	if err != nil {
		return nil, err
	}
	published, err := n.store.PublishedKits(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range published {
		if p.Name == k.Name && schemas.CompareVersions(k.Version, p.Version) <= 0 {
			return nil, fmt.Errorf("%w: %s: kit %s %s: the ledger holds version %s already; raise the version", fieldkits.ErrNotNewer, name, k.Name, k.Version, p.Version)
		}
	}
	if _, err := n.Kits().With([]*schemas.Kit{k}); err != nil {
		return nil, err
	}
	entry, err := n.entry(ledger.CmdKit, &ledger.Kit{Name: k.Name, Version: k.Version, Body: data})
	if err != nil {
		return nil, err
	}
	if err := n.fitsAHello(ctx, name, k, entry); err != nil {
		return nil, err
	}
	return k, n.store.AddOutbox(ctx, ledger.CommandType(entry[0]), entry[1:])
}

// ErrKitTooLarge means a kit, signed, would not fit in a sync hello beside
// the kits published already: it would reach the ledger's members and never
// a laptop.
var ErrKitTooLarge = errors.New("too large to reach the laptops")

// fitsAHello checks that the kit's signed decision, entry, goes in a sync
// hello with those of the other kits this node passes on: hellos carry
// kits within bounds (syncproto.FitKits), and leave out one past them.
func (n *Node) fitsAHello(ctx context.Context, name string, k *schemas.Kit, entry []byte) error {
	held, signed, err := n.store.NoticedKits(ctx)
	if err != nil {
		return err
	}
	// The kits a hello will carry: those published, each replaced by
	// the one queued after it, and those queued here that the ledger has
	// not applied yet, the newest of each name; this kit in place of its
	// own name's.
	byName := map[string][]byte{}
	for i, h := range held {
		byName[h.Name] = signed[i]
	}
	queued, err := n.store.PendingOutbox(ctx)
	if err != nil {
		return err
	}
	for _, q := range queued {
		e := q.Entry()
		_, cmd, err := ledger.Decode(e)
		d, ok := cmd.(*ledger.Decision)
		if err != nil || !ok {
			continue
		}
		if kit, ok := d.Cmd.(*ledger.Kit); ok {
			byName[kit.Name] = e
		}
	}
	byName[k.Name] = entry
	list := [][]byte{entry}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if name != k.Name {
			list = append(list, byName[name])
		}
	}
	switch {
	case len(entry) > syncproto.MaxKitNoticeBytes:
		return fmt.Errorf("%s: kit %s %s: %w: signed, it is %d KiB, and a sync hello carries at most %d KiB of one kit; make the file smaller (fewer choices, shorter labels and comments)",
			name, k.Name, k.Version, ErrKitTooLarge, len(entry)>>10, syncproto.MaxKitNoticeBytes>>10)
	case len(syncproto.FitKits(list)) < len(list):
		return fmt.Errorf("%s: kit %s %s: %w: with the %d other kits published or queued, a sync hello would carry over %d KiB or %d kits, its bound; make the kits smaller",
			name, k.Name, k.Version, ErrKitTooLarge, len(list)-1, syncproto.MaxKitListBytes>>10, syncproto.MaxKits)
	}
	return nil
}

// Queue puts a ledger command in the outbox, for the running node of this
// data folder to propose. Headquarters' decisions (ledger.IsDecision) are
// signed here, with this HQ node's key: every member checks the signature
// when it applies them.
func (n *Node) Queue(ctx context.Context, t ledger.CommandType, cmd any) error {
	entry, err := n.entry(t, cmd)
	if err != nil {
		return err
	}
	return n.store.AddOutbox(ctx, ledger.CommandType(entry[0]), entry[1:])
}

// entry is the ledger entry of a command, signed if it is a decision.
func (n *Node) entry(t ledger.CommandType, cmd any) ([]byte, error) {
	if !ledger.IsDecision(t) {
		return ledger.Encode(t, cmd)
	}
	creds := n.Credentials()
	if creds == nil || !n.Self().Role.Decides() {
		return nil, fmt.Errorf("only an enrolled headquarters node decides a %s; %s is a %s node", t, n.Self().Name, n.Self().Role)
	}
	return ledger.Sign(t, cmd, n.signTime(), creds.Cert.Raw, n.key.Signer())
}

// enrollSelf makes sure the HQ node that starts a ledger is one of its
// members by its own decision, as every other member is by headquarters':
// the leader keeps only the members the ledger names.
func (n *Node) enrollSelf(ctx context.Context) error {
	if !n.cfg.Bootstrap || !n.Self().Role.Decides() {
		return nil
	}
	members, err := n.store.LedgerMembers(ctx)
	if err != nil {
		return err
	}
	if _, ok := members[n.Self().ID]; ok {
		return nil
	}
	// Enrolling twice (ca init queued one) changes nothing.
	return n.Queue(ctx, ledger.CmdEnroll, &ledger.Enroll{Cert: n.Credentials().Cert.Raw})
}

// now is this node's clock (ClockOffset included).
func (n *Node) now() time.Time { return time.Now().Add(n.cfg.ClockOffset) }

// signTime is the time a decision is signed at: this node's clock, but
// always at least a millisecond after the last decision this process
// signed. A decision is its signed bytes, which the ledger considers once
// (ledger.Decision.Digest): two alike in the same millisecond (linked,
// different, linked again, from a quick hand) would otherwise be one.
func (n *Node) signTime() time.Time {
	for {
		last := n.signed.Load()
		at := n.now().UnixMilli()
		if at <= last {
			at = last + 1
		}
		if n.signed.CompareAndSwap(last, at) {
			return time.UnixMilli(at)
		}
	}
}

// revokedCheck refuses peers the ledger (or a notice) revoked.
func (n *Node) revokedCheck(node syncproto.NodeID) error {
	revoked, err := n.store.Revoked(context.Background(), node)
	if err != nil {
		return err
	}
	if revoked {
		return errors.New("headquarters revoked its certificate")
	}
	return nil
}

// supersededCheck refuses a peer's certificate when this node holds a newer
// one of its key that supersedes it (identity.Supersedes): a responder who
// moved to another district presents the certificate of the one it is in
// now.
func (n *Node) supersededCheck(c identity.Claims, cert *x509.Certificate) error {
	held, found, err := n.store.Node(context.Background(), c.Node)
	if err != nil || !found || !held.NotAfter.After(cert.NotAfter) {
		return err // the certificate held, or one ending no later, supersedes nothing
	}
	if newer, err := x509.ParseCertificate(held.Cert); err != nil || !identity.Supersedes(newer, cert) {
		return nil
	}
	return fmt.Errorf("headquarters signed it a newer one, of %s, %s, until %s: install that one (lifeline enroll install)",
		held.Role, held.District, held.NotAfter.Format(time.DateOnly))
}

// LedgerEntry is one range of changes in the canonical ledger, as people
// and scripts read it.
type LedgerEntry struct {
	Position uint64 `json:"position"` // from 1, in commit order
	Entry    uint64 `json:"entry"`    // the Raft index that committed it
	Node     string `json:"node"`     // the origin's id
	Name     string `json:"name,omitempty"`
	Lane     uint8  `json:"lane"`
	First    uint64 `json:"first"`
	Last     uint64 `json:"last"`
	Head     string `json:"head"` // the origin's chain head at Last, hex
}

// LedgerLog lists what the ledger committed, in commit order, from after
// position, at most limit ranges (all when 0). It is empty on field nodes.
func (n *Node) LedgerLog(ctx context.Context, after uint64, limit int) ([]LedgerEntry, error) {
	log, err := n.store.LedgerLog(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	known, err := n.store.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	names := map[syncproto.NodeID]string{}
	for _, k := range known {
		names[k.Node] = k.Name
	}
	out := make([]LedgerEntry, 0, len(log))
	for _, e := range log {
		out = append(out, LedgerEntry{Position: e.Position, Entry: e.Entry, Node: e.Stream.Origin.String(), Name: names[e.Stream.Origin],
			Lane: e.Stream.Lane, First: e.First, Last: e.Last, Head: hex.EncodeToString(e.Head[:])})
	}
	return out, nil
}
