package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"lifeline/node/ledger"
	"lifeline/node/personal"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// ErrUnknownType means no kit this node knows declares the record type.
var ErrUnknownType = errors.New("unknown record type")

// Type returns a record type by name, with an error listing the known ones.
func (n *Node) Type(name string) (*schemas.Type, error) {
	t, ok := n.Kits().Type(name)
	if !ok {
		return nil, fmt.Errorf("%w %q: the kits here have %s", ErrUnknownType, name, strings.Join(n.Kits().TypeNames(), ", "))
	}
	return t, nil
}

// Add saves a new record of a type from a JSON object of its fields. The
// object may carry the record's "id" (a UUID) and its "kit". It returns once
// the record is on disk.
func (n *Node) Add(ctx context.Context, typeName string, data []byte, author string) (syncproto.RecordID, error) {
	t, err := n.Type(typeName)
	if err != nil {
		return syncproto.RecordID{}, err
	}
	in, err := t.ParseJSON(data, schemas.Create)
	if err != nil {
		return syncproto.RecordID{}, err
	}
	if err := t.Apply(nil, &in, schemas.Create, schemas.Today(time.Now())); err != nil {
		return syncproto.RecordID{}, err
	}
	e, err := n.edit(ctx, t, in, true, author, "")
	if err != nil {
		return syncproto.RecordID{}, err
	}
	if _, err := n.store.Write(ctx, []store.Edit{e}); err != nil {
		return syncproto.RecordID{}, err
	}
	return e.Record, nil
}

// Update sets the fields a JSON object gives on an existing record; null
// clears an optional field. An update of a field in conflict resolves it:
// the new value replaces every version this node holds.
func (n *Node) Update(ctx context.Context, id syncproto.RecordID, data []byte, author string) (syncproto.Dot, error) {
	w, err := n.updateAll(ctx, []syncproto.RecordID{id}, data, author, false, nil)
	if err != nil {
		return syncproto.Dot{}, err
	}
	return w[0].Dot, nil
}

// UpdateSeen is Update of the fields a person changed in the record as
// they saw it: seen are, by field, the record's Heads when it was shown.
// Where a field set holds other versions by then (one a sync brought
// while the person edited), it writes nothing and returns ErrUnseen, as
// Decide does: a version the person never saw is not replaced.
func (n *Node) UpdateSeen(ctx context.Context, id syncproto.RecordID, data []byte, author string, seen map[string][]syncproto.Dot) (syncproto.Dot, error) {
	w, err := n.updateAll(ctx, []syncproto.RecordID{id}, data, author, false, seen)
	if err != nil {
		return syncproto.Dot{}, err
	}
	return w[0].Dot, nil
}

// ErrUnseen refuses a decision of a field in conflict whose versions are
// no longer those the person deciding saw: one came, or was replaced,
// meanwhile. Show the record again.
var ErrUnseen = store.ErrUnseen

// Decide sets a field in conflict to value, as a person deciding it saw
// the field's versions: seen are the record's Heads of the field when it
// was shown. It replaces those versions alone; where the field holds
// others by then (a version a sync brought while the person decided), it
// writes nothing and returns ErrUnseen. Where Update replaces every
// version held when it saves, Decide keeps a conflict for a person to see
// whole. The deleted field takes true or false.
func (n *Node) Decide(ctx context.Context, id syncproto.RecordID, field string, value any, seen []syncproto.Dot, author string) (syncproto.Dot, error) {
	saw := map[string][]syncproto.Dot{field: seen}
	if field == syncproto.DeletedField {
		deleted, ok := value.(bool)
		if !ok {
			return syncproto.Dot{}, fmt.Errorf("%w: %s is true or false, not %v", schemas.ErrInvalid, field, value)
		}
		return n.setDeleted(ctx, id, deleted, author, saw)
	}
	data, err := json.Marshal(map[string]any{field: value})
	if err != nil {
		return syncproto.Dot{}, fmt.Errorf("%w: %s: %v", schemas.ErrInvalid, field, err)
	}
	return n.UpdateSeen(ctx, id, data, author, saw)
}

