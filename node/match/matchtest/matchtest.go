// Package matchtest generates missing-person reports and shelter
// registrations with known truth, for the matcher's tests and benchmarks.
//
// A set is drawn from a population of people (Belizean names by district,
// with their real commonness), of whom some are reported missing, once or
// by several people, and some registered in shelters. Each record is
// written as a reporter or a clerk would write it: a second surname or a
// middle name dropped, a nickname, a Maya or Mennonite surname spelled by
// ear, a typo, "Surname, First", upper case, accents or none, an age off by
// a year or two or not known, a village left out. Fathers and sons, mothers
// and daughters, with one name in one village, are there too.
package matchtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"lifeline/node/match"
)

// Pair is two record ids, A < B.
type Pair struct{ A, B string }

// Set is a generated set of records and which pairs are one person.
type Set struct {
	People []match.Person
	// Truth holds every pair of records of one person that the matcher
	// should find: two reports, or a report and a registration.
	Truth map[Pair]match.Kind
	// Of gives, for each record's id, the person it is of: the records
	// of one person have one number.
	Of map[string]int
	// Kin holds the pairs of people (numbers of Of, the lower first) who
	// are a parent and a child of one village, one named after the
	// other: a Juan Coc of 45 and of 19, whom no comparison of their
	// records tells apart when an age is not known.
	Kin map[[2]int]bool
	// Names gives each person's name as drawn, first name and surnames
	// (no middle name): two people of one name have one.
	Names map[int]string
}

// Options shape a set.
type Options struct {
	Seed      uint64
	Missing   int // missing-person reports
	Sheltered int // shelter registrations
	// Districts, when set, gives each district's share of the people
	// instead of the country's: a hurricane over the south is Toledo
	// and Stann Creek's.
	Districts map[string]float64
}

type individual struct {
	first, middle, sur1, sur2 string
	female                    bool
	age                       int
	district                  *district
	village                   string
	people                    *people
	// kin is the parent or child whose name this person was given, or
	// nil.
	kin *individual
}

// Generate draws a set.
func Generate(o Options) *Set {
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, 0x6c6966656c696e65))}
	g.weights = make([]float64, len(districts))
	for i, d := range districts {
		g.weights[i] = d.weight
		if o.Districts != nil {
			g.weights[i] = o.Districts[d.name]
		}
	}
	s := &Set{Truth: map[Pair]match.Kind{}, Of: map[string]int{}, Kin: map[[2]int]bool{}, Names: map[int]string{}}
	// Each missing person is reported once, twice or three times (a
	// neighbour, a cousin, the police); about 60% of them come to be
	// registered in a shelter.
	var reports []struct {
		who *individual
		n   int
	}
	total := 0
	for total < o.Missing {
		n := 1
		switch x := g.r.Float64(); {
		case x < 0.08:
			n = 3
		case x < 0.30:
			n = 2
		}
		n = min(n, o.Missing-total)
		reports = append(reports, struct {
			who *individual
			n   int
		}{g.person(), n})
		total += n
	}
	var sheltered []*individual
	for _, r := range reports {
		if len(sheltered) < o.Sheltered && g.r.Float64() < 0.6 {
			sheltered = append(sheltered, r.who)
		}
	}
	for len(sheltered) < o.Sheltered {
		sheltered = append(sheltered, g.person())
	}
	ids := map[*individual][]match.Person{}
	n := 0
	id := func(prefix string) string {
		n++
		// Ids in no order of kind or person, as record ids (UUIDv7) are.
		return fmt.Sprintf("%s-%08x", prefix, uint32(g.r.Uint64())) + fmt.Sprintf("%06d", n)
	}
	base := time.Date(2026, 10, 12, 6, 0, 0, 0, time.UTC)
	for _, r := range reports {
		for range r.n {
			p := g.write(r.who, match.Missing)
			p.ID = id("r")
			p.At = base.Add(time.Duration(g.r.IntN(7*24)) * time.Hour)
			ids[r.who] = append(ids[r.who], p)
		}
	}
	for _, who := range sheltered {
		p := g.write(who, match.Sheltered)
		p.ID = id("s")
		p.At = base.Add(time.Duration(g.r.IntN(10*24)) * time.Hour)
		ids[who] = append(ids[who], p)
	}
	for _, r := range reports {
		s.People = append(s.People, ids[r.who]...)
	}
	reported := map[*individual]bool{}
	for _, r := range reports {
		reported[r.who] = true
	}
	for _, who := range sheltered {
		// A missing person's registration is already in with the reports.
		if !reported[who] {
			s.People = append(s.People, ids[who]...)
		}
	}
	// People are numbered in the order they were drawn.
	number := map[*individual]int{}
	see := func(who *individual) {
		if _, ok := number[who]; !ok {
			number[who] = len(number)
			s.Names[number[who]] = strings.Join(strings.Fields(who.first+" "+who.sur1+" "+who.sur2), " ")
			for _, p := range ids[who] {
				s.Of[p.ID] = number[who]
			}
		}
	}
	for _, r := range reports {
		see(r.who)
	}
	for _, who := range sheltered {
		see(who)
	}
	for who := range ids {
		if k, ok := number[who.kin]; ok && who.kin != nil {
			s.Kin[[2]int{min(number[who], k), max(number[who], k)}] = true
		}
	}
	for _, ps := range ids {
		for i := range ps {
			for j := i + 1; j < len(ps); j++ {
				a, b := ps[i], ps[j]
				kind := match.Duplicate
				if a.Record != b.Record {
					kind = match.Found
				} else if a.Record == match.Sheltered {
					continue
				}
				if a.ID > b.ID {
					a, b = b, a
				}
				s.Truth[Pair{a.ID, b.ID}] = kind
			}
		}
	}
	g.r.Shuffle(len(s.People), func(i, j int) { s.People[i], s.People[j] = s.People[j], s.People[i] })
	return s
}

