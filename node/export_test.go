package node

import (
	"context"

	"lifeline/node/ledgerplane"
)

// Forward lets tests send a ledger entry to the leader as a member would.
func Forward(n *Node, ctx context.Context, leader string, entry []byte) error {
	return ledgerplane.Forward(ctx, n.dialer(), leader, entry)
}