// updateAll sets the same fields on each of several records, saved
// together or not at all: one record refused (not held, not of a type
// the fields fit, not this node's to write) leaves every one as it was.
// With undecided, a field set that is in conflict as the record stands
// refuses the update (ErrUndecided) rather than deciding the conflict.
// seen, where set, are the versions of each field the person deciding saw
// (Decide).
func (n *Node) updateAll(ctx context.Context, ids []syncproto.RecordID, data []byte, author string, undecided bool, seen map[string][]syncproto.Dot) ([]store.Written, error) {
	recs := make([]store.Record, len(ids))
	edits := make([]store.Edit, len(ids))
	for i, id := range ids {
		rec, e, err := n.updateEdit(ctx, id, data, author)
		if err == nil && undecided {
			for _, f := range rec.Fields {
				if len(f.Versions) > 1 && slices.ContainsFunc(e.Fields, func(c syncproto.FieldChange) bool { return c.Name == f.Name }) {
					err = fmt.Errorf("%w: %s is in conflict", ErrUndecided, f.Name)
				}
			}
		}
		if err != nil {
			if len(ids) > 1 {
				err = fmt.Errorf("record %s, so none of the %d records was written: %w", id, len(ids), err)
			}
			return nil, err
		}
		e.Seen = seen
		recs[i], edits[i] = rec, e
	}
	w, err := n.store.Write(ctx, edits)
	if err != nil {
		return nil, err
	}
	if n.Self().Role.Decides() {
		// A conflict decided at headquarters is recorded by the ledger, in
		// order with everything else it commits.
		for i, rec := range recs {
			for _, f := range rec.Fields {
				if len(f.Versions) < 2 || !slices.ContainsFunc(edits[i].Fields, func(c syncproto.FieldChange) bool { return c.Name == f.Name }) {
					continue
				}
				r := &ledger.Resolve{Record: ids[i], Field: f.Name, Change: w[i].Dot, By: author, At: time.Now().UnixMilli()}
				if err := n.Queue(ctx, ledger.CmdResolve, r); err != nil {
					return w, err
				}
			}
		}
	}
	return w, nil
}

// updateEdit is the edit an update of a record makes, checked by the
// record's kit against the record as this node holds it.
func (n *Node) updateEdit(ctx context.Context, id syncproto.RecordID, data []byte, author string) (store.Record, store.Edit, error) {
	rec, err := n.store.Record(ctx, id)
	if err != nil {
		return rec, store.Edit{}, err
	}
	t, err := n.Type(rec.Type)
	if err != nil {
		return rec, store.Edit{}, fmt.Errorf("record %s: %w", id, err)
	}
	in, err := t.ParseJSON(data, schemas.Update)
	if err != nil {
		return rec, store.Edit{}, err
	}
	if in.ID != "" && in.ID != id.String() {
		return rec, store.Edit{}, fmt.Errorf("%w: the object names record %s, the update is for %s", schemas.ErrInvalid, in.ID, id)
	}
	in.ID = id.String()
	// The kit's logic reads the record as this node holds it: the value
	// winning each field, opened where this node holds the key.
	cur := schemas.Values{}
	for _, f := range rec.Fields {
		if f.Name == syncproto.DeletedField || len(f.Versions) == 0 {
			continue
		}
		if raw, err := n.openValue(id, f.Name, f.Versions[0].Value); err == nil {
			cur[f.Name] = raw
		}
	}
	if err := t.Apply(cur, &in, schemas.Update, schemas.Today(time.Now())); err != nil {
		return rec, store.Edit{}, err
	}
	e, err := n.edit(ctx, t, in, false, author, districtOfRecord(rec))
	return rec, e, err
}

// Delete marks a record deleted. Nothing is erased: the record and its
// history stay, and Restore brings it back.
func (n *Node) Delete(ctx context.Context, id syncproto.RecordID, author string) error {
	_, err := n.setDeleted(ctx, id, true, author, nil)
	return err
}

// Restore undoes a Delete.
func (n *Node) Restore(ctx context.Context, id syncproto.RecordID, author string) error {
	_, err := n.setDeleted(ctx, id, false, author, nil)
	return err
}

func (n *Node) setDeleted(ctx context.Context, id syncproto.RecordID, deleted bool, author string, seen map[string][]syncproto.Dot) (syncproto.Dot, error) {
	rec, err := n.store.Record(ctx, id)
	if err != nil {
		return syncproto.Dot{}, err
	}
	v := []byte{0xf4}
	if deleted {
		v = []byte{0xf5}
	}
	version, lane := rec.Version, rec.Lane
	if t, ok := n.Kits().Type(rec.Type); ok {
		version, lane = t.Version, syncproto.MakeLane(uint8(t.Priority), syncproto.LaneScope(rec.Lane))
	}
	w, err := n.store.Write(ctx, []store.Edit{{Record: id, Lane: lane, Kit: rec.Kit, Type: rec.Type, Version: version, Author: author,
		Fields: []syncproto.FieldChange{{Name: syncproto.DeletedField, Value: v}}, Seen: seen}})
	if err != nil {
		return syncproto.Dot{}, err
	}
	return w[0].Dot, nil
}

