package match

import "math"

// How common a name is, as a share of Belize's people: the u probability of
// an exact agreement on that name (Splink's term-frequency adjustment).
// Two records agreeing on "Maria Pop" say much less than two agreeing on
// "Valeria Vanegas". The figures are rounded estimates from the commonness
// of names in Belize's registers and telephone lists, per person (not per
// sex), spellings of one name counted together; a name not listed is taken
// as uncommon (rareFirst, rareSurname). They need not be exact: an error of
// half or double moves a weight by one bit.
var (
	firstFrequency = map[string]float64{
		"maria": 0.040, "jose": 0.025, "juan": 0.020, "rosa": 0.008, "ana": 0.008, "juana": 0.006,
		"elizabeth": 0.006, "isabel": 0.003, "guillermo": 0.006, "francisco": 0.006, "pedro": 0.006, "manuel": 0.006,
		"carlos": 0.006, "luis": 0.006, "miguel": 0.005, "antonio": 0.005, "guadalupe": 0.004,
		"margarita": 0.003, "robert": 0.004, "david": 0.004, "santiago": 0.003,
		"catarina": 0.003, "carmen": 0.004, "patricia": 0.003, "sandra": 0.003, "jennifer": 0.003,
		"jesus": 0.003, "alberto": 0.003, "roberto": 0.003, "ricardo": 0.003, "eduardo": 0.003,
		"marcos": 0.003, "domingo": 0.002, "santos": 0.002, "magdalena": 0.002, "josefa": 0.002, "dolores": 0.002,
		"enrique": 0.003, "thomas": 0.002, "tomas": 0.002, "charles": 0.002, "daniel": 0.003,
		"kenneth": 0.002, "mary": 0.003, "catherine": 0.002, "susan": 0.002, "deborah": 0.002,
		"peter": 0.002, "johan": 0.002, "abraham": 0.002, "jacob": 0.002, "anna": 0.003, "helena": 0.002,
	}
	surnameFrequency = map[string]float64{
		"pop": 0.025, "coc": 0.012, "caal": 0.012, "choc": 0.010, "bol": 0.006, "sho": 0.006,
		"garcia": 0.012, "martinez": 0.012, "castillo": 0.010, "reyes": 0.008, "gonzalez": 0.008,
		"hernandez": 0.007, "lopez": 0.007, "perez": 0.006, "sanchez": 0.005, "ramirez": 0.004,
		"gomez": 0.004, "cruz": 0.005, "chan": 0.006, "flowers": 0.004, "young": 0.004,
		"williams": 0.005, "smith": 0.004, "tzib": 0.003, "chiac": 0.003, "teul": 0.003, "ack": 0.003,
		"ical": 0.003, "cucul": 0.003, "dyck": 0.003, "klassen": 0.003, "friesen": 0.003,
		"reimer": 0.003, "penner": 0.002, "wiebe": 0.002, "thiessen": 0.002, "nunez": 0.003,
		"palacio": 0.003, "ramos": 0.003, "vasquez": 0.004, "mendez": 0.004, "torres": 0.003,
		"guerrero": 0.003, "diaz": 0.003, "novelo": 0.002, "cano": 0.002, "tush": 0.002,
		"makin": 0.002, "shi": 0.002, "sam": 0.002, "robinson": 0.002, "gentle": 0.002, "usher": 0.002,
		"arnold": 0.002, "gillett": 0.002, "tillett": 0.002, "bennett": 0.002, "lewis": 0.002,
		"zuniga": 0.002, "arzu": 0.002, "cayetano": 0.002, "avila": 0.002, "lambey": 0.001,
	}
)

const (
	rareFirst   = 0.0015
	rareSurname = 0.0012
	// minU keeps an exact agreement on several rare names from weighing
	// more than the data can say: 1 in 10,000.
	minU = 1e-4
)

func firstU(canon string) float64 {
	if f, ok := firstFrequency[canon]; ok {
		return f
	}
	return rareFirst
}

func surnameU(canon string) float64 {
	if f, ok := surnameFrequency[canon]; ok {
		return f
	}
	return rareSurname
}

// tfWeight is log2(m/u) with u no less than minU.
func tfWeight(m, u float64) float64 { return math.Log2(m / math.Max(u, minU)) }

// villageFrequency is the share of Belize's people living in each of its
// towns, folded as foldPlace folds them (Census 2022, rounded). Two records
// from one small village say more than two from Belize City; a village not
// listed is taken as small (rareVillage).
var villageFrequency = map[string]float64{
	"belize": 0.14, "belize city": 0.14, "san ignacio": 0.05, "santa elena": 0.03, "belmopan": 0.045,
	"orange walk": 0.035, "orange walk town": 0.035, "corozal": 0.03, "corozal town": 0.03,
	"dangriga": 0.025, "san pedro": 0.04, "ladyville": 0.04, "benque viejo": 0.02,
	"punta gorda": 0.015, "independence": 0.01, "hattieville": 0.008, "sandhill": 0.006,
	"burrell boom": 0.007, "spanish lookout": 0.008, "caye caulker": 0.006, "placencia": 0.004,
	"hopkins": 0.005, "roaring creek": 0.004, "august pine ridge": 0.008, "trial farm": 0.006,
	"san jose": 0.008, "san antonio": 0.007, "sarteneja": 0.006,
}

const rareVillage = 0.003

