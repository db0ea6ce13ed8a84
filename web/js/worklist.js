// The worklist: GET /registry/due (follow-ups due and overdue), by pseudonym, a page at a time
// (page_size / cursor: the server reads a page from its index, never the whole list);
// GET /api/screening (the latest population screening: summary and candidates by Patient reference).
import { el, api, showError, words, session, initPage } from './common.js';

const PAGE_SIZE = 100;
let items = [];
let today = '';
// cursors[i]: the cursor of page i ('' for the first); next: the next page's, null on the last.
const cursors = [''];
let pageIndex = 0;
let next = null;

function render() {
  const filter = document.getElementById('status-filter').value;
  const shown = items.filter((i) => !filter || i.status === filter);
  const first = pageIndex * PAGE_SIZE + 1;
  const root = document.getElementById('worklist');
  const pager = el('nav', { class: 'inline no-print', 'aria-label': 'Worklist pages' },
    el('button', { type: 'button', id: 'worklist-previous', disabled: pageIndex === 0,
      onclick: () => loadPage(pageIndex - 1) }, 'Previous page'),
    el('button', { type: 'button', id: 'worklist-next', disabled: next === null,
      onclick: () => loadPage(pageIndex + 1) }, 'Next page'));
  root.replaceChildren(el('table', {},
    el('caption', {}, `${shown.length} follow-ups ${filter || 'due or overdue'} on this page`),
    el('thead', {}, el('tr', {}, ['Status', 'Window', 'Patient (pseudonym)', 'Option', 'Instrument', 'Weeks', ''].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, shown.map((i) => el('tr', {},
      el('td', {}, el('span', { class: `badge met-${i.status === 'overdue' ? 'false' : 'null'}` }, i.status)),
      el('td', {}, `${i.window_start} – ${i.window_end}`),
      el('td', {}, i.patient), el('td', {}, words(i.option)), el('td', {}, i.instrument), el('td', {}, String(i.weeks)),
      el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => {
        session.set('patient', null);
        sessionStorage.setItem('regenpath.pseudonym', i.patient);
        window.location.href = 'outcomes.html';
      } }, 'Outcomes')))))),
  pager);
  document.getElementById('status').textContent = items.length
    ? `Worklist of ${today}: items ${first}–${first + items.length - 1}${next === null ? ' (the last page)' : ''}.`
    : `Worklist of ${today}: no follow-up is due.`;
}

// Loads page `index` (0, or a page whose cursor is known: the one before or after the current).
async function loadPage(index) {
  const cursor = cursors[index];
  const query = new URLSearchParams({ page_size: String(PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  try {
    const due = await api(`/api/registry/due?${query}`);
    items = due.items || [];
    today = due.today;
    next = due.next ?? null;
    pageIndex = index;
    cursors.length = index + 1;
    if (next !== null) cursors.push(next);
    render();
  } catch (error) {
    showError(document.getElementById('worklist'), error);
  }
}

async function loadScreening() {
  const root = document.getElementById('screening');
  let answer;
  try {
    answer = await api('/api/screening');
  } catch (error) {
    showError(root, error);
    return;
  }
  if (!answer.configured) return;  // the page's text says how to configure one
  if (!answer.available) {
    root.replaceChildren(el('p', { class: 'muted' }, `No screening result yet: ${answer.reason}`));
    return;
  }
  const result = answer.result;
  const s = result.summary || {};
  const stages = Object.entries(s.stages || {}).map(([stage, n]) => el('li', {}, `${words(stage)}: ${n}`));
  const candidates = result.candidates || [];
  // Candidates the screening left off the worklist, and why (summary.json's counts).
  const leftOff = Object.entries(s.candidates_not_in_group || {}).filter(([, n]) => n > 0);
  const leftOffCount = leftOff.reduce((sum, [, n]) => sum + n, 0);
  root.replaceChildren(...[
    el('p', { id: 'screening-summary' }, `Screening as of ${s.evaluated_at || result.now || 'unknown'} (written ${result.completed || 'unknown'}): `
      + `${s.assessed ?? '?'} of ${s.patients ?? '?'} patients assessed, ${candidates.length} regenerative candidates.`),
    stages.length ? el('ul', { class: 'inline-list' }, stages) : null,
    el('table', { id: 'screening-candidates' },
      el('caption', {}, `${candidates.length} candidates (a regenerative option open, record in active use, alive)`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Patient (EHR reference)'))),
      el('tbody', {}, candidates.slice(0, 500).map((ref) => el('tr', {}, el('td', {}, ref))))),
    candidates.length > 500 ? el('p', { class: 'muted' }, `The first 500 of ${candidates.length} are shown.`) : null,
    leftOffCount > 0 ? el('p', { id: 'screening-not-in-group' },
      `${leftOffCount} more candidate(s) are on no worklist: `
      + leftOff.map(([why, n]) => `${n} ${words(why)}`).join(', ') + ' (see the screening\'s patients.ndjson).') : null,
  ].filter(Boolean));
}

async function main() {
  await initPage();
  document.getElementById('status-filter').addEventListener('change', render);
  await loadPage(0);
  await loadScreening();
}

main();
