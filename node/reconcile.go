package node

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lifeline/node/ledger"
	"lifeline/node/match"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// Reconciling people: the missing-person reports and the people sheltered
// that a node holds are matched (node/match) when asked, offline, from the
// records as they are then: the node keeps an index of them, brought up to
// date with the records written since at each call (match_index.go), so
// that what it finds is never older than the records, and a new record
// costs only its own comparisons. A person decides what a pair is: one
// person (linked), two (different), or neither any longer (unlinked). The
// decision goes through the ledger (ledger.CmdLink), signed by the
// deciding node, HQ or a relay of both records' district, and checked by
// every member; a pair's state is the last decision the ledger applied.
// Linked records form groups, the union of the linked pairs, computed from
// the ledger's state when asked.
// A missing person linked to a shelter's registration is found safe only
// when a person confirms it (ConfirmFound): nothing is written by a link.

// The record types that are matched, and the fields read of each.
const (
	MissingPersonType   = "missing-person"
	ShelteredPersonType = "sheltered-person"
)

// Kinds of pairs, as match gives them.
const (
	MatchDuplicate = string(match.Duplicate) // two reports of one missing person
	MatchFound     = string(match.Found)     // a missing person in a shelter
)

// ErrNotReconciler is wrapped by the refusal of matching or linking on a
// node that may not: a field laptop, or a relay for records of another
// district; and of a found proposal on a node that cannot open a person's
// age.
var ErrNotReconciler = errors.New("not allowed to reconcile these people")

// ErrNotPeople is wrapped by the refusal of a link of records that are not
// a pair of people: a record with itself, a record of another type, two
// registrations of shelters.
var ErrNotPeople = errors.New("not a pair of people records")

// ErrUndecided is wrapped by the refusal to confirm a person found while
// a report it would write holds a conflict on what it writes: a person
// decides the conflict, having seen it, before anyone is told.
var ErrUndecided = errors.New("a conflict to decide first")

// ErrTooManyLinked is wrapped by the refusal to propose, or confirm, a
// person found whose report is linked with more reports than one person
// has: links made in error, or a stolen relay's chain of them, would
// otherwise have the proposal name a district's every reporter to tell,
// and one confirmation write every report found.
var ErrTooManyLinked = errors.New("linked with more reports than one person has")

// Match is a pair of records that may be one person.
type Match struct {
	A       string   `json:"a"` // record ids, a before b
	B       string   `json:"b"`
	Kind    string   `json:"kind"`  // MatchDuplicate or MatchFound
	Score   float64  `json:"score"` // 0 to 1
	Reasons []string `json:"reasons"`
	// Member is, when A or B is a family's registration at a shelter,
	// the person of the family the pair is of: the household row's id,
	// or HeadMember; "" otherwise. Read it with Person(A or B +
	// "/" + Member).
	Member string `json:"member,omitempty"`
	// Decision is the ledger's decision on the pair (one of
	// ledger.LinkDecisions), "" when none.
	Decision string `json:"decision,omitempty"`
	// SetAside marks a pair of Matching.SetAside: taken together with
	// the others, the pair is not one person; its first reason says why.
	SetAside bool `json:"set_aside,omitempty"`
}

// Matching is what a node found: the pairs, and how many people records
// it could not match because it cannot open their names (personal data of
// a district whose key it does not hold).
type Matching struct {
	Matches []Match
	// SetAside are the pairs scored at least as much, undecided, that
	// taking the pairs together did not take for one person: the
	// namesakes of a stronger match (match.Index.GroupAside), each with
	// why as its first reason, best first. Whoever decides a pair should
	// see those of its two records beside it.
	SetAside []Match
	Withheld int
	// Crowded is how many people were not compared with every namesake,
	// or made more pairs than are kept (match.Index.Crowded): more
	// records of one name, age and place than any event gives, a flood
	// to look into. Zero for any real set of people.
	Crowded int
}

// Matches returns the pairs of people records this node holds whose score
// is at least minScore (0 to 1), best first.
func (n *Node) Matches(ctx context.Context, minScore float64) ([]Match, error) {
	m, err := n.Matching(ctx, minScore)
	return m.Matches, err
}

