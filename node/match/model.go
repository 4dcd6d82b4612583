package match

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// level is one comparison level: m is the chance that two records of one
// person fall in it, u that two records of different people do. Its weight
// is log2(m/u).
type level struct {
	name string
	m, u float64
}

func (l level) weight() float64 { return math.Log2(l.m / l.u) }

// weights holds each comparison's level weights, worked out once.
func weights(levels []level) []float64 {
	w := make([]float64, len(levels))
	for i, l := range levels {
		w[i] = l.weight()
	}
	return w
}

// longName is the length from which a name is long: fewer other names lie
// within a typo of it, so that the u of agreeing but for a typo is
// smaller (docs/matching.md).
const longName = 6

// spellingDiscount is the bits a known spelling variant weighs less than
// the same name written alike.
const spellingDiscount = 1

var (
	firstAlikeLongW   = level{"", firstLevels[firstAlike].m, 0.002}.weight()
	surnameAlikeLongW = level{"", surnameLevels[surnameAlike].m, 0.0015}.weight()
	firstWeights      = weights(firstLevels)
	surnameWeights    = weights(surnameLevels)
	ageWeights        = weights(ageLevels)
	sexWeights        = weights(sexLevels)
	maxPlaceW         = tfWeight(max(placeLevels[Duplicate][placeSame].m, placeLevels[Found][placeSame].m), rareVillage)
	dupPlaceW         = weights(placeLevels[Duplicate])
	foundPlaceW       = weights(placeLevels[Found])
)

// The comparison levels and their m and u probabilities. docs/matching.md
// says where each figure comes from; the m of a comparison's levels sum to
// one, and so do the u, but for the level where one side is unknown, which
// weighs nothing.
var (
	firstLevels = []level{
		firstExact:    {"exact (u: the name's commonness)", 0.81, 0.02},
		firstNickname: {"nickname", 0.08, 0.003},
		firstAlike:    {"jaro-winkler >= 0.92 or one typo", 0.07, 0.006},
		firstSomewhat: {"jaro-winkler >= 0.85", 0.02, 0.02},
		firstElse:     {"else", 0.02, 0.951},
	}
	surnameLevels = []level{
		surnameExact:     {"same surnames", 0.56, 0.01},
		surnameOne:       {"one surname in common, the other dropped", 0.35, 0.015},
		surnameOneOther:  {"one surname in common, the others different", 0.02, 0.02},
		surnameSpelling:  {"known spelling variant", 0.05, 0.002},
		surnameAlike:     {"jaro-winkler >= 0.92 or one typo", 0.10, 0.004},
		surnameSomewhat:  {"jaro-winkler >= 0.85 or one typo in a short name", 0.02, 0.01},
		surnameElse:      {"else", 0.03, 0.939},
		surnameOneSecond: {"one in common, the second of one, its first left out", 0.03, 0.015},
	}
	ageLevels = []level{
		ageExact: {"exact", 0.5245, 0.025},
		age1:     {"1 year apart", 0.26, 0.05},
		age2:     {"2 years apart", 0.12, 0.05},
		age5:     {"3 to 5 years apart", 0.085, 0.12},
		age10:    {"6 to 10 years apart", 0.01, 0.17},
		ageFar:   {"more than 10 years apart, a child's more than 3, a youth's more than 5", 0.0005, 0.585},
	}
	sexLevels = []level{
		sexSame:   {"same", 0.98, 0.5},
		sexDiffer: {"different", 0.02, 0.5},
	}
	// placeLevels are per kind of pair: a missing person's reports give
	// the same village more often than a report and a shelter's register,
	// which gives the home village where the report gives where the person
	// was last seen.
	placeLevels = map[Kind][]level{
		Duplicate: {
			placeSame:          {"same village, same district (u: the village's share of people)", 0.60, 0.04},
			placeOtherDistrict: {"same village name, another district", 0.01, 0.003},
			placeAlike:         {"village names alike, same district", 0.06, 0.004},
			placeOtherVillage:  {"another village, same district", 0.15, 0.12},
			placeDistrictOnly:  {"village unknown, same district", 0.08, 0.06},
			placeDistrictDiff:  {"another district", 0.05, 0.773},
		},
		Found: {
			placeSame:          {"same village, same district (u: the village's share of people)", 0.50, 0.04},
			placeOtherDistrict: {"same village name, another district", 0.01, 0.003},
			placeAlike:         {"village names alike, same district", 0.05, 0.004},
			placeOtherVillage:  {"another village, same district", 0.18, 0.12},
			placeDistrictOnly:  {"village unknown, same district", 0.08, 0.06},
			placeDistrictDiff:  {"another district", 0.06, 0.773},
		},
	}
)

const (
	firstExact = iota
	firstNickname
	firstAlike
	firstSomewhat
	firstElse
	// firstInitial is an initial ("J. Coc") and a first name it begins:
	// not one of firstLevels, since it is weighed given that one record
	// has only an initial (firstInitialW).
	firstInitial
	// firstGendered is a man's name and a woman's of one stem (Mario and
	// María, Juan and Juana): not one of firstLevels, since spelled alike
	// they would be weighed as a typo (firstGenderedW).
	firstGendered
)

// firstInitialW weighs an initial and a first name it begins. Given that
// one record has only the initial, the two agree for one person nearly
// always (m 0.97) and for two people as often as a first name begins with
// that letter, which for J (Juan, José, John, Joseph, Juana, Josefa) and
// M (María, Manuel, Michael, Margaret) is about 1 in 8 (u 0.12): +3.0
// bits, less than a nickname (+4.7), as an initial says less.
var firstInitialW = math.Log2(0.97 / 0.12)

// firstGenderedW weighs a man's name and a woman's of one stem, which are
// a brother and a sister far more often than one person: one person's two
// records give them when a typo turns the last o into an a, or a reporter
// writes the sister's name for the brother (m 0.0005, a twentieth of the
// typos that leave a name alike), and two people do as often as a man
// named Mario or Juan and a woman named María or Juana meet in a pair,
// about 1 in 1,000 across Belize, doubled for families naming a brother
// and a sister alike (u 0.002): −2 bits where a typo would weigh +3.5.
var firstGenderedW = math.Log2(0.0005 / 0.002)

const (
	surnameExact = iota
	surnameOne
	surnameOneOther
	surnameSpelling
	surnameAlike
	surnameSomewhat
	surnameElse
	// surnameOneSecond is surnameOne where what the two have in common
	// is the second of one's two family names: its first dropped.
	surnameOneSecond
	// surnameMiddle is the family names agreeing and a second given
	// name on each that differs (Juan Pablo Coc and Juan Carlos Coc):
	// not one of surnameLevels, since it is weighed as the family names
	// agreeing and the second given names not (middleDifferW).
	surnameMiddle
	surnameMissing = -1
)

// middleDifferW weighs two records that each give a second given name,
// and give two names, neither a spelling nor a nickname of the other.
// One person's two records do so when a reporter writes a brother's
// second name for his: given that both write one, about 2 in 100 (m
// 0.02). Two people of one first name and family do nearly always: a
// family names its sons Juan Pablo and Juan Carlos, its daughters María
// José and María Luisa (u 0.95). −5.6 bits against the family names'
// agreement, which counts as it would with no second names.
var middleDifferW = math.Log2(0.02 / 0.95)

