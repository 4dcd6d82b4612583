package syncproto

import "fmt"

// Notices are signed notices headquarters made, as a hello carries them:
// each one opaque here, checked by the node that receives it (its
// signature, its signer's certificate and role), and passed on as it
// came.
type Notices [][]byte

// Bounds on the revocations one hello carries. A node sends those it
// knows, newest first, within them; a receiver refuses a hello past them.
const (
	// MaxRevocations bounds the notices of one hello: more nodes than a
	// deployment ever revokes.
	MaxRevocations = 1024
	// MaxNoticeBytes bounds one notice: an HQ node's certificate, the
	// revocation (a reason, the streams still trusted) and a signature.
	MaxNoticeBytes = 8 << 10
	// MaxRevocationBytes bounds the notices of one hello, added up.
	MaxRevocationBytes = 2 << 20
)

// UnmarshalCBOR decodes a list of notices within the bounds. The count
// comes first: a list past it is refused before its notices are read, and
// says so.
func (n *Notices) UnmarshalCBOR(data []byte) error {
	if major, count, err := (&cborReader{b: data}).head(); err == nil && major == majorArray && count > MaxRevocations {
		return fmt.Errorf("%w: a revocation list of %d notices, the limit is %d", ErrTooLarge, count, MaxRevocations)
	}
	var list [][]byte
	if err := decMode.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("%w: revocation list: %v", ErrMalformed, err)
	}
	total := 0
	for i, b := range list {
		switch {
		case len(b) == 0:
			return fmt.Errorf("%w: notice %d of the revocation list is empty", ErrMalformed, i+1)
		case len(b) > MaxNoticeBytes:
			return fmt.Errorf("%w: notice %d of the revocation list holds %d bytes, the limit is %d", ErrTooLarge, i+1, len(b), MaxNoticeBytes)
		}
		total += len(b)
	}
	if total > MaxRevocationBytes {
		return fmt.Errorf("%w: a revocation list of %d bytes, the limit is %d", ErrTooLarge, total, MaxRevocationBytes)
	}
	*n = list
	return nil
}

// FitNotices is the notices of list that one hello carries: from the first, as
// many as the bounds allow; a notice too large for any hello is left out.
func FitNotices(list [][]byte) Notices {
	var out Notices
	total := 0
	for _, b := range list {
		if len(out) == MaxRevocations {
			break
		}
		if len(b) == 0 || len(b) > MaxNoticeBytes || total+len(b) > MaxRevocationBytes {
			continue
		}
		out = append(out, b)
		total += len(b)
	}
	return out
}

// GrantNotices are signed grants of data keys, as a hello carries them:
// each opaque here, checked by the node that receives it.
type GrantNotices [][]byte

// Bounds on the grants one hello carries: one per district, each wrapped
// for every node of its district.
const (
	// MaxGrants bounds the grants of one hello: more districts than a
	// deployment has.
	MaxGrants = 64
	// MaxGrantNoticeBytes bounds one signed grant: its keys wrapped for
	// up to 4,096 nodes (node/personal's bounds), a certificate and a
	// signature.
	MaxGrantNoticeBytes = 1<<20 + 16<<10
	// MaxGrantListBytes bounds the grants of one hello, added up: with a
	// hello's revocations, kits and vectors, within a frame.
	MaxGrantListBytes = 2 << 20
)

// UnmarshalCBOR decodes a list of grants within the bounds, the count
// first.
func (n *GrantNotices) UnmarshalCBOR(data []byte) error {
	if major, count, err := (&cborReader{b: data}).head(); err == nil && major == majorArray && count > MaxGrants {
		return fmt.Errorf("%w: a list of %d grants, the limit is %d", ErrTooLarge, count, MaxGrants)
	}
	var list [][]byte
	if err := decMode.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("%w: grant list: %v", ErrMalformed, err)
	}
	total := 0
	for i, b := range list {
		switch {
		case len(b) == 0:
			return fmt.Errorf("%w: grant %d of the list is empty", ErrMalformed, i+1)
		case len(b) > MaxGrantNoticeBytes:
			return fmt.Errorf("%w: grant %d of the list holds %d bytes, the limit is %d", ErrTooLarge, i+1, len(b), MaxGrantNoticeBytes)
		}
		total += len(b)
	}
	if total > MaxGrantListBytes {
		return fmt.Errorf("%w: a grant list of %d bytes, the limit is %d", ErrTooLarge, total, MaxGrantListBytes)
	}
	*n = list
	return nil
}

// FitGrants is the grants of list that one hello carries, from the first.
func FitGrants(list [][]byte) GrantNotices {
	var out GrantNotices
	total := 0
	for _, b := range list {
		if len(out) == MaxGrants {
			break
		}
		if len(b) == 0 || len(b) > MaxGrantNoticeBytes || total+len(b) > MaxGrantListBytes {
			continue
		}
		out = append(out, b)
		total += len(b)
	}
	return out
}

// KitNotices are headquarters' signed decisions publishing kits, as a
// hello carries them: each opaque here, checked by the node that receives
// it.
type KitNotices [][]byte

// Bounds on the kits one hello carries: a deployment's handful, each a
// YAML file of some tens of KiB.
const (
	// MaxKits bounds the kits of one hello.
	MaxKits = 32
	// MaxKitNoticeBytes bounds one signed kit: its file, the decision and
	// the signer's certificate.
	MaxKitNoticeBytes = 256 << 10
	// MaxKitListBytes bounds the kits of one hello, added up.
	MaxKitListBytes = 1 << 20
)

// UnmarshalCBOR decodes a list of signed kits within the bounds, the count
// first.
func (n *KitNotices) UnmarshalCBOR(data []byte) error {
	if major, count, err := (&cborReader{b: data}).head(); err == nil && major == majorArray && count > MaxKits {
		return fmt.Errorf("%w: a list of %d kits, the limit is %d", ErrTooLarge, count, MaxKits)
	}
	var list [][]byte
	if err := decMode.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("%w: kit list: %v", ErrMalformed, err)
	}
	total := 0
	for i, b := range list {
		switch {
		case len(b) == 0:
			return fmt.Errorf("%w: kit %d of the list is empty", ErrMalformed, i+1)
		case len(b) > MaxKitNoticeBytes:
			return fmt.Errorf("%w: kit %d of the list holds %d bytes, the limit is %d", ErrTooLarge, i+1, len(b), MaxKitNoticeBytes)
		}
		total += len(b)
	}
	if total > MaxKitListBytes {
		return fmt.Errorf("%w: a kit list of %d bytes, the limit is %d", ErrTooLarge, total, MaxKitListBytes)
	}
	*n = list
	return nil
}

// FitKits is the kits of list that one hello carries, from the first.
func FitKits(list [][]byte) KitNotices {
	var out KitNotices
	total := 0
	for _, b := range list {
		if len(out) == MaxKits {
			break
		}
		if len(b) == 0 || len(b) > MaxKitNoticeBytes || total+len(b) > MaxKitListBytes {
			continue
		}
		out = append(out, b)
		total += len(b)
	}
	return out
}
