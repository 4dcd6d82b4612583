package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lifeline/fieldkits"
	"lifeline/node/ledger"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Kits reach every node: a kit headquarters publishes is a decision an HQ
// node signs (ledger.Sign), which the ledger's members apply; each node
// also keeps the signed decision of the newest version of each kit
// (kit_notices) and passes it on in every session's hello and every
// bundle, ahead of the records that may need it. A node outside the
// ledger checks each one as a member would: HQ's signature, by an HQ node
// it does not know revoked; a version after the one it holds; a file that
// is a compatible successor of the kit built in (fieldkits.ParseUpdate).

// kitOf reads the kit a signed decision publishes, once its signature
// checks.
func (n *Node) kitOf(ctx context.Context, entry []byte) (*ledger.Kit, error) {
	creds := n.Credentials()
	if creds == nil {
		return nil, ErrNotEnrolled
	}
	t, cmd, err := ledger.Decode(entry)
	if err != nil {
		return nil, err
	}
	d, ok := cmd.(*ledger.Decision)
	if t != ledger.CmdSigned || !ok || d.Type != ledger.CmdKit {
		return nil, fmt.Errorf("%w: a %s, not a published kit", errNotice, t)
	}
	if _, err := d.Verify(creds.CA, func(id syncproto.NodeID) (bool, error) { return n.store.Revoked(ctx, id) }, time.Time{}); err != nil {
		return nil, err
	}
	k, ok := d.Cmd.(*ledger.Kit)
	if !ok {
		return nil, fmt.Errorf("%w: a kit decision without a kit", errNotice)
	}
	return k, nil
}

// addKits takes the kits a peer or a bundle passed on that are newer than
// this node's, and reloads its kits if any was. It returns how many it
// took; one that does not check is logged and skipped, up to
// maxBadNotices of them.
func (n *Node) addKits(ctx context.Context, list [][]byte) (int, error) {
	taken, bad := 0, 0
	for _, entry := range list {
		if bad >= maxBadNotices {
			n.log.Warn("sync: a kit list with too many kits that do not check: the rest is left")
			break
		}
		k, err := n.kitOf(ctx, entry)
		if err != nil {
			bad++
			n.log.Warn("sync: refused a published kit", "err", err)
			continue
		}
		if held, ok := n.Kits().Kit(k.Name); ok && schemas.CompareVersions(k.Version, held.Version) <= 0 {
			continue // this node has it, or a later one
		}
		parsed, err := n.embedded.ParseUpdate(k.Name+".yaml (published "+k.Version+")", k.Body)
		if err != nil && !errors.Is(err, fieldkits.ErrNotNewer) {
			bad++
			n.log.Warn("sync: refused a published kit: it does not load, or is no compatible successor of the kit built in", "kit", k.Name, "version", k.Version, "err", err)
			continue
		}
		if err == nil && (parsed.Name != k.Name || parsed.Version != k.Version) {
			bad++
			n.log.Warn("sync: refused a published kit: its file is not the kit its decision names", "kit", k.Name, "version", k.Version)
			continue
		}
		kept, err := n.store.PutKitNotice(ctx, *k, entry)
		if err != nil {
			return taken, err
		}
		if kept {
			taken++
			n.log.Info("sync: a kit headquarters published came", "kit", k.Name, "version", k.Version)
		}
	}
	if taken > 0 {
		if err := n.loadKits(ctx); err != nil {
			return taken, err
		}
		n.readmit(ctx)
	}
	return taken, nil
}

// AddKits is the sessions' and bundles' way to the node's kits.
func (t *trust) AddKits(ctx context.Context, list [][]byte) (int, error) {
	fn := t.kits.Load()
	if fn == nil {
		return 0, nil
	}
	return (*fn)(ctx, list)
}

// keepKitNotice keeps the signed decision of a kit the ledger applied, to
// pass on.
func (n *Node) keepKitNotice(ctx context.Context, k *ledger.Kit, entry []byte) {
	if _, err := n.store.PutKitNotice(ctx, *k, entry); err != nil {
		n.log.Error("keeping a published kit to pass on", "kit", k.Name, "err", err)
	}
}