const (
	ageExact = iota
	age1
	age2
	age5
	age10
	ageFar
)

const (
	sexSame = iota
	sexDiffer
)

const (
	placeSame = iota
	placeOtherDistrict
	placeAlike
	placeOtherVillage
	placeDistrictOnly
	placeDistrictDiff
)

// Config holds the model's prior and the threshold.
type Config struct {
	// Prior is the chance that two records compared at random are one
	// person, before they are read, in a set of PriorRecords records.
	Prior float64
	// PriorRecords is the size of the set Prior is the chance for. Each
	// person has about as many records whatever the size of the set, so
	// that in a set of n records two at random are one person
	// PriorRecords/n times as often: an Index of n records takes
	// Prior × PriorRecords / n, n no less than MinPriorRecords. Zero
	// keeps Prior whatever the size.
	PriorRecords int
	// Threshold is the least score of a pair returned as a candidate.
	Threshold float64
}

// MinPriorRecords is the fewest records an index's prior is taken for: a
// laptop holding a few dozen records is not a set in which two records at
// random are one person one time in a few dozen.
const MinPriorRecords = 1000

// DefaultConfig is the model docs/matching.md describes.
func DefaultConfig() Config {
	return Config{Prior: 1.0 / 32768, PriorRecords: 15000, Threshold: 0.5}
}

// PriorFor is the prior of a set of n records.
func (c Config) PriorFor(n int) float64 {
	if c.PriorRecords == 0 {
		return c.Prior
	}
	return c.Prior * float64(c.PriorRecords) / float64(max(n, MinPriorRecords))
}

// Validate says what is wrong with c.
func (c Config) Validate() error {
	if !(c.Prior > 0 && c.Prior < 1) {
		return errorf("prior %v is not between 0 and 1", c.Prior)
	}
	if c.PriorRecords < 0 || c.PriorFor(MinPriorRecords) >= 1 {
		return errorf("prior %v for %d records is, for %d, not under 1", c.Prior, c.PriorRecords, MinPriorRecords)
	}
	if !(c.Threshold >= 0 && c.Threshold <= 1) {
		return errorf("threshold %v is not between 0 and 1", c.Threshold)
	}
	return nil
}

// features is a Person read once for every comparison it takes part in.
type features struct {
	// What every pair compared reads before its names, kept together:
	// most pairs go no further.
	rec      Record
	ageKnown bool
	dIdx     int8 // districtIndex(district)
	gen      int8 // generationOf the name: 1 Sr., 2 Jr. or II, 3 III; 0 none
	// firstLen is the length of name.first. joinedLen is that of the
	// first name of the name read with its first two words as one, Mary
	// Ann Young as Maryann Young (joinedGiven), 0 when it is not read
	// so; joinedMaxW is the most that reading can weigh. It is not in
	// maxNameW: it counts only against a first name of about its length.
	firstLen, joinedLen int16
	age                 int
	sex                 string // "female", "male" or ""
	// maxNameW is the most any reading of the name can weigh: all its
	// words agreeing.
	maxNameW   float64
	joinedMaxW float64
	village    string // folded, without "village", "town", "city"
	// villageParts are the places a village written in parts names,
	// folded ("near the church, San Antonio": near church, san
	// antonio); nil for a village of one part.
	villageParts []string
	// villageNames says the village as written names its district
	// too ("San Antonio, Toledo").
	villageNames bool
	district     string // folded
	// sameVillageW is what the same village weighs, after its
	// commonness, for a duplicate and for a found pair.
	sameVillageW [2]float64

	id   string
	raw  string // the full name as written
	name parsedName
	alt  *parsedName
	// words are the name's words in order when it has no comma: any of
	// them may be the first name.
	words []string
	// inner are the readings of a name without a comma with the first
	// name after one or two surnames (firstPositions): "POP COC MARIA
	// ISABEL" is Maria Isabel Pop Coc.
	inner []parsedName
	// innerTried says, for each of inner, whether it is compared and
	// blocked: not when a word before its first name is a listed given
	// name ("Maria Isabel Pop" is written first name first).
	innerTried [2]bool
	// second is the reading of a name of two given names by the second
	// alone (secondGiven): María Elena Pop is Elena Pop to a neighbour.
	second *parsedName
	// aka is the record read with another name it gives the person
	// (Person.AlsoKnownAs, of two words or more) as its name: Maria Pop,
	// known by her married name Maria Bol. nil when it gives none.
	aka   *features
	shown struct{ village, district string }
}

func newFeatures(p *Person) *features {
	f := &features{id: p.ID, rec: p.Record, raw: p.FullName, age: p.Age, ageKnown: p.AgeKnown}
	var aliases, called []string
	aka := p.AlsoKnownAs
	if w := words(aka); len(w) == 1 {
		// One word is what the first name is called: Guadalupe, known
		// as Lupe.
		if len(w[0]) > 1 && !placeholder(w) {
			called = w
		}
		aka = ""
	}
	f.name, f.alt, f.words, aliases = parseName(p.FullName, called...)
	if f.name.first == "" && aka != "" {
		// "Unknown", known as Chino Coc: the name the person goes by is
		// the name.
		f.raw = aka
		f.name, f.alt, f.words, aliases = parseName(aka)
		aka = ""
	}
	if aka != "" {
		q := *p
		q.FullName, q.AlsoKnownAs = aka, ""
		if g := newFeatures(&q); g.name.first != "" {
			f.aka = g
		}
	}
	f.gen = generationOf(f.raw)
	f.firstLen = int16(min(len(f.name.first), math.MaxInt16))
	f.maxNameW = f.name.maxW()
	if f.alt != nil {
		f.maxNameW = math.Max(f.maxNameW, f.alt.maxW())
	}
	for k, i := range firstPositions(f) {
		r := readingAt(f.words, i, aliases)
		f.maxNameW = math.Max(f.maxNameW, r.maxW())
		f.inner = append(f.inner, r)
		f.innerTried[k] = !slices.ContainsFunc(f.words[:i], listedGiven)
	}
	if f.second = secondGiven(&f.name, aliases); f.second != nil {
		f.maxNameW = math.Max(f.maxNameW, f.second.maxW())
	}
	if j := joinedGiven(&f.name); j != nil {
		// Made again in the rare comparison that needs it: most
		// names of three words are never compared so.
		f.joinedLen, f.joinedMaxW = int16(min(len(j.first), math.MaxInt16)), j.maxW()
	}
	if f.aka != nil {
		f.maxNameW = math.Max(f.maxNameW, f.aka.maxNameW)
	}
	if p.Sex == "female" || p.Sex == "male" {
		f.sex = p.Sex
	}
	var named string
	f.village, f.villageParts, named = placeOf(p.Village)
	f.villageNames = named != ""
	for i, k := range []Kind{Duplicate, Found} {
		f.sameVillageW[i] = tfWeight(placeLevels[k][placeSame].m, villageU(f.village))
	}
	f.district = foldDistrict(p.District)
	if f.district == "" {
		// "San Antonio, Toledo" with no district given.
		f.district = named
	}
	f.dIdx = districtIndex(f.district)
	f.shown.village = spaced(p.Village)
	f.shown.district = spaced(p.District)
	if f.shown.district == "" && f.district != "" {
		f.shown.district = titles(strings.Fields(f.district))
	}
	return f
}

