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
	"xo": "sho", "shoo": "sho", "xoo": "sho", "shol": "sho",
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