type gen struct {
	r       *rand.Rand
	weights []float64
	// family holds people recently drawn, so that a father and son, or a
	// mother and daughter, with one name in one village can be drawn.
	family []*individual
}

func (g *gen) pick(w []float64) int {
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	x := g.r.Float64() * sum
	for i, v := range w {
		x -= v
		if x < 0 {
			return i
		}
	}
	return len(w) - 1
}

// zipf draws from a list, most common first, with Zipf weights of
// exponent 0.7: the first of twenty is drawn about one time in nine, as
// Maria is among Belizean women.
func (g *gen) zipf(list []string) string {
	h := 0.0
	for i := range list {
		h += math.Pow(float64(i+1), -0.7)
	}
	x := g.r.Float64() * h
	for i := range list {
		x -= math.Pow(float64(i+1), -0.7)
		if x < 0 {
			return list[i]
		}
	}
	return list[len(list)-1]
}

func (g *gen) age() int {
	// Belize is young: a third under 15.
	for {
		a := int(math.Abs(g.r.NormFloat64()*28)) + g.r.IntN(3)
		if a <= 95 {
			return a
		}
	}
}

func (g *gen) person() *individual {
	// One in twenty-five shares a name and a village with a parent or a child
	// already drawn: Juan Coc of 45 and Juan Coc of 19.
	if len(g.family) > 0 && g.r.Float64() < 1.0/25 {
		kin := g.family[g.r.IntN(len(g.family))]
		p := *kin
		older := kin.age < 35 // p is the parent
		if older {
			p.age = kin.age + 18 + g.r.IntN(15)
		} else {
			p.age = kin.age - 18 - g.r.IntN(15)
		}
		g.surnamesOfKin(&p, kin, older)
		p.kin = kin
		return &p
	}
	d := &districts[g.pick(g.weights)]
	wt := make([]float64, len(d.mix))
	for i, m := range d.mix {
		wt[i] = m.wt
	}
	pp := d.mix[g.pick(wt)].p
	p := &individual{female: g.r.IntN(2) == 0, age: g.age(), district: d, people: pp}
	names := pp.male
	if p.female {
		names = pp.female
	}
	tail := tailMale
	if p.female {
		tail = tailFemale
	}
	given := func() string {
		if g.r.Float64() < 0.4 {
			return tail[g.r.IntN(len(tail))]
		}
		return g.zipf(names)
	}
	p.first = given()
	if g.r.Float64() < 0.2 {
		for p.middle == "" || p.middle == p.first {
			p.middle = given()
		}
	}
	p.sur1 = g.surname(pp)
	if g.r.Float64() < pp.double {
		for p.sur2 == "" || p.sur2 == p.sur1 {
			p.sur2 = g.surname(pp)
		}
	}
	// Villages: the first, the town, holds the most.
	p.village = g.zipf(d.villages)
	if len(g.family) < 5000 {
		g.family = append(g.family, p)
	} else {
		g.family[g.r.IntN(len(g.family))] = p
	}
	return p
}

func (g *gen) surname(pp *people) string {
	if g.r.Float64() < 0.4 {
		return tailSurnames[g.r.IntN(len(tailSurnames))]
	}
	return g.zipf(pp.surnames)
}

// surnamesOfKin gives p, named after kin (a son after his father, a
// daughter after her mother, or the parent of such a child when older is
// set), the surnames Belize's peoples pass on. Where a name carries two
// surnames (Maya, Mestizo, some Garifuna), a child takes the father's
// first surname and then the mother's: a son shares his father's first
// surname but not his second, and a daughter's first surname is her
// father's, not her mother's, whose first surname is the daughter's
// second (María Pop Coc's daughter María is Bol Pop). Where a name carries
// one (Creole, Mennonite), a wife takes her husband's, and parent and child
// share it.
func (g *gen) surnamesOfKin(p, kin *individual, older bool) {
	if kin.people == nil || kin.people.double == 0 {
		return
	}
	two := g.r.Float64() < kin.people.double
	other := func(not ...string) string {
		for {
			s := g.surname(kin.people)
			if !slices.Contains(not, s) {
				return s
			}
		}
	}
	p.sur2 = ""
	switch {
	case !p.female: // father and son share the first surname
		if two {
			p.sur2 = other(p.sur1, kin.sur2)
		}
	case older: // the mother of kin: her first surname is kin's second
		if kin.sur2 != "" {
			p.sur1 = kin.sur2
		} else {
			p.sur1 = other(kin.sur1)
		}
		if two {
			p.sur2 = other(p.sur1)
		}
	default: // the daughter of kin: her father's surname, then her mother's
		p.sur1 = other(kin.sur1)
		if two {
			p.sur2 = kin.sur1
		}
	}
}

