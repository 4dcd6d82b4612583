package featureapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"lifeline/node"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// served is what a request reads of a type: the fields it may read, in
// the kit's order, where a record is, and which field datetime filters on.
type served struct {
	t      *schemas.Type
	fields []*schemas.Field
	where  func(map[string]any) (lat, lon float64, ok bool)
	geo    string // the geo field that is the geometry, left out of the properties
	time   string
	scopes []uint8 // nil: every scope
}

func (s *Server) served(t *schemas.Type, tok Token) (*served, *apiError) {
	opts := node.ExportOptions{Personal: tok.Personal}
	where, err := node.Locate(t, opts)
	if err != nil {
		return nil, refuse(http.StatusNotFound, "NotFound", "no collection %s here", quote(t.Name))
	}
	sv := &served{t: t, where: where, time: timeField(t), scopes: s.node.Scopes()}
	for _, f := range t.Fields {
		if f.Personal && !tok.Personal || f.Type == schemas.Repeat {
			continue
		}
		if f.Type == schemas.Geo && sv.geo == "" {
			sv.geo = f.Name
			continue
		}
		sv.fields = append(sv.fields, f)
	}
	return sv, nil
}

// filterable says why a property cannot be filtered on, "" when it can.
func (sv *served) filterable(tok Token) func(string) string {
	return func(name string) string {
		f, ok := sv.t.Field(name)
		switch {
		case !ok:
			return fmt.Sprintf("is no parameter of this API and no field of %s (its kit lists them; GET /api lists the parameters)", sv.t.Name)
		case f.Personal && !tok.Personal:
			return "is a personal field, which this token may not read"
		case f.Type == schemas.Repeat || f.Type == schemas.Geo || f.Type == schemas.Photo:
			return fmt.Sprintf("is a %s field, which the API does not filter on", f.Type)
		}
		return ""
	}
}

// kept reports whether the node serves the record: a relay serves the
// records of the scopes it keeps (its district and national), HQ all.
// Every node keeps a national type's records, whatever district they
// name.
func (sv *served) kept(v node.RecordView) bool {
	if sv.scopes == nil || sv.t.National() {
		return true
	}
	d, _ := v.Fields["district"].(string)
	return slices.Contains(sv.scopes, schemas.DistrictScope(d))
}

// matches reports whether a record is one the params select.
func (sv *served) matches(v node.RecordView, p Params) bool {
	if !sv.kept(v) {
		return false
	}
	if p.BBox != nil {
		lat, lon, ok := sv.where(v.Fields)
		if !ok || !p.InBBox(lon, lat) {
			return false
		}
	}
	if p.HasTime {
		at, ok := sv.instant(v)
		if !ok || !p.InTime(at) {
			return false
		}
	}
	for _, f := range p.Filters {
		if !valueIs(v.Fields[f.Name], f.Value) {
			return false
		}
	}
	return true
}

// instant is the record's time that datetime filters on.
func (sv *served) instant(v node.RecordView) (time.Time, bool) {
	s := v.Updated
	if sv.time != "" {
		s, _ = v.Fields[sv.time].(string)
	}
	at, err := time.Parse(time.RFC3339Nano, s)
	return at, err == nil
}

// valueIs reports whether a field's value reads want: a text or a choice
// as written, a number as written in JSON, yes/no as true or false, a
// list when one of its items is want.
func valueIs(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return x == want
	case bool:
		return strconv.FormatBool(x) == want
	case int64:
		n, err := strconv.ParseInt(want, 10, 64)
		return err == nil && n == x
	case uint64:
		n, err := strconv.ParseUint(want, 10, 64)
		return err == nil && n == x
	case float64:
		f, err := strconv.ParseFloat(want, 64)
		return err == nil && f == x
	case []any:
		return slices.ContainsFunc(x, func(e any) bool { return valueIs(e, want) })
	}
	return false
}

