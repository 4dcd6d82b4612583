package node

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"lifeline/node/gossip"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// Notices travel by gossip, signed by an HQ node, for the nodes that are
// not in the ledger: revocations, and the steps of a gossip key rotation.
// Each says when it belongs: a revocation carries the ledger entry that
// decided it, a key step the rotation it is part of; a notice replayed
// later, or an older one, changes nothing. ONLY APPEND.
const (
	noticeRevoke     uint8 = 1
	noticeKeyInstall uint8 = 2
	noticeKeyUse     uint8 = 3
	noticeKeyRemove  uint8 = 4
	// noticeDataKeys is a grant of data keys (personal.go); it travels in
	// hellos and bundles, not by gossip.
	noticeDataKeys uint8 = 5
	// noticePersonRevoked is headquarters' revocation of a person on a
	// node (people.go), which travels with the revocations of nodes.
	noticePersonRevoked uint8 = 6
)

type notice struct {
	Kind   uint8            `cbor:"1,keyasint"`
	Body   []byte           `cbor:"2,keyasint"`
	Signer syncproto.NodeID `cbor:"3,keyasint"`
	Cert   []byte           `cbor:"4,keyasint"`
	Sig    []byte           `cbor:"5,keyasint"`
}

// revocationNotice is the body of a noticeRevoke: the revocation the
// ledger applied, and where (0 when it was signed later: a revocation kept
// before notices were, or one whose first notice's signer was revoked).
type revocationNotice struct {
	Revoke ledger.Revoke `cbor:"1,keyasint"`
	Index  uint64        `cbor:"2,keyasint"`
}

// keyNotice is the body of a key step: the rotation it belongs to (when it
// started, by HQ's clock) and the key.
type keyNotice struct {
	Epoch int64  `cbor:"1,keyasint"`
	Key   []byte `cbor:"2,keyasint"`
}

func noticeMessage(kind uint8, body []byte) []byte {
	return append([]byte("lifeline/notice/v1"), append([]byte{kind}, body...)...)
}

// signNotice makes a notice signed by this node.
func (n *Node) signNotice(kind uint8, body any) ([]byte, error) {
	creds := n.Credentials()
	if creds == nil {
		return nil, fmt.Errorf("%w: a notice is signed with the node's certificate", ErrNotEnrolled)
	}
	b, err := syncproto.Marshal(body)
	if err != nil {
		return nil, err
	}
	nt := notice{Kind: kind, Body: b, Signer: n.Self().ID, Cert: creds.Cert.Raw,
		Sig: ed25519.Sign(n.key.Signer(), noticeMessage(kind, b))}
	return syncproto.Marshal(&nt)
}

// broadcast signs and spreads a notice.
func (d *Daemon) broadcast(kind uint8, body any) error {
	if d.gossip == nil || d.n.Credentials() == nil {
		return nil
	}
	msg, err := d.n.signNotice(kind, body)
	if err != nil {
		return err
	}
	return d.gossip.Broadcast(msg)
}

// errNotice is wrapped by every refusal of a notice.
var errNotice = errors.New("a notice not from headquarters")

// applyNotice checks and applies a notice another member spread; gossip
// logs why it refused one.
func (d *Daemon) applyNotice(msg []byte) error {
	var nt notice
	if err := syncproto.Unmarshal(msg, &nt); err != nil {
		return err
	}
	if err := d.n.trust.checkNotice(context.Background(), &nt); err != nil {
		return err
	}
	switch nt.Kind {
	case noticeRevoke:
		r, err := revocationOf(&nt)
		if err != nil {
			return err
		}
		_, err = d.n.trust.learnRevocation(context.Background(), r, msg, nt.Signer)
		return err
	case noticePersonRevoked:
		return d.n.learnPersonRevocation(context.Background(), &nt, msg)
	case noticeKeyInstall, noticeKeyUse, noticeKeyRemove:
		var kn keyNotice
		if err := syncproto.Unmarshal(nt.Body, &kn); err != nil {
			return err
		}
		return d.keyNotice(nt.Kind, kn)
	}
	return fmt.Errorf("a notice of unknown kind %d", nt.Kind)
}