// write is a record of who as a reporter (Missing) or a shelter's clerk
// (Sheltered) writes it.
func (g *gen) write(who *individual, rec match.Record) match.Person {
	p := match.Person{Record: rec}
	first := who.first
	if alts := shortNames[first]; len(alts) > 0 && g.r.Float64() < 0.12 {
		first = alts[g.r.IntN(len(alts))]
	}
	sur1, sur2, middle := who.sur1, who.sur2, who.middle
	// A second surname is dropped by reporters more than by clerks, and
	// so is a middle name.
	if sur2 != "" && g.r.Float64() < map[match.Record]float64{match.Missing: 0.4, match.Sheltered: 0.2}[rec] {
		sur2 = ""
	}
	if middle != "" && g.r.Float64() < 0.5 {
		middle = ""
	}
	spell := func(s string) string {
		if alts := spellings[s]; len(alts) > 0 && g.r.Float64() < 0.35 {
			return alts[g.r.IntN(len(alts))]
		}
		return s
	}
	sur1, sur2 = spell(sur1), spell(sur2)
	if g.r.Float64() < 0.12 {
		switch g.r.IntN(3) {
		case 0:
			first = g.typo(first)
		case 1:
			sur1 = g.typo(sur1)
		default:
			if sur2 != "" {
				sur2 = g.typo(sur2)
			} else {
				sur1 = g.typo(sur1)
			}
		}
	}
	given := strings.TrimSpace(first + " " + middle)
	given = strings.Join(strings.Fields(given), " ")
	family := strings.TrimSpace(sur1 + " " + sur2)
	switch x := g.r.Float64(); {
	case x < 0.15:
		p.FullName = family + ", " + given
	case x < 0.19:
		p.FullName = family + " " + given
	default:
		p.FullName = given + " " + family
	}
	if g.r.Float64() < 0.35 {
		p.FullName = stripAccents(p.FullName)
	}
	if g.r.Float64() < 0.25 {
		p.FullName = strings.ToUpper(p.FullName)
	}
	// Age: a clerk asks the person; a reporter guesses.
	p.Age, p.AgeKnown = who.age, true
	x := g.r.Float64()
	if rec == match.Missing {
		switch {
		case x < 0.12:
			p.AgeKnown = false
		case x < 0.34:
			p.Age += g.sign()
		case x < 0.42:
			p.Age += 2 * g.sign()
		case x < 0.45:
			p.Age += (3 + g.r.IntN(2)) * g.sign()
		}
	} else {
		switch {
		case x < 0.10:
			p.AgeKnown = false
		case x < 0.22:
			p.Age += g.sign()
		case x < 0.25:
			p.Age += 2 * g.sign()
		}
	}
	if p.Age < 0 {
		p.Age = 0
	}
	switch x := g.r.Float64(); {
	case x < 0.06:
		p.Sex = "unknown"
	case x < 0.07:
		p.Sex = map[bool]string{true: "male", false: "female"}[who.female]
	default:
		p.Sex = map[bool]string{true: "female", false: "male"}[who.female]
	}
	p.Village, p.District = who.village, who.district.name
	x = g.r.Float64()
	if rec == match.Missing {
		switch {
		case x < 0.15:
			p.Village = ""
		case x < 0.27:
			p.Village = who.district.villages[g.r.IntN(len(who.district.villages))]
		case x < 0.30:
			d := &districts[g.pick(g.weights)]
			p.Village, p.District = d.villages[g.r.IntN(len(d.villages))], d.name
		}
	} else {
		switch {
		case x < 0.12:
			p.Village = ""
		case x < 0.15:
			p.Village = who.district.villages[g.r.IntN(len(who.district.villages))]
		}
		if g.r.Float64() < 0.1 {
			p.District = ""
		}
	}
	return p
}

func (g *gen) sign() int {
	if g.r.IntN(2) == 0 {
		return -1
	}
	return 1
}

// typo makes one slip of a hand: a letter swapped with its neighbour,
// left out, doubled or replaced.
func (g *gen) typo(s string) string {
	r := []rune(s)
	if len(r) < 3 {
		return s
	}
	i := 1 + g.r.IntN(len(r)-2)
	switch g.r.IntN(4) {
	case 0:
		r[i], r[i+1] = r[i+1], r[i]
	case 1:
		r = append(r[:i], r[i+1:]...)
	case 2:
		r = append(r[:i+1], r[i:]...)
	default:
		r[i] = rune("aeioulnrst"[g.r.IntN(10)])
	}
	return string(r)
}

var plain = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "Á", "A", "É", "E", "Í", "I", "Ó", "O", "Ú", "U", "Ñ", "N")

func stripAccents(s string) string { return plain.Replace(s) }