// edit turns checked input into a store edit, its personal fields sealed
// for the record's district: district (the record's as this node holds
// it), or the one the input names for a new record or a national one. A
// district record stays in its scope whatever an update names
// (districtOfRecord), and so do its readers.
func (n *Node) edit(ctx context.Context, t *schemas.Type, in schemas.Input, create bool, author, district string) (store.Edit, error) {
	e := store.Edit{Create: create, Lane: n.newLane(t, in.Fields), Kit: t.Kit, Type: t.Name, Version: t.Version, Author: author, Fields: in.Fields}
	if in.ID != "" {
		id, err := syncproto.ParseRecordID(in.ID)
		if err != nil {
			return e, fmt.Errorf("%w: %s.id: %v", schemas.ErrInvalid, t.Name, err)
		}
		e.Record = id
	} else {
		e.Record = syncproto.NewRecordID()
	}
	if create || t.National() {
		district = districtOf(in.Fields, district)
	}
	return e, n.sealPersonal(ctx, t, &e, district)
}

// Version is one value a field has had, as people read it.
type Version struct {
	Value any    `json:"value"`
	Text  string `json:"text"`
	// Author is who the writing node says made the change: free text, which
	// only that node vouches for. Show it with Via.
	Author string `json:"author,omitempty"`
	Node   string `json:"node"`
	// Via is the name on the writing node's certificate, "" if this node
	// does not hold it.
	Via string `json:"via,omitempty"`
	At  string `json:"at"`
	// Ahead is how far its origin stamped it past this node's clock when
	// it arrived, 0 when no further than clocks agree: a version stamped
	// ahead may win a conflict only because its origin's clock ran fast.
	Ahead time.Duration `json:"-"`
	// StampedAhead is Ahead, in seconds, for scripts.
	StampedAhead string `json:"stamped_ahead,omitempty"`
}

// RecordView is a record as people and scripts read it.
type RecordView struct {
	ID        string               `json:"id"`
	Type      string               `json:"type"`
	Kit       string               `json:"kit"`
	Title     string               `json:"title"`
	Deleted   bool                 `json:"deleted,omitempty"`
	Updated   string               `json:"updated"`
	Fields    map[string]any       `json:"fields"`
	Conflicts map[string][]Version `json:"conflicts"`
	History   []HistoryEntry       `json:"history,omitempty"`
	// Case is the case number the ledger gave the record, once known here.
	Case string `json:"case,omitempty"`
	// Status says how far this node's own changes of the record got:
	// saved here, sent to a peer, or confirmed by the ledger at HQ. It is
	// empty when this node never changed the record.
	Status string `json:"status,omitempty"`
	// Decisions are the conflicts of the record headquarters decided, as
	// the ledger recorded them.
	Decisions []Decision `json:"decisions,omitempty"`
	// Review is the record's review (ReviewField), nil while none.
	Review *RecordReview `json:"review,omitempty"`
	// Version is the highest schema version of the record's type any of
	// its changes was written with.
	Version uint32 `json:"-"`

	// Order lists the fields as the type declares them, then any the kit
	// does not know (written by a newer kit version), for display.
	Order []string `json:"-"`
	// Labels and texts in the node's language, for display.
	Labels map[string]string `json:"-"`
	Texts  map[string]string `json:"-"`
	// Heads are, by field, the changes that wrote the versions it holds,
	// a cleared one too: what a person who saw the record saw of each
	// field (UpdateSeen).
	Heads map[string][]syncproto.Dot `json:"-"`

	// first is the change that created the record (store.Record.First).
	first syncproto.Dot
}

// Decision is a conflict decided at headquarters.
type Decision struct {
	Field  string `json:"field"`
	By     string `json:"by"`
	Via    string `json:"via,omitempty"` // the name on the certificate of the change's origin
	At     string `json:"at"`
	Change string `json:"change"` // origin:seq of the change that decided it
}