// Matching is Matches with the count of the records left out.
func (n *Node) Matching(ctx context.Context, minScore float64) (Matching, error) {
	if err := n.mayReconcile(); err != nil {
		return Matching{}, err
	}
	if !(minScore >= 0 && minScore <= 1) {
		return Matching{}, fmt.Errorf("a least score of %v; give one from 0 to 1, e.g. 0.5", minScore)
	}
	decided, err := n.linkStates(ctx)
	if err != nil {
		return Matching{}, err
	}
	var out Matching
	var found, aside []match.Candidate
	if minScore >= indexFloor {
		err := n.withPeople(ctx, func(x *match.Index, withheld int) error {
			found, aside = group(x, minScore, decided)
			out.Withheld, out.Crowded = withheld, x.Crowded()
			return nil
		})
		if err != nil {
			return Matching{}, err
		}
	} else {
		idx, people, withheld, err := n.readPeople(ctx, minScore)
		if err != nil {
			return Matching{}, err
		}
		if _, err := idx.AddAll(people); err != nil {
			return Matching{}, err
		}
		found, aside = group(idx, minScore, decided)
		out.Withheld, out.Crowded = len(withheld), idx.Crowded()
	}
	matches := func(cs []match.Candidate, undecided bool) []Match {
		var ms []Match
		for _, c := range cs {
			if c.Score < minScore {
				continue
			}
			a, ma, errA := SplitPersonID(c.A)
			b, mb, errB := SplitPersonID(c.B)
			if errA != nil || errB != nil {
				continue
			}
			a, b = ledger.PairOf(a, b)
			d := decided[[2]syncproto.RecordID{a, b}]
			if undecided && d != "" {
				// Another person of a family's registration, whose
				// record's pair is decided.
				continue
			}
			ms = append(ms, Match{A: a.String(), B: b.String(), Kind: string(c.Kind), Score: c.Score,
				Reasons: c.ReasonsIn(n.Lang()), Member: cmp.Or(ma, mb), Decision: d, SetAside: undecided})
		}
		slices.SortStableFunc(ms, func(x, y Match) int {
			return cmp.Or(cmp.Compare(y.Score, x.Score), strings.Compare(x.A, y.A), strings.Compare(x.B, y.B), strings.Compare(x.Member, y.Member))
		})
		return ms
	}
	out.Matches, out.SetAside = matches(found, false), matches(aside, true)
	return out, nil
}

// group is the index's pairs taken together (match.Index.GroupAside): a
// report's best registration stands, unless a person decided it is
// another person, when the next best does; the records of one person are
// paired all with all. The pairs decided different are kept, with their
// decision, and those decided one person are joined whatever their score.
// aside are the pairs set aside for a stronger match.
func group(x *match.Index, least float64, decided map[[2]syncproto.RecordID]string) (out, aside []match.Candidate) {
	cands := x.Candidates()
	if len(decided) == 0 {
		return x.GroupAside(cands, least, nil)
	}
	// The decisions by their records' ids, the lower first. A decision
	// names two records; a family registration's record is several
	// people. Different parts the report from each of them; linked joins
	// it with the one it matches best.
	byIDs := make(map[[2]string]string, len(decided))
	for k, d := range decided {
		a, b := k[0].String(), k[1].String()
		byIDs[[2]string{min(a, b), max(a, b)}] = d
	}
	recordsOf := func(a, b string) [2]string {
		a, _, _ = strings.Cut(a, memberSep)
		b, _, _ = strings.Cut(b, memberSep)
		return [2]string{min(a, b), max(a, b)}
	}
	// The pair of people that stands for a pair of records decided: the
	// one that matches best.
	best := map[[2]string]match.Candidate{}
	for _, c := range cands {
		k := recordsOf(c.A, c.B)
		if d := byIDs[k]; d != ledger.LinkLinked && d != ledger.LinkDifferent {
			continue
		}
		if o, ok := best[k]; !ok || c.Score > o.Score || c.Score == o.Score && c.A+c.B < o.A+o.B {
			best[k] = c
		}
	}
	// A pair linked that the matcher did not find joins too, when each
	// record is one person.
	for k, d := range byIDs {
		if _, ok := best[k]; ok || d != ledger.LinkLinked {
			continue
		}
		if c, ok := x.Pair(k[0], k[1]); ok {
			best[k] = c
			cands = append(cands, c)
		}
	}
	decisionOf := func(a, b string) match.Decision {
		k := recordsOf(a, b)
		switch byIDs[k] {
		case ledger.LinkDifferent:
			return match.Different
		case ledger.LinkLinked:
			if c := best[k]; c.A == min(a, b) && c.B == max(a, b) {
				return match.Same
			}
		}
		return match.Undecided
	}
	out, aside = x.GroupAside(cands, least, decisionOf)
	// A pair decided different is listed with its decision, once: a
	// report decided another person than a family's, with the member it
	// matched best.
	for k, c := range best {
		if byIDs[k] == ledger.LinkDifferent {
			out = append(out, c)
		}
	}
	return out, aside
}

// personOf reads a people record as the matcher does; ok is false when
// its name is personal data this node cannot open.
func personOf(v RecordView) (match.Person, bool) {
	name, ok := v.Fields["full_name"].(string)
	if !ok {
		_, withheld := v.Fields["full_name"].(Withheld)
		return match.Person{}, !withheld
	}
	text := func(f string) string { s, _ := v.Fields[f].(string); return s }
	p := match.Person{ID: v.ID, FullName: name, Sex: text("sex")}
	if age, ok := v.Fields["age"].(int64); ok && age >= 0 && age <= match.MaxAge {
		p.Age, p.AgeKnown = int(age), true
	}
	at := "reported_at"
	if v.Type == MissingPersonType {
		p.Record = match.Missing
		p.AlsoKnownAs = text("also_known_as")
		p.Village = cmp.Or(text("last_seen_village"), text("last_seen_place"))
		p.District = text("district")
	} else {
		p.Record = match.Sheltered
		p.Village, p.District = text("home_village"), text("home_district")
		at = "arrived_at"
	}
	if t, err := time.Parse(time.RFC3339Nano, text(at)); err == nil {
		p.At = t
	}
	return p, true
}

