// Package atlas draws Belize's six districts and the records on them, with
// nothing fetched at run time: the district shapes are embedded
// (districts.json, from Natural Earth; see docs/map.md).
//
// A View places the map on a screen or page; Cluster groups points that
// would overlap; Render draws districts, points, clusters and a legend into
// an image; Hit tells which mark is under a pixel. The package has no user
// interface of its own: the desktop's Map tab and the PDF situation report
// both call Render.
//
// The projection is equirectangular, with longitudes scaled by the cosine of
// latitude 17.25° (the middle of Belize): over the 15.9°–18.5° N that Belize
// spans, shapes and distances are off by under 2%, which a map of districts
// does not show.
package atlas
