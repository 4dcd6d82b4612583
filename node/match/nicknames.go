package match

import (
	"slices"
	"sort"
)

// nicknames maps a nickname or short form, folded, to the given names it
// stands for. A name with several (Beto: Alberto, Roberto, Humberto) is
// equivalent to each. Spanish and English, as Belizeans are called at home
// and written down by a neighbour; only first names are looked up here (Dick
// is also a Mennonite surname).
var nicknames = withAbbreviations(map[string][]string{
	// Spanish
	"memo": {"guillermo"}, "guille": {"guillermo"}, "guillo": {"guillermo"},
	"pancho": {"francisco"}, "paco": {"francisco"}, "curro": {"francisco"}, "kiko": {"francisco", "enrique"},
	"lupe": {"guadalupe"}, "lupita": {"guadalupe"},
	"chepe": {"jose"}, "pepe": {"jose"}, "chema": {"jose"},
	"chepa": {"josefa"}, "pepa": {"josefa"}, "pepita": {"josefa"},
	"chucho": {"jesus"}, "chuy": {"jesus"}, "chus": {"jesus"},
	"lencho": {"lorenzo"},
	"beto":   {"alberto", "roberto", "humberto"}, "tito": {"alberto", "roberto"},
	"nacho":  {"ignacio"},
	"quique": {"enrique"}, "kike": {"enrique"},
	"tono": {"antonio"}, "toni": {"antonio", "anthony"}, "tony": {"antonio", "anthony"},
	"rafa": {"rafael"}, "lalo": {"eduardo"}, "chente": {"vicente"},
	"chayo": {"rosario"}, "chalo": {"gonzalo", "rosalio"}, "chava": {"salvador"}, "chavo": {"salvador"},
	"goyo": {"gregorio"}, "lucho": {"luis"}, "nando": {"fernando"}, "fer": {"fernando"},
	"poncho": {"alfonso"}, "moncho": {"ramon"}, "mundo": {"raymundo", "edmundo"},
	"licha": {"alicia"}, "chela": {"graciela"}, "chelo": {"consuelo"},
	"lola": {"dolores"}, "loli": {"dolores"}, "conchita": {"concepcion"}, "concha": {"concepcion"},
	"maru": {"maria"}, "mari": {"maria"}, "pili": {"pilar"}, "paty": {"patricia"}, "pati": {"patricia"},
	"gaby": {"gabriela"}, "gabi": {"gabriela"}, "cuca": {"refugio"}, "cuco": {"refugio"},
	"nico": {"nicolas"}, "santi": {"santiago"}, "juanito": {"juan"}, "manolo": {"manuel"}, "manu": {"manuel"},
	"meme": {"manuel", "guillermo"}, "tere": {"teresa"}, "chencha": {"crescencia"}, "yoli": {"yolanda"},
	"alex": {"alejandro", "alexander", "alejandra"}, "ale": {"alejandro", "alejandra"},
	"andy": {"andres", "andrew"}, "ricky": {"ricardo", "richard"}, "richi": {"ricardo"},
	// English
	"bill": {"william"}, "billy": {"william"}, "will": {"william"}, "willy": {"william", "wilhelm"}, "willie": {"william", "wilhelm"}, "liam": {"william"},
	"bob": {"robert"}, "bobby": {"robert"}, "rob": {"robert"}, "robbie": {"robert"}, "bert": {"robert", "albert", "herbert"},
	"peggy": {"margaret"}, "maggie": {"margaret"}, "meg": {"margaret"}, "madge": {"margaret"}, "marge": {"margaret"},
	"betty": {"elizabeth"}, "beth": {"elizabeth"}, "liz": {"elizabeth"}, "lizzie": {"elizabeth"}, "eliza": {"elizabeth"}, "bess": {"elizabeth"}, "elsie": {"elizabeth"},
	"mike": {"michael"}, "mikey": {"michael"}, "jim": {"james"}, "jimmy": {"james"}, "jamie": {"james"},
	"dave": {"david"}, "davey": {"david"}, "dan": {"daniel"}, "danny": {"daniel"},
	"tom": {"thomas"}, "tommy": {"thomas"}, "joe": {"joseph"}, "joey": {"joseph"},
	"jack": {"john"}, "johnny": {"john"}, "chuck": {"charles"}, "charlie": {"charles"},
	"kate": {"katherine", "catherine"}, "katie": {"katherine", "catherine"}, "cathy": {"catherine"}, "kathy": {"katherine"},
	"sue": {"susan"}, "susie": {"susan"}, "jenny": {"jennifer"}, "jen": {"jennifer"},
	"ed": {"edward"}, "eddie": {"edward", "eduardo"}, "ted": {"edward", "theodore"}, "teddy": {"edward", "theodore"},
	"nick": {"nicholas"}, "steve": {"steven", "stephen"}, "matt": {"matthew"}, "chris": {"christopher", "christian", "christina"},
	"sam": {"samuel", "samantha"}, "ben": {"benjamin"}, "fred": {"frederick"}, "freddy": {"frederick"},
	"harry": {"henry", "harold"}, "hank": {"henry"}, "dick": {"richard"}, "rick": {"richard"}, "rich": {"richard"},
	"sandy": {"sandra", "alexander"}, "abby": {"abigail"}, "debbie": {"deborah"}, "patty": {"patricia"}, "trish": {"patricia"},
	"vicky": {"victoria"}, "becky": {"rebecca"}, "cindy": {"cynthia"}, "pam": {"pamela"}, "larry": {"lawrence"},
	"jerry": {"gerald", "jerome"}, "gerry": {"gerald"}, "tim": {"timothy"}, "ron": {"ronald"}, "ronnie": {"ronald"},
	"don": {"donald"}, "donnie": {"donald"}, "ken": {"kenneth"}, "kenny": {"kenneth"}, "greg": {"gregory"},
	"pete": {"peter"}, "nelly": {"ellen", "helen"}, "nell": {"ellen", "helen"}, "sally": {"sarah"},
	"polly": {"mary"}, "molly": {"mary"}, "mamie": {"mary"},
	"richie": {"richard", "ricardo"},
	// Spanish, more
	"chago": {"santiago"}, "tobal": {"cristobal"}, "toval": {"cristobal"},
	"tina": {"katharina", "catarina", "cristina", "christina", "martina", "agustina"},
	// Mennonite Low German
	"greta": {"margaretha"}, "griet": {"margaretha"}, "hein": {"heinrich"}, "tien": {"katharina"}, "tiena": {"katharina"},
	"lena": {"helena", "magdalena"}, "lies": {"elisabeth"}, "sus": {"susanna"}, "neeta": {"aganetha"}, "neta": {"aganetha"},
	"nettie": {"aganetha"}, "netty": {"aganetha"},
	// Spanish, as Belize's Mestizo families call each other
	"meche": {"mercedes"}, "chabela": {"isabel"}, "chave": {"isabel"}, "fito": {"adolfo", "rodolfo"},
	"rosi": {"rosa", "rosario"}, "lucha": {"luz"}, "lety": {"leticia"}, "vero": {"veronica"}, "moni": {"monica"},
	"pancha": {"francisca"}, "panchita": {"francisca"}, "tencha": {"hortensia"}, "nati": {"natividad", "natalia"},
	"chencho": {"crescencio", "inocencio"}, "juanita": {"juana"}, "lulu": {"lourdes", "luisa"},
	"tavo": {"gustavo", "octavio"}, "gus": {"gustavo", "augustus"},
	"rigo": {"rigoberto"}, "fredo": {"alfredo"}, "mando": {"armando"}, "lando": {"orlando", "rolando"},
	"neto": {"ernesto"}, "chinto": {"jacinto"}, "tacho": {"anastasio"}, "beny": {"benjamin", "benito"},
	"benny": {"benjamin", "benito"}, "josie": {"josefina", "josephine"}, "rosie": {"rosa", "rose", "rosario"},
	// English, as Creole families do
	"patsy": {"patricia"}, "dot": {"dorothy"}, "dottie": {"dorothy"}, "dolly": {"dorothy"}, "bev": {"beverly"},
	"al": {"albert", "alfred", "alvin"}, "alf": {"alfred"}, "ernie": {"ernest"}, "ray": {"raymond", "ramon"},
	"reg": {"reginald"}, "stan": {"stanley"}, "lenny": {"leonard"}, "vince": {"vincent"}, "wally": {"walter"},
	"walt": {"walter"}, "judy": {"judith"},
	// Low German and English, as Mennonites are called
	"abe": {"abraham"}, "jake": {"jacob"}, "ike": {"isaac", "isaak"}, "corny": {"cornelius"}, "neil": {"cornelius"},
	"frank": {"francisco", "franz", "francis"}, "hans": {"johan", "johann", "johannes"}, "gerd": {"gerhard"},
	"bernie": {"bernhard", "bernard"}, "annie": {"anna", "ana"}, "aggie": {"agatha", "aganetha"},
	"liese": {"elisabeth"}, "henry": {"heinrich"},
	// English names as a Spanish-speaking clerk writes them, where the
	// two forms are too far apart to be spelled alike: George is Jorge,
	// Lawrence Lorenzo.
	"george": {"jorge"}, "christopher": {"cristobal"}, "philip": {"felipe"}, "phillip": {"felipe"},
	"matthew": {"mateo"}, "luke": {"lucas"}, "mark": {"marcos"}, "catherine": {"catalina"},
	"katherine": {"catalina"}, "lucy": {"lucia"}, "lawrence": {"lorenzo"}, "jane": {"juana"},
	"joan": {"juana"}, "frederick": {"federico"}, "stephanie": {"estefania"}, "vincent": {"vicente"},
	"ignatius": {"ignacio"}, "augustine": {"agustin"}, "dorothy": {"dorotea"}, "alexander": {"alejandro"},
	"eugene": {"eugenio"}, "emmanuel": {"manuel"}, "benedict": {"benito"}, "timothy": {"timoteo"},
	"dominic": {"domingo"}, "christine": {"cristina"}, "ann": {"ana"}, "elijah": {"elias"},
}, abbreviations)

