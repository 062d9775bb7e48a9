// Places of the registry as map overlays: building footprints and project sites as polygons,
// merchants, enterprises and resident units as clustered markers. Each overlay is off by default
// and loads its places once, the first time it is switched on (the street has a few thousand
// places, most people look at a few kinds). The API answers with the person's scope only.
import { PLACE_KINDS } from '../domain.js';

const L = window.L;

// Footprints over courtyards (their own pane), both under the grid labels and the markers.
const PANES = { placeAreas: 410, placeBuildings: 420 };

const AREA_STYLES = {
  building: {
    pane: 'placeBuildings', color: '#6d4c41', weight: 1, opacity: 0.9, fillColor: '#a1887f', fillOpacity: 0.45,
  },
  site: {
    pane: 'placeAreas', color: '#ef6c00', weight: 2, opacity: 1, dashArray: '5 4', fillColor: '#ffb74d', fillOpacity: 0.25,
  },
};

/** The overlays in the order the layer control lists them. */
export const PLACE_OVERLAYS = [
  { kind: 'building', shape: 'area' },
  { kind: 'merchant', shape: 'point' },
  { kind: 'enterprise', shape: 'point' },
  { kind: 'site', shape: 'area' },
  { kind: 'resident_unit', shape: 'point' },
];

const iconCache = new Map();

// 重点税源 and 规上 enterprises carry a letter (税 / 规) and a stronger colour.
function enterpriseMark(p) {
  if (p.key_tax_source) return { key: 'tax', text: '税' };
  if (p.above_scale) return { key: 'scale', text: '规' };
  return { key: 'plain', text: '' };
}

function placeIcon(kind, p) {
  const mark = kind === 'enterprise' ? enterpriseMark(p) : { key: 'plain', text: '' };
  const cacheKey = `${kind}:${mark.key}`;
  if (!iconCache.has(cacheKey)) {
    iconCache.set(cacheKey, L.divIcon({
      className: `og-place-marker og-place-${kind} og-mark-${mark.key}`,
      html: `<span>${mark.text}</span>`, // constant text, never API data
      iconSize: [26, 26], // a small symbol inside a finger-sized target
      iconAnchor: [13, 13],
    }));
  }
  return iconCache.get(cacheKey);
}

function markerTitle(kind, p) {
  const flags = [];
  if (p.key_tax_source) flags.push('重点税源');
  if (p.above_scale) flags.push('规上企业');
  const name = p.name || p.code || PLACE_KINDS[kind];
  return flags.length ? `${name}（${flags.join('、')}）` : name;
}

function clusterIconFor(kind) {
  return (cluster) => {
    const total = cluster.getChildCount();
    const size = total < 10 ? 30 : total < 100 ? 36 : 42;
    return L.divIcon({
      className: `marker-cluster og-place-cluster og-place-cluster-${kind}`,
      html: `<div><span>${total}</span></div>`,
      iconSize: L.point(size, size),
    });
  };
}

function hasPoint(feature) {
  const c = feature?.geometry?.type === 'Point' ? feature.geometry.coordinates : null;
  return Array.isArray(c) && Number.isFinite(c[0]) && Number.isFinite(c[1]);
}

/**
 * Creates the place overlays (not yet loaded, not on the map).
 * fetchKind(kind) resolves to a FeatureCollection; onSelect(kind, feature) runs on a click unless
 * isClickForMap() says the click is for the map; onLoaded(kind, {count}), onForbidden(kind) and
 * onError(kind, error) report each overlay's first load.
 */
export function createPlaceLayers(map, {
  fetchKind, onSelect, isClickForMap = () => false, onLoaded, onForbidden, onError,
} = {}) {
  for (const [name, zIndex] of Object.entries(PANES)) {
    if (!map.getPane(name)) map.createPane(name).style.zIndex = zIndex;
  }

  const overlays = {};

  function areaLayer(kind) {
    return L.geoJSON(null, {
      pane: AREA_STYLES[kind].pane,
      style: () => ({ ...AREA_STYLES[kind], className: `og-place og-place-${kind}` }),
      onEachFeature: (feature, layer) => {
        layer.on('click', () => {
          if (!isClickForMap()) onSelect?.(kind, feature);
        });
      },
    });
  }

  function pointLayer(kind) {
    return L.markerClusterGroup({
      chunkedLoading: true,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      maxClusterRadius: 40,
      iconCreateFunction: clusterIconFor(kind),
    });
  }

  function addFeatures(entry, collection) {
    const features = (collection.features || []).filter((f) => f && f.geometry);
    if (entry.shape === 'area') {
      entry.group.addData(features);
    } else {
      const markers = [];
      for (const feature of features) {
        // Enterprises and resident units may be footprints: the marker goes where the place is
        // assigned (a point on its surface, sent as lon/lat).
        const p = feature.properties || {};
        let latlng = null;
        if (hasPoint(feature)) latlng = [feature.geometry.coordinates[1], feature.geometry.coordinates[0]];
        else if (Number.isFinite(p.lat) && Number.isFinite(p.lon)) latlng = [p.lat, p.lon];
        if (!latlng) continue;
        const marker = L.marker(latlng, {
          icon: placeIcon(entry.kind, p), title: markerTitle(entry.kind, p), riseOnHover: true,
        });
        marker.feature = feature;
        marker.on('click', () => onSelect?.(entry.kind, feature));
        markers.push(marker);
      }
      entry.group.addLayers(markers);
    }
    entry.features = features;
    entry.count = features.length;
  }

  async function load(entry) {
    entry.state = 'loading';
    try {
      addFeatures(entry, await fetchKind(entry.kind));
      entry.state = 'loaded';
      onLoaded?.(entry.kind, { count: entry.count });
    } catch (error) {
      if (error.status === 403) {
        // Not this person's to see: the overlay goes away without a word.
        entry.state = 'forbidden';
        map.removeLayer(entry.group);
        onForbidden?.(entry.kind);
      } else {
        entry.state = 'idle'; // switching it on again tries again
        map.removeLayer(entry.group);
        onError?.(entry.kind, error);
      }
    }
  }

  for (const { kind, shape } of PLACE_OVERLAYS) {
    const group = shape === 'area' ? areaLayer(kind) : pointLayer(kind);
    const entry = { kind, shape, group, state: 'idle', count: 0, features: [] };
    group.on('add', () => {
      if (entry.state === 'idle') load(entry);
    });
    overlays[kind] = entry;
  }

  return {
    overlays,

    /** The overlay's name in the layer control, with its count once loaded. */
    label(kind) {
      const entry = overlays[kind];
      return entry.state === 'loaded' ? `${PLACE_KINDS[kind]} (${entry.count})` : PLACE_KINDS[kind];
    },

    /** The ids of the loaded places of a kind (for diagnostics and tests). */
    ids(kind) {
      return overlays[kind].features.map((f) => f.properties?.id ?? f.id);
    },
  };
}
