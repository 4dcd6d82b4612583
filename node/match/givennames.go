package match

import "strings"

// givenNames are the given names Belizeans carry, folded: Spanish and
// Maya saints' names, English names as Creole families give them, and
// Mennonite names. A word listed here is a name a person was given, not a
// slip of the keys: two records giving two of them alike (María and Marta,
// Mario and Marco) are more often two people than one mistyped, and a
// second given name on each that differs (Juan Pablo and Juan Carlos) is
// two brothers. Spellings of one name are each listed, and tied in
// givenSpellings.
var givenNames = func() map[string]bool {
	out := map[string]bool{}
	for _, list := range []string{
		// Spanish and Maya, women
		`maria ana rosa carmen guadalupe margarita josefa josefina dolores graciela consuelo patricia alicia
		yolanda teresa concepcion marisol gloria silvia leticia norma sonia juana juanita catarina catalina
		magdalena sebastiana candelaria petrona francisca elena helena micaela julia dominga matilda matilde
		aurelia manuela isabel cecilia lucia marta felicita marcela justina sara susana veronica adriana
		gabriela daniela andrea paola paula laura claudia diana monica sandra lorena karla carla mariela
		marisela maribel marina mercedes raquel rebeca ruth esther eva irma olga blanca beatriz berta lidia
		elsa hilda zoila reina perla luz estela amelia antonia angela angelica araceli azucena brenda celia
		cristina delia dora edith elvira emilia erika esperanza eugenia fatima flor gladys hortensia ines
		irene jacinta jimena juliana karina lilia liliana lourdes lucila luisa marcelina mariana maricela
		miriam natalia nora ofelia pilar rafaela ramona regina rocio rosalia rosario rosaura sofia soledad
		tomasa valentina victoria virginia viviana yesenia yadira zulema candida celestina crescencia eusebia
		felipa fidelia gregoria ignacia leonarda lorenza nicolasa pascuala rufina simona vicenta anastasia
		apolonia agustina emiliana ernestina estefania fabiola florentina leonor lucrecia maximina natividad
		refugio saturnina serafina teodora trinidad marleni alejandra guillermina roberta alberta fernanda
		antonieta martina sebastiana aurora lupita`,
		// Spanish and Maya, men
		`jose juan pedro santiago manuel francisco domingo marcos marco santos lorenzo sebastian cristobal
		mateo andres felipe alberto luis valentin mariano tomas guillermo jesus roberto carlos miguel antonio
		enrique ignacio eduardo fernando rafael vicente ricardo salvador gonzalo ramon jorge felix cayetano
		mario julio cesar hector oscar raul ruben sergio victor arturo armando alfredo alejandro alfonso
		adolfo rodolfo agustin alvaro angel anselmo arnoldo benito bernardo camilo cecilio celestino cirilo
		clemente cornelio crescencio daniel dario diego efrain elias emilio ernesto esteban eusebio
		ezequiel fabian faustino federico fidel florencio gabriel gerardo gilberto gregorio gustavo
		heriberto hilario hugo humberto ismael isidro ivan jacinto jaime javier jeronimo joaquin julian
		leonardo leonel lucas luciano marcelino marcial martin mauricio maximiliano nicolas octavio orlando
		pablo pascual patricio rigoberto rolando rosendo samuel saul silvestre simon teodoro tiburcio
		timoteo ulises wilfredo abel adan abelardo aurelio baltazar bartolo basilio benjamin candido crisanto
		evaristo eugenio eulogio gaspar german inocencio isaias juventino leandro leon lino macario marcelo
		matias melchor nazario nestor obed porfirio ramiro rene ruperto sabino secundino severiano ubaldo
		venancio zacarias aniceto apolinario bonifacio edmundo raymundo rosalio refugio`,
		// English, as Creole and Garifuna families give them, women
		`elizabeth margaret sandra deborah jennifer susan sharon cynthia pamela rebecca mary catherine
		katherine joan marlene beverly dorothy shanice kimberly ann anne anna alice amanda barbara betty
		carol caroline charlotte cheryl christine claudette debra denise diane dianne donna doris edna
		eileen elaine ellen emily emma evelyn faith florence frances gail georgina geraldine grace hazel
		heather helen hyacinth jacqueline janet janice jean joyce judith julie karen kathleen linda lisa
		lorraine louise lucille lynette marcia marilyn marjorie martha maureen melissa michelle mildred
		nadine nancy natasha nicole olive pauline pearl phyllis priscilla rachel rose ruby sarah sheila
		shirley stephanie tanya theresa valerie vanessa vera violet vivian wendy yvonne zelma gwendolyn
		iona ivy merlene myrtle sadie thelma verna keisha tiffany ashley shakira jasmine latoya jessica
		charlene bernadette antoinette henrietta josephine frederica erica justine glenda dionne simone
		leona denise renee noelle clementine olivia deanna samantha abigail rosemary angelina`,
		// English, men
		`william robert michael james david john charles thomas edward richard joseph kenneth ronald anthony
		gerald dwight lloyd wilbert kevin albert alfred allan alan alvin andrew arthur bernard brian bruce
		calvin carl cecil christopher clarence clifford clinton colin cyril dennis derek desmond donald
		douglas dwayne earl edwin elvis eric ernest errol everett francis frank frederick gary george
		gilbert glen glenn gordon harold henry herbert horace howard hubert ian jeffrey jerome jonathan
		keith kelvin lawrence leonard leroy lester lionel louis lewis lennox marvin maurice melvin mervin
		nathaniel neville norman oliver oswald patrick paul peter philip phillip ralph raymond reginald
		rodney roger roland rudolph russell sean shawn stanley stephen steven terrence trevor vincent walter
		wayne wesley wilfred winston jermaine tyrone marlon dalton delroy elroy floyd hilbert rupert selwyn
		vernon wendell kareem jamal darnell dion dean alexander nicholas justin clement julius claude
		andre noel antoine marcel timothy matthew mark luke augustine dominic emmanuel benedict eugene
		vincent ignatius elijah isaiah aaron`,
		// Mennonite
		`johan johann johannes abraham jacob heinrich cornelius franz isaak isaac bernhard gerhard wilhelm
		margaretha katharina elisabeth agatha susanna aganetha klaas dietrich aron tina frieda anganetha
		helene jakob peter`,
	} {
		for _, n := range strings.Fields(list) {
			out[n] = true
		}
	}
	for n := range nameForms {
		out[n] = true
	}
	return out
}()

