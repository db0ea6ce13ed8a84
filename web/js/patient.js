// The Patient page: one patient's Assessment JSON (POST /api/assess) as the
// engine gave it — red flags first, each condition's stage with the dated
// data behind every criterion (a datum opens its resource), the options with
// their evidence side by side, the procedure plan, follow-up, next steps,
// missing data and data issues; the clinic's own outcomes per option from
// the registry. Nothing here decides anything clinical.
import { el, api, showError, words, fmt, pct, session, initPage, defs } from './common.js';

const STATUS_ORDER = ['recommended', 'consider', 'not-recommended', 'contraindicated'];
const state = { bundleText: null, index: null, citations: new Map() };

function badge(kind, value, text) {
  return el('span', { class: `badge ${kind}-${value}` }, text ?? words(value));
}

function metText(met) {
  if (met === true) return 'met';
  if (met === false) return 'not met';
  return 'unknown (data missing)';
}

// reference ("Condition/abc" or a fullUrl) -> the resource, from the uploaded record.
function resourceIndex() {
  if (state.index || !state.bundleText) return state.index;
  const index = new Map();
  const add = (resource, fullUrl) => {
    if (!resource || typeof resource !== 'object') return;
    if (resource.resourceType && resource.id) index.set(`${resource.resourceType}/${resource.id}`, resource);
    if (fullUrl) index.set(fullUrl, resource);
  };
  const text = state.bundleText.trim();
  try {
    if (text.startsWith('{')) {
      const root = JSON.parse(text);
      if (root.resourceType === 'Bundle') for (const entry of root.entry || []) add(entry.resource, entry.fullUrl);
      else add(root);
    } else {
      for (const line of text.split('\n')) if (line.trim()) add(JSON.parse(line));
    }
  } catch (e) { /* the server already reported what it could not read */ }
  state.index = index;
  return index;
}

function showResource(reference) {
  const dialog = document.getElementById('resource-dialog');
  const index = resourceIndex();
  const resource = index ? index.get(reference) : null;
  document.getElementById('resource-title').textContent = reference;
  document.getElementById('resource-json').textContent = resource
    ? JSON.stringify(resource, null, 2)
    : 'This resource is not in the record loaded in this tab (load the record again to see it).';
  dialog.showModal();
}

function datumButton(datum) {
  const parts = [datum.date ? String(datum.date).slice(0, 10) : 'undated', datum.display || datum.reference];
  if (datum.value) parts.push(datum.value);
  return el('button', { type: 'button', class: 'link datum', 'data-ref': datum.reference,
    title: `Show ${datum.reference}`, onclick: () => showResource(datum.reference) }, parts.join(' · '));
}

function dataList(data) {
  if (!data || !data.length) return null;
  return el('ul', { class: 'data' }, data.map((d) => el('li', {}, datumButton(d))));
}

function refsList(refs) {
  if (!refs || !refs.length) return null;
  return el('ul', { class: 'data' }, refs.map((r) => el('li', {},
    el('button', { type: 'button', class: 'link datum', 'data-ref': r, onclick: () => showResource(r) }, r))));
}

function criteriaTable(criteria, caption) {
  if (!criteria || !criteria.length) return null;
  return el('table', { class: 'criteria' },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Criterion'), el('th', { scope: 'col' }, 'Result'),
      el('th', { scope: 'col' }, 'Data behind it'))),
    el('tbody', {}, criteria.map((c) => el('tr', {},
      el('th', { scope: 'row' }, c.display || words(c.id)),
      el('td', {}, badge('met', String(c.met), metText(c.met))),
      el('td', {}, dataList(c.data) || refsList(c.evidence) ||
        el('span', { class: 'muted' }, c.looked_for ? `Nothing found. Looked for: ${c.looked_for}` : 'no data'))))));
}

function evidenceColumns(evidence) {
  const columns = { for: [], against: [], neutral: [] };
  for (const item of evidence || []) (columns[item.direction] || columns.neutral).push(item);
  return el('div', { class: 'evidence-cols' }, Object.entries(columns).map(([direction, items]) =>
    el('div', {}, el('h4', { class: `dir-${direction}` }, `${direction[0].toUpperCase()}${direction.slice(1)} (${items.length})`),
      items.length ? el('ul', { class: 'data' }, items.map((item) => el('li', {},
        item.statement, ' ',
        el('cite', { title: state.citations.get(item.source) || '' }, `[${item.source}]`),
        item.level ? ` level ${item.level}` : '',
        item.confidence ? ` · confidence ${item.confidence}` : '',
        item.confidence === 'U' ? [' ', el('span', { class: 'unverified' }, 'unverified')] : null)))
        : el('p', { class: 'muted' }, 'none'))));
}

