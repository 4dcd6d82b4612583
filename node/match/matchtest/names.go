package matchtest

// The name pools, most common first, as Belize's registers give them by
// people: Q'eqchi' and Mopan Maya (Toledo above all), Mestizo (the north
// and Cayo), Creole (Belize District), Garifuna (Stann Creek and Toledo's
// coast) and Mennonite (Spanish Lookout, Shipyard, Blue Creek). The
// generator draws from them with Zipf weights, so that the common names are
// as common as they are.
type people struct {
	female, male, surnames []string
	double                 float64 // how often a name carries two surnames
}

var (
	maya = people{
		female:   []string{"Maria", "Juana", "Rosa", "Catarina", "Magdalena", "Sebastiana", "Candelaria", "Petrona", "Francisca", "Elena", "Micaela", "Julia", "Dominga", "Matilda", "Aurelia", "Manuela", "Isabel", "Cecilia", "Lucia", "Marta"},
		male:     []string{"Juan", "José", "Pedro", "Santiago", "Manuel", "Francisco", "Domingo", "Marcos", "Santos", "Lorenzo", "Sebastián", "Cristóbal", "Mateo", "Andrés", "Felipe", "Alberto", "Luis", "Valentín", "Mariano", "Tomás"},
		surnames: []string{"Pop", "Coc", "Caal", "Choc", "Sho", "Bol", "Tzib", "Chiac", "Teul", "Ack", "Ical", "Cucul", "Tush", "Makin", "Xi", "Sam", "Chun", "Mes", "Sacul", "Coy", "Ash", "Canti", "Rash", "Pau", "Salam", "Chub", "Cho", "Chen", "Tut", "Bah", "Cal", "Shol", "Ba", "Cus", "Assi"},
		double:   0.45,
	}
	mestizo = people{
		female:   []string{"María", "Guadalupe", "Ana", "Rosa", "Carmen", "Elizabeth", "Margarita", "Josefa", "Dolores", "Graciela", "Consuelo", "Patricia", "Alicia", "Yolanda", "Teresa", "Concepción", "Marisol", "Gloria", "Silvia", "Leticia", "Norma", "Sonia"},
		male:     []string{"José", "Juan", "Francisco", "Guillermo", "Jesús", "Lorenzo", "Alberto", "Roberto", "Luis", "Carlos", "Miguel", "Antonio", "Enrique", "Ignacio", "Eduardo", "Fernando", "Rafael", "Vicente", "Manuel", "Ricardo", "Salvador", "Gonzalo", "Ramón", "Jorge"},
		surnames: []string{"García", "Martínez", "Reyes", "Castillo", "González", "Hernández", "López", "Pérez", "Sánchez", "Ramírez", "Gómez", "Díaz", "Vásquez", "Cruz", "Méndez", "Torres", "Chan", "Cano", "Cocom", "Ek", "Pech", "Tun", "Uck", "Novelo", "Magaña", "Cuéllar", "Briceño", "Guerrero", "Juárez", "Rosado", "Pinelo", "Salazar", "Aguilar", "Romero", "Peña", "Moguel", "Canul", "Blanco"},
		double:   0.4,
	}
	creole = people{
		female:   []string{"Elizabeth", "Margaret", "Patricia", "Sandra", "Deborah", "Jennifer", "Susan", "Sharon", "Cynthia", "Pamela", "Rebecca", "Victoria", "Mary", "Catherine", "Joan", "Marlene", "Beverly", "Dorothy", "Shanice", "Kimberly"},
		male:     []string{"William", "Robert", "Michael", "James", "David", "John", "Charles", "Thomas", "Edward", "Richard", "Joseph", "Daniel", "Kenneth", "Ronald", "Anthony", "Gerald", "Dwight", "Lloyd", "Wilbert", "Kevin"},
		surnames: []string{"Flowers", "Young", "Gentle", "Usher", "Arnold", "Smith", "Williams", "Robinson", "Bennett", "Tillett", "Gillett", "Lewis", "Jones", "Thompson", "Myvett", "Staine", "Neal", "Hyde", "Gordon", "Castillo", "Gabourel", "Leslie", "Lord", "Wade", "Jeffries", "Pitts", "Trapp", "Hendy", "Baptist", "Swasey", "Grant", "Banner", "Faber", "Dawson"},
	}
	garifuna = people{
		female:   []string{"María", "Elizabeth", "Rosa", "Ana", "Margaret", "Josefa", "Catherine", "Sandra", "Dolores", "Felicita", "Marcela", "Justina"},
		male:     []string{"José", "John", "Francisco", "Roberto", "William", "Pedro", "Luis", "Anthony", "Felix", "Santiago", "Thomas", "Cayetano"},
		surnames: []string{"Núñez", "Martínez", "Castillo", "Zúñiga", "Arzú", "Lambey", "Palacio", "Ramos", "Ávila", "Cayetano", "Flores", "Sabal", "López", "Álvarez", "Mejía", "Guerrero", "Velásquez", "Marin", "Benguche", "Norales", "Mariano", "Lino"},
		double:   0.15,
	}
	mennonite = people{
		female:   []string{"Maria", "Anna", "Helena", "Margaretha", "Katharina", "Sara", "Elisabeth", "Agatha", "Susanna", "Justina", "Aganetha", "Judith"},
		male:     []string{"Johan", "Peter", "Abraham", "Jacob", "Heinrich", "Cornelius", "Franz", "David", "Isaak", "Bernhard", "Gerhard", "Wilhelm"},
		surnames: []string{"Dyck", "Klassen", "Friesen", "Reimer", "Penner", "Wiebe", "Thiessen", "Giesbrecht", "Loewen", "Fehr", "Wall", "Peters", "Harder", "Knelsen", "Enns", "Rempel", "Unger", "Bergen", "Bannman", "Neufeld"},
	}
)

