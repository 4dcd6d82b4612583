package node

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sync"

	"lifeline/fieldkits"
	"lifeline/node/personal"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// photoIndex is what the node's records name of photos. The store keeps
// it as the records change (store.Refs, by the definition refsDef gives),
// whatever changes them; the node keeps a copy and reads what changed
// since it last asked. Before, every session of a process that had not
// read them read every record of every type that carries photos (50,000
// damage assessments: 2.3 s), and a change kept aside that merged later
// was missed until the kits or keys changed.
type photoIndex struct {
	mu sync.Mutex
	// def is the definition set in the store, and kits and keys the
	// node's kits and the count of its data keys it was made of: what a
	// record names may change with them (a type's photo fields, a sealed
	// field opened).
	def  *store.Refs
	kits *fieldkits.Catalogue
	keys int
	mark int64
	// of is what each record names; named, the records that name a photo.
	of    map[syncproto.RecordID][]store.Ref
	named map[string]map[syncproto.RecordID]bool
	// refs is the answer, shared by the sessions that read it: never
	// changed once given, replaced when anything it says changes.
	refs map[string]*photoRef
}

// photoRefs reads which photos the records this node holds name, in any
// version of a photo field (a value in conflict too), in a row or not. A
// personal field this node cannot open names nothing here: a node never
// asks for, nor sends, a photo of a record it cannot read. The answer is
// shared: callers do not change it.
func (n *Node) photoRefs(ctx context.Context) (map[string]*photoRef, error) {
	x := &n.photoIdx
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.define(ctx, n); err != nil {
		return nil, err
	}
	changed, next, all, err := n.store.RefsSince(ctx, x.mark)
	if err != nil {
		return nil, err
	}
	if all || x.refs == nil {
		x.of, x.named = map[syncproto.RecordID][]store.Ref{}, map[string]map[syncproto.RecordID]bool{}
		for id, refs := range changed {
			x.set(id, refs)
		}
		x.refs = make(map[string]*photoRef, len(x.named))
		for id := range x.named {
			x.refs[id] = x.ref(id)
		}
	} else {
		x.update(changed)
	}
	x.mark = next
	return x.refs, nil
}

// define sets in the store the definition of what records name that the
// node's kits and keys give, when they changed since it last did: the
// store then reads every record again.
func (x *photoIndex) define(ctx context.Context, n *Node) error {
	kits, keys := n.Kits(), n.data.ring.Len()
	if x.def != nil && x.kits == kits && x.keys == keys {
		return nil
	}
	def := n.refsDef(kits)
	if x.def == nil || def.Version != x.def.Version {
		if err := n.store.SetRefs(ctx, def); err != nil {
			return err
		}
		x.def, x.mark, x.refs = def, 0, nil
	}
	x.kits, x.keys = kits, keys
	return nil
}

// refsDef is what a record names by the node's kits and keys: the photos
// its photo fields name, in every version, in a row or not; a deleted
// record names none. Its version is a digest of the kits' names and
// versions and of the data keys' ids.
func (n *Node) refsDef(kits *fieldkits.Catalogue) *store.Refs {
	h := sha256.New()
	h.Write([]byte("lifeline/photo-refs/v1\x00"))
	for _, k := range kits.Kits() {
		fmt.Fprintf(h, "%s\x00%s\x00", k.Name, k.Version)
	}
	for _, id := range n.data.ring.IDs() {
		h.Write(id[:])
	}
	version := int64(binary.BigEndian.Uint64(h.Sum(nil)) >> 1)
	if version == 0 {
		version = 1
	}
	photoTypes := map[string]*schemas.Type{}
	for _, name := range kits.TypeNames() {
		if t, ok := kits.Type(name); ok && slices.ContainsFunc(t.Fields, hasPhotos) {
			photoTypes[name] = t
		}
	}
	return &store.Refs{
		Version: version,
		Reads: func(typ, field string) bool {
			t := photoTypes[typ]
			if t == nil {
				return false
			}
			f, ok := t.Field(field)
			return ok && f.Type == schemas.Photo
		},
		Of: func(r *store.Record) []store.Ref {
			t := photoTypes[r.Type]
			if t == nil || r.Deleted {
				return nil
			}
			return n.mentions(r, t)
		},
	}
}

// update takes in what the records changed name now, and gives a new
// answer where it changed.
func (x *photoIndex) update(changed map[syncproto.RecordID][]store.Ref) {
	photos := map[string]bool{}
	for id, now := range changed {
		before := x.of[id]
		if slices.Equal(before, now) {
			continue
		}
		for _, m := range before {
			photos[m.Name] = true
		}
		for _, m := range now {
			photos[m.Name] = true
		}
		x.set(id, now)
	}
	if len(photos) == 0 {
		return
	}
	refs := maps.Clone(x.refs)
	for id := range photos {
		if x.named[id] == nil {
			delete(refs, id)
		} else {
			refs[id] = x.ref(id)
		}
	}
	x.refs = refs
}

// set keeps what a record names.
func (x *photoIndex) set(rec syncproto.RecordID, now []store.Ref) {
	for _, m := range x.of[rec] {
		if recs := x.named[m.Name]; recs != nil {
			delete(recs, rec)
			if len(recs) == 0 {
				delete(x.named, m.Name)
			}
		}
	}
	if len(now) == 0 {
		delete(x.of, rec)
		return
	}
	x.of[rec] = now
	for _, m := range now {
		if x.named[m.Name] == nil {
			x.named[m.Name] = map[syncproto.RecordID]bool{}
		}
		x.named[m.Name][rec] = true
	}
}

// ref is what the records that name a photo say of it: the streams of the
// changes that name it, and the highest priority among them.
func (x *photoIndex) ref(id string) *photoRef {
	var ref *photoRef
	for rec := range x.named[id] {
		for _, m := range x.of[rec] {
			if m.Name != id {
				continue
			}
			if ref == nil {
				ref = &photoRef{prio: syncproto.LanePriority(m.Stream.Lane)}
			}
			if !slices.Contains(ref.streams, m.Stream) {
				ref.streams = append(ref.streams, m.Stream)
			}
			ref.prio = min(ref.prio, syncproto.LanePriority(m.Stream.Lane))
		}
	}
	return ref
}

// mentions are the photos a record of a type names, in any version of a
// photo field, in a row or not, that the field takes.
func (n *Node) mentions(r *store.Record, t *schemas.Type) []store.Ref {
	var out []store.Ref
	for _, fv := range r.Fields {
		f, ok := t.Field(fv.Name)
		if !ok || f.Type != schemas.Photo {
			continue
		}
		for _, v := range fv.Versions {
			raw, err := n.openValue(r.ID, fv.Name, v.Value)
			if err != nil {
				continue
			}
			if personal.IsSealed(v.Value) && f.Check(raw) != nil {
				// A sealed value is checked by its reader, not as it
				// came: one its field refuses (more photos than it
				// takes) names nothing.
				continue
			}
			st := syncproto.Stream{Origin: v.Stamp.Origin, Lane: v.Stamp.Lane}
			for _, id := range photoIDs(raw) {
				out = append(out, store.Ref{Name: id, Stream: st})
			}
		}
	}
	return out
}