// HistoryEntry is one change of a record.
type HistoryEntry struct {
	Node   string `json:"node"`
	Status string `json:"status"` // saved, sent or confirmed

	Seq    uint64         `json:"seq"`
	Author string         `json:"author,omitempty"`
	Via    string         `json:"via,omitempty"` // the name on the certificate of Node
	At     string         `json:"at"`
	Fields map[string]any `json:"fields"`
}

func formatHLC(h syncproto.HLC) string { return h.Time().Format(time.RFC3339) }

// view renders a stored record with its schema, in the node's language;
// names are the nodes' names as their certificates give them.
func (n *Node) view(r store.Record, names map[syncproto.NodeID]string) RecordView {
	v := RecordView{ID: r.ID.String(), Type: r.Type, Kit: r.Kit, Deleted: r.Deleted, Updated: formatHLC(r.Updated), Version: r.Version,
		Fields: map[string]any{}, Conflicts: map[string][]Version{}, Labels: map[string]string{}, Texts: map[string]string{}, first: r.First,
		Heads: map[string][]syncproto.Dot{}}
	t, known := n.Kits().Type(r.Type)
	lang := n.Lang()
	fieldOf := func(name string) *schemas.Field {
		if known {
			if f, ok := t.Field(name); ok {
				return f
			}
		}
		return nil
	}
	decode := func(f *schemas.Field, name string, raw []byte) (any, string) {
		raw, err := n.openField(r.ID, f, name, raw)
		if errors.Is(err, personal.ErrNoKey) {
			return Withheld{}, WithheldText[lang]
		}
		if err != nil {
			return Withheld{}, "?" // altered: shown, never taken for cleared
		}
		if f == nil {
			x, err := schemas.DecodeAny(raw)
			if err != nil {
				return nil, "?"
			}
			return x, fmt.Sprint(x)
		}
		x, err := f.Decode(raw)
		if err != nil {
			return nil, "?"
		}
		return x, f.Format(raw, lang)
	}
	present := map[string]bool{}
	for _, fv := range r.Fields {
		for _, ver := range fv.Versions {
			v.Heads[fv.Name] = append(v.Heads[fv.Name], ver.Stamp.Dot())
		}
		if fv.Name == ReviewField {
			v.Review = reviewOf(fv, r, names)
			continue
		}
		if fv.Name == syncproto.DeletedField {
			if len(fv.Versions) > 1 {
				v.Conflicts[fv.Name] = n.versions(nil, fv.Name, fv.Versions, decode, names)
			}
			continue
		}
		f := fieldOf(fv.Name)
		val, text := decode(f, fv.Name, fv.Versions[0].Value)
		if val == nil {
			continue // cleared
		}
		present[fv.Name] = true
		v.Fields[fv.Name] = val
		v.Texts[fv.Name] = text
		if len(fv.Versions) > 1 {
			v.Conflicts[fv.Name] = n.versions(f, fv.Name, fv.Versions, decode, names)
		}
	}
	if known {
		v.Title = t.Title.In(lang)
		for _, f := range t.Fields {
			v.Labels[f.Name] = f.Label.In(lang)
			if present[f.Name] {
				v.Order = append(v.Order, f.Name)
				delete(present, f.Name)
			}
		}
	}
	for _, fv := range r.Fields {
		if present[fv.Name] {
			v.Order = append(v.Order, fv.Name)
			v.Labels[fv.Name] = fv.Name
		}
	}
	if known {
		arrangeRows(t, &v, lang)
	}
	return v
}

func (n *Node) versions(f *schemas.Field, name string, vs []store.Version, decode func(*schemas.Field, string, []byte) (any, string), names map[syncproto.NodeID]string) []Version {
	out := make([]Version, len(vs))
	for i, ver := range vs {
		val, text := decode(f, name, ver.Value)
		out[i] = Version{Value: val, Text: text, Author: ver.Author, Node: ver.Stamp.Origin.String(), Via: names[ver.Stamp.Origin], At: formatHLC(ver.Stamp.HLC),
			Ahead: ver.Ahead.Round(time.Second)}
		if out[i].Ahead > 0 {
			out[i].StampedAhead = out[i].Ahead.String()
		}
	}
	return out
}