// items answers /collections/{id}/items: a page of features, or of CSV
// rows, after the cursor.
func (s *Server) items(w http.ResponseWriter, r *http.Request, base string, t *schemas.Type, tok Token) *apiError {
	sv, e := s.served(t, tok)
	if e != nil {
		return e
	}
	p, err := ParseParams(r.URL.RawQuery, sv.filterable(tok))
	if err != nil {
		return refuse(http.StatusBadRequest, "InvalidParameterValue", "%s", err.Error())
	}
	ctx := r.Context()
	var page []node.RecordView
	more, held := false, 0
	for v, err := range s.node.Records(ctx, node.Query{Type: t.Name, After: p.After}) {
		if errors.Is(err, store.ErrNotFound) {
			return refuse(http.StatusBadRequest, "InvalidParameterValue", "parameter cursor: %s names no record here (take the next link as it is)", quote(Cursor(p.After)))
		}
		if err != nil {
			return s.serverError(ctx, err)
		}
		if !sv.matches(v, p) {
			continue
		}
		size := viewBytes(v)
		if len(page) == p.Limit || len(page) > 0 && held+size > maxPageBytes {
			more = true
			break
		}
		page = append(page, v)
		held += size
	}
	self := base + "/collections/" + t.Name + "/items"
	next := ""
	if more {
		q := r.URL.Query()
		q.Set("cursor", Cursor(mustID(page[len(page)-1].ID)))
		next = self + "?" + q.Encode()
	}
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	matched := -1
	if !p.Filtered() {
		if matched, err = s.count(ctx, sv); err != nil {
			return s.serverError(ctx, err)
		}
	}
	if p.CSV {
		if next != "" {
			w.Header().Set("Link", "<"+next+`>; rel="next"`)
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+t.Name+`.csv"`)
		writeBody(w, http.StatusOK, sv.csv(page))
		return nil
	}
	// Written as it is made: the records are read, so nothing fails now
	// but the client.
	w.Header().Set("Content-Type", "application/geo+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, v := range page {
		buf.Reset()
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		sv.feature(&buf, v)
		bw.Write(buf.Bytes())
	}
	bw.WriteString("\n],")
	if matched >= 0 {
		fmt.Fprintf(bw, `"numberMatched":%d,`, matched)
	}
	fmt.Fprintf(bw, `"numberReturned":%d,"timeStamp":%q,"links":`, len(page), time.Now().UTC().Format(time.RFC3339))
	links := []link{{Href: self, Rel: "self", Type: "application/geo+json", Title: "this page"}}
	if next != "" {
		links = append(links, link{Href: next, Rel: "next", Type: "application/geo+json", Title: "the next page"})
	}
	lj, _ := json.Marshal(links)
	bw.Write(lj)
	bw.WriteString("}\n")
	bw.Flush()
	return nil
}

// maxPageBytes bounds the values a page holds, whatever its limit: a
// record may hold 200 rows of long texts, and 10,000 such records read
// into one page would take gigabytes of the node's memory. A page that
// reaches it ends early, with a next link, as a page may; one record
// alone is always served.
var maxPageBytes = 32 << 20

// viewBytes is about how many bytes the values of v take: its texts and
// their names, and a word for every other value.
func viewBytes(v node.RecordView) int {
	n := len(v.ID) + len(v.Case) + len(v.Updated)
	for k, x := range v.Fields {
		n += len(k) + valueBytes(x)
	}
	return n
}

func valueBytes(x any) int {
	switch x := x.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	case []any:
		n := 0
		for _, e := range x {
			n += valueBytes(e)
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range x {
			n += len(k) + valueBytes(e)
		}
		return n
	}
	return 8
}

func mustID(s string) syncproto.RecordID {
	id, _ := syncproto.ParseRecordID(s)
	return id
}

