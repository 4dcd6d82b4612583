package node

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/node/personal"
	"lifeline/node/photos"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Bundle and snapshot files travel on USB sticks, which get lost: they are
// encrypted to the nodes they are for (identity.Encrypting, age with each
// node's Ed25519 key), and to the node that writes them, so that it can
// read again what it wrote. The seal stays inside, over the plain frames:
// who wrote a file is known once it is opened, and only by its
// recipients. Over the network a snapshot needs none of this: TLS already
// hides it.

// Recipient is a node a bundle or snapshot file is encrypted for, as this
// node knows it from its certificate.
type Recipient struct {
	Node     syncproto.NodeID
	Name     string
	Role     syncproto.Role
	District string
	pub      ed25519.PublicKey
}

// RecipientHQ names every headquarters node this node knows, in
// Recipients.
const RecipientHQ = "hq"

// RecipientRelays prefixes a district's name in Recipients: its relays.
const RecipientRelays = "relay:"

// ErrNoRecipient is wrapped by Recipients' error for a name that is no
// node this node may encrypt for.
var ErrNoRecipient = errors.New("no such recipient")

// Recipients finds the nodes names stand for, among the unrevoked nodes
// whose certificates this node holds (those it met, and those the ledger
// enrolled): RecipientHQ for every headquarters node, RecipientRelays and
// a district for the district's relays, else a node's id or name. Each
// name must stand for at least one node. The list has no node twice, and
// never this node, which every file it writes is encrypted for anyway.
func (n *Node) Recipients(ctx context.Context, names []string) ([]Recipient, error) {
	known, err := n.KnownNodes(ctx)
	if err != nil {
		return nil, err
	}
	self := n.Self()
	var out []Recipient
	add := func(k KnownNode) error {
		if k.Node == self.ID || slices.ContainsFunc(out, func(r Recipient) bool { return r.Node == k.Node }) {
			return nil
		}
		pub, err := n.trust.key(ctx, k.Node)
		if err != nil {
			return err
		}
		out = append(out, Recipient{Node: k.Node, Name: k.Name, Role: k.Role, District: k.District, pub: pub})
		return nil
	}
	revoked := func(id syncproto.NodeID) (bool, error) { return n.store.Revoked(ctx, id) }
	for _, name := range names {
		name = strings.TrimSpace(name)
		var match func(KnownNode) bool
		var what string
		one := false // a node's name or id, which stands for one node
		switch {
		case name == RecipientHQ:
			match, what = func(k KnownNode) bool { return k.Role.Decides() }, "no headquarters node"
		case strings.HasPrefix(name, RecipientRelays):
			d, ok := schemas.District(strings.TrimPrefix(name, RecipientRelays))
			if !ok {
				return nil, fmt.Errorf("%w: %.80q: %.80q is not one of %s", ErrNoRecipient, name, strings.TrimPrefix(name, RecipientRelays), strings.Join(schemas.Districts, ", "))
			}
			match, what = func(k KnownNode) bool { return k.Role == syncproto.RoleRelay && k.District == d }, "no relay of "+d
		default:
			id, idErr := syncproto.ParseNodeID(name)
			match = func(k KnownNode) bool { return (idErr == nil && k.Node == id) || k.Name == name }
			what, one = fmt.Sprintf("no node %.80q", name), true
		}
		found := 0
		var byName []string
		for _, k := range known {
			if !match(k) {
				continue
			}
			gone, err := revoked(k.Node)
			if err != nil {
				return nil, err
			}
			if gone {
				continue
			}
			if one && k.Name == name {
				byName = append(byName, fmt.Sprintf("%s (%s, %s)", k.Node, k.Role, k.District))
			}
			if err := add(k); err != nil {
				return nil, err
			}
			found++
		}
		// A laptop enrolled again as a replacement may carry the name of
		// the one it replaces, lost or stolen and not revoked yet: a name
		// that stands for one node is not encrypted for two.
		if len(byName) > 1 {
			return nil, fmt.Errorf("%w: %d nodes headquarters did not revoke are named %.80q: %s; give the id of the one you mean", ErrNoRecipient, len(byName), name, strings.Join(byName, ", "))
		}
		if found == 0 {
			return nil, fmt.Errorf("%w: %s: this node (%s) knows %s whose certificate it holds and headquarters did not revoke; it learns nodes from the ledger, sessions and bundles: name a node by its name or id (--to)", ErrNoRecipient, name, self.Name, what)
		}
	}
	return out, nil
}

