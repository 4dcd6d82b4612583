// Package identity holds a node's key pair and what it signs with it.
//
// A node makes its Ed25519 key pair once, on the node itself, when it is
// initialised; the private key never leaves the node's data folder. The node
// id is derived from the public key, so a change's origin is bound to the key
// that signs its chain.
package identity
