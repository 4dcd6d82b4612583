package node

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"lifeline/node/personal"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Admission: a change a peer sent, whose origin's signature checks, merges
// only if it fits its kit and the write policy; otherwise it is kept aside
// (quarantined) with the reason, never counted or exported, and shown to
// headquarters. Every node decides alike, from the change, its origin's
// certificate and the kits: the policy is the same everywhere.
//
// The write policy (docs/security.md), checked against the record as this
// node holds it (an edit or a deletion of a record not here yet waits for
// the record):
//   - headquarters may change any record;
//   - headquarters' decisions are replaced only by headquarters: a version
//     an HQ node wrote in place of several (it decided a conflict);
//   - a field laptop or a relay creates records anywhere, edits the
//     district records of its own district, and the national ones (missing
//     persons, shelters) anywhere, but deletes, or moves a record to
//     another district, only in its own district.
//
// The kit: the record's type and kit, the type's lane, fields it declares,
// values within their bounds. A change of a kit version this node does not
// have yet waits aside until the kit arrives.

// maxSeq bounds the sequences a base may name: the store keeps a stream's
// sequence in 40 bits.
const maxSeq = 1 << 40

// enrolledBefore is how long before the deployment's CA a node may have
// stamped its changes: a laptop records offline before it is enrolled.
// The bound is the CA's, the same on every node, not the origin's
// certificate's: a laptop's certificate is renewed each season, and what
// it wrote in the seasons before still merges on a node that holds only
// the newest.
const enrolledBefore = 90 * 24 * time.Hour

// replacedAfter is how much later than an edit a version it replaces may
// be stamped. A node merges a version stamped at most its skew ahead of its
// clock, which never goes back, so its edits made after are stamped at
// most that much before it: a version stamped later still was written
// after the edit, which claims to replace what it never saw.
const replacedAfter = syncproto.DefaultMaxSkew