// ExportBundleFor writes a bundle as ExportBundle does, encrypted for the
// recipients and this node, of the streams the recipients keep. The
// result's Bytes are the file's.
func (n *Node) ExportBundleFor(ctx context.Context, w io.Writer, have syncproto.Vector, to []Recipient) (peersync.ExportResult, error) {
	return n.encrypted(w, to, func(w io.Writer) (peersync.ExportResult, error) {
		return n.exportBundle(ctx, w, have, n.readersKeep(to))
	})
}

// readersKeep says which streams a file for the recipients carries: those
// a session would pass to one of them at least (syncproto.Passes). Each
// recipient's key opens the whole file, so a stick for a Toledo laptop
// carries no Cayo records, as a session with it would not. A file for
// this node alone, which holds it all already, carries every stream.
func (n *Node) readersKeep(to []Recipient) func(syncproto.Stream) bool {
	if len(to) == 0 {
		return nil
	}
	me, readers := n.selfReach(), n.readers(to)
	return func(st syncproto.Stream) bool {
		return slices.ContainsFunc(readers, func(r syncproto.Reach) bool { return syncproto.Passes(me, r, st) })
	}
}

// readers are what the recipients keep, as this node judges it.
func (n *Node) readers(to []Recipient) []syncproto.Reach {
	out := make([]syncproto.Reach, len(to))
	for i, r := range to {
		out[i] = n.reach(identity.Claims{Node: r.Node, Role: r.Role, District: r.District})
	}
	return out
}

// readersSee says which photos a file for the recipients carries: those a
// record's photo field names in a stream that passes to one of them, in a
// value that recipient reads (in the clear, or sealed for a key of its
// district), as a session hands a node no other. A stick for a Toledo
// laptop carries no photo of a person reported in Cayo, whose photos
// field is sealed for Cayo's key. nil is every photo: a file for
// headquarters, or for this node alone.
func (n *Node) readersSee(ctx context.Context, to []Recipient) (func(id string) bool, error) {
	if len(to) == 0 || slices.ContainsFunc(to, func(r Recipient) bool { return r.Role.Decides() }) {
		return nil, nil
	}
	type reader struct {
		reach syncproto.Reach
		keys  []personal.KeyID // of its district, as this node holds them
	}
	me, readers := n.selfReach(), make([]reader, len(to))
	for i, reach := range n.readers(to) {
		readers[i].reach = reach
		for _, k := range n.data.ring.Of(to[i].District) {
			readers[i].keys = append(readers[i].keys, k.ID())
		}
	}
	reads := func(st syncproto.Stream, value []byte) bool {
		var sealedFor []personal.KeyID
		if personal.IsSealed(value) {
			env, err := personal.Parse(value)
			if err != nil {
				return false
			}
			sealedFor = env.Keys
		}
		return slices.ContainsFunc(readers, func(r reader) bool {
			return syncproto.Passes(me, r.reach, st) &&
				(sealedFor == nil || slices.ContainsFunc(sealedFor, func(id personal.KeyID) bool { return slices.Contains(r.keys, id) }))
		})
	}
	seen := map[string]bool{}
	kits := n.Kits()
	for _, name := range kits.TypeNames() {
		t, ok := kits.Type(name)
		if !ok || !slices.ContainsFunc(t.Fields, hasPhotos) {
			continue
		}
		for r, err := range n.store.Records(ctx, store.Query{Type: name}) {
			if err != nil {
				return nil, err
			}
			for _, fv := range r.Fields {
				if f, ok := t.Field(fv.Name); !ok || f.Type != schemas.Photo {
					continue
				}
				for _, v := range fv.Versions {
					if !reads(syncproto.Stream{Origin: v.Stamp.Origin, Lane: v.Stamp.Lane}, v.Value) {
						continue
					}
					if raw, err := n.openValue(r.ID, fv.Name, v.Value); err == nil {
						for _, id := range photoIDs(raw) {
							seen[id] = true
						}
					}
				}
			}
		}
	}
	return func(id string) bool { return seen[id] }, nil
}

// ExportBundleWithPhotos writes a bundle as ExportBundleFor does, followed
// by the photos this node holds at level (none, thumbnails, or thumbnails
// and full images), each signed with the node's key (docs/photos.md). A
// bundle with no photos is what ExportBundleFor writes.
func (n *Node) ExportBundleWithPhotos(ctx context.Context, w io.Writer, have syncproto.Vector, to []Recipient, level photos.Level) (peersync.ExportResult, photos.Written, error) {
	var wrote photos.Written
	res, err := n.encrypted(w, to, func(w io.Writer) (peersync.ExportResult, error) {
		res, err := n.exportBundle(ctx, w, have, n.readersKeep(to))
		if err != nil || level == photos.NoPhotos {
			return res, err
		}
		s, err := n.PhotoStore()
		if err != nil {
			return res, err
		}
		sees, err := n.readersSee(ctx, to)
		if err != nil {
			return res, err
		}
		wrote, err = s.WriteSection(w, level, sees, func(msg []byte) []byte { return ed25519.Sign(n.key.Signer(), msg) })
		return res, err
	})
	return res, wrote, err
}

