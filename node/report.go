package node

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"lifeline/node/atomicfile"
	"lifeline/node/photos"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// The record types and values the report reads, as the kits name them.
const (
	typeDamage       = "damage-assessment"
	typeShelter      = "shelter"
	typeRegistration = "shelter-registration"
	typeMissing      = "missing-person"

	// A full shelter still shelters people: it counts as open.
	shelterOpen = "open"
	shelterFull = "full"

	stillMissing = "missing"
)

// Report is what headquarters reads at a glance: per district, the records
// held, the homes damaged, the people displaced and sheltered, and the
// people still missing. Deleted records are not counted; a field in
// conflict counts with the value that wins until someone decides.
type Report struct {
	At string `json:"at"` // when the report was made, RFC 3339 in UTC
	// Districts are Belize's six districts in order, then, if any record
	// names no district, the row for those (District "").
	Districts []DistrictReport `json:"districts"`
	Total     DistrictReport   `json:"total"`
}

// DamageLevels are the steps of the damage scale: 0 none, 1 minor,
// 2 moderate, 3 severe (unsafe to live in), 4 destroyed.
const DamageLevels = 5

// DistrictReport is one district's row of a report.
type DistrictReport struct {
	// District is one of schemas.Districts, or "" for the records that
	// name none (and in a report's Total).
	District string `json:"district"`
	// Records counts records per type.
	Records map[string]int `json:"records"`
	// Conflicts counts records with a field in conflict.
	Conflicts int `json:"conflicts"`
	// Damage counts buildings assessed, by damage level.
	Damage [DamageLevels]int `json:"damage_levels"`
	// Displaced is the occupants of buildings whose household is displaced.
	Displaced int `json:"displaced_people"`
	// Shelters counts shelters; SheltersOpen those open or full.
	Shelters     int `json:"shelters"`
	SheltersOpen int `json:"shelters_open"`
	// Occupancy and Capacity are summed over the district's shelters.
	Occupancy int `json:"shelter_occupancy"`
	Capacity  int `json:"shelter_capacity"`
	// Families registered at a shelter that have not left, and their
	// members.
	Families int `json:"families_sheltered"`
	People   int `json:"people_sheltered"`
	// Missing counts missing persons not yet found.
	Missing int `json:"missing_persons_open"`
}

// Severe is the number of buildings at damage level 3 or 4: homes people
// cannot go back to.
func (d DistrictReport) Severe() int { return d.Damage[3] + d.Damage[4] }

// Report counts what the node holds, per district. It reads the totals
// the store keeps up to date as records change (see reportTally), not the
// records.
func (n *Node) Report(ctx context.Context) (Report, error) {
	counts, err := n.store.Tallies(ctx)
	if err != nil {
		return Report{}, err
	}
	rows := map[string]*DistrictReport{}
	row := func(district string) *DistrictReport {
		r := rows[district]
		if r == nil {
			r = &DistrictReport{District: district, Records: map[string]int{}}
			rows[district] = r
		}
		return r
	}
	for _, d := range schemas.Districts {
		row(d)
	}
	for _, c := range counts {
		row(c.Scope).addCount(c)
	}
	rep := Report{At: time.Now().UTC().Format(time.RFC3339), Total: DistrictReport{Records: map[string]int{}}}
	for _, d := range append(slices.Clone(schemas.Districts), "") {
		r := rows[d]
		if r == nil {
			continue
		}
		rep.Districts = append(rep.Districts, *r)
		rep.Total.add(*r)
	}
	return rep, nil
}

// reportTally is what each record adds to the report, by district and
// type: the one definition of it, which the store applies as records
// change and when it computes the totals again. Change Version with it.
var reportTally = &store.Tally{Version: 1, Count: reportCounts}

