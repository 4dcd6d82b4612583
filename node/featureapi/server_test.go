package featureapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// openNode makes and opens a node in a folder of the test's.
func openNode(t testing.TB, role syncproto.Role, district string) *node.Node {
	t.Helper()
	return nodetest.Open(t, "n1", role, district, nil)
}

// assessment is a damage assessment as a field form sends it.
type assessment struct {
	District, Village string
	Lat, Lon          float64
	Level             int
	At                string // reported_at
	Head              string // head of household: personal
}

func (a assessment) json() string {
	return fmt.Sprintf(`{"district":%q,"village":%q,"lat":%v,"lon":%v,"structure_type":"timber frame","damage_level":%d,"household_size":4,"head_of_household":%q,"reported_by":"vol-007","reported_at":%q}`,
		a.District, a.Village, a.Lat, a.Lon, a.Level, a.Head, a.At)
}

func add(t *testing.T, n *node.Node, a assessment) string {
	t.Helper()
	id, err := n.Add(context.Background(), "damage-assessment", []byte(a.json()), "vol-007")
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func token(t *testing.T, n *node.Node, name string, personal bool) string {
	t.Helper()
	var tok string
	if err := CreateToken(n.Config().DataDir, name, personal, func(s string) error { tok = s; return nil }); err != nil {
		t.Fatal(err)
	}
	return tok
}

// get asks the server for a path as a client would, with the token.
func get(t *testing.T, s *Server, tok, target string) (int, []byte, http.Header) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://api.example"+target, nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes(), w.Header()
}

type page struct {
	Type     string `json:"type"`
	Features []struct {
		ID       string `json:"id"`
		Geometry *struct {
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	NumberMatched  *int   `json:"numberMatched"`
	NumberReturned int    `json:"numberReturned"`
	TimeStamp      string `json:"timeStamp"`
	Links          []link `json:"links"`
}

func getPage(t *testing.T, s *Server, tok, target string) page {
	t.Helper()
	code, body, _ := get(t, s, tok, target)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, code, body)
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("GET %s: %v\n%s", target, err, body)
	}
	return p
}

func (p page) next() string {
	for _, l := range p.Links {
		if l.Rel == "next" {
			return strings.TrimPrefix(l.Href, "https://api.example")
		}
	}
	return ""
}

func ids(p page) []string {
	var out []string
	for _, f := range p.Features {
		out = append(out, f.ID)
	}
	return out
}

// Pages of 7 over 20 records, each page from the last one's next link,
// give every record once, in the order they were stored; every page says
// 20 match.
func TestNextLinksGiveEachRecordOnce(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	var want []string
	for i := range 20 {
		want = append(want, add(t, n, assessment{"Cayo", fmt.Sprintf("v%d", i), 17.1, -89.0, 1, "2024-11-18T14:05:00Z", "A"}))
	}
	s := New(n, nil)
	tok := token(t, n, "gis", false)
	var got []string
	var returned []int
	for target := "/collections/damage-assessment/items?limit=7"; target != ""; {
		p := getPage(t, s, tok, target)
		if p.Type != "FeatureCollection" || p.NumberMatched == nil || *p.NumberMatched != 20 || p.TimeStamp == "" {
			t.Fatalf("page %s: type %q, numberMatched %v, timeStamp %q", target, p.Type, p.NumberMatched, p.TimeStamp)
		}
		if p.NumberReturned != len(p.Features) {
			t.Fatalf("numberReturned %d, %d features", p.NumberReturned, len(p.Features))
		}
		returned = append(returned, p.NumberReturned)
		got = append(got, ids(p)...)
		target = p.next()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged through %d records: %v\nwant the %d stored: %v", len(got), got, len(want), want)
	}
	if !slices.Equal(returned, []int{7, 7, 6}) {
		t.Fatalf("pages of %v, want 7, 7, 6", returned)
	}
}