// placeNoise are words that do not tell one place from another.
var placeNoise = map[string]bool{"village": true, "town": true, "city": true, "the": true, "of": true, "aldea": true, "pueblo": true,
	"ciudad": true, "de": true, "district": true, "distrito": true, "dist": true}

func foldPlace(s string) string {
	var out []string
	for _, w := range strings.Fields(fold(s)) {
		if a, ok := placeWords[w]; ok {
			w = a
		}
		if !placeNoise[w] {
			out = append(out, w)
		}
	}
	p := strings.Join(out, " ")
	if a, ok := placeAliases[p]; ok {
		return a
	}
	return p
}

// placeOf reads a village as reporters write it: "San Antonio", "San
// Antonio Village, Toledo District", "Sta. Elena (Cayo)", "near the
// church, San Antonio". A part that names a district, or a district's name
// at the end of a part ("San Antonio Toledo"), is the district (named),
// not the village, unless it is all there is ("Belize" is Belize City).
// village is the rest folded; parts are the parts of it when there are
// several, each a place of its own to compare ("near church", "san
// antonio").
func placeOf(s string) (village string, parts []string, named string) {
	raw := strings.FieldsFunc(strings.ReplaceAll(s, " - ", ","), func(r rune) bool {
		return r == ',' || r == ';' || r == '/' || r == '(' || r == ')' || r == '|'
	})
	for _, part := range raw {
		p := foldPlace(part)
		if p == "" {
			continue
		}
		if d := foldDistrict(part); districtIndex(d) >= 0 {
			if named == "" {
				named = d
			}
			continue
		}
		if w := strings.Fields(p); len(w) > 1 {
			for _, n := range []int{2, 1} {
				if len(w) > n && districtIndex(strings.Join(w[len(w)-n:], " ")) >= 0 {
					if named == "" {
						named = strings.Join(w[len(w)-n:], " ")
					}
					p = foldPlace(strings.Join(w[:len(w)-n], " "))
					break
				}
			}
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		// A district alone: "Belize" is Belize City.
		return foldPlace(s), nil, ""
	}
	if len(parts) == 1 {
		return parts[0], nil, named
	}
	return strings.Join(parts, " "), parts, named
}

// samePart is a place that a and b, one of them written in parts, both
// name ("near the church, San Antonio" and "San Antonio"), or "".
func samePart(a, b *features) string {
	as, bs := a.villageParts, b.villageParts
	if as == nil {
		as = []string{a.village}
	}
	if bs == nil {
		bs = []string{b.village}
	}
	for _, x := range as {
		if slices.Contains(bs, x) {
			return x
		}
	}
	return ""
}

// placeAliases are the other names Belizeans give a town, folded: PG is
// Punta Gorda, Benque is Benque Viejo del Carmen, Mango Creek is the twin
// of Independence, San Pedro is on Ambergris Caye, and "Belize" as a
// place is Belize City.
var placeAliases = map[string]string{
	"pg": "punta gorda", "p g": "punta gorda",
	"benque": "benque viejo", "benque viejo del carmen": "benque viejo",
	"mango creek": "independence", "independence mango creek": "independence",
	"ambergris caye": "san pedro", "san pedro ambergris caye": "san pedro",
	"belize": "belize city",
}

// placeWords are the words of a place name abbreviated as a clerk does
// (Sta. Cruz, Sn. José, St. Margaret, BZ City, OW Town), and Crique, the
// creek of Toledo's village names, written as English speakers hear it
// (Creek Sarco).
var placeWords = map[string]string{
	"sta": "santa", "sto": "santo", "sn": "san", "st": "saint", "bz": "belize", "bze": "belize",
	"ow": "orange walk", "crique": "creek",
}

// foldDistrict folds a district as the kits name it, or as it is
// written besides: "Toledo District", "Distrito de Toledo", "Stan Creek".
func foldDistrict(s string) string {
	var out []string
	for _, w := range strings.Fields(fold(s)) {
		if w != "district" && w != "distrito" && w != "de" && w != "dist" {
			out = append(out, w)
		}
	}
	d := strings.Join(out, " ")
	switch d {
	case "stan creek", "stanncreek":
		return "stann creek"
	case "orangewalk":
		return "orange walk"
	}
	return d
}

// kindOf says what a pair of records would mean; ok is false for two
// shelter registrations, which the matcher does not pair.
func kindOf(a, b Record) (Kind, bool) {
	switch {
	case a == Missing && b == Missing:
		return Duplicate, true
	case a == Missing && b == Sheltered, a == Sheltered && b == Missing:
		return Found, true
	}
	return "", false
}

// Compare scores a and b with cfg. ok is false when the pair is not one
// the matcher makes (two shelter registrations) or either is invalid.
func Compare(a, b Person, cfg Config) (c Candidate, ok bool) {
	if a.Validate() != nil || b.Validate() != nil || a.ID == b.ID {
		return Candidate{}, false
	}
	return compare(newFeatures(&a), newFeatures(&b), cfg.Prior, true)
}

// compare scores a and b; the reasons are made only when want is set, since
// most pairs compared are dropped.
func compare(a, b *features, prior float64, want bool) (Candidate, bool) {
	return compareAbove(a, b, prior, math.Inf(-1), want)
}

// compareAbove is compare for a pair that matters only if its weight
// reaches least: when the name cannot lift the rest of the record there,
// the names are not compared and the score is 0.
func compareAbove(a, b *features, prior, least float64, want bool) (Candidate, bool) {
	kind, ok := kindOf(a.rec, b.rec)
	if !ok {
		return Candidate{}, false
	}
	c := Candidate{Kind: kind}
	var rs *[]Reason
	var rest []Reason
	if want {
		rs = &rest
	}
	pw := logOdds(prior)
	aw := compareAge(a, b, rs)
	sw := compareSex(a, b, rs)
	nameW := nameBound(a, b)
	if !want && pw+aw+sw+maxPlaceW+nameW < least {
		return c, true // ages far apart: nothing else can make up for it
	}
	lw := comparePlace(a, b, kind, rs)
	if !want && pw+aw+sw+lw+nameW < least {
		return c, true
	}
	c.A, c.B = a.id, b.id
	if kind == Found {
		c.Report = a.id
		if b.rec == Missing {
			c.Report = b.id
		}
	}
	if c.A > c.B {
		c.A, c.B = c.B, c.A
	}
	nw, reasons := compareNames(a, b, want)
	c.evidence = nw + aw + sw + lw
	c.setPrior(pw)
	if want {
		c.Reasons = append(reasons, rest...)
	}
	return c, true
}

// nameBound is the most the names of a and b can weigh together. Every
// reading agrees at most as far as both its names allow: the first names
// are the same name or weigh a constant, and surnames agreeing weigh by
// the commonness of the ones both hold. So the bound is the lesser of the
// two names' most, not the greater, and a pair of a common name and a
// rare one is bounded by the common one. The reading of two given names
// as one counts only where it may agree (joinMayAgree).
// TestTheNameBoundIsABound draws names of every form read here.
func nameBound(a, b *features) float64 {
	w := math.Min(a.maxNameW, b.maxNameW)
	if joinMayAgree(a, b) {
		w = math.Max(w, math.Min(a.joinedMaxW, b.maxNameW))
	}
	if joinMayAgree(b, a) {
		w = math.Max(w, math.Min(b.joinedMaxW, a.maxNameW))
	}
	return w
}

// setPrior sets c's weight and score from its evidence and a prior's
// log2 odds pw.
func (c *Candidate) setPrior(pw float64) {
	c.Weight = pw + c.evidence
	c.Score = 1 / (1 + math.Exp2(-c.Weight))
}

// logOdds is the log2 odds of a chance.
func logOdds(p float64) float64 { return math.Log2(p / (1 - p)) }

func title(w string) string {
	if w == "" {
		return w
	}
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + w[n:]
}

func titles(ws []string) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = title(w)
	}
	return strings.Join(out, " ")
}

