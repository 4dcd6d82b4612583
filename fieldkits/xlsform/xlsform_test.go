package xlsform

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"go.yaml.in/yaml/v3"

	"lifeline/fieldkits"
	"lifeline/schemas"
)

// workbook writes an .xlsx with the given sheets, each a list of rows.
func workbook(t testing.TB, sheets map[string][][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for _, name := range []string{"survey", "choices", "settings"} {
		rows, ok := sheets[name]
		if !ok {
			continue
		}
		if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(name, cell, &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var surveyHead = []any{"type", "name", "label::English (en)", "label::Español (es)", "hint::English (en)", "hint::Español (es)",
	"required", "relevant", "constraint", "constraint_message::English (en)", "constraint_message::Español (es)",
	"calculation", "default", "choice_filter", "appearance"}

// withPart is the .xlsx data with its part name holding content instead.
func withPart(t testing.TB, data []byte, name, content string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	found := false
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			found = true
			_, err = io.WriteString(w, content)
		} else {
			var part io.ReadCloser
			if part, err = f.Open(); err == nil {
				_, err = io.Copy(w, part)
				part.Close()
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("the workbook has no part %s", name)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// household is a household damage form as NEMO's district teams fill it in
// ODK Collect: both languages, metadata, a note, groups, a repeat, rules.
func household(t testing.TB) []byte {
	q := func(cells ...any) []any { return cells }
	return workbook(t, map[string][][]any{
		"survey": {
			surveyHead,
			q("start", "start"),       // 2
			q("end", "end"),           // 3
			q("deviceid", "deviceid"), // 4
			q("note", "intro", "One form per household", "Un formulario por hogar"),                            // 5
			q("select_one districts", "district", "District", "Distrito", "", "", "yes"),                       // 6
			q("begin_group", "location", "Location", "Ubicación"),                                              // 7
			q("text", "village", "Village", "Aldea", "Village, town or city", "Aldea, pueblo o ciudad", "yes"), // 8
			q("geopoint", "gps", "Position", "Posición"),                                                       // 9
			q("end_group"), // 10
			q("integer", "household_size", "People in the household", "Personas en el hogar", "", "", "yes", "",
				". >= 1 and . <= 30", "From 1 to 30", "De 1 a 30"), // 11
			q("select_one damage", "damage_level", "Damage", "Daño", "", "", "yes"),                                              // 12
			q("begin group", "details", "Details", "Detalles", "", "", "", "${damage_level} != 'none'"),                          // 13
			q("select_multiple needs", "needs", "Needs", "Necesidades", "", "", "", "", "", "", "", "", "", "${district} != ''"), // 14
			q("text", "damage_notes", "What was damaged", "Qué se dañó", "", "", "${damage_level} = 'destroyed'",
				"selected(${needs}, 'other')", "", "", "", "", "", "", "multiline"), // 15
			q("end group"), // 16
			q("calculate", "needs_count", "", "", "", "", "", "", "", "", "", "count-selected(${needs})"),                            // 17
			q("begin_repeat", "members", "Household members", "Miembros del hogar"),                                                  // 18
			q("text", "member_name", "Name", "Nombre", "", "", "yes"),                                                                // 19
			q("integer", "member_age", "Age", "Edad", "", "", "", "", ". >= 0 and . <= 120", "From 0 to 120", "De 0 a 120", "", "0"), // 20
			q("end_repeat"), // 21
			q("image", "photo", "Photo of the damage", "Foto del daño"),                                                                // 22
			q("rank", "priorities", "Rank the needs", "Ordene las necesidades"),                                                        // 23
			q("acknowledge", "Consent", "The household agrees", "El hogar está de acuerdo"),                                            // 24
			q("decimal", "repair_cost", "Repair cost (BZD)", "Costo de reparación (BZD)", "", "", "", "pow(${household_size}, 2) > 4"), // 25
			q("integer", "rooms", "Rooms", "Cuartos", "", "", "", "${intro} = ''"),                                                     // 26
			q("today", "today"), // 27
		},
		"choices": {
			{"list_name", "name", "label::English (en)", "label::Español (es)"},
			{"districts", "belize", "Belize", "Belice"},
			{"districts", "cayo", "Cayo", "Cayo"},
			{"districts", "corozal", "Corozal", "Corozal"},
			{"districts", "orange_walk", "Orange Walk", "Orange Walk"},
			{"districts", "stann_creek", "Stann Creek", "Stann Creek"},
			{"districts", "toledo", "Toledo", "Toledo"},
			{"damage", "none", "None", "Ninguno"},
			{"damage", "minor", "Minor", "Menor"},
			{"damage", "major", "Major", "Mayor"},
			{"damage", "destroyed", "Destroyed", "Destruido"},
			{"needs", "water", "Water", "Agua"},
			{"needs", "food", "Food", "Comida"},
			{"needs", "shelter", "Shelter", "Refugio"},
			{"needs", "other", "Other", "Otro"},
		},
		"settings": {
			{"form_title::English (en)", "form_title::Español (es)", "form_id", "version", "instance_name"},
			{"Household damage", "Daños al hogar", "household_damage", "2024111501", "concat(${village})"},
		},
	})
}

// wantHousehold is the kit the household form becomes, written out by hand
// from the form above and docs/kits.md.
const wantHousehold = `
kit: household-damage
version: 2024111501.0.0
title: {en: Household damage, es: Daños al hogar}
types:
  - name: household-damage
    version: 1
    priority: 5
    scope: district
    title: {en: Household damage, es: Daños al hogar}
    fields:
      - name: district
        type: choice
        label: {en: District, es: Distrito}
        required: true
        choices:
          - {value: Belize, en: Belize, es: Belice}
          - {value: Cayo, en: Cayo, es: Cayo}
          - {value: Corozal, en: Corozal, es: Corozal}
          - {value: Orange Walk, en: Orange Walk, es: Orange Walk}
          - {value: Stann Creek, en: Stann Creek, es: Stann Creek}
          - {value: Toledo, en: Toledo, es: Toledo}
      - name: village
        type: text
        label: {en: Village, es: Aldea}
        help: {en: "Village, town or city", es: "Aldea, pueblo o ciudad"}
        required: true
      - name: gps
        type: geo
        label: {en: Position, es: Posición}
      - name: household_size
        type: integer
        label: {en: People in the household, es: Personas en el hogar}
        required: true
        constraint: ". >= 1 and . <= 30"
        constraint_message: {en: From 1 to 30, es: De 1 a 30}
      - name: damage_level
        type: choice
        label: {en: Damage, es: Daño}
        required: true
        choices:
          - {value: none, en: None, es: Ninguno}
          - {value: minor, en: Minor, es: Menor}
          - {value: major, en: Major, es: Mayor}
          - {value: destroyed, en: Destroyed, es: Destruido}
      - name: needs
        type: multi
        label: {en: Needs, es: Necesidades}
        relevant: "${damage_level} != 'none'"
        choices:
          - {value: water, en: Water, es: Agua}
          - {value: food, en: Food, es: Comida}
          - {value: shelter, en: Shelter, es: Refugio}
          - {value: other, en: Other, es: Otro}
      - name: damage_notes
        type: text
        label: {en: What was damaged, es: Qué se dañó}
        required: "${damage_level} = 'destroyed'"
        relevant: "(${damage_level} != 'none') and (selected(${needs}, 'other'))"
      - name: needs_count
        type: text
        label: {en: needs_count, es: needs_count}
        calculate: "count-selected(${needs})"
      - name: members
        type: repeat
        label: {en: Household members, es: Miembros del hogar}
        fields:
          - name: member_name
            type: text
            label: {en: Name, es: Nombre}
            required: true
          - name: member_age
            type: integer
            label: {en: Age, es: Edad}
            constraint: ". >= 0 and . <= 120"
            constraint_message: {en: From 0 to 120, es: De 0 a 120}
            default: "0"
      - name: photo
        type: photo
        label: {en: Photo of the damage, es: Foto del daño}
        max: 1
      - name: consent
        type: bool
        label: {en: The household agrees, es: El hogar está de acuerdo}
      - name: repair_cost
        type: decimal
        label: {en: Repair cost (BZD), es: Costo de reparación (BZD)}
      - name: rooms
        type: integer
        label: {en: Rooms, es: Cuartos}
`

func TestConvertHouseholdForm(t *testing.T) {
	k, rep, err := Convert(bytes.NewReader(household(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := k.YAML("household.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(wantHousehold), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the kit is\n%s\nwant\n%s", data, wantHousehold)
	}
	if !strings.HasPrefix(string(data), "# Imported from the XLSForm household.xlsx") {
		t.Fatalf("the kit file does not say where it came from:\n%s", data)
	}

	// The loader every node uses takes it, rules and repeat included.
	pk, err := fieldkits.Parse("household-damage.yaml", data)
	if err != nil {
		t.Fatalf("the loader refuses the kit: %v", err)
	}
	if typ := pk.Types[0]; len(typ.Fields) != 13 || typ.Fields[8].Type != "repeat" || len(typ.Fields[8].Fields) != 2 {
		t.Fatalf("the loader reads %d fields", len(typ.Fields))
	}

	// Every thing left out or changed has its line, on its row.
	lines := strings.Join(rep.Lines(), "\n")
	for _, w := range []string{
		"survey row 2: start (start) is not carried",
		"survey row 3: end (end) is not carried",
		"survey row 4: deviceid (deviceid) is not carried",
		"survey row 5: note intro is not carried",
		"survey row 6: the district choices of district are spelt as Lifeline names the districts",
		"survey row 7: group location is flattened",
		"survey row 13: group details is flattened",
		"survey row 14: the choice_filter of needs is not carried",
		"survey row 23: type \"rank\" of priorities is not a Lifeline type; left out",
		"survey row 24: Consent is named consent in the kit",
		"survey row 25: the relevant \"pow(${household_size}, 2) > 4\" is left out: kits cannot evaluate it: column 1: pow() is not a function",
		"survey row 26: the relevant \"${intro} = ''\" is left out: it reads ${intro} (a note)",
		"survey row 27: today (today) is not carried",
		"survey: column O (appearance) is not carried",
		"settings: column E (instance_name) is not carried",
		"settings row 2: version 2024111501 is the kit's version 2024111501.0.0",
		"settings row 2: form_id household_damage is household-damage as a kit name",
		"the record type household-damage syncs at priority 5",
	} {
		if !strings.Contains(lines, w) {
			t.Errorf("the report lacks %q; it says:\n%s", w, lines)
		}
	}
	if strings.Contains(lines, "no district question") || strings.Contains(lines, "only") {
		t.Errorf("the report says more than the form warrants:\n%s", lines)
	}
}

func TestOneLanguageAndNoDistrict(t *testing.T) {
	data := workbook(t, map[string][][]any{
		"survey": {
			{"type", "name", "label", "hint::English"},
			{"text", "road", "Road name", "As on the sign"},
			{"select_one state", "state", "Passable?"},
		},
		"choices": {
			{"list_name", "name", "label"},
			{"state", "open", "Open"},
			{"state", "closed", "Closed"},
		},
	})
	k, rep, err := Convert(bytes.NewReader(data), Options{FileName: "Road Check.xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "road-check" || k.Version != "1.0.0" {
		t.Fatalf("kit %s %s, want road-check 1.0.0 from the file name", k.Name, k.Version)
	}
	f := k.Types[0].Fields
	if f[0].Name != "district" || f[0].Required != true || len(f[0].Choices) != 6 || f[0].Choices[0].ES != "Belice" {
		t.Fatalf("no district field added first: %+v", f[0])
	}
	if f[1].Label.EN != "Road name" || f[1].Label.ES != "Road name" || f[1].Help.ES != "As on the sign" {
		t.Fatalf("one language is not used for both: %+v %+v", f[1].Label, f[1].Help)
	}
	lines := strings.Join(rep.Lines(), "\n")
	for _, w := range []string{
		"survey: the hint text is in English only",
		"survey: the label text has no language",
		"choices: the label text has no language",
		"survey: the form has no district question: a required district field",
		"settings: no form_id: the kit is named road-check, after the file",
	} {
		if !strings.Contains(lines, w) {
			t.Errorf("the report lacks %q; it says:\n%s", w, lines)
		}
	}
}

func TestRefused(t *testing.T) {
	head := []any{"type", "name", "label::English (en)", "label::Español (es)", "relevant"}
	form := func(survey ...[]any) []byte {
		return workbook(t, map[string][][]any{
			"survey":  append([][]any{head}, survey...),
			"choices": {{"list_name", "name", "label"}, {"yn", "yes", "Yes"}, {"yn", "no", "No"}},
		})
	}
	big := strings.Repeat("x", MaxCell+1)
	wide := make([]any, MaxColumns+1)
	copy(wide, []any{"text", "a", "A", "A"})
	wide[MaxColumns] = " "
	var many [][]any
	for i := range MaxRows + 1 {
		many = append(many, []any{"text", "q" + strings.Repeat("a", i%3), "Q", "Q"})
	}
	var deep [][]any
	for i := range MaxNesting + 1 {
		deep = append(deep, []any{"begin_group", fmt.Sprintf("g%d", i), "G", "G", "1 = 1"})
	}
	deep = append(deep, []any{"text", "a", "A", "A"})
	for range MaxNesting + 1 {
		deep = append(deep, []any{"end_group"})
	}
	// A list longer than a field may offer, and twenty questions each of a
	// list as long as one may be: a kit larger than a laptop is sent.
	choices := func(list string, n int) [][]any {
		rows := [][]any{{"list_name", "name", "label"}}
		for i := range n {
			rows = append(rows, []any{list, fmt.Sprintf("c%d", i), "C"})
		}
		return rows
	}
	longList := workbook(t, map[string][][]any{
		"survey":  {head, {"select_one v", "q", "Q", "Q"}},
		"choices": choices("v", schemas.MaxChoices+1),
	})
	questions := [][]any{head}
	for i := range 20 {
		questions = append(questions, []any{"select_one v", fmt.Sprintf("q%d", i), "Q", "Q"})
	}
	largeKit := workbook(t, map[string][][]any{"survey": questions, "choices": choices("v", schemas.MaxChoices)})
	// Parts as no spreadsheet writes them, each of more tags or
	// attributes than the bound, the form around them as workbook writes it.
	const main = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	const ns = ` xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	survey := "xl/worksheets/sheet2.xml"
	strs := withPart(t, form([]any{"text", "a", "A", "A"}), "xl/sharedStrings.xml",
		main+"<sst"+ns+">"+strings.Repeat("<si><t>x</t></si>", MaxMarkup/4+1)+"</sst>")
	nested := withPart(t, form([]any{"text", "a", "A", "A"}), survey,
		main+"<worksheet"+ns+"><sheetData>"+strings.Repeat("<a>", MaxMarkup+1))
	attrs := withPart(t, form([]any{"text", "a", "A", "A"}), survey,
		main+"<worksheet"+ns+`><sheetData><row r="1" `+strings.Repeat(`a="" `, MaxMarkup+1)+"/></sheetData></worksheet>")
	for _, c := range []struct {
		name  string
		data  []byte
		opts  Options
		want  string
		limit bool
	}{
		{"not a zip", []byte("type,name,label\ntext,a,A\n"), Options{}, "the file is not an .xlsx workbook", false},
		{"no survey", workbook(t, map[string][][]any{"choices": {{"list_name", "name"}}}), Options{}, "the workbook has no survey sheet", false},
		{"no name column", workbook(t, map[string][][]any{"survey": {{"type", "label"}, {"text", "A"}}}), Options{}, "survey row 1: no name column", false},
		{"duplicate", form([]any{"text", "a", "A", "A"}, []any{"integer", "a", "B", "B"}), Options{}, "survey row 3, column B (name): the name a is also the name of row 2", false},
		{"missing list", form([]any{"select_one colours", "c", "C", "C"}), Options{}, "survey row 2, column A (type): the list colours is not on the choices sheet", false},
		{"unknown name", form([]any{"text", "a", "A", "A", "${b} = 1"}), Options{}, "survey row 2, column E (relevant): ${b} is not the name of any question", false},
		{"nested repeat", form([]any{"begin_repeat", "r", "R", "R"}, []any{"begin_repeat", "s", "S", "S"}), Options{}, "survey row 3, column A (type): repeat s is inside repeat r", false},
		{"unclosed group", form([]any{"begin_group", "g", "G", "G"}, []any{"text", "a", "A", "A"}), Options{}, "survey row 2: begin_group g has no end", false},
		{"stray end", form([]any{"end_repeat"}), Options{}, "survey row 2, column A (type): end_repeat closes no begin_repeat", false},
		{"bad district", form([]any{"select_one yn", "district", "D", "D"}), Options{}, "the district question district offers \"yes\", which is none of Belize's districts", false},
		{"district flag", form([]any{"text", "a", "A", "A"}), Options{DistrictField: "zone"}, "the form has no question zone", false},
		{"kit flag", form([]any{"text", "a", "A", "A"}), Options{Kit: "Bad Name"}, "the kit name \"Bad Name\" must be", false},
		{"nothing carried", form([]any{"note", "n", "N", "N"}), Options{}, "no question of the form can be carried", false},
		{"overlong cell", form([]any{"text", "a", big, "A"}), Options{}, "survey row 2, column C (label::English (en)): the cell is 4097 bytes long", true},
		{"a space far right", form(wide), Options{Kit: "wide"}, "survey row 2, column IW: a cell past column 256, blank as it may look", true},
		{"groups too deep", form(deep...), Options{Kit: "deep"}, "survey row 34, column A (type): begin_group g32 is inside 32 groups: a form nests them at most 32 deep", true},
		{"too many rows", workbook(t, map[string][][]any{"survey": append([][]any{head}, many...)}), Options{}, "survey row 5001: more than 5000 rows", true},
		{"too large", append(household(t), make([]byte, MaxFileSize)...), Options{}, "the file is over 20 MiB", true},
		{"a long list", longList, Options{Kit: "long"}, "survey row 2, column A (type): the list v has 501 choices: a field offers at most 500", true},
		{"a kit too large", largeKit, Options{Kit: "large"}, "the kit would be over 256 KiB, the most of one kit that reaches the laptops", true},
		{"shared strings", strs, Options{}, `the workbook holds over 1048576 tags and attributes: an XLSForm has far fewer (the part "xl/sharedStrings.xml" takes it over)`, true},
		{"tags one inside another", nested, Options{}, `over 1048576 tags and attributes: an XLSForm has far fewer (the part "xl/worksheets/sheet2.xml"`, true},
		{"attributes of a row", attrs, Options{}, `over 1048576 tags and attributes: an XLSForm has far fewer (the part "xl/worksheets/sheet2.xml"`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Convert(bytes.NewReader(c.data), c.opts)
			if err == nil {
				t.Fatalf("converted, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrForm) {
				t.Fatalf("error %q, want one saying %q", err, c.want)
			}
			if errors.Is(err, ErrLimit) != c.limit {
				t.Fatalf("error %q: over a limit is %v, want %v", err, !c.limit, c.limit)
			}
		})
	}
}

// A sheet whose rows claim to be far down is refused by its row count, not
// read to the end.
func TestFarRowRefused(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "survey")
	// A stream writer writes the two rows as they are; SetSheetRow would
	// fill the million rows between them first.
	sw, err := f.NewStreamWriter("survey")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		cell string
		row  []any
	}{{"A1", []any{"type", "name", "label"}}, {"A1000000", []any{"text", "a", "A"}}} {
		if err := sw.SetRow(r.cell, r.row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Convert(bytes.NewReader(b.Bytes()), Options{})
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "more than 5000 rows") {
		t.Fatalf("error %v, want the row limit", err)
	}
}

func FuzzConvert(f *testing.F) {
	f.Add(household(f))
	f.Add(workbook(f, map[string][][]any{"survey": {{"type", "name", "label"}, {"text", "a", "A"}}}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		k, rep, err := Convert(bytes.NewReader(data), Options{FileName: "fuzz.xlsx"})
		if err != nil {
			if !errors.Is(err, ErrForm) {
				t.Fatalf("error %v does not wrap ErrForm", err)
			}
			return
		}
		out, err := k.YAML("fuzz.xlsx")
		if errors.Is(err, ErrLimit) {
			return // a kit just under the bound, and its header comment over it
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fieldkits.Parse("fuzz.yaml", out); err != nil {
			t.Fatalf("a converted kit is refused by the loader: %v\n%s", err, out)
		}
		_ = rep.Lines()
	})
}

// XLSForm takes a select's type written in words, as pyxform's aliases
// do: "select one LIST", "select multiple LIST" and "select all that
// apply LIST", the list's name as written, in any case of the words
// before it.
func TestSelectTypesWrittenInWords(t *testing.T) {
	data := workbook(t, map[string][][]any{
		"survey": {
			{"type", "name", "label"},
			{"select one RoadState", "state", "Passable?"},
			{"Select Multiple needs", "needs", "Needs"},
			{"select all that apply needs", "more", "More needs"},
		},
		"choices": {
			{"list_name", "name", "label"},
			{"RoadState", "open", "Open"},
			{"RoadState", "closed", "Closed"},
			{"needs", "water", "Water"},
			{"needs", "food", "Food"},
			{"needs", "tarp", "Tarp"},
		},
	})
	k, _, err := Convert(bytes.NewReader(data), Options{FileName: "road.xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		typ     schemas.FieldType
		choices int
	}{"state": {schemas.Choice, 2}, "needs": {schemas.Multi, 3}, "more": {schemas.Multi, 3}}
	for _, f := range k.Types[0].Fields {
		if w, ok := want[f.Name]; ok {
			if f.Type != w.typ || len(f.Choices) != w.choices {
				t.Errorf("%s: a %s of %d choices, want a %s of %d", f.Name, f.Type, len(f.Choices), w.typ, w.choices)
			}
			delete(want, f.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("not converted: %v", want)
	}
}
