package match

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxTokens bounds the words read of a name, so that a pathological name
// costs no more to compare than a long real one ("María de los Ángeles
// Pop Coc de Choc" has eight).
const maxTokens = 10

// fold lowers s, removes its accents (ñ becomes n), apostrophes (Q'eqchi'
// becomes qeqchi) and turns every other non-letter into a space, so that
// the spellings that differ only by how they were typed compare equal.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // no leading space
	for _, r := range norm.NFD.String(s) {
		switch {
		case r < 0x80 && 'a' <= r && r <= 'z':
			b.WriteRune(r)
			space = false
			continue
		case r < 0x80 && 'A' <= r && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
			space = false
			continue
		case unicode.Is(unicode.Mn, r):
			continue // an accent, split off its letter by NFD
		case r == '\'' || r == '’' || r == 'ʼ' || r == '‘' || r == '`' || r == '´' || r == 'ʻ':
			continue // Q'eqchi', O'Brien
		}
		if sub, ok := letterFolds[r]; ok {
			b.WriteString(sub)
			space = false
			continue
		}
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToLower(r))
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// letterFolds are the letters NFD does not split into a base and an accent.
var letterFolds = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l",
	'đ': "d", 'Đ': "d", 'œ': "oe", 'Œ': "oe", 'ı': "i", 'þ': "th",
}

// particles are words of a name that say nothing about the person: the
// particles of Spanish surnames, generations, and titles.
var particles = map[string]bool{
	"de": true, "del": true, "la": true, "las": true, "los": true, "y": true, "dela": true, "delos": true, "delas": true,
	"jr": true, "sr": true, "ii": true, "iii": true, "mr": true, "mrs": true,
	"miss": true, "ms": true, "dr": true, "sra": true, "srta": true, "don": true, "dona": true,
	"iv": true,
	// Titles a person is addressed by in Belize: Sister Maria, Rev.
	// Young, Teacher Pop, Hna. Coc.
	"rev": true, "revd": true, "pastor": true, "fr": true, "sister": true, "hna": true, "hermana": true,
	"hno": true, "hermano": true, "teacher": true, "nurse": true,
	// A widow's name (María Pop vda. de Coc), and a report of a
	// household under its head's name (Juan Pop and family, Juan Pop y
	// familia): words of no person's name.
	"vda": true, "viuda": true, "and": true, "family": true, "familia": true,
}

// placeholders are what a clerk writes for a name not known: an injured
// person brought in who cannot say it, a newborn not yet named ("Baby
// Pop"). A name with one of these words, or that is one of the phrases,
// is not known: it weighs nothing and puts its record in no block, so
// that two records of "Unknown" are not two of one name.
var (
	placeholderWords = map[string]bool{
		"unknown": true, "unk": true, "unidentified": true, "unnamed": true, "noname": true, "anonymous": true,
		"desconocido": true, "desconocida": true, "anonimo": true, "anonima": true,
		"baby": true, "babygirl": true, "babyboy": true, "bebe": true, "infant": true, "newborn": true,
	}
	placeholderNames = map[string]bool{
		"n a": true, "na": true, "none": true, "no name": true, "not known": true, "nn": true, "n n": true,
		"sin nombre": true, "no se sabe": true, "no sabe": true, "x": true, "xx": true, "xxx": true, "null": true, "nil": true,
		"ninguno": true, "ninguna": true, "no tiene": true, "no aplica": true, "not applicable": true,
	}
)

// placeholder says whether a name of these words, folded, is not known.
func placeholder(all []string) bool {
	for _, w := range all {
		if placeholderWords[w] {
			return true
		}
	}
	return placeholderNames[strings.Join(all, " ")]
}

// generations are the words that tell a father from his son of one name.
// Junior is not one of them: in Belize it is as often what a man is
// called as what he is.
var generations = map[string]int8{"sr": 1, "jr": 2, "ii": 2, "iii": 3, "iv": 4}

