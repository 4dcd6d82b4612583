// Package ledgerplane is a relay's or headquarters' part in the ledger
// while the node runs: its hashicorp/raft member, carried over the node's
// port (the Ledger channel), running package ledger's state machine over
// the node's store; and the loop that proposes what reaches the node (the
// changes the ledger has not committed, the commands the command line
// queued), itself when it leads and through the leader (the Propose
// channel) otherwise.
//
// The plane's Start and Stop are called by node.Run; its doors (ServeRaft,
// ServeProposal) are registered on the node's port there, with who may
// open them.
package ledgerplane