// The names of the report's totals.
const (
	countRecords      = "records"
	countConflicts    = "conflicts"
	countDamage       = "damage_level_" // and the level
	countDisplaced    = "displaced_people"
	countShelters     = "shelters"
	countSheltersOpen = "shelters_open"
	countOccupancy    = "shelter_occupancy"
	countCapacity     = "shelter_capacity"
	countFamilies     = "families_sheltered"
	countPeople       = "people_sheltered"
	countMissing      = "missing_persons_open"
)

// reportCounts is what one record adds to the report. Deleted records add
// nothing; a field in conflict counts with the value that wins, and the
// record counts among those in conflict (even where the winning version
// cleared the field: people still disagree about it). Values
// are read without the kits, so that a record counts the same whichever
// kits the node holds when it changes: numbers as integers (a cleared
// number reads 0, as the kits' integer fields read it), text and yes/no
// as written.
func reportCounts(r *store.Record) []store.Count {
	if r.Deleted {
		return nil
	}
	win := make(map[string][]byte, len(r.Fields))
	for _, f := range r.Fields {
		win[f.Name] = f.Versions[0].Value
	}
	district, _ := schemas.District(textOf(win["district"]))
	var out []store.Count
	add := func(name string, n int) {
		if n != 0 {
			out = append(out, store.Count{Scope: district, Type: r.Type, Name: name, N: int64(n)})
		}
	}
	add(countRecords, 1)
	if r.Conflicts > 0 {
		add(countConflicts, 1)
	}
	switch r.Type {
	case typeDamage:
		if level, ok := integerOf(win["damage_level"]); ok && level >= 0 && level < DamageLevels {
			add(countDamage+strconv.Itoa(level), 1)
		}
		if v, _ := decodeAny(win["displaced"]); v == true {
			size, _ := integerOf(win["household_size"])
			add(countDisplaced, size)
		}
	case typeShelter:
		add(countShelters, 1)
		if s := textOf(win["status"]); s == shelterOpen || s == shelterFull {
			add(countSheltersOpen, 1)
		}
		occupancy, _ := integerOf(win["occupancy"])
		capacity, _ := integerOf(win["capacity"])
		add(countOccupancy, occupancy)
		add(countCapacity, capacity)
	case typeRegistration:
		if textOf(win["departed_at"]) == "" {
			members, _ := integerOf(win["members"])
			add(countFamilies, 1)
			add(countPeople, members)
		}
	case typeMissing:
		if textOf(win["status"]) == stillMissing {
			add(countMissing, 1)
		}
	}
	return out
}

// addCount adds one of the store's totals to the row.
func (r *DistrictReport) addCount(c store.Count) {
	n := int(c.N)
	switch c.Name {
	case countRecords:
		r.Records[c.Type] += n
	case countConflicts:
		r.Conflicts += n
	case countDisplaced:
		r.Displaced += n
	case countShelters:
		r.Shelters += n
	case countSheltersOpen:
		r.SheltersOpen += n
	case countOccupancy:
		r.Occupancy += n
	case countCapacity:
		r.Capacity += n
	case countFamilies:
		r.Families += n
	case countPeople:
		r.People += n
	case countMissing:
		r.Missing += n
	default:
		if l, ok := strings.CutPrefix(c.Name, countDamage); ok {
			if level, err := strconv.Atoi(l); err == nil && level >= 0 && level < DamageLevels {
				r.Damage[level] += n
			}
		}
	}
}

// decodeAny decodes a stored value; nil when absent, cleared or unreadable.
func decodeAny(raw []byte) (any, bool) {
	if raw == nil {
		return nil, false
	}
	v, err := schemas.DecodeAny(raw)
	return v, err == nil && v != nil
}

func textOf(raw []byte) string {
	v, _ := decodeAny(raw)
	return text(v)
}

// integerOf reads a stored value as a kit's integer field reads it.
func integerOf(raw []byte) (int, bool) {
	if raw == nil {
		return 0, false
	}
	var i int64
	if err := syncproto.Unmarshal(raw, &i); err == nil {
		return int(i), true
	}
	v, _ := decodeAny(raw)
	return integer(v)
}

