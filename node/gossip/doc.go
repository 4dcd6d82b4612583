// Package gossip lets Lifeline nodes find each other on whatever network
// exists (a shelter LAN, a district office, a satellite link) and tell each
// other what they are, with hashicorp/memberlist.
//
// Gossip finds peers; it never vouches for them. What a member says about
// itself (its Meta: node id, name, role, district, sync address, ledger
// height, a digest of its version vector) is a hint for choosing whom to
// sync with and when. The node believes a peer only after the mutually
// authenticated TLS handshake of a sync session, and verifies the signature
// of every broadcast message itself: this package passes those bytes on
// untouched.
//
// # Encryption
//
// Gossip is always encrypted and authenticated (AES-GCM, memberlist's
// keyring) with the deployment's gossip keys, kept beside the node's other
// secrets (a KeyStore: a node keeps them encrypted with its own key; the
// clear key file is WriteKeyFile, ReadKeyFile). A machine without the
// key cannot join or read the member list, which on a shared shelter
// network would otherwise list every responder's laptop to anyone.
//
// Keys are rotated without a restart in three steps, each spread to every
// member before the next begins: InstallKey (every member can now read the
// new key), UseKey (members write with it), RemoveKey (the old key stops
// working). Each step also rewrites the stored keys, so a restarted member
// comes back with the keys it had.
//
// # Networks
//
// A Profile sets memberlist's timers. Lossy satellite and radio links need
// long timeouts, or members that are merely slow are declared dead and flap
// in and out of the list: use Satellite there, WAN between offices, LAN on
// one network.
//
// # Members and events
//
// Members and the Events a node receives reflect memberlist's view, with
// each member's metadata decoded and checked. A member whose metadata does
// not decode (garbage, an unknown role, a newer major version) is logged and
// left out; it cannot crash or confuse the node. memberlist reports a member
// that stopped answering and one that said goodbye alike, so Leave first
// spreads metadata marked Leaving: others then report it as "left" rather
// than "dead".
//
// # Broadcasts
//
// Broadcast spreads a short message (MaxMessage bytes) to every member, by
// gossip: each member delivers it once and relays it a few times. Gossip
// over UDP loses a message for a member whose link was down for that second,
// so the periodic push-pull between members (TCP) also carries the latest
// messages, and such a member catches up. The bytes are passed on as they
// came: the node checks their signature.
package gossip