// spellings are the ways clerks write a surname, as the generator uses
// them; some are in the matcher's table and some are not, as in life.
var spellings = map[string][]string{
	"Caal": {"Cal", "Kaal"}, "Cal": {"Caal"}, "Sho": {"Xo", "Shoo"}, "Choc": {"Chok"}, "Coc": {"Cocj", "Cok"},
	"Tzib": {"Tsib"}, "Teul": {"Tewl"}, "Ack": {"Ac"}, "Chiac": {"Chiak"}, "Ical": {"Icaal"}, "Cucul": {"Kukul"},
	"Tush": {"Tux"}, "Xi": {"Shi"}, "Makin": {"Maquin"}, "Sacul": {"Sakul"}, "Canti": {"Kanti"}, "Chub": {"Chuub"},
	"Dyck": {"Dueck", "Dick"}, "Klassen": {"Classen"}, "Friesen": {"Friessen"}, "Penner": {"Pener"},
	"Thiessen": {"Tiessen"}, "Reimer": {"Reimar"}, "Giesbrecht": {"Giesbrect"}, "Loewen": {"Lowen"}, "Knelsen": {"Knelson"},
	"González": {"Gonzales"}, "Vásquez": {"Vazquez"}, "Martínez": {"Martines"}, "Velásquez": {"Velazquez"},
	"Gabourel": {"Gaboural"}, "Myvett": {"Mivett"},
}

// shortNames are what people are called at home, as the generator uses
// them.
var shortNames = map[string][]string{
	"Guillermo": {"Memo"}, "Francisco": {"Pancho", "Paco"}, "Guadalupe": {"Lupe"}, "José": {"Chepe", "Pepe"},
	"Jesús": {"Chucho", "Chuy"}, "Lorenzo": {"Lencho"}, "Alberto": {"Beto"}, "Roberto": {"Beto", "Bob"},
	"William": {"Bill", "Will", "Willie"}, "Robert": {"Bob", "Bobby"}, "Margaret": {"Peggy", "Maggie"},
	"Elizabeth": {"Betty", "Liz", "Beth"}, "Ignacio": {"Nacho"}, "Enrique": {"Quique"}, "Antonio": {"Toño", "Tony"},
	"Rafael": {"Rafa"}, "Eduardo": {"Lalo"}, "Vicente": {"Chente"}, "Michael": {"Mike"}, "James": {"Jim", "Jimmy"},
	"David": {"Dave"}, "Daniel": {"Danny"}, "Thomas": {"Tom", "Tommy"}, "Joseph": {"Joe"}, "Richard": {"Rick", "Richie"},
	"Charles": {"Charlie"}, "Catherine": {"Cathy", "Kate"}, "Patricia": {"Paty", "Trish"}, "Graciela": {"Chela"},
	"Consuelo": {"Chelo"}, "Dolores": {"Lola"}, "Concepción": {"Concha", "Conchita"}, "Salvador": {"Chava"},
	"Gonzalo": {"Chalo"}, "Susan": {"Sue"}, "Edward": {"Eddie", "Ted"}, "Deborah": {"Debbie"}, "Rebecca": {"Becky"},
	"Kenneth": {"Ken", "Kenny"}, "Ronald": {"Ron"}, "Anthony": {"Tony"}, "Jennifer": {"Jenny"}, "Manuel": {"Manolo"},
	"Santiago": {"Chago"}, "Cristóbal": {"Toval"}, "Margaretha": {"Greta"}, "Katharina": {"Tina"}, "Heinrich": {"Hein"},
}