// checkNotice checks who signed a notice, as every node does whatever
// brought it (gossip, a session's hello, a bundle): a certificate of this
// deployment's CA, whose node signed the notice, whose role decides, and
// that headquarters has not revoked as far as this node knows.
func (t *trust) checkNotice(ctx context.Context, nt *notice) error {
	claims, err := t.claims(nt.Cert)
	if err != nil {
		return err
	}
	pub, err := t.key(ctx, claims.Node)
	if err != nil {
		return err
	}
	switch {
	case claims.Node != nt.Signer || !ed25519.Verify(pub, noticeMessage(nt.Kind, nt.Body), nt.Sig):
		return fmt.Errorf("%w: its signature is not its signer's", errNotice)
	case !claims.Role.Decides():
		return fmt.Errorf("%w: signed by %s", errNotice, claims)
	}
	if revoked, err := t.store.Revoked(ctx, claims.Node); err != nil || revoked {
		return cmp.Or(err, fmt.Errorf("%w: signed by %s, which headquarters revoked", errNotice, claims))
	}
	return nil
}

// revocationOf reads the revocation a notice carries: a revocation of a
// node.
func revocationOf(nt *notice) (ledger.Revoke, error) {
	if nt.Kind != noticeRevoke {
		return ledger.Revoke{}, fmt.Errorf("a notice of kind %d, not a revocation", nt.Kind)
	}
	var rn revocationNotice
	if err := syncproto.Unmarshal(nt.Body, &rn); err != nil {
		return ledger.Revoke{}, err
	}
	if rn.Revoke.Node.IsZero() {
		return ledger.Revoke{}, fmt.Errorf("%w: a revocation of no node", errNotice)
	}
	return rn.Revoke, nil
}

// learnRevocation is the one path a revocation a checked notice brought
// takes, whatever brought it: it is recorded with the notice, which this
// node then passes on; the node's key is forgotten so that its next change
// is checked again (and refused); a running node closes its connections.
// It reports whether the node was not known revoked here before.
func (t *trust) learnRevocation(ctx context.Context, r ledger.Revoke, msg []byte, signer syncproto.NodeID) (bool, error) {
	known, err := t.store.Revoked(ctx, r.Node)
	if err != nil {
		return false, err
	}
	if err := t.store.AddRevocation(ctx, r, msg, signer); err != nil {
		return false, err
	}
	t.forget(r.Node)
	if drop := t.dropper.Load(); drop != nil {
		(*drop)(r.Node)
	}
	return !known, nil
}

// maxBadNotices bounds the notices of one list (a hello's, a bundle's)
// that fail their checks: past it, the rest is left unchecked. A list of
// forgeries costs a few checks, not a thousand; an honest peer passes on
// only notices whose signer it does not know revoked.
const maxBadNotices = 8