// add sums another row into this one.
func (r *DistrictReport) add(o DistrictReport) {
	for t, c := range o.Records {
		r.Records[t] += c
	}
	r.Conflicts += o.Conflicts
	for i, c := range o.Damage {
		r.Damage[i] += c
	}
	r.Displaced += o.Displaced
	r.Shelters += o.Shelters
	r.SheltersOpen += o.SheltersOpen
	r.Occupancy += o.Occupancy
	r.Capacity += o.Capacity
	r.Families += o.Families
	r.People += o.People
	r.Missing += o.Missing
}

// text is a decoded value that is a string, else "".
func text(v any) string {
	s, _ := v.(string)
	return s
}

// integer is a decoded whole number. A value written under another schema
// version may decode as unsigned.
func integer(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case uint64:
		return int(x), true
	}
	return 0, false
}

// ExportOptions choose what an export includes.
type ExportOptions struct {
	// Personal includes the fields a kit marks personal: names, phone
	// numbers, medical needs. An export leaves the node's protection, so
	// by default they stay out.
	Personal bool
	// Photo, if not nil, is given each photo reference of each record
	// written, in a field the export includes (a repeat row's too), so
	// that the caller can write the photos beside the records.
	Photo func(ref string)
}

// PhotosExported says what ExportPhotos wrote, and what it could not.
type PhotosExported struct {
	Full   int // full images written, as <id>.jpg
	Thumbs int // thumbnails only, as <id>.thumb.jpg: the full image is not here
	// Absent are the ids of the photos this node holds nothing of yet.
	Absent []string
	// NotIDs are references that are no photo id (file names an older
	// form kept), made printable.
	NotIDs []string
}

// ExportPhotos writes the photos refs name (each once) into dir, made if
// need be and readable by its owner only, as an export's file is: a full
// image as <id>.jpg, whose SHA-256 is its name; a photo of which only the
// thumbnail is here as <id>.thumb.jpg, named so that no one takes it for
// the photo. Each file is written whole or not at all. A folder in the
// data folder is refused (CheckExportPath).
func (n *Node) ExportPhotos(ctx context.Context, refs []string, dir string) (PhotosExported, error) {
	var res PhotosExported
	if err := n.checkExportFolder(dir, dir); err != nil {
		return res, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if photos.ValidID(ref) != nil {
			res.NotIDs = append(res.NotIDs, Printable(ref))
			continue
		}
		wrote, err := n.exportPhoto(ref, false, filepath.Join(dir, ref+".jpg"))
		if err == nil && wrote {
			res.Full++
			continue
		}
		if err == nil {
			wrote, err = n.exportPhoto(ref, true, filepath.Join(dir, ref+".thumb.jpg"))
		}
		switch {
		case err != nil:
			return res, fmt.Errorf("photo %s: %w", ref, err)
		case wrote:
			res.Thumbs++
		default:
			res.Absent = append(res.Absent, ref)
		}
	}
	return res, nil
}

// exportPhoto writes a photo's full image, or its thumbnail, to path. It
// reports false, and writes nothing, when the node does not hold it.
func (n *Node) exportPhoto(id string, thumb bool, path string) (bool, error) {
	r, err := n.Photo(id, thumb)
	if errors.Is(err, photos.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer r.Close()
	// Copied in the store's sealed chunks: each read opens a whole chunk.
	buf := make([]byte, 64<<10)
	err = atomicfile.WriteFunc(path, 0o600, func(w io.Writer) error {
		_, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, buf)
		return err
	})
	return err == nil, err
}

