package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/schemas"
)

// withCasualties publishes at n a damage-assessment kit whose type has a
// repeat of casualties, each a personal name and an age, and returns it.
func withCasualties(t *testing.T) (*node.Node, *schemas.Type) {
	t.Helper()
	n, ca := openHQ(t, &syncBuffer{})
	cur, _ := n.Kits().Kit("damage-assessment")
	ty, _ := n.Kits().Type("damage-assessment")
	next := "9.0.0"
	body := strings.Replace(strings.Replace(strings.Replace(string(readKit(t, "damage-assessment")),
		"version: "+cur.Version, "version: "+next, 1),
		"  - name: damage-assessment\n    version: "+fmt.Sprint(ty.Version), "  - name: damage-assessment\n    version: "+fmt.Sprint(ty.Version+1), 1),
		"      - name: reported_by\n", `      - name: casualties
        type: repeat
        label: {en: Casualties, es: Víctimas}
        fields:
          - {name: name, type: text, personal: true, label: {en: Name, es: Nombre}}
          - {name: age, type: integer, min: 0, max: 120, label: {en: Age, es: Edad}}

      - name: reported_by
`, 1)
	if err := node.ApplyKit(n, ca.Cert, 1, ledger.Kit{Name: "damage-assessment", Version: next, Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	ty, _ = n.Kits().Type("damage-assessment")
	if f, ok := ty.Field("casualties"); !ok || f.Type != schemas.Repeat {
		t.Fatalf("the kit with casualties did not take: %s", body)
	}
	return n, ty
}

func readKit(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../fieldkits/kits/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A building's casualties, three rows of which one is removed: shown in
// the record's view where the kit puts them, one row after another, each
// value labelled with its row's number; exported in GeoJSON as a list of
// rows, without their names unless personal data is asked for.
func TestRowsShownAndExported(t *testing.T) {
	n, _ := withCasualties(t)
	ctx := context.Background()
	id := mustAdd(t, n, "damage-assessment", `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch",
		"damage_level":4,"household_size":5,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z",
		"casualties":[{"name":"Marta Chun","age":34},{"name":"Pedro Chun","age":70},{"name":"Luis Chun","age":6}]}`)
	v, err := n.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	rowOf := map[string]string{} // name: row id
	for name, val := range v.Fields {
		if rep, row, field, ok := schemas.SplitRowField(name); ok && rep == "casualties" && field == "name" {
			rowOf[val.(string)] = row
		}
	}
	if len(rowOf) != 3 {
		t.Fatalf("rows %v", rowOf)
	}
	mustUpdate(t, n, id, `{"casualties":[{"row":"`+rowOf["Pedro Chun"]+`","remove":true}]}`)
	marta, luis := rowOf["Marta Chun"], rowOf["Luis Chun"]
	if marta > luis {
		t.Fatalf("row ids %s and %s do not sort as they were added", marta, luis)
	}

	v, err = n.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(v.Order, "reported_by")
	want := []string{"casualties." + marta + ".name", "casualties." + marta + ".age", "casualties." + luis + ".name", "casualties." + luis + ".age"}
	if i < 4 || !slices.Equal(v.Order[i-4:i], want) {
		t.Fatalf("the view's order is %q, want %q just before reported_by", v.Order, want)
	}
	for _, name := range v.Order {
		if strings.Contains(name, rowOf["Pedro Chun"]) || strings.HasSuffix(name, ".remove") {
			t.Errorf("the removed row or a removal mark is shown: %s", name)
		}
	}
	for name, label := range map[string]string{want[0]: "Casualties 1: Name", want[1]: "Casualties 1: Age", want[3]: "Casualties 2: Age"} {
		if v.Labels[name] != label {
			t.Errorf("%s is labelled %q, want %q", name, v.Labels[name], label)
		}
	}
	if v.Texts[want[2]] != "Luis Chun" || v.Texts[want[3]] != "6" {
		t.Errorf("the second row shows %q, %q", v.Texts[want[2]], v.Texts[want[3]])
	}

	casualties := func(opts node.ExportOptions) (any, string) {
		t.Helper()
		var buf bytes.Buffer
		if _, err := n.ExportGeoJSON(ctx, "damage-assessment", &buf, opts); err != nil {
			t.Fatal(err)
		}
		var fc struct {
			Features []struct{ Properties map[string]any }
		}
		if err := json.Unmarshal(buf.Bytes(), &fc); err != nil || len(fc.Features) != 1 {
			t.Fatalf("the export %v: %s", err, buf.String())
		}
		return fc.Features[0].Properties["casualties"], buf.String()
	}
	got, out := casualties(node.ExportOptions{})
	if want := []any{map[string]any{"row": marta, "age": 34.0}, map[string]any{"row": luis, "age": 6.0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("without personal data the rows are %#v, want %#v", got, want)
	}
	if strings.Contains(out, "Chun") {
		t.Errorf("a name is exported without personal data:\n%s", out)
	}
	got, _ = casualties(node.ExportOptions{Personal: true})
	if want := []any{map[string]any{"row": marta, "name": "Marta Chun", "age": 34.0}, map[string]any{"row": luis, "name": "Luis Chun", "age": 6.0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("with personal data the rows are %#v, want %#v", got, want)
	}
}
