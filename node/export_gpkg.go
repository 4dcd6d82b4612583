package node

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"lifeline/node/gpkg"
	"lifeline/schemas"
)

// The columns a GeoPackage export adds to those of ExportCSV: when a
// record was first written and last changed, and the fields whose values
// this node cannot open (personal fields of a district whose key it does
// not hold), written as NULL. A repeat's table joins its rows to their
// record by record_id and names each row by row.
const (
	colCreated  = "created"
	colUpdated  = "updated"
	colWithheld = "withheld"
	colRecordID = "record_id"
	colRow      = "row"
)

// GeoPackageLayer is one table an export wrote.
type GeoPackageLayer struct {
	Name string // the table's name: the record type, or TYPE_REPEAT
	Type string // the record type
	// Repeat is the repeat field whose rows the table holds, "" for the
	// type's records.
	Repeat string
	// Points says the table is a layer of features with a point geometry;
	// otherwise it holds attributes only (the type has no location).
	Points bool
	Rows   int
}

// ExportGeoPackage writes the records (not deleted) of the named types, all
// the kits' types when none is named, as an OGC GeoPackage at path,
// replacing a file there once it is written whole; nothing is left of it
// after an error. A path in the data folder is refused (CheckExportPath). Each type is a table: a layer of points in WGS 84 when
// the type has a location (see HasLocation; a record without one has a
// NULL geometry), a table of attributes when it has none. Its columns are
// ExportCSV's (id, case, sync_status, the fields, conflict), typed as the
// kit types its fields, and created, updated and withheld. Each repeat of
// a type is a table of attributes, a row per row of a record.
func (n *Node) ExportGeoPackage(ctx context.Context, path string, types []string, opts ExportOptions) ([]GeoPackageLayer, error) {
	if err := n.CheckExportPath(path); err != nil {
		return nil, err
	}
	if len(types) == 0 {
		types = n.Kits().TypeNames()
	}
	var ts []*schemas.Type
	for _, name := range types {
		t, err := n.Type(name)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		return nil, err
	}
	var out []GeoPackageLayer
	for _, t := range ts {
		layers, err := n.exportLayer(ctx, w, t, opts)
		if err != nil {
			w.Abort()
			return nil, err
		}
		out = append(out, layers...)
	}
	if err := w.Commit(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// exportLayer writes one type's table, and one table per repeat.
func (n *Node) exportLayer(ctx context.Context, w *gpkg.Writer, t *schemas.Type, opts ExportOptions) ([]GeoPackageLayer, error) {
	where, err := locate(t, opts)
	points := err == nil
	fields := exportFields(t, opts)
	cols := []gpkg.Column{{Name: colID, Type: gpkg.Text}, {Name: colCase, Type: gpkg.Text}, {Name: colStatus, Type: gpkg.Text},
		{Name: colCreated, Type: gpkg.DateTime}, {Name: colUpdated, Type: gpkg.DateTime}}
	for _, f := range fields {
		if f.Type == schemas.Repeat {
			cols = append(cols, gpkg.Column{Name: f.Name + "_count", Type: gpkg.Integer}) // as ExportCSV counts them
			continue
		}
		cols = append(cols, gpkg.Column{Name: f.Name, Type: columnType(f.Type)})
	}
	cols = append(cols, gpkg.Column{Name: colConflict, Type: gpkg.Text}, gpkg.Column{Name: colWithheld, Type: gpkg.Text})
	main, err := w.Add(ctx, gpkg.Layer{Name: t.Name, Description: t.Title.In("en"), Columns: cols, Points: points})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	layers := []GeoPackageLayer{{Name: t.Name, Type: t.Name, Points: points}}
	repeats := map[string]*gpkg.Table{}
	var reps []*schemas.Field
	for _, f := range fields {
		if f.Type != schemas.Repeat {
			continue
		}
		rcols := []gpkg.Column{{Name: colRecordID, Type: gpkg.Text}, {Name: colRow, Type: gpkg.Text}}
		for _, nf := range f.Fields {
			if !nf.Personal || opts.Personal {
				rcols = append(rcols, gpkg.Column{Name: nf.Name, Type: columnType(nf.Type)})
			}
		}
		name := t.Name + "_" + f.Name
		tab, err := w.Add(ctx, gpkg.Layer{Name: name, Description: t.Title.In("en") + ": " + f.Label.In("en"), Columns: rcols})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		repeats[f.Name] = tab
		reps = append(reps, f)
		layers = append(layers, GeoPackageLayer{Name: name, Type: t.Name, Repeat: f.Name})
	}

	row := make([]any, 0, len(cols))
	for v, err := range n.Records(ctx, Query{Type: t.Name}) {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return nil, err
		}
		created, err := n.created(ctx, v)
		if err != nil {
			return nil, err
		}
		var withheld []string
		row = append(row[:0], v.ID, v.Case, v.Status, created, dateTime(v.Updated))
		for _, f := range fields {
			if f.Type == schemas.Repeat {
				row = append(row, int64(liveRows(v, f.Name)))
				continue
			}
			x := v.Fields[f.Name]
			if _, ok := x.(Withheld); ok {
				withheld = append(withheld, f.Name)
			}
			row = append(row, columnValue(f.Type, x))
		}
		row = append(row, list(conflicted(t, v)), list(withheld))
		var at *gpkg.Point
		if points {
			if lat, lon, ok := where(v.Fields); ok && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !math.IsNaN(lat+lon) {
				at = &gpkg.Point{X: lon, Y: lat}
			}
		}
		if err := main.Insert(ctx, at, row...); err != nil {
			return nil, fmt.Errorf("record %s: %w", v.ID, err)
		}
		for _, f := range reps {
			tab := repeats[f.Name]
			for _, r := range exportRows(v, f, opts) {
				vals := []any{v.ID, r[schemas.RowKey]}
				for _, nf := range f.Fields {
					if !nf.Personal || opts.Personal {
						vals = append(vals, columnValue(nf.Type, r[nf.Name]))
					}
				}
				if err := tab.Insert(ctx, nil, vals...); err != nil {
					return nil, fmt.Errorf("record %s: %w", v.ID, err)
				}
			}
		}
		photoRefs(v, fields, opts)
	}
	layers[0].Rows = main.Rows()
	for i := range layers[1:] {
		layers[i+1].Rows = repeats[layers[i+1].Repeat].Rows()
	}
	return layers, nil
}

// list is names joined with ";", nil (NULL) when there are none.
func list(names []string) any {
	if len(names) == 0 {
		return nil
	}
	return strings.Join(names, ";")
}

// created is when a record was first written: its first change, as the
// clock of the node that wrote it stamped it.
func (n *Node) created(ctx context.Context, v RecordView) (any, error) {
	first, err := n.store.Change(ctx, v.first)
	if err != nil {
		return nil, err
	}
	return dateTime(formatHLC(first.HLC)), nil
}

// columnType is the column a field's values go into.
func columnType(t schemas.FieldType) gpkg.Type {
	switch t {
	case schemas.Integer, schemas.Repeat:
		return gpkg.Integer
	case schemas.Decimal:
		return gpkg.Real
	case schemas.Bool:
		return gpkg.Boolean
	case schemas.Date:
		return gpkg.Date
	case schemas.DateTime:
		return gpkg.DateTime
	}
	return gpkg.Text
}

// columnValue is a field's value as its column holds it, nil (NULL) when
// the field is empty or withheld, or holds a value not of the field's type
// (one written under another version of the kit). Choices are written by
// their value, lists joined with ";" as ExportCSV joins them, a point that
// is not the layer's geometry as "lat,lon".
func columnValue(t schemas.FieldType, v any) any {
	switch x := v.(type) {
	case nil, Withheld:
		return nil
	case int64:
		switch t {
		case schemas.Integer:
			return x
		case schemas.Decimal:
			return float64(x)
		}
	case uint64:
		switch {
		case t == schemas.Integer && x <= math.MaxInt64:
			return int64(x)
		case t == schemas.Decimal:
			return float64(x)
		}
	case float64:
		if t == schemas.Decimal && !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x
		}
	case bool:
		if t == schemas.Bool {
			return x
		}
	case string:
		switch t {
		case schemas.Date:
			if _, err := time.Parse(time.DateOnly, x); err == nil {
				return x
			}
		case schemas.DateTime:
			if s, ok := dateTime(x).(string); ok {
				return s
			}
		case schemas.Text, schemas.Choice, schemas.Ref, schemas.Photo, schemas.Multi:
			return x
		}
	case []any:
		if t == schemas.Multi || t == schemas.Photo {
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = fmt.Sprint(e)
			}
			return strings.Join(parts, ";")
		}
	case map[string]float64:
		if t == schemas.Geo {
			return cell(x)
		}
	}
	return nil
}

// dateTime is an RFC 3339 time as a GeoPackage DATETIME, in UTC with
// milliseconds; nil when s is no such time.
func dateTime(s string) any {
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return at.UTC().Format("2006-01-02T15:04:05.000Z")
}
