// Outcomes of a patient: the registry's scores per instrument over time with
// each episode's baseline and MCID threshold (computed by the server), the
// procedures and adverse events on the same time axis; forms that record a
// follow-up score, a procedure or an adverse event through POST /registry.
import { el, api, showError, words, session, initPage } from './common.js';
import { timeChart } from './chart.js';

const state = { who: null, instruments: new Map(), options: [] };

async function loadKb() {
  const kb = await api('/api/kb');
  for (const i of kb.instruments || []) state.instruments.set(i.id, i);
  state.options = (kb.resources || []).filter((r) => r.resourceType === 'ActivityDefinition').map((r) => r.id);
  const select = document.getElementById('score-instrument');
  select.replaceChildren(...[...state.instruments.values()].map((i) =>
    el('option', { value: i.id }, `${i.display} (${i.min}–${i.max}, ${words(i.direction)})`)));
}

function render(data) {
  const root = document.getElementById('outcomes');
  if (!data.found) {
    root.replaceChildren(el('p', {}, 'The registry has nothing for this patient yet.'));
  }
  const parts = [];
  const byInstrument = new Map();
  for (const s of data.scores) {
    if (!byInstrument.has(s.instrument)) byInstrument.set(s.instrument, []);
    byInstrument.get(s.instrument).push(s);
  }
  const marks = [
    ...data.procedures.map((p) => ({ date: p.date, kind: 'procedure', cls: 'procedure', label: `${p.kind} procedure ${p.option} ${p.date.slice(0, 10)}` })),
    ...data.adverse_events.map((e) => ({ date: e.onset, kind: 'event', cls: 'adverse-event', label: `adverse event: ${e.category}${e.serious ? ' (serious)' : ''} ${e.onset.slice(0, 10)}` })),
  ];
  if (data.episodes.length) {
    parts.push(el('section', { class: 'panel' }, el('h2', {}, `Episodes (${data.episodes.length})`), el('ul', {},
      data.episodes.map((e) => el('li', {}, `${words(e.option)}${e.side ? ` (${e.side})` : ''} from ${e.start_date}`,
        e.synthetic ? ' — synthetic demo data' : '')))));
  }
  for (const [id, scores] of byInstrument) {
    const instrument = state.instruments.get(id) || { display: id, min: 0, max: 10, direction: '' };
    const lines = []; const bands = [];
    for (const e of data.episodes) {
      const end = scores.map((s) => s.date).sort().pop();
      for (const b of e.baselines.filter((x) => x.instrument === id)) {
        lines.push({ from: b.date, to: end, y: b.value, cls: 'baseline', label: `baseline ${b.value} (${b.date}), ${words(e.option)}` });
        if (b.mcid_threshold !== null) {
          bands.push({ from: e.start_date, to: end, yLow: b.value, yHigh: b.mcid_threshold, cls: 'mcid-band',
            label: `less than the MCID from baseline (threshold ${b.mcid_threshold})` });
        }
      }
    }
    parts.push(el('section', { class: 'panel instrument', 'data-instrument': id },
      el('h2', {}, instrument.display),
      el('div', { class: 'legend' }, el('span', {}, el('span', { class: 'swatch', style: null }), 'scores (blue points)'),
        el('span', {}, 'baseline: dashed brown line'), el('span', {}, 'MCID band: shaded'),
        el('span', {}, 'P / vertical line: procedure'), el('span', {}, 'red triangle: adverse event')),
      timeChart({ title: `${instrument.display} over time`, yMin: instrument.min, yMax: instrument.max, yLabel: instrument.direction,
        description: `${scores.length} scores`, series: [{ name: instrument.display, points: scores }], lines, bands, marks }),
      el('table', {}, el('caption', {}, `${instrument.display}: the scores`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Date'), el('th', { scope: 'col' }, 'Score'))),
        el('tbody', {}, [...scores].sort((a, b) => a.date.localeCompare(b.date)).map((s) =>
          el('tr', {}, el('td', {}, s.date.slice(0, 10)), el('td', {}, String(s.value))))))));
  }
  if (!byInstrument.size && marks.length) {
    parts.push(timeChart({ title: 'Procedures and adverse events', yMin: 0, yMax: 1, series: [], marks }));
  }
  if (data.adverse_events.length) {
    parts.push(el('section', { class: 'panel' }, el('h2', {}, `Adverse events (${data.adverse_events.length})`), el('ul', {},
      data.adverse_events.map((e) => el('li', {}, `${e.onset.slice(0, 10)}: ${words(e.category)}${e.serious ? ', serious' : ''}${e.relatedness ? `, ${e.relatedness}` : ''}${e.resolved ? `, resolved ${e.resolved}` : ''}`)))));
  }
  if (parts.length) root.replaceChildren(...parts);
}

async function load() {
  const status = document.getElementById('status');
  if (!state.who) return;
  try {
    const data = await api('/api/outcomes', { method: 'POST', body: JSON.stringify(state.who) });
    render(data);
    status.textContent = `Outcomes loaded: ${data.scores.length} scores, ${data.procedures.length} procedures, ${data.adverse_events.length} adverse events.`;
  } catch (error) {
    showError(document.getElementById('outcomes'), error);
  }
}

function subject() {
  return { identifier: { system: state.who.identifier.system || undefined, value: state.who.identifier.value } };
}

function newId() {
  return { system: 'urn:regenpath:web-app', value: crypto.randomUUID() };
}

async function post(resource, what) {
  const status = document.getElementById('record-status');
  try {
    const bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ resource, request: { method: 'POST', url: resource.resourceType } }] };
    const answer = await api('/api/registry', { method: 'POST', body: JSON.stringify(bundle), type: 'application/fhir+json' });
    const entry = (answer.entry || [])[0];
    const ok = entry && String(entry.response?.status || '').startsWith('2');
    if (!ok) {
      const issue = entry?.response?.outcome?.issue?.[0];
      throw new Error(issue ? `${issue.diagnostics} (${(issue.expression || issue.location || []).join(', ')})` : 'refused');
    }
    status.textContent = `${what} recorded.`;
    await load();
  } catch (error) {
    status.textContent = `${what} not recorded: ${error.message}`;
  }
}