type district struct {
	name     string
	weight   float64
	villages []string
	mix      []struct {
		p  *people
		wt float64
	}
}

func mix(pairs ...any) []struct {
	p  *people
	wt float64
} {
	var out []struct {
		p  *people
		wt float64
	}
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, struct {
			p  *people
			wt float64
		}{pairs[i].(*people), pairs[i+1].(float64)})
	}
	return out
}

// districts: their share of the people, their villages (the first ones the
// largest) and who lives there. San Antonio is in Cayo and in Toledo, San
// Jose in Toledo and Orange Walk, Santa Elena in Cayo, Corozal and Toledo.
var districts = []district{
	{"Belize", 0.30, []string{"Belize City", "Ladyville", "Sandhill", "Burrell Boom", "Hattieville", "Crooked Tree", "San Pedro", "Caye Caulker", "Gales Point", "Bermudian Landing", "Double Head Cabbage", "Maskall"},
		mix(&creole, 0.6, &mestizo, 0.25, &garifuna, 0.1, &maya, 0.05)},
	{"Cayo", 0.25, []string{"San Ignacio", "Santa Elena", "Benque Viejo", "Belmopan", "San Antonio", "Spanish Lookout", "Bullet Tree Falls", "Succotz", "Cristo Rey", "Georgeville", "Unitedville", "Valley of Peace", "Teakettle", "Roaring Creek", "Camalote", "Barton Creek"},
		mix(&mestizo, 0.55, &creole, 0.15, &mennonite, 0.15, &maya, 0.1, &garifuna, 0.05)},
	{"Orange Walk", 0.12, []string{"Orange Walk Town", "San Jose", "August Pine Ridge", "Trial Farm", "San Felipe", "Guinea Grass", "Shipyard", "Blue Creek", "San Lazaro", "Yo Creek", "San Estevan", "Carmelita"},
		mix(&mestizo, 0.7, &mennonite, 0.15, &creole, 0.1, &maya, 0.05)},
	{"Corozal", 0.11, []string{"Corozal Town", "Sarteneja", "Chunox", "San Narciso", "Libertad", "Patchakan", "Concepcion", "Xaibe", "Santa Elena", "San Joaquin", "Progresso", "Copper Bank"},
		mix(&mestizo, 0.8, &creole, 0.1, &maya, 0.05, &mennonite, 0.05)},
	{"Stann Creek", 0.12, []string{"Dangriga", "Hopkins", "Independence", "Placencia", "Seine Bight", "Georgetown", "Pomona", "Silk Grass", "Maya Mopan", "Red Bank", "Sittee River", "Santa Rosa", "San Roman"},
		mix(&garifuna, 0.45, &creole, 0.2, &mestizo, 0.2, &maya, 0.15)},
	{"Toledo", 0.10, []string{"Punta Gorda", "San Antonio", "San Pedro Columbia", "San Jose", "Santa Cruz", "Blue Creek", "Crique Sarco", "Barranco", "Big Falls", "Indian Creek", "San Miguel", "Silver Creek", "Jalacte", "Santa Elena", "Golden Stream", "Aguacate", "Laguna", "San Marcos"},
		mix(&maya, 0.65, &mestizo, 0.15, &garifuna, 0.1, &creole, 0.1)},
}