// count is how many records of the type the node serves, from the
// totals the store keeps (the report's), not by reading the records.
func (s *Server) count(ctx context.Context, sv *served) (int, error) {
	rep, err := s.node.Report(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range rep.Districts {
		if sv.scopes == nil || sv.t.National() || slices.Contains(sv.scopes, schemas.DistrictScope(d.District)) {
			n += d.Records[sv.t.Name]
		}
	}
	return n, nil
}

func (s *Server) serverError(ctx context.Context, err error) *apiError {
	if ctx.Err() == nil {
		s.log.Error("feature API", "err", err)
	}
	return refuse(http.StatusInternalServerError, "ServerError", "the server could not read its records; its log says why")
}

// feature answers /collections/{id}/items/{featureId}.
func (s *Server) feature(w http.ResponseWriter, r *http.Request, base string, t *schemas.Type, tok Token, fid string) *apiError {
	sv, e := s.served(t, tok)
	if e != nil {
		return e
	}
	if r.URL.RawQuery != "" && !formatOnly(r) {
		return refuse(http.StatusBadRequest, "InvalidParameterValue", "a feature takes no parameters but f=json")
	}
	notFound := refuse(http.StatusNotFound, "NotFound", "no feature %s in %s", quote(fid), t.Name)
	id, err := syncproto.ParseRecordID(fid)
	if err != nil {
		return notFound
	}
	v, err := s.node.RecordBrief(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return s.serverError(r.Context(), err)
	}
	if v.Type != t.Name || v.Deleted || !sv.kept(v) {
		return notFound
	}
	var buf bytes.Buffer
	sv.feature(&buf, v)
	buf.Truncate(buf.Len() - 1) // the feature's closing brace
	u := base + "/collections/" + t.Name
	lj, _ := json.Marshal([]link{
		{Href: u + "/items/" + v.ID, Rel: "self", Type: "application/geo+json"},
		{Href: u, Rel: "collection", Type: "application/json"},
	})
	buf.WriteString(`,"links":`)
	buf.Write(lj)
	buf.WriteString("}\n")
	w.Header().Set("Content-Type", "application/geo+json")
	writeBody(w, http.StatusOK, buf.Bytes())
	return nil
}

// feature writes a record as a GeoJSON feature, without its closing
// brace: a point (null where the record has no location), and as
// properties its case number, when it last changed, how many of its
// fields are in conflict, and every field served, in the kit's order (null
// when not set, or personal data this node holds no key to open).
func (sv *served) feature(buf *bytes.Buffer, v node.RecordView) {
	buf.WriteString(`{"type":"Feature","id":`)
	appendJSON(buf, v.ID)
	buf.WriteString(`,"geometry":`)
	if lat, lon, ok := sv.where(v.Fields); ok {
		buf.WriteString(`{"type":"Point","coordinates":[`)
		buf.WriteString(strconv.FormatFloat(lon, 'f', -1, 64))
		buf.WriteByte(',')
		buf.WriteString(strconv.FormatFloat(lat, 'f', -1, 64))
		buf.WriteString("]}")
	} else {
		buf.WriteString("null")
	}
	buf.WriteString(`,"properties":{"case":`)
	appendJSON(buf, v.Case)
	buf.WriteString(`,"updated":`)
	appendJSON(buf, v.Updated)
	buf.WriteString(`,"conflicts":`)
	buf.WriteString(strconv.Itoa(len(v.Conflicts)))
	for _, f := range sv.fields {
		buf.WriteByte(',')
		appendJSON(buf, f.Name)
		buf.WriteByte(':')
		x := v.Fields[f.Name]
		if _, withheld := x.(node.Withheld); withheld {
			x = nil
		}
		appendJSON(buf, x)
	}
	buf.WriteString("}}")
}

// appendJSON writes a value as JSON: numbers, yes/no and null directly,
// the rest through encoding/json.
func appendJSON(buf *bytes.Buffer, v any) {
	var scratch [32]byte
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
		return
	case bool:
		buf.Write(strconv.AppendBool(scratch[:0], x))
		return
	case int64:
		buf.Write(strconv.AppendInt(scratch[:0], x, 10))
		return
	case uint64:
		buf.Write(strconv.AppendUint(scratch[:0], x, 10))
		return
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			buf.Write(strconv.AppendFloat(scratch[:0], x, 'f', -1, 64))
			return
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("null")
	}
	buf.Write(b)
}

