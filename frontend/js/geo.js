// Small planar helpers on GeoJSON coordinates ([lon, lat]); Leaflet wants [lat, lng].

function ringArea(ring) {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  }
  return sum / 2;
}

function ringCentroid(ring) {
  let a = 0;
  let x = 0;
  let y = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    a += f;
    x += (ring[j][0] + ring[i][0]) * f;
    y += (ring[j][1] + ring[i][1]) * f;
  }
  if (a === 0) return ring[0];
  return [x / (3 * a), y / (3 * a)];
}

function insideRing(pt, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > pt[1]) !== (yj > pt[1]) && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

function insidePolygon(pt, rings) {
  if (!insideRing(pt, rings[0])) return false;
  return !rings.slice(1).some((hole) => insideRing(pt, hole));
}

// Midpoint of the widest inside stretch along the horizontal line at latitude y.
function scanlineMidpoint(rings, y) {
  const xs = [];
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y)) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
    }
  }
  xs.sort((a, b) => a - b);
  let best = null;
  for (let k = 0; k + 1 < xs.length; k += 2) {
    if (!best || xs[k + 1] - xs[k] > best[1] - best[0]) best = [xs[k], xs[k + 1]];
  }
  return best ? [(best[0] + best[1]) / 2, y] : null;
}

/** The polygons of a Polygon or MultiPolygon geometry, as arrays of rings. */
export function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

/**
 * Where to put a grid's label, as [lat, lng]: the centroid of its largest part, or, when that
 * falls outside (L- or U-shaped grids), the middle of the widest stretch across the part.
 */
export function labelAnchor(geometry) {
  const parts = polygonsOf(geometry).filter((p) => p.length && p[0].length >= 3);
  if (!parts.length) return null;
  let largest = parts[0];
  for (const p of parts) if (Math.abs(ringArea(p[0])) > Math.abs(ringArea(largest[0]))) largest = p;
  const c = ringCentroid(largest[0]);
  if (insidePolygon(c, largest)) return [c[1], c[0]];
  const ys = largest[0].map((p) => p[1]);
  const mid = (Math.min(...ys) + Math.max(...ys)) / 2;
  const alt = scanlineMidpoint(largest, c[1]) || scanlineMidpoint(largest, mid);
  return alt ? [alt[1], alt[0]] : [c[1], c[0]];
}

/** Rough on-screen width of a label in pixels (CJK glyphs are about one em wide). */
export function labelWidth(text, fontPx = 12) {
  let w = 0;
  for (const ch of text) w += /[\u2e80-\u9fff\uff00-\uffef]/.test(ch) ? fontPx : fontPx * 0.6;
  return Math.ceil(w) + 8;
}