// nodeNames are the names of the nodes whose certificates this node holds,
// its own among them: the names a node is shown by. A name a node gives
// itself in a hello or in gossip is never shown.
func (n *Node) nodeNames(ctx context.Context) (map[syncproto.NodeID]string, error) {
	known, err := n.store.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[syncproto.NodeID]string, len(known)+1)
	for _, k := range known {
		names[k.Node] = k.Name
	}
	if self := n.Self(); names[self.ID] == "" {
		names[self.ID] = self.Name
	}
	return names, nil
}

// nodeName is one node's name as nodeNames gives it, "" if unknown.
func (n *Node) nodeName(ctx context.Context, id syncproto.NodeID) string {
	if c, ok, err := n.store.Node(ctx, id); err == nil && ok {
		return c.Name
	}
	if self := n.Self(); id == self.ID {
		return self.Name
	}
	return ""
}

// Record returns one record with its conflicts and history.
func (n *Node) Record(ctx context.Context, id syncproto.RecordID) (RecordView, error) {
	v, rd, err := n.readRecord(ctx, id)
	if err != nil {
		return RecordView{}, err
	}
	names, confirmed, sent := rd.names, rd.confirmed, rd.sent
	hist, err := n.store.History(ctx, id)
	if err != nil {
		return RecordView{}, err
	}
	decided, err := n.store.Resolutions(ctx, id)
	if err != nil {
		return RecordView{}, err
	}
	for _, d := range decided {
		v.Decisions = append(v.Decisions, Decision{Field: d.Field, By: d.By, Via: names[d.Change.Origin], At: time.UnixMilli(d.At).UTC().Format(time.RFC3339),
			Change: fmt.Sprintf("%s:%d", d.Change.Origin, d.Change.Seq)})
	}
	self := n.Self().ID
	for _, c := range hist {
		e := n.historyEntry(id, c, names, confirmed, sent)
		if c.Origin == self && (v.Status == "" || rank[e.Status] < rank[v.Status]) {
			v.Status = e.Status
		}
		v.History = append(v.History, e)
	}
	return v, nil
}

// historyEntry is one change of a record as its history shows it.
func (n *Node) historyEntry(id syncproto.RecordID, c syncproto.Change, names map[syncproto.NodeID]string, confirmed, sent syncproto.Vector) HistoryEntry {
	t, known := n.Kits().Type(c.Type)
	e := HistoryEntry{Node: c.Origin.String(), Seq: c.Seq, Author: c.Author, Via: names[c.Origin], At: formatHLC(c.HLC), Fields: map[string]any{},
		Status: changeStatus(c, confirmed, sent)}
	for _, fc := range c.Fields {
		var f *schemas.Field
		if known {
			f, _ = t.Field(fc.Name)
		}
		raw, err := n.openField(id, f, fc.Name, fc.Value)
		if err != nil {
			e.Fields[fc.Name] = Withheld{}
			continue
		}
		val, _ := schemas.DecodeAny(raw)
		if f != nil {
			val, _ = f.Decode(raw)
		}
		e.Fields[fc.Name] = val
	}
	return e
}

// RecordBrief returns a record as a list or a match shows it: its values,
// conflicts and case number, and of its history only the change that
// created it (History[0]: who reported it, and when). Unlike Record it
// reads the same few rows however many changes the record has: a record a
// modified laptop edited a hundred thousand times costs no more to show
// beside a match, or to a responder typing a name that finds it.
func (n *Node) RecordBrief(ctx context.Context, id syncproto.RecordID) (RecordView, error) {
	v, rd, err := n.readRecord(ctx, id)
	if err != nil {
		return RecordView{}, err
	}
	first, err := n.store.Change(ctx, v.first)
	if err != nil {
		return RecordView{}, err
	}
	v.History = []HistoryEntry{n.historyEntry(id, first, rd.names, rd.confirmed, rd.sent)}
	return v, nil
}

// recordReading is what reading a record's history needs beside it: the
// nodes' names, and how far this node's changes got.
type recordReading struct {
	names           map[syncproto.NodeID]string
	confirmed, sent syncproto.Vector
}

// readRecord reads a record's view with its case number, and what its
// history is read with.
func (n *Node) readRecord(ctx context.Context, id syncproto.RecordID) (RecordView, recordReading, error) {
	var rd recordReading
	r, err := n.store.Record(ctx, id)
	if err != nil {
		return RecordView{}, rd, err
	}
	if rd.names, err = n.nodeNames(ctx); err != nil {
		return RecordView{}, rd, err
	}
	v := n.view(r, rd.names)
	if v.Case, err = n.store.CaseNumber(ctx, id); err != nil {
		return RecordView{}, rd, err
	}
	if rd.confirmed, err = n.store.Confirmed(ctx); err != nil {
		return RecordView{}, rd, err
	}
	if rd.sent, err = n.store.Sent(ctx); err != nil {
		return RecordView{}, rd, err
	}
	return v, rd, nil
}

