// The registry dashboard: GET /registry/reports[/{option}]?group_by= as the
// registry computed it — responder rates with Wilson CIs per timepoint,
// Kaplan–Meier curves, adverse-event rates, loss to follow-up.
import { el, api, showError, words, fmt, pct, initPage } from './common.js';
import { kmChart } from './chart.js';

const COLORS = ['#0a4fa3', '#7a1212', '#174d17', '#5c3f00', '#5b2a86', '#12344d'];

function ci(rate) {
  if (!rate || !rate.n) return '—';
  return `${rate.successes}/${rate.n} = ${pct(rate.p)} (${pct(rate.lower)}–${pct(rate.upper)})`;
}

function instrumentTable(instrument) {
  return el('table', { class: 'responders' },
    el('caption', {}, `${instrument.display} (${words(instrument.direction)}; confidence ${instrument.confidence})`,
      instrument.confidence === 'U' ? [' ', el('span', { class: 'unverified' }, 'unverified')] : null),
    el('thead', {}, el('tr', {}, ['Weeks', 'Due', 'Observed', 'Lost to follow-up', 'No baseline', 'Mean change (95 % CI)',
      'MCID responders (95 % CI)', 'IMMPACT ≥ 30 %', 'IMMPACT ≥ 50 %', 'Ordinal responders'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, (instrument.timepoints || []).map((t) => el('tr', {},
      el('th', { scope: 'row' }, String(t.weeks)), el('td', {}, String(t.due)), el('td', {}, String(t.observed)),
      el('td', {}, String(t.lost_to_follow_up)), el('td', {}, String(t.without_baseline)),
      el('td', {}, t.change && t.change.n ? `${fmt(t.change.mean)} (${fmt(t.change.lower)} to ${fmt(t.change.upper)}), n ${t.change.n}` : '—'),
      el('td', {}, ci(t.mcid)), el('td', {}, ci(t.immpact30)), el('td', {}, ci(t.immpact50)), el('td', {}, ci(t.ordinal_responders))))));
}

function groupSection(option, group) {
  const survival = group.survival || [];
  return el('section', { class: 'card group' },
    el('h3', {}, `${group.group === 'all' ? 'All episodes' : words(group.group)}: ${group.episodes} episodes, ${group.patients} patients`),
    (group.instruments || []).map(instrumentTable),
    el('table', { class: 'adverse' }, el('caption', {}, 'Adverse events (episodes with at least one)'),
      el('thead', {}, el('tr', {}, ['Category', 'Events', 'Episodes (95 % CI)'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, (group.adverse_events || []).map((a) => el('tr', {}, el('th', { scope: 'row' }, words(a.category)),
        el('td', {}, String(a.events)), el('td', {}, ci(a.episodes)))))),
    survival.length ? el('div', { class: 'grid2' }, survival.map((s, i) => el('figure', {},
      kmChart(`Kaplan–Meier: ${words(s.endpoint)} (${s.subjects} episodes, ${s.events} events)`,
        [{ name: words(s.endpoint), color: COLORS[i % COLORS.length], steps: s.steps || [] }], s.time_unit),
      el('figcaption', {}, `Free of ${words(s.endpoint)}: ${s.subjects} episodes, ${s.events} events; shaded: 95 % CI (Greenwood, log).`)))) : null);
}

function render(report) {
  const root = document.getElementById('report');
  const parts = [el('p', {}, `Report of ${report.today}. `, report.observational ? 'Observational data of this clinic.' : '')];
  for (const option of report.options || []) {
    parts.push(el('section', { class: 'option-report', 'aria-labelledby': `r-${option.option}` },
      el('h2', { id: `r-${option.option}` }, option.display || words(option.option),
        option.synthetic ? [' ', el('span', { class: 'unverified' }, 'synthetic demo data')] : null),
      (option.groups || []).map((g) => groupSection(option, g))));
  }
  if (!(report.options || []).length) parts.push(el('p', {}, 'The registry has no episodes yet.'));
  root.replaceChildren(...parts);
}

async function show(event) {
  if (event) event.preventDefault();
  const option = document.getElementById('option').value;
  const group = document.getElementById('group-by').value;
  const period = ['from', 'to'].map((name) => [name, document.getElementById(`period-${name}`).value])
    .filter(([, value]) => value).map(([name, value]) => `&${name}=${value}`).join('');
  const status = document.getElementById('status');
  status.textContent = 'Loading the report…';
  try {
    const report = await api(`/api/registry/reports${option ? `/${encodeURIComponent(option)}` : ''}?group_by=${group}${period}`);
    render(report);
    const started = period ? ` of the episodes started ${document.getElementById('period-from').value || '…'} – ${document.getElementById('period-to').value || '…'}` : '';
    status.textContent = `Report loaded (${(report.options || []).length} options${started}).`;
  } catch (error) {
    showError(document.getElementById('report'), error);
    status.textContent = '';
  }
}

async function main() {
  await initPage();
  try {
    const kb = await api('/api/kb');
    const select = document.getElementById('option');
    for (const r of (kb.resources || []).filter((x) => x.resourceType === 'ActivityDefinition')) {
      select.append(el('option', { value: r.id }, r.title || r.id));
    }
    select.value = 'prp-knee';
    if (select.value !== 'prp-knee') select.value = '';
  } catch (error) { /* the report still loads */ }
  document.getElementById('filters').addEventListener('submit', show);
  await show();
}

main();