// ExportSnapshotFor writes a snapshot as ExportSnapshot does, encrypted for
// the recipients and this node. The result's Bytes are the file's. A
// snapshot holds every record of its district, and each recipient's key
// opens all of it: one that does not keep the district's records is
// refused, and nothing is written.
func (n *Node) ExportSnapshotFor(ctx context.Context, w io.Writer, of identity.Claims, to []Recipient) (peersync.ExportResult, error) {
	district := syncproto.Stream{Lane: syncproto.MakeLane(1, schemas.DistrictScope(of.District))}
	for i, r := range n.readers(to) {
		if !r.Keeps(district) {
			return peersync.ExportResult{}, fmt.Errorf("%w: %s (%s, %s) does not keep %s's records, which a snapshot of %s holds", ErrNoRecipient,
				Printable(to[i].Name), to[i].Role, Printable(to[i].District), of.District, of.District)
		}
	}
	return n.encrypted(w, to, func(w io.Writer) (peersync.ExportResult, error) { return n.ExportSnapshot(ctx, w, of) })
}

func (n *Node) encrypted(w io.Writer, to []Recipient, export func(io.Writer) (peersync.ExportResult, error)) (peersync.ExportResult, error) {
	if !n.Enrolled() {
		return peersync.ExportResult{}, fmt.Errorf("%w: a bundle is sealed with the node's certificate; enroll it first", ErrNotEnrolled)
	}
	keys := []ed25519.PublicKey{n.key.Public()}
	for _, r := range to {
		if len(r.pub) == 0 {
			return peersync.ExportResult{}, fmt.Errorf("%w: %s: not found by Recipients", ErrNoRecipient, r.Node)
		}
		keys = append(keys, r.pub)
	}
	cw := &peersync.CountWriter{W: w}
	ew, err := identity.Encrypting(cw, keys)
	if err != nil {
		return peersync.ExportResult{}, err
	}
	res, err := export(ew)
	if err != nil {
		return res, err
	}
	if err := ew.Close(); err != nil {
		return res, err
	}
	res.Bytes = cw.N
	return res, nil
}

// ErrNotForThisNode is wrapped by the refusal of a bundle or snapshot file
// encrypted for other nodes.
var ErrNotForThisNode = errors.New("encrypted for other nodes")

// openFile returns the plain bundle in a file: r itself for a bundle
// written before files were encrypted, else r decrypted with this node's
// key as it is read. encrypted says which.
func (n *Node) openFile(ctx context.Context, r io.Reader) (plain io.Reader, encrypted bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(identity.AgeMagic)); string(head) != identity.AgeMagic {
		return br, false, nil
	}
	plain, err = n.key.Decrypting(br)
	var nf *identity.NotForKeyError
	switch {
	case errors.As(err, &nf):
		return nil, true, &peersync.BundleError{Offset: -1, Err: fmt.Errorf("%w: %w: %s; this node is %s (%s)", peersync.ErrBundle, ErrNotForThisNode, n.whoFor(ctx, nf.For), n.Self().Name, n.Self().ID)}
	case err != nil:
		return nil, true, &peersync.BundleError{Offset: -1, Err: fmt.Errorf("%w: %w", peersync.ErrBundle, err)}
	}
	return plain, true, nil
}

// whoFor names the nodes an encrypted file is for, as far as this node
// knows them by their recipient tags.
func (n *Node) whoFor(ctx context.Context, tags []string) string {
	known, _ := n.KnownNodes(ctx)
	var names []string
	unknown := 0
	for _, tag := range tags {
		i := slices.IndexFunc(known, func(k KnownNode) bool {
			pub, err := n.trust.key(ctx, k.Node)
			return err == nil && identity.RecipientTag(pub) == tag
		})
		if i < 0 {
			unknown++
			continue
		}
		names = append(names, nodeLabel(known[i]))
	}
	others := fmt.Sprintf("%d other nodes this one does not know", unknown)
	if unknown == 1 {
		others = "1 other node this one does not know"
	}
	switch {
	case len(names) == 0:
		return "it is for " + others
	case unknown > 0:
		return fmt.Sprintf("it is for %s and %s", strings.Join(names, ", "), others)
	default:
		return "it is for " + strings.Join(names, ", ")
	}
}

func nodeLabel(k KnownNode) string {
	if k.Name == "" {
		return k.Node.String()
	}
	return fmt.Sprintf("%s (%s, %s)", Printable(k.Name), k.Role, Printable(k.District))
}
