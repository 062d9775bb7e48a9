// The base map: the tile layer named in /api/config, or a plain light background when there is
// none or its tiles cannot be loaded (no network, blocked host). The grids never depend on it.
const L = window.L;

// After this many failed tiles and none loaded, the tile source is taken as unreachable.
const FAILED_TILES_BEFORE_FALLBACK = 4;

/**
 * Adds the base layer to the map and returns the entries for the layer control.
 * onUnavailable(message) is called once when the page falls back to the plain background.
 */
export function createBaseMap(map, config, { onUnavailable } = {}) {
  const blank = L.layerGroup();
  const baseLayers = {};
  if (!config.tile_url) {
    baseLayers['空白底图'] = blank;
    blank.addTo(map);
    onUnavailable?.('未配置在线底图，使用空白底图。');
    return { baseLayers, tiles: null };
  }

  const tiles = L.tileLayer(config.tile_url, {
    attribution: config.tile_attribution || '',
    maxZoom: map.getMaxZoom(),
    maxNativeZoom: config.tile_max_zoom || undefined,
    crossOrigin: false,
  });
  let loaded = 0;
  let failed = 0;
  let gaveUp = false;
  tiles.on('tileload', () => {
    loaded += 1;
  });
  tiles.on('tileerror', () => {
    failed += 1;
    if (!gaveUp && loaded === 0 && failed >= FAILED_TILES_BEFORE_FALLBACK) {
      gaveUp = true;
      // Removing the layer stops further requests to an unreachable host on every pan.
      map.removeLayer(tiles);
      blank.addTo(map);
      onUnavailable?.('在线底图无法加载（可能没有网络），已切换为空白底图；网格和事件不受影响。');
    }
  });
  baseLayers['在线底图'] = tiles;
  baseLayers['空白底图'] = blank;
  tiles.addTo(map);
  return { baseLayers, tiles };
}
