package photos

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"lifeline/node/atomicfile"
)

// Budget is what the store holds against its bound.
type Budget struct {
	Photos    int   `json:"photos"`     // photos listed
	Thumbs    int   `json:"thumbs"`     // of them with a thumbnail
	Full      int   `json:"full"`       // with the full image
	Originals int   `json:"originals"`  // with the original
	Used      int64 `json:"used_bytes"` // bytes on disk, sealed, with those held in part
	Limit     int64 `json:"limit_bytes"`
	// Over: what the store may not drop (thumbnails, full images not yet
	// confirmed by headquarters) is over the limit.
	Over bool `json:"over"`
	// droppable counts what enforce may drop: originals, and full images
	// headquarters confirmed.
	droppable int
}

// Budget reports what the store holds.
func (s *Store) Budget() (Budget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget()
}

func (s *Store) budget() (Budget, error) {
	limit, err := s.budgetSet()
	if err != nil {
		return Budget{}, err
	}
	b := Budget{Limit: limit}
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return Budget{}, err
	}
	for _, d := range shards {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		c, err := s.countShard(d.Name())
		if err != nil {
			return Budget{}, err
		}
		b.Photos += c.Photos
		b.Thumbs += c.Thumbs
		b.Full += c.Full
		b.Originals += c.Originals
		b.Used += c.Used
		b.droppable += c.droppable
	}
	part, err := os.ReadDir(filepath.Join(s.dir, "partial"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Budget{}, err
	}
	for _, e := range part {
		if fi, err := e.Info(); err == nil {
			b.Used += fi.Size()
		}
	}
	b.Over = b.Limit > 0 && b.Used > b.Limit
	return b, nil
}

// shardCount is what the photos of one shard folder hold, as budget
// counts them, and the folder's modification time when they were counted.
type shardCount struct {
	mod time.Time
	Budget
}

// settled is how long after a folder last changed its count is kept: a
// file system may give two changes within its clock's step one time.
const settled = 2 * time.Second

// countShard counts the photos of a shard folder, again only when the
// folder changed since: every file of a photo is renamed into place or
// removed, which changes its folder's time, whichever process does it.
// Before, budget read every photo's metadata each time, and it is read for
// each full image a peer sends: 0.67 s with 20,000 photos, under mu, for
// a photo a peer can send in 128 KiB.
func (s *Store) countShard(name string) (shardCount, error) {
	dir := filepath.Join(s.dir, name)
	now := time.Now()
	fi, err := os.Stat(dir)
	if err != nil {
		return shardCount{}, err
	}
	if c, ok := s.counted[name]; ok && c.mod.Equal(fi.ModTime()) {
		return c, nil
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return shardCount{}, err
	}
	c := shardCount{mod: fi.ModTime()}
	for _, f := range files {
		id, ok := strings.CutSuffix(f.Name(), ".json")
		if !ok || ValidID(id) != nil || id[:2] != name {
			continue
		}
		p, err := s.info(id)
		if err != nil {
			return shardCount{}, err
		}
		c.Photos++
		if p.Has(Original) {
			c.droppable++
		}
		if p.Has(Full) && p.Confirmed {
			c.droppable++
		}
		for k := range p.Bytes {
			c.Used += s.onDisk(id, k)
			switch k {
			case Thumb:
				c.Thumbs++
			case Full:
				c.Full++
			case Original:
				c.Originals++
			}
		}
	}
	if s.counted == nil {
		s.counted = map[string]shardCount{}
	}
	if now.Sub(fi.ModTime()) > settled {
		s.counted[name] = c
	} else {
		delete(s.counted, name)
	}
	return c, nil
}

// room makes room, as enforce does, for n bytes of a full image to come;
// ErrOverBudget when what the store may not drop leaves too little. It is
// called with mu held.
func (s *Store) room(n int64) error {
	b, err := s.budget()
	if err != nil || b.Limit == 0 || b.Used+n <= b.Limit {
		return nil
	}
	s.enforce("")
	if b, err := s.budget(); err == nil && b.Used+n > b.Limit {
		return fmt.Errorf("%w: %d of %d MiB used, by what the store may not drop", ErrOverBudget, b.Used>>20, b.Limit>>20)
	}
	return nil
}

func (s *Store) onDisk(id string, k Kind) int64 {
	fi, err := os.Stat(s.path(id, k))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// SetBudget sets the bound, in MiB (0 for none), kept in the store's
// folder for every process that opens it, and drops what it must.
func (s *Store) SetBudget(mib int64) error {
	if mib < 0 || mib > 1<<30 {
		return fmt.Errorf("photos: budget %d MiB: 0 (none) to %d", mib, 1<<30)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.Write(filepath.Join(s.dir, "budget"), []byte(strconv.FormatInt(mib, 10)+"\n"), 0o600); err != nil {
		return err
	}
	s.cfg.BudgetMiB, s.limit = mib, mib<<20
	s.enforce("")
	return nil
}

// enforce drops, oldest first, originals, then full images headquarters
// confirmed, until the store is within its budget; a thumbnail, and a
// full image not confirmed, it never drops: the first is what a record's
// reader sees, the second may be the only copy. It is called with mu held;
// a failure leaves the store over its budget, which Budget then says.
func (s *Store) enforce(string) {
	b, err := s.budget()
	if err != nil || b.Limit == 0 || b.Used <= b.Limit || b.droppable == 0 {
		return
	}
	list, err := s.List()
	if err != nil {
		return
	}
	used := b.Used
	for _, k := range []Kind{Original, Full} {
		for _, p := range list {
			if used <= b.Limit {
				return
			}
			if !p.Has(k) || (k == Full && !p.Confirmed) {
				continue
			}
			n := s.onDisk(p.ID, k)
			if os.Remove(s.path(p.ID, k)) == nil {
				used -= n
			}
		}
	}
}