// abbreviations are what a clerk writes in a register for a given name,
// first or middle: Ma. for María (José Ma. Coc), Wm. for William, Fco.
// for Francisco.
var abbreviations = map[string][]string{
	"ma": {"maria"}, "fco": {"francisco"}, "gmo": {"guillermo"}, "jos": {"jose", "joseph"},
	"wm": {"william"}, "chas": {"charles"}, "jno": {"john"}, "thos": {"thomas"}, "jas": {"james"},
	"geo": {"george"}, "robt": {"robert"}, "saml": {"samuel"}, "benj": {"benjamin"}, "danl": {"daniel"},
	"richd": {"richard"}, "edw": {"edward"},
}

// withAbbreviations is the nicknames with the register's abbreviations,
// which stand for their names as nicknames do.
func withAbbreviations(nicks, abbrev map[string][]string) map[string][]string {
	for a, names := range abbrev {
		nicks[a] = names
	}
	return nicks
}

// abbreviates says whether a is a register's abbreviation of the given
// name w.
func abbreviates(a, w string) bool {
	return slices.Contains(abbreviations[a], w)
}

// equivalents are given names written two ways in two languages, which a
// reporter uses for one person.
var equivalents = map[string]string{
	"mary": "maria", "joseph": "jose", "john": "juan", "peter": "pedro", "paul": "pablo",
	"michael": "miguel", "anthony": "antonio", "william": "guillermo", "henry": "enrique",
	"james": "santiago", "francis": "francisco", "elizabeth": "isabel", "helen": "elena",
	"andrew": "andres", "richard": "ricardo", "edward": "eduardo", "thomas": "tomas",
	"stephen": "esteban", "robert": "roberto", "albert": "alberto", "ronald": "ronaldo", "charles": "carlos", "louis": "luis", "lewis": "luis", "margaret": "margarita",
}

