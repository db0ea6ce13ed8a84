// The worklist: GET /registry/due (follow-ups due and overdue), by pseudonym;
// GET /api/screening (the latest population screening: summary and candidates by Patient reference).
import { el, api, showError, words, session, initPage } from './common.js';

let items = [];

function render() {
  const filter = document.getElementById('status-filter').value;
  const shown = items.filter((i) => !filter || i.status === filter);
  const root = document.getElementById('worklist');
  root.replaceChildren(...[el('table', {},
    el('caption', {}, `${shown.length} follow-ups ${filter || 'due or overdue'}`),
    el('thead', {}, el('tr', {}, ['Status', 'Window', 'Patient (pseudonym)', 'Option', 'Instrument', 'Weeks', ''].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, shown.slice(0, 500).map((i) => el('tr', {},
      el('td', {}, el('span', { class: `badge met-${i.status === 'overdue' ? 'false' : 'null'}` }, i.status)),
      el('td', {}, `${i.window_start} – ${i.window_end}`),
      el('td', {}, i.patient), el('td', {}, words(i.option)), el('td', {}, i.instrument), el('td', {}, String(i.weeks)),
      el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => {
        session.set('patient', null);
        sessionStorage.setItem('regenpath.pseudonym', i.patient);
        window.location.href = 'outcomes.html';
      } }, 'Outcomes')))))),
  shown.length > 500 ? el('p', { class: 'muted' }, `The first 500 of ${shown.length} are shown.`) : null,
  ].filter(Boolean));
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
  root.replaceChildren(...[
    el('p', { id: 'screening-summary' }, `Screening as of ${s.evaluated_at || result.now || 'unknown'} (written ${result.completed || 'unknown'}): `
      + `${s.assessed ?? '?'} of ${s.patients ?? '?'} patients assessed, ${candidates.length} regenerative candidates.`),
    stages.length ? el('ul', { class: 'inline-list' }, stages) : null,
    el('table', { id: 'screening-candidates' },
      el('caption', {}, `${candidates.length} candidates (overall stage regenerative candidate)`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Patient (EHR reference)'))),
      el('tbody', {}, candidates.slice(0, 500).map((ref) => el('tr', {}, el('td', {}, ref))))),
    candidates.length > 500 ? el('p', { class: 'muted' }, `The first 500 of ${candidates.length} are shown.`) : null,
  ].filter(Boolean));
}

async function main() {
  await initPage();
  document.getElementById('status-filter').addEventListener('change', render);
  try {
    const due = await api('/api/registry/due');
    items = due.items || [];
    document.getElementById('status').textContent = `Worklist of ${due.today}: ${items.length} items.`;
    render();
  } catch (error) {
    showError(document.getElementById('worklist'), error);
  }
  await loadScreening();
}

main();
