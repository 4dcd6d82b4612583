package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"lifeline/fieldkits"
	"lifeline/node/match"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// The people records a node holds are kept in a match index from one call
// to the next, so that matching one new report costs milliseconds, not the
// seconds it takes to read and index every record again (docs/bench.md,
// M2). Each call first asks the store for the people records written since
// the mark the index was brought to (store.Written), whatever wrote them: a
// report saved here, a session, a bundle, an import, another process, or a
// change kept aside that merges when the certificate or kit it waited for
// comes, which the change log does not say again. It takes out and adds
// again, as it now reads, each of them. What the node can read changes with
// its data keys and its kits: when a key or a kit came, the index is built
// again from the records.

// indexFloor is the least score the kept index finds; a call asking for
// less is answered from an index built for it alone.
const indexFloor = 0.25

// rereadAtMost is how many records written since the index's mark it
// reads again one by one; beyond that, and beyond half the index, it
// builds the index again, which reads them all in one pass.
const rereadAtMost = 10_000

// peopleIndex is a node's kept index of its people records.
type peopleIndex struct {
	mu  sync.Mutex
	idx *match.Index
	// mark is the store's written mark the index was brought to.
	mark int64
	// keys and kits are what the node could read with when the index was
	// built: its data keys' count and its catalogue.
	keys int
	kits *fieldkits.Catalogue
	// withheld are the people records whose names this node cannot open.
	withheld map[string]bool
	// members are the ids in the index of each family registration's
	// people (family.go).
	members map[string][]string
	// builds counts the times the index was built from the records.
	builds int
}

// withPeople brings the kept index up to date and runs fn with it and the
// count of records withheld, the index held for fn alone.
func (n *Node) withPeople(ctx context.Context, fn func(x *match.Index, withheld int) error) error {
	pi := &n.peopleIdx
	pi.mu.Lock()
	defer pi.mu.Unlock()
	if err := n.refreshPeople(ctx, pi); err != nil {
		return err
	}
	return fn(pi.idx, len(pi.withheld))
}

