package photos

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"lifeline/node/atomicfile"
)

// A photo received in chunks in a sync session is kept in part, in the
// store's partial/ folder, as the chunks come: a link cut mid-photo, or
// the node restarted, loses at most the chunk in flight, and the next
// session asks from the chunk after the last kept (Partial).
//
//	partial/<id>.<kind>.json   what the sender declared: the kind's size and hash;
//	                           and the sender
//	partial/<id>.<kind>        "LLPHOTO1", a random salt, then the chunks received,
//	                           each of ChunkBytes sealed as a photo file's chunks
//	                           are (seal.go), none marked final
//
// Only whole chunks count: a chunk cut by a crash is dropped when the
// partial is next opened. A partial's chunks are sealed with the size and
// hash declared in their additional data, so that chunks of one
// declaration are never read as those of another. Once the last chunk
// comes, the whole is checked against its hash (and, for a full image, the
// photo's id) before the photo is listed; a partial that does not hash to
// what was declared is dropped whole: there is no telling which chunk
// was wrong.

// ChunkBytes is the size of every chunk of a photo received in part but
// its last: the sealing's chunk, so that a chunk received is one sealed.
const ChunkBytes = chunkSize

// ErrOutOfPlace is wrapped by the refusal of a chunk that is not the next
// one the store needs of a photo.
var ErrOutOfPlace = errors.New("photo chunk out of place")

// partialDecl is a partial's declaration file.
type partialDecl struct {
	Sum  string `json:"sum"`
	Size int64  `json:"size"`
	// From is the peer that sent its first chunk (its node id), whose
	// share of the budget it counts in; "" before partials said so.
	From string `json:"from,omitempty"`
}

// partials orders the writes of partials within this process: one
// session at a time receives a kind of a photo.
type partials struct {
	mu   sync.Mutex
	busy map[string]bool
}

var inFlight = partials{busy: map[string]bool{}}

func (s *Store) partialPath(id string, k Kind) string {
	return filepath.Join(s.dir, "partial", id+"."+k.String())
}

func partialAD(id string, k Kind, sum string, size int64) []byte {
	return fmt.Appendf(nil, "partial %s.%s %s %d", id, k, sum, size)
}

// Claim reserves the receiving of a kind of a photo for one session; it
// returns false while another holds it. The caller calls release.
func (s *Store) Claim(id string, k Kind) (release func(), ok bool) {
	key := s.partialPath(id, k)
	inFlight.mu.Lock()
	defer inFlight.mu.Unlock()
	if inFlight.busy[key] {
		return nil, false
	}
	inFlight.busy[key] = true
	return func() {
		inFlight.mu.Lock()
		delete(inFlight.busy, key)
		inFlight.mu.Unlock()
	}, true
}

// Partial is how many bytes of a kind of a photo the store holds in part
// (whole chunks: a multiple of ChunkBytes), 0 when none.
func (s *Store) Partial(id string, k Kind) (int64, error) {
	if err := ValidID(id); err != nil {
		return 0, err
	}
	_, n, err := s.openPartial(id, k)
	return n, err
}

// openPartial reads a partial's declaration and how many whole chunks it
// holds, cutting off a chunk a crash tore.
func (s *Store) openPartial(id string, k Kind) (partialDecl, int64, error) {
	var d partialDecl
	b, err := os.ReadFile(s.partialPath(id, k) + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return d, 0, nil
	}
	if err != nil {
		return d, 0, err
	}
	if len(b) > 1024 || json.Unmarshal(b, &d) != nil || ValidID(d.Sum) != nil || d.Size <= 0 || d.Size > MaxStoredBytes {
		s.DropPartial(id, k)
		return partialDecl{}, 0, nil
	}
	fi, err := os.Stat(s.partialPath(id, k))
	if errors.Is(err, fs.ErrNotExist) {
		return d, 0, nil
	}
	if err != nil {
		return d, 0, err
	}
	chunks := (fi.Size() - int64(headerSize)) / (chunkSize + tagSize)
	if chunks <= 0 {
		return d, 0, nil
	}
	held := min(chunks*chunkSize, d.Size/chunkSize*chunkSize)
	if want := int64(headerSize) + held/chunkSize*(chunkSize+tagSize); fi.Size() != want {
		if err := os.Truncate(s.partialPath(id, k), want); err != nil {
			return d, 0, err
		}
	}
	return d, held, nil
}

// DropPartial removes what the store holds in part of a kind of a photo.
func (s *Store) DropPartial(id string, k Kind) {
	os.Remove(s.partialPath(id, k))
	os.Remove(s.partialPath(id, k) + ".json")
}

