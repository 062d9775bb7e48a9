// "Which grid is this?": click the map in lookup mode, type coordinates, or use the device's
// position; then, optionally, report a case at that point.
import { lookup, reportCase } from '../api.js';
import { h } from '../dom.js';

const L = window.L;

const COMMON_CATEGORIES = ['暴露垃圾', '占道经营', '井盖缺失', '路灯损坏', '违章搭建', '乱堆物料', '道路破损', '绿地脏乱'];

/**
 * ui: {toggle, formToggle, locate, form} elements from index.html.
 * details: the details panel; status: the status line; onResult(result) sees each lookup answer;
 * onReported(feature) receives a new case.
 */
export function createLookup(map, ui, { details, status, onResult, onReported, onModeChange } = {}) {
  const { toggle, formToggle, locate, form } = ui;
  // Its own pane above the case markers, so the asked point is never hidden by a cluster.
  map.createPane('lookupPoint');
  map.getPane('lookupPoint').style.zIndex = 650;
  map.getPane('lookupPoint').style.pointerEvents = 'none';
  const marker = L.circleMarker([0, 0], {
    pane: 'lookupPoint',
    radius: 9, color: '#ff6f00', weight: 3, fillColor: '#fff', fillOpacity: 0.9,
    interactive: false, className: 'og-lookup-marker',
  });
  let active = false;

  function setActive(on) {
    active = on;
    toggle.setAttribute('aria-pressed', String(on));
    map.getContainer().classList.toggle('og-lookup-mode', on);
    onModeChange?.(on);
  }

  function fillForm({ lon, lat, crs }) {
    form.elements.lon.value = Number(lon).toFixed(6);
    form.elements.lat.value = Number(lat).toFixed(6);
    form.elements.crs.value = crs;
  }

  function reportForm(result) {
    const message = h('p', { class: 'og-form-message', role: 'status' });
    const submit = h('button', { type: 'submit', class: 'og-button' }, '提交上报');
    const f = h('form', { class: 'og-report-form' },
      h('h3', {}, '上报事件'),
      h('label', {}, '类别',
        h('input', { name: 'category', list: 'og-categories', required: true, maxlength: 50, placeholder: '例如：暴露垃圾' })),
      h('datalist', { id: 'og-categories' }, COMMON_CATEGORIES.map((c) => h('option', { value: c }))),
      h('label', {}, '描述',
        h('textarea', { name: 'description', rows: 3, maxlength: 1000, placeholder: '问题描述、具体位置' })),
      submit,
      message);
    f.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      message.textContent = '正在提交…';
      try {
        const created = await reportCase({
          lon: result.lon, lat: result.lat, crs: 'wgs84',
          category: f.elements.category.value.trim(),
          description: f.elements.description.value.trim(),
        });
        // The contract returns the case as a GeoJSON Feature; accept a bare object too.
        const feature = created && created.type === 'Feature' ? created : {
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [result.lon, result.lat] },
          properties: created,
        };
        onReported?.(feature);
      } catch (error) {
        message.textContent = `上报失败：${error.message}`;
        submit.disabled = false;
      }
    });
    return f;
  }

  async function run(query) {
    fillForm(query);
    try {
      const result = await lookup(query);
      marker.setLatLng([result.lat, result.lon]).addTo(map);
      if (!map.getBounds().contains(marker.getLatLng())) map.panTo(marker.getLatLng());
      onResult?.(result);
      details.showLookup(result, query, {
        onReport: () => {
          document.querySelector('.og-report-form')?.remove();
          details.append(reportForm(result));
        },
      });
    } catch (error) {
      details.message('查询失败', error.message);
      status.error(`位置查询失败：${error.message}`);
    }
  }

  toggle.addEventListener('click', () => setActive(!active));
  formToggle.addEventListener('click', () => {
    form.hidden = !form.hidden;
    formToggle.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) form.elements.lon.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const lon = Number(form.elements.lon.value);
    const lat = Number(form.elements.lat.value);
    const crs = form.elements.crs.value;
    if (!form.elements.lon.value || !form.elements.lat.value || !Number.isFinite(lon) || !Number.isFinite(lat)) {
      details.message('查询失败', '请填写经度和纬度（十进制度数）。');
      return;
    }
    if (Math.abs(lat) > 90) {
      details.message('查询失败', '纬度应在 -90 到 90 之间：经度和纬度是否填反了？');
      return;
    }
    run({ lon, lat, crs });
  });
  locate.addEventListener('click', () => {
    if (!navigator.geolocation) {
      status.error('此浏览器无法获取当前位置。');
      return;
    }
    locate.disabled = true;
    navigator.geolocation.getCurrentPosition((pos) => {
      locate.disabled = false;
      // Browsers report WGS84 (GPS) coordinates.
      run({ lon: pos.coords.longitude, lat: pos.coords.latitude, crs: 'wgs84' });
    }, (err) => {
      locate.disabled = false;
      const reason = err.code === err.PERMISSION_DENIED ? '未获得定位权限' : '定位失败';
      status.error(`${reason}，可以在地图上点选或输入坐标查询。`);
    }, { enableHighAccuracy: true, timeout: 15000 });
  });
  map.on('click', (event) => {
    if (active) run({ lon: event.latlng.lng, lat: event.latlng.lat, crs: 'wgs84' });
  });

  return {
    isActive: () => active,
    run,
    clearMarker: () => marker.remove(),
  };
}