// nicknamesOf lists the nicknames of each given name, in its canonical form.
var nicknamesOf = func() map[string][]string {
	out := map[string][]string{}
	for n, fulls := range nicknames {
		for _, f := range fulls {
			c := canonGiven(f)
			out[c] = append(out[c], n)
		}
	}
	for _, ns := range out {
		sort.Strings(ns)
	}
	return out
}()

// firstNameCanon is the set of names first may stand for, itself included.
func firstNameCanon(first string) []string {
	out := []string{canonGiven(first)}
	for _, full := range nicknames[first] {
		c := canonGiven(full)
		if c != out[0] {
			out = append(out, c)
		}
	}
	return out
}

func canonGiven(name string) string {
	if e, ok := equivalents[name]; ok {
		return e
	}
	return name
}

// genderForms are the women's given names of a man's name's stem that
// the last o and a do not give (Mario and María do): Juan and Juana,
// Daniel and Danielle, Joseph and Josephine. Folded, each way.
var genderForms = map[string][]string{
	"juan": {"juana"}, "jose": {"josefa", "josefina"}, "daniel": {"daniela", "danielle"},
	"manuel": {"manuela"}, "luis": {"luisa"}, "adrian": {"adriana"}, "gabriel": {"gabriela", "gabrielle"},
	"rafael": {"rafaela"}, "miguel": {"micaela"}, "fabian": {"fabiola"},
	"julian": {"juliana"}, "cristian": {"cristina"}, "christian": {"christina", "christine"},
	"sebastian": {"sebastiana"}, "angel": {"angela", "angelica", "angelina"}, "emanuel": {"emanuela"},
	"martin": {"martina"}, "valentin": {"valentina"}, "agustin": {"agustina"}, "andres": {"andrea"},
	"ernesto": {"ernestina"}, "antonio": {"antonieta"}, "ivan": {"ivana"}, "jesus": {"jesusa"},
	"paul": {"paula", "pauline"}, "joseph": {"josephine"}, "robert": {"roberta"}, "george": {"georgina"},
	"carl": {"carla"}, "eric": {"erica"}, "frederick": {"frederica"}, "henry": {"henrietta"},
	"louis": {"louise"}, "patrick": {"patricia"}, "michael": {"michelle"}, "francis": {"frances"},
	"nicholas": {"nicole", "nicolasa"}, "gerald": {"geraldine"}, "albert": {"alberta"}, "charles": {"charlotte", "charlene"},
	"justin": {"justine", "justina"}, "carlos": {"carla"}, "pablo": {"paula"},
	"alexander": {"alexandra"}, "glen": {"glenda"}, "glenn": {"glenda"}, "dion": {"dionne"},
	"leon": {"leona"}, "simon": {"simone", "simona"}, "ramon": {"ramona"}, "victor": {"victoria"},
	"stephen": {"stephanie"}, "steven": {"stephanie"}, "cecil": {"cecilia"}, "ernest": {"ernestine", "ernestina"},
	"vicente": {"vicenta"}, "clemente": {"clementina", "clementine"}, "bernard": {"bernadette"},
	"clement": {"clementine"}, "oliver": {"olivia"}, "julius": {"julia"}, "claude": {"claudia", "claudette"},
	"dennis": {"denise"}, "rene": {"renee"}, "andre": {"andrea"}, "noel": {"noelia", "noelle"},
	"antoine": {"antoinette"}, "marcel": {"marcela"},
	"esteban": {"estefania"}, "florentino": {"florentina"}, "inocente": {"inocenta"},
	"felipe": {"felipa"}, "fidel": {"fidelia"}, "guillermo": {"guillermina"}, "leonard": {"leonarda"},
	"leonardo": {"leonarda"}, "nicolas": {"nicolasa"}, "pascual": {"pascuala"},
	"tomas": {"tomasa"}, "thomas": {"tomasa"},
}

// gendered says whether a and b, folded given names, are a man's name and
// a woman's of one stem: the last letter o and a (Mario and María,
// Francisco and Francisca), or a pair of genderForms.
func gendered(a, b string) bool {
	if n := len(a); n >= 4 && n == len(b) && a[:n-1] == b[:n-1] {
		if x, y := a[n-1], b[n-1]; x == 'o' && y == 'a' || x == 'a' && y == 'o' {
			return true
		}
	}
	return slices.Contains(genderForms[a], b) || slices.Contains(genderForms[b], a)
}