// nameForms ties the forms of one given name, folded, to the one the model
// takes for it: spellings the letters alone do not tell alike (Sean and
// Shawn; Yesenia and Jessenia, the Spanish y that English writes j), or
// would tell two names (Martha and Marta); and one name in the languages
// of Belize (Arthur and Arturo, Johan and John, Catarina and Katharina).
var nameForms = func() map[string]string {
	out := map[string]string{}
	for _, group := range []string{
		"sean shawn shaun shon", "dwayne duane dwain dwaine dewayne dwane",
		"yesenia jessenia yessenia jesenia yecenia", "jessica yesica yessica jesica",
		"jennifer yenifer yennifer jenifer", "jasmine yasmin yazmin jazmin jasmin yasmine",
		"janet yanet yaneth janeth yanette", "johana yohana yojana johanna joana",
		"giovanni geovanni geovanny giovanny jovanni jovanny", "jeffrey geoffrey jeffery",
		"yvonne ivonne ivon evonne", "marta martha", "stephen steven", "philip phillip",
		"glen glenn", "diane dianne diana", "sara sarah", "johan johann johannes john",
		"isaak isaac", "aron aaron", "rebeca rebecca", "teresa theresa", "helena helene helen elena",
		"jacob jakob", "aganetha anganetha", "catherine katherine kathryn catarina catalina katharina",
		"erica erika", "matilda matilde", "elizabeth elisabeth", "susana susanna susan",
		"alan allan", "alfred alfredo", "ana anna anne ann", "andres andre andrew",
		"arthur arturo", "bernard bernardo bernhard", "carlos carl karl", "carla karla", "carol caroline",
		"cecil cecilio", "clement clemente", "cornelius cornelio", "deborah debra", "ernest ernesto",
		"franz frank", "gerhard gerardo gerald", "gilbert gilberto", "herbert heriberto",
		"isaiah isaias", "josefa josefina josephine", "julia julie", "justina justine",
		"leonard leonardo", "leonel lionel", "marco marcos", "marisela maricela", "marlene marleni merlene",
		"maurice mauricio", "nicholas nicolas", "patrick patricio", "ramon raymond raymundo",
		"roland rolando", "rupert ruperto", "rosa rose", "simona simone", "vivian viviana",
		"wilfred wilfredo", "wilhelm william", "jaime james", "pearl perla", "julio julius",
		"emilia emily", "antonio antoine anthony", "alice alicia", "grace graciela", "lucia lucille",
		// spellings whose first letters differ, which blocking would
		// otherwise keep apart
		"cheryl sheryl sherrill", "karen caren karin", "katrina catrina", "cristina christina kristina christine kristine",
		"christopher kristopher cristopher", "celina selina", "yahaira jahaira yajaira", "geraldine jeraldine",
		"cynthia synthia", "kimberly kimberley",
	} {
		names := strings.Fields(group)
		for _, n := range names {
			out[n] = names[0]
		}
	}
	return out
}()

// formOf is the form the model takes for the given name w.
func formOf(w string) string {
	if f, ok := nameForms[w]; ok {
		return f
	}
	return w
}
