// Map page set-up: sign in, read the configuration, then load grids and cases and wire the panels.
// Leaflet and leaflet.markercluster are classic scripts (the plugin extends the global L),
// loaded by index.html before this module runs.
import * as api from './api.js';
import { LEVELS, PLACE_KINDS } from './domain.js';
import { createBaseMap } from './layers/basemap.js';
import { createGridLayers } from './layers/grids.js';
import { createCaseLayer } from './layers/cases.js';
import { createCourtyardLayer } from './layers/courtyards.js';
import { createPlaceLayers, PLACE_OVERLAYS } from './layers/places.js';
import { createDetailsPanel } from './panels/details.js';
import { createLegend } from './panels/legend.js';
import { createLookup } from './panels/lookup.js';
import { createStatusLine } from './panels/status.js';
import { createSignIn, mayUseMap, RESIDENT_NOTE } from './panels/signin.js';
import { createAccount } from './panels/account.js';
import { createRegistryPanel } from './panels/registry.js';

const L = window.L;

const CASE_LIMIT = 5000;
const PLACE_LIMIT = 20000; // per kind: the API's largest page
const DEFAULT_CONFIG = {
  tile_url: null,
  tile_attribution: '',
  tile_max_zoom: 19,
  center: null,
  zoom: 14,
  on_boundary_m: 5,
};
const CHINA_VIEW = { center: [35.0, 105.0], zoom: 4 }; // only when there is nothing else to show

const status = createStatusLine(document.getElementById('status'));
const signIn = createSignIn(document.getElementById('sign-in'));
const account = createAccount(document.getElementById('account'), {
  onSignOut: async () => {
    await api.signOut();
    // A fresh page: nothing of this session's data stays in memory behind the sign-in screen.
    window.location.reload();
  },
});

/** The signed-in user from the tokens this tab holds, or null when there is no session. */
async function resumeSession() {
  if (!api.hasSession()) return null;
  try {
    return await api.getMe();
  } catch (error) {
    if (error.status === 401) return null; // expired and not refreshable: sign in again
    throw error;
  }
}

async function loadConfig() {
  try {
    return { ...DEFAULT_CONFIG, ...(await api.getConfig()) };
  } catch (error) {
    status.error(`读取配置失败：${error.message} 已使用默认设置。`);
    return DEFAULT_CONFIG;
  }
}

function describeGrids(results) {
  const parts = [];
  for (const { key, short } of LEVELS) {
    const r = results[key];
    if (r.error) status.error(`${short}网格加载失败：${r.error.message}`);
    else parts.push(`${short} ${r.count}`);
  }
  return parts.length ? `网格：${parts.join(' · ')}` : '网格：未加载';
}

