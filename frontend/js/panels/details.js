// The details panel: one case, one grid, or the answer of a point lookup.
import { LEVELS, LEVEL_LABELS, LIGHTS, SOURCE_LABELS, statusInfo } from '../domain.js';
import { h, formatMetres, formatTime } from '../dom.js';

/**
 * el: the panel element (with .og-panel-title, .og-panel-body and a close button).
 * gridName(code) returns a loaded grid's name; onGridCode(code) opens that grid;
 * loadProgress(id) resolves to {case, events, actionNames} for a case's workflow section.
 */
export function createDetailsPanel(el, {
  gridName = () => null, onGridCode, onClose, boundaryMetres = 5, loadProgress,
} = {}) {
  const title = el.querySelector('.og-panel-title');
  const body = el.querySelector('.og-panel-body');
  el.querySelector('.og-panel-close').addEventListener('click', () => close());

  function open(kind, heading, ...content) {
    el.dataset.kind = kind;
    title.textContent = heading;
    body.replaceChildren(...content.flat().filter(Boolean));
    el.hidden = false;
    body.scrollTop = 0;
    el.parentElement.classList.add('og-panel-open'); // moves the map's right-hand controls aside
  }

  function close() {
    el.hidden = true;
    el.parentElement.classList.remove('og-panel-open');
    delete el.dataset.kind;
    delete el.dataset.code;
    delete el.dataset.caseId;
    onClose?.();
  }

  function row(label, value, attrs = {}) {
    const shown = value === null || value === undefined || value === '' ? '—' : value;
    return h('div', { class: 'og-row', ...attrs }, h('dt', {}, label), h('dd', {}, shown));
  }

  // A grid code as a button that opens the grid, with its name when the grid is loaded.
  function gridRef(code, name) {
    if (!code) return null;
    const label = name || gridName(code);
    return h('button', {
      type: 'button',
      class: 'og-link og-grid-ref',
      dataset: { code },
      onclick: () => onGridCode?.(code),
    }, label ? `${label}（${code}）` : code);
  }

  function assignmentRows(codeOf, nameOf = () => null) {
    return LEVELS.map(({ key, label }) =>
      row(label, gridRef(codeOf(key), nameOf(key)) || '无', { dataset: { level: key } }));
  }

  function flags({ onBoundary, outside, nearestCode, nearestName, nearestM }) {
    const items = [];
    if (onBoundary) {
      items.push(h('p', { class: 'og-flag og-flag-boundary' },
        `位于网格边界附近（${boundaryMetres} 米以内），已按规则归入唯一网格。`));
    }
    if (outside) {
      items.push(h('p', { class: 'og-flag og-flag-outside' }, '不在任何网格覆盖范围内，需人工确认归属。'));
    }
    if (nearestCode) {
      items.push(h('p', { class: 'og-flag og-flag-nearest' },
        '最近网格：', gridRef(nearestCode, nearestName), `，距离 ${formatMetres(nearestM)}`));
    }
    return items;
  }

  // The deadline light, the unit in charge and the history, fetched when a case opens.
  async function showProgress(id) {
    const box = body.querySelector('.og-progress');
    let progress;
    try {
      progress = await loadProgress(id);
    } catch (error) {
      box.replaceChildren(h('p', { class: 'og-flag' }, `办理进度读取失败：${error.message}`));
      return;
    }
    if (el.dataset.caseId !== String(id)) return; // another case was opened meanwhile
    const c = progress.case;
    const light = c.deadline ? LIGHTS[c.deadline.light] : null;
    box.replaceChildren(
      h('dl', { class: 'og-props' },
        row('当前环节时限', light
          ? h('span', { class: 'og-light', dataset: { light: c.deadline.light }, style: `--chip:${light.color}` },
            `${light.label} · 已用 ${Math.round(c.deadline.time_used * 100)}%`,
            c.deadline.clock_stopped ? '（挂账停止计时）' : '')
          : null),
        row('截止时间', formatTime(c.due_at)),
        row('责任单位', c.unit_name ? `${c.unit_name}（${c.unit_code}）` : c.unit_code),
        row('派单规则', c.dispatch_rule),
        row('返工 / 延期', `${c.rework_count} / ${c.extension_count}`),
        c.escalated ? row('督办', '是') : null),
      h('ol', { class: 'og-events' }, progress.events.map((e) => h('li', {},
        h('time', {}, formatTime(e.at)), ' ',
        h('strong', {}, progress.actionNames[e.action] || e.action), ' ',
        `${e.actor}${e.note ? `：${e.note}` : ''}`,
        e.late ? h('span', { class: 'og-late' }, ' 超时') : null))));
  }

  return {
    close,

    showCase(feature) {
      const p = feature.properties || {};
      const coords = feature.geometry?.coordinates;
      const status = statusInfo(p.status);
      open('case', `事件 ${p.external_id || p.id}`,
        h('p', { class: 'og-status-chip', style: `--chip:${status.color}` }, status.label),
        h('dl', { class: 'og-props' },
          row('事件编号', p.id),
          row('外部编号', p.external_id),
          row('类别', p.category),
          row('描述', p.description),
          row('来源', SOURCE_LABELS[p.source] || p.source),
          row('状态', p.status ? `${status.label}（${p.status}）` : null),
          row('上报时间', formatTime(p.reported_at)),
          row('位置 (WGS84)', coords ? `${coords[0].toFixed(6)}, ${coords[1].toFixed(6)}` : '无位置')),
        h('h3', {}, '网格归属'),
        h('dl', { class: 'og-props og-assignment' },
          assignmentRows((level) => p[`${level}_code`]),
          row('责任网格', p.responsible_code
            ? h('span', {}, gridRef(p.responsible_code, p.responsible_name), p.responsible_level ? `（${LEVEL_LABELS[p.responsible_level] || p.responsible_level}）` : '')
            : '无'),
          row('归属规则', p.assignment_rule)),
        flags({
          onBoundary: p.on_boundary, outside: p.outside_coverage,
          nearestCode: p.nearest_code, nearestM: p.nearest_m,
        }),
        h('h3', {}, '办理进度'),
        h('div', { class: 'og-progress' }, h('p', { class: 'og-muted' }, '加载中…')));
      el.dataset.caseId = String(p.id);
      if (loadProgress) showProgress(p.id);
    },

    showGrid(feature) {
      const p = feature.properties || {};
      open('grid', p.name || p.code,
        h('dl', { class: 'og-props' },
          row('名称', p.name),
          row('编码', p.code),
          row('层级', LEVEL_LABELS[p.level] || p.level),
          row('上级网格', gridRef(p.parent_code)),
          row('户数', p.households),
          row('网格长', p.leader),
          row('责任单位', p.unit_name),
          row('事件总数', p.case_count),
          row('未结事件', p.open_case_count)));
      el.dataset.code = p.code;
    },

    /** query: {lon, lat, crs} as asked; onReport() opens the report form, when reporting is offered. */
    showLookup(result, query, { onReport } = {}) {
      const grids = result.grids || {};
      const asked = query && query.crs && query.crs !== 'wgs84'
        ? row(`输入坐标 (${query.crs.toUpperCase()})`, `${query.lon}, ${query.lat}`) : null;
      open('lookup', '位置所在网格',
        h('dl', { class: 'og-props' },
          asked,
          row('位置 (WGS84)', `${Number(result.lon).toFixed(6)}, ${Number(result.lat).toFixed(6)}`)),
        h('h3', {}, '所在网格'),
        h('dl', { class: 'og-props og-assignment' },
          assignmentRows((level) => grids[level]?.code, (level) => grids[level]?.name),
          row('责任网格', result.responsible
            ? h('span', {}, gridRef(result.responsible.code, result.responsible.name),
              `（${LEVEL_LABELS[result.responsible.level] || result.responsible.level}）`)
            : '无'),
          row('归属规则', result.rule)),
        flags({
          onBoundary: result.on_boundary, outside: result.outside_coverage,
          nearestCode: result.nearest?.code, nearestName: result.nearest?.name,
          nearestM: result.nearest?.distance_m,
        }),
        onReport ? h('button', { type: 'button', class: 'og-button og-report-open', onclick: onReport }, '在此处上报事件') : null);
    },

    /** Appends a node (for example the report form) to the open panel. */
    append(node) {
      body.appendChild(node);
      node.scrollIntoView?.({ block: 'nearest' });
    },

    message(heading, text) {
      open('message', heading, h('p', {}, text));
    },
  };
}