// generationOf is the generation a name says (Juan Coc Jr. is 2, his
// father Juan Coc Sr. 1), or 0.
func generationOf(raw string) int8 {
	words := strings.Fields(fold(raw))
	for i, w := range words {
		if i == 0 && w == "sr" && len(words) > 1 {
			continue // Sr. Juan Coc: señor, Mr.
		}
		if g := generations[w]; g != 0 {
			return g
		}
	}
	return 0
}

// parsedName is a name as the model compares it.
type parsedName struct {
	first      string   // the first given name, folded
	firstCanon []string // what the first name may stand for (nicknames)
	surnames   []string // the other words, folded: surnames, and middle names
	canon      []string // each surname's spelling canon (Cal stands for Caal)
	spell      []string // each surname's spellKey (Xol and Shol are shol)
	sorted     string   // every word, sorted and joined: equal for the same name in any order
	// firstIsSurname says the first name is a listed surname and no
	// given name (surnameOnly): a reading that puts it first is not
	// tried ("Marvin García" is not García with a surname Marvin).
	firstIsSurname bool
	// married says the last surname followed a lone de: a wife's
	// husband's name (María Pop de Coc), by which she is as often known
	// as by her own.
	married bool
	// firstExactW is the weight of an exact agreement on this first name,
	// after its commonness; surnameF is each surname's commonness.
	firstExactW float64
	surnameF    []float64
	// firstGroup and surnameG are the people (groupMaya...) each name
	// belongs to, whose commonness varies by district.
	firstGroup uint8
	surnameG   []uint8
}

// aliasQuotes are the marks a name is called by is written between:
// Guillermo "Memo" Pop, Lennox (Dread) Flowers.
var aliasQuotes = map[rune]rune{'"': '"', '“': '”', '«': '»', '(': ')', '[': ']'}

// maxAliases bounds the words read as what a person is called.
const maxAliases = 2

// aliasMarker is what is written before what a person is called: Maria
// Pop aka Chila, Juan Coc alias Chino, conocida como Lupe.
var aliasMarker = regexp.MustCompile(`(?i)(?:^|[\s,;])(?:a\.?k\.?a\.?|alias|also known as|known as|conocid[oa] como)(?:\s|$)`)

// splitAliases takes out of raw the words written between quotes or
// brackets, or after aka or alias: what the person is called, not their
// name.
func splitAliases(raw string) (rest string, aliases []string) {
	add := func(s string) {
		for _, w := range words(s) {
			if len(aliases) < maxAliases && len(w) > 1 {
				aliases = append(aliases, w)
			}
		}
	}
	if m := aliasMarker.FindStringIndex(raw); m != nil {
		add(raw[m[1]:])
		raw = raw[:m[0]]
	}
	var b strings.Builder
	for len(raw) > 0 {
		open := strings.IndexFunc(raw, func(r rune) bool { _, ok := aliasQuotes[r]; return ok })
		if open < 0 {
			b.WriteString(raw)
			break
		}
		r, size := utf8.DecodeRuneInString(raw[open:])
		end := strings.IndexRune(raw[open+size:], aliasQuotes[r])
		if end < 0 { // unclosed: a stray mark
			b.WriteString(raw)
			break
		}
		b.WriteString(raw[:open])
		b.WriteByte(' ')
		add(raw[open+size : open+size+end])
		raw = raw[open+size+end+utf8.RuneLen(aliasQuotes[r]):]
	}
	return b.String(), aliases
}