// compareNames weighs the first names and the surnames, reading each name
// as written and, where it has no comma, with its last word as the first
// name, and keeps the better reading. Reasons are made only when wanted.
func compareNames(a, b *features, want bool) (float64, []Reason) {
	if a.name.first == "" || b.name.first == "" {
		return 0, nil
	}
	w, reasons := compareNameWords(a, b, want)
	if a.gen != 0 && b.gen != 0 && a.gen != b.gen {
		// Jr. and Sr., II and III: written to tell a father from his
		// son of one name.
		w += generationW
		if want {
			x, y := generationWord[a.gen], generationWord[b.gen]
			if a.gen > b.gen {
				x, y = y, x
			}
			reasons = append(reasons, Reason{Code: "name-generation", Args: []string{x, y}})
		}
	}
	return w, reasons
}

// generationW weighs two records of one name whose generations differ
// (Jr. and Sr.): a clerk writes the one for the other about one time in
// 500 (m 0.002); of two people of one name who both carry one, about half
// carry different ones (u 0.5): −8 bits, two people whatever the rest.
var generationW = math.Log2(0.002 / 0.5)

// generationWord is how a reason writes a generation.
var generationWord = map[int8]string{1: "Sr.", 2: "Jr.", 3: "III", 4: "IV"}

// compareNameWords weighs the words of two known names, and the other
// names either record says the person goes by: the better reading counts.
func compareNameWords(a, b *features, want bool) (float64, []Reason) {
	w, reasons := compareAsWritten(a, b, want)
	// Two given names written as one word in the other record: Mary Ann
	// and Maryann, Juan Pablo and Juanpablo, one name.
	if jw, r, ok := joinedWeight(a, b, want); ok && jw > w {
		w, reasons = jw, r
	}
	if jw, r, ok := joinedWeight(b, a, want); ok && jw > w {
		w, reasons = jw, r
	}
	if a.aka == nil && b.aka == nil {
		return w, reasons
	}
	// Another name a reporter gives weighs as the name itself: the
	// reporter knows the person by it, as the clerk of a shelter may.
	for _, p := range [][2]*features{{a.aka, b}, {a, b.aka}, {a.aka, b.aka}} {
		x, y := p[0], p[1]
		if x == nil || y == nil {
			continue
		}
		xw, r := compareAsWritten(x, y, want)
		if xw <= w {
			continue
		}
		w = xw
		if want {
			var how []Reason
			for _, k := range [][2]*features{{x, a}, {y, b}} {
				if k[0] != k[1] {
					how = append(how, Reason{Code: "name-aka", Args: []string{spaced(k[1].raw), spaced(k[0].raw)}})
				}
			}
			reasons = append(how, r...)
		}
	}
	return w, reasons
}

// spaced is s with its runs of spaces one space, as a reason shows it.
func spaced(s string) string { return strings.Join(strings.Fields(s), " ") }

// compareAsWritten weighs the words of two known names as written.
func compareAsWritten(a, b *features, want bool) (float64, []Reason) {
	if a.name.sorted == b.name.sorted {
		// "Pop Maria" and "Maria, Pop": the first name is the word the
		// readings agree on, whichever it is.
		w, _, _ := nameReading(&a.name, &b.name, a.dIdx, b.dIdx, false)
		if a.alt != nil {
			w = math.Max(w, weightOnly(a.alt, &b.name, a.dIdx, b.dIdx))
		}
		if b.alt != nil {
			w = math.Max(w, weightOnly(&a.name, b.alt, a.dIdx, b.dIdx))
		}
		// "Guerrero Pérez Abel Wilfredo" and "Abel Wilfredo Guerrero
		// Pérez": the same words, and the first name one that either
		// way of writing them may put first. Of several, the least
		// weighty reading counts: "Maria Pop" is not weighed as a
		// Pop whose surname is Maria.
		if a.name.first == b.name.first {
			// Read as written they agree on the first name: no
			// other reading both allow weighs less.
		} else if wm, ok := sameWordsWeight(a, b); ok {
			w = math.Max(w, wm)
		}
		switch {
		case !want:
			return w, nil
		case a.raw == b.raw:
			return w, []Reason{{Code: "name-same"}}
		}
		return w, []Reason{{Code: "name-same-folded"}}
	}
	bestW, fl, bestR := nameReading(&a.name, &b.name, a.dIdx, b.dIdx, want)
	if fl != firstElse {
		return bestW, bestR
	}
	// The names as written disagree on the first name: perhaps one is
	// written surname first without a comma, its first name last or
	// after one or two surnames.
	type reading struct {
		x, y  *parsedName
		who   *features
		inner bool
	}
	// Most pairs compared come here: the readings are kept on the stack.
	var buf [8]reading
	readings := append(buf[:0], reading{a.alt, &b.name, a, false}, reading{&a.name, b.alt, b, false})
	// A reading with the first name after one or two surnames is not
	// tried when one of those is a listed given name: "Jennifer Adriana
	// Santos" is written first name first, as its blocks say too.
	for k := range a.inner {
		if a.innerTried[k] {
			readings = append(readings, reading{&a.inner[k], &b.name, a, true})
		}
	}
	for k := range b.inner {
		if b.innerTried[k] {
			readings = append(readings, reading{&a.name, &b.inner[k], b, true})
		}
	}
	readings = append(readings, reading{a.second, &b.name, a, true}, reading{&a.name, b.second, b, true})
	for _, t := range readings {
		if t.x == nil || t.y == nil {
			continue
		}
		flipped := t.y
		if t.who == a {
			flipped = t.x
		}
		if flipped.firstIsSurname {
			// "Marvin García" is not García with a surname Marvin.
			continue
		}
		if l, _ := compareFirst(t.x, t.y, false); l == firstElse {
			continue // this reading disagrees on the first name too
		}
		w := weightOnly(t.x, t.y, a.dIdx, b.dIdx)
		if t.inner {
			w -= innerPenalty
		}
		if w > bestW {
			bestW = w
			if want {
				_, _, r := nameReading(t.x, t.y, a.dIdx, b.dIdx, true)
				how := Reason{Code: "name-surname-first", Args: []string{spaced(t.who.raw)}}
				if t.x == a.second || t.y == b.second {
					how = Reason{Code: "name-second-given", Args: []string{how.Args[0], title(t.who.second.first)}}
				}
				bestR = append([]Reason{how}, r...)
			}
		}
	}
	return bestW, bestR
}