// admit is the store's Admission.
func (n *Node) admit(c *syncproto.Change, rec store.RecordFacts) store.Verdict {
	final := func(format string, args ...any) store.Verdict {
		return store.Verdict{Reason: fmt.Sprintf(format, args...), Final: true}
	}
	origin, ok := n.trust.origin(c.Origin)
	if !ok {
		// Its signature checked, so its certificate is here; only a store
		// error gets here.
		return store.Verdict{Reason: "its origin's certificate cannot be read here"}
	}
	if origin.Revoked && c.Seq > origin.Trusted[c.Stream()] {
		return final("written after headquarters revoked %s", origin.Name)
	}
	if began := n.trust.began(); c.HLC.Time().Before(began.Add(-enrolledBefore)) {
		return final("stamped %s, long before its origin %s could be enrolled: the deployment's certificate authority dates from %s", c.HLC.Time().Format(time.DateOnly), origin.Name, began.Format(time.DateOnly))
	}
	if rec.Exists && (c.Type != rec.Type || c.Kit != rec.Kit) {
		return final("names type %.64q of kit %.64q, but the record is a %s of %s", c.Type, c.Kit, rec.Type, rec.Kit)
	}
	t, known := n.Kits().Type(c.Type)
	switch {
	case !known || t.Kit != c.Kit:
		return store.Verdict{Reason: fmt.Sprintf("type %.64q of kit %.64q is not in this node's kits yet", c.Type, c.Kit)}
	case c.Version > t.Version:
		return store.Verdict{Reason: fmt.Sprintf("written with version %d of %s; this node has version %d", c.Version, t.Name, t.Version)}
	case int(syncproto.LanePriority(c.Lane)) != t.Priority:
		return final("travels at priority %d; %s records travel at priority %d", syncproto.LanePriority(c.Lane), t.Name, t.Priority)
	case t.National() && syncproto.LaneScope(c.Lane) != syncproto.National:
		// Life-safety records reach every node: one kept to a district
		// would not.
		return final("travels in the scope of %s; %s records are national", schemas.ScopeName(syncproto.LaneScope(c.Lane)), t.Name)
	case rec.Exists && syncproto.LaneScope(c.Lane) != syncproto.LaneScope(rec.Lane):
		// An edit in another scope than its record's would reach nodes
		// that may not hold the record.
		return final("travels in the scope of %s; its record is of %s", schemas.ScopeName(syncproto.LaneScope(c.Lane)), schemas.ScopeName(syncproto.LaneScope(rec.Lane)))
	}
	deletes, edits := false, false
	for i := range c.Fields {
		f := &c.Fields[i]
		edits = edits || len(f.Base) > 0
		for _, b := range f.Base {
			if b.Seq >= maxSeq {
				return final("%s names version %s, past any sequence a node writes", f.Name, b)
			}
			if _, known := n.trust.origin(b.Origin); !known {
				return store.Verdict{Reason: fmt.Sprintf("%s names a version of node %s, whose certificate is not here yet", f.Name, b.Origin)}
			}
		}
		if f.Name == ReviewField {
			if v, ok := n.admitReview(c, f, origin, rec); !ok {
				return v
			}
			continue
		}
		if f.Name == syncproto.DeletedField {
			if len(f.Value) != 1 || f.Value[0] != 0xf4 && f.Value[0] != 0xf5 {
				return final("a deletion that is not true or false")
			}
			deletes = f.Value[0] == 0xf5
			continue
		}
		fd, ok := t.Field(f.Name)
		if !ok {
			return final("sets %.64q, which %s does not declare", f.Name, t.Name)
		}
		if fd.Personal && personal.IsSealed(f.Value) {
			// Sealed for readers this node may not be among: its shape is
			// what can be checked here; its reader checks the value.
			if _, err := personal.Parse(f.Value); err != nil {
				return final("%s.%s: %v", t.Name, f.Name, err)
			}
			continue
		}
		if err := fd.Check(f.Value); err != nil {
			return final("%s.%s: %v", t.Name, f.Name, err)
		}
	}
	if v, ok := admitRows(c, rec); !ok {
		return v
	}
	if origin.Role.Decides() {
		return store.Verdict{}
	}
	if !rec.Exists && (edits || deletes) {
		// Merged before the record, an edit or a deletion would pass
		// unchecked, and stand once the record came: it waits for it.
		return store.Verdict{Reason: fmt.Sprintf("changes record %s, which this node does not hold yet", c.Record), Waits: store.WaitsForRecord}
	}
	for i := range c.Fields {
		f := &c.Fields[i]
		for _, b := range f.Base {
			o, _ := n.trust.origin(b.Origin)
			base, held := rec.Change(b)
			if !held {
				// Merged first, it would replace the version whenever
				// that came, even one written after it.
				return store.Verdict{Reason: fmt.Sprintf("replaces %s's version of %s, which is not here yet", o.Name, f.Name),
					Waits: store.WaitsForVersion, Version: b}
			}
			if base.HLC.Time().Sub(c.HLC.Time()) > replacedAfter {
				return final("replaces %s's version of %s, stamped %s, which it could not have seen", o.Name, f.Name, base.HLC.Time().Format(time.RFC3339))
			}
			if bf, ok := base.Field(f.Name); ok && len(bf.Base) > 1 && o.Role.Decides() {
				return final("replaces the decision %s made on %s: only headquarters does", o.Name, f.Name)
			}
		}
	}
	if !rec.Exists {
		return store.Verdict{}
	}
	district := recordDistrict(rec)
	refuse := final
	if t.National() {
		// A national record's district is its district field's, which a
		// change of HQ or of the district may move: a refusal by it waits
		// for that change, so that nodes that take the move and this
		// change in either order agree.
		refuse = func(format string, args ...any) store.Verdict {
			return store.Verdict{Reason: fmt.Sprintf(format, args...), Waits: store.WaitsForField, Field: "district"}
		}
	}
	switch {
	case district == "" || district == origin.District:
	case deletes:
		return refuse("deletes a record of %s; %s is of %s", district, origin.Name, origin.District)
	case !t.National():
		return final("edits a record of %s; %s is of %s", district, origin.Name, origin.District)
	case movesFrom(c, district):
		// Moved to its own district, or to none, a national record would
		// be the node's to delete.
		return refuse("moves a record of %s to another district; %s is of %s", district, origin.Name, origin.District)
	}
	return store.Verdict{}
}

// movesFrom says whether a change sets a record's district field to
// another than district.
func movesFrom(c *syncproto.Change, district string) bool {
	f, ok := c.Field("district")
	return ok && districtValue(f.Value) != district
}