// photoRefs gives opts.Photo the photo references of the fields of v
// that an export writes.
func photoRefs(v RecordView, fields []*schemas.Field, opts ExportOptions) {
	if opts.Photo == nil {
		return
	}
	give := func(val any) {
		switch x := val.(type) {
		case string:
			opts.Photo(x)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					opts.Photo(s)
				}
			}
		}
	}
	for _, f := range fields {
		switch f.Type {
		case schemas.Photo:
			give(v.Fields[f.Name])
		case schemas.Repeat:
			for _, row := range exportRows(v, f, opts) {
				for _, nf := range f.Fields {
					if nf.Type == schemas.Photo {
						give(row[nf.Name])
					}
				}
			}
		}
	}
}

// ErrNoLocation means a record type has no field that places its records
// on a map.
var ErrNoLocation = errors.New("record type has no location")

// The columns of an export besides the type's fields, and the properties
// of a GeoJSON feature. Shelters and missing persons have a field called
// status, so how far this node's changes of a record got (RecordView's
// Status) is sync_status.
const (
	colID       = "id"
	colCase     = "case"
	colStatus   = "sync_status"
	colConflict = "conflict"
)

// exportFields are the fields of a type an export writes, in the kit's
// order.
func exportFields(t *schemas.Type, opts ExportOptions) []*schemas.Field {
	var out []*schemas.Field
	for _, f := range t.Fields {
		if !f.Personal || opts.Personal {
			out = append(out, f)
		}
	}
	return out
}

// conflicted lists a record's fields in conflict, in the kit's order, then
// any the kit does not declare (the deleted mark among them).
func conflicted(t *schemas.Type, v RecordView) []string {
	out := []string{}
	for _, f := range t.Fields {
		if _, ok := v.Conflicts[f.Name]; ok {
			out = append(out, f.Name)
		}
	}
	var rest []string
	for name := range v.Conflicts {
		if _, ok := t.Field(name); !ok {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// ExportCSV writes the type's records (not deleted) as CSV, one row per
// record: id, case, sync_status, the type's fields in the kit's order, and
// the fields in conflict. It returns how many records it wrote.
func (n *Node) ExportCSV(ctx context.Context, typeName string, w io.Writer, opts ExportOptions) (int, error) {
	t, err := n.Type(typeName)
	if err != nil {
		return 0, err
	}
	fields := exportFields(t, opts)
	cw := csv.NewWriter(w)
	// Every cell goes through defuse, the header's too: a spreadsheet runs
	// a cell that starts like a formula, whoever wrote it.
	write := func(row []string) error {
		for i := range row {
			row[i] = defuse(row[i])
		}
		return cw.Write(row)
	}
	row := []string{colID, colCase, colStatus}
	for _, f := range fields {
		if f.Type == schemas.Repeat {
			row = append(row, f.Name+"_count") // rows are left out, counted
			continue
		}
		row = append(row, f.Name)
	}
	row = append(row, colConflict)
	if err := write(row); err != nil {
		return 0, err
	}
	count := 0
	for v, err := range n.Records(ctx, Query{Type: t.Name}) {
		if err != nil {
			return count, err
		}
		row = append(row[:0], v.ID, v.Case, v.Status)
		for _, f := range fields {
			if f.Type == schemas.Repeat {
				row = append(row, strconv.Itoa(liveRows(v, f.Name)))
				continue
			}
			row = append(row, cell(v.Fields[f.Name]))
		}
		// The fields in conflict may be named by the node that wrote them.
		row = append(row, defuseList(conflicted(t, v)))
		if err := write(row); err != nil {
			return count, err
		}
		photoRefs(v, fields, opts)
		count++
	}
	cw.Flush()
	return count, cw.Error()
}

// cell is a value as a CSV cell: choices by their value, lists joined with
// ";", a point as "lat,lon". The caller defuses it.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]float64:
		return strconv.FormatFloat(x["lat"], 'f', -1, 64) + "," + strconv.FormatFloat(x["lon"], 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return defuseList(parts)
	}
	return fmt.Sprint(v)
}

// defuse keeps a spreadsheet from running a cell as a formula (OWASP's
// rule): a cell that starts with =, +, -, @, a tab or a carriage return
// gets a leading apostrophe, which spreadsheets read as "this is text".
// A negative number stays readable: a cell that is wholly a number as the
// node writes numbers (a minus, digits, and a point and digits: -89.1) is
// a number to any spreadsheet, never a formula, so it is left as it is,
// whichever field it came from. Anything else that starts with a minus
// (-2+3+cmd|' /C calc'!A0, or a point "-17.2,-88.7") is defused.
//
// A spreadsheet whose locale separates cells with ";" (Spanish, among
// others) splits a cell CSV did not quote at each ";": what follows one
// is defused as a cell of its own ("Succotz;=1+1" is written
// "Succotz;'=1+1").
func defuse(s string) string {
	if !strings.Contains(s, ";") {
		return defuseCell(s)
	}
	parts := strings.Split(s, ";")
	for i := 1; i < len(parts); i++ {
		parts[i] = defuseCell(parts[i])
	}
	return defuseCell(strings.Join(parts, ";"))
}

// defuseCell is defuse of a text a spreadsheet reads as one cell.
func defuseCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) || negativeNumber(s) {
		return s
	}
	return "'" + s
}