// mayReconcile refuses a node that holds no part in the ledger.
func (n *Node) mayReconcile() error {
	self := n.Self()
	if !self.Role.Decides() && self.Role != syncproto.RoleRelay {
		return fmt.Errorf("%w: %s is a %s node; headquarters, or a relay for the people of its district, matches and links people records", ErrNotReconciler, self.Name, self.Role)
	}
	return nil
}

// linkHolds says whether a decision the ledger holds stands here. The
// ledger checked that a relay's decision names the relay's district, but
// it holds no records, so it could not check the records: here, a relay's
// decision stands only while this node holds both, they are a pair of
// people a node links (pairKind), and each is of the district it names.
// A relay of Toledo cannot link, or part, two people of Cayo by naming
// Toledo, nor join a report with a damage assessment or a record no node
// holds. Headquarters' decisions stand whatever district they name.
func (n *Node) linkHolds(ctx context.Context, l ledger.Link) (bool, error) {
	return n.linkCheck().holds(ctx, l)
}

// linkCheck is linkHolds for many decisions: it reads each deciding node
// and each record once, however many decisions name it, so that a stolen
// relay's decisions on its district's people all with all cost a read of
// each person, not two of each decision.
type linkCheck struct {
	n       *Node
	decides map[syncproto.NodeID]bool
	records map[syncproto.RecordID]pairRecord
}

// pairRecord is what a decision's check reads of a record: its type, ""
// when this node does not hold it, and its district.
type pairRecord struct{ typ, district string }

func (n *Node) linkCheck() *linkCheck {
	return &linkCheck{n: n, decides: map[syncproto.NodeID]bool{}, records: map[syncproto.RecordID]pairRecord{}}
}

func (c *linkCheck) holds(ctx context.Context, l ledger.Link) (bool, error) {
	if l.District == "" {
		return true, nil // only headquarters decides without naming one
	}
	decides, ok := c.decides[l.Node]
	if !ok {
		by, held, err := c.n.store.Node(ctx, l.Node)
		if err != nil {
			return false, err
		}
		decides = held && by.Role.Decides()
		c.decides[l.Node] = decides
	}
	if decides {
		return true, nil
	}
	a, err := c.record(ctx, l.A)
	if err != nil {
		return false, err
	}
	b, err := c.record(ctx, l.B)
	if err != nil {
		return false, err
	}
	if _, err := pairKind(l.A, l.B, a.typ, b.typ); err != nil {
		return false, nil
	}
	return a.district == l.District && b.district == l.District, nil
}

func (c *linkCheck) record(ctx context.Context, id syncproto.RecordID) (pairRecord, error) {
	if p, ok := c.records[id]; ok {
		return p, nil
	}
	var p pairRecord
	r, err := c.n.store.Record(ctx, id)
	if err == nil {
		p = pairRecord{r.Type, districtOfRecord(r)}
	} else if !errors.Is(err, store.ErrNotFound) {
		return p, err
	}
	c.records[id] = p
	return p, nil
}

