// Package personal seals the values of the fields a kit marks personal
// (names, phone numbers, medical needs) inside the changes that carry
// them, for the readers allowed to see them, and opens them again.
//
// A sealed value is a CBOR item like any field value: a byte string, the
// envelope, which no plain value of any field type is. The envelope holds the value, padded and
// encrypted with XChaCha20-Poly1305 under a content key made for it
// alone, and that content key encrypted under each data key it is for.
// A data key belongs to a district (or to headquarters alone) and an
// epoch: headquarters makes one for each district, hands it to the
// district's nodes and its own wrapped with age for each of them (a
// Grant), and makes a new epoch's when it revokes one of them, so that
// what is written afterwards is closed to the revoked node.
//
// The envelope's authenticated data binds the value to its record and
// field: a sealed value copied into another record or field does not
// open there. Merging, digests, chains and signatures never read a value,
// so a node that holds no key stores, merges and forwards what it cannot
// read.
package personal
