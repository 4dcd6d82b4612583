// Package netlab builds a network of Linux network namespaces on this
// machine, for tests and the hurricane drill to run real processes on
// links they can cut and thin.
//
// One "switch" namespace holds a bridge per site and the uplinks between
// sites (veth pairs, rate-limited with tbf); each host has a namespace of
// its own, plugged into its site's bridge by a veth pair, its end called
// eth0. Nothing of it touches the machine's own network. Every link,
// queue and nftables rule lives inside one of the lab's namespaces, so
// Close, which deletes them all, removes everything the lab made, however
// far its building got.
//
// It needs root and the ip command (iproute2); uplinks and thin links
// need tc, lossy links nft (nftables).
package netlab