// negativeNumber reports whether s is -digits or -digits.digits.
func negativeNumber(s string) bool {
	digits := func(s string) bool {
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	whole, frac, point := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	return s[0] == '-' && digits(whole) && (!point || digits(frac))
}

// defuseList is a list as one cell, its items joined with ";", each
// defused: a spreadsheet that splits cells at ";" (as some locales do)
// sees no formula either.
func defuseList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = defuse(s)
	}
	return strings.Join(parts, ";")
}

// locator finds where a record is: a point, from its first geo field or
// from decimal fields lat and lon.
type locator func(fields map[string]any) (lat, lon float64, ok bool)

// HasLocation reports whether ExportGeoJSON can place the type's records
// on a map with these options.
func HasLocation(t *schemas.Type, opts ExportOptions) bool {
	_, err := locate(t, opts)
	return err == nil
}

func locate(t *schemas.Type, opts ExportOptions) (locator, error) {
	for _, f := range exportFields(t, opts) {
		if f.Type == schemas.Geo {
			name := f.Name
			return func(fields map[string]any) (float64, float64, bool) {
				p, ok := fields[name].(map[string]float64)
				return p["lat"], p["lon"], ok
			}, nil
		}
	}
	lat, okLat := t.Field("lat")
	lon, okLon := t.Field("lon")
	if okLat && okLon && lat.Type == schemas.Decimal && lon.Type == schemas.Decimal && (opts.Personal || !lat.Personal && !lon.Personal) {
		return func(fields map[string]any) (float64, float64, bool) {
			la, ok1 := fields["lat"].(float64)
			lo, ok2 := fields["lon"].(float64)
			return la, lo, ok1 && ok2
		}, nil
	}
	return nil, fmt.Errorf("%w: %s has no geo field and no lat and lon to export as GeoJSON", ErrNoLocation, t.Name)
}

// geoFeature is one record in a GeoJSON FeatureCollection (RFC 7946).
type geoFeature struct {
	Type       string         `json:"type"`
	Geometry   geoPoint       `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type geoPoint struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"` // longitude first
}