// secondGiven is the reading of n by its second word, its first dropped,
// when n begins with a listed given name, its second word is not a listed
// surname, and a surname follows: Maria Elena Pop read as Elena Pop, Juan
// José Coc as José Coc, as many a Juan José is called at home; not Maria
// Pop Coc as Pop Coc. Such a reading weighs innerPenalty less, as a
// reading against the order of the words does: the names agree only if
// the reporter wrote the name the person goes by and the clerk the names
// the person was given. nil otherwise.
func secondGiven(n *parsedName, aliases []string) *parsedName {
	if len(n.surnames) < 2 || !listedGiven(n.first) || surnameOnly(n.surnames[0]) {
		return nil
	}
	r := makeName(n.surnames[0], n.surnames[1:], nil, aliases)
	return &r
}

// joinedWeight weighs x's name read with its first two words as one
// first name against y's as written (x.name read a, y.name b, as for
// any pair); ok is false when that reading does not agree with y's first
// name, exactly or spelled alike. Names whose lengths tell they cannot
// agree are not read so.
func joinedWeight(x, y *features, want bool) (float64, []Reason, bool) {
	if !joinMayAgree(x, y) {
		return 0, nil, false
	}
	j := joinedGiven(&x.name)
	if l, _ := compareFirst(j, &y.name, false); l != firstExact && l != firstAlike {
		return 0, nil, false
	}
	w, _, r := nameReading(j, &y.name, x.dIdx, y.dIdx, want)
	if want {
		two := title(x.name.first) + " " + title(x.name.surnames[0])
		r = append([]Reason{{Code: "first-joined", Args: []string{two, title(y.name.first)}}}, r[1:]...)
	}
	return w, r, true
}

// joinMayAgree says whether x's name read with its first two words as one
// first name may agree with y's first name: x has that reading, the
// first names differ as written, and y's is within two letters of the
// length of the two words joined.
func joinMayAgree(x, y *features) bool {
	if x.joinedLen == 0 {
		return false
	}
	// Lengths first: they are at hand, the names' letters are not.
	d := x.joinedLen - y.firstLen
	return d <= 2 && d >= -2 && x.name.first != y.name.first
}

// joinedGiven is the reading of n with its first two words as one first
// name, when either is a listed given name, the second is not a listed
// surname, and a surname follows: Mary Ann Young as Maryann Young, as the
// other record may write it; not Maria Pop Coc as Mariapop Coc. nil
// otherwise.
func joinedGiven(n *parsedName) *parsedName {
	if len(n.surnames) < 2 || !listedGiven(n.first) && !listedGiven(n.surnames[0]) || surnameOnly(n.surnames[0]) {
		return nil
	}
	r := makeName(n.first+n.surnames[0], n.surnames[1:], nil, nil)
	return &r
}

// firstPositions are the positions in f.words, besides the first and the
// last, that may hold the first name of a name written surname first
// without a comma: after one surname or two.
func firstPositions(f *features) []int {
	var out []int
	for i := 1; i <= 2 && i < len(f.words)-1; i++ {
		out = append(out, i)
	}
	return out
}

// mayBeFirst says whether w may be the first name of f as written.
func mayBeFirst(f *features, w string) bool {
	if w == f.name.first || f.alt != nil && w == f.alt.first {
		return true
	}
	for _, i := range firstPositions(f) {
		if f.words[i] == w {
			return true
		}
	}
	return false
}

// sameWordsWeight weighs two names of the same words, read with a first
// name that both may have, the least weighty such reading; ok is false
// when they have none in common.
func sameWordsWeight(a, b *features) (w float64, ok bool) {
	words := strings.Fields(a.name.sorted)
	for i, x := range words {
		if i > 0 && x == words[i-1] || !mayBeFirst(a, x) || !mayBeFirst(b, x) {
			continue
		}
		r := readingAt(words, i, nil)
		rw := weightOnly(&r, &r, a.dIdx, b.dIdx)
		if !ok || rw < w {
			w, ok = rw, true
		}
	}
	return w, ok
}

// surnameOnly says whether w is a listed surname (García, Pop) and not a
// listed given name or nickname: a reading with it as the first name is
// not tried.
func surnameOnly(w string) bool {
	if !listedSurname(surnameCanon(w)) {
		return false
	}
	_, given := firstFrequency[canonGiven(w)]
	return !given && len(nicknames[w]) == 0 && equivalents[w] == ""
}

func weightOnly(x, y *parsedName, da, db int8) float64 {
	w, _, _ := nameReading(x, y, da, db, false)
	return w
}

// nameReading weighs reading x against reading y, of records of districts
// da and db (-1 not known), which scale the commonness of names of one
// people.
func nameReading(x, y *parsedName, da, db int8, want bool) (float64, int, []Reason) {
	fl, fr := compareFirst(x, y, want)
	var w float64
	switch fl {
	case firstInitial:
		w = firstInitialW
	case firstGendered:
		w = firstGenderedW
	default:
		w = firstWeights[fl]
	}
	if fl == firstAlike && min(len(x.first), len(y.first)) >= longName {
		w = firstAlikeLongW
	}
	if fl == firstExact {
		w = x.firstExactW - math.Log2(localFactor(x.firstGroup, da, db))
	}
	sl, sr, common, commonY, long := compareSurnames(x, y, want)
	switch sl {
	case surnameMissing:
	case surnameSpelling:
		// Caal written Cal is the name Caal: it weighs as the name's
		// commonness says, a bit less, since Cal is also a family of
		// its own. Of the two spellings the commoner counts, whichever
		// record is x.
		u := 1.0
		for k, i := range common {
			j := commonY[k]
			u *= math.Max(x.surnameF[i]*localFactor(x.surnameG[i], da, db), y.surnameF[j]*localFactor(y.surnameG[j], da, db))
		}
		m := surnameLevels[surnameOne].m
		if len(common) == len(x.surnames) && len(common) == len(y.surnames) {
			m = surnameLevels[surnameExact].m
		}
		w += tfWeight(m, u) - spellingDiscount
	case surnameAlike:
		if long {
			w += surnameAlikeLongW
		} else {
			w += surnameWeights[sl]
		}
	case surnameExact, surnameOne, surnameOneSecond:
		u := 1.0
		for _, i := range common {
			u *= x.surnameF[i] * localFactor(x.surnameG[i], da, db)
		}
		w += tfWeight(surnameLevels[sl].m, u)
	case surnameMiddle:
		u := 1.0
		for _, i := range common {
			u *= x.surnameF[i] * localFactor(x.surnameG[i], da, db)
		}
		w += tfWeight(surnameLevels[surnameExact].m, u) + middleDifferW
	default:
		w += surnameWeights[sl]
	}
	if !want {
		return w, fl, nil
	}
	return w, fl, []Reason{fr, sr}
}