// links is every decision the ledger holds here that stands (linkHolds).
func (n *Node) links(ctx context.Context) ([]ledger.Link, error) {
	all, err := n.store.Links(ctx)
	if err != nil {
		return nil, err
	}
	check := n.linkCheck()
	out := all[:0]
	for _, l := range all {
		ok, err := check.holds(ctx, l)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// linkStates is every pair's decision, as the ledger holds it here.
func (n *Node) linkStates(ctx context.Context) (map[[2]syncproto.RecordID]string, error) {
	links, err := n.links(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[[2]syncproto.RecordID]string, len(links))
	for _, l := range links {
		out[[2]syncproto.RecordID{l.A, l.B}] = l.Decision
	}
	return out, nil
}

// peoplePair reads two records and says what kind of pair they are; it
// refuses anything but two reports, or a report and a sheltered person.
func (n *Node) peoplePair(ctx context.Context, a, b syncproto.RecordID) (ra, rb store.Record, kind string, err error) {
	if a == b {
		return ra, rb, "", fmt.Errorf("%w: %s is one record; give two", ErrNotPeople, a)
	}
	if ra, err = n.store.Record(ctx, a); err != nil {
		return ra, rb, "", fmt.Errorf("record %s: %w", a, err)
	}
	if rb, err = n.store.Record(ctx, b); err != nil {
		return ra, rb, "", fmt.Errorf("record %s: %w", b, err)
	}
	kind, err = pairKind(a, b, ra.Type, rb.Type)
	return ra, rb, kind, err
}

// pairKind says what kind of pair two records of types ta and tb are; it
// refuses anything but two reports, or a report and a sheltered person.
func pairKind(a, b syncproto.RecordID, ta, tb string) (string, error) {
	for _, r := range []struct {
		id  syncproto.RecordID
		typ string
	}{{a, ta}, {b, tb}} {
		if !IsPeopleType(r.typ) {
			return "", fmt.Errorf("%w: record %s is a %s; only %s, %s and %s records are linked", ErrNotPeople, r.id, r.typ, MissingPersonType, ShelteredPersonType, FamilyRegistrationType)
		}
	}
	switch {
	case ta == MissingPersonType && tb == MissingPersonType:
		return MatchDuplicate, nil
	case ta != MissingPersonType && tb != MissingPersonType:
		return "", fmt.Errorf("%w: %s and %s are both people in shelters; a report of a missing person is linked with another report or with a person in a shelter", ErrNotPeople, a, b)
	}
	return MatchFound, nil
}

// Link asks the ledger to record a decision on two people records:
// ledger.LinkLinked (one person), ledger.LinkDifferent (two) or
// ledger.LinkUnlinked (an earlier decision withdrawn). HQ decides on any
// pair, a relay on a pair both of whose records are of its district. The
// decision is queued for the running node of this data folder, which
// proposes it; it holds once the ledger applied it. It returns the kind of
// pair.
func (n *Node) Link(ctx context.Context, a, b syncproto.RecordID, decision string) (string, error) {
	if err := n.mayReconcile(); err != nil {
		return "", err
	}
	if err := ledger.CheckLinkDecision(decision); err != nil {
		return "", err
	}
	ra, rb, kind, err := n.peoplePair(ctx, a, b)
	if err != nil {
		return "", err
	}
	self := n.Self()
	da, db := districtOfRecord(ra), districtOfRecord(rb)
	// The decision names the records' district when they are of one. A
	// relay's must, which every member checks against its certificate and
	// every node against the records (linkHolds). Headquarters' stands
	// whatever district the records come to be of, but naming it keeps
	// relays of other districts from deciding in its place: the ledger
	// lets a relay's decision replace only one naming its district.
	district := ""
	if da == db {
		district = da
	}
	if !self.Role.Decides() && (district == "" || district != self.District) {
		return "", fmt.Errorf("%w: records %s and %s are of %s and %s; %s, a relay of %s, links only people of %s (headquarters links any)",
			ErrNotReconciler, a, b, cmp.Or(da, "no district"), cmp.Or(db, "no district"), self.Name, self.District, self.District)
	}
	if held, ok, err := n.store.LinkOf(ctx, a, b); err != nil {
		return "", err
	} else if ok && !self.Role.Decides() && held.District != district {
		return "", fmt.Errorf("%w: the ledger holds a decision on %s and %s naming %s; only headquarters decides that pair again",
			ErrNotReconciler, a, b, cmp.Or(held.District, "no district"))
	}
	creds := n.Credentials()
	if creds == nil {
		return "", fmt.Errorf("%s is not enrolled yet: a link is signed with the certificate enrollment gives", self.Name)
	}
	at := n.signTime()
	lo, hi := ledger.PairOf(a, b)
	l := &ledger.Link{A: lo, B: hi, Decision: decision, Node: self.ID, District: district, At: at.UnixMilli()}
	entry, err := ledger.Sign(ledger.CmdLink, l, at, creds.Cert.Raw, n.key.Signer())
	if err != nil {
		return "", err
	}
	return kind, n.store.AddOutbox(ctx, ledger.CommandType(entry[0]), entry[1:])
}

// LinkState is the ledger's decision on a pair, "" when it holds none.
func (n *Node) LinkState(ctx context.Context, a, b syncproto.RecordID) (string, error) {
	l, ok, err := n.store.LinkOf(ctx, a, b)
	if err != nil || !ok {
		return "", err
	}
	if ok, err = n.linkHolds(ctx, l); err != nil || !ok {
		return "", err
	}
	return l.Decision, nil
}

// Linked is a record linked with another: its id, type and case number
// ("" before the ledger gave it one).
type Linked struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Case string `json:"case,omitempty"`
}

// LinkedWith returns the other records of id's group: the records linked
// with it, directly or through others, with their case numbers, each of
// which stands for the same person. None on a node outside the ledger. It
// walks the group from id, reading the decisions of the records it
// reaches alone: what the ledger holds of others costs nothing here.
func (n *Node) LinkedWith(ctx context.Context, id syncproto.RecordID) ([]Linked, error) {
	out, _, err := n.linkedGroup(ctx, id)
	return out, err
}

// linkedGroup is LinkedWith, and the nodes whose links make the group,
// each once.
func (n *Node) linkedGroup(ctx context.Context, id syncproto.RecordID) ([]Linked, []syncproto.NodeID, error) {
	check := n.linkCheck()
	var deciders []syncproto.NodeID
	seen := map[syncproto.RecordID]bool{id: true}
	var group []syncproto.RecordID
	for next := []syncproto.RecordID{id}; len(next) > 0; {
		x := next[len(next)-1]
		next = next[:len(next)-1]
		links, err := n.store.LinksOf(ctx, x)
		if err != nil {
			return nil, nil, err
		}
		for _, l := range links {
			other := l.A
			if other == x {
				other = l.B
			}
			if l.Decision != ledger.LinkLinked || seen[other] {
				continue
			}
			ok, err := check.holds(ctx, l)
			if err != nil {
				return nil, nil, err
			}
			if !ok {
				continue
			}
			if !slices.Contains(deciders, l.Node) {
				deciders = append(deciders, l.Node)
			}
			seen[other] = true
			group = append(group, other)
			next = append(next, other)
		}
	}
	slices.SortFunc(group, func(x, y syncproto.RecordID) int { return strings.Compare(x.String(), y.String()) })
	out := make([]Linked, 0, len(group))
	for _, x := range group {
		l := Linked{ID: x.String()}
		r, err := n.store.Record(ctx, x)
		if err == nil {
			l.Type = r.Type
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		if l.Case, err = n.store.CaseNumber(ctx, x); err != nil {
			return nil, nil, err
		}
		out = append(out, l)
	}
	return out, deciders, nil
}

// FoundProposal is what linking a missing person with a person in a
// shelter proposes: the report's status found-safe, found at the shelter;
// and whom to tell, the report's reporter, where this node can open the
// report's personal fields.
type FoundProposal struct {
	Missing      string `json:"missing"` // the missing-person record
	Shelter      string `json:"shelter"` // the sheltered-person record
	Status       string `json:"status"`
	FoundAtPlace string `json:"found_at_place"`
	// The reporter's contact; Withheld says this node cannot open them.
	ReporterName         string `json:"reporter_name,omitempty"`
	ReporterPhone        string `json:"reporter_phone,omitempty"`
	ReporterRelationship string `json:"reporter_relationship,omitempty"`
	Withheld             bool   `json:"withheld,omitempty"`
	// Cautions are what to check before confirming, and before telling
	// the reporter where the person is.
	Cautions []Caution `json:"cautions,omitempty"`
	// Linked are the person's other reports: linked with the report,
	// directly or through other records. Confirming writes those still
	// missing found too, and their reporters are to be told as well.
	Linked []LinkedReport `json:"linked,omitempty"`
}

// LinkedReport is another report of the person a found proposal is of.
type LinkedReport struct {
	ID   string `json:"id"`
	Case string `json:"case,omitempty"`
	// Status is the report's as it stands: confirming writes found-safe
	// into a report still missing, and leaves any other as it is.
	Status string `json:"status"`
	// StatusText is the status as the node's language says it.
	StatusText           string `json:"-"`
	ReporterName         string `json:"reporter_name,omitempty"`
	ReporterPhone        string `json:"reporter_phone,omitempty"`
	ReporterRelationship string `json:"reporter_relationship,omitempty"`
	Withheld             bool   `json:"withheld,omitempty"`
	// Cautions are those of who wrote the report and its reporter's
	// contact (the person's age is in the proposal's).
	Cautions []Caution `json:"cautions,omitempty"`
}

// reporterOf reads a report's reporter's contact; withheld says this node
// cannot open some of it.
func reporterOf(v RecordView) (name, phone, relationship string, withheld bool) {
	for f, dst := range map[string]*string{reporterFields[0]: &name, reporterFields[1]: &phone, reporterFields[2]: &relationship} {
		switch x := v.Fields[f].(type) {
		case string:
			*dst = x
		case Withheld:
			withheld = true
		}
	}
	return name, phone, relationship, withheld
}

// A Caution is something to check before a missing person is confirmed
// found, and before the reporter is told where they are. A report is a
// claim: whoever holds an enrolled laptop can write one, with any
// reporter's name and phone, for a child they have seen in a shelter.
type Caution struct {
	Code string `json:"code"` // one of the cautions of a found proposal (CautionChild...)
	// Age is the child's age, the least either record gives.
	Age int `json:"age,omitempty"`
	// Node is the node the report was written on, by its certificate's
	// name, and Person who wrote it there; with Contact, or for
	// CautionContactChanged, the node (and person) that wrote the
	// reporter's contact as it stands instead.
	Node    string `json:"node,omitempty"`
	Person  string `json:"person,omitempty"`
	Contact bool   `json:"contact,omitempty"`
	// Shelter says the caution is of the shelter's registration: it was
	// written on Node (by Person), or with Contact what places the person
	// there (the shelter's name, the person's name) was last written there.
	Shelter bool `json:"shelter,omitempty"`
	// Field is the field in conflict (CautionConflict), Values its
	// versions as this node reads them, the one shown first.
	Field  string   `json:"field,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Of says what of the pair a caution of a revoked node or person is of:
// "report" (the report was written there), "contact" (the reporter's
// contact as it stands), "shelter" (the registration was written there) or
// "place" (what places the person in the shelter was last written there).
func (c Caution) Of() string {
	switch {
	case c.Shelter && c.Contact:
		return "place"
	case c.Shelter:
		return "shelter"
	case c.Contact:
		return "contact"
	}
	return "report"
}

// The cautions of a found proposal.
const (
	// CautionChild: the report or the registration gives an age under
	// ChildUnder. A child is handed over only to a parent or guardian
	// whose identity and relation to the child have been checked.
	CautionChild = "child"
	// CautionRevokedNode: headquarters has since revoked the node the
	// report was written on (stolen, lost), or with Contact the node that
	// wrote the reporter's name, phone or relationship as they stand; with
	// Shelter, the node the registration, or what places the person there,
	// was written on.
	CautionRevokedNode = "revoked-node"
	// CautionRevokedLinker: headquarters has since revoked Node, whose
	// link of two records stands in the report's group: the report, the
	// registration or the reports linked with it were taken for one
	// person on its word, and their reporters are told with the report's.
	CautionRevokedLinker = "revoked-linker"
	// CautionRevokedPerson: headquarters has since revoked, on the node
	// the report was written on, the person who wrote it; or with Contact
	// the person who wrote the reporter's contact as it stands; with
	// Shelter, of the registration as for the report.
	CautionRevokedPerson = "revoked-person"
	// CautionContactChanged: the reporter's name, phone or relationship
	// as they stand were written by another node, or another person, than
	// the report: a stolen laptop not yet revoked needs only to change
	// the phone of a true report.
	CautionContactChanged = "contact-changed"
	// CautionConflict: the report's status or place found is in conflict
	// (two nodes wrote it apart: a hospital's "found deceased" and a
	// neighbour's "missing"); the value shown is only the one that wins
	// by the merge rule. Confirming found would write over every version,
	// so it is refused (ErrUndecided) until a person decides the conflict
	// on the record, having read each version.
	CautionConflict = "conflict"
	// CautionStatus: the report's status is not missing any more (found
	// injured at a hospital, found deceased, reunited), Values its text and
	// the place found: confirming writes found safe at the shelter over
	// it, which a person does only once they know which is true.
	CautionStatus = "status"
)

// foundFields are the fields confirming a person found writes.
var foundFields = []string{"status", "found_at_place"}

// conflictCautions are the cautions of a report's fields in conflict
// among those confirming found writes.
func conflictCautions(v RecordView) []Caution {
	var out []Caution
	for _, f := range foundFields {
		vs := v.Conflicts[f]
		if len(vs) == 0 {
			continue
		}
		c := Caution{Code: CautionConflict, Field: f}
		for _, ver := range vs {
			c.Values = append(c.Values, ver.Text)
		}
		out = append(out, c)
	}
	return out
}

// ChildUnder is the age under which a person is a child.
const ChildUnder = 18

// ProposeFound is the proposal of a pair of a missing person and a person
// in a shelter, given in either order; it writes nothing.
func (n *Node) ProposeFound(ctx context.Context, a, b syncproto.RecordID) (FoundProposal, error) {
	ra, rb, kind, err := n.peoplePair(ctx, a, b)
	if err != nil {
		return FoundProposal{}, err
	}
	if kind != MatchFound {
		return FoundProposal{}, fmt.Errorf("%w: %s and %s are two reports of missing people; a person is found in a shelter's registration", ErrNotPeople, a, b)
	}
	if ra.Type != MissingPersonType {
		ra, rb = rb, ra
	}
	missing, err := n.RecordBrief(ctx, ra.ID)
	if err != nil {
		return FoundProposal{}, err
	}
	shelter, err := n.RecordBrief(ctx, rb.ID)
	if err != nil {
		return FoundProposal{}, err
	}
	// The registration's age counts for the person the report matches
	// best, which takes both records' names.
	for _, v := range []RecordView{missing, shelter} {
		if err := n.agesOpen(v, "full_name", "age"); err != nil {
			return FoundProposal{}, err
		}
	}
	place, _ := shelter.Fields["shelter_name"].(string)
	if place == "" {
		return FoundProposal{}, fmt.Errorf("record %s names no shelter (shelter_name)", rb.ID)
	}
	p := FoundProposal{Missing: ra.ID.String(), Shelter: rb.ID.String(), Status: "found-safe", FoundAtPlace: place}
	p.ReporterName, p.ReporterPhone, p.ReporterRelationship, p.Withheld = reporterOf(missing)
	// The person is a child by any of their reports' ages, or by the
	// registration's.
	age := -1
	least := func(v RecordView) {
		if a, ok := v.Fields["age"].(int64); ok && a >= 0 && (age < 0 || int(a) < age) {
			age = int(a)
		}
	}
	least(missing)
	// What places the person in the shelter: its name, and the person's
	// name as the registration gives it.
	placed := []string{"shelter_name", "full_name"}
	if sheltered, ok := n.foundPerson(missing, shelter); ok {
		least(sheltered)
		if _, member, ok := strings.Cut(sheltered.ID, memberSep); ok {
			field := householdRepeat + "." + member + ".name"
			if member == HeadMember {
				field = "family_head_name"
			}
			placed = append(placed, field)
		}
	}
	linked, deciders, err := n.linkedGroup(ctx, ra.ID)
	if err != nil {
		return FoundProposal{}, err
	}
	names, err := n.nodeNames(ctx)
	if err != nil {
		return FoundProposal{}, err
	}
	var linkers []Caution
	for _, d := range deciders {
		if revoked, err := n.store.Revoked(ctx, d); err != nil {
			return FoundProposal{}, err
		} else if revoked {
			linkers = append(linkers, Caution{Code: CautionRevokedLinker, Node: cmp.Or(names[d], d.String())})
		}
	}
	slices.SortFunc(linkers, func(x, y Caution) int { return strings.Compare(x.Node, y.Node) })
	for _, l := range linked {
		if l.Type != MissingPersonType {
			continue
		}
		id, err := syncproto.ParseRecordID(l.ID)
		if err != nil {
			return FoundProposal{}, err
		}
		rec, err := n.store.Record(ctx, id)
		if err != nil {
			return FoundProposal{}, err
		}
		if rec.Deleted {
			continue
		}
		v, err := n.RecordBrief(ctx, id)
		if err != nil {
			return FoundProposal{}, err
		}
		if err := n.agesOpen(v, "age"); err != nil {
			return FoundProposal{}, err
		}
		least(v)
		r := LinkedReport{ID: l.ID, Case: l.Case}
		r.Status, _ = v.Fields["status"].(string)
		r.StatusText = cmp.Or(v.Texts["status"], r.Status)
		r.ReporterName, r.ReporterPhone, r.ReporterRelationship, r.Withheld = reporterOf(v)
		if r.Cautions, err = n.writerCautions(ctx, rec, v, names, reporterFields, false); err != nil {
			return FoundProposal{}, err
		}
		r.Cautions = append(r.Cautions, conflictCautions(v)...)
		p.Linked = append(p.Linked, r)
		// No person is reported more often than the matcher ever takes
		// for one (match.MaxGroup): a larger group is links made in
		// error, or a chain of them a stolen relay made, whose reporters
		// are not all to be told, nor their reports all written found.
		if len(p.Linked)+1 > match.MaxGroup {
			return FoundProposal{}, fmt.Errorf("%w: report %s is linked with at least %d other reports, and no person is taken for more than %d records; check its links (record show) and unlink the reports of other people first: nothing was written",
				ErrTooManyLinked, ra.ID, len(p.Linked), match.MaxGroup)
		}
	}
	if age >= 0 && age < ChildUnder {
		p.Cautions = append(p.Cautions, Caution{Code: CautionChild, Age: age})
	}
	writers, err := n.writerCautions(ctx, ra, missing, names, reporterFields, false)
	if err != nil {
		return FoundProposal{}, err
	}
	p.Cautions = append(p.Cautions, writers...)
	p.Cautions = append(p.Cautions, linkers...)
	// The registration is a claim too: a laptop can register a person in
	// a shelter they are not in, or change a true registration's shelter
	// or person, and confirming would write the report found safe there.
	writers, err = n.writerCautions(ctx, rb, shelter, names, placed, true)
	if err != nil {
		return FoundProposal{}, err
	}
	p.Cautions = append(p.Cautions, writers...)
	if st, _ := missing.Fields["status"].(string); st != "" && st != "missing" && len(missing.Conflicts["status"]) == 0 {
		c := Caution{Code: CautionStatus, Values: []string{cmp.Or(missing.Texts["status"], st)}}
		if at, _ := missing.Fields["found_at_place"].(string); at != "" {
			c.Values = append(c.Values, at)
		}
		p.Cautions = append(p.Cautions, c)
	}
	p.Cautions = append(p.Cautions, conflictCautions(missing)...)
	return p, nil
}

// agesOpen refuses a found proposal that would read a record whose
// people's fields (their age, and what tells it) this node cannot open,
// personal data of another district: it could not tell a child, and would
// name the reporter with no caution of one.
func (n *Node) agesOpen(v RecordView, fields ...string) error {
	for _, m := range peopleViews(v) {
		for _, f := range fields {
			if _, withheld := m.Fields[f].(Withheld); withheld {
				return fmt.Errorf("%w: the %s of record %s is personal data of a district whose key %s does not hold, so whether the person is a child cannot be told here; headquarters, or a relay of the person's district, proposes them found",
					ErrNotReconciler, f, v.ID, n.Self().Name)
			}
		}
	}
	return nil
}

// writerCautions are the cautions of who wrote a missing person's report,
// and who wrote its reporter's contact (fields) as it stands (a thief needs
// only to change the phone of a true report): rec is the report as stored,
// missing as RecordBrief reads it, with the change that created it. Of a
// shelter's registration (shelter), with the fields that place the person
// there, only the writers since revoked are named: the shelter's staff
// edit a registration wherever they are.
func (n *Node) writerCautions(ctx context.Context, rec store.Record, missing RecordView, names map[syncproto.NodeID]string, fields []string, shelter bool) ([]Caution, error) {
	var out []Caution
	type writer struct {
		origin  syncproto.NodeID
		author  string
		contact bool
	}
	var ws []writer
	if len(missing.History) > 0 {
		ws = append(ws, writer{rec.First.Origin, missing.History[0].Author, false})
	}
	for _, fv := range rec.Fields {
		if slices.Contains(fields, fv.Name) {
			for _, v := range fv.Versions {
				ws = append(ws, writer{v.Stamp.Origin, v.Author, true})
			}
		}
	}
	// who is a writer as the cautions tell them apart: a node and the
	// person on it, as a person's name is compared.
	who := func(w writer) string { return w.origin.String() + "\x00" + FoldName(w.author) }
	nodes, people, changed := map[syncproto.NodeID]bool{}, map[string]bool{}, map[string]bool{}
	for _, w := range ws {
		name, k := cmp.Or(names[w.origin], w.origin.String()), who(w)
		if w.contact && !shelter && len(missing.History) > 0 && k != who(ws[0]) && !changed[k] {
			changed[k] = true
			out = append(out, Caution{Code: CautionContactChanged, Node: name, Person: w.author})
		}
		if !nodes[w.origin] {
			nodes[w.origin] = true
			revoked, err := n.store.Revoked(ctx, w.origin)
			if err != nil {
				return nil, err
			}
			if revoked {
				out = append(out, Caution{Code: CautionRevokedNode, Node: name, Contact: w.contact, Shelter: shelter})
			}
		}
		_, folded, err := personName(w.author)
		if err != nil || people[k] {
			continue
		}
		people[k] = true
		revoked, err := n.store.PersonRevoked(ctx, w.origin, folded)
		if err != nil {
			return nil, err
		}
		if revoked {
			out = append(out, Caution{Code: CautionRevokedPerson, Node: name, Person: w.author, Contact: w.contact, Shelter: shelter})
		}
	}
	return out, nil
}

// reporterFields are a missing person's report's fields that say whom to
// tell when the person is found.
var reporterFields = []string{"reporter_name", "reporter_phone", "reporter_relationship"}

// foundPerson is the person of a shelter's registration a report is of:
// the registration's, or of a family's people the one the report matches
// best. ok is false when the node can read none of them.
func (n *Node) foundPerson(missing, shelter RecordView) (RecordView, bool) {
	report, ok := personOf(missing)
	if !ok || report.Validate() != nil {
		return RecordView{}, false
	}
	var best RecordView
	score := -1.0
	for _, v := range peopleViews(shelter) {
		p, ok := personOf(v)
		if !ok || p.Validate() != nil {
			continue
		}
		if c, ok := match.Compare(report, p, match.DefaultConfig()); ok && c.Score > score {
			best, score = v, c.Score
		}
	}
	return best, score >= 0
}

// ConfirmFound writes a found proposal into the missing person's record,
// and into the person's linked reports still missing, as updates with the
// kit's checks saved together or not at all, by author: a person confirms
// it, having checked the two records are one person.
func (n *Node) ConfirmFound(ctx context.Context, missing, sheltered syncproto.RecordID, author string) (FoundProposal, syncproto.Dot, error) {
	p, err := n.ProposeFound(ctx, missing, sheltered)
	if err != nil {
		return p, syncproto.Dot{}, err
	}
	if p.Missing != missing.String() {
		return p, syncproto.Dot{}, fmt.Errorf("%w: %s is the person in a shelter and %s the missing person's report; give the report as the missing person", ErrNotPeople, missing, sheltered)
	}
	data, err := json.Marshal(map[string]string{"status": p.Status, "found_at_place": p.FoundAtPlace})
	if err != nil {
		return p, syncproto.Dot{}, err
	}
	// A conflict on what is written is a person's to decide, not to be
	// written over unseen: the report, and each linked report written.
	var undecided []string
	say := func(report string, cs []Caution) {
		for _, c := range cs {
			if c.Code == CautionConflict {
				undecided = append(undecided, fmt.Sprintf("report %s: %s is %s", report, c.Field, strings.Join(c.Values, " or ")))
			}
		}
	}
	say(p.Missing, p.Cautions)
	for _, l := range p.Linked {
		if l.Status == "missing" {
			say(l.ID, l.Cautions)
		}
	}
	if len(undecided) > 0 {
		return p, syncproto.Dot{}, fmt.Errorf("%w: %s; decide it on the record (record show lists each version; record update, or the app's record screen, writes the one chosen), then confirm again: nothing was written",
			ErrUndecided, strings.Join(undecided, "; "))
	}
	// The person's other reports still missing are written found with the
	// report, in one transaction: a responder who reads any of them is not
	// to search on for someone found, and a confirmation that fails leaves
	// none of them written found.
	ids := []syncproto.RecordID{missing}
	for _, l := range p.Linked {
		if l.Status != "missing" {
			continue
		}
		id, err := syncproto.ParseRecordID(l.ID)
		if err != nil {
			return p, syncproto.Dot{}, fmt.Errorf("the linked report %q: %w", l.ID, err)
		}
		ids = append(ids, id)
	}
	// A conflict that came after the proposal was read refuses it too.
	w, err := n.updateAll(ctx, ids, data, author, true, nil)
	if err != nil {
		return p, syncproto.Dot{}, err
	}
	return p, w[0].Dot, nil
}
