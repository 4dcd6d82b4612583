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
)

type notice struct {
	Kind   uint8            `cbor:"1,keyasint"`
	Body   []byte           `cbor:"2,keyasint"`
	Signer syncproto.NodeID `cbor:"3,keyasint"`
	Cert   []byte           `cbor:"4,keyasint"`
	Sig    []byte           `cbor:"5,keyasint"`
}

// revocationNotice is the body of a noticeRevoke: the revocation the
// ledger applied, and where.
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

// broadcast signs and spreads a notice.
func (d *Daemon) broadcast(kind uint8, body any) error {
	creds := d.n.Credentials()
	if d.gossip == nil || creds == nil {
		return nil
	}
	b, err := syncproto.Marshal(body)
	if err != nil {
		return err
	}
	nt := notice{Kind: kind, Body: b, Signer: d.n.Self().ID, Cert: creds.Cert.Raw,
		Sig: ed25519.Sign(d.n.key.Signer(), noticeMessage(kind, b))}
	msg, err := syncproto.Marshal(&nt)
	if err != nil {
		return err
	}
	return d.gossip.Broadcast(msg)
}

// onNotice checks and applies a notice another member spread.
func (d *Daemon) onNotice(msg []byte) {
	if err := d.applyNotice(msg); err != nil {
		d.n.log.Warn("gossip: refused a notice", "err", err)
	}
}

// errNotice is wrapped by every refusal of a notice.
var errNotice = errors.New("a notice not from headquarters")

func (d *Daemon) applyNotice(msg []byte) error {
	var nt notice
	if err := syncproto.Unmarshal(msg, &nt); err != nil {
		return err
	}
	claims, err := d.n.trust.claims(nt.Cert)
	if err != nil {
		return err
	}
	pub, err := d.n.trust.key(context.Background(), claims.Node)
	if err != nil {
		return err
	}
	switch {
	case claims.Node != nt.Signer || !ed25519.Verify(pub, noticeMessage(nt.Kind, nt.Body), nt.Sig):
		return fmt.Errorf("%w: its signature is not its signer's", errNotice)
	case !claims.Role.Decides():
		return fmt.Errorf("%w: signed by %s", errNotice, claims)
	}
	if revoked, err := d.n.store.Revoked(context.Background(), claims.Node); err != nil || revoked {
		return cmp.Or(err, fmt.Errorf("%w: signed by %s, which headquarters revoked", errNotice, claims))
	}
	switch nt.Kind {
	case noticeRevoke:
		var rn revocationNotice
		if err := syncproto.Unmarshal(nt.Body, &rn); err != nil {
			return err
		}
		if rn.Revoke.Node.IsZero() {
			return fmt.Errorf("%w: a revocation of no node", errNotice)
		}
		return d.revoked(context.Background(), rn.Revoke, nil)
	case noticeKeyInstall, noticeKeyUse, noticeKeyRemove:
		var kn keyNotice
		if err := syncproto.Unmarshal(nt.Body, &kn); err != nil {
			return err
		}
		return d.keyNotice(nt.Kind, kn)
	}
	return fmt.Errorf("a notice of unknown kind %d", nt.Kind)
}

// revoked is the one path a revocation takes on a running node, from the
// ledger (whose state machine recorded it) or from a notice: it is
// recorded, the node's key is forgotten so that its next change is checked
// again (and refused), its connections here are closed, and, on an HQ
// node, it is spread to the nodes outside the ledger.
func (d *Daemon) revoked(ctx context.Context, r ledger.Revoke, from *ledger.Applied) error {
	if from == nil {
		if err := d.n.store.AddRevocation(ctx, r, nil, syncproto.NodeID{}); err != nil {
			return err
		}
	}
	d.n.trust.forget(r.Node)
	if d.port != nil {
		d.port.Drop(r.Node)
	}
	if from != nil && d.n.Self().Role.Decides() {
		if err := d.broadcast(noticeRevoke, &revocationNotice{Revoke: r, Index: from.Entry.Index}); err != nil {
			d.n.log.Warn("gossip: spreading a revocation", "err", err)
		}
	}
	return nil
}

// onApply reacts to ledger commands as this node applies them.
func (d *Daemon) onApply(a ledger.Applied) {
	switch a.Type {
	case ledger.CmdKit:
		if err := d.n.loadKits(context.Background()); err != nil {
			d.n.log.Error("reloading kits", "err", err)
		}
		d.n.readmit(context.Background())
	case ledger.CmdRevoke:
		if err := d.revoked(context.Background(), *a.Cmd.(*ledger.Revoke), &a); err != nil {
			d.n.log.Warn("a revocation", "err", err)
		}
	}
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
