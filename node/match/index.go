package match

import (
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// block is the people of one block, reports and registrations apart.
type block struct{ missing, sheltered []int32 }

// of is the list of the block that people of the kind rec are in.
func (b *block) of(rec Record) *[]int32 {
	if rec == Missing {
		return &b.missing
	}
	return &b.sheltered
}

// ageBand is the width in years of the age bands that split blocks. A pair
// whose ages are more than a band apart lies in no common block, and the
// model would put it far below the threshold anyway (ages more than ten
// years apart).
const ageBand = 10

// noBand is the band of a person whose age is not known; they are compared
// with every band of their blocks.
const noBand = -1

// The bounds of an index, whatever is written. A record is one claim of
// whoever wrote it, and a laptop, stolen or broken, or an import run again
// and again, can write thousands of one name, age and village: each would
// be a candidate with every other, and a few thousand of them would fill
// HQ's memory and its queue with millions of pairs. No real set comes near
// these bounds (docs/matching.md): the largest block of the 300,000
// records of M2 holds 500 people, and no record of M1 makes more than
// eight pairs.
const (
	// MaxBlock is the most people of each kind (reports, registrations)
	// a block holds. A person added once it is full is neither put in
	// it nor compared with those in it: the block's first MaxBlock stand
	// for the name, and the person is counted in Crowded.
	MaxBlock = 2048
	// MaxPairs is the most candidates a person makes with the people
	// added before it (or a query makes): the best of them. A person
	// with more is counted in Crowded.
	MaxPairs = 32
)

// Index holds the people added so far and their blocks. Add compares a new
// person with those it shares a block with: the sound of one of its
// surnames and the initial of its first name (or of a name its first name
// stands for), or its first name and district; each within its age band and
// the next ones. These blocks are fixed by the person alone, so which pairs
// are compared, and found, does not depend on the order of arrival.
type Index struct {
	cfg    Config
	least  float64 // the weight of a score at the threshold
	seed   maphash.Seed
	people []*features
	ids    map[string]int32
	blocks map[uint64]*block
	found  [][]pair // per Add, so that no one Add copies them all
	seen   []uint32 // per person: the last query that compared it
	// gone marks the people removed: they are taken out of their blocks,
	// and the candidates they made are no longer given.
	gone  []bool
	query uint32
	// crowd marks the people crowded: outBlock when left out of a full
	// block, cutPairs when they made more than maxPairs candidates.
	// crowded counts those not removed, and out those of them left out
	// of a block.
	crowd        []uint8
	crowded, out int
	// maxBlock and maxPairs are MaxBlock and MaxPairs, smaller in tests.
	maxBlock, maxPairs int
	// Compared counts the pairs scored so far, for the benchmarks.
	Compared int
}

// Crowded is how many of the people added were not compared with all they
// share a block with, or made more candidates than were kept: the people
// past MaxBlock of one block, or past MaxPairs. Other than zero, it is a
// flood of records of one name to look into, not a set of people.
// The people removed are not counted.
func (x *Index) Crowded() int { return x.crowded }

// The ways a person is crowded (Index.crowd).
const (
	outBlock uint8 = 1 << iota
	cutPairs
)

// size is the number of people the prior is taken for: those in the index
// but the ones left out of a full block. A flood of one name is not more
// people to find a person among, and is not to weaken every other pair.
func (x *Index) size() int { return x.Len() - x.out }

// setCrowd marks the i-th person crowded in the ways of c.
func (x *Index) setCrowd(i int32, c uint8) {
	if c == 0 {
		return
	}
	if x.crowd[i] == 0 {
		x.crowded++
	}
	if c&outBlock != 0 && x.crowd[i]&outBlock == 0 {
		x.out++
	}
	x.crowd[i] |= c
}

// NewIndex returns an empty index.
func NewIndex(cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Index{cfg: cfg, least: math.Log2(cfg.Threshold / (1 - cfg.Threshold)), seed: maphash.MakeSeed(), ids: map[string]int32{}, blocks: map[uint64]*block{},
		maxBlock: MaxBlock, maxPairs: MaxPairs}, nil
}

// pair is a candidate with the places of its two people in the index,
// and the prior it was scored with.
type pair struct {
	c     Candidate
	i, j  int32
	prior float64
}

// prior is the prior of the index once it holds n people (Config.PriorFor).
// As people are added it falls, and the candidates found before are
// scored again with it when they are given (Candidates): a pair under
// the threshold with a prior is under it with any smaller one, so that
// which pairs are candidates does not depend on the order of arrival.
// Once people are removed it rises again a little, and a pair it would now
// lift over the threshold is found when the index is next built.
func (x *Index) prior(n int) float64 { return x.cfg.PriorFor(n) }

// Len is the number of people in the index: added and not removed.
func (x *Index) Len() int { return len(x.ids) }

// Removed is how many people were removed: they still take room in the
// index, until it is built again.
func (x *Index) Removed() int { return len(x.people) - len(x.ids) }

// Remove takes the person of id out of the index, with the candidates they
// made; it says whether they were in it. A record that changed is removed
// and added again as it now reads.
func (x *Index) Remove(id string) bool {
	i, ok := x.ids[id]
	if !ok {
		return false
	}
	delete(x.ids, id)
	x.gone[i] = true
	// Out of its blocks, so that a block full of a flood the person
	// deciding deleted takes people again.
	f := x.people[i]
	for _, k := range blockKeys(f) {
		b := x.blocks[x.hash(k, bandOf(f))]
		if b == nil {
			continue
		}
		list := b.of(f.rec)
		if at, ok := slices.BinarySearch(*list, i); ok {
			*list = slices.Delete(*list, at, at+1)
		}
	}
	if x.crowd[i] != 0 {
		x.crowded--
	}
	if x.crowd[i]&outBlock != 0 {
		x.out--
	}
	return true
}

// Query returns the candidates p would make with the people in the index,
// best first, without adding p: a record not yet saved, matched as it is
// typed. A person of p's id in the index is not compared with p.
func (x *Index) Query(p Person) ([]Candidate, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	f := newFeatures(&p)
	x.query++
	n := x.size() + 1 // as if p were added
	if i, ok := x.ids[p.ID]; ok {
		x.seen[i] = x.query
		if x.crowd[i]&outBlock == 0 {
			n--
		}
	}
	prior := x.prior(n)
	var out []pair
	for _, k := range blockKeys(f) {
		for _, band := range queryBands(bandOf(f)) {
			b := x.blocks[x.hash(k, band)]
			if b == nil {
				continue
			}
			out = x.scan(f, -1, b.missing, prior, out)
			if f.rec == Missing {
				out = x.scan(f, -1, b.sheltered, prior, out)
			}
		}
	}
	out, _ = x.best(f, out)
	return candidatesOf(out), nil
}

// best keeps the MaxPairs best of the pairs f made, scored, and gives them
// their reasons; cut says whether some were left out. Pairs are scored
// without their reasons first, since most are dropped; the order of the
// best does not depend on the prior, which adds to every weight alike.
func (x *Index) best(f *features, ps []pair) (kept []pair, cut bool) {
	sortPairs(ps)
	if len(ps) > x.maxPairs {
		// A copy, not to keep the pairs dropped alive with the best.
		ps, cut = slices.Clone(ps[:x.maxPairs]), true
	}
	for i := range ps {
		ps[i].c, _ = compare(f, x.people[ps[i].j], ps[i].prior, true)
	}
	return ps, cut
}

// candidatesOf is the candidates of pairs, best first.
func candidatesOf(ps []pair) []Candidate {
	sortPairs(ps)
	out := make([]Candidate, len(ps))
	for i, p := range ps {
		out[i] = p.c
	}
	return out
}

// sortPairs orders pairs best first, as sortCandidates does.
func sortPairs(ps []pair) {
	sort.Slice(ps, func(i, j int) bool { return better(ps[i].c, ps[j].c) })
}

// Add adds p and returns the candidates it makes with the people added
// before it, best first. It refuses an invalid person and an id already
// added.
func (x *Index) Add(p Person) ([]Candidate, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if _, ok := x.ids[p.ID]; ok {
		return nil, fmt.Errorf("%w: %.40q", ErrDuplicateID, p.ID)
	}
	f := newFeatures(&p)
	keys := blockKeys(f)
	x.query++
	self := int32(len(x.people))
	n := x.size() + 1
	if x.full(f, keys) {
		n-- // it will be left out of a block
	}
	prior := x.prior(n)
	var out []pair
	for _, k := range keys {
		for _, band := range queryBands(bandOf(f)) {
			b := x.blocks[x.hash(k, band)]
			if b == nil {
				continue
			}
			// Two shelter registrations are never paired: a new one is
			// compared with the reports alone.
			out = x.scan(f, self, b.missing, prior, out)
			if f.rec == Missing {
				out = x.scan(f, self, b.sheltered, prior, out)
			}
		}
	}
	out, cut := x.best(f, out)
	var c uint8
	if x.insert(f, keys, self) {
		c |= outBlock
	}
	if cut {
		c |= cutPairs
	}
	x.setCrowd(self, c)
	if len(out) > 0 {
		x.found = append(x.found, out)
	}
	return candidatesOf(out), nil
}

// full says whether a block f would be put in is full (MaxBlock).
func (x *Index) full(f *features, keys []string) bool {
	for _, k := range keys {
		if b := x.blocks[x.hash(k, bandOf(f))]; b != nil && len(*b.of(f.rec)) >= x.maxBlock {
			return true
		}
	}
	return false
}

// insert adds f, the i-th person, to the index and its blocks; crowded
// says whether a block of its was full (MaxBlock).
func (x *Index) insert(f *features, keys []string, i int32) (crowded bool) {
	x.people = append(x.people, f)
	x.seen = append(x.seen, 0)
	x.gone = append(x.gone, false)
	x.crowd = append(x.crowd, 0)
	x.ids[f.id] = i
	for _, k := range keys {
		h := x.hash(k, bandOf(f))
		b := x.blocks[h]
		if b == nil {
			b = &block{}
			x.blocks[h] = b
		}
		list := b.of(f.rec)
		if len(*list) >= x.maxBlock {
			crowded = true
			continue
		}
		*list = append(*list, i)
	}
	return crowded
}

// scan compares f, the self-th person (-1 for one not added), with the
// members of a block it has not yet been compared with in this query;
// the pairs over the threshold are scored, without their reasons. A
// block's list that is full is not read: a person added after it filled
// is not in it (insert), and is compared with it no more than put in it.
func (x *Index) scan(f *features, self int32, members []int32, prior float64, out []pair) []pair {
	if len(members) >= x.maxBlock {
		return out
	}
	for _, j := range members {
		if x.seen[j] == x.query || x.gone[j] {
			continue
		}
		x.seen[j] = x.query
		x.Compared++
		if c, _ := compareAbove(f, x.people[j], prior, x.least, false); c.Score >= x.cfg.Threshold {
			out = append(out, pair{c, self, j, prior})
		}
	}
	return out
}

// AddAll adds people in order and returns the candidates they make, as
// calling Add for each would, but compares on every core: what HQ runs over
// the records it already holds. If a person is refused, nothing is added.
func (x *Index) AddAll(people []Person) ([]Candidate, error) {
	seen := make(map[string]bool, len(people))
	for i := range people {
		p := &people[i]
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if _, ok := x.ids[p.ID]; ok || seen[p.ID] {
			return nil, fmt.Errorf("%w: %.40q", ErrDuplicateID, p.ID)
		}
		seen[p.ID] = true
	}
	start := int32(len(x.people))
	feats := make([]*features, len(people))
	keys := make([][]string, len(people))
	parallel(len(people), func(i int) {
		feats[i] = newFeatures(&people[i])
		keys[i] = blockKeys(feats[i])
	})
	cut := make([]bool, len(people))
	for i, f := range feats {
		if x.insert(f, keys[i], start+int32(i)) {
			x.setCrowd(start+int32(i), outBlock)
		}
	}
	prior := x.prior(x.size())
	found := make([][]pair, len(people))
	parallel(len(people), func(i int) {
		f, self := feats[i], start+int32(i)
		var members []int32
		for _, k := range keys[i] {
			for _, band := range queryBands(bandOf(f)) {
				b := x.blocks[x.hash(k, band)]
				if b == nil {
					continue
				}
				members = appendBefore(members, b.missing, self, x.maxBlock)
				if f.rec == Missing {
					members = appendBefore(members, b.sheltered, self, x.maxBlock)
				}
			}
		}
		slices.Sort(members)
		members = slices.Compact(members)
		var out []pair
		for _, j := range members {
			o := x.people[j]
			if x.gone[j] {
				continue
			}
			if c, _ := compareAbove(f, o, prior, x.least, false); c.Score >= x.cfg.Threshold {
				out = append(out, pair{c, self, j, prior})
			}
		}
		found[i], cut[i] = x.best(f, out)
		compared.Add(int64(len(members)))
	})
	x.Compared += int(compared.Swap(0))
	for i, c := range cut {
		if c {
			x.setCrowd(start+int32(i), cutPairs)
		}
	}
	var all []pair
	for _, c := range found {
		all = append(all, c...)
	}
	x.found = append(x.found, all)
	out := make([]Candidate, len(all))
	for i, p := range all {
		out[i] = p.c
	}
	return out, nil
}

// compared counts AddAll's comparisons across its workers.
var compared atomic.Int64

// appendBefore appends the members of a block that were added before self,
// as Add would have read them when self was added: none once the block
// was full (scan). A block's members are in the order they were added.
func appendBefore(dst, members []int32, self int32, full int) []int32 {
	n, _ := slices.BinarySearch(members, self)
	if n >= full {
		return dst
	}
	return append(dst, members[:n]...)
}

// parallel runs f(0) to f(n-1) on every core.
func parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// Candidates returns every candidate of the people in the index, scored
// with the index's prior as it is now, ordered by A then B.
func (x *Index) Candidates() []Candidate {
	var out []Candidate
	prior := x.prior(x.size())
	pw := logOdds(prior)
	for _, f := range x.found {
		for _, p := range f {
			if x.gone[p.i] || x.gone[p.j] {
				continue
			}
			c := p.c
			if p.prior != prior {
				c.setPrior(pw)
				if c.Score < x.cfg.Threshold {
					continue
				}
			}
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].A != out[j].A {
			return out[i].A < out[j].A
		}
		return out[i].B < out[j].B
	})
	return out
}