// Partials lists the kinds of photos held in part, with the bytes held.
func (s *Store) Partials() (map[string]int64, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "partial"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && filepath.Ext(e.Name()) != ".json" {
			out[e.Name()] = max(0, (fi.Size()-int64(headerSize))/(chunkSize+tagSize)*chunkSize)
		}
	}
	return out, nil
}

// ReceiveChunk takes the chunk, sent by peer from (its node id), of a
// kind (Full or Thumb) of photo id at off, of a kind declared as size
// bytes hashing to sum (SHA-256, hex: id itself for a full image). The
// chunk must be the next the store needs (Partial), else it is refused
// with ErrOutOfPlace and nothing changes; one that declares another size
// or sum than the chunks held drops them, and is refused unless it is the
// first. A full image begins only with room in the budget for its size,
// and a partial only within its sender's share (ErrOverBudget). A chunk that is not
// the last is kept durably in part; the last is checked with the rest
// against sum, and the photo kept as Receive keeps it (done), or the
// partial dropped whole (ErrCorrupt, ErrFormat, ErrTooLarge). The caller
// holds the kind's Claim.
func (s *Store) ReceiveChunk(from, id string, k Kind, sum string, size, off int64, data []byte) (p Photo, done bool, err error) {
	if err := ValidID(id); err != nil {
		return Photo{}, false, err
	}
	if err := ValidID(sum); err != nil {
		return Photo{}, false, fmt.Errorf("the %s's hash: %w", k, err)
	}
	switch {
	case k != Full && k != Thumb:
		return Photo{}, false, fmt.Errorf("photos: a %s is not received", k)
	case k == Full && sum != id:
		return Photo{}, false, fmt.Errorf("%w: a full image's hash is the photo's id", ErrCorrupt)
	case size <= 0 || size > maxBytes(k):
		return Photo{}, false, fmt.Errorf("%w: a %s of %d bytes, the limit is %d KiB", ErrTooLarge, k, size, maxBytes(k)>>10)
	case len(data) == 0 || len(data) > ChunkBytes || off%ChunkBytes != 0 || off+int64(len(data)) > size ||
		len(data) < ChunkBytes && off+int64(len(data)) != size:
		return Photo{}, false, fmt.Errorf("%w: %d bytes at offset %d of a %s of %d bytes", ErrOutOfPlace, len(data), off, k, size)
	}
	decl, held, err := s.openPartial(id, k)
	if err != nil {
		return Photo{}, false, err
	}
	if held > 0 && (decl.Sum != sum || decl.Size != size) {
		// Another declaration than the one held in part, which another
		// peer may have made: nothing says which of the two lied, so what
		// is held goes, and the kind is begun again from its start.
		s.DropPartial(id, k)
		if off != 0 {
			return Photo{}, false, fmt.Errorf("photos: the %s of %s was declared as %d bytes hashing to %.12s…, now as %d bytes hashing to %.12s…: the %d bytes held of it are dropped, to be asked for from the start",
				k, id, decl.Size, decl.Sum, size, sum, held)
		}
		held = 0
	}
	if off != held {
		return Photo{}, false, fmt.Errorf("%w: a chunk at offset %d of the %s of %s; the next needed is at %d", ErrOutOfPlace, off, k, id, held)
	}
	last := off+int64(len(data)) == size
	d := partialDecl{Sum: sum, Size: size, From: from}
	if !last && off == 0 {
		// A full image takes its room as it begins: what is held in part
		// counts in the budget as what is whole does. And what one peer
		// leaves in part is bounded by its share, so that no peer fills
		// the budget with photos it never ends.
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.share(from, id, k, size); err != nil {
			return Photo{}, false, err
		}
		if k == Full {
			if err := s.room(size); err != nil {
				return Photo{}, false, err
			}
		}
	}
	if !last {
		return Photo{}, false, s.appendPartial(id, k, d, off, data)
	}
	p, err = s.commitPartial(id, k, d, held, data)
	return p, err == nil, err
}

// peerShareDivisor sets the share of the budget the partials one peer
// began may declare: a quarter, and at least a photo of the largest size,
// so that any photo may begin. A peer that sends photos whole holds
// none; one whose sessions are cut holds a few.
const peerShareDivisor = 4

// Share is what one peer's partials may declare, and what the thumbnails
// of the photos one node names that this store holds may take: a quarter
// of the budget, at least a photo of the largest size; 0 with no budget.
func (s *Store) Share() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit, err := s.budgetSet()
	if err != nil || limit == 0 {
		return 0, err
	}
	return max(limit/peerShareDivisor, MaxStoredBytes), nil
}

