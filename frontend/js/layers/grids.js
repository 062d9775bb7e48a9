// Grid polygons, one overlay per level, with permanent labels placed so they do not collide.
import { LEVELS, LEVEL_STYLES, HIGHLIGHT_STYLE } from '../domain.js';
import { labelAnchor, labelWidth } from '../geo.js';

const L = window.L;

// Which labels win when two would overlap: communities first, the whole street last.
const LABEL_PRIORITY = ['second', 'dedicated', 'third', 'micro', 'street'];
const LABEL_HEIGHT = 18;
// How much wider than its label a grid must be on screen, and the share of a level's grids on
// screen that must fit before that level is labelled at all.
const FIT_FACTOR = { street: 0.8, second: 0.8, dedicated: 1.0, third: 1.2, micro: 1.3 };
const MIN_FITTING_SHARE = { third: 0.6, micro: 0.6 };
// Font sizes of the labels in css/app.css, for estimating their width.
const LABEL_FONT_PX = { street: 14, second: 13, third: 12, micro: 11, dedicated: 12 };

/**
 * Creates the grid overlays. onSelect(feature) is called when a grid is clicked, unless
 * isClickForMap() says the click belongs to the map (point lookup mode).
 */
export function createGridLayers(map, { onSelect, isClickForMap = () => false } = {}) {
  map.createPane('gridLabels');
  map.getPane('gridLabels').style.zIndex = 450; // above polygons (400), below markers (600)
  map.getPane('gridLabels').style.pointerEvents = 'none';

  const levels = {};
  const byCode = new Map();
  let highlighted = null;

  for (const { key } of LEVELS) {
    const polygons = L.geoJSON(null, {
      style: () => ({ ...LEVEL_STYLES[key], className: `og-grid og-grid-${key}` }),
      onEachFeature: (feature, layer) => {
        byCode.set(feature.properties.code, { feature, layer, level: key });
        layer.on('click', () => {
          if (isClickForMap()) return; // let the map's click handler do the lookup
          onSelect?.(feature);
        });
      },
    });
    const labels = L.layerGroup();
    const group = L.layerGroup([polygons, labels]);
    levels[key] = { polygons, labels, group, items: [], count: 0 };
  }

  function addFeatures(level, collection) {
    const entry = levels[level];
    const features = (collection.features || []).filter((f) => f && f.geometry);
    entry.polygons.addData(features);
    for (const feature of features) {
      const p = feature.properties || {};
      const text = p.name || p.code || '';
      const anchor = labelAnchor(feature.geometry);
      if (!text || !anchor) continue;
      const marker = L.marker(anchor, {
        pane: 'gridLabels',
        interactive: false,
        keyboard: false,
        icon: L.divIcon({
          className: `og-label og-label-${level}`,
          html: '',
          iconSize: null,
        }),
      });
      // Leaflet positions the icon element with a transform, so the text goes in a child
      // that CSS can centre on the anchor.
      marker.on('add', () => {
        const span = document.createElement('span');
        span.textContent = text;
        marker.getElement().replaceChildren(span);
      });
      const layer = byCode.get(p.code)?.layer;
      entry.items.push({
        marker, anchor: L.latLng(anchor), text, width: labelWidth(text, LABEL_FONT_PX[level]), bounds: layer?.getBounds(),
      });
    }
    entry.count += features.length;
  }

  function overlaps(a, b) {
    return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
  }

  // A finer level gets labels only when most of its grids on screen are wide enough to hold
  // their names (and the level above it is labelled too); then a label is placed unless one of
  // a higher-priority level already sits there. The street and communities are always named.
  function updateLabels() {
    const size = map.getSize();
    const candidates = {};
    for (const level of LABEL_PRIORITY) {
      const entry = levels[level];
      candidates[level] = [];
      if (!map.hasLayer(entry.group)) continue;
      let onScreen = 0;
      let fitting = 0;
      for (const item of entry.items) {
        const p = map.latLngToContainerPoint(item.anchor);
        if (!(p.x > -50 && p.y > -20 && p.x < size.x + 50 && p.y < size.y + 20) || !item.bounds) continue;
        onScreen += 1;
        const nw = map.latLngToContainerPoint(item.bounds.getNorthWest());
        const se = map.latLngToContainerPoint(item.bounds.getSouthEast());
        const width = se.x - nw.x;
        let fits = width >= item.width * FIT_FACTOR[level] && se.y - nw.y >= LABEL_HEIGHT * 1.5;
        // The street's name helps only while most of the street is in view.
        if (level === 'street' && width > size.x * 1.5) fits = false;
        if (fits) {
          fitting += 1;
          candidates[level].push({ item, p });
        }
      }
      if (MIN_FITTING_SHARE[level] && fitting < onScreen * MIN_FITTING_SHARE[level]) candidates[level] = [];
    }
    // Building names inside a grid mean little until the grid's own name is readable.
    if (map.hasLayer(levels.third.group) && !candidates.third.length) candidates.micro = [];

    const taken = [];
    for (const level of LABEL_PRIORITY) {
      const entry = levels[level];
      const show = new Set();
      for (const { item, p } of candidates[level]) {
        const rect = {
          x1: p.x - item.width / 2 - 2, x2: p.x + item.width / 2 + 2,
          y1: p.y - LABEL_HEIGHT / 2 - 1, y2: p.y + LABEL_HEIGHT / 2 + 1,
        };
        if (!taken.some((r) => overlaps(r, rect))) {
          taken.push(rect);
          show.add(item);
        }
      }
      for (const item of entry.items) {
        const shown = entry.labels.hasLayer(item.marker);
        if (show.has(item) && !shown) entry.labels.addLayer(item.marker);
        else if (!show.has(item) && shown) entry.labels.removeLayer(item.marker);
      }
    }
  }

  let pending = false;
  function scheduleLabels() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      updateLabels();
    });
  }

  // Re-adding an overlay puts it on top; keep the fine levels (and dedicated grids) above.
  function restack() {
    for (const { key } of LEVELS) {
      if (map.hasLayer(levels[key].group)) levels[key].polygons.bringToFront();
    }
    if (highlighted) highlighted.layer.bringToFront();
  }

  map.on('moveend zoomend resize', scheduleLabels);
  map.on('overlayadd overlayremove', () => {
    restack();
    scheduleLabels();
  });

  return {
    levels,

    /** Loads every level with fetchLevel(level); returns per-level {count} or {error}. */
    async load(fetchLevel) {
      const results = {};
      await Promise.all(LEVELS.map(async ({ key }) => {
        try {
          addFeatures(key, await fetchLevel(key));
          results[key] = { count: levels[key].count };
        } catch (error) {
          results[key] = { error };
        }
      }));
      for (const { key } of LEVELS) levels[key].group.addTo(map);
      restack();
      scheduleLabels();
      return results;
    },

    /** Bounds of everything loaded, the street's outline if there is one. */
    bounds() {
      for (const key of ['street', 'second', 'third', 'micro', 'dedicated']) {
        const b = levels[key].polygons.getBounds();
        if (b.isValid()) return b;
      }
      return null;
    },

    /** The loaded feature with this code, or null. */
    find(code) {
      return byCode.get(code)?.feature || null;
    },

    /** Outlines the grid with this code (null clears); returns its layer if it is loaded. */
    highlight(code) {
      if (highlighted) levels[highlighted.level].polygons.resetStyle(highlighted.layer);
      highlighted = code ? byCode.get(code) || null : null;
      if (!highlighted) return null;
      highlighted.layer.setStyle(HIGHLIGHT_STYLE);
      if (map.hasLayer(levels[highlighted.level].group)) highlighted.layer.bringToFront();
      return highlighted.layer;
    },

    updateLabels,
  };
}
