package match

import (
	"math"
	"sort"
)

// Decision is what a person decided of a pair of records.
type Decision int8

const (
	Undecided Decision = iota
	Same               // one person: linked
	Different          // two people
)

// vetoWeight is the weight (prior included) below which two records are
// taken for two people when grouping: a score under about 1 in 17, such as
// the same name in two districts with two ages.
const vetoWeight = -4

// MaxGroup bounds the records of one group: no person is reported a
// hundred times, and a chain of namesakes must not make one.
const MaxGroup = 64

// Group is the step after the pairs: a pair says nothing of the other
// records; the records together do. Pairs scored at least least are taken
// best first, and each joins its two records' groups (the reports and the
// registration of one person) unless the group would hold two shelter
// registrations (a person is registered once), two records a person
// decided are different, or two records whose own comparison says they
// are two people (ages too far apart for one person, or a weight under −4
// bits: Maria Pop of 8 and of 60). So the report of a Maria Pop of no
// age, found in both, joins the stronger match, and the other is left to
// its own reports; and a report that matches one record of a person well
// joins all of them.
//
// Every pair of records in a group is returned: those given, and those
// only the group joins (two reports that each match one registration, one
// spelled with a typo and one with a nickname), compared again and with
// the reason that the group joins them. A pair's score is at least that of
// the weakest pair on the path that joins its two records.
//
// decided says what a person decided of two records (ids in either
// order); it may be nil. Pairs decided Same are joined first, whatever
// their score, and keep their own score; those decided Different are never
// joined. A pair decided Same that the index did not find is given among
// cands by Pair.
//
// Pairs that end in no group together are not returned: they are the
// namesakes of a stronger match. Which pairs are returned does not depend
// on the order of cands (ties go to the pair of lower ids).
func (x *Index) Group(cands []Candidate, least float64, decided func(a, b string) Decision) []Candidate {
	out, _ := x.group(cands, least, decided, false)
	return out
}

// GroupAside is Group, and the pairs it set aside: those scored at least
// least, not decided, whose two records it did not take for one person.
// They are the namesakes of a stronger match (a report of Juan Coc of no
// age that matches the registration of Juan Coc of 45 and of 19 joins one;
// the other pair is set aside), which the person deciding should see
// beside it: two people of one name in one village are told apart with
// every candidate in view. Each has first among its reasons why it was
// set aside (Aside* codes). Best first, as Group's.
func (x *Index) GroupAside(cands []Candidate, least float64, decided func(a, b string) Decision) (grouped, aside []Candidate) {
	return x.group(cands, least, decided, true)
}

// The reasons a pair is set aside, first among its reasons in GroupAside.
const (
	// AsideRegistered: a stronger match of one of the two gives the
	// person another shelter registration.
	AsideRegistered = "aside-registered"
	// AsideAges: the two records' ages, or a stronger match's of one of
	// them and the other's, are too far apart for one person.
	AsideAges = "aside-ages"
	// AsideApart: a stronger match of one of the two, compared with the
	// other, is another person.
	AsideApart = "aside-apart"
	// AsideDecided: a person decided that a stronger match of one of the
	// two is another person than the other.
	AsideDecided = "aside-decided"
	// AsideSize: the records taken for one person would be too many.
	AsideSize = "aside-size"
)

