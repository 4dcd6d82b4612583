package node

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"lifeline/fieldkits"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// photoIndex keeps what photoRefs read between sessions, and follows the
// store's change log: a session reads again the records changed since the
// one before, not every record of every type that carries photos (50,000
// damage assessments took every session of both sides 2.3 s more).
type photoIndex struct {
	mu sync.Mutex
	// kits and keys are the node's kits and the count of its data keys
	// when the index was built: what a record names may change with them
	// (a type's photo fields, a sealed field opened).
	kits *fieldkits.Catalogue
	keys int
	seen syncproto.Vector
	// of is what each record names; named, the records that name a photo.
	of    map[syncproto.RecordID][]photoMention
	named map[string]map[syncproto.RecordID]bool
	// refs is the answer, shared by the sessions that read it: never
	// changed once given, replaced when anything it says changes.
	refs map[string]*photoRef
}

// photoMention is a photo a version of a record's field names, and the
// stream of the change that wrote that version.
type photoMention struct {
	id string
	st syncproto.Stream
}

// photoIndexStep is the most changes a session reads to bring the index
// up to date: past it, the records are read again whole.
const photoIndexStep = 20000

// photoRefs reads which photos the records this node holds name, in any
// version of a photo field (a value in conflict too), in a row or not. A
// personal field this node cannot open names nothing here: a node never
// asks for, nor sends, a photo of a record it cannot read. The answer is
// shared: callers do not change it.
func (n *Node) photoRefs(ctx context.Context) (map[string]*photoRef, error) {
	x := &n.photoIdx
	x.mu.Lock()
	defer x.mu.Unlock()
	now, err := n.store.Vector(ctx)
	if err != nil {
		return nil, err
	}
	kits, keys := n.Kits(), n.data.ring.Len()
	if x.refs != nil && x.kits == kits && x.keys == keys {
		if x.seen.Covers(now) {
			return x.refs, nil
		}
		changes, err := n.store.Since(ctx, x.seen, photoIndexStep)
		if err != nil {
			return nil, err
		}
		if len(changes) < photoIndexStep {
			touched := map[syncproto.RecordID]bool{}
			for _, c := range changes {
				touched[c.Record] = true
			}
			if err := x.update(ctx, n, kits, touched); err != nil {
				return nil, err
			}
			x.seen = now
			return x.refs, nil
		}
	}
	if err := x.build(ctx, n, kits); err != nil {
		return nil, err
	}
	x.kits, x.keys, x.seen = kits, keys, now
	return x.refs, nil
}

// build reads every record of the types that carry photos.
func (x *photoIndex) build(ctx context.Context, n *Node, kits *fieldkits.Catalogue) error {
	x.of, x.named, x.refs = map[syncproto.RecordID][]photoMention{}, map[string]map[syncproto.RecordID]bool{}, nil
	for _, name := range kits.TypeNames() {
		t, _ := kits.Type(name)
		if t == nil || !slices.ContainsFunc(t.Fields, hasPhotos) {
			continue // its records are not read
		}
		for r, err := range n.store.Records(ctx, store.Query{Type: t.Name}) {
			if err != nil {
				return err
			}
			x.set(r.ID, n.mentions(r, t))
		}
	}
	refs := make(map[string]*photoRef, len(x.named))
	for id := range x.named {
		refs[id] = x.ref(id)
	}
	x.refs = refs
	return nil
}

// update reads again the records changed, and gives a new answer where
// what they name changed.
func (x *photoIndex) update(ctx context.Context, n *Node, kits *fieldkits.Catalogue, touched map[syncproto.RecordID]bool) error {
	changed := map[string]bool{}
	for id := range touched {
		var now []photoMention
		r, err := n.store.Record(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case !r.Deleted:
			if t, ok := kits.Type(r.Type); ok && slices.ContainsFunc(t.Fields, hasPhotos) {
				now = n.mentions(r, t)
			}
		}
		before := x.of[id]
		if slices.Equal(before, now) {
			continue
		}
		for _, m := range before {
			changed[m.id] = true
		}
		for _, m := range now {
			changed[m.id] = true
		}
		x.set(id, now)
	}
	if len(changed) == 0 {
		return nil
	}
	refs := maps.Clone(x.refs)
	for id := range changed {
		if x.named[id] == nil {
			delete(refs, id)
		} else {
			refs[id] = x.ref(id)
		}
	}
	x.refs = refs
	return nil
}

// set keeps what a record names.
func (x *photoIndex) set(rec syncproto.RecordID, now []photoMention) {
	for _, m := range x.of[rec] {
		if recs := x.named[m.id]; recs != nil {
			delete(recs, rec)
			if len(recs) == 0 {
				delete(x.named, m.id)
			}
		}
	}
	if len(now) == 0 {
		delete(x.of, rec)
		return
	}
	x.of[rec] = now
	for _, m := range now {
		if x.named[m.id] == nil {
			x.named[m.id] = map[syncproto.RecordID]bool{}
		}
		x.named[m.id][rec] = true
	}
}

// ref is what the records that name a photo say of it: the streams of the
// changes that name it, and the highest priority among them.
func (x *photoIndex) ref(id string) *photoRef {
	var ref *photoRef
	for rec := range x.named[id] {
		for _, m := range x.of[rec] {
			if m.id != id {
				continue
			}
			if ref == nil {
				ref = &photoRef{prio: syncproto.LanePriority(m.st.Lane)}
			}
			if !slices.Contains(ref.streams, m.st) {
				ref.streams = append(ref.streams, m.st)
			}
			ref.prio = min(ref.prio, syncproto.LanePriority(m.st.Lane))
		}
	}
	return ref
}

// mentions are the photos a record of a type names, in any version of a
// photo field, in a row or not.
func (n *Node) mentions(r store.Record, t *schemas.Type) []photoMention {
	var out []photoMention
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
			st := syncproto.Stream{Origin: v.Stamp.Origin, Lane: v.Stamp.Lane}
			for _, id := range photoIDs(raw) {
				out = append(out, photoMention{id: id, st: st})
			}
		}
	}
	return out
}
