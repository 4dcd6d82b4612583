package personal

import (
	"bytes"
	"slices"
	"sync"
)

// Keyring is the data keys a node holds, safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex
	keys    map[KeyID]DataKey
	current map[string]DataKey // per district, the key of its highest epoch
}

// NewKeyring makes an empty keyring.
func NewKeyring() *Keyring {
	return &Keyring{keys: map[KeyID]DataKey{}, current: map[string]DataKey{}}
}

// Add adds keys and returns those it did not hold.
func (r *Keyring) Add(keys ...DataKey) []DataKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	var added []DataKey
	for _, k := range keys {
		if len(k.Key) != keyLen {
			continue
		}
		id := k.ID()
		if _, ok := r.keys[id]; ok {
			continue
		}
		r.keys[id] = k
		added = append(added, k)
		// Two HQ nodes may each make an epoch's key before they hear of
		// the other's: every node that holds both picks the same one.
		if c, ok := r.current[k.District]; !ok || k.Epoch > c.Epoch || k.Epoch == c.Epoch && bytes.Compare(id[:], keyID(c)) < 0 {
			r.current[k.District] = k
		}
	}
	return added
}

func keyID(k DataKey) []byte {
	id := k.ID()
	return id[:]
}

// Key is the lookup Open takes.
func (r *Keyring) Key(id KeyID) ([]byte, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[id]
	return k.Key, ok
}

// Current is the key new values of a district's records are sealed with:
// the one of its highest epoch held here.
func (r *Keyring) Current(district string) (DataKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.current[district]
	return k, ok
}

// Of lists the keys held of a district, oldest epoch first.
func (r *Keyring) Of(district string) []DataKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []DataKey
	for _, k := range r.keys {
		if k.District == district {
			out = append(out, k)
		}
	}
	sortKeys(out)
	return out
}

// Len is how many keys the keyring holds.
func (r *Keyring) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.keys)
}

// IDs lists the ids of the keys the keyring holds, sorted.
func (r *Keyring) IDs() []KeyID {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]KeyID, 0, len(r.keys))
	for id := range r.keys {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b KeyID) int { return bytes.Compare(a[:], b[:]) })
	return out
}