function addDays(isoDate, days) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

// The hold table: the Assessment's hold periods laid on the procedure date the clinician picks.
function holdTable(holds, procedureDate) {
  return el('table', { class: 'holds' },
    el('caption', {}, procedureDate ? `Medication holds for a procedure on ${procedureDate}` : 'Medication holds (pick a procedure date)'),
    el('thead', {}, el('tr', {}, ['Medication', 'Hold before', 'Last dose / stop', 'Restart after', 'Restart', 'Note', 'Sources']
      .map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, holds.map((h) => {
      const days = h.hold_days_before;
      const hours = h.restart_hours_after;
      const stop = h.stop_date || (procedureDate && typeof days === 'number' ? addDays(procedureDate, -days) : null);
      const restart = h.restart_date || (procedureDate && typeof hours === 'number' ? addDays(procedureDate, Math.ceil(hours / 24)) : null);
      return el('tr', {},
        el('th', { scope: 'row' }, h.medication, dataList(h.data)),
        el('td', {}, typeof days === 'number' ? `${days} days` : 'shared decision'),
        el('td', {}, stop || '—'),
        el('td', {}, typeof hours === 'number' ? `${hours} h` : '—'),
        el('td', {}, restart || '—'),
        el('td', {}, h.note || ''),
        el('td', {}, (h.evidence || []).join(', ')));
    })));
}

function procedurePlan(rec) {
  const p = rec.procedure;
  if (!p) return null;
  const box = el('div', { class: 'procedure' }, el('h4', {}, 'Procedure plan'),
    defs([['Image guidance', (p.image_guidance || []).map(words).join(', ')], ['Bleeding risk', p.bleeding_risk],
      ['Monitoring', (p.monitoring || []).map(words).join(', ')]]));
  const holds = p.medication_holds || [];
  if (holds.length) {
    const id = `date-${rec.id}`;
    const holder = el('div', {}, holdTable(holds, null));
    box.append(el('label', { for: id, class: 'no-print' }, 'Planned procedure date '),
      el('input', { type: 'date', id, class: 'no-print', onchange: (e) => holder.replaceChildren(holdTable(holds, e.target.value)) }),
      holder);
  }
  return box;
}

function followUp(rec) {
  const f = rec.follow_up;
  if (!f) return null;
  return el('div', {}, el('h4', {}, 'Follow-up plan'), defs([
    ['Instruments', (f.instruments || []).map((i) => `${i.id}${i.loinc ? ` (LOINC ${i.loinc})` : ''}${i.mcid ? `, MCID ${i.mcid}` : ''}`).join('; ')],
    ['Weeks after the procedure', (f.schedule_weeks || []).join(', ')],
    ['Dates', (f.schedule_dates || f.calendar || []).join(', ')]]));
}

function cost(rec) {
  const c = rec.cost;
  if (!c) return null;
  const range = c.usd_low !== undefined ? `US$ ${c.usd_low}–${c.usd_high ?? '?'}` : null;
  return el('div', {}, el('h4', {}, 'Cost and coverage'),
    defs([['Cost', range], ['Coverage', c.coverage], ['Billing codes', (c.billing_codes || []).join(', ')]]));
}

function clinicOutcomes(rec) {
  if (rec.category !== 'regenerative') return null;
  const box = el('div', { class: 'clinic', 'aria-live': 'polite' }, el('h4', {}, "This clinic's outcomes (registry)"),
    el('p', { class: 'muted' }, 'loading…'));
  api(`/api/registry/evidence/${encodeURIComponent(rec.id)}`).then((e) => {
    const text = e.shown
      ? `${e.summary || ''} Responders at ${e.weeks} weeks (${e.instrument}): ${e.responders.successes}/${e.responders.n}, ${pct(e.responders.p)} (95 % CI ${pct(e.responders.lower)}–${pct(e.responders.upper)}); lost to follow-up ${e.lost_to_follow_up}.`
      : `Too few episodes to show (${e.episodes} of the ${e.min_episodes} needed).`;
    box.replaceChildren(box.firstChild, el('p', {}, text, e.synthetic ? [' ', el('span', { class: 'unverified' }, 'synthetic demo data')] : null,
      ' Observational.'));
  }).catch((error) => box.replaceChildren(box.firstChild, el('p', { class: 'muted' }, `Not available: ${error.message}`)));
  return box;
}

function recommendation(rec) {
  return el('article', { class: 'card option', id: `option-${rec.id}` },
    el('h3', {}, `${words(rec.therapy)}${rec.target ? ` — ${words(rec.target)}` : ''} `, badge('status', rec.status),
      ' ', el('span', { class: 'muted' }, `(${rec.category}${rec.done ? ', already tried' : ''})`)),
    rec.summary ? el('p', {}, rec.summary) : null,
    rec.status_reason ? el('p', {}, el('strong', {}, 'Why: '), rec.status_reason) : null,
    evidenceColumns(rec.evidence),
    criteriaTable(rec.rationale, 'Criteria'),
    rec.contraindications && rec.contraindications.length ? el('div', {}, el('h4', {}, 'Contraindications'),
      el('ul', {}, rec.contraindications.map((c) => el('li', {}, badge('status', c.kind === 'absolute' ? 'contraindicated' : 'consider', c.kind),
        ' ', c.display || words(c.id), dataList(c.data) || refsList(c.evidence))))) : null,
    criteriaTable(rec.pre_checks, 'Pre-procedure checks'),
    procedurePlan(rec), followUp(rec), cost(rec), clinicOutcomes(rec));
}

// The options of a condition in one table, for the one-page print view only.
function printSummary(recs) {
  if (!recs.length) return null;
  return el('table', { class: 'print-only options-summary' },
    el('thead', {}, el('tr', {}, ['Option', 'Status', 'Why', 'Evidence (for / against)'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, recs.map((r) => {
      const count = (d) => (r.evidence || []).filter((e) => e.direction === d).length;
      return el('tr', {}, el('td', {}, `${words(r.therapy)}${r.target ? ` ${words(r.target)}` : ''}`), el('td', {}, words(r.status)),
        el('td', {}, r.status_reason || r.summary || ''), el('td', {}, `${count('for')} / ${count('against')}`));
    })));
}

function render(a) {
  state.citations = new Map((a.citations || []).map((c) => [c.id, c.reference]));
  const root = document.getElementById('assessment');
  const p = a.patient || {};
  const parts = [];
  parts.push(el('section', { class: 'panel', 'aria-labelledby': 'summary-h' },
    el('h2', { id: 'summary-h' }, 'Summary ', badge('stage', a.stage)),
    defs([['Patient', p.reference], ['Age', p.age], ['Sex', p.sex], ['Deceased', p.deceased ? 'yes' : null],
      ['Record replaced by', typeof p.replaced_by === 'string'
        ? `${p.replaced_by}: this record must no longer be used; assess that one instead` : null],
      ['Record inactive', p.active === false ? 'the Patient resource says this record is not in active use' : null],
      ['Assessed as of', a.evaluated_at], ['Knowledge base', `${a.knowledge_base?.name ?? ''} ${a.knowledge_base?.version ?? ''}`]]),
    el('button', { type: 'button', class: 'no-print', onclick: () => window.print() }, 'Print (one page)')));
  if (a.red_flags && a.red_flags.length) {
    parts.push(el('section', { class: 'redflags', role: 'alert', 'aria-labelledby': 'rf-h' },
      el('h2', { id: 'rf-h' }, `Red flags (${a.red_flags.length})`),
      el('ul', {}, a.red_flags.map((f) => el('li', {}, el('strong', {}, f.display), dataList(f.data) || refsList(f.evidence))))));
  }
  const recs = a.recommendations || [];
  for (const c of a.conditions || []) {
    const own = recs.filter((r) => r.condition === c.id)
      .sort((x, y) => STATUS_ORDER.indexOf(x.status) - STATUS_ORDER.indexOf(y.status));
    parts.push(el('section', { class: 'condition', 'aria-labelledby': `c-${c.id}` },
      el('h2', { id: `c-${c.id}` }, `${c.display} `, badge('stage', c.stage)),
      defs([['Chronic', c.chronic === null || c.chronic === undefined ? 'unknown' : (c.chronic ? 'yes' : 'no')],
        ['Targets', (c.targets || []).map(words).join(', ')], ['Why this stage', c.stage_reason]]),
      dataList(c.data) ? el('div', { class: 'condition-data' }, el('h3', {}, 'Data'), dataList(c.data)) : null,
      criteriaTable(c.criteria, `Stage criteria — ${c.display}`),
      el('h3', {}, `Options (${own.length})`), printSummary(own), own.map(recommendation)));
  }
  const orphans = recs.filter((r) => !(a.conditions || []).some((c) => c.id === r.condition));
  if (orphans.length) parts.push(el('section', {}, el('h2', {}, 'Other options'), orphans.map(recommendation)));
  const list = (id, title, items, render) => items && items.length
    ? el('section', { class: 'panel', 'aria-labelledby': id }, el('h2', { id }, `${title} (${items.length})`), el('ul', {}, items.map((i) => el('li', {}, render(i)))))
    : null;
  parts.push(list('next-h', 'Next steps', a.next_steps, (s) => [el('strong', {}, words(s.kind)), `: ${s.display}`, s.condition ? ` (${words(s.condition)})` : '']));
  parts.push(list('missing-h', 'Missing data', a.missing_data, (m) => m.display));
  parts.push(list('issues-h', 'Data issues', a.issues, (i) => [badge('met', i.severity === 'error' ? 'false' : 'null', i.severity), ' ', i.message, i.location ? ` (${i.location})` : '']));
  if (a.citations && a.citations.length) {
    parts.push(el('details', { class: 'panel print-hide' }, el('summary', {}, `Sources (${a.citations.length})`),
      el('ul', {}, a.citations.map((c) => el('li', {}, el('strong', {}, c.id), ': ', c.reference)))));
  }
  root.replaceChildren(...parts.filter(Boolean));
}

// The patient's identifier, kept in the tab for the Outcomes page (never in a URL).
function rememberPatient() {
  const index = resourceIndex();
  if (!index) return;
  for (const resource of index.values()) {
    if (resource.resourceType !== 'Patient') continue;
    const identifier = (resource.identifier || []).find((i) => i.value);
    if (identifier) session.set('patient', { identifier: { system: identifier.system || '', value: identifier.value }, label: 'the patient loaded on the Patient page' });
    return;
  }
}

async function onSubmit(event) {
  event.preventDefault();
  const status = document.getElementById('status');
  const file = document.getElementById('bundle-file').files[0];
  if (!file) return;
  const started = performance.now();
  status.textContent = `Assessing ${file.name}…`;
  try {
    const text = await file.text();
    state.bundleText = text;
    state.index = null;
    const now = document.getElementById('now').value;
    const type = file.name.endsWith('.ndjson') ? 'application/fhir+ndjson' : 'application/fhir+json';
    const assessed = performance.now();
    const assessment = await api(`/api/assess${now ? `?now=${now}` : ''}`, { method: 'POST', body: text, type });
    const rendering = performance.now();
    render(assessment);
    const done = performance.now();
    const main = document.getElementById('main');
    main.dataset.renderMs = (done - started).toFixed(1);
    main.dataset.assessMs = (rendering - assessed).toFixed(1);
    main.dataset.domMs = (done - rendering).toFixed(1);
    status.textContent = `Assessment shown (${(done - started).toFixed(0)} ms).`;
    session.set('assessment', assessment);
    setTimeout(rememberPatient, 0);
  } catch (error) {
    showError(document.getElementById('assessment'), error);
    status.textContent = 'The record could not be assessed.';
  }
}

// A SMART launch: the launch patient's record, read by the server from the EHR.
async function launched(info) {
  const status = document.getElementById('status');
  document.getElementById('load').hidden = true;
  status.textContent = 'Reading the record from the EHR…';
  try {
    const answer = await api('/api/smart/assess', { method: 'POST', body: '{}' });
    state.bundleText = null;
    state.index = new Map();
    for (const entry of answer.record.entry || []) {
      const r = entry.resource;
      if (r && r.resourceType && r.id) state.index.set(`${r.resourceType}/${r.id}`, r);
      if (r && entry.fullUrl) state.index.set(entry.fullUrl, r);
    }
    render(answer.assessment);
    rememberPatient();
    status.textContent = `Assessment of the patient in the EHR's context${info.app_context ? ` (${info.app_context})` : ''}.`;
    const target = info.app_context ? document.getElementById(`c-${info.app_context}`) : null;
    if (target) { target.scrollIntoView(); target.setAttribute('tabindex', '-1'); target.focus(); }
  } catch (error) {
    showError(document.getElementById('assessment'), error);
    status.textContent = '';
  }
}

async function start() {
  const info = await initPage();
  document.getElementById('upload').addEventListener('submit', onSubmit);
  if (info.mode === 'smart') {
    await launched(info);
    return;
  }
  if (info.mode !== 'insecure-dev') document.getElementById('load').hidden = true;
  const kept = session.get('assessment');
  if (kept) render(kept);
}

start();