// ExportGeoJSON writes the type's records (not deleted) that have a
// location as a GeoJSON FeatureCollection of points; each feature's
// properties are the record's id, case, sync_status, fields (a repeat's
// rows as a list, see exportRows) and the fields in conflict. It returns
// how many records it wrote.
func (n *Node) ExportGeoJSON(ctx context.Context, typeName string, w io.Writer, opts ExportOptions) (int, error) {
	t, err := n.Type(typeName)
	if err != nil {
		return 0, err
	}
	where, err := locate(t, opts)
	if err != nil {
		return 0, err
	}
	fields := exportFields(t, opts)
	if _, err := io.WriteString(w, `{"type":"FeatureCollection","features":[`); err != nil {
		return 0, err
	}
	// One feature a line.
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	count := 0
	for v, err := range n.Records(ctx, Query{Type: t.Name}) {
		if err != nil {
			return count, err
		}
		lat, lon, ok := where(v.Fields)
		if !ok {
			continue
		}
		props := map[string]any{colID: v.ID, colCase: v.Case, colStatus: v.Status, colConflict: conflicted(t, v)}
		for _, f := range fields {
			if f.Type == schemas.Repeat {
				props[f.Name] = exportRows(v, f, opts)
				continue
			}
			if x, ok := v.Fields[f.Name]; ok {
				props[f.Name] = x
			}
		}
		line.Reset()
		if count > 0 {
			line.WriteByte(',')
		}
		line.WriteByte('\n')
		if err := enc.Encode(geoFeature{Type: "Feature", Geometry: geoPoint{Type: "Point", Coordinates: [2]float64{lon, lat}}, Properties: props}); err != nil {
			return count, err
		}
		line.Truncate(line.Len() - 1) // the encoder's newline
		if _, err := w.Write(line.Bytes()); err != nil {
			return count, err
		}
		photoRefs(v, fields, opts)
		count++
	}
	_, err = io.WriteString(w, "\n]}\n")
	return count, err
}

// exportRows are the rows of repeat rep a record holds and has not
// removed, oldest first, each an object of its row id ("row") and the
// values of its fields the kit declares: a personal one only when opts
// ask for personal data. A field the kit does not declare (written under
// a newer kit) is left out, as nothing says whether it is personal.
func exportRows(v RecordView, rep *schemas.Field, opts ExportOptions) []map[string]any {
	byRow := map[string]map[string]any{}
	removed := map[string]bool{}
	for name, val := range v.Fields {
		r, row, field, ok := schemas.SplitRowField(name)
		if !ok || r != rep.Name {
			continue
		}
		if byRow[row] == nil {
			byRow[row] = map[string]any{schemas.RowKey: row}
		}
		if field == schemas.RemoveKey {
			removed[row] = removed[row] || val == true
			continue
		}
		if nf := nestedField(rep, field); nf != nil && (!nf.Personal || opts.Personal) {
			byRow[row][field] = val
		}
	}
	list := []map[string]any{}
	for _, row := range slices.Sorted(maps.Keys(byRow)) {
		if !removed[row] {
			list = append(list, byRow[row])
		}
	}
	return list
}

// nestedField is the field of repeat rep called name, nil if the kit
// declares none.
func nestedField(rep *schemas.Field, name string) *schemas.Field {
	for _, f := range rep.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// liveRows counts the rows of repeat rep a record holds and has not
// removed.
func liveRows(v RecordView, rep string) int {
	rows := map[string]bool{}
	for name, val := range v.Fields {
		r, row, field, ok := schemas.SplitRowField(name)
		if !ok || r != rep {
			continue
		}
		if field == schemas.RemoveKey && val == true {
			rows[row] = true
		} else if !rows[row] {
			rows[row] = false
		}
	}
	n := 0
	for _, removed := range rows {
		if !removed {
			n++
		}
	}
	return n
}

// CSVCell is a value as ExportCSV writes it in a cell, defused: for other
// CSV writers of records, which must defuse as the export does.
func CSVCell(v any) string { return defuse(cell(v)) }

// Defuse is a text as ExportCSV writes it in a cell (a header's too).
func Defuse(s string) string { return defuse(s) }

// Locate is how ExportGeoJSON finds where a record of the type is, from
// the fields a view holds, with these options; ErrNoLocation when it
// cannot.
func Locate(t *schemas.Type, opts ExportOptions) (func(fields map[string]any) (lat, lon float64, ok bool), error) {
	return locate(t, opts)
}
