package node

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/node/photos"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Photos in sync sessions (docs/photos.md): after the records, each side
// asks for what it lacks of the photos its records name, and sends what
// the other asked for and may hold. A relay or headquarters takes every
// thumbnail and full image; a field laptop every thumbnail, the full
// images of the photos it wrote into records itself, and another's full
// image only when a person opens it (FetchPhoto).

// photoRef is what the records this node holds say of a photo: the
// streams of the changes that name it (their writers and lanes), for
// scope, and the highest priority among them, for order.
type photoRef struct {
	streams []syncproto.Stream
	prio    uint8
}

// hasPhotos says whether a field is, or holds in its rows, a photo field.
func hasPhotos(f *schemas.Field) bool {
	return f.Type == schemas.Photo || slices.ContainsFunc(f.Fields, hasPhotos)
}

// photoIDs are the photo ids among a photo field's references (a list of
// them, or one); a file name from before the photo store names none.
func photoIDs(raw []byte) []string {
	var list []string
	if err := syncproto.Unmarshal(raw, &list); err != nil {
		var one string
		if syncproto.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []string{one}
	}
	return slices.DeleteFunc(list, func(id string) bool { return photos.ValidID(id) != nil })
}

// writers are the nodes whose records name a photo, each once.
func writers(ref *photoRef) []syncproto.NodeID {
	var out []syncproto.NodeID
	for _, st := range ref.streams {
		if !slices.Contains(out, st.Origin) {
			out = append(out, st.Origin)
		}
	}
	return out
}

// photoPeer is the node's photos as a session with one peer sees them.
type photoPeer struct {
	n        *Node
	me, them syncproto.Reach
	once     sync.Once
	refs     map[string]*photoRef
	err      error
	release  []func()
	// wanted and got are the photos this session asked for, and those of
	// them it received a kind of whole.
	wanted, got map[string]bool
}

func (n *Node) photoPeer(peer identity.Claims) *photoPeer {
	return &photoPeer{n: n, me: n.selfReach(), them: n.reach(peer)}
}

// references reads the records' photo references once a session needs
// them: after the records, when it holds all the session brought.
func (p *photoPeer) references(ctx context.Context) (map[string]*photoRef, error) {
	p.once.Do(func() { p.refs, p.err = p.n.photoRefs(ctx) })
	return p.refs, p.err
}

// Wants is what this node lacks and takes: the photos asked for least
// often first, a thumbnail before a full image, each by the priority of
// the records that name it. A session asks for at most
// syncproto.MaxPhotoWants: records that name photos no node holds (a
// forger's made-up ids, made to sort first) would otherwise be what every
// session asks for, and real photos never come. Asked for and not got, a
// photo waits behind those asked less, so that every photo comes up in
// turn.
func (p *photoPeer) Wants(ctx context.Context) ([]syncproto.PhotoWant, error) {
	s, err := p.n.PhotoStore()
	if err != nil {
		return nil, err
	}
	refs, err := p.references(ctx)
	if err != nil {
		return nil, err
	}
	self := p.n.Self()
	fetching := p.n.fetching()
	full := func(id string) bool {
		if !self.Role.Field() || fetching[id] {
			return true
		}
		// A laptop's own photos: those it wrote into a record.
		return slices.ContainsFunc(refs[id].streams, func(st syncproto.Stream) bool { return st.Origin == self.ID })
	}
	type want struct {
		id string
		k  photos.Kind
	}
	all := make([]want, 0, 2*len(refs))
	for id := range refs {
		all = append(all, want{id, photos.Thumb})
		if full(id) {
			all = append(all, want{id, photos.Full})
		}
	}
	// The photos asked for least first, a thumbnail before a full image,
	// by priority.
	asked := p.n.photosAsked(refs)
	slices.SortFunc(all, func(a, b want) int {
		return cmp.Or(cmp.Compare(asked[a.id], asked[b.id]), cmp.Compare(b2i(a.k == photos.Full), b2i(b.k == photos.Full)),
			cmp.Compare(refs[a.id].prio, refs[b.id].prio), cmp.Compare(a.id, b.id))
	})
	// The thumbnails of the photos each writer names take at most its
	// share: a thumbnail comes whatever the budget, and is never dropped,
	// so a laptop that names made-up photos would otherwise fill the disk
	// with their thumbnails, 256 KiB a photo, and spend the budget every
	// full image needs. One asked for is counted as of the largest size.
	share, err := s.Share()
	if err != nil {
		return nil, err
	}
	infos := make(map[string]photos.Photo, len(refs))
	thumbs := map[syncproto.NodeID]int64{}
	for id, ref := range refs {
		info, err := s.Info(id)
		if err != nil && !errors.Is(err, photos.ErrNotFound) {
			return nil, err
		}
		infos[id] = info
		if info.Has(photos.Thumb) {
			for _, o := range writers(ref) {
				thumbs[o] += info.Bytes[photos.Thumb]
			}
		}
	}
	roomFor := func(id string) bool {
		ws := writers(refs[id])
		if share == 0 || slices.Contains(ws, self.ID) {
			return true
		}
		ws = slices.DeleteFunc(ws, func(o syncproto.NodeID) bool { return thumbs[o]+photos.MaxThumbBytes > share })
		for _, o := range ws {
			thumbs[o] += photos.MaxThumbBytes
		}
		return len(ws) > 0
	}
	p.wanted, p.got = map[string]bool{}, map[string]bool{}
	var wants []syncproto.PhotoWant
	for _, w := range all {
		if len(wants) == syncproto.MaxPhotoWants {
			break
		}
		id, k := w.id, w.k
		if infos[id].Has(k) || k == photos.Thumb && !roomFor(id) {
			continue
		}
		release, ok := s.Claim(id, k)
		if !ok {
			continue // another session is receiving it
		}
		p.release = append(p.release, release)
		held, err := s.Partial(id, k)
		if err != nil {
			return nil, err
		}
		h, _ := hex.DecodeString(id)
		wants = append(wants, syncproto.PhotoWant{ID: syncproto.Hash(h), Kind: uint8(k), Offset: uint64(held)})
		p.wanted[id] = true
	}
	return wants, nil
}