// refreshPeople brings pi up to date with the store.
func (n *Node) refreshPeople(ctx context.Context, pi *peopleIndex) error {
	keys, kits := n.data.ring.Len(), n.Kits()
	// Records corrected leave their old reading in the index, skipped:
	// once those are many, building it again costs less than keeping them.
	if pi.idx == nil || pi.keys != keys || pi.kits != kits || pi.idx.Removed() > max(pi.idx.Len(), 10_000) {
		return n.buildPeople(ctx, pi, keys, kits)
	}
	ids, mark, err := n.store.Written(ctx, pi.mark, peopleTypes...)
	if err != nil || len(ids) == 0 {
		return err
	}
	if len(ids) > rereadAtMost && len(ids) > pi.idx.Len()/2 {
		return n.buildPeople(ctx, pi, keys, kits)
	}
	names, err := n.nodeNames(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(ids, func(a, b syncproto.RecordID) int { return strings.Compare(a.String(), b.String()) })
	for _, id := range ids {
		pi.idx.Remove(id.String())
		for _, m := range pi.members[id.String()] {
			pi.idx.Remove(m)
		}
		delete(pi.members, id.String())
		delete(pi.withheld, id.String())
		r, err := n.store.Record(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		v := n.view(r, names)
		if v.Deleted {
			continue
		}
		ps, held := peopleOf(v)
		if held {
			pi.withheld[v.ID] = true
		}
		for _, p := range ps {
			if _, err := pi.idx.Add(p); err != nil {
				return err
			}
		}
		for rec, ms := range membersOf(ps) {
			pi.members[rec] = ms
		}
	}
	pi.mark = mark
	return nil
}

// buildPeople builds pi again from every people record the node holds.
func (n *Node) buildPeople(ctx context.Context, pi *peopleIndex, keys int, kits *fieldkits.Catalogue) error {
	// The mark is read before the records: a record written between is
	// read again at the next call, which costs nothing but the read.
	mark, err := n.store.WrittenMark(ctx)
	if err != nil {
		return err
	}
	idx, people, withheld, err := n.readPeople(ctx, indexFloor)
	if err != nil {
		return err
	}
	if _, err := idx.AddAll(people); err != nil {
		return err
	}
	pi.idx, pi.mark, pi.keys, pi.kits, pi.withheld = idx, mark, keys, kits, withheld
	pi.members = membersOf(people)
	pi.builds++
	return nil
}

// readPeople reads every people record this node holds into an empty
// index of the given threshold (not yet added), and the ids of those it
// cannot open.
func (n *Node) readPeople(ctx context.Context, threshold float64) (*match.Index, []match.Person, map[string]bool, error) {
	cfg := match.DefaultConfig()
	cfg.Threshold = threshold
	idx, err := match.NewIndex(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	withheld := map[string]bool{}
	var people []match.Person
	for _, typ := range peopleTypes {
		for v, err := range n.Records(ctx, Query{Type: typ}) {
			if err != nil {
				return nil, nil, nil, err
			}
			ps, held := peopleOf(v)
			if held {
				withheld[v.ID] = true
			}
			people = append(people, ps...)
		}
	}
	return idx, people, withheld, nil
}

// Reported is a record a new one may report again: what the person typing
// is shown before saving.
type Reported struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Case    string   `json:"case,omitempty"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
	// Member is, for a person of a family registration (record ID), the
	// household row's id or HeadMember.
	Member string `json:"member,omitempty"`
	// For is, when the record typed is a family's registration, the name
	// of its member this record may report.
	For      string `json:"for,omitempty"`
	Name     string `json:"name"`
	Age      int64  `json:"age,omitempty"` // -1 when not known
	Village  string `json:"village,omitempty"`
	District string `json:"district,omitempty"`
	// At is when it was reported (or the person arrived in a shelter),
	// RFC 3339, "" when the record does not say; By is who reported it.
	At string `json:"at,omitempty"`
	By string `json:"by,omitempty"`
}

// Reporting is what PossiblyReported found: the records, best first, and
// how many people records it could not compare because this node cannot
// open their names.
type Reporting struct {
	Records  []Reported
	Withheld int
	// AskAge names the people typed with no age whose records found
	// include people of one name of ages too far apart for one person
	// (match.AgesApart): a father and a son, Juan Coc of 45 and of 19.
	// An age, even a guess, tells which this is; without it, no one can.
	AskAge []string
}

// ReportedMinScore is the least score of a record PossiblyReported gives.
const ReportedMinScore = 0.5

// PossiblyReported matches a people record not yet saved, of type typ with
// the fields given as the form has them, against the people records this
// node holds and can read: the records it may report again. Any node may
// ask, a field laptop too: it reads only what it holds and can open. A
// record of another type, or without a name yet, matches nothing.
func (n *Node) PossiblyReported(ctx context.Context, typ string, fields map[string]any) (Reporting, error) {
	people := typedPeople(typ, fields)
	for _, t := range people {
		if err := t.p.Validate(); err != nil {
			return Reporting{}, fmt.Errorf("possibly reported: %w", err)
		}
	}
	if len(people) == 0 {
		return Reporting{}, nil
	}
	var out Reporting
	type hit struct {
		c match.Candidate
		t *typed
	}
	var found []hit
	err := n.withPeople(ctx, func(x *match.Index, withheld int) error {
		out.Withheld = withheld
		for i := range people {
			t := &people[i]
			cs, err := x.Query(t.p)
			if err != nil {
				return err
			}
			for _, c := range cs {
				found = append(found, hit{c, t})
			}
		}
		return nil
	})
	if err != nil {
		return Reporting{}, err
	}
	// The youngest and the oldest found for each person typed with no
	// age: some two of them are too far apart for one person when these
	// two are.
	ages := map[*typed][2]int64{}
	for _, h := range found {
		c := h.c
		if c.Score < ReportedMinScore {
			continue
		}
		other := c.A
		if other == typedID || strings.HasPrefix(other, typedID+memberSep) {
			other = c.B
		}
		v, err := n.Person(ctx, other)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Reporting{}, err
		}
		r := reportedOf(v, c.Score, c.ReasonsIn(n.Lang()))
		r.For = h.t.who
		out.Records = append(out.Records, r)
		if !h.t.p.AgeKnown && r.Age >= 0 {
			if span, ok := ages[h.t]; ok {
				ages[h.t] = [2]int64{min(span[0], r.Age), max(span[1], r.Age)}
			} else {
				ages[h.t] = [2]int64{r.Age, r.Age}
			}
		}
	}
	slices.SortStableFunc(out.Records, func(a, b Reported) int { return cmp.Compare(b.Score, a.Score) })
	for i := range people {
		if span, ok := ages[&people[i]]; ok && match.AgesApart(int(span[0]), int(span[1])) {
			out.AskAge = append(out.AskAge, people[i].p.FullName)
		}
	}
	return out, nil
}

// typedID is the id of a record being typed, as the matcher reads it.
const typedID = "new"

// typed is a person of a record being typed, and for a family's
// registration, the member's name as typed.
type typed struct {
	p   match.Person
	who string
}

// typedPeople are the people of a record being typed, with the fields as
// the form gives them: the record, for a report or a person in a shelter;
// each household row with a name, and the head, for a family's
// registration (its rows a list of objects under "household", as a form
// or an import gives them). A record without a name yet has none.
func typedPeople(typ string, fields map[string]any) []typed {
	if !IsPeopleType(typ) {
		return nil
	}
	v := RecordView{ID: typedID, Type: typ, Fields: fields}
	if typ == FamilyRegistrationType {
		v.Fields = map[string]any{}
		for k, val := range fields {
			if k != householdRepeat {
				v.Fields[k] = val
			}
		}
		var rows []map[string]any
		switch list := fields[householdRepeat].(type) {
		case []map[string]any:
			rows = list
		case []any:
			for _, r := range list {
				if m, ok := r.(map[string]any); ok {
					rows = append(rows, m)
				}
			}
		}
		for i, r := range rows {
			if r[schemas.RemoveKey] == true {
				continue
			}
			// Rows not yet saved have no id: any row id sets them apart.
			id := fmt.Sprintf("%016d", i)
			for f, val := range r {
				if f != schemas.RowKey {
					v.Fields[householdRepeat+"."+id+"."+f] = val
				}
			}
		}
	}
	var out []typed
	for _, m := range peopleViews(v) {
		p, ok := personOf(m)
		if !ok || strings.TrimSpace(p.FullName) == "" {
			continue
		}
		who := ""
		if typ == FamilyRegistrationType {
			who = p.FullName
		}
		out = append(out, typed{p, who})
	}
	return out
}

// reportedOf is what a person is shown of a record that may report the
// same person.
func reportedOf(v RecordView, score float64, reasons []string) Reported {
	text := func(f string) string { s, _ := v.Fields[f].(string); return s }
	r := Reported{ID: v.ID, Type: v.Type, Case: v.Case, Score: score, Reasons: reasons, Name: text("full_name"), Age: -1}
	if rec, member, ok := strings.Cut(v.ID, memberSep); ok {
		r.ID, r.Member = rec, member
	}
	if age, ok := v.Fields["age"].(int64); ok {
		r.Age = age
	}
	if v.Type == MissingPersonType {
		r.Village = cmp.Or(text("last_seen_village"), text("last_seen_place"))
		r.District = text("district")
		r.At, r.By = text("reported_at"), text("reporter_name")
	} else {
		r.Village, r.District = text("home_village"), text("home_district")
		r.At, r.By = text("arrived_at"), text("shelter_name")
	}
	if len(v.History) > 0 {
		first := v.History[0]
		r.At = cmp.Or(r.At, first.At)
		r.By = cmp.Or(r.By, first.Via, first.Author)
	}
	return r
}