func villageU(folded string) float64 {
	if f, ok := villageFrequency[folded]; ok {
		return f
	}
	return rareVillage
}

// Belize's names are not spread evenly over its districts: Pop and Coc are
// Q'eqchi' and Mopan names, most of them in Toledo; Núñez and Arzú
// Garifuna, most in Stann Creek; Dyck and Friesen Mennonite, in Cayo and
// Orange Walk; Flowers and Gentle Creole, in Belize District. Two records
// of Toledo agreeing on Pop say less than the national commonness of Pop
// would have it, and two of Corozal more. A name of one people has its
// commonness in a district scaled by that people's share of the district
// over its share of the country (Census 2010, rounded); a name shared by
// several peoples (Maria, Martínez, Castillo) and a district not known
// keep the national figure.
const (
	groupNone = iota
	groupMaya
	groupCreole
	groupGarifuna
	groupMennonite
	groups
)

// nameGroup is the people a listed name, folded and in its canonical
// spelling, belongs to.
var nameGroup = map[string]uint8{}

func init() {
	for g, names := range map[uint8][]string{
		groupMaya: {"pop", "coc", "caal", "choc", "bol", "sho", "tzib", "chiac", "teul", "ack", "ical", "cucul", "tush", "makin",
			"shi", "sam", "chun", "mes", "sacul", "coy", "ash", "canti", "rash", "pau", "salam", "chub", "cho", "tut", "bah", "shol", "assi", "cus",
			// the saints' names Q'eqchi' and Mopan families give, rare
			// elsewhere in Belize
			"catarina", "magdalena", "sebastiana", "candelaria", "petrona", "micaela", "dominga", "manuela",
			"sebastian", "cristobal", "valentin", "mariano", "domingo", "santos"},
		groupCreole: {"flowers", "young", "williams", "smith", "robinson", "gentle", "usher", "arnold", "gillett", "tillett", "bennett",
			"lewis", "myvett", "staine", "gabourel", "swasey", "jeffries", "tillet",
			// given names Creole families give, rare among Belize's
			// other peoples
			"dwight", "lloyd", "wilbert", "lennox", "delroy", "elroy", "hilbert", "selwyn", "neville", "errol",
			"hyacinth", "merlene", "shanice", "latoya", "keisha"},
		groupGarifuna: {"nunez", "zuniga", "arzu", "lambey", "palacio", "cayetano", "sabal", "benguche", "norales", "noralez"},
		groupMennonite: {"dyck", "klassen", "friesen", "reimer", "penner", "wiebe", "thiessen", "giesbrecht", "loewen", "fehr",
			"knelsen", "enns", "rempel", "unger", "bergen", "bannman", "neufeld", "harder",
			"johan", "abraham", "jacob", "heinrich", "cornelius", "isaak", "gerhard", "margaretha", "katharina", "aganetha", "helena",
			"franz", "bernhard", "wilhelm", "klaas", "dietrich", "susanna", "agatha", "elisabeth", "frieda", "anganetha"},
	} {
		for _, n := range names {
			nameGroup[n] = g
		}
	}
}

// districtIndex numbers the districts, folded; -1 is not known (or not a
// district).
func districtIndex(folded string) int8 {
	switch folded {
	case "belize":
		return 0
	case "cayo":
		return 1
	case "orange walk":
		return 2
	case "corozal":
		return 3
	case "stann creek":
		return 4
	case "toledo":
		return 5
	}
	return -1
}

// groupShare is each people's share of each district's people, and
// nationalShare of the country's (Census 2010, rounded).
var (
	groupShare = [6][groups]float64{
		//        maya   creole garifuna mennonite
		0: {0, 0.03, 0.55, 0.04, 0.005}, // Belize
		1: {0, 0.09, 0.14, 0.02, 0.08},  // Cayo
		2: {0, 0.05, 0.05, 0.005, 0.11}, // Orange Walk
		3: {0, 0.07, 0.06, 0.01, 0.03},  // Corozal
		4: {0, 0.19, 0.15, 0.30, 0.005}, // Stann Creek
		5: {0, 0.62, 0.05, 0.06, 0.005}, // Toledo
	}
	nationalShare = [groups]float64{0, 0.113, 0.259, 0.061, 0.036}
)

// districtFactor is how much more common than nationally a name of group
// g is among people of district d; minFactor is the least it is anywhere.
var districtFactor, minFactor = func() (f [6][groups]float64, least [groups]float64) {
	for g := range groups {
		least[g] = 1
		for d := range 6 {
			f[d][g] = 1
			if g != groupNone {
				f[d][g] = groupShare[d][g] / nationalShare[g]
			}
			least[g] = math.Min(least[g], f[d][g])
		}
	}
	return f, least
}()

// localFactor scales the commonness of a name of group g for a pair of
// records of districts da and db: the geometric mean of the two districts'
// factors, a district not known counting as the country.
func localFactor(g uint8, da, db int8) float64 {
	if g == groupNone {
		return 1
	}
	fa, fb := 1.0, 1.0
	if da >= 0 {
		fa = districtFactor[da][g]
	}
	if db >= 0 {
		fb = districtFactor[db][g]
	}
	if fa == fb {
		return fa
	}
	return math.Sqrt(fa * fb)
}

// listedSurname says whether canon is a surname whose commonness is
// stated.
func listedSurname(canon string) bool {
	_, ok := surnameFrequency[canon]
	return ok
}
