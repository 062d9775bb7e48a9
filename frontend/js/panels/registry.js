// The 台账 panel: registry statistics, red-property coverage and the quarter's enterprise visit
// coverage with the enterprises not yet visited. Each section comes from its own API answer and
// is left out, without a word, when the person's role may not read it (403).
import * as api from '../api.js';
import { ITEM_LEVEL_LABELS, LEVELS, LEVEL_LABELS, STAFF_DUTY_LABELS } from '../domain.js';
import { h } from '../dom.js';

const QUARTERS_SHOWN = 8; // the picker offers at least the last two years

/** "2025Q3" for a date "2025-08-14". */
export function quarterOf(isoDate) {
  const [year, month] = isoDate.split('-').map(Number);
  return `${year}Q${Math.floor((month - 1) / 3) + 1}`;
}

/** Today's date in Beijing, as the server counts quarters. */
function beijingToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

function previousQuarter(q) {
  const year = Number(q.slice(0, 4));
  const n = Number(q.slice(5));
  return n === 1 ? `${year - 1}Q4` : `${year}Q${n - 1}`;
}

/** Quarters from the current one back, newest first, reaching back to `oldest` at least. */
function quarterChoices(current, oldest) {
  const list = [current];
  while (list.length < QUARTERS_SHOWN || list[list.length - 1] > oldest) {
    list.push(previousQuarter(list[list.length - 1]));
    if (list.length > 80) break; // twenty years is plenty
  }
  return list;
}

function quarterLabel(q) {
  return `${q.slice(0, 4)} 年第 ${q.slice(5)} 季度`;
}

function share(value) {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

/** A figure row; `key` names where the value is in the API's answer (for readers and tests). */
function figure(label, value, key) {
  const shown = value === null || value === undefined || value === '' ? '—' : value;
  return h('div', { class: 'og-row og-figure', dataset: key ? { figure: key } : {} }, h('dt', {}, label), h('dd', {}, String(shown)));
}

function rateFigure(label, rate, key) {
  return figure(label, `${share(rate.value)}（${rate.numerator}/${rate.denominator}）`, key);
}

/** A table that scrolls sideways on a phone rather than squeezing its columns. */
function table(heads, rows, attrs = {}) {
  return h('div', { class: 'og-table-wrap' },
    h('table', { class: 'og-table', ...attrs },
      h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)));
}

function sectionBox(key, heading) {
  const content = h('div', { class: 'og-section-body' }, h('p', { class: 'og-muted' }, '加载中…'));
  const box = h('section', { class: 'og-registry-section', dataset: { section: key } }, h('h3', {}, heading), content);
  return { box, content };
}

/**
 * el: the panel element (title, body, close button); toggle: the header button that opens it
 * (hidden until enable()). onPlace(kind, id) opens a place's details.
 */