func compareFirst(x, y *parsedName, want bool) (int, Reason) {
	a, b := x.first, y.first
	if a == b {
		return firstExact, mk(want, func() Reason { return Reason{Code: "first-same", Args: []string{title(a)}} })
	}
	for _, ca := range x.firstCanon {
		for _, cb := range y.firstCanon {
			if ca == cb {
				// Name the nickname first: "Memo is a name for Guillermo".
				n, full := a, b
				if na, nb := len(nicknames[a]) > 0, len(nicknames[b]) > 0; nb && !na || na == nb && a > b {
					n, full = b, a
				}
				return firstNickname, mk(want, func() Reason { return Reason{Code: "first-nickname", Args: []string{title(n), title(full)}} })
			}
		}
	}
	var args []string
	if want {
		args = []string{title(a), title(b)}
		if a > b {
			args[0], args[1] = args[1], args[0]
		}
	}
	if len(a) == 1 || len(b) == 1 {
		if initialAgrees(x, y) {
			return firstInitial, mk(want, func() Reason { return Reason{Code: "first-initial", Args: args} })
		}
		return firstElse, mk(want, func() Reason { return Reason{Code: "first-differ", Args: args} })
	}
	if gendered(a, b) || slices.ContainsFunc(x.firstCanon, func(ca string) bool {
		return slices.ContainsFunc(y.firstCanon, func(cb string) bool { return gendered(ca, cb) })
	}) {
		return firstGendered, mk(want, func() Reason { return Reason{Code: "first-gendered", Args: args} })
	}
	if formOf(a) == formOf(b) {
		// One name spelled two ways, or written in two languages:
		// Sean and Shawn, Arthur and Arturo.
		return firstAlike, mk(want, func() Reason { return Reason{Code: "first-alike", Args: args} })
	}
	jw := jaroWinklerAbove(a, b, 0.85)
	switch {
	case (jw >= 0.92 || len(a) >= 4 && len(b) >= 4 && oneEdit(a, b)) && givenNames[a] && givenNames[b]:
		// Two names, each given to people (María and Marta, Mario
		// and Marco): a typo that turns one into the other is rare,
		// two people of the two names are not (firstTwoNames).
		return firstSomewhat, mk(want, func() Reason { return Reason{Code: "first-two-names", Args: args} })
	case jw >= 0.92 || len(a) >= 4 && len(b) >= 4 && oneEdit(a, b):
		return firstAlike, mk(want, func() Reason { return Reason{Code: "first-alike", Args: args} })
	case nicknameAlike(x, b) || nicknameAlike(y, a):
		// A nickname and its name mistyped (Betty, Elizzabeth), or a
		// nickname mistyped and its name (Mggie, Margaret): as alike
		// as one typo.
		return firstAlike, mk(want, func() Reason { return Reason{Code: "first-alike", Args: args} })
	case jw >= 0.85 || oneEdit(a, b):
		// A typo in a short name (Ana and Asa, Eva and Ea) changes
		// too much of it to say it is alike, and too little to say
		// it is another.
		return firstSomewhat, mk(want, func() Reason { return Reason{Code: "first-somewhat", Args: args} })
	}
	return firstElse, mk(want, func() Reason { return Reason{Code: "first-differ", Args: args} })
}

// initialAgrees says whether the first name of x or of y, one of which is
// an initial ("J. Coc"), begins as the other or a name it stands for
// (W. and Bill, who is William); of two initials, either way.
func initialAgrees(x, y *parsedName) bool {
	return len(x.first) == 1 && begins(x.first[0], y) || len(y.first) == 1 && begins(y.first[0], x)
}

// begins says whether the first name of y, or a name it stands for,
// begins with the letter c.
func begins(c byte, y *parsedName) bool {
	if y.first[0] == c {
		return true
	}
	for _, n := range y.firstCanon {
		if n[0] == c {
			return true
		}
	}
	for _, full := range nicknames[y.first] {
		if full[0] == c {
			return true
		}
	}
	return false
}

// alikeName says whether two given names differ by a typo at most.
func alikeName(a, b string) bool {
	return a == b || jaroWinklerAbove(a, b, 0.92) >= 0.92 || len(a) >= 4 && len(b) >= 4 && oneEdit(a, b)
}

// nicknameAlike says whether x's first name stands for a name alike to b
// (Betty for Elizzabeth), or is alike to a nickname of b's (Mggie for
// Margaret).
func nicknameAlike(x *parsedName, b string) bool {
	for _, c := range x.firstCanon[1:] {
		if alikeName(c, b) {
			return true
		}
	}
	// The name as the nicknames table writes it, too: Liz stands for
	// Elizabeth, whose canonical form is Isabel, and Elizabbeth is alike
	// to Elizabeth, not to Isabel.
	for _, full := range nicknames[x.first] {
		if alikeName(full, b) {
			return true
		}
	}
	for _, n := range nicknamesOf[canonGiven(b)] {
		if alikeName(x.first, n) {
			return true
		}
	}
	return false
}

// tokenLevel is how alike two surname words are: surnameExact,
// surnameSpelling, surnameAlike, surnameSomewhat or surnameElse; cs and ct
// are their canons in the table of spellings, ks and kt their spellKeys.
func tokenLevel(s, t, cs, ct, ks, kt string) int {
	switch {
	case s == t:
		return surnameExact
	case cs == ct || ks == kt:
		return surnameSpelling
	case len(s) < len(t) && abbreviates(s, t) || len(t) < len(s) && abbreviates(t, s):
		// A middle name and its abbreviation, always the shorter: José
		// Ma. Coc.
		return surnameSpelling
	}
	if listedSurname(cs) && listedSurname(ct) {
		// Coc and Choc, Sho and Shi: two families' names, each
		// common, more often two people than one name mistyped as
		// the other.
		return surnameElse
	}
	jw := jaroWinklerAbove(s, t, 0.85)
	short := min(len(s), len(t))
	switch {
	case jw >= 0.92 || short >= 4 && oneEdit(s, t):
		return surnameAlike
	case jw >= 0.85 || short >= 3 && oneEdit(s, t):
		return surnameSomewhat
	}
	return surnameElse
}

