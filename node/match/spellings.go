package match

import "strings"

// surnameSpellings maps a spelling of a surname, folded, to the one the
// model takes for the name. Q'eqchi' and Mopan surnames are written by ear
// (the same family is Caal in one register and Cal in the next), and
// Mennonite Low German names the same way through English and Spanish
// clerks.
var surnameSpellings = map[string]string{
	// Q'eqchi' and Mopan
	"cal": "caal", "kaal": "caal", "kal": "caal",
	"xo": "sho", "shoo": "sho", "xoo": "sho",
	"chok": "choc", "chocc": "choc",
	"cocj": "coc", "cok": "coc", "kok": "coc", "koc": "coc",
	"tsib": "tzib", "tzub": "tzib",
	"tewl": "teul", "teull": "teul",
	"ac": "ack", "ak": "ack", "akk": "ack",
	"chiak": "chiac", "chiacc": "chiac",
	"icaal": "ical", "ikal": "ical",
	"cucul": "cucul", "kukul": "cucul", "cuculj": "cucul",
	"tush": "tush", "tux": "tush",
	"xi": "shi", "shih": "shi",
	"bo": "bol", "boll": "bol",
	"mes": "mes", "mess": "mes",
	"makin": "makin", "maquin": "makin",
	"sampti": "sampti", "samptt": "sampti",
	"paau": "pau", "pauu": "pau",
	"chun": "chun", "chuun": "chun",
	"choco": "choc",
	"sacul": "sacul", "sakul": "sacul",
	"coy": "coy", "koy": "coy",
	"cac": "caac", "kaak": "caac",
	"cho": "cho", "choo": "cho",
	"chen": "chen", "chenn": "chen",
	// Mennonite
	"dueck": "dyck", "dick": "dyck", "dyk": "dyck", "dueckk": "dyck", "dik": "dyck", "duek": "dyck",
	"classen": "klassen", "clasen": "klassen", "klasen": "klassen", "claassen": "klassen",
	"friessen": "friesen", "fresen": "friesen", "friesenn": "friesen", "friessn": "friesen",
	"pener": "penner", "pennar": "penner",
	"wieb": "wiebe", "wiebee": "wiebe", "wiby": "wiebe",
	"tiessen": "thiessen", "thissen": "thiessen", "tiesen": "thiessen", "thiesen": "thiessen",
	"reimar": "reimer", "riemer": "reimer", "raimer": "reimer",
	"giesbrect": "giesbrecht", "giesbreht": "giesbrecht", "gisbrecht": "giesbrecht", "giesbreckt": "giesbrecht",
	"loewen": "loewen", "lowen": "loewen", "leuwen": "loewen",
	"fehr": "fehr", "fer": "fehr", "feher": "fehr",
	"wall": "wall", "wal": "wall",
	"peters": "peters", "petters": "peters",
	"harder": "harder", "hardr": "harder",
	"knelsen": "knelsen", "kneelsen": "knelsen", "nelsen": "knelsen",
	"enns": "enns", "ens": "enns",
	"rempel": "rempel", "rempl": "rempel",
	"unger": "unger", "ungar": "unger",
	"bergen": "bergen", "bergin": "bergen",
	"banman": "bannman", "bannman": "bannman",
	// Spanish, as a clerk hears it
	"gonsalez": "gonzalez", "gonzales": "gonzalez", "gonsales": "gonzalez",
	"martines": "martinez", "rodriguez": "rodriguez", "rodrigues": "rodriguez",
	"hernandes": "hernandez", "fernandes": "fernandez", "lopes": "lopez", "peres": "perez",
	"sanches": "sanchez", "ramires": "ramirez", "gomes": "gomez", "dias": "diaz",
	"vasquez": "vasquez", "vazquez": "vasquez", "velasques": "velasquez", "velazquez": "velasquez",
	"cuellar": "cuellar", "cueyar": "cuellar", "zuniga": "zuniga", "suniga": "zuniga",
	"arzu": "arzu", "arsu": "arzu",
}

func surnameCanon(s string) string {
	if c, ok := surnameSpellings[s]; ok {
		return c
	}
	return s
}