// admitRows refuses a change that adds rows to a repeat past
// schemas.MaxRows live rows, as the kit allows no node to write: a forger's
// rows would grow the record without end, and every reader with it. The
// rows removed are counted out only when the rows ever added are more than
// the bound, so that the common change reads nothing of the store. Two
// nodes adding rows at once can, rarely, pass the bound together: the
// second change is kept aside, not lost, for a person to see.
func admitRows(c *syncproto.Change, rec store.RecordFacts) (store.Verdict, bool) {
	added := map[string]map[string]bool{} // repeat, row: removed by this change
	for i := range c.Fields {
		rep, row, field, ok := schemas.SplitRowField(c.Fields[i].Name)
		if !ok {
			continue
		}
		if added[rep] == nil {
			added[rep] = map[string]bool{}
		}
		removed := field == schemas.RemoveKey && bytes.Equal(c.Fields[i].Value, []byte{0xf5})
		added[rep][row] = added[rep][row] || removed
	}
	if len(added) == 0 {
		return store.Verdict{}, true
	}
	held := map[string]map[string]bool{} // repeat, row: held already
	if rec.Exists {
		for _, name := range rec.Names() {
			if rep, row, _, ok := schemas.SplitRowField(name); ok && added[rep] != nil {
				if held[rep] == nil {
					held[rep] = map[string]bool{}
				}
				held[rep][row] = true
			}
		}
	}
	for rep, rows := range added {
		all := len(held[rep])
		for row := range rows {
			if !held[rep][row] {
				all++
			}
		}
		if all <= schemas.MaxRows {
			continue
		}
		live := 0
		for row := range held[rep] {
			if !rows[row] && !bytes.Equal(rec.Field(schemas.RowField(rep, row, schemas.RemoveKey)), []byte{0xf5}) {
				live++
			}
		}
		for row, removed := range rows {
			if !held[rep][row] && !removed {
				live++
			}
		}
		if live > schemas.MaxRows {
			return store.Verdict{Reason: fmt.Sprintf("%.64s would hold %d rows, at most %d are allowed", rep, live, schemas.MaxRows), Final: true}, false
		}
	}
	return store.Verdict{}, true
}

// QuarantinedChange is a change kept aside, as people see it.
type QuarantinedChange struct {
	Record string    `json:"record"`
	Type   string    `json:"type"`
	Origin string    `json:"origin"` // the node that wrote it, by its certificate
	Author string    `json:"author,omitempty"`
	Dot    string    `json:"change"`
	At     string    `json:"stamped"`
	Reason string    `json:"reason"`
	Final  bool      `json:"final"` // false: it waits for a kit or a version
	Since  time.Time `json:"kept_since"`
	// WaitsForField is the field of the record a change of which would
	// have it looked at again (a national record's district, which a
	// deletion was refused by); empty for any other.
	WaitsForField string `json:"waits_for_field,omitempty"`
}

// Quarantine lists the changes kept aside, newest first, at most limit
// (all when 0).
func (n *Node) Quarantine(ctx context.Context, limit int) ([]QuarantinedChange, error) {
	qs, err := n.store.Quarantine(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]QuarantinedChange, 0, len(qs))
	for _, q := range qs {
		c := q.Change
		name := c.Origin.String()
		if o, ok := n.trust.origin(c.Origin); ok {
			name = o.Name
		}
		out = append(out, QuarantinedChange{Record: c.Record.String(), Type: c.Type, Origin: name, Author: c.Author,
			Dot: c.Dot().String(), At: c.HLC.Time().Format(time.RFC3339), Reason: q.Reason, Final: q.Final, Since: q.At,
			WaitsForField: q.Field})
	}
	return out, nil
}

// QuarantineCount counts the changes kept aside.
func (n *Node) QuarantineCount(ctx context.Context) (int, error) {
	return n.store.QuarantineCount(ctx)
}

// readmit merges the changes kept aside for a kit this node did not have,
// once it has it.
func (n *Node) readmit(ctx context.Context) {
	if k, err := n.store.Readmit(ctx); err != nil {
		n.log.Warn("looking again at changes kept aside", "err", err)
	} else if k > 0 {
		n.log.Info("merged changes kept aside until their kit arrived", "changes", k)
	}
}

// recordDistrict is the district a record is of, "" when it has none: the
// district whose scope it travels in, which its first change fixed alike
// on every node, else (a national record) as its district field shows. A
// node of the district editing the field moves no record out of it: the
// district's nodes would no longer edit it, and no other holds it.
func recordDistrict(rec store.RecordFacts) string {
	if scope := syncproto.LaneScope(rec.Lane); scope != syncproto.National {
		return schemas.ScopeName(scope)
	}
	return districtValue(rec.Field("district"))
}

// districtOfRecord is recordDistrict of a record as the store holds it: a
// relay links, and reviews, the records of its district as the write
// policy has them, and what is written of a record is sealed for it, so
// that a laptop setting a district record's district field hands no other
// district's relay the decisions on it, nor what is written of it after.
func districtOfRecord(r store.Record) string {
	if scope := syncproto.LaneScope(r.Lane); scope != syncproto.National {
		return schemas.ScopeName(scope)
	}
	return storedDistrict(r)
}

// districtValue is the district a district field's value names, in its
// canonical spelling where it is one of schemas.Districts, "" when the
// value is no text.
func districtValue(raw []byte) string {
	d, ok := syncproto.TextValue(raw)
	if !ok {
		return ""
	}
	if canon, ok := schemas.District(d); ok {
		return canon
	}
	return d
}