// compareSurnames pairs the surnames of x with those of y, best pairs
// first, and says how well they agree: all of them, one of them (the other
// dropped, as a second Spanish surname often is), or one of them with the
// others different (cousins: Pop Coc and Pop Bol).
// common holds the positions in x of the surnames the two agree on
// exactly, or, at surnameSpelling, but for a spelling; commonY holds,
// at surnameSpelling, the positions in y they pair with.
func compareSurnames(x, y *parsedName, want bool) (level int, r Reason, common, commonY []int, long bool) {
	if len(x.surnames) == 0 || len(y.surnames) == 0 {
		return surnameMissing, mk(want, func() Reason { return Reason{Code: "surname-missing"} }), nil, nil, false
	}
	type pairing struct{ i, j, level int }
	var pairBuf, keptBuf [16]pairing
	pairs := pairBuf[:0]
	for i := range x.surnames {
		for j := range y.surnames {
			if l := tokenLevel(x.surnames[i], y.surnames[j], x.canon[i], y.canon[j], x.spell[i], y.spell[j]); l != surnameElse {
				pairs = append(pairs, pairing{i, j, l})
			}
		}
	}
	// Best pairs first; ties by position, the same whichever side is x.
	less := func(a, b pairing) bool {
		if a.level != b.level {
			return a.level < b.level
		}
		return a.i+a.j < b.i+b.j
	}
	for a := 1; a < len(pairs); a++ {
		for b := a; b > 0 && less(pairs[b], pairs[b-1]); b-- {
			pairs[b], pairs[b-1] = pairs[b-1], pairs[b]
		}
	}
	var usedX, usedY uint16
	kept := keptBuf[:0]
	for _, p := range pairs {
		if usedX&(1<<p.i) != 0 || usedY&(1<<p.j) != 0 {
			continue
		}
		usedX |= 1 << p.i
		usedY |= 1 << p.j
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return surnameElse, mk(want, func() Reason {
			xs, ys := titles(x.surnames), titles(y.surnames)
			if xs > ys {
				xs, ys = ys, xs
			}
			return Reason{Code: "surname-differ", Args: []string{xs, ys}}
		}), nil, nil, false
	}
	worst, best := surnameExact, surnameElse
	for _, p := range kept {
		worst = max(worst, p.level)
		best = min(best, p.level)
	}
	pairArgs := func(p pairing) []string {
		s, t := title(x.surnames[p.i]), title(y.surnames[p.j])
		if s > t {
			s, t = t, s
		}
		return []string{s, t}
	}
	// A middle name abbreviated is not a surname spelled otherwise.
	spellingReason := func(p pairing) Reason {
		s, t := x.surnames[p.i], y.surnames[p.j]
		if abbreviates(t, s) {
			s, t = t, s
		}
		if abbreviates(s, t) {
			return Reason{Code: "name-abbreviated", Args: []string{title(s), title(t)}}
		}
		return Reason{Code: "surname-spelling", Args: pairArgs(p)}
	}
	// A long name has few others within a typo of it: agreeing but for
	// a typo says more of it than of a short one (Pop, Bol, Coc).
	isLong := func(p pairing) bool {
		return min(len(x.surnames[p.i]), len(y.surnames[p.j])) >= longName
	}
	// spelled are the positions in x and in y of the surnames the two
	// agree on but for a known spelling (or exactly).
	spelled := func(kept []pairing) (cx, cy []int) {
		for _, p := range kept {
			if p.level <= surnameSpelling {
				cx, cy = append(cx, p.i), append(cy, p.j)
			}
		}
		return cx, cy
	}
	var worstPair pairing
	for _, p := range kept {
		if p.level == worst {
			worstPair = p
		}
	}
	for _, p := range kept {
		if p.level == surnameExact {
			common = append(common, p.i)
		}
	}
	if len(kept) == len(x.surnames) && len(kept) == len(y.surnames) {
		switch worst {
		case surnameExact:
			return surnameExact, mk(want, func() Reason { return Reason{Code: "surname-same", Args: []string{titles(x.surnames)}} }), common, nil, false
		case surnameSpelling:
			cx, cy := spelled(kept)
			return surnameSpelling, mk(want, func() Reason { return spellingReason(worstPair) }), cx, cy, false
		case surnameAlike:
			return surnameAlike, mk(want, func() Reason { return Reason{Code: "surname-alike", Args: pairArgs(worstPair)} }), nil, nil, isLong(worstPair)
		}
		return surnameSomewhat, mk(want, func() Reason { return Reason{Code: "surname-somewhat", Args: pairArgs(worstPair)} }), nil, nil, false
	}
	if best != surnameExact {
		// One surname spelled two ways, the other dropped: as weak as
		// the spelling.
		var cx, cy []int
		if best == surnameSpelling {
			cx, cy = spelled(kept)
		}
		return best, mk(want, func() Reason {
			if best == surnameSpelling {
				return spellingReason(kept[0])
			}
			return Reason{Code: map[int]string{surnameAlike: "surname-alike", surnameSomewhat: "surname-somewhat"}[best], Args: pairArgs(kept[0])}
		}), cx, cy, isLong(kept[0])
	}
	var shown []string
	for _, p := range kept {
		if p.level == surnameExact {
			shown = append(shown, x.surnames[p.i])
		}
	}
	var restX, restY []string
	for i, s := range x.surnames {
		if usedX&(1<<i) == 0 {
			restX = append(restX, s)
		}
	}
	for j, s := range y.surnames {
		if usedY&(1<<j) == 0 {
			restY = append(restY, s)
		}
	}
	sortStrings(shown)
	// restReason says what the two share, and what else each holds.
	restReason := func(code string) func() Reason {
		return func() Reason {
			rx, ry := titles(restX), titles(restY)
			if rx > ry {
				rx, ry = ry, rx
			}
			return Reason{Code: code, Args: []string{titles(shown), rx, ry}}
		}
	}
	switch compareSecondGiven(restX, restY) {
	case secondGivenDiffer:
		return surnameMiddle, mk(want, restReason("middle-differ")), common, nil, false
	case secondGivenOne:
		// María Guadalupe Chan and María Lupe Chan: the family names
		// agree, and the second given names are one name. It weighs
		// as the family names agreeing alone.
		return surnameExact, mk(want, func() Reason {
			return Reason{Code: "middle-one", Args: []string{titles(shown), title(restX[0]), title(restY[0])}}
		}), common, nil, false
	}
	if len(restX) > 0 && len(restY) > 0 {
		return surnameOneOther, mk(want, restReason("surname-one-other")), nil, nil, false
	}
	// A Spanish name drops its second surname, the mother's, and keeps
	// the first: Rosa Martínez is less likely Rosa García Martínez than
	// Rosa García is. The longer name's last word is the one they share,
	// and the word before it, a family name, is the one left out.
	// A wife's husband's name, after de, is kept as often as her own.
	longer, used, married := y.surnames, usedY, y.married
	if len(restX) > 0 {
		longer, used, married = x.surnames, usedX, x.married
	}
	if n := len(longer); n >= 2 && !married && used&(1<<(n-1)) != 0 && used&(1<<(n-2)) == 0 && surnameOnly(longer[n-2]) {
		return surnameOneSecond, mk(want, func() Reason {
			return Reason{Code: "surname-one-second", Args: []string{titles(shown), title(longer[n-2])}}
		}), common, nil, false
	}
	return surnameOne, mk(want, func() Reason {
		return Reason{Code: "surname-one", Args: []string{titles(shown), titles(append(restX, restY...))}}
	}), common, nil, false
}

// How the words two names do not share compare, when each side's are
// given names and no family name (compareSecondGiven).
const (
	secondGivenNot    = iota // not given names on both sides
	secondGivenDiffer        // two names on each side: Juan Pablo and Juan Carlos
	secondGivenOne           // one name, each side one word: Guadalupe and Lupe
)