// A page ends where its records' values reach the bound, whatever the
// limit asked, and its next link gives the rest: 12 records of 2,000
// characters of notes under a bound of 9,000 bytes come 4 to a page (each
// record takes 2,000 bytes and more), each record once.
func TestAPageIsBoundedInBytes(t *testing.T) {
	defer func(old int) { maxPageBytes = old }(maxPageBytes)
	maxPageBytes = 9000
	n := openNode(t, syncproto.RoleHQ, "Belize")
	var want []string
	for i := range 12 {
		a := assessment{"Cayo", fmt.Sprintf("v%d", i), 17.1, -89.0, 1, "2024-11-18T14:05:00Z", "A"}
		doc := strings.TrimSuffix(a.json(), "}") + `,"notes":"` + strings.Repeat("n", 2000) + `"}`
		id, err := n.Add(context.Background(), "damage-assessment", []byte(doc), "vol-007")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id.String())
	}
	s := New(n, nil)
	tok := token(t, n, "gis", false)
	var got []string
	var returned []int
	for target := "/collections/damage-assessment/items?limit=10000"; target != ""; {
		p := getPage(t, s, tok, target)
		returned = append(returned, p.NumberReturned)
		got = append(got, ids(p)...)
		target = p.next()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged through %d records: %v\nwant the %d stored: %v", len(got), got, len(want), want)
	}
	if !slices.Equal(returned, []int{4, 4, 4}) {
		t.Fatalf("pages of %v, want 4, 4, 4", returned)
	}
	code, body, h := get(t, s, tok, "/collections/damage-assessment/items?f=csv&limit=10000")
	if code != http.StatusOK || !strings.Contains(h.Get("Link"), `rel="next"`) || bytes.Count(body, []byte("\n")) > 5 {
		t.Fatalf("CSV of a page over the bound: %d, Link %q, %d lines", code, h.Get("Link"), bytes.Count(body, []byte("\n")))
	}
}

