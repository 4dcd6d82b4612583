package photos

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

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
}

// Budget reports what the store holds.
func (s *Store) Budget() (Budget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget()
}

func (s *Store) budget() (Budget, error) {
	list, err := s.List()
	if err != nil {
		return Budget{}, err
	}
	limit, err := s.budgetSet()
	if err != nil {
		return Budget{}, err
	}
	b := Budget{Photos: len(list), Limit: limit}
	for _, p := range list {
		for k := range p.Bytes {
			b.Used += s.onDisk(p.ID, k)
			switch k {
			case Thumb:
				b.Thumbs++
			case Full:
				b.Full++
			case Original:
				b.Originals++
			}
		}
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
	if err != nil || b.Limit == 0 || b.Used <= b.Limit {
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