// compareSecondGiven says how rx and ry, the words of two names that the other
// does not share, compare: whether they are given names on each side and
// no family name, and then whether they are one name, a spelling, a form
// in another language or a nickname of the other, or two.
func compareSecondGiven(rx, ry []string) int {
	given := func(w string) bool {
		return (givenNames[w] || len(nicknames[w]) > 0) && !listedSurname(surnameCanon(w))
	}
	if len(rx) == 0 || len(ry) == 0 || !all(rx, given) || !all(ry, given) {
		return secondGivenNot
	}
	for _, a := range rx {
		for _, b := range ry {
			if oneGivenName(a, b) {
				if len(rx) == 1 && len(ry) == 1 {
					return secondGivenOne
				}
				return secondGivenNot
			}
		}
	}
	return secondGivenDiffer
}

func all(ws []string, f func(string) bool) bool {
	for _, w := range ws {
		if !f(w) {
			return false
		}
	}
	return true
}

// oneGivenName says whether the given names a and b may be one name: a
// spelling or a form of it, a nickname of it, or alike to it.
func oneGivenName(a, b string) bool {
	if formOf(a) == formOf(b) || alikeName(a, b) {
		return true
	}
	ca, cb := firstNameCanon(a), firstNameCanon(b)
	return slices.ContainsFunc(ca, func(c string) bool { return slices.Contains(cb, c) })
}

func contains(ss []string, s string) bool {
	for _, t := range ss {
		if t == s {
			return true
		}
	}
	return false
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// say adds a reason to reasons, when reasons are wanted (not nil).
func say(reasons *[]Reason, code string, args ...string) {
	if reasons != nil {
		*reasons = append(*reasons, Reason{Code: code, Args: args})
	}
}

// AgesApart says whether two ages, as reporters give them, are too far
// apart for one person: more than ten years, or more than five where one
// is a child under 13. A Juan Coc of 45 and one of 19 are father and son;
// a Maria Pop of 8 and one of 60 are two people.
func AgesApart(a, b int) bool {
	x, y := max(a, b), min(a, b)
	return x-y > 10 || y < 13 && x-y > 5
}

func compareAge(a, b *features, reasons *[]Reason) float64 {
	if !a.ageKnown || !b.ageKnown {
		say(reasons, "age-missing")
		return 0
	}
	x, y := a.age, b.age
	if x < y {
		x, y = y, x
	}
	d := x - y
	l := age10
	switch {
	case d == 0:
		l = ageExact
	case AgesApart(x, y):
		l = ageFar
	case d == 1:
		l = age1
	case d == 2:
		l = age2
	case d <= 5:
		l = age5
	}
	if reasons != nil {
		switch l {
		case ageExact:
			say(reasons, "age-same", strconv.Itoa(x))
		case ageFar:
			say(reasons, "age-far", strconv.Itoa(x), strconv.Itoa(y))
		default:
			say(reasons, "age-close", strconv.Itoa(x), strconv.Itoa(y))
		}
	}
	return ageWeights[l]
}

func compareSex(a, b *features, reasons *[]Reason) float64 {
	if a.sex == "" || b.sex == "" {
		return 0
	}
	if a.sex == b.sex {
		say(reasons, "sex-same", a.sex)
		return sexWeights[sexSame]
	}
	say(reasons, "sex-differ")
	return sexWeights[sexDiffer]
}

func comparePlace(a, b *features, kind Kind, reasons *[]Reason) float64 {
	levels := dupPlaceW
	if kind == Found {
		levels = foundPlaceW
	}
	va, vb, da, db := a.village, b.village, a.district, b.district
	l := -1
	sameDistrict := da == db || da == "" || db == ""
	// part is the place two villages, one written in parts, both name.
	var part string
	if va != vb && (a.villageParts != nil || b.villageParts != nil) {
		part = samePart(a, b)
	}
	switch {
	case va != "" && vb != "" && (va == vb || part != ""):
		l = placeOtherDistrict
		if sameDistrict {
			l = placeSame
		}
	case va != "" && vb != "":
		switch {
		case !sameDistrict:
			l = placeDistrictDiff
		case len(va) >= 4 && len(vb) >= 4 && jaroWinklerAbove(va, vb, 0.9) >= 0.9:
			l = placeAlike
		default:
			l = placeOtherVillage
		}
	case da != "" && db != "":
		l = placeDistrictDiff
		if da == db {
			l = placeDistrictOnly
		}
	}
	if reasons != nil {
		sa, sb := a, b
		if sa.shown.village+sa.shown.district > sb.shown.village+sb.shown.district {
			sa, sb = sb, sa
		}
		district := sa.shown.district
		if district == "" {
			district = sb.shown.district
		}
		// The village as one of them writes it alone.
		village := sa.shown.village
		switch {
		case part == "" && sa.villageNames && !sb.villageNames:
			village = sb.shown.village
		case part != "" && a.villageParts == nil:
			village = a.shown.village
		case part != "" && b.villageParts == nil:
			village = b.shown.village
		case part != "":
			village = titles(strings.Fields(part))
		}
		switch l {
		case placeSame:
			say(reasons, "place-same", village, district)
		case placeOtherDistrict:
			say(reasons, "place-other-district", village, sa.shown.district, sb.shown.district)
		case placeAlike:
			say(reasons, "place-alike", sa.shown.village, sb.shown.village, district)
		case placeOtherVillage:
			say(reasons, "place-other-village", sa.shown.village, sb.shown.village, district)
		case placeDistrictOnly:
			say(reasons, "place-district", district)
		case placeDistrictDiff:
			say(reasons, "district-differ", sa.shown.district, sb.shown.district)
		default:
			say(reasons, "place-missing")
		}
	}
	switch {
	case l < 0:
		return 0
	case l == placeSame && part != "":
		return tfWeight(placeLevels[kind][placeSame].m, villageU(part))
	case l == placeSame && kind == Found:
		return a.sameVillageW[1]
	case l == placeSame:
		return a.sameVillageW[0]
	}
	return levels[l]
}

// mk makes a reason only when it is wanted.
func mk(want bool, f func() Reason) Reason {
	if !want {
		return Reason{}
	}
	return f()
}

// maxW is the most this reading can weigh against any other: its first
// name and all its surnames agreeing exactly (or the first name as a
// nickname, if that weighs more).
func (n *parsedName) maxW() float64 {
	if n.first == "" {
		return 0
	}
	w := math.Max(n.firstExactW-math.Log2(minFactor[n.firstGroup]), math.Max(firstWeights[firstNickname], firstAlikeLongW))
	u := 1.0
	for i, f := range n.surnameF {
		u *= f * minFactor[n.surnameG[i]]
	}
	sw := 0.0
	if len(n.surnameF) > 0 {
		sw = tfWeight(surnameLevels[surnameExact].m, u)
		sw = math.Max(sw, tfWeight(surnameLevels[surnameOne].m, u))
	}
	for _, l := range []int{surnameOneOther, surnameSpelling, surnameAlike, surnameSomewhat} {
		sw = math.Max(sw, surnameWeights[l])
	}
	sw = math.Max(sw, surnameAlikeLongW)
	return w + sw
}

// innerPenalty is what a reading with the first name after one or two
// surnames weighs less than the same agreement read as written: such a
// reading goes against the order of the words, and a middle word taken for
// the first name must not weigh as much as the first word agreeing. Four
// bits (1 in 16) kept its gain in recall and lost none of the precision
// that no penalty lost (docs/matching.md).
const innerPenalty = 4
