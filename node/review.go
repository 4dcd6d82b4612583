package node

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"lifeline/node/ledger"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// Review: headquarters, or a relay for a record of its own district,
// approves a record, sends it back for a correction, or rejects it. The
// decision goes through the ledger (ledger.CmdReview, signed by the
// reviewing node, checked by every member). When the reviewing node
// applies it, it writes the outcome into the record as the reserved field
// ReviewField, in a change of its own: the review then reaches the
// record's author's laptop, which is no ledger member, at its next sync,
// as any field does, and a later review replaces an earlier one by the
// merge rule. Every node that receives the field checks who wrote it
// (admitReview): only an HQ node, or a relay of the record's district, in
// its own name.

// ReviewField is the reserved field that holds a record's review: a CBOR
// map {1: decision, 2: reason, 3: the reviewing node's id, 4: Unix
// milliseconds}. No kit declares it.
const ReviewField = "_review"

// A record's review state, as lists filter on it: one of the decisions
// (ledger.ReviewDecisions), or ReviewPending for a record nobody reviewed.
const (
	ReviewApproved        = ledger.ReviewApproved
	ReviewNeedsCorrection = ledger.ReviewNeedsCorrection
	ReviewRejected        = ledger.ReviewRejected
	ReviewPending         = "pending"
)

// ReviewStates are the states a list may filter on.
var ReviewStates = append(slices.Clone(ledger.ReviewDecisions), ReviewPending)

// ErrNotReviewer is wrapped by the refusal of a review this node may not
// make: a field laptop's, or a relay's of a record of another district.
var ErrNotReviewer = errors.New("not allowed to review this record")

// maxReviewValue bounds a review field's bytes: 500 characters of reason
// are at most 2000 bytes of UTF-8.
const maxReviewValue = 2200

// reviewValue is ReviewField's value. CBOR keys are append-only.
type reviewValue struct {
	Decision string           `cbor:"1,keyasint"`
	Reason   string           `cbor:"2,keyasint,omitempty"`
	Node     syncproto.NodeID `cbor:"3,keyasint"`
	At       int64            `cbor:"4,keyasint"`
}

// parseReview reads and checks a review field's value, untrusted bytes
// from a peer.
func parseReview(raw []byte) (reviewValue, error) {
	var v reviewValue
	if len(raw) > maxReviewValue {
		return v, fmt.Errorf("a review of %d bytes; at most %d", len(raw), maxReviewValue)
	}
	if err := syncproto.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("a review that is not a review's CBOR map: %v", err)
	}
	if err := ledger.CheckReview(v.Decision, v.Reason); err != nil {
		return v, err
	}
	if v.Node.IsZero() || v.At <= 0 {
		return v, errors.New("a review with no reviewer or no time")
	}
	return v, nil
}

// RecordReview is a record's review, as people and scripts read it.
type RecordReview struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
	Node     string `json:"node"` // the reviewing node's id
	// By is the name on the reviewing node's certificate, "" if this node
	// does not hold it.
	By string    `json:"by,omitempty"`
	At time.Time `json:"at"`
	// Corrected: the review asked for a correction, and a field of the
	// record was changed after it. The record waits for review again: its
	// state is ReviewPending until someone reviews it anew.
	Corrected bool `json:"corrected,omitempty"`
}

// reviewOf is the review a record's review field fv shows (its winning
// version), nil when it holds none this node can read. A request for a
// correction is Corrected once a field of rec holds a value written after
// it: the review's stamp and the edit's are hybrid clocks, and a laptop
// that saw the review stamps its edit after it, whatever its clock says.
func reviewOf(fv store.FieldView, rec store.Record, names map[syncproto.NodeID]string) *RecordReview {
	if len(fv.Versions) == 0 {
		return nil
	}
	v, err := parseReview(fv.Versions[0].Value)
	if err != nil {
		return nil
	}
	r := &RecordReview{Decision: v.Decision, Reason: v.Reason, Node: v.Node.String(), By: names[v.Node], At: time.UnixMilli(v.At).UTC()}
	if r.Decision == ReviewNeedsCorrection {
		at := fv.Versions[0].Stamp.HLC
		for _, f := range rec.Fields {
			if f.Name != ReviewField && f.Name != syncproto.DeletedField && len(f.Versions) > 0 && f.Versions[0].Stamp.HLC > at {
				r.Corrected = true
				break
			}
		}
	}
	return r
}

// State is the review's state: its decision, or ReviewPending for none,
// and for a record corrected since it was sent back for a correction.
func (r *RecordReview) State() string {
	if r == nil || r.Corrected {
		return ReviewPending
	}
	return r.Decision
}

// CheckReviewState says whether s is one of ReviewStates.
func CheckReviewState(s string) error {
	if !slices.Contains(ReviewStates, s) {
		return fmt.Errorf("review state %.32q is none of %s", s, strings.Join(ReviewStates, ", "))
	}
	return nil
}

