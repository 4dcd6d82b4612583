package node

import (
	"context"
	"slices"

	"lifeline/atlas"
)

// MapFilter narrows what MapPoints gives.
type MapFilter struct {
	// District, when not empty, keeps the records of that district (by the
	// record's district field, else by where its point lies).
	District string
	// Layers, when not empty, keeps only these layers.
	Layers []atlas.Layer
}

// mapTypes are the record types on the map, by layer.
var mapTypes = []struct {
	layer atlas.Layer
	typ   string
}{{atlas.Shelters, typeShelter}, {atlas.Damage, typeDamage}, {atlas.Missing, typeMissing}}

// MapPoints gives the records this node keeps that have a place, for the
// map: damage assessments with their damage level, shelters with their
// occupancy and capacity, and missing persons not yet found. Deleted
// records are left out; a record without a location too. The place is
// read as ExportGeoJSON reads it, without personal fields; a field in
// conflict reads with the value that wins. A type the kits here do not
// have gives no points.
func (n *Node) MapPoints(ctx context.Context, f MapFilter) ([]atlas.Point, error) {
	var out []atlas.Point
	for _, mt := range mapTypes {
		if len(f.Layers) > 0 && !slices.Contains(f.Layers, mt.layer) {
			continue
		}
		t, err := n.Type(mt.typ)
		if err != nil {
			continue
		}
		where, err := locate(t, ExportOptions{})
		if err != nil {
			continue
		}
		for v, err := range n.Records(ctx, Query{Type: t.Name}) {
			if err != nil {
				return nil, err
			}
			lat, lon, ok := where(v.Fields)
			if !ok || v.Deleted {
				continue
			}
			p := atlas.Point{ID: v.ID, Layer: mt.layer, Lat: lat, Lon: lon, Level: -1}
			p.District, _ = v.Fields["district"].(string)
			if p.District == "" {
				p.District = atlas.DistrictOf(lat, lon)
			}
			if f.District != "" && p.District != f.District {
				continue
			}
			switch mt.layer {
			case atlas.Damage:
				if l, ok := integer(v.Fields["damage_level"]); ok && l >= 0 && l < DamageLevels {
					p.Level = l
				}
			case atlas.Shelters:
				p.Occupancy, _ = integer(v.Fields["occupancy"])
				p.Capacity, _ = integer(v.Fields["capacity"])
			case atlas.Missing:
				if text(v.Fields["status"]) != stillMissing {
					continue
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}
