// Package identity holds a node's key pair and what it signs with it.
//
// A node makes its Ed25519 key pair once, on the node itself, when it is
// initialised; the private key never leaves the node's data folder. The node
// id is derived from the public key, so a change's origin is bound to the key
// that signs its chain.
//
// # Enrollment
//
// Headquarters keeps a certificate authority (CA: NewCA, Save, LoadCA) in a
// CA folder: its certificate (CAFile) and its key (CAKeyFile), sealed with a
// passphrase. A node joins the deployment in three steps:
//
//  1. The node makes an enrollment request, Key.Request: a certificate signing
//     request carrying its Claims (node id, name, role, district), signed with
//     its own key.
//  2. Headquarters checks who is asking, and CA.Sign turns the request into an
//     enrollment bundle: the node's certificate, then the CA's. The certificate
//     carries the claims as a lifeline://node/<id>?name=…&role=…&district=… URI.
//  3. The node installs the bundle, Install, into its data folder beside its
//     key (node.crt, ca.crt) and loads it on start with LoadCredentials.
//
// Only public material travels in the clear (request and certificates); a
// secret that travels with them is encrypted to the node's own key
// (EncryptTo, Key.Decrypt), so a USB stick or an e-mail will do.
//
// # Secrets at rest
//
// Seal and Unseal keep a secret under a passphrase: Argon2id (DefaultKDF)
// makes a key, XChaCha20-Poly1305 seals the bytes, in a versioned PEM
// format described beside Seal. The CA's key is kept that way, so that a
// lost USB stick or a copied folder gives nobody the power to enroll; a
// node's own key may be (SaveSealed, SealKeyFile, LoadKey), so that a
// stolen laptop that is off gives nobody its key. What else a node keeps
// secret on its disk is encrypted with keys derived from its own
// (Key.Secret), and is as safe as the key file.
// EncryptTo encrypts to a node's Ed25519 key with age, through age's
// ssh-ed25519 recipient: the node needs no second key pair.
//
// # Connections
//
// Nodes talk over mutually authenticated TLS 1.3 (Credentials.ServerTLS,
// Credentials.ClientTLS). Each side presents its node certificate and checks
// the other's with VerifyPeer: signed by the deployment's CA, valid now, with
// claims bound to its key. Host names play no part: a node is known by its id,
// which PeerClaims reports once the handshake is done.
package identity
