// The details panel: one case, one grid, or the answer of a point lookup.
import {
  CLAIM_STATUS_LABELS, LEVELS, LEVEL_LABELS, LIGHTS, PLACE_KINDS, SOURCE_LABELS, statusInfo,
} from '../domain.js';
import { h, formatMetres, formatTime } from '../dom.js';
import { courtyardStatus } from '../layers/courtyards.js';

const MANAGEMENT_LABELS = { property_managed: '物业管理', unmanaged: '无主管', red_property: '红色物业' };
// Attributes kept for the record, not for reading.
const HIDDEN_ATTRIBUTES = new Set(['raw_crs', 'raw_geometry']);

/**
 * el: the panel element (with .og-panel-title, .og-panel-body and a close button).
 * gridName(code) returns a loaded grid's name; onGridCode(code) opens that grid;
 * loadProgress(id) resolves to {case, events, actionNames} for a case's workflow section;
 * loadPlace(kind, id) resolves to {place, claims, visits} for a place (claims and visits are
 * null when the person may not read them, or an Error when they failed).
 */
export function createDetailsPanel(el, {
  gridName = () => null, onGridCode, onClose, boundaryMetres = 5, loadProgress, loadPlace,
} = {}) {
  const title = el.querySelector('.og-panel-title');
  const body = el.querySelector('.og-panel-body');
  el.querySelector('.og-panel-close').addEventListener('click', () => close());

  function open(kind, heading, ...content) {
    for (const key of ['code', 'caseId', 'placeId', 'placeKind']) delete el.dataset[key];
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
    delete el.dataset.placeId;
    delete el.dataset.placeKind;
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

  const yesNo = (v) => (v ? '是' : '否');

  // The typed attributes of each kind (README: attributes by kind).
  function attributeRows(p) {
    const unit = (name, code) => (name ? `${name}（${code}）` : code);
    switch (p.kind) {
      case 'building':
        return [row('地址', p.address), row('户数', p.households), row('人数', p.residents)];
      case 'courtyard':
        return [
          row('地址', p.address), row('户数', p.households), row('人数', p.residents),
          row('管理状态', MANAGEMENT_LABELS[p.management_status] || p.management_status || '未登记'),
          row('物业/认领单位', unit(p.manager_unit_name, p.manager_unit_code))];
      case 'merchant':
        return [row('地址', p.address), row('证照号', p.licence_no), row('行业', p.trade),
          row('联系单位', unit(p.contact_unit_name, p.contact_unit_code))];
      case 'enterprise':
        return [row('地址', p.address), row('证照号', p.licence_no), row('行业', p.trade),
          row('重点税源', yesNo(p.key_tax_source)), row('规上企业', yesNo(p.above_scale)),
          row('包联干部', p.service_officer),
          row('联系单位', unit(p.contact_unit_name, p.contact_unit_code))];
      case 'site':
        return [row('地址', p.address), row('开工日期', p.starts_on), row('完工日期', p.ends_on),
          row('联系单位', unit(p.contact_unit_name, p.contact_unit_code))];
      default:
        return [row('地址', p.address), row('行业', p.trade),
          row('联系单位', unit(p.contact_unit_name, p.contact_unit_code))];
    }
  }

  // Other properties (from an import): plain values only, as sent.
  function otherRows(attributes) {
    return Object.entries(attributes || {})
      .filter(([k, v]) => !HIDDEN_ATTRIBUTES.has(k) && v !== null && typeof v !== 'object')
      .slice(0, 30)
      .map(([k, v]) => row(k, String(v)));
  }

  function claimList(claims) {
    if (claims === null) return null; // not this person's to read
    if (claims instanceof Error) return h('p', { class: 'og-flag' }, `认领记录读取失败：${claims.message}`);
    if (!claims.length) return h('p', { class: 'og-muted og-claims-empty' }, '暂无认领记录');
    return h('ol', { class: 'og-events og-claims' }, claims.map((c) => h('li', { dataset: { claimId: String(c.id), status: c.status } },
      h('time', {}, c.claimed_on), ' ',
      h('strong', {}, c.company_name || c.company_code), ' ',
      h('span', { class: 'og-claim-status' }, CLAIM_STATUS_LABELS[c.status] || c.status),
      c.decided_at ? `，${formatTime(c.decided_at)} 由 ${c.decided_by || '—'} 审批` : '',
      c.decision_note ? `（${c.decision_note}）` : '',
      c.ended_on ? `，${c.ended_on} 退出${c.end_reason ? `：${c.end_reason}` : ''}` : '',
      c.note ? h('div', { class: 'og-muted' }, c.note) : null)));
  }

  function visitList(visits) {
    if (visits === null) return null;
    if (visits instanceof Error) return h('p', { class: 'og-flag' }, `走访记录读取失败：${visits.message}`);
    if (!visits.length) return h('p', { class: 'og-muted og-visits-empty' }, '暂无走访记录');
    return h('ol', { class: 'og-events og-visits' }, visits.map((v) => {
      const solved = v.problems.filter((x) => x.solved).length;
      return h('li', { dataset: { visitId: String(v.id) } },
        h('time', {}, v.visited_on), ' ', h('strong', {}, v.officer), '：', v.discussed,
        v.problems.length ? h('div', { class: 'og-muted' }, `诉求 ${v.problems.length} 项，已解决 ${solved} 项`) : null);
    }));
  }

  async function showPlaceDetails(kind, id) {
    const box = body.querySelector('.og-place-details');
    let loaded;
    try {
      loaded = await loadPlace(kind, id);
    } catch (error) {
      box.replaceChildren(h('p', { class: 'og-flag' }, `读取失败：${error.message}`));
      return;
    }
    if (el.dataset.placeId !== String(id)) return; // another place was opened meanwhile
    if (loaded.place === null) {
      box.replaceChildren(...[
        h('p', { class: 'og-muted og-place-limited' }, '该院落的详细台账由管理或认领它的单位查看；这里显示地图信息和认领记录。'),
        loaded.claims ? h('h3', {}, '认领记录（红色物业）') : null,
        claimList(loaded.claims ?? null),
      ].filter(Boolean));
      return;
    }
    const p = loaded.place.properties || {};
    title.textContent = p.name || p.code || PLACE_KINDS[p.kind] || '地点';
    const others = otherRows(p.attributes);
    box.replaceChildren(...[
      h('dl', { class: 'og-props' },
        row('类型', PLACE_KINDS[p.kind] || p.kind),
        row('名称', p.name),
        row('编码', p.code),
        attributeRows(p)),
      h('h3', {}, '网格归属'),
      h('dl', { class: 'og-props og-assignment' },
        assignmentRows((level) => p.grids?.[level]?.code, (level) => p.grids?.[level]?.name),
        row('责任网格', p.responsible
          ? h('span', {}, gridRef(p.responsible.code, p.responsible.name), `（${LEVEL_LABELS[p.responsible.level] || p.responsible.level}）`)
          : '无')),
      flags({
        onBoundary: p.on_boundary, outside: p.outside_coverage,
        nearestCode: p.nearest?.code, nearestName: p.nearest?.name, nearestM: p.nearest?.distance_m,
      }),
      loaded.claims !== null && loaded.claims !== undefined ? h('h3', {}, '认领记录（红色物业）') : null,
      claimList(loaded.claims ?? null),
      loaded.visits !== null && loaded.visits !== undefined ? h('h3', {}, '最近走访') : null,
      visitList(loaded.visits ?? null),
      others.length ? h('h3', {}, '其他属性') : null,
      others.length ? h('dl', { class: 'og-props og-attributes' }, others) : null,
    ].filter(Boolean)); // replaceChildren would write a null as the text "null"
  }

  return {
    close,

    /** A place of the registry: what the map layer knows at once, the rest from loadPlace. */
    showPlace(kind, feature) {
      const p = feature.properties || {};
      const id = p.id ?? feature.id;
      const chip = kind === 'courtyard' ? courtyardStatus(p) : null;
      open('place', p.name || p.code || PLACE_KINDS[kind] || '地点',
        chip ? h('p', { class: 'og-status-chip og-courtyard-status', style: `--chip:${chip.color}`, dataset: { status: chip.key } }, chip.label) : null,
        kind === 'courtyard' && p.claim_company_name
          ? h('p', { class: 'og-muted' }, `认领单位：${p.claim_company_name}${p.claimed_on ? `，${p.claimed_on} 起` : ''}`) : null,
        h('div', { class: 'og-place-details' }, h('p', { class: 'og-muted' }, '加载中…')));
      el.dataset.placeId = String(id);
      el.dataset.placeKind = kind;
      if (loadPlace) showPlaceDetails(kind, id);
    },

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