// LargestBlock is the number of people in the largest block, for the
// benchmarks.
func (x *Index) LargestBlock() int {
	n := 0
	for _, b := range x.blocks {
		n = max(n, len(b.missing)+len(b.sheltered))
	}
	return n
}

func sortCandidates(c []Candidate) {
	sort.Slice(c, func(i, j int) bool { return better(c[i], c[j]) })
}

// better says whether a comes before b: higher score, then by ids.
func better(a, b Candidate) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if a.A != b.A {
		return a.A < b.A
	}
	return a.B < b.B
}

func (x *Index) hash(key string, band int) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.WriteString(key)
	h.WriteByte(0)
	h.WriteString(strconv.Itoa(band))
	return h.Sum64()
}

func bandOf(f *features) int {
	if !f.ageKnown {
		return noBand
	}
	return f.age / ageBand
}

// maxBand is the band of the oldest age a Person may have.
const maxBand = MaxAge / ageBand

// queryBands are the bands a person of band b is compared with: its own,
// the next ones and the unknown; a person of unknown age, all of them.
func queryBands(b int) []int {
	if b == noBand {
		out := make([]int, 0, maxBand+2)
		for i := noBand; i <= maxBand; i++ {
			out = append(out, i)
		}
		return out
	}
	out := []int{b, noBand}
	if b > 0 {
		out = append(out, b-1)
	}
	if b < maxBand {
		out = append(out, b+1)
	}
	return out
}