// csv writes the records as ExportCSV does, defused alike: a header,
// then a row per record of its id, case, when it last changed, longitude
// and latitude, and the fields served.
func (sv *served) csv(page []node.RecordView) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	row := []string{"id", "case", "updated", "lon", "lat"}
	for _, f := range sv.fields {
		row = append(row, f.Name)
	}
	for i := range row {
		row[i] = node.Defuse(row[i])
	}
	cw.Write(row)
	for _, v := range page {
		row = append(row[:0], node.CSVCell(v.ID), node.CSVCell(v.Case), node.CSVCell(v.Updated))
		if lat, lon, ok := sv.where(v.Fields); ok {
			row = append(row, node.CSVCell(lon), node.CSVCell(lat))
		} else {
			row = append(row, "", "")
		}
		for _, f := range sv.fields {
			x := v.Fields[f.Name]
			if _, withheld := x.(node.Withheld); withheld {
				x = nil
			}
			row = append(row, node.CSVCell(x))
		}
		cw.Write(row)
	}
	cw.Flush()
	return buf.Bytes()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"ServerError","description":"the answer could not be written"}`)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	writeBody(w, status, append(b, '\n'))
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// openAPI is a small OpenAPI 3.0 document of the API's paths and
// parameters.
func openAPI(base string) []byte {
	param := func(name, in, desc string, schema map[string]any, required bool) map[string]any {
		return map[string]any{"name": name, "in": in, "description": desc, "required": required, "schema": schema}
	}
	str := map[string]any{"type": "string"}
	collectionID := param("collectionId", "path", "a record type", str, true)
	resp := func(desc, typ string) map[string]any {
		return map[string]any{"200": map[string]any{"description": desc, "content": map[string]any{typ: map[string]any{}}},
			"default": map[string]any{"description": "an error: {code, description}"}}
	}
	get := func(summary string, params []any, desc, typ string) map[string]any {
		return map[string]any{"get": map[string]any{"summary": summary, "parameters": params, "responses": resp(desc, typ)}}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Lifeline records", "version": "1.0", "description": "Read-only OGC API - Features of NEMO Belize's records. Every request needs Authorization: Bearer TOKEN."},
		"servers": []any{map[string]any{"url": base}},
		"components": map[string]any{"securitySchemes": map[string]any{
			"token": map[string]any{"type": "http", "scheme": "bearer"}}},
		"security": []any{map[string]any{"token": []any{}}},
		"paths": map[string]any{
			"/":                           get("landing page", nil, "links to the API's parts", "application/json"),
			"/conformance":                get("conformance classes", nil, "the standards this API conforms to", "application/json"),
			"/api":                        get("this document", nil, "OpenAPI 3.0", "application/vnd.oai.openapi+json;version=3.0"),
			"/collections":                get("the record types", nil, "the collections", "application/json"),
			"/collections/{collectionId}": get("a record type", []any{collectionID}, "the collection", "application/json"),
			"/collections/{collectionId}/items": get("the records of a type, a page at a time", []any{
				collectionID,
				param("limit", "query", "records per page", map[string]any{"type": "integer", "minimum": 1, "maximum": MaxLimit, "default": DefaultLimit}, false),
				param("bbox", "query", "min longitude, min latitude, max longitude, max latitude (WGS 84)", map[string]any{"type": "array", "minItems": 4, "maxItems": 4, "items": map[string]any{"type": "number"}}, false),
				param("datetime", "query", "an RFC 3339 instant, or an interval start/end with .. for an open end, on the type's time field", str, false),
				param("cursor", "query", "where the page starts: take the next link as it is", str, false),
				param("f", "query", "json (GeoJSON, the default) or csv", map[string]any{"type": "string", "enum": []string{"json", "csv"}}, false),
			}, "a page of features; other parameters name a field of the type and keep the records whose field reads that value", "application/geo+json"),
			"/collections/{collectionId}/items/{featureId}": get("one record", []any{collectionID, param("featureId", "path", "a record's id", str, true)}, "the feature", "application/geo+json"),
		},
	}
	b, _ := json.Marshal(doc)
	return append(b, '\n')
}