// bbox, datetime and a field's value each keep the records they name,
// and the next link keeps them.
func TestFiltersKeepWhatTheyName(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	records := []assessment{
		{"Cayo", "San Ignacio", 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "A"},
		{"Cayo", "Benque Viejo", 17.07, -89.14, 4, "2024-11-19T09:00:00Z", "B"},
		{"Toledo", "Punta Gorda", 16.10, -88.81, 4, "2024-11-20T10:00:00-06:00", "C"},
		{"Belize", "Belize City", 17.50, -88.20, 1, "2024-11-21T08:00:00Z", "D"},
		{"Stann Creek", "Dangriga", 16.97, -88.22, 3, "2024-11-18T23:59:59Z", "E"},
	}
	var all []string
	for _, a := range records {
		all = append(all, add(t, n, a))
	}
	s := New(n, nil)
	tok := token(t, n, "gis", false)
	pick := func(i ...int) []string {
		var out []string
		for _, j := range i {
			out = append(out, all[j])
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"bbox=-89.2,17.0,-89.0,17.2", pick(0, 1)},                         // western Cayo
		{"bbox=-89.07,17.16,-89.07,17.16", pick(0)},                        // edges are in
		{"bbox=-89.3,15.8,-87.4,18.6", pick(0, 1, 2, 3, 4)},                // all Belize
		{"datetime=2024-11-19T09:00:00Z", pick(1)},                         // an instant
		{"datetime=2024-11-19T00:00:00Z/2024-11-20T16:00:00Z", pick(1, 2)}, // Punta Gorda's 10:00 -06:00 is 16:00 UTC
		{"datetime=../2024-11-18T23:59:59Z", pick(0, 4)},
		{"datetime=2024-11-21T00:00:00Z/..", pick(3)},
		{"district=Cayo", pick(0, 1)},
		{"damage_level=4", pick(1, 2)},
		{"damage_level=4&district=Toledo", pick(2)},
		{"district=Orange%20Walk", nil},
		{"damage_level=4&bbox=-89.2,17.0,-89.0,17.2&datetime=2024-11-19T09:00:00Z", pick(1)},
	} {
		var got []string
		for target := "/collections/damage-assessment/items?limit=1&" + c.query; target != ""; {
			p := getPage(t, s, tok, target)
			if p.NumberMatched != nil {
				t.Fatalf("%s: numberMatched %d, when only reading every record would know it", c.query, *p.NumberMatched)
			}
			got = append(got, ids(p)...)
			target = p.next()
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
}

// Personal fields reach only a token made for them; the others never see
// the field at all, nor may they filter on it.
func TestPersonalFieldsOnlyToTokensMadeForThem(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	id := add(t, n, assessment{"Cayo", "San Ignacio", 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "Maria Pop"})
	s := New(n, nil)
	plain, personal := token(t, n, "plain", false), token(t, n, "case-office", true)
	p := getPage(t, s, plain, "/collections/damage-assessment/items")
	if _, ok := p.Features[0].Properties["head_of_household"]; ok {
		t.Fatalf("a token not made for personal fields reads head_of_household: %v", p.Features[0].Properties)
	}
	if _, ok := p.Features[0].Properties["village"]; !ok {
		t.Fatalf("no village: %v", p.Features[0].Properties)
	}
	code, body, _ := get(t, s, plain, "/collections/damage-assessment/items?head_of_household=Maria%20Pop")
	if code != http.StatusBadRequest || !strings.Contains(string(body), "head_of_household") || !strings.Contains(string(body), "personal") {
		t.Fatalf("filter on a personal field without leave: %d %s", code, body)
	}
	code, body, _ = get(t, s, plain, "/collections/damage-assessment/items/"+id)
	if code != http.StatusOK || strings.Contains(string(body), "Maria") {
		t.Fatalf("one feature to a token not made for personal fields: %d %s", code, body)
	}
	p = getPage(t, s, personal, "/collections/damage-assessment/items?head_of_household=Maria%20Pop")
	if len(p.Features) != 1 || p.Features[0].Properties["head_of_household"] != "Maria Pop" {
		t.Fatalf("a personal token does not read head_of_household: %+v", p.Features)
	}
	// Data of another district this node cannot open is null, never its
	// sealed bytes.
	sv, _ := s.served(mustType(t, n, "damage-assessment"), Token{Personal: true})
	var b bytes.Buffer
	sv.feature(&b, node.RecordView{ID: id, Fields: map[string]any{"head_of_household": node.Withheld{}, "lat": 17.0, "lon": -89.0}})
	var f struct{ Properties map[string]any }
	if err := json.Unmarshal(b.Bytes(), &f); err != nil {
		t.Fatalf("%v: %s", err, b.Bytes())
	}
	if v, ok := f.Properties["head_of_household"]; !ok || v != nil {
		t.Fatalf("a withheld field reads %v (present %v), want null", v, ok)
	}
}

// A relay serves what it keeps: its district's records and national
// ones, whatever district these name (every node keeps them), not
// another district's it happens to hold.
func TestRelayServesWhatItKeeps(t *testing.T) {
	n := openNode(t, syncproto.RoleRelay, "Cayo")
	cayo := add(t, n, assessment{"Cayo", "San Ignacio", 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "A"})
	toledo := add(t, n, assessment{"Toledo", "Punta Gorda", 16.10, -88.81, 4, "2024-11-20T10:00:00Z", "C"})
	var missing []string
	for _, d := range []string{"Cayo", "Toledo"} {
		id, err := n.Add(context.Background(), "missing-person", []byte(`{"full_name":"Ana Cho","district":"`+d+`","last_seen_place":"the market",
			"last_seen_location":{"lat":16.1,"lon":-88.8},"status":"missing","reporter_name":"Luis Cho","reported_at":"2024-11-18T14:05:00Z"}`), "vol-007")
		if err != nil {
			t.Fatal(err)
		}
		missing = append(missing, id.String())
	}
	s := New(n, nil)
	tok := token(t, n, "gis", false)
	p := getPage(t, s, tok, "/collections/damage-assessment/items")
	if !slices.Equal(ids(p), []string{cayo}) || p.NumberMatched == nil || *p.NumberMatched != 1 {
		t.Fatalf("a Cayo relay serves %v (numberMatched %v), want only %s", ids(p), p.NumberMatched, cayo)
	}
	if code, _, _ := get(t, s, tok, "/collections/damage-assessment/items/"+toledo); code != http.StatusNotFound {
		t.Fatalf("a Cayo relay serves Toledo's record alone: %d", code)
	}
	p = getPage(t, s, tok, "/collections/missing-person/items")
	if !slices.Equal(ids(p), missing) || p.NumberMatched == nil || *p.NumberMatched != 2 {
		t.Fatalf("a Cayo relay serves the missing persons %v (numberMatched %v), want both it keeps, %v", ids(p), p.NumberMatched, missing)
	}
	if code, body, _ := get(t, s, tok, "/collections/missing-person/items/"+missing[1]); code != http.StatusOK {
		t.Fatalf("a Cayo relay does not serve a missing person reported in Toledo: %d %s", code, body)
	}
}

// CSV for spreadsheets: the same records, defused as record export does:
// a cell that would run as a formula is text, a negative number stays a
// number.
func TestCSVDefusesFormulas(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	id := add(t, n, assessment{"Cayo", `=HYPERLINK("http://evil","x")`, 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "A"})
	s := New(n, nil)
	tok := token(t, n, "excel", false)
	code, body, h := get(t, s, tok, "/collections/damage-assessment/items?f=csv")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("f=csv: %d %s %s", code, h.Get("Content-Type"), body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v:\n%s", len(rows), err, body)
	}
	col := func(name string) string {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("no column %s in %v", name, rows[0])
		}
		return rows[1][i]
	}
	if col("id") != id || col("village") != `'=HYPERLINK("http://evil","x")` || col("lon") != "-89.07" || col("lat") != "17.16" || col("damage_level") != "2" {
		t.Fatalf("row %v", rows[1])
	}
	if slices.Contains(rows[0], "head_of_household") {
		t.Fatalf("personal column for a plain token: %v", rows[0])
	}
}

// Requests without a token, with a wrong one, or with one revoked while
// the server runs are refused with 401 and a message saying what to send.
func TestTokensRequiredAndRevokedAtOnce(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	s := New(n, nil)
	tok := token(t, n, "gis", false)
	for _, bad := range []string{"", "lifeline-api-AAAA", strings.Repeat("x", 10000), tok + "x"} {
		code, body, h := get(t, s, bad, "/collections")
		if code != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" || !strings.Contains(string(body), `"code":"Unauthorized"`) {
			t.Fatalf("token %.20q: %d %s", bad, code, body)
		}
		if strings.Contains(string(body), tok) {
			t.Fatal("the refusal shows the token")
		}
	}
	if code, _, _ := get(t, s, tok, "/collections"); code != http.StatusOK {
		t.Fatalf("a good token: %d", code)
	}
	if err := RevokeToken(n.Config().DataDir, "gis"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, s, tok, "/collections"); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d", code)
	}
	info, err := os.Stat(filepath.Join(n.Config().DataDir, TokensFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("tokens file: %v %v", info.Mode(), err)
	}
}

