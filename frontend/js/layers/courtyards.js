// Courtyards (小区/院落) coloured by management status: 红色物业, a claim waiting, 无主管 and
// 物业管理, with a small legend that counts them. On by default; loaded once at start.
import { COURTYARD_STATUSES, COURTYARD_STATUS_BY_KEY } from '../domain.js';
import { h } from '../dom.js';

const L = window.L;

/** The map state of a courtyard: the server's map_status, else its management_status. */
export function courtyardStatus(p) {
  const key = p.map_status || p.management_status || 'unmanaged';
  const known = COURTYARD_STATUS_BY_KEY[key] || COURTYARD_STATUS_BY_KEY.unmanaged;
  return { key: known.key, label: p.map_label || known.label, color: p.colour || known.color };
}

/**
 * Creates the courtyard overlay. load(fetchMap, fetchPlaces) reads GET /api/red-property/map and,
 * for people who may see places but not red property, the courtyards of GET /api/places;
 * onSelect(feature) runs on a click unless isClickForMap() says it is for the map.
 */
export function createCourtyardLayer(map, { onSelect, isClickForMap = () => false, collapsed = false } = {}) {
  if (!map.getPane('placeAreas')) map.createPane('placeAreas').style.zIndex = 410;
  const layer = L.geoJSON(null, {
    pane: 'placeAreas',
    style: (feature) => {
      const s = courtyardStatus(feature.properties || {});
      return {
        color: s.color, weight: 2, opacity: 1, fillColor: s.color, fillOpacity: 0.3,
        className: `og-place og-place-courtyard og-courtyard-${s.key}`,
      };
    },
    onEachFeature: (feature, path) => {
      path.on('click', () => {
        if (!isClickForMap()) onSelect?.(feature);
      });
    },
  });
  let features = [];

  const legend = L.control({ position: 'topleft' }); // the case legend fills the bottom right
  const counts = new Map();
  legend.onAdd = () => {
    const list = h('ul', { class: 'og-legend-list' }, COURTYARD_STATUSES.map((s) => {
      // Not og-legend-count: that one counts cases (the case legend's filter).
      const count = h('span', { class: 'og-courtyard-count' });
      const row = h('li', { class: 'og-legend-row', dataset: { courtyardStatus: s.key } },
        h('span', { class: 'og-legend-item' },
          h('span', { class: 'og-swatch og-swatch-area', style: `background:${s.color}` }),
          h('span', { class: 'og-legend-label' }, s.label),
          count));
      counts.set(s.key, { row, count });
      return row;
    }));
    const box = h('details', { class: 'og-legend og-courtyard-legend leaflet-bar', open: !collapsed },
      h('summary', {}, '小区管理状态'), list);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };

  function showCounts() {
    const n = {};
    for (const f of features) {
      const key = courtyardStatus(f.properties || {}).key;
      n[key] = (n[key] || 0) + 1;
    }
    for (const [key, { row, count }] of counts) {
      count.textContent = String(n[key] || 0);
      row.hidden = !n[key];
    }
  }

  // The legend is there while the courtyards are.
  layer.on('add', () => {
    legend.addTo(map);
    showCounts();
  });
  layer.on('remove', () => legend.remove());

  return {
    layer,

    /**
     * Loads the courtyards; resolves to {count, source} ('red-property' or 'places'), or
     * {forbidden: true} when the person may see neither.
     */
    async load(fetchMap, fetchPlaces) {
      let collection;
      let source = 'red-property';
      try {
        collection = await fetchMap();
      } catch (error) {
        if (error.status !== 403) throw error;
        try {
          collection = await fetchPlaces();
          source = 'places';
        } catch (second) {
          if (second.status === 403) return { forbidden: true };
          throw second;
        }
      }
      features = (collection.features || []).filter((f) => f && f.geometry);
      layer.clearLayers();
      layer.addData(features);
      if (map.hasLayer(layer)) showCounts();
      return { count: features.length, source };
    },

    count: () => features.length,
    ids: () => features.map((f) => f.properties?.id ?? f.id),
  };
}