export function createRegistryPanel(el, { toggle, onPlace, onOpenChange } = {}) {
  const body = el.querySelector('.og-panel-body');
  el.querySelector('.og-panel-close').addEventListener('click', () => close());
  toggle.addEventListener('click', () => (el.hidden ? open() : close()));

  let built = false;
  let quarter = null;
  let sections = null;
  let select = null;
  let generation = 0; // answers for an older quarter choice are dropped
  let redPropertyLoaded = null;

  function placeButton(kind, id, text) {
    return h('button', {
      type: 'button', class: 'og-link og-place-ref', dataset: { placeId: String(id), placeKind: kind },
      onclick: () => onPlace?.(kind, id),
    }, text || `#${id}`);
  }

  // When a section's answer is a 403 the section goes; any other failure is said in it.
  async function fill(section, load, render) {
    try {
      const data = await load();
      return data === undefined ? undefined : section.content.replaceChildren(...[render(data)].flat().filter(Boolean));
    } catch (error) {
      if (error.status === 403) section.box.remove();
      else section.content.replaceChildren(h('p', { class: 'og-flag' }, `读取失败：${error.message}`));
      return undefined;
    }
  }

  function renderStats(s) {
    const items = s.responsibility_items;
    const yards = s.courtyards;
    const firms = s.enterprises;
    const problems = s.enterprise_problems;
    const sunk = s.sunk_departments;
    const companies = s.property_companies;
    return [
      h('h4', {}, '网格'),
      h('dl', { class: 'og-props' }, LEVELS.map(({ key }) =>
        figure(LEVEL_LABELS[key], s.grids_per_level[key], `stats.grids_per_level.${key}`))),
      h('h4', {}, '下沉部门与网格力量'),
      h('dl', { class: 'og-props' },
        figure('下沉部门', sunk.count, 'stats.sunk_departments.count'),
        figure('部门下沉人数', sunk.staff, 'stats.sunk_departments.staff'),
        Object.entries(s.staff_per_duty).map(([duty, n]) =>
          figure(STAFF_DUTY_LABELS[duty] || duty, n, `stats.staff_per_duty.${duty}`))),
      sunk.departments.length ? table(['部门', '服务网格', '下沉人员'], sunk.departments.map((d) =>
        h('tr', {}, h('td', {}, d.name || d.code), h('td', {}, d.grids_served), h('td', {}, d.sunk_staff)))) : null,
      h('h4', {}, '事项清单'),
      h('dl', { class: 'og-props' },
        figure('事项总数', items.total, 'stats.responsibility_items.total'),
        figure('可随手办', items.on_the_spot, 'stats.responsibility_items.on_the_spot'),
        Object.entries(items.per_level).map(([level, f]) =>
          figure(`${ITEM_LEVEL_LABELS[level] || level}层级`, `${f.items}（随手办 ${f.on_the_spot}）`, `stats.responsibility_items.per_level.${level}`))),
      h('h4', {}, '物业公司'),
      h('dl', { class: 'og-props' },
        figure('物业公司', companies.count, 'stats.property_companies.count'),
        figure('党支部', companies.party_branches ?? '未录入')),
      companies.companies.length ? table(['公司', '管理小区', '认领(已批准)'], companies.companies.map((c) =>
        h('tr', { dataset: { company: c.code } }, h('td', {}, c.name || c.code), h('td', {}, c.courtyards_managed), h('td', {}, c.claims_approved)))) : null,
      h('h4', {}, '小区/院落'),
      h('dl', { class: 'og-props' },
        figure('小区总数', yards.total, 'stats.courtyards.total'),
        figure('物业管理', yards.property_managed, 'stats.courtyards.property_managed'),
        figure('无主管', yards.unmanaged, 'stats.courtyards.unmanaged'),
        figure('红色物业认领', yards.red_property, 'stats.courtyards.red_property'),
        figure('未登记', yards.not_recorded, 'stats.courtyards.not_recorded'),
        rateFigure('认领率', yards.claimed_share, 'stats.courtyards.claimed_share')),
      h('h4', {}, `企业（走访按 ${quarterLabel(s.quarter.label)}）`),
      h('dl', { class: 'og-props' },
        figure('企业总数', firms.total, 'stats.enterprises.total'),
        figure('重点税源', firms.key_tax_source, 'stats.enterprises.key_tax_source'),
        figure('规上企业', firms.above_scale, 'stats.enterprises.above_scale'),
        figure('重点企业', firms.key, 'stats.enterprises.key'),
        figure('本季已走访', firms.visited, 'stats.enterprises.visited'),
        figure('重点企业已走访', firms.key_visited, 'stats.enterprises.key_visited'),
        rateFigure('重点企业走访率', firms.key_visit_rate, 'stats.enterprises.key_visit_rate'),
        // All-time figures, unlike the visits above: say so next to the quarter's heading.
        figure('企业诉求（累计）', problems.raised, 'stats.enterprise_problems.raised'),
        figure('转为事件（累计）', problems.became_cases, 'stats.enterprise_problems.became_cases'),
        figure('已解决（累计）', problems.solved, 'stats.enterprise_problems.solved')),
    ];
  }

  function renderRedProperty([coverage, claimable]) {
    return [
      h('dl', { class: 'og-props' },
        figure('需红色物业的小区', coverage.needing, 'coverage.needing'),
        figure('已认领', coverage.claimed, 'coverage.claimed'),
        figure('待审批', coverage.pending, 'coverage.pending'),
        figure('未认领（无主管）', coverage.unclaimed, 'coverage.unclaimed'),
        figure('认领率', share(coverage.claimed_share), 'coverage.claimed_share')),
      h('h4', {}, '按物业公司'),
      coverage.companies.length
        ? table(['公司', '小区', '认领起始'], coverage.companies.map((c) =>
          h('tr', { dataset: { company: c.company_code } },
            h('td', {}, c.company_name || c.company_code), h('td', {}, c.courtyards), h('td', {}, c.since || '—'))),
        { dataset: { list: 'coverage.companies' } })
        : h('p', { class: 'og-muted' }, '暂无'),
      h('h4', {}, '按社区'),
      coverage.communities.length
        ? table(['社区', '需认领', '已认领', '待审批', '未认领', '认领率'], coverage.communities.map((c) =>
          h('tr', { dataset: { community: c.code || '' } }, h('td', {}, c.name || c.code || '未归属'), h('td', {}, c.needing),
            h('td', {}, c.claimed), h('td', {}, c.pending), h('td', {}, c.unclaimed), h('td', {}, share(c.claimed_share)))))
        : h('p', { class: 'og-muted' }, '暂无'),
      h('h4', {}, `已认领小区（${coverage.claimed_courtyards.length}）`),
      h('ul', { class: 'og-place-list', dataset: { list: 'coverage.claimed_courtyards' } },
        coverage.claimed_courtyards.map((c) => h('li', {},
          placeButton('courtyard', c.courtyard_id, c.courtyard_name),
          h('span', { class: 'og-muted' }, ` ${c.company_name || c.company_code}${c.since ? `，${c.since} 起` : ''}`)))),
      claimable ? h('h4', {}, `待认领的无主管小区（${claimable.features.length}）`) : null,
      claimable ? h('ul', { class: 'og-place-list', dataset: { list: 'claimable' } },
        claimable.features.map((f) => h('li', {},
          placeButton('courtyard', f.properties?.id ?? f.id, f.properties?.name || f.properties?.code)))) : null,
    ];
  }

  function groupTable(heads, groups, listKey) {
    return table(heads, groups.map((g) => h('tr', {},
      h('td', {}, g.name || g.code || g.officer || '未指定'), h('td', {}, g.enterprises), h('td', {}, g.visited),
      h('td', {}, share(g.visited_share)), g.visits !== undefined ? h('td', {}, g.visits) : null,
      h('td', {}, `${g.problems_raised} / ${g.problems_solved}`))), { dataset: { list: listKey } });
  }

  function renderVisits(c) {
    const flags = (e) => [e.key_tax_source ? '重点税源' : null, e.above_scale ? '规上' : null].filter(Boolean).join('、');
    return [
      h('p', { class: 'og-muted' }, `${c.first_day} 至 ${c.last_day}`),
      h('dl', { class: 'og-props' },
        figure('企业', c.enterprises, 'visits.enterprises'),
        figure('已走访', c.visited, 'visits.visited'),
        figure('走访覆盖率', share(c.visited_share), 'visits.visited_share'),
        figure('走访次数', c.visits, 'visits.visits'),
        figure('诉求', c.problems_raised, 'visits.problems_raised'),
        figure('转为事件', c.problems_turned_into_cases, 'visits.problems_turned_into_cases'),
        figure('已解决', c.problems_solved, 'visits.problems_solved')),
      h('h4', {}, '按社区'),
      c.communities.length ? groupTable(['社区', '企业', '已走访', '覆盖率', '诉求/解决'], c.communities, 'visits.communities') : h('p', { class: 'og-muted' }, '暂无'),
      c.grids.length ? h('details', { class: 'og-more' }, h('summary', {}, `按网格（${c.grids.length}）`),
        groupTable(['网格', '企业', '已走访', '覆盖率', '诉求/解决'], c.grids, 'visits.grids')) : null,
      h('h4', {}, '按包联干部'),
      c.officers.length ? groupTable(['干部', '企业', '已走访', '覆盖率', '走访次数', '诉求/解决'], c.officers, 'visits.officers') : h('p', { class: 'og-muted' }, '暂无'),
      h('h4', {}, `未走访企业（${c.unvisited.length}）`),
      c.unvisited.length
        ? h('ul', { class: 'og-place-list og-unvisited', dataset: { list: 'visits.unvisited' } }, c.unvisited.map((e) => h('li', { dataset: { enterpriseId: String(e.id) } },
          placeButton('enterprise', e.id, e.name || e.code),
          flags(e) ? h('span', { class: 'og-key-flag' }, flags(e)) : null,
          h('span', { class: 'og-muted' }, ` ${e.service_officer || '未指定干部'} · ${e.grid_name || e.grid_code || '无网格'}`
            + ` · ${e.last_visited_on ? `上次 ${e.last_visited_on}` : '从未走访'}`))))
        : h('p', { class: 'og-muted' }, '本季度企业均已走访'),
    ];
  }

  // Statistics and visit coverage follow the quarter picker; red property does not depend on it.
  async function loadQuarter() {
    const mine = ++generation;
    const current = () => mine === generation;
    el.dataset.quarter = quarter;
    el.dataset.state = 'loading';
    for (const key of ['stats', 'visits']) {
      if (sections[key].box.isConnected) sections[key].content.replaceChildren(h('p', { class: 'og-muted' }, '加载中…'));
    }
    await Promise.all([
      sections.stats.box.isConnected && fill(sections.stats,
        async () => { const s = await api.getRegistryStats(quarter); return current() ? s : undefined; }, renderStats),
      sections.visits.box.isConnected && fill(sections.visits,
        async () => { const c = await api.getVisitCoverage(quarter); return current() ? c : undefined; }, renderVisits),
      redPropertyLoaded,
    ]);
    if (current()) el.dataset.state = 'ready'; // for people waiting on it, and for tests
  }

  // The latest quarter with visits (the demo's may lie years back), else the current one.
  async function defaultQuarter() {
    try {
      const [latest] = await api.getVisits({ limit: 1 });
      if (latest?.visited_on) return quarterOf(latest.visited_on);
    } catch {
      // no enterprise service for this role, or it failed: its section says so
    }
    return quarterOf(beijingToday());
  }

  async function build() {
    built = true;
    sections = {
      stats: sectionBox('stats', '台账统计'),
      redProperty: sectionBox('red-property', '红色物业覆盖'),
      visits: sectionBox('visits', '企业走访覆盖'),
    };
    select = h('select', { name: 'quarter', class: 'og-quarter', 'aria-label': '季度' });
    select.addEventListener('change', () => {
      quarter = select.value;
      loadQuarter();
    });
    body.replaceChildren(
      h('label', { class: 'og-quarter-picker' }, '季度', select),
      sections.stats.box, sections.redProperty.box, sections.visits.box);
    el.dataset.state = 'loading';

    redPropertyLoaded = fill(sections.redProperty, () => Promise.all([
      api.getRedPropertyCoverage(),
      api.getClaimableCourtyards().catch((error) => {
        if (error.status === 403) return null;
        throw error;
      }),
    ]), renderRedProperty);
    quarter = await defaultQuarter();
    const now = quarterOf(beijingToday());
    const choices = quarterChoices(now > quarter ? now : quarter, quarter);
    select.replaceChildren(...choices.map((q) => h('option', { value: q }, quarterLabel(q))));
    select.value = quarter;
    await loadQuarter();
  }

  function open() {
    el.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    el.parentElement.classList.add('og-registry-open');
    onOpenChange?.(true);
    if (!built) build();
  }

  function close() {
    el.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    el.parentElement.classList.remove('og-registry-open');
    onOpenChange?.(false);
  }

  return {
    open,
    close,
    isOpen: () => !el.hidden,
    /** Shows the header button: for people who may read the registry. */
    enable() {
      toggle.hidden = false;
    },
  };
}