function onScore(event) {
  event.preventDefault();
  const instrument = document.getElementById('score-instrument').value;
  post({ resourceType: 'Observation', identifier: [newId()], status: 'final', subject: subject(),
    code: { coding: [{ system: 'http://regenpath.org/fhir/CodeSystem/instrument', code: instrument }] },
    effectiveDateTime: document.getElementById('score-date').value,
    valueQuantity: { value: Number(document.getElementById('score-value').value) } }, 'Score');
}

function onAdverseEvent(event) {
  event.preventDefault();
  const serious = document.getElementById('ae-serious').checked;
  post({ resourceType: 'AdverseEvent', identifier: newId(), actuality: 'actual', subject: subject(),
    event: { coding: [{ system: 'http://regenpath.org/fhir/CodeSystem/adverse-event-category', code: document.getElementById('ae-category').value }] },
    seriousness: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adverse-event-seriousness', code: serious ? 'serious' : 'non-serious' }] },
    date: document.getElementById('ae-date').value }, 'Adverse event');
}

async function main() {
  const info = await initPage();
  try { await loadKb(); } catch (error) { showError(document.getElementById('status'), error); }
  const today = new Date().toISOString().slice(0, 10);
  document.getElementById('score-date').value = today;
  document.getElementById('ae-date').value = today;
  const current = document.getElementById('current');
  const kept = session.get('patient');
  const handed = sessionStorage.getItem('regenpath.pseudonym');
  sessionStorage.removeItem('regenpath.pseudonym');
  if (handed) {
    state.who = { pseudonym: handed };
    document.getElementById('pseudonym').value = handed;
    current.textContent = `Showing the registry patient ${handed} (from the worklist).`;
    await load();
  } else if (kept) {
    state.who = { identifier: kept.identifier };
    current.textContent = `Showing ${kept.label}.`;
    document.getElementById('record').hidden = info.registry_writes === false;
    await load();
  } else {
    current.textContent = 'Load a patient on the Patient page, or give a registry pseudonym (the worklist shows them).';
  }
  document.getElementById('find').addEventListener('submit', async (event) => {
    event.preventDefault();
    const pseudonym = document.getElementById('pseudonym').value.trim();
    if (!pseudonym) return;
    state.who = { pseudonym };
    current.textContent = `Showing the registry patient ${pseudonym} (recording needs the patient's identifier: load the record on the Patient page).`;
    document.getElementById('record').hidden = true;
    await load();
  });
  document.getElementById('score-form').addEventListener('submit', onScore);
  document.getElementById('ae-form').addEventListener('submit', onAdverseEvent);
}

main();