// What a GIS client reads first: the landing page's links, conformance,
// the OpenAPI document, and the collections with Belize's extent.
func TestLandingConformanceAndCollections(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	s := New(n, nil)
	tok := token(t, n, "gis", false)
	var land struct{ Links []link }
	_, body, _ := get(t, s, tok, "/")
	json.Unmarshal(body, &land)
	rels := map[string]string{}
	for _, l := range land.Links {
		rels[l.Rel] = l.Href
	}
	for rel, want := range map[string]string{"self": "https://api.example/", "service-desc": "https://api.example/api", "conformance": "https://api.example/conformance", "data": "https://api.example/collections"} {
		if rels[rel] != want {
			t.Errorf("landing link %s: %q, want %q", rel, rels[rel], want)
		}
	}
	var conf struct{ ConformsTo []string }
	_, body, _ = get(t, s, tok, "/conformance")
	json.Unmarshal(body, &conf)
	if !slices.Contains(conf.ConformsTo, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core") || !slices.Contains(conf.ConformsTo, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson") {
		t.Errorf("conformance: %v", conf.ConformsTo)
	}
	var api struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	_, body, h := get(t, s, tok, "/api")
	json.Unmarshal(body, &api)
	if !strings.HasPrefix(api.OpenAPI, "3.0") || api.Paths["/collections/{collectionId}/items"] == nil || !strings.Contains(h.Get("Content-Type"), "openapi") {
		t.Errorf("/api: %s", body)
	}
	var cols struct {
		Collections []struct {
			ID     string
			Title  string
			Extent struct{ Spatial struct{ Bbox [][]float64 } }
			Links  []link
		}
	}
	_, body, _ = get(t, s, tok, "/collections")
	json.Unmarshal(body, &cols)
	var names []string
	for _, c := range cols.Collections {
		names = append(names, c.ID)
		if c.ID == "damage-assessment" {
			if c.Title != "Building damage assessment" || len(c.Extent.Spatial.Bbox) != 1 || !slices.Equal(c.Extent.Spatial.Bbox[0], []float64{-89.25, 15.85, -87.45, 18.5}) {
				t.Errorf("damage-assessment: %+v", c)
			}
		}
	}
	// Every type with a location, and no other: a shelter registration
	// has none.
	for _, want := range []string{"damage-assessment", "missing-person", "shelter"} {
		if !slices.Contains(names, want) {
			t.Errorf("collections %v lack %s", names, want)
		}
	}
	if slices.Contains(names, "shelter-registration") {
		t.Errorf("collections %v list a type without a location", names)
	}
}

