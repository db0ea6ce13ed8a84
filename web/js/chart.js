// Small SVG charts (no library): a time-series panel with score points,
// baseline and MCID band lines, procedure and adverse-event marks on the same
// time axis; and step curves for Kaplan–Meier. They draw what they are given.
import { svg } from './common.js';

const DAY = 86400000;
const toTime = (date) => Date.parse(String(date).slice(0, 10) + 'T00:00:00Z');
const iso = (t) => new Date(t).toISOString().slice(0, 10);

// panel: {title, yMin, yMax, yLabel, series:[{name, cls, points:[{date, value}]}],
//         bands:[{from, to, yLow, yHigh, cls, label}], lines:[{from, to, y, cls, label}],
//         marks:[{date, cls, label, kind:'procedure'|'event'}]}
export function timeChart(panel) {
  const width = 760; const height = 280; const left = 48; const right = 16; const top = 24; const bottom = 56;
  const dates = [];
  for (const s of panel.series) for (const p of s.points) dates.push(toTime(p.date));
  for (const m of panel.marks || []) dates.push(toTime(m.date));
  for (const b of [...(panel.bands || []), ...(panel.lines || [])]) { dates.push(toTime(b.from)); dates.push(toTime(b.to)); }
  let t0 = Math.min(...dates); let t1 = Math.max(...dates);
  if (!Number.isFinite(t0)) { t0 = Date.now() - 30 * DAY; t1 = Date.now(); }
  if (t1 - t0 < 14 * DAY) { t0 -= 7 * DAY; t1 += 7 * DAY; }
  const x = (date) => left + ((toTime(date) - t0) / (t1 - t0)) * (width - left - right);
  const yMin = panel.yMin; const yMax = panel.yMax > panel.yMin ? panel.yMax : panel.yMin + 1;
  const y = (v) => top + (1 - (v - yMin) / (yMax - yMin)) * (height - top - bottom);
  const parts = [];
  parts.push(svg('title', {}, panel.title));
  parts.push(svg('desc', {}, panel.description || ''));
  // axes and ticks
  parts.push(svg('line', { x1: left, y1: y(yMin), x2: width - right, y2: y(yMin), stroke: '#1b1b1b' }));
  parts.push(svg('line', { x1: left, y1: top, x2: left, y2: y(yMin), stroke: '#1b1b1b' }));
  for (let i = 0; i <= 4; i++) {
    const v = yMin + (i * (yMax - yMin)) / 4;
    parts.push(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(Math.round(v * 10) / 10)));
    parts.push(svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: '#d5d9de', 'stroke-dasharray': '2 3' }));
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (i * (t1 - t0)) / 4;
    const px = left + (i * (width - left - right)) / 4;
    parts.push(svg('text', { x: px, y: y(yMin) + 16, 'text-anchor': 'middle' }, iso(t)));
  }
  parts.push(svg('text', { x: 4, y: 14 }, panel.yLabel || ''));
  for (const b of panel.bands || []) {
    const yA = y(Math.max(b.yLow, b.yHigh)); const yB = y(Math.min(b.yLow, b.yHigh));
    parts.push(svg('rect', { x: x(b.from), y: yA, width: Math.max(2, x(b.to) - x(b.from)), height: Math.max(1, yB - yA),
      fill: '#fbe3b3', 'fill-opacity': 0.7, class: b.cls }, svg('title', {}, b.label)));
  }
  for (const l of panel.lines || []) {
    parts.push(svg('line', { x1: x(l.from), x2: x(l.to), y1: y(l.y), y2: y(l.y), stroke: '#5c3f00', 'stroke-width': 2,
      'stroke-dasharray': '6 3', class: l.cls }, svg('title', {}, l.label)));
  }
  for (const m of panel.marks || []) {
    const px = x(m.date);
    if (m.kind === 'procedure') {
      parts.push(svg('line', { x1: px, x2: px, y1: top, y2: y(yMin), stroke: '#12344d', 'stroke-width': 2, class: m.cls }, svg('title', {}, m.label)));
      parts.push(svg('text', { x: px + 3, y: top + 10 }, 'P'));
    } else {
      const py = y(yMin) + 32;
      parts.push(svg('path', { d: `M${px - 6},${py + 5} L${px + 6},${py + 5} L${px},${py - 6} Z`, fill: '#7a1212', class: m.cls },
        svg('title', {}, m.label)));
    }
  }
  for (const s of panel.series) {
    const points = [...s.points].sort((a, b) => toTime(a.date) - toTime(b.date));
    if (points.length > 1) {
      parts.push(svg('polyline', { points: points.map((p) => `${x(p.date)},${y(p.value)}`).join(' '), fill: 'none',
        stroke: '#0a4fa3', 'stroke-width': 2 }));
    }
    for (const p of points) {
      parts.push(svg('circle', { cx: x(p.date), cy: y(p.value), r: 4, fill: '#0a4fa3', class: `point ${s.cls || ''}`,
        'data-date': p.date, 'data-value': p.value }, svg('title', {}, `${s.name} ${String(p.date).slice(0, 10)}: ${p.value}`)));
    }
  }
  return svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': panel.title }, parts);
}

// curves: [{name, color, steps:[{time, survival, lower, upper}]}] -> Kaplan–Meier step plot.
export function kmChart(title, curves, timeUnit = 'days') {
  const width = 520; const height = 240; const left = 44; const right = 12; const top = 16; const bottom = 36;
  const tMax = Math.max(30, ...curves.flatMap((c) => c.steps.map((s) => s.time)));
  const x = (t) => left + (t / tMax) * (width - left - right);
  const y = (s) => top + (1 - s) * (height - top - bottom);
  const parts = [svg('title', {}, title)];
  parts.push(svg('line', { x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: '#1b1b1b' }));
  parts.push(svg('line', { x1: left, y1: top, x2: left, y2: y(0), stroke: '#1b1b1b' }));
  for (const v of [0, 0.25, 0.5, 0.75, 1]) parts.push(svg('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end' }, v.toFixed(2)));
  for (let i = 0; i <= 4; i++) {
    const t = (i * tMax) / 4;
    parts.push(svg('text', { x: x(t), y: y(0) + 14, 'text-anchor': 'middle' }, String(Math.round(t))));
  }
  parts.push(svg('text', { x: width - right, y: height - 4, 'text-anchor': 'end' }, timeUnit));
  for (const c of curves) {
    let d = `M${x(0)},${y(1)}`; let band = [];
    let previous = 1;
    for (const s of c.steps) {
      d += ` H${x(s.time)} V${y(s.survival)}`;
      previous = s.survival;
      if (s.lower !== null && s.lower !== undefined) band.push(s);
    }
    d += ` H${x(tMax)}`;
    if (band.length) {
      const upper = band.map((s) => `${x(s.time)},${y(Math.min(1, s.upper))}`).join(' L');
      const lower = [...band].reverse().map((s) => `${x(s.time)},${y(s.lower)}`).join(' L');
      parts.push(svg('path', { d: `M${upper} L${lower} Z`, fill: c.color, 'fill-opacity': 0.15 }));
    }
    parts.push(svg('path', { d, fill: 'none', stroke: c.color, 'stroke-width': 2 }, svg('title', {}, `${c.name}: ${previous.toFixed(3)} at the end`)));
  }
  return svg('svg', { class: 'chart km', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title }, parts);
}
