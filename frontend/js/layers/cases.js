// Cases as clustered markers coloured by status, with a client-side status filter.
import { STATUSES, UNKNOWN_STATUS, statusInfo, statusGroup } from '../domain.js';

const L = window.L;

const iconCache = new Map();

function caseIcon(status) {
  const key = statusGroup(status);
  if (!iconCache.has(key)) {
    const { color } = statusInfo(status);
    iconCache.set(key, L.divIcon({
      className: `og-case og-case-${key}`,
      html: `<span style="background:${color}"></span>`,
      iconSize: [24, 24], // a 14 px dot inside a finger-sized target
      iconAnchor: [12, 12],
    }));
  }
  return iconCache.get(key);
}

// A ring showing each status's share of the cluster, with the count in the middle.
function clusterIcon(cluster) {
  const counts = new Map();
  for (const m of cluster.getAllChildMarkers()) {
    const key = statusGroup(m.feature.properties.status);
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const total = cluster.getChildCount();
  const stops = [];
  let acc = 0;
  for (const s of [...STATUSES, UNKNOWN_STATUS]) {
    const n = counts.get(s.key);
    if (!n) continue;
    const from = (acc / total) * 360;
    acc += n;
    stops.push(`${s.color} ${from.toFixed(1)}deg ${((acc / total) * 360).toFixed(1)}deg`);
  }
  const size = total < 10 ? 32 : total < 100 ? 38 : total < 1000 ? 44 : 50;
  return L.divIcon({
    className: 'marker-cluster og-cluster',
    html: `<div style="background:conic-gradient(${stops.join(',')})"><span>${total}</span></div>`,
    iconSize: L.point(size, size),
  });
}

/** Creates the case layer. onSelect(feature) is called when a case marker is clicked. */
export function createCaseLayer(map, { onSelect } = {}) {
  const cluster = L.markerClusterGroup({
    chunkedLoading: true,
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    maxClusterRadius: 50,
    iconCreateFunction: clusterIcon,
  });
  const markers = [];
  let hidden = new Set(); // status groups switched off in the filter
  let withoutLocation = 0;

  function makeMarker(feature) {
    const [lon, lat] = feature.geometry.coordinates;
    const p = feature.properties || {};
    const marker = L.marker([lat, lon], {
      icon: caseIcon(p.status),
      title: `${p.category || '事件'}（${statusInfo(p.status).label}）`,
      riseOnHover: true,
    });
    marker.feature = feature;
    marker.on('click', () => onSelect?.(feature));
    return marker;
  }

  function hasPoint(feature) {
    const c = feature?.geometry?.type === 'Point' ? feature.geometry.coordinates : null;
    return Array.isArray(c) && Number.isFinite(c[0]) && Number.isFinite(c[1]);
  }

  function visible(marker) {
    return !hidden.has(statusGroup(marker.feature.properties.status));
  }

  return {
    layer: cluster,

    /** Replaces the markers with a FeatureCollection's cases; returns how many were drawn. */
    setCases(collection) {
      cluster.clearLayers();
      markers.length = 0;
      withoutLocation = 0;
      for (const feature of collection.features || []) {
        if (!hasPoint(feature)) {
          withoutLocation += 1; // cases reported without a location are listed, not drawn
          continue;
        }
        markers.push(makeMarker(feature));
      }
      cluster.addLayers(markers.filter(visible));
      return { total: (collection.features || []).length, mapped: markers.length, withoutLocation };
    },

    /** Adds one case (a new report) and returns its marker, or null if it has no location. */
    addCase(feature) {
      if (!hasPoint(feature)) return null;
      const marker = makeMarker(feature);
      markers.push(marker);
      if (visible(marker)) cluster.addLayer(marker);
      return marker;
    },

    /** Shows only the status groups not in hiddenGroups. */
    setHiddenStatuses(hiddenGroups) {
      hidden = new Set(hiddenGroups);
      cluster.clearLayers();
      cluster.addLayers(markers.filter(visible));
    },

    /** Number of drawn cases per status group. */
    countsByStatus() {
      const counts = {};
      for (const m of markers) {
        const key = statusGroup(m.feature.properties.status);
        counts[key] = (counts[key] || 0) + 1;
      }
      return counts;
    },

    visibleCount() {
      return markers.filter(visible).length;
    },
  };
}