// Read serves a chunk of a kind of a photo named by a record the peer may
// hold (syncproto.Passes, as its records): a photo of a district's
// personal record goes where that record goes, and nowhere else.
func (p *photoPeer) Read(ctx context.Context, h syncproto.Hash, kind uint8, off uint64) ([]byte, uint64, syncproto.Hash, error) {
	id := hex.EncodeToString(h[:])
	k := photos.Kind(kind)
	refs, err := p.references(ctx)
	if err != nil {
		return nil, 0, syncproto.Hash{}, err
	}
	ref := refs[id]
	if ref == nil || !slices.ContainsFunc(ref.streams, func(st syncproto.Stream) bool { return syncproto.Passes(p.me, p.them, st) }) {
		return nil, 0, syncproto.Hash{}, peersync.ErrNotServed
	}
	s, err := p.n.PhotoStore()
	if err != nil {
		return nil, 0, syncproto.Hash{}, err
	}
	info, err := s.Info(id)
	if errors.Is(err, photos.ErrNotFound) || err == nil && !info.Has(k) {
		return nil, 0, syncproto.Hash{}, peersync.ErrNotServed
	}
	if err != nil {
		return nil, 0, syncproto.Hash{}, err
	}
	sum := h
	if k == photos.Thumb {
		b, err := hex.DecodeString(info.ThumbHash)
		if err != nil || len(b) != len(sum) {
			return nil, 0, syncproto.Hash{}, peersync.ErrNotServed
		}
		sum = syncproto.Hash(b)
	}
	size := uint64(info.Bytes[k])
	if off >= size {
		return nil, size, sum, nil
	}
	data, n, err := s.ReadAt(id, k, int64(off), syncproto.PhotoChunkBytes)
	if errors.Is(err, photos.ErrNotFound) {
		return nil, 0, syncproto.Hash{}, peersync.ErrNotServed // dropped meanwhile
	}
	return data, uint64(n), sum, err
}

// Receive keeps a chunk in the photo store.
func (p *photoPeer) Receive(ctx context.Context, c *syncproto.PhotoChunk) (bool, error) {
	s, err := p.n.PhotoStore()
	if err != nil {
		return false, err
	}
	id := hex.EncodeToString(c.ID[:])
	_, done, err := s.ReceiveChunk(p.them.Node.String(), id, photos.Kind(c.Kind), hex.EncodeToString(c.Sum[:]), int64(c.Size), int64(c.Offset), c.Data)
	if errors.Is(err, photos.ErrCorrupt) || errors.Is(err, photos.ErrOutOfPlace) || errors.Is(err, photos.ErrTooLarge) || errors.Is(err, photos.ErrFormat) || errors.Is(err, photos.ErrNotItsThumb) {
		err = fmt.Errorf("%w: %v", peersync.ErrBadPhoto, err)
	}
	if done && p.got != nil {
		p.got[id] = true
	}
	return done, err
}