// Whatever the query or path, the server answers with a clear refusal
// that says what is wrong, and never panics.
func TestMalformedRequestsRefused(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	id := add(t, n, assessment{"Cayo", "San Ignacio", 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "A"})
	s := New(n, nil)
	tok := token(t, n, "gis", false)
	items := "/collections/damage-assessment/items?"
	for _, c := range []struct {
		target string
		code   int
		says   string
	}{
		{items + "limit=0", 400, "limit"},
		{items + "limit=-3", 400, "limit"},
		{items + "limit=10001", 400, "1 to 10000"},
		{items + "limit=99999999999999999999999", 400, "limit"},
		{items + "limit=abc", 400, "limit"},
		{items + "limit=5&limit=6", 400, "at most once"},
		{items + "bbox=1,2,3", 400, "4 numbers"},
		{items + "bbox=-89,17,-88,NaN", 400, "not a number"},
		{items + "bbox=-89,17,-88,95", 400, "latitude"},
		{items + "bbox=-88,17,-89,18", 400, "east of"},
		{items + "bbox=-200,17,-88,18", 400, "longitude"},
		{items + "bbox-crs=EPSG:4326", 400, "CRS84"},
		{items + "datetime=yesterday", 400, "RFC 3339"},
		{items + "datetime=../..", 400, "open at both ends"},
		{items + "datetime=2024-11-20T00:00:00Z/2024-11-19T00:00:00Z", 400, "ends before"},
		{items + "cursor=not-a-cursor", 400, "cursor"},
		{items + "cursor=" + Cursor(syncproto.NewRecordID()), 400, "names no record"},
		{items + "colour=red", 400, "colour"},
		{items + "photos=x", 400, "photo"},
		{items + "f=xml", 400, "json or csv"},
		{items + "%zz", 400, "not a URL query"},
		{items + strings.Repeat("a", 5000) + "=1", 400, "more than"},
		{items + "district=" + strings.Repeat("C", 300), 400, "more than"},
		{"/collections/nothing/items", 404, "nothing"},
		{"/collections/shelter-registration/items", 404, "no collection"},
		{"/collections/damage-assessment/items/not-an-id", 404, "no feature"},
		{"/collections/damage-assessment/items/" + syncproto.NewRecordID().String(), 404, "no feature"},
		{"/collections/missing-person/items/" + id, 404, "no feature"},
		{"/collections/damage-assessment/items/" + id + "/more", 404, "no such path"},
		{"/collections/damage-assessment/things", 404, "no such path"},
		{"/collections/..%2f..%2fapi", 404, "no such path"},
		{"/collections/%2e%2e/items", 404, "no such path"},
		{"/collections//items", 404, "no such path"},
		{"/etc/passwd", 404, "no such path"},
		{"/" + strings.Repeat("a/", 400), 404, "no such path"},
		{"/?limit=3", 400, "no parameters"},
	} {
		code, body, h := get(t, s, tok, c.target)
		if code != c.code || !strings.Contains(string(body), c.says) || h.Get("Content-Type") != "application/json" {
			t.Errorf("GET %.80s: %d %s, want %d saying %s", c.target, code, body, c.code, c.says)
		}
		var e struct{ Code, Description string }
		if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Description == "" {
			t.Errorf("GET %.80s: not an OGC exception: %s", c.target, body)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/collections", strings.NewReader("{}"))
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", w.Code)
	}
}

func mustType(t *testing.T, n *node.Node, name string) *schemas.Type {
	t.Helper()
	typ, err := n.Type(name)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// FuzzRequests: whatever path and query a request has, with a good token
// or none, the server answers with a status it means, and never panics.
func FuzzRequests(f *testing.F) {
	n := openNode(f, syncproto.RoleHQ, "Belize")
	if _, err := n.Add(context.Background(), "damage-assessment", []byte(assessment{"Cayo", "San Ignacio", 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "A"}.json()), "vol-007"); err != nil {
		f.Fatal(err)
	}
	var tok string
	if err := CreateToken(n.Config().DataDir, "fuzz", true, func(s string) error { tok = s; return nil }); err != nil {
		f.Fatal(err)
	}
	s := New(n, nil)
	for _, seed := range []string{"/", "/api", "/collections", "/collections/damage-assessment/items?limit=1&bbox=-90,15,-87,19",
		"/collections/damage-assessment/items?datetime=../2025-01-01T00:00:00Z&district=Cayo&f=csv", "/collections/x/items/y", "/collections/%2e%2e"} {
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, target string, withToken bool) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		r, err := http.NewRequest(http.MethodGet, "https://api.example"+target, nil)
		if err != nil {
			return
		}
		if withToken {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 401, 404:
		default:
			t.Fatalf("GET %q: %d %s", target, w.Code, w.Body)
		}
	})
}

