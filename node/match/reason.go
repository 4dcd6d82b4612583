package match

import "strings"

// Reason is one plain-words reason for a score, held as a code and its
// arguments so that it can be said in English or in Spanish.
type Reason struct {
	Code string
	Args []string
}

// reasonText holds, per code, the English and the Spanish; {0} and {1}
// stand for the arguments.
var reasonText = map[string][2]string{
	"name-same":            {"same name", "mismo nombre"},
	"name-same-folded":     {"same name ignoring accents, case and order", "mismo nombre sin contar acentos, mayúsculas ni orden"},
	"first-same":           {"first name {0} on both", "primer nombre {0} en los dos"},
	"first-nickname":       {"{0} is a name for {1}", "{0} es un nombre de {1}"},
	"first-alike":          {"first names {0} and {1} spelled alike", "primeros nombres {0} y {1} escritos de forma parecida"},
	"first-somewhat":       {"first names {0} and {1} somewhat alike", "primeros nombres {0} y {1} algo parecidos"},
	"first-two-names":      {"first names {0} and {1}, two names", "primeros nombres {0} y {1}, dos nombres distintos"},
	"first-differ":         {"first names {0} and {1} differ", "primeros nombres {0} y {1} distintos"},
	"first-joined":         {"{0} and {1}, one first name written in two words and in one", "{0} y {1}, un primer nombre escrito en dos palabras y en una"},
	"first-gendered":       {"first names {0} and {1}, a man's and a woman's", "primeros nombres {0} y {1}, de hombre y de mujer"},
	"first-initial":        {"{0} and {1}, an initial and a name it begins", "{0} y {1}, una inicial y un nombre que empieza así"},
	"name-generation":      {"{0} and {1}, two generations of one name", "{0} y {1}, dos generaciones de un mismo nombre"},
	"surname-same":         {"surname {0} on both", "apellido {0} en los dos"},
	"surname-one":          {"surname {0} on both, one also {1}", "apellido {0} en los dos, uno también {1}"},
	"surname-one-second":   {"surname {0} on both, the first surname {1} left out of one", "apellido {0} en los dos, el primer apellido {1} falta en uno"},
	"surname-one-other":    {"surname {0} on both, the others {1} and {2}", "apellido {0} en los dos, los otros {1} y {2}"},
	"middle-differ":        {"surname {0} on both, second given names {1} and {2}", "apellido {0} en los dos, segundos nombres {1} y {2}"},
	"middle-one":           {"surname {0} on both, second given names {1} and {2}, one name", "apellido {0} en los dos, segundos nombres {1} y {2}, un mismo nombre"},
	"surname-spelling":     {"{0} and {1} are one surname spelled two ways", "{0} y {1} son un mismo apellido escrito de dos formas"},
	"name-abbreviated":     {"{0}. written for {1}", "{0}. escrito por {1}"},
	"surname-alike":        {"surnames {0} and {1} spelled alike", "apellidos {0} y {1} escritos de forma parecida"},
	"surname-somewhat":     {"surnames {0} and {1} somewhat alike", "apellidos {0} y {1} algo parecidos"},
	"surname-differ":       {"surnames {0} and {1} differ", "apellidos {0} y {1} distintos"},
	"surname-missing":      {"no surname on one", "uno sin apellido"},
	"name-surname-first":   {"{0} read surname first", "{0} leído con el apellido primero"},
	"name-second-given":    {"{0} called by the second given name, {1}", "{0} por su segundo nombre, {1}"},
	"name-aka":             {"{0}, also known as {1}", "{0}, también conocido como {1}"},
	"age-same":             {"same age, {0}", "misma edad, {0}"},
	"age-close":            {"ages {0} and {1}", "edades {0} y {1}"},
	"age-far":              {"ages {0} and {1}, too far apart for one person", "edades {0} y {1}, demasiado distintas para ser la misma persona"},
	"age-missing":          {"age not known on one", "edad desconocida en uno"},
	"sex-same":             {"both {0}", "los dos de sexo {0}"},
	"sex-differ":           {"one female, one male", "una mujer y un hombre"},
	"place-same":           {"both {0}, {1}", "los dos de {0}, {1}"},
	"place-other-district": {"{0} in {1} and in {2}, different places", "{0} en {1} y en {2}, lugares distintos"},
	"place-alike":          {"places {0} and {1} spelled alike, both {2}", "lugares {0} y {1} escritos de forma parecida, los dos en {2}"},
	"place-other-village":  {"{0} and {1}, both {2}", "{0} y {1}, los dos en {2}"},
	"place-district":       {"both {0}", "los dos en {0}"},
	"district-differ":      {"{0} and {1}", "{0} y {1}"},
	"place-missing":        {"place not known on one", "lugar desconocido en uno"},
	"group":                {"matched through the person's other records", "emparejados a través de los otros registros de la persona"},
	AsideRegistered:        {"set aside: a stronger match gives the person another shelter registration", "apartado: una coincidencia más fuerte da a la persona otro registro de albergue"},
	AsideAges:              {"set aside: ages too far apart for one person, in this pair or with a stronger match", "apartado: edades demasiado distintas para una persona, en este par o con una coincidencia más fuerte"},
	AsideApart:             {"set aside: a stronger match of one of them is, by its own comparison, another person than the other", "apartado: una coincidencia más fuerte de uno de ellos es, comparada con el otro, otra persona"},
	AsideDecided:           {"set aside: a person decided a stronger match of one of them is another person than the other", "apartado: una persona decidió que una coincidencia más fuerte de uno de ellos es otra persona que el otro"},
	AsideSize:              {"set aside: the records taken for one person would be too many", "apartado: serían demasiados registros para una persona"},
}

// sexES is how the Spanish reason says a sex.
var sexES = map[string]string{"female": "femenino", "male": "masculino"}

// In renders r in English ("en", the default) or Spanish ("es").
func (r Reason) In(lang string) string {
	t, ok := reasonText[r.Code]
	if !ok {
		return r.Code
	}
	s := t[0]
	if lang == "es" {
		s = t[1]
	}
	for i, a := range r.Args {
		if lang == "es" && r.Code == "sex-same" {
			a = sexES[a]
		}
		s = strings.ReplaceAll(s, "{"+string(rune('0'+i))+"}", a)
	}
	return s
}

// String is the English.
func (r Reason) String() string { return r.In("en") }