// surnameInitials are every first letter a surname's folded spelling and
// its sound (soundKey: C for ch) may begin with.
const surnameInitials = "abcdefghijklmnopqrstuvwxyzC"

// listedGiven says whether w is a listed given name or nickname: a name
// that starts with one is written first name first.
func listedGiven(w string) bool {
	_, ok := firstFrequency[canonGiven(w)]
	return ok || len(nicknames[w]) > 0 || equivalents[w] != ""
}

// nicknameSlips maps each spelling one letter short of a nickname that
// begins otherwise than a name it stands for (Greta, Margaretha; Pepe,
// Jose), and the nickname itself, to those nicknames. Two spellings one
// slip apart (a letter left out, added, changed, or two swapped) share an
// entry: the nicknames near a word are those of its own entry and of its
// spellings a letter short. A nickname that begins as its names do needs
// none: its initial is theirs.
var nicknameSlips, longestNickname = func() (map[string][]string, int) {
	out := map[string][]string{}
	add := func(k, name string) {
		if !slices.Contains(out[k], name) {
			out[k] = append(out[k], name)
		}
	}
	longest := 0
	for name := range nicknames {
		if len(name) < 3 || !slices.ContainsFunc(firstNameCanon(name), func(c string) bool { return c[0] != name[0] }) {
			continue
		}
		longest = max(longest, len(name))
		add(name, name)
		for i := range len(name) {
			add(name[:i]+name[i+1:], name)
		}
	}
	for _, names := range out {
		slices.Sort(names)
	}
	return out, longest
}()