func (x *Index) group(cands []Candidate, least float64, decided func(a, b string) Decision, wantAside bool) ([]Candidate, []Candidate) {
	if decided == nil {
		decided = func(string, string) Decision { return Undecided }
	}
	type edge struct {
		c    *Candidate
		same bool
	}
	var edges []edge
	given := map[[2]string]*Candidate{}
	for k := range cands {
		c := &cands[k]
		if _, ok := x.ids[c.A]; !ok {
			continue
		}
		if _, ok := x.ids[c.B]; !ok {
			continue
		}
		d := decided(c.A, c.B)
		if d == Different || d == Undecided && c.Score < least {
			continue
		}
		given[[2]string{c.A, c.B}] = c
		edges = append(edges, edge{c, d == Same})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].same != edges[j].same {
			return edges[i].same
		}
		return better(*edges[i].c, *edges[j].c)
	})
	groupOf := map[int32]*group{}
	get := func(i int32) *group {
		if g := groupOf[i]; g != nil {
			return g
		}
		g := &group{members: []int32{i}}
		if x.people[i].rec == Sheltered {
			g.sheltered = 1
		}
		groupOf[i] = g
		return g
	}
	var refused map[*Candidate]string // why each pair was not joined
	if wantAside {
		refused = map[*Candidate]string{}
	}
	for _, e := range edges {
		i, j := x.ids[e.c.A], x.ids[e.c.B]
		ga, gb := get(i), get(j)
		if ga == gb {
			continue
		}
		if why := x.mayJoin(ga, gb, e.same, decided); why != "" {
			if wantAside && !e.same {
				refused[e.c] = why
			}
			continue
		}
		if len(ga.members) < len(gb.members) {
			ga, gb = gb, ga
		}
		for _, m := range gb.members {
			groupOf[m] = ga
		}
		ga.members = append(ga.members, gb.members...)
		ga.sheltered += gb.sheltered
		at := e.c.Score
		if e.same {
			at = 1 // a person's decision holds them together
		}
		ga.joins = append(append(ga.joins, gb.joins...), join{i, j, at})
	}
	var out []Candidate
	done := map[*group]bool{}
	for _, g := range groupOf {
		if done[g] || len(g.members) < 2 {
			continue
		}
		done[g] = true
		for _, i := range g.members {
			at := g.levels(i)
			for _, j := range g.members {
				a, b := x.people[i], x.people[j]
				if a.id >= b.id || a.rec == Sheltered && b.rec == Sheltered {
					continue
				}
				var c Candidate
				if g, ok := given[[2]string{a.id, b.id}]; ok {
					c = *g
				} else {
					c, _ = compare(a, b, x.prior(x.size()), true)
				}
				if s := at[j]; c.Score < s && decided(a.id, b.id) != Same {
					c.Score, c.Weight = s, math.Log2(s/(1-s))
					c.Reasons = append([]Reason{{Code: "group"}}, c.Reasons...)
				}
				out = append(out, c)
			}
		}
	}
	sortCandidates(out)
	// A pair refused stays apart: groups only grow, what parted them is
	// in them still, and the pairs decided one person, which alone pass
	// those rules, all came before it.
	var aside []Candidate
	for c, why := range refused {
		a := *c
		a.Reasons = append([]Reason{{Code: why}}, c.Reasons...)
		aside = append(aside, a)
	}
	sortCandidates(aside)
	return out, aside
}

// group is records taken for one person, and the pairs that joined them.
type group struct {
	members   []int32
	sheltered int
	joins     []join
}

type join struct {
	i, j  int32
	score float64
}

// levels gives, for each member of g, the score at which it is joined to
// member i: the least score on the path of joins between the two (the
// joins form a tree).
func (g *group) levels(i int32) map[int32]float64 {
	at := map[int32]float64{i: 1}
	stack := []int32{i}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range g.joins {
			o := e.j
			switch k {
			case e.i:
			case e.j:
				o = e.i
			default:
				continue
			}
			if _, seen := at[o]; !seen {
				at[o] = math.Min(at[k], e.score)
				stack = append(stack, o)
			}
		}
	}
	return at
}

// mayJoin says why two groups may not be taken for one person (an Aside
// code), or "" when they may.
func (x *Index) mayJoin(ga, gb *group, same bool, decided func(a, b string) Decision) string {
	if len(ga.members)+len(gb.members) > MaxGroup {
		return AsideSize
	}
	if !same && ga.sheltered+gb.sheltered > 1 {
		return AsideRegistered
	}
	for _, i := range ga.members {
		for _, j := range gb.members {
			a, b := x.people[i], x.people[j]
			switch decided(min(a.id, b.id), max(a.id, b.id)) {
			case Different:
				return AsideDecided
			case Same:
				continue
			}
			if same || a.rec == Sheltered && b.rec == Sheltered {
				continue
			}
			// Ages too far apart for one person part them whatever
			// their names: a rare name of father and son can outweigh
			// the age in a pair's score, not in a group. A pair
			// pruned before its names were compared (c.A unset) could
			// not have reached the veto's weight.
			if compareAge(a, b, nil) == ageWeights[ageFar] {
				return AsideAges
			}
			if c, _ := compareAbove(a, b, x.prior(x.size()), vetoWeight, false); c.A == "" || c.Weight < vetoWeight {
				return AsideApart
			}
		}
	}
	return ""
}

// Pair compares two people of the index by their ids, as Compare would;
// ok is false when either is not in the index or the two are not a pair
// the matcher makes (two registrations).
func (x *Index) Pair(a, b string) (c Candidate, ok bool) {
	i, okA := x.ids[a]
	j, okB := x.ids[b]
	if !okA || !okB || a == b {
		return Candidate{}, false
	}
	return compare(x.people[i], x.people[j], x.prior(x.size()), true)
}
