package node

import "context"

// Forward lets tests send a ledger entry to the leader as a member would.
func Forward(n *Node, ctx context.Context, leader string, entry []byte) error {
	return n.forward(ctx, leader, entry)
}