// Kept marks the full images headquarters says it now holds: the photo
// budget may drop them here. Another peer's word is not taken.
func (p *photoPeer) Kept(ctx context.Context, full []syncproto.Hash) error {
	if !p.them.Role.Decides() {
		return nil
	}
	s, err := p.n.PhotoStore()
	if err != nil {
		return err
	}
	for _, h := range full {
		if err := s.Confirm(hex.EncodeToString(h[:])); err != nil && !errors.Is(err, photos.ErrNotFound) {
			return err
		}
	}
	return nil
}

// Release gives up the photos this session reserved, and counts those it
// asked for and did not get.
func (p *photoPeer) Release() {
	for _, r := range p.release {
		r()
	}
	p.release = nil
	if len(p.wanted) == 0 {
		return
	}
	p.n.photos.mu.Lock()
	defer p.n.photos.mu.Unlock()
	if p.n.photos.asked == nil {
		p.n.photos.asked = map[string]uint32{}
	}
	for id := range p.wanted {
		if p.got[id] {
			delete(p.n.photos.asked, id)
		} else if p.n.photos.asked[id] < math.MaxUint32 {
			p.n.photos.asked[id]++
		}
	}
	p.wanted = nil
}

// photosAsked are the counts of photoPeer.Release of the photos refs
// names; the counts of photos no record names any longer are dropped.
func (n *Node) photosAsked(refs map[string]*photoRef) map[string]uint32 {
	n.photos.mu.Lock()
	defer n.photos.mu.Unlock()
	out := make(map[string]uint32, len(n.photos.asked))
	for id, k := range n.photos.asked {
		if refs[id] == nil {
			delete(n.photos.asked, id)
			continue
		}
		out[id] = k
	}
	return out
}

// fetching are the full images a person asked for (FetchPhoto).
func (n *Node) fetching() map[string]bool {
	n.photos.mu.Lock()
	defer n.photos.mu.Unlock()
	return fetchSet(n.photos.fetch)
}

func fetchSet(m map[string]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// ErrPhotoNotFetched: no peer this node knows sent the full image asked
// for.
var ErrPhotoNotFetched = errors.New("no peer sent the photo")

// FetchPhoto gets the full image of a photo a record this node holds
// names, from the relays and headquarters this node knows (those it has
// synced with, most recently synced first), for a person who opened it:
// a field laptop takes others' full images only so. It returns once the
// photo is here, or every peer was asked.
func (n *Node) FetchPhoto(ctx context.Context, id string) (Photo, error) {
	s, err := n.PhotoStore()
	if err != nil {
		return Photo{}, err
	}
	if err := photos.ValidID(id); err != nil {
		return Photo{}, err
	}
	have := func() (Photo, bool) {
		p, err := s.Info(id)
		return photoOf(p), err == nil && p.Has(photos.Full)
	}
	if p, ok := have(); ok {
		return p, nil
	}
	n.photos.mu.Lock()
	if n.photos.fetch == nil {
		n.photos.fetch = map[string]int{}
	}
	n.photos.fetch[id]++
	n.photos.mu.Unlock()
	defer func() {
		n.photos.mu.Lock()
		if n.photos.fetch[id]--; n.photos.fetch[id] <= 0 {
			delete(n.photos.fetch, id)
		}
		n.photos.mu.Unlock()
	}()
	peers, err := n.store.Peers(ctx)
	if err != nil {
		return Photo{}, err
	}
	peers = slices.DeleteFunc(peers, func(p store.Peer) bool { return p.Addr == "" || !p.Role.InLedger() })
	slices.SortFunc(peers, func(a, b store.Peer) int { return b.Synced.Compare(a.Synced) })
	var errs []error
	for _, peer := range peers {
		if _, err := n.syncWith(ctx, peer.Addr, peer.Node); err != nil {
			errs = append(errs, err)
		}
		if p, ok := have(); ok {
			return p, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return Photo{}, fmt.Errorf("photo %s: %w (%d relays or headquarters asked): %w", id, ErrPhotoNotFetched, len(peers), errors.Join(errs...))
}