// AddRevocations checks and applies the revocation notices a peer passed
// on. Notices of revocations this node passes on already are skipped
// unchecked. A notice whose signer the list itself revokes is checked
// after that revocation: in whatever order they come, a revoked HQ node's
// notices convince no one who learns of its revocation.
func (t *trust) AddRevocations(ctx context.Context, list [][]byte) ([]syncproto.NodeID, error) {
	if len(list) == 0 {
		return nil, nil
	}
	known, err := t.store.NoticedRevocations(ctx)
	if err != nil {
		return nil, err
	}
	type entry struct {
		msg []byte
		nt  notice
		r   ledger.Revoke
	}
	var entries []entry
	revokes := map[syncproto.NodeID]bool{}
	bad := 0
	refuse := func(err error) {
		bad++
		t.log.Warn("refused a revocation notice a peer passed on", "err", err)
	}
	for _, msg := range list {
		if bad >= maxBadNotices {
			break
		}
		var e entry
		if err := syncproto.Unmarshal(msg, &e.nt); err != nil {
			refuse(err)
			continue
		}
		if e.nt.Kind == noticePersonRevoked {
			if fn := t.people.Load(); fn != nil {
				if err := (*fn)(ctx, &e.nt, msg); err != nil {
					refuse(err)
				}
			}
			continue
		}
		if e.r, err = revocationOf(&e.nt); err != nil {
			refuse(err)
			continue
		}
		if !known[e.r.Node] {
			e.msg = msg
			entries = append(entries, e)
			revokes[e.r.Node] = true
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Compare(b2i(revokes[a.nt.Signer]), b2i(revokes[b.nt.Signer]))
	})
	var learnt []syncproto.NodeID
	for i, e := range entries {
		if bad >= maxBadNotices {
			t.log.Warn("left a peer's revocation notices unchecked after too many that did not check", "unchecked", len(entries)-i)
			break
		}
		if known[e.r.Node] {
			continue // the list holds two notices of it
		}
		if err := t.checkNotice(ctx, &e.nt); err != nil {
			refuse(err)
			continue
		}
		newly, err := t.learnRevocation(ctx, e.r, e.msg, e.nt.Signer)
		if err != nil {
			return learnt, err
		}
		known[e.r.Node] = true
		if newly {
			learnt = append(learnt, e.r.Node)
		}
	}
	if len(learnt) > 0 {
		t.log.Info("learnt revocations from a peer", "nodes", len(learnt))
	}
	return learnt, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// onApply reacts to ledger commands as this node applies them.
func (d *Daemon) onApply(a ledger.Applied) {
	switch a.Type {
	case ledger.CmdKit:
		d.n.keepKitNotice(context.Background(), a.Cmd.(*ledger.Kit), a.Entry.Data)
		if err := d.n.loadKits(context.Background()); err != nil {
			d.n.log.Error("reloading kits", "err", err)
		}
		d.n.readmit(context.Background())
	case ledger.CmdRevoke:
		d.ledgerRevoked(context.Background(), a.Cmd.(*ledger.Revoke).Node, a.Entry.Index)
	case ledger.CmdReview:
		d.n.applyReview(context.Background(), a.Cmd.(*ledger.Review))
	}
}

// ledgerRevoked follows a revocation the ledger applied: the node's key
// is forgotten so that its next change is checked again (and refused), its
// connections here are closed, and an HQ node signs the revocation as a
// notice, keeps it to pass on in every hello and bundle, and spreads it by
// gossip, for the nodes outside the ledger.
func (d *Daemon) ledgerRevoked(ctx context.Context, node syncproto.NodeID, index uint64) {
	d.n.trust.forget(node)
	if d.port != nil {
		d.port.Drop(node)
	}
	spread := func(msg []byte) {
		if d.gossip == nil {
			return
		}
		if err := d.gossip.Broadcast(msg); err != nil {
			d.n.log.Warn("gossip: spreading a revocation", "err", err)
		}
	}
	if err := d.n.signRevocations(ctx, node, index, spread); err != nil {
		d.n.log.Warn("signing a revocation", "err", err)
	}
}

// signRevocations signs, on an HQ node that headquarters has not revoked,
// each revocation of the ledger this node holds no notice of to pass on:
// the one the ledger applied just now (node, at index), those kept before
// notices were, those whose notice's signer was revoked since. It keeps
// each notice and hands it to spread, if set.
func (n *Node) signRevocations(ctx context.Context, node syncproto.NodeID, index uint64, spread func([]byte)) error {
	self := n.Self()
	if !self.Role.Decides() || !n.Enrolled() {
		return nil
	}
	if revoked, err := n.store.Revoked(ctx, self.ID); err != nil || revoked {
		return err
	}
	list, err := n.store.UnnoticedRevocations(ctx)
	if err != nil {
		return err
	}
	for _, r := range list {
		rn := revocationNotice{Revoke: r}
		if r.Node == node {
			rn.Index = index
		}
		msg, err := n.signNotice(noticeRevoke, &rn)
		if err != nil {
			return err
		}
		if err := n.store.AddRevocation(ctx, r, msg, self.ID); err != nil {
			return err
		}
		if spread != nil {
			spread(msg)
		}
	}
	return nil
}

// stateKeyStep is the node_state key of the last key step applied here:
// "<epoch> <kind>".
const stateKeyStep = "gossip-key-step"

// keyNotice applies a key step unless it is older than the last one
// applied here (a replay): steps go in order within a rotation, and
// rotations in order of their start; every old key of a rotation is
// removed by a step of its own.
func (d *Daemon) keyNotice(kind uint8, kn keyNotice) error {
	ctx := context.Background()
	v, _, err := d.n.store.State(ctx, stateKeyStep)
	if err != nil {
		return err
	}
	var epoch int64
	var last uint8
	fmt.Sscan(v, &epoch, &last)
	newer := kn.Epoch > epoch || kn.Epoch == epoch && (kind > last || kind == noticeKeyRemove && last == noticeKeyRemove)
	if !newer {
		return nil
	}
	if err := d.keyStep(kind, kn.Key); err != nil {
		return err
	}
	return d.n.store.SetState(ctx, stateKeyStep, fmt.Sprintf("%d %d", kn.Epoch, kind))
}

// keyStep applies one step of a key rotation here.
func (d *Daemon) keyStep(kind uint8, key []byte) error {
	g := d.gossip
	has := false
	for _, k := range g.Keys() {
		has = has || string(k) == string(key)
	}
	switch kind {
	case noticeKeyInstall:
		if has {
			return nil
		}
		return g.InstallKey(key)
	case noticeKeyUse:
		if !has {
			if err := g.InstallKey(key); err != nil {
				return err
			}
		}
		return g.UseKey(key)
	default:
		if !has || string(g.Keys()[0]) == string(key) {
			return nil
		}
		return g.RemoveKey(key)
	}
}

// RotateGossipKey replaces the deployment's gossip key without a restart,
// from headquarters: every member installs the new key, then uses it, then
// drops the old one, each step spread by gossip and given time to reach
// everyone (step). The CA folder's copy, which enrollments hand out, follows.
func (d *Daemon) RotateGossipKey(ctx context.Context, key []byte, step time.Duration) error {
	if !d.n.Self().Role.Decides() || d.gossip == nil {
		return errors.New("gossip keys are rotated by a running HQ node")
	}
	old := d.gossip.Keys()
	epoch := d.n.now().UnixMilli()
	spread := func(kind uint8, key []byte) error {
		kn := keyNotice{Epoch: epoch, Key: key}
		if err := d.broadcast(kind, &kn); err != nil {
			return err
		}
		return d.keyNotice(kind, kn)
	}
	for _, kind := range []uint8{noticeKeyInstall, noticeKeyUse} {
		if err := spread(kind, key); err != nil {
			return err
		}
		select {
		case <-time.After(step):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, k := range old {
		if err := spread(noticeKeyRemove, k); err != nil {
			return err
		}
	}
	if caKeys := filepath.Join(d.n.cfg.DataDir, CADir, gossip.KeyFile); fileExists(caKeys) {
		return gossip.WriteKeyFile(caKeys, [][]byte{key})
	}
	return nil
}

// stateRotate is the node_state key through which the command line asks
// the running HQ node to rotate the gossip key.
const stateRotate = "gossip-rotate"

// RequestKeyRotation asks the running HQ node of this data folder to
// rotate the gossip key to a new one.
func (n *Node) RequestKeyRotation(ctx context.Context, step time.Duration) error {
	if !n.Self().Role.Decides() {
		return fmt.Errorf("only headquarters rotates the gossip key; %s is a %s node", n.Self().Name, n.Self().Role)
	}
	key, err := gossip.NewKey()
	if err != nil {
		return err
	}
	return n.store.SetState(ctx, stateRotate, base64.StdEncoding.EncodeToString(key)+" "+step.String())
}

// checkRotation starts a rotation the command line asked for.
func (d *Daemon) checkRotation(ctx context.Context) {
	v, _, err := d.n.store.State(ctx, stateRotate)
	if err != nil || v == "" {
		return
	}
	d.n.store.SetState(ctx, stateRotate, "")
	var enc, stepText string
	fmt.Sscan(v, &enc, &stepText)
	key, err := base64.StdEncoding.DecodeString(enc)
	step, err2 := time.ParseDuration(stepText)
	if err != nil || err2 != nil {
		d.n.log.Error("gossip: a malformed key rotation request", "value", v)
		return
	}
	go func() {
		if err := d.RotateGossipKey(ctx, key, step); err != nil {
			d.n.log.Error("gossip: key rotation", "err", err)
		} else {
			d.n.log.Info("gossip: key rotated")
		}
	}()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