// nicknamesNear lists the nicknames of nicknameSlips one slip from w,
// sorted.
func nicknamesNear(w string) []string {
	if len(w) < 3 || len(w) > longestNickname+1 {
		return nil
	}
	var out []string
	for i := -1; i < len(w); i++ {
		k := w
		if i >= 0 {
			k = w[:i] + w[i+1:]
		}
		for _, name := range nicknameSlips[k] {
			if name != w && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// blockKeys are the blocks f belongs to (before its age band), from the
// name as written and, without a comma, as read surname first: the sound
// of a surname with the first letter of the first name (or of a name it
// stands for: Memo and Guillermo), and the first name with the district
// and the first sound of a surname.
func blockKeys(f *features) []string {
	var keys []string
	add := func(k string) {
		for _, o := range keys {
			if o == k {
				return
			}
		}
		keys = append(keys, k)
	}
	type reading struct {
		n        *parsedName
		surnames []string
	}
	names := []reading{{&f.name, f.name.surnames}}
	if f.alt != nil {
		names = append(names, reading{f.alt, f.alt.surnames})
	}
	// A reading with the first name after one or two surnames is blocked
	// by those surnames only, not by the middle names after it, and not
	// when one of them is a listed given name ("Maria Isabel Pop" is
	// written first name first): enough to find "POP COC MARIA ISABEL",
	// without putting every name of three words in more blocks.
	for k, i := range firstPositions(f) {
		if f.innerTried[k] {
			names = append(names, reading{&f.inner[k], f.words[:i]})
		}
	}
	if f.second != nil {
		names = append(names, reading{f.second, f.second.surnames})
	}
	for _, r := range names {
		n := r.n
		if n.first == "" {
			continue
		}
		// The initials of the first name as written, of the form it
		// is a spelling of (Jessenia is Yesenia, Karla Carla) and of
		// the names it stands for: Elizabeth stands for Isabel, and
		// Elzabeth, mistyped, for nothing.
		initials := []string{n.first[:1]}
		if f := formOf(n.first); f[0] != n.first[0] {
			initials = append(initials, f[:1])
		}
		for _, c := range n.firstCanon {
			if !slices.Contains(initials, c[:1]) {
				initials = append(initials, c[:1])
			}
		}
		for _, s := range r.surnames {
			for _, i := range initials {
				add("s\x00" + soundKey(s) + "\x00" + i)
			}
		}
		// A surname mistyped past its first letter, or spelled in a way
		// that sounds otherwise, still shares this block: by its first
		// sound, and by its first letter, since a slip in the second
		// letter changes the first sound (Castillo, Cestillo; Tzul,
		// Toul). A name with no surname (one word, or a surname
		// too short to read or taken for a title) has this block
		// alone, by its first name.
		// A first name that is no name listed is most often one
		// mistyped: it is blocked as the names a nickname one slip away
		// stands for too, so that Grreta meets Margaretha (Greta) and
		// Prpe meets Jose (Pepe).
		canon := n.firstCanon
		if !listedGiven(n.first) {
			for _, near := range nicknamesNear(n.first) {
				for _, c := range firstNameCanon(near)[1:] {
					if !slices.Contains(canon, c) {
						canon = append(slices.Clip(canon), c)
					}
				}
			}
		}
		for _, c := range canon {
			if len(r.surnames) == 0 {
				// In the block of every surname's first letter and
				// sound: a name with none is rare.
				for _, l := range surnameInitials {
					add("f\x00" + c + "\x00" + f.district + "\x00" + string(l))
				}
			}
			for _, s := range r.surnames {
				add("f\x00" + c + "\x00" + f.district + "\x00" + soundKey(s)[:1])
				add("f\x00" + c + "\x00" + f.district + "\x00" + surnameCanon(s)[:1])
			}
		}
	}
	if f.aka != nil {
		// Found by the other name the record gives too: Maria Pop,
		// known as Maria Bol, where a shelter registers Maria Bol.
		for _, k := range blockKeys(f.aka) {
			add(k)
		}
	}
	return keys
}
