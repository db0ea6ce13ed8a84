// The knowledge base, read-only (GET /api/kb: the FHIR export and the
// registry's instruments): conditions and options (PlanDefinition actions,
// ActivityDefinitions), citations, value sets, parameters with confidence.
import { el, api, showError, words, initPage } from './common.js';

function confidenceOf(resource) {
  const ext = (resource.extension || []).find((e) => /confidence/i.test(e.url || ''));
  return ext ? (ext.valueCode || ext.valueString || '') : '';
}

function extValue(e) {
  for (const [k, v] of Object.entries(e)) if (k.startsWith('value')) return typeof v === 'object' ? JSON.stringify(v) : String(v);
  return '';
}

function details(title, open, ...children) {
  return el('details', { class: 'panel', open }, el('summary', {}, el('strong', {}, title)), children);
}

function render(kb) {
  const byType = (t) => (kb.resources || []).filter((r) => r.resourceType === t);
  const plan = byType('PlanDefinition')[0];
  const library = byType('Library')[0];
  const parts = [el('p', {}, `${kb.name} version ${kb.version}.`)];
  if (plan) {
    const groups = plan.action || [];
    parts.push(details(`Care pathway: ${plan.title || plan.name} (${groups.length} action groups)`, true,
      plan.description ? el('p', {}, plan.description) : null,
      el('ul', {}, groups.map((a) => el('li', {}, el('strong', {}, a.title || a.id || ''), a.description ? `: ${a.description}` : '',
        (a.action || []).length ? el('ul', {}, a.action.map((b) => el('li', {}, b.title || b.id || '', b.description ? ` — ${b.description}` : '',
          (b.condition || []).length ? el('div', { class: 'muted' }, (b.condition || []).map((c) => c.expression?.expression || c.expression?.description || '').join('; ')) : null))) : null)))));
    const citations = (plan.relatedArtifact || []).filter((r) => r.type === 'citation' || r.citation);
    parts.push(details(`Citations (${citations.length})`, false,
      el('ul', {}, citations.map((c) => el('li', {}, c.label ? el('strong', {}, `${c.label}: `) : '', c.citation || c.display || '')))));
  }
  const options = byType('ActivityDefinition');
  parts.push(details(`Options (${options.length})`, true, el('table', {},
    el('thead', {}, el('tr', {}, ['Id', 'Title', 'Description', 'Details'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, options.map((o) => el('tr', {}, el('th', { scope: 'row' }, o.id), el('td', {}, o.title || ''),
      el('td', {}, o.description || ''),
      el('td', {}, (o.extension || []).map((e) => el('div', {}, `${(e.url || '').split('/').pop()}: ${extValue(e)}`)))))))));
  if (library) {
    const params = library.parameter || [];
    const exts = (library.extension || []);
    parts.push(details(`Definitions and parameters (${params.length} parameters, ${(library.content || []).length} content parts)`, false,
      el('table', {}, el('thead', {}, el('tr', {}, ['Name', 'Use', 'Type', 'Documentation'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, params.map((p) => el('tr', {}, el('th', { scope: 'row' }, p.name || ''), el('td', {}, p.use || ''), el('td', {}, p.type || ''),
          el('td', {}, p.documentation || '', /\bconfidence[: ]+U\b/.test(p.documentation || '') ? [' ', el('span', { class: 'unverified' }, 'unverified')] : null))))),
      exts.length ? el('ul', {}, exts.map((e) => el('li', {}, `${(e.url || '').split('/').pop()}: ${extValue(e)}`))) : null));
  }
  parts.push(details(`Outcome instruments (${(kb.instruments || []).length})`, false, el('table', {},
    el('thead', {}, el('tr', {}, ['Instrument', 'LOINC', 'Range', 'Direction', 'MCID', 'Confidence', 'Note'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, (kb.instruments || []).map((i) => el('tr', {}, el('th', { scope: 'row' }, i.display), el('td', {}, i.loinc),
      el('td', {}, `${i.min}–${i.max}`), el('td', {}, words(i.direction)),
      el('td', {}, [i.mcid_points !== null ? `${i.mcid_points} points` : null, i.mcid_percent !== null ? `${i.mcid_percent} %` : null].filter(Boolean).join(' or ') || '—'),
      el('td', {}, i.confidence, i.confidence === 'U' ? [' ', el('span', { class: 'unverified' }, 'unverified')] : null),
      el('td', {}, i.note)))))));
  const valuesets = byType('ValueSet');
  parts.push(details(`Value sets (${valuesets.length})`, false, el('ul', {}, valuesets.map((v) => {
    const codes = (v.compose?.include || []).flatMap((inc) => (inc.concept || []).map((c) => `${c.code}${c.display ? ` ${c.display}` : ''}`));
    return el('li', {}, el('strong', {}, v.title || v.name || v.id), ` (${codes.length} codes${confidenceOf(v) ? `, confidence ${confidenceOf(v)}` : ''})`,
      codes.length ? el('div', { class: 'muted' }, codes.slice(0, 20).join('; '), codes.length > 20 ? ' …' : '') : null);
  }))));
  document.getElementById('kb').replaceChildren(...parts);
}

async function main() {
  await initPage();
  try {
    render(await api('/api/kb'));
    document.getElementById('status').textContent = 'Knowledge base loaded.';
  } catch (error) {
    showError(document.getElementById('kb'), error);
  }
}

main();