// Review asks the ledger to record a review of a record: decision is one
// of ReviewApproved, ReviewNeedsCorrection and ReviewRejected; the last two
// need a reason (at most ledger.MaxReviewReason characters). Only an HQ
// node reviews any record, and a relay the records of its district. The
// review is queued for the running node of this data folder, which
// proposes it and, once the ledger applied it, writes it into the record.
func (n *Node) Review(ctx context.Context, id syncproto.RecordID, decision, reason string) error {
	self := n.Self()
	if !self.Role.Decides() && self.Role != syncproto.RoleRelay {
		return fmt.Errorf("%w: %s is a %s node; only headquarters, or a relay for the records of its district, reviews records", ErrNotReviewer, self.Name, self.Role)
	}
	reason = strings.TrimSpace(reason)
	if err := ledger.CheckReview(decision, reason); err != nil {
		return err
	}
	rec, err := n.store.Record(ctx, id)
	if err != nil {
		return err
	}
	district := districtOfRecord(rec)
	if !self.Role.Decides() && (district == "" || district != self.District) {
		of := "no district"
		if district != "" {
			of = district
		}
		return fmt.Errorf("%w: record %s is of %s; %s, a relay of %s, reviews only the records of %s", ErrNotReviewer, id, of, self.Name, self.District, self.District)
	}
	creds := n.Credentials()
	if creds == nil {
		return fmt.Errorf("%s is not enrolled yet: a review is signed with the certificate enrollment gives", self.Name)
	}
	at := n.signTime()
	r := &ledger.Review{Record: id, Decision: decision, Reason: reason, Node: self.ID, District: district, At: at.UnixMilli()}
	entry, err := ledger.Sign(ledger.CmdReview, r, at, creds.Cert.Raw, n.key.Signer())
	if err != nil {
		return err
	}
	return n.store.AddOutbox(ctx, ledger.CommandType(entry[0]), entry[1:])
}

// applyReview follows a review the ledger applied: the node that made it
// writes it into the record. The ledger may hand an entry over again after
// a restart, so a review is written only if the record holds none as
// recent.
func (n *Node) applyReview(ctx context.Context, r *ledger.Review) {
	if r.Node != n.Self().ID {
		return
	}
	if err := n.writeReview(ctx, r); err != nil {
		n.log.Warn("writing a review into its record", "record", r.Record.String(), "err", err)
	}
}

func (n *Node) writeReview(ctx context.Context, r *ledger.Review) error {
	rec, err := n.store.Record(ctx, r.Record)
	if err != nil {
		return err
	}
	for _, f := range rec.Fields {
		if f.Name == ReviewField && len(f.Versions) > 0 {
			if held, err := parseReview(f.Versions[0].Value); err == nil && held.At >= r.At {
				return nil
			}
		}
	}
	value, err := syncproto.Marshal(&reviewValue{Decision: r.Decision, Reason: r.Reason, Node: r.Node, At: r.At})
	if err != nil {
		return err
	}
	version, lane := rec.Version, rec.Lane
	if t, ok := n.Kits().Type(rec.Type); ok {
		version, lane = t.Version, syncproto.MakeLane(uint8(t.Priority), syncproto.LaneScope(rec.Lane))
	}
	_, err = n.store.Write(ctx, []store.Edit{{Record: r.Record, Lane: lane, Kit: rec.Kit, Type: rec.Type, Version: version,
		Fields: []syncproto.FieldChange{{Name: ReviewField, Value: value}}}})
	return err
}

// admitReview is admission's check of a change that sets ReviewField: a
// review well formed, in the name of the change's origin, of a record this
// node holds, by an HQ node or a relay of the record's district. ok is
// false with the verdict that keeps the change aside.
func (n *Node) admitReview(c *syncproto.Change, f *syncproto.FieldChange, origin originInfo, rec store.RecordFacts) (store.Verdict, bool) {
	final := func(format string, args ...any) (store.Verdict, bool) {
		return store.Verdict{Reason: fmt.Sprintf(format, args...), Final: true}, false
	}
	v, err := parseReview(f.Value)
	if err != nil {
		return final("%s: %v", ReviewField, err)
	}
	if v.Node != c.Origin {
		return final("a review in the name of node %s, written by %s", v.Node, origin.Name)
	}
	if !rec.Exists {
		return store.Verdict{Reason: fmt.Sprintf("reviews record %s, which this node does not hold yet", c.Record), Waits: store.WaitsForRecord}, false
	}
	if origin.Role.Decides() {
		return store.Verdict{}, true
	}
	district := recordDistrict(rec)
	if origin.Role != syncproto.RoleRelay || district == "" || district != origin.District {
		of := "no district"
		if district != "" {
			of = district
		}
		v, ok := final("reviews a record of %s; only headquarters or a relay of %s reviews it, and %s is a %s node of %s", of, of, origin.Name, origin.Role, origin.District)
		if origin.Role == syncproto.RoleRelay && syncproto.LaneScope(rec.Lane) == syncproto.National {
			// A national record's district is its district field's: as
			// admit's deletions, the review waits for a move of it.
			v.Final, v.Waits, v.Field = false, store.WaitsForField, "district"
		}
		return v, ok
	}
	return store.Verdict{}, true
}

// Reviewed yields the records a query selects whose review state is state
// (one of ReviewStates; "" for every record), oldest first, as Records.
func (n *Node) Reviewed(ctx context.Context, q Query, state string) iter.Seq2[RecordView, error] {
	return func(yield func(RecordView, error) bool) {
		if state != "" {
			if err := CheckReviewState(state); err != nil {
				yield(RecordView{}, err)
				return
			}
		}
		for v, err := range n.Records(ctx, q) {
			if err == nil && state != "" && v.Review.State() != state {
				continue
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// ReviewQueue lists the records awaiting a review (none yet, not deleted),
// newest first, at most limit (all when 0).
func (n *Node) ReviewQueue(ctx context.Context, limit int) ([]RecordView, error) {
	var out []RecordView
	for v, err := range n.Reviewed(ctx, Query{}, ReviewPending) {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if limit > 0 && len(out) > 2*limit {
			out = slices.Delete(out, 0, len(out)-limit)
		}
	}
	slices.Reverse(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