// share refuses a partial of a kind of photo id, of size bytes, from peer
// from when the other partials it began already declare its share of the
// budget (none with no budget). It is called with mu held.
func (s *Store) share(from, id string, k Kind, size int64) error {
	limit, err := s.budgetSet()
	if err != nil || limit == 0 || from == "" {
		return err
	}
	ents, err := os.ReadDir(filepath.Join(s.dir, "partial"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var held int64
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".json" || e.Name() == id+"."+k.String()+".json" {
			continue
		}
		var d partialDecl
		if b, err := os.ReadFile(filepath.Join(s.dir, "partial", e.Name())); err == nil && len(b) <= 1024 && json.Unmarshal(b, &d) == nil && d.From == from {
			held += d.Size
		}
	}
	if most := max(limit/peerShareDivisor, MaxStoredBytes); held+size > most {
		return fmt.Errorf("%w: the photos peer %.16s… began and did not end declare %d MiB, its share is %d MiB", ErrOverBudget, from, held>>20, most>>20)
	}
	return nil
}

// appendPartial seals a chunk onto the partial, durably.
func (s *Store) appendPartial(id string, k Kind, d partialDecl, off int64, data []byte) error {
	path := s.partialPath(id, k)
	if off == 0 {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		b, _ := json.Marshal(d)
		if err := atomicfile.Write(path+".json", b, 0o600); err != nil {
			return err
		}
		salt := make([]byte, saltSize)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		if err := atomicfile.Write(path, append([]byte(fileMagic), salt...), 0o600); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, headerSize)
	if _, err := io.ReadFull(f, head); err != nil || string(head[:len(fileMagic)]) != fileMagic {
		s.DropPartial(id, k)
		return fmt.Errorf("photos: the partial %s of %s: %w", k, id, ErrDamaged)
	}
	aead := fileAEAD(&s.secret, head[len(fileMagic):])
	i := uint64(off / ChunkBytes)
	sealed := aead.Seal(nil, nonce(i, false), data, partialAD(id, k, d.Sum, d.Size))
	if _, err := f.WriteAt(sealed, int64(headerSize)+int64(i)*(chunkSize+tagSize)); err != nil {
		return err
	}
	return f.Sync()
}

// commitPartial feeds the chunks held and the last one to Receive, which
// checks the whole against its hash and keeps it.
func (s *Store) commitPartial(id string, k Kind, d partialDecl, held int64, last []byte) (Photo, error) {
	r, err := s.Receive(id, k, d.Sum)
	if err != nil {
		return Photo{}, err
	}
	r.counted = held
	if held > 0 {
		if err := s.copyPartial(r, id, k, d, held); err != nil {
			r.Abort()
			s.DropPartial(id, k)
			return Photo{}, err
		}
	}
	if _, err := r.Write(last); err != nil {
		r.Abort()
		return Photo{}, err
	}
	p, err := r.Commit()
	if err == nil || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrDamaged) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrFormat) || errors.Is(err, ErrNotItsThumb) {
		// Kept, or not what was declared or no photo: either way the
		// partial is done.
		s.DropPartial(id, k)
	}
	return p, err
}

// copyPartial writes the first held bytes of a partial to w, a chunk at a
// time.
func (s *Store) copyPartial(w io.Writer, id string, k Kind, d partialDecl, held int64) error {
	f, err := os.Open(s.partialPath(id, k))
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, headerSize)
	if _, err := io.ReadFull(f, head); err != nil || string(head[:len(fileMagic)]) != fileMagic {
		return fmt.Errorf("photos: the partial %s of %s: %w", k, id, ErrDamaged)
	}
	aead := fileAEAD(&s.secret, head[len(fileMagic):])
	ad := partialAD(id, k, d.Sum, d.Size)
	buf := make([]byte, chunkSize+tagSize)
	var plain []byte
	for i := range uint64(held / chunkSize) {
		if _, err := io.ReadFull(f, buf); err != nil {
			return fmt.Errorf("photos: the partial %s of %s: %w: chunk %d: %v", k, id, ErrDamaged, i, err)
		}
		if plain, err = aead.Open(plain[:0], nonce(i, false), buf, ad); err != nil {
			return fmt.Errorf("photos: the partial %s of %s: %w: chunk %d does not open", k, id, ErrDamaged, i)
		}
		if _, err := w.Write(plain); err != nil {
			return err
		}
	}
	return nil
}