// parseName reads a full name. "Surname Surname, First Middle" is read in
// that order; otherwise the first word is the first name. alt is the
// reading with the last word as the first name ("POP COC MARIA", as
// upper-case lists are written), for a name of two words or more without
// a comma. free is every word of a name written without a comma, in
// order, any of which may be its first name ("Guerrero Pérez Abel
// Wilfredo"); nil for a name with a comma, which says which words are the
// given names. aliases are what the person is called (Memo, of Guillermo
// "Memo" Pop), which each reading takes as what its first name stands for
// too, and called one more the record gives apart (AlsoKnownAs).
func parseName(raw string, called ...string) (main parsedName, alt *parsedName, free, aliases []string) {
	raw, aliases = splitAliases(raw)
	aliases = append(aliases, called...)
	var given, family []string
	comma := strings.IndexByte(raw, ',')
	if comma >= 0 {
		family = words(raw[:comma])
		given = words(raw[comma+1:])
		if len(given) == 0 { // "Pop Coc," or ", Maria"
			given, family = family, nil
		}
	} else {
		given = words(raw)
	}
	var all []string
	if comma >= 0 && len(given) > 0 {
		all = append(append(all, given...), family...)
	} else {
		all = given
	}
	if len(all) == 0 || placeholder(all) {
		return parsedName{}, nil, nil, nil
	}
	main = makeName(all[0], all[1:], all, aliases)
	if comma >= 0 && len(family) > 0 {
		main.married = marriedForm(raw[:comma], 2)
	} else {
		main.married = marriedForm(raw, 3)
	}
	if comma < 0 && len(all) >= 2 {
		last := len(all) - 1
		a := makeName(all[last], all[:last], all, aliases)
		alt = &a
		free = all
	}
	return main, alt, free, aliases
}

// readingAt is the reading of a name of words all with its i-th word as
// the first name, and aliases what the person is called.
func readingAt(all []string, i int, aliases []string) parsedName {
	rest := make([]string, 0, len(all)-1)
	rest = append(append(rest, all[:i]...), all[i+1:]...)
	return makeName(all[i], rest, all, aliases)
}

func makeName(first string, rest, all, aliases []string) parsedName {
	n := parsedName{first: first, firstCanon: firstNameCanon(first), firstIsSurname: surnameOnly(first)}
	for _, a := range aliases {
		for _, c := range firstNameCanon(a) {
			if !slices.Contains(n.firstCanon, c) {
				n.firstCanon = append(n.firstCanon, c)
			}
		}
	}
	cf := canonGiven(first)
	n.firstExactW = tfWeight(firstLevels[firstExact].m, firstU(cf))
	n.firstGroup = nameGroup[cf]
	for _, w := range rest {
		if len(w) < 2 {
			continue // an initial says too little of a surname
		}
		n.surnames = append(n.surnames, w)
		c := surnameCanon(w)
		n.canon = append(n.canon, c)
		n.spell = append(n.spell, spellKey(w))
		n.surnameF = append(n.surnameF, surnameU(c))
		n.surnameG = append(n.surnameG, nameGroup[c])
	}
	s := append([]string(nil), all...)
	sort.Strings(s)
	n.sorted = strings.Join(s, " ")
	return n
}

// marriedForm says whether the last of at least least words of raw follows
// a lone de, as a wife's husband's name does (María Pop de Coc, Pop de Coc,
// María), and not de la or de los, which are a surname's own (de la Cruz).
func marriedForm(raw string, least int) bool {
	f := strings.Fields(fold(raw))
	n := len(f)
	return n >= least && f[n-2] == "de" && !particles[f[n-1]]
}

// particleNames are the words a Spanish surname has after de, del, de la
// or de los, which some write as one word with it: Delacruz, Deleon.
var particleNames = map[string]bool{
	"cruz": true, "rosa": true, "paz": true, "leon": true, "cid": true, "valle": true, "vega": true,
	"torre": true, "fuente": true, "garza": true, "santos": true, "reyes": true, "rio": true, "rios": true,
	"luz": true, "hoya": true, "riva": true, "mora": true, "rosario": true, "angeles": true,
}

// joinedParticle is w without a particle written as one word with it
// (Delacruz is de la Cruz, whose particles are dropped), or w.
func joinedParticle(w string) string {
	for _, p := range []string{"delos", "delas", "dela", "del", "de"} {
		if rest, ok := strings.CutPrefix(w, p); ok && particleNames[rest] {
			return rest
		}
	}
	return w
}

// words folds raw and splits it into words, without particles, at most
// maxTokens of them.
func words(raw string) []string {
	var out []string
	for _, w := range strings.Fields(fold(raw)) {
		if particles[w] {
			continue
		}
		if len(out) == maxTokens {
			break
		}
		if n := len(out); n > 0 && (out[n-1] == "mc" || out[n-1] == "mac") {
			out[n-1] += w // Mac Kenzie is MacKenzie
			continue
		}
		out = append(out, joinedParticle(w))
	}
	return out
}
