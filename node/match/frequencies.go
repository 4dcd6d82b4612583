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
