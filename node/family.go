package node

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"lifeline/node/match"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// A family registered at a shelter (FamilyRegistrationType) is matched as
// its people: each row of its household, and its head when no row names
// them. Each is a person of its own in the matcher, with an id of the
// record's and the row's (RecordID/row, or RecordID/head), read as a
// sheltered person would be: the row's name, sex and age, the family's
// home village and district, shelter and arrival. A decision names the
// record, as the ledger's links do; the pair names the member.

// FamilyRegistrationType is the family registration of the shelter kit.
const FamilyRegistrationType = "shelter-registration"

// householdRepeat is the family registration's repeat of its people.
const householdRepeat = "household"

// HeadMember is the member of a family registration that is its head, when
// no household row names them.
const HeadMember = "head"

// memberSep parts a record's id from its member's in a person's id.
const memberSep = "/"

// peopleTypes are the record types whose people are matched.
var peopleTypes = []string{MissingPersonType, ShelteredPersonType, FamilyRegistrationType}

// IsPeopleType says whether records of type t are people the node matches:
// missing-person reports, sheltered people and families at shelters.
func IsPeopleType(t string) bool { return slices.Contains(peopleTypes, t) }

// SplitPersonID parts a person's id as matches name it into the record's
// id and, for a member of a family registration, the member: a household
// row's id or HeadMember; "" for a record that is one person.
func SplitPersonID(id string) (syncproto.RecordID, string, error) {
	rec, member, _ := strings.Cut(id, memberSep)
	r, err := syncproto.ParseRecordID(rec)
	if err != nil {
		return r, "", err
	}
	if strings.Contains(id, memberSep) && member != HeadMember && !schemas.ValidRowID(member) {
		return r, "", fmt.Errorf("person %q: %q is neither a household row nor %q", id, member, HeadMember)
	}
	return r, member, nil
}

// peopleViews are the people of a record as the matcher reads them: the
// record itself for a report or a sheltered person; for a family
// registration, one view per member, the record's fields with the
// member's name (full_name), sex and age, and its id the person's.
func peopleViews(v RecordView) []RecordView {
	if v.Type != FamilyRegistrationType {
		return []RecordView{v}
	}
	type row struct {
		fields  map[string]any
		removed bool
	}
	rows := map[string]*row{}
	// The family's own fields, without any repeat's rows, that each
	// member's view starts from.
	family := map[string]any{}
	for name, val := range v.Fields {
		rep, id, field, ok := schemas.SplitRowField(name)
		if !ok {
			if name != "sex" && name != "age" {
				family[name] = val
			}
			continue
		}
		if rep != householdRepeat {
			continue
		}
		r := rows[id]
		if r == nil {
			r = &row{fields: map[string]any{}}
			rows[id] = r
		}
		if field == schemas.RemoveKey {
			r.removed = r.removed || val == true
			continue
		}
		r.fields[field] = val
	}
	member := func(id string, name any, sex, age any) RecordView {
		m := v
		m.ID = v.ID + memberSep + id
		m.Fields = maps.Clone(family)
		m.Fields["full_name"] = name
		if sex != nil {
			m.Fields["sex"] = sex
		}
		if age != nil {
			m.Fields["age"] = age
		}
		return m
	}
	var out []RecordView
	head, _ := v.Fields["family_head_name"].(string)
	headInRows := false
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		r := rows[id]
		if r.removed || r.fields["name"] == nil {
			continue
		}
		if s, ok := r.fields["name"].(string); ok && head != "" && strings.EqualFold(strings.Join(strings.Fields(s), " "), strings.Join(strings.Fields(head), " ")) {
			headInRows = true
		}
		out = append(out, member(id, r.fields["name"], r.fields["sex"], r.fields["age"]))
	}
	if h := v.Fields["family_head_name"]; h != nil && !headInRows {
		out = append(out, member(HeadMember, h, nil, nil))
	}
	return out
}

// Person reads the person a match names: a record that is one person, or a
// member of a family registration as peopleViews gives it.
func (n *Node) Person(ctx context.Context, id string) (RecordView, error) {
	rec, member, err := SplitPersonID(id)
	if err != nil {
		return RecordView{}, err
	}
	v, err := n.RecordBrief(ctx, rec)
	if err != nil || member == "" {
		return v, err
	}
	for _, m := range peopleViews(v) {
		if m.ID == id {
			return m, nil
		}
	}
	return RecordView{}, fmt.Errorf("record %s has no member %s", rec, member)
}

// peopleOf is the matcher's people of a record; withheld says it holds a
// name this node cannot open (personal data of another district).
func peopleOf(v RecordView) (ps []match.Person, withheld bool) {
	for _, m := range peopleViews(v) {
		p, ok := personOf(m)
		if !ok {
			withheld = true
			continue
		}
		if p.Validate() != nil {
			continue // a record the matcher cannot read, e.g. of an older kit
		}
		ps = append(ps, p)
	}
	return ps, withheld
}

// membersOf maps each family registration among people to the ids of its
// members, so that a changed registration can be taken out whole.
func membersOf(people []match.Person) map[string][]string {
	out := map[string][]string{}
	for _, p := range people {
		if rec, _, ok := strings.Cut(p.ID, memberSep); ok {
			out[rec] = append(out[rec], p.ID)
		}
	}
	return out
}