// The long tail: Belize has thousands of surnames and hundreds of given
// names, and the lists above are only the commonest. Two draws in five come
// from here, so that two people share a name about as often as they do.
var (
	tailSurnames = []string{
		"Acosta", "Alamilla", "Alpuche", "Ancona", "Anderson", "Andrewin", "Arana", "Armstrong", "Ayuso", "Azueta",
		"Bailey", "Balderamos", "Barrow", "Batty", "Bautista", "Belisle", "Bernard", "Bradley", "Burgos", "Burn",
		"Cabral", "Cadle", "Campos", "Carcamo", "Carrillo", "Casasola", "Cawich", "Cal", "Cervantes", "Chavarria",
		"Clare", "Coye", "Cuevas", "Cunil", "Dominguez", "Dougal", "Duarte", "Eiley", "Encalada", "Escalante",
		"Espat", "Espejo", "Estrada", "Ferguson", "Figueroa", "Fuller", "Gale", "Garbutt", "Godoy", "Guzman",
		"Hall", "Hamilton", "Harris", "Herrera", "Hill", "Humes", "Ical", "Jacobs", "Jimenez", "Johnson",
		"Kelly", "Kuylen", "Lambert", "Leiva", "Lizama", "Longsworth", "Lozano", "Lucas", "Mai", "Manzanero",
		"Marin", "Matus", "May", "McKenzie", "Medina", "Miranda", "Montejo", "Morales", "Moreno", "Musa",
		"Noralez", "Ortega", "Ozaeta", "Pacheco", "Panti", "Parham", "Patnett", "Paz", "Perdomo", "Pott",
		"Quiroz", "Raymond", "Requena", "Rivero", "Rivas", "Rodriguez", "Rosales", "Ruiz", "Saldivar", "Samos",
		"Santos", "Shal", "Shoman", "Sosa", "Soberanis", "Solis", "Stuart", "Tablada", "Tesecum", "Trejo",
		"Tzul", "Ucan", "Urbina", "Valdez", "Vanegas", "Vega", "Villanueva", "Waight", "Westby", "Wright",
		"Yah", "Yam", "Yacab", "Zabaneh", "Zetina", "Pott", "Coleman", "Cus", "Chee", "Chi",
		"Ayala", "Bermudez", "Blanco", "Bowen", "Caliz", "Carballo", "Cardenas", "Castellanos", "Cawich", "Chuc",
	}
	tailFemale = []string{
		"Adela", "Adriana", "Agustina", "Alba", "Amalia", "Amparo", "Andrea", "Angela", "Antonia", "Aracely",
		"Beatriz", "Berta", "Blanca", "Brenda", "Camila", "Carla", "Carolina", "Celia", "Claudia", "Cristina",
		"Daisy", "Delia", "Diana", "Edith", "Elena", "Elsa", "Emilia", "Esperanza", "Estela", "Eva",
		"Fabiola", "Fatima", "Flor", "Gabriela", "Gladys", "Hilda", "Irma", "Isabel", "Jacqueline", "Janet",
		"Josefina", "Julieta", "Karina", "Laura", "Lidia", "Lilia", "Lorena", "Lucia", "Luisa", "Marcela",
		"Mercedes", "Miriam", "Mirna", "Monica", "Nancy", "Natalia", "Nelly", "Olga", "Paola", "Paulina",
		"Raquel", "Rebeca", "Rocio", "Ruth", "Sara", "Sofia", "Susana", "Tania", "Valeria", "Veronica",
		"Wendy", "Ximena", "Yesenia", "Zoila", "Charlene", "Shirley", "Gwendolyn", "Hazel", "Lorraine", "Yvette",
	}
	tailMale = []string{
		"Abel", "Adolfo", "Adrian", "Agustin", "Alejandro", "Alfredo", "Alvaro", "Amado", "Arturo", "Augusto",
		"Benito", "Bernardo", "Byron", "Cesar", "Cornelio", "Cruz", "Dario", "Diego", "Efrain", "Elias",
		"Emilio", "Ernesto", "Esteban", "Evaristo", "Fabian", "Federico", "Felix", "Gabriel", "Gerardo", "Gilberto",
		"Gregorio", "Hector", "Hugo", "Isidro", "Jaime", "Javier", "Joel", "Julio", "Leonel", "Leonardo",
		"Marcelino", "Mario", "Martin", "Mauricio", "Nestor", "Noel", "Oscar", "Pablo", "Raul", "Reynaldo",
		"Rodolfo", "Rogelio", "Ruben", "Samuel", "Saul", "Sergio", "Teodoro", "Ulises", "Victor", "Wilfredo",
		"Alvin", "Clifford", "Delroy", "Errol", "Glenford", "Herman", "Ivan", "Keith", "Leroy", "Marvin",
		"Neville", "Orlando", "Percival", "Rudolph", "Sheldon", "Trevor", "Vernon", "Winston", "Wayne", "Dennis",
	}
)
