// Legend of case statuses that doubles as the status filter.
import { STATUSES, UNKNOWN_STATUS } from '../domain.js';
import { h } from '../dom.js';

const L = window.L;

/** A map control; onChange(hiddenGroups) fires when a status is switched on or off. */
export function createLegend(map, { onChange, collapsed = false } = {}) {
  const hidden = new Set();
  const rows = new Map();
  const control = L.control({ position: 'bottomright' });

  control.onAdd = () => {
    const list = h('ul', { class: 'og-legend-list' });
    for (const s of [...STATUSES, UNKNOWN_STATUS]) {
      const input = h('input', { type: 'checkbox', checked: true, value: s.key, 'data-status': s.key });
      input.addEventListener('change', () => {
        if (input.checked) hidden.delete(s.key);
        else hidden.add(s.key);
        onChange?.([...hidden]);
      });
      const count = h('span', { class: 'og-legend-count' });
      const row = h('li', { class: 'og-legend-row', dataset: { status: s.key } },
        h('label', {},
          input,
          h('span', { class: 'og-swatch', style: `background:${s.color}` }),
          h('span', { class: 'og-legend-label' }, s.label),
          count));
      rows.set(s.key, { row, count });
      list.appendChild(row);
    }
    const box = h('details', { class: 'og-legend leaflet-bar', open: !collapsed },
      h('summary', {}, '事件状态'),
      list,
      h('p', { class: 'og-legend-hint' }, '勾选以筛选'));
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  control.addTo(map);

  return {
    /** Shows per-status counts; states no loaded case is in are hidden (there are 13). */
    setCounts(counts) {
      for (const [, { row, count }] of rows) {
        const n = counts[row.dataset.status] || 0;
        count.textContent = String(n);
        row.hidden = n === 0;
      }
    },
  };
}