async function start() {
  document.body.dataset.state = 'loading';
  status.info('正在加载…');
  const config = await loadConfig();
  const compact = window.matchMedia('(max-width: 700px)').matches;

  // maxZoom must be set even without tiles, or marker clustering cannot work out its levels.
  // Quarter zoom steps let the street fill a phone screen; clustering rounds to whole levels.
  const map = L.map('map', {
    maxZoom: Number(config.tile_max_zoom) || 19,
    zoomSnap: 0.25,
    zoomControl: true,
  });
  const hasCenter = Array.isArray(config.center) && config.center.length === 2;
  map.setView(hasCenter ? config.center : CHINA_VIEW.center, hasCenter ? config.zoom || 14 : CHINA_VIEW.zoom);
  L.control.scale({ imperial: false }).addTo(map);

  const { baseLayers } = createBaseMap(map, config, {
    onUnavailable: (text) => status.notice('basemap', text),
  });

  let lookupUi = null;
  let gridText = '';
  let caseSummary = null; // {total, withoutLocation} once cases are loaded
  function showInfo() {
    let caseText = '';
    if (caseSummary) {
      const { total, withoutLocation } = caseSummary;
      caseText = `事件 ${total} 件${withoutLocation ? `（${withoutLocation} 件无位置，未上图）` : ''}，地图显示 ${cases.visibleCount()} 件`;
    }
    status.info([gridText, caseText].filter(Boolean).join('；'));
  }

  const grids = createGridLayers(map, {
    onSelect: (feature) => selectGrid(feature),
    isClickForMap: () => lookupUi?.isActive() ?? false,
  });
  const cases = createCaseLayer(map, {
    onSelect: (feature) => {
      grids.highlight(feature.properties.responsible_code || feature.properties.third_code);
      details.showCase(feature);
    },
  });

  let actionNames = null;
  const details = createDetailsPanel(document.getElementById('details'), {
    loadProgress: async (id) => {
      actionNames ??= api.getWorkflow().then((w) => ({
        report: '上报', merged_in: '并入重复事件',
        ...Object.fromEntries(w.actions.map((a) => [a.action, a.name])),
      }));
      const [caseRead, events, names] = await Promise.all(
        [api.getCase(id), api.getCaseEvents(id), actionNames]);
      return { case: caseRead, events, actionNames: names };
    },
    gridName: (code) => grids.find(code)?.properties?.name || null,
    onGridCode: (code) => openGridByCode(code),
    onClose: () => grids.highlight(null),
    boundaryMetres: config.on_boundary_m,
    loadPlace: (kind, id) => loadPlace(kind, id),
  });

  // A place's record, and for a courtyard its claims, for an enterprise its last visits; a
  // section the person may not read (403) is left out.
  const optional = (promise) => promise.catch((error) => (error.status === 403 ? null : error));
  async function loadPlace(kind, id) {
    const [place, claims, visits] = await Promise.all([
      // A courtyard on the red-property map that one may claim but does not manage: the
      // map's own properties and its claims are all there is to show (null).
      kind === 'courtyard' ? api.getPlace(id).catch((error) => (error.status === 404 ? null : Promise.reject(error))) : api.getPlace(id),
      kind === 'courtyard' ? optional(api.getCourtyardClaims(id)) : undefined,
      kind === 'enterprise' ? optional(api.getVisits({ enterprise: id, limit: 5 })) : undefined,
    ]);
    if (place === null) return { place, claims, visits };
    const p = place.properties || {};
    grids.highlight(p.responsible?.code || null);
    // Opened from a list: bring the place into view.
    if (Number.isFinite(p.lat) && Number.isFinite(p.lon) && !map.getBounds().contains([p.lat, p.lon])) {
      map.panTo([p.lat, p.lon]);
    }
    return { place, claims, visits };
  }

  function selectPlace(kind, feature) {
    grids.highlight(null);
    details.showPlace(kind, feature);
  }

  const courtyards = createCourtyardLayer(map, {
    onSelect: (feature) => selectPlace('courtyard', feature),
    isClickForMap: () => lookupUi?.isActive() ?? false,
    collapsed: compact,
  });
  let layerControl = null;
  const places = createPlaceLayers(map, {
    fetchKind: (kind) => api.getPlaces({ kind, limit: PLACE_LIMIT }),
    onSelect: (kind, feature) => selectPlace(kind, feature),
    isClickForMap: () => lookupUi?.isActive() ?? false,
    onLoaded: (kind, { count }) => {
      if (count >= PLACE_LIMIT) status.notice(`places-${kind}`, `地点较多，只加载了 ${PLACE_LIMIT} 个。`);
      relistPlaceOverlays();
    },
    onForbidden: () => relistPlaceOverlays(),
    onError: (kind, error) => status.error(`${PLACE_KINDS[kind]}加载失败：${error.message}`),
  });

  // The layer control names an overlay once; re-listing them in order shows the new counts.
  function relistPlaceOverlays() {
    if (!layerControl) return;
    for (const { kind } of PLACE_OVERLAYS) layerControl.removeLayer(places.overlays[kind].group);
    for (const { kind } of PLACE_OVERLAYS) {
      const entry = places.overlays[kind];
      if (entry.state !== 'forbidden') layerControl.addOverlay(entry.group, places.label(kind));
    }
  }

  const registry = createRegistryPanel(document.getElementById('registry'), {
    toggle: document.getElementById('registry-toggle'),
    onPlace: (kind, id) => {
      if (compact) registry.close(); // one sheet at a time on a phone
      selectPlace(kind, { id, properties: { id } });
    },
  });

  function selectGrid(feature) {
    grids.highlight(feature.properties.code);
    details.showGrid(feature);
  }

  async function openGridByCode(code) {
    const loaded = grids.find(code);
    if (loaded) {
      const layer = grids.highlight(code);
      details.showGrid(loaded);
      if (layer && !map.getBounds().contains(layer.getBounds())) map.fitBounds(layer.getBounds(), { padding: [20, 20] });
      return;
    }
    try {
      details.showGrid(await api.getGrid(code));
    } catch (error) {
      status.error(`读取网格 ${code} 失败：${error.message}`);
    }
  }

  const legend = createLegend(map, {
    collapsed: compact,
    onChange: (hidden) => {
      cases.setHiddenStatuses(hidden);
      showInfo();
    },
  });

  lookupUi = createLookup(map, {
    toggle: document.getElementById('lookup-toggle'),
    formToggle: document.getElementById('lookup-form-toggle'),
    locate: document.getElementById('locate'),
    form: document.getElementById('lookup-form'),
  }, {
    details,
    status,
    onResult: (result) => grids.highlight(result.responsible?.code || null),
    onReported: (feature) => {
      cases.addCase(feature);
      if (caseSummary) caseSummary.total += 1;
      legend.setCounts(cases.countsByStatus());
      showInfo();
      details.showCase(feature);
      status.notice('report', `已上报事件 ${feature.properties.external_id || feature.properties.id || ''}。`);
    },
  });

  const gridsLoaded = grids.load((level) => api.getGrids(level)).then((results) => {
    gridText = describeGrids(results);
    showInfo();
    const bounds = grids.bounds();
    if (bounds) map.fitBounds(bounds, { padding: compact ? [8, 8] : [20, 20] });
    return results;
  });

  const casesLoaded = api.getCases({ limit: CASE_LIMIT }).then((collection) => {
    const { total, withoutLocation } = cases.setCases(collection);
    legend.setCounts(cases.countsByStatus());
    caseSummary = { total, withoutLocation };
    if (total >= CASE_LIMIT) status.notice('limit', `事件较多，地图只加载了 ${CASE_LIMIT} 件。`);
    showInfo();
  }, (error) => {
    status.error(`事件加载失败：${error.message}`);
  });

  const courtyardsLoaded = courtyards.load(
    () => api.getCourtyardMap(),
    () => api.getPlaces({ kind: 'courtyard', limit: PLACE_LIMIT }),
  ).catch((error) => {
    status.error(`小区加载失败：${error.message}`);
    return { error };
  });

  const [gridResults, , courtyardResult] = await Promise.all([gridsLoaded, casesLoaded, courtyardsLoaded]);
  // Who may not read places sees neither their overlays nor the registry (the API said 403).
  const readsPlaces = !courtyardResult.forbidden;
  if (readsPlaces && !courtyardResult.error) courtyards.layer.addTo(map);
  cases.layer.addTo(map);

  const overlays = {};
  for (const { key, label } of LEVELS) {
    const r = gridResults[key];
    overlays[r.error ? `${label}（加载失败）` : `${label} (${r.count})`] = grids.levels[key].group;
  }
  overlays['事件'] = cases.layer;
  if (readsPlaces) {
    overlays[courtyardResult.error ? '小区/院落（加载失败）' : `小区/院落 (${courtyardResult.count})`] = courtyards.layer;
  }
  layerControl = L.control.layers(baseLayers, overlays, { collapsed: compact, position: 'topright' }).addTo(map);
  if (readsPlaces) {
    relistPlaceOverlays();
    registry.enable();
  }

  // For diagnostics in the browser console and for browser tests.
  window.oneGrid = { map, grids, cases, details, lookup: lookupUi, courtyards, places, registry };
  // Unless the session ended while loading: then the sign-in screen stays up.
  if (document.body.dataset.state === 'loading') document.body.dataset.state = 'ready';
}

async function boot() {
  let me = null;
  try {
    me = await resumeSession();
  } catch (error) {
    me = await signIn.ask(`无法确认登录状态：${error.message}`);
  }
  if (me && !mayUseMap(me)) {
    await api.signOut();
    me = await signIn.ask(RESIDENT_NOTE);
  }
  me ??= await signIn.ask();
  account.show(me);
  // From now on a session that cannot be refreshed brings the sign-in screen back; after
  // signing in the page starts afresh, as whoever signed in (their scope may differ).
  api.onSessionEnd((message) => {
    signIn.ask(message).then(() => window.location.reload());
  });
  await start();
}

boot().catch((error) => {
  document.body.dataset.state = 'error';
  status.error(`地图初始化失败：${error.message}`);
});