// A tokens file that others may write, put back from a backup under
// umask 000 say, is refused: another user of the relay could add a
// token of their own and read every personal value the node opens. The
// node's own token stops working too, until the file is its owner's
// alone again.
func TestATokensFileOthersMayChangeIsRefused(t *testing.T) {
	n := openNode(t, syncproto.RoleHQ, "Belize")
	id := add(t, n, assessment{"Cayo", "San Ignacio", 17.16, -89.07, 2, "2024-11-18T14:05:00Z", "Maria Pop"})
	s := New(n, nil)
	mine := token(t, n, "gis", false)
	path := filepath.Join(n.Config().DataDir, TokensFile)
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	// The other user writes a token of their own in it.
	theirs := "lifeline-api-" + strings.Repeat("A", 43)
	sum := sha256.Sum256([]byte(theirs))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list []Token
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	list = append(list, Token{Name: "theirs", SHA256: hex.EncodeToString(sum[:]), Personal: true})
	if data, err = json.Marshal(list); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}

	for _, tok := range []string{theirs, mine} {
		code, body, _ := get(t, s, tok, "/collections/damage-assessment/items/"+id)
		if code != http.StatusInternalServerError || strings.Contains(string(body), "Maria") {
			t.Fatalf("a tokens file others may write: %d %s", code, body)
		}
	}
	if _, err := ListTokens(n.Config().DataDir); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("listing the tokens of a file others may write: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, s, mine, "/collections/damage-assessment/items/"+id); code != http.StatusOK {
		t.Fatalf("once the file is its owner's alone: %d %s", code, body)
	}
}