// spellKey is how a folded surname is spelled once the choices a clerk
// makes between spellings of one sound are taken away, so that spellings
// no list holds still compare as one name spelled two ways: Q'eqchi' and
// Mopan names in the alphabet of 1980s registers and in today's (Shol
// and Xol, Coc and K'ok, Caal and Cal, Ical and Ik'al, Tewl and Teul,
// Maquin and Makin), Spanish names as they are heard (González and
// Gonzales, Vásquez and Vazquez, Zúñiga and Suniga) and Low German names
// through English (Klassen and Classen, Thiessen and Tiessen, Loewen and
// Lowen, Friesen and Friessen). Unlike soundKey it keeps every vowel and
// consonant that tells one name from another (Chan and Chen, Sho and
// Cho, Pop and Bol stay apart).
//
// The rules, in order: th is t and ph is f; qu before e or i, ck, and a c
// that is not ch or before e or i, are k, and a c before e or i is s; x is
// sh (as in the Maya alphabets) and z is s; v is b; y is i; oe is o; w
// before a consonant or at the end is u; an h after a vowel is dropped;
// then a letter doubled is one. Mac at the start is Mc (MacKenzie and
// McKenzie).
func spellKey(w string) string {
	if rest, ok := strings.CutPrefix(w, "mac"); ok && len(rest) > 1 {
		w = "mc" + rest
	}
	var b []byte
	vowel := func(c byte) bool { return strings.IndexByte("aeiouy", c) >= 0 }
	for i := 0; i < len(w); i++ {
		c := w[i]
		next := byte(0)
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch {
		case c == 't' && next == 'h':
			b = append(b, 't')
			i++
		case c == 'p' && next == 'h':
			b = append(b, 'f')
			i++
		case c == 'q' && next == 'u' && i+2 < len(w) && (w[i+2] == 'e' || w[i+2] == 'i'):
			b = append(b, 'k')
			i++
		case c == 'c' && next == 'h':
			b = append(b, 'c', 'h')
			i++
		case c == 'c' && next == 'k':
			b = append(b, 'k')
			i++
		case c == 'c' && (next == 'e' || next == 'i'):
			b = append(b, 's')
		case c == 'c' || c == 'q':
			b = append(b, 'k')
		case c == 'x':
			b = append(b, 's', 'h')
		case c == 'z':
			b = append(b, 's')
		case c == 'v':
			b = append(b, 'b')
		case c == 'y':
			b = append(b, 'i')
		case c == 'o' && next == 'e':
			b = append(b, 'o')
			i++
		case c == 'w' && (next == 0 || !vowel(next)):
			b = append(b, 'u')
		case c == 'h' && i > 0 && vowel(w[i-1]):
			// Shih and Shi, Cahal and Caal
		default:
			b = append(b, c)
		}
	}
	out := b[:0]
	for i, c := range b {
		if i == 0 || c != b[i-1] {
			out = append(out, c)
		}
	}
	return string(out)
}

// soundKey is a short key of how a word sounds, for blocking only: two
// spellings a clerk might write for one name (Caal and Kal, Tzib and Tsib,
// Dyck and Dueck, Garcia and Garsia) get one key. Vowels after the first
// letter, h and doubled letters are dropped; c, k, q sound alike, so do
// s, z, x, sh, tz and ts; then four letters are kept.
func soundKey(w string) string {
	w = surnameCanon(w)
	var b [8]byte
	n := 0
	var last byte
	emit := func(c byte) {
		if c == last || n == len(b) {
			last = c
			return
		}
		b[n] = c
		n++
		last = c
	}
	for i := 0; i < len(w) && n < 4; i++ {
		c := w[i]
		next := byte(0)
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch {
		case c == 's' && next == 'h', c == 't' && (next == 'z' || next == 's'):
			emit('s')
			i++
		case c == 'c' && next == 'h':
			emit('C')
			i++
		case c == 'p' && next == 'h':
			emit('f')
			i++
		case c == 't' && next == 'h':
			emit('t')
			i++
		case c == 'c' && (next == 'e' || next == 'i'):
			emit('s')
		case c == 'c', c == 'k', c == 'q':
			emit('k')
		case c == 'z', c == 'x', c == 's':
			emit('s')
		case c == 'v':
			emit('b')
		case c == 'j' || c == 'h':
			if i == 0 {
				emit('h')
			}
		case strings.IndexByte("aeiouyw", c) >= 0:
			if i == 0 {
				emit('a')
			} else {
				last = 0 // a vowel between two like letters keeps both
			}
		default:
			emit(c)
		}
	}
	return string(b[:n])
}