// How far a change got.
const (
	StatusSaved     = "saved"     // on this node only
	StatusSent      = "sent"      // a peer holds it
	StatusConfirmed = "confirmed" // the ledger at HQ committed it
)

var rank = map[string]int{StatusSaved: 0, StatusSent: 1, StatusConfirmed: 2}

func changeStatus(c syncproto.Change, confirmed, sent syncproto.Vector) string {
	return dotStatus(c.Dot(), confirmed, sent)
}

func dotStatus(d syncproto.Dot, confirmed, sent syncproto.Vector) string {
	st := syncproto.Stream{Origin: d.Origin, Lane: d.Lane}
	switch {
	case d.Seq <= confirmed[st]:
		return StatusConfirmed
	case d.Seq <= sent[st]:
		return StatusSent
	}
	return StatusSaved
}

// Query selects records to list.
type Query = store.Query

// Records yields the records a query selects, oldest first, each with its
// case number and status (not its history: Record gives that).
func (n *Node) Records(ctx context.Context, q Query) iter.Seq2[RecordView, error] {
	return func(yield func(RecordView, error) bool) {
		confirmed, err := n.store.Confirmed(ctx)
		if err != nil {
			yield(RecordView{}, err)
			return
		}
		sent, err := n.store.Sent(ctx)
		if err != nil {
			yield(RecordView{}, err)
			return
		}
		names, err := n.nodeNames(ctx)
		if err != nil {
			yield(RecordView{}, err)
			return
		}
		for r, err := range n.store.Records(ctx, q) {
			if err != nil {
				yield(RecordView{}, err)
				return
			}
			v := n.view(r, names)
			v.Case = r.Case
			// A stream's changes are confirmed and sent in order: the
			// latest change of the record in each lane says how far all
			// of them got.
			for _, d := range r.Own {
				st := dotStatus(d, confirmed, sent)
				if v.Status == "" || rank[st] < rank[v.Status] {
					v.Status = st
				}
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Summary is the line that identifies a record in a list: the values of the
// fields its type names as its summary.
func (n *Node) Summary(v RecordView) string { return n.summary(v, true) }

// LogSummary is Summary without the fields the kit marks personal: what a
// running node writes as records arrive, to an output a service manager
// may keep in its log, where a missing person's name must not land.
func (n *Node) LogSummary(v RecordView) string { return n.summary(v, false) }

func (n *Node) summary(v RecordView, personal bool) string {
	t, ok := n.Kits().Type(v.Type)
	if !ok {
		return ""
	}
	var parts []string
	for _, name := range t.Summary {
		if f, ok := t.Field(name); ok && f.Personal && !personal {
			continue
		}
		if s := v.Texts[name]; s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// MarshalJSON writes the record with each repeat's rows as a list under
// the repeat's name, each row an object of its fields and its "row" id,
// oldest first; removed rows are left out. Go code reads the rows' fields
// in Fields by their names, <repeat>.<row>.<field>.
func (v RecordView) MarshalJSON() ([]byte, error) {
	type plain RecordView
	out := plain(v)
	out.Fields = make(map[string]any, len(v.Fields))
	rows := map[string]map[string]map[string]any{}
	removed := map[string]bool{}
	for name, val := range v.Fields {
		rep, row, field, ok := schemas.SplitRowField(name)
		if !ok {
			out.Fields[name] = val
			continue
		}
		if field == schemas.RemoveKey {
			if val == true {
				removed[rep+"."+row] = true
			}
			continue
		}
		if rows[rep] == nil {
			rows[rep] = map[string]map[string]any{}
		}
		if rows[rep][row] == nil {
			rows[rep][row] = map[string]any{schemas.RowKey: row}
		}
		rows[rep][row][field] = val
	}
	for rep, byID := range rows {
		ids := make([]string, 0, len(byID))
		for id := range byID {
			if !removed[rep+"."+id] {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		list := make([]map[string]any, len(ids))
		for i, id := range ids {
			list[i] = byID[id]
		}
		out.Fields[rep] = list
	}
	return json.Marshal(out)
}
