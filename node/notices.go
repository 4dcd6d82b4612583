package node

import (
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

// Notices travel by gossip, signed, for nodes that are not in the ledger:
// revocations, and the steps of a gossip key rotation. ONLY APPEND.
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

func noticeMessage(kind uint8, body []byte) []byte {
	return append([]byte("lifeline/notice/v1"), append([]byte{kind}, body...)...)
}

// broadcast signs and spreads a notice.
func (d *Daemon) broadcast(kind uint8, body []byte) error {
	creds := d.n.Credentials()
	if d.gossip == nil || creds == nil {
		return nil
	}
	nt := notice{Kind: kind, Body: body, Signer: d.n.Self().ID, Cert: creds.Cert.Raw,
		Sig: ed25519.Sign(d.n.key.Signer(), noticeMessage(kind, body))}
	b, err := syncproto.Marshal(&nt)
	if err != nil {
		return err
	}
	return d.gossip.Broadcast(b)
}

// onNotice checks and applies a notice another member spread.
func (d *Daemon) onNotice(msg []byte) {
	if err := d.applyNotice(msg); err != nil {
		d.n.log.Warn("gossip: refused a notice", "err", err)
	}
}

func (d *Daemon) applyNotice(msg []byte) error {
	var nt notice
	if err := syncproto.Unmarshal(msg, &nt); err != nil {
		return err
	}
	node, pub, err := d.n.trust.CheckCert(nt.Cert)
	if err != nil {
		return err
	}
	if node != nt.Signer || !ed25519.Verify(pub, noticeMessage(nt.Kind, nt.Body), nt.Sig) {
		return errors.New("a notice whose signature is not its signer's")
	}
	claims, err := d.n.trust.claims(nt.Cert)
	if err != nil {
		return err
	}
	switch nt.Kind {
	case noticeRevoke:
		if claims.Role.Field() {
			return fmt.Errorf("a revocation signed by field node %s", claims.Name)
		}
		var r ledger.Revoke
		if err := syncproto.Unmarshal(nt.Body, &r); err != nil {
			return err
		}
		return d.revoked(context.Background(), r, false)
	case noticeKeyInstall, noticeKeyUse, noticeKeyRemove:
		if !claims.Role.Decides() {
			return fmt.Errorf("a gossip key notice signed by %s, not headquarters", claims)
		}
		return d.keyStep(nt.Kind, nt.Body)
	}
	return fmt.Errorf("a notice of unknown kind %d", nt.Kind)
}

// revoked is the one path a revocation takes on a running node, from the
// ledger (whose state machine recorded it) or from a notice: it is
// recorded, the node's key is forgotten so that its next change is checked
// again (and refused), and, on the ledger's leader, spread to the nodes
// outside the ledger.
func (d *Daemon) revoked(ctx context.Context, r ledger.Revoke, fromLedger bool) error {
	if !fromLedger {
		if err := d.n.store.AddRevocation(ctx, r); err != nil {
			return err
		}
	}
	d.n.trust.forget(r.Node)
	if l := d.Ledger(); fromLedger && l != nil && l.IsLeader() {
		body, err := syncproto.Marshal(&r)
		if err != nil {
			return err
		}
		if err := d.broadcast(noticeRevoke, body); err != nil {
			d.n.log.Warn("gossip: spreading a revocation", "err", err)
		}
	}
	return nil
}

// onApply reacts to ledger commands as this node applies them.
func (d *Daemon) onApply(t ledger.CommandType, cmd any) {
	switch t {
	case ledger.CmdKit:
		if err := d.n.loadKits(context.Background()); err != nil {
			d.n.log.Error("reloading kits", "err", err)
		}
	case ledger.CmdRevoke:
		if err := d.revoked(context.Background(), *cmd.(*ledger.Revoke), true); err != nil {
			d.n.log.Warn("a revocation", "err", err)
		}
	}
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
	for _, s := range []struct {
		kind uint8
		key  []byte
	}{{noticeKeyInstall, key}, {noticeKeyUse, key}} {
		if err := d.broadcast(s.kind, s.key); err != nil {
			return err
		}
		if err := d.keyStep(s.kind, s.key); err != nil {
			return err
		}
		select {
		case <-time.After(step):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, k := range old {
		if err := d.broadcast(noticeKeyRemove, k); err != nil {
			return err
		}
		if err := d.keyStep(noticeKeyRemove, k); err != nil {
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
