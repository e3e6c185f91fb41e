// shadowml dashboard: polls /api/summary and draws hand-written SVG charts. No libraries, no build step.
// Every chart's <svg> carries data-series, data-points and data-last (of its first line), and every line
// carries data-name, data-points and data-last, so a test can read the values from the rendered DOM.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const LIVE_COLOR = '#0f172a';
const PALETTE = ['#2563eb', '#ea580c', '#9333ea', '#059669', '#db2777', '#0891b2'];
const QUANTILE_COLORS = { p50: '#93c5fd', p90: '#3b82f6', p99: '#1e3a8a' };
const W = 470, H = 215, M = { l: 50, r: 12, t: 10, b: 26 };
const METRIC_INFO = {
  accuracy: ['Accuracy', 'share of labelled requests classified right; higher is better', true],
  roc_auc: ['ROC AUC', 'ranking quality of the scores; higher is better', true],
  macro_f1: ['Macro F1', 'unweighted mean F1 over the classes seen; higher is better', true],
  f1: ['F1', 'at the model threshold; higher is better', true],
  log_loss: ['Log loss', 'calibrated confidence; lower is better', false],
  brier: ['Brier score', 'lower is better', false],
  mae: ['Mean absolute error', 'lower is better', false],
  rmse: ['RMSE', 'lower is better', false],
};
const CHARTED_QUALITY = ['accuracy', 'roc_auc', 'macro_f1', 'log_loss', 'mae', 'rmse'];

// ---------------------------------------------------------------------------------------------- helpers
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function sv(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
const isNum = v => typeof v === 'number' && isFinite(v);
function fmt(v, digits) {
  if (!isNum(v)) return '–';
  const a = Math.abs(v);
  if (v === 0) return '0';
  if (digits !== undefined) return v.toFixed(digits);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(2);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(3);
  return v.toFixed(4);
}
const pct = (v, d = 2) => isNum(v) ? (100 * v).toFixed(d) + '%' : '–';
const int = v => isNum(v) ? Math.round(v).toLocaleString('en-US') : '–';
const micros = v => !isNum(v) ? '–' : v >= 1000 ? (v / 1000).toFixed(2) + ' ms' : v.toFixed(1) + ' µs';
function timeLabel(t, span) {
  const s = new Date(t).toISOString();            // 2026-01-05T12:34:56.000Z
  if (span > 86400e3) return s.slice(5, 10) + ' ' + s.slice(11, 16);
  if (span > 3600e3) return s.slice(11, 16);
  return s.slice(11, 19);
}
const fullTime = t => new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
function lastNum(values) {
  for (let i = values.length - 1; i >= 0; i--) if (isNum(values[i])) return values[i];
  return null;
}
const TIME_STEPS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400]
  .map(s => s * 1000);
/** Round UTC times for the x axis: at most max ticks inside [t0, t1], with room for the labels at the edges. */
function timeTicks(t0, t1, max) {
  const span = t1 - t0;
  if (span <= 0) return [t0];
  const step = TIME_STEPS.find(s => span / s <= max) || Math.ceil(span / max / 86400e3) * 86400e3;
  const pad = span * 0.06;
  const ticks = [];
  for (let t = Math.ceil((t0 + pad) / step) * step; t <= t1 - pad; t += step) ticks.push(t);
  return ticks.length ? ticks : [t0 + span / 2];
}
function niceStep(range, target) {
  const raw = range / Math.max(1, target);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

// ------------------------------------------------------------------------------------------ line chart
// spec: { series, title, desc, times, lines: [{name, label, values, color, dash}], format, zero, min, max, bars, extra }
function lineChart(spec) {
  const card = el('div', { class: 'card', 'data-chart': spec.series });
  card.append(el('h3', {}, spec.title), el('div', { class: 'desc' }, spec.desc || ''));
  const svg = sv('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': spec.title });
  let lines = spec.lines.filter(l => l.values && l.values.length);
  let times = spec.times || [];
  // Only the windows with data: e.g. disagreement stops when requests stop, while labels keep windows coming.
  let lo0 = Infinity, hi0 = -1;
  for (const l of lines) l.values.forEach((v, i) => { if (isNum(v)) { lo0 = Math.min(lo0, i); hi0 = Math.max(hi0, i); } });
  if (hi0 >= 0 && (lo0 > 0 || hi0 < times.length - 1)) {
    times = times.slice(lo0, hi0 + 1);
    lines = lines.map(l => Object.assign({}, l, { values: l.values.slice(lo0, hi0 + 1) }));
  }
  const first = lines[0];
  const firstPoints = first ? first.values.filter(isNum).length : 0;
  svg.setAttribute('data-series', spec.series);
  svg.setAttribute('data-points', String(firstPoints));
  const firstLast = first ? lastNum(first.values) : null;
  svg.setAttribute('data-last', firstLast === null ? '' : String(firstLast));
  svg.setAttribute('data-lines', String(lines.length));
  card.append(svg);

  const all = [];
  for (const l of lines) for (const v of l.values) if (isNum(v)) all.push(v);
  if (!all.length || !times.length) {
    svg.append(sv('rect', { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b, fill: '#f8fafc', rx: 6 }));
    const t = sv('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' });
    t.textContent = spec.emptyText || 'waiting for data…';
    svg.append(t);
    if (spec.extra) card.append(spec.extra);
    return card;
  }
  let lo = Math.min(...all), hi = Math.max(...all);
  if (spec.zero) lo = Math.min(lo, 0);
  if (spec.min !== undefined) lo = Math.min(lo, spec.min);
  if (spec.max !== undefined) hi = Math.max(hi, spec.max);
  if (hi === lo) { const d = Math.abs(hi) * 0.1 || 1; hi += d; if (!spec.zero || lo !== 0) lo -= d; }
  const step = spec.integer ? Math.max(1, niceStep(hi - lo, 4)) : niceStep(hi - lo, 4);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  if (spec.clamp) { lo = Math.max(lo, spec.clamp[0]); hi = Math.min(hi, spec.clamp[1]); }
  let t0 = times[0], t1 = times[times.length - 1];
  const slot = times.length > 1 ? (t1 - t0) / (times.length - 1) : 3600e3;
  if (spec.bars || t0 === t1) { t0 -= slot / 2; t1 += slot / 2; }
  const x = t => M.l + (t - t0) / (t1 - t0) * (W - M.l - M.r);
  const y = v => M.t + (hi - v) / (hi - lo) * (H - M.t - M.b);

  for (let v = lo; v <= hi + step / 2; v += step) {
    svg.append(sv('line', { class: 'gridline', x1: M.l, x2: W - M.r, y1: y(v), y2: y(v) }));
    const t = sv('text', { x: M.l - 6, y: y(v) + 3.5, 'text-anchor': 'end' });
    const dec = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
    t.textContent = (spec.tick || (w => w === 0 ? '0' : Math.abs(w) >= 1000 ? fmt(w) : w.toFixed(dec)))(Math.abs(v) < step / 1e6 ? 0 : v);
    svg.append(t);
  }
  svg.append(sv('line', { class: 'axis', x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b }));
  const span = times[times.length - 1] - times[0];
  for (const tt of timeTicks(t0, t1, 6)) {
    const t = sv('text', { x: x(tt), y: H - M.b + 15, 'text-anchor': 'middle' });
    t.textContent = timeLabel(tt, span);
    svg.append(t);
    svg.append(sv('line', { class: 'axis', x1: x(tt), x2: x(tt), y1: H - M.b, y2: H - M.b + 4 }));
  }

  lines.forEach((l, li) => {
    const pts = l.values.filter(isNum).length;
    const last = lastNum(l.values);
    if (spec.bars) {
      const g = sv('g', { class: 'bars', 'data-name': l.name, 'data-points': String(pts), 'data-last': last === null ? '' : String(last) });
      const bw = Math.max(1.5, (W - M.l - M.r) / times.length * 0.72);
      l.values.forEach((v, i) => {
        if (!isNum(v)) return;
        const top = y(Math.max(v, lo)), base = y(Math.max(lo, 0));
        g.append(sv('rect', { x: x(times[i]) - bw / 2, y: Math.min(top, base), width: bw, height: Math.max(v === 0 ? 0 : 1, Math.abs(base - top)), fill: l.color, rx: 1.5 }));
      });
      svg.append(g);
      return;
    }
    let d = '', pen = false, lastXY = null;
    l.values.forEach((v, i) => {
      if (!isNum(v)) { pen = false; return; }
      const px = x(times[i]).toFixed(1), py = y(v).toFixed(1);
      d += (pen ? 'L' : 'M') + px + ' ' + py + ' ';
      pen = true;
      lastXY = [px, py];
    });
    if (li === 0 && spec.area && d) {
      const firstIdx = l.values.findIndex(isNum);
      let lastIdx = -1;
      l.values.forEach((v, i) => { if (isNum(v)) lastIdx = i; });
      const contiguous = l.values.slice(firstIdx, lastIdx + 1).every(isNum);
      if (contiguous) {
        svg.append(sv('path', { class: 'area', fill: l.color,
          d: d + `L${x(times[lastIdx]).toFixed(1)} ${y(lo).toFixed(1)} L${x(times[firstIdx]).toFixed(1)} ${y(lo).toFixed(1)} Z` }));
      }
    }
    const path = sv('path', { class: 'line', d: d.trim(), stroke: l.color, 'data-name': l.name,
      'data-points': String(pts), 'data-last': last === null ? '' : String(last) });
    if (l.dash) path.setAttribute('stroke-dasharray', l.dash);
    if (l.width) path.setAttribute('stroke-width', l.width);
    svg.append(path);
    if (lastXY) svg.append(sv('circle', { cx: lastXY[0], cy: lastXY[1], r: 3.2, fill: l.color }));
  });

  // Legend with the latest values.
  const legend = el('div', { class: 'legend' });
  for (const l of lines) {
    const sw = el('i', { class: l.dash ? 'dash' : '' });
    sw.style.background = l.color;
    sw.style.color = l.color;
    legend.append(el('span', {}, sw, (l.label || l.name) + ' ', el('b', {}, (spec.format || fmt)(lastNum(l.values)))));
  }
  card.append(legend);
  if (spec.extra) card.append(spec.extra);

  // Hover: a guide line and the values of the nearest window.
  const tip = el('div', { class: 'tip' });
  card.append(tip);
  const guide = sv('line', { class: 'guide', y1: M.t, y2: H - M.b, visibility: 'hidden' });
  svg.append(guide);
  svg.addEventListener('mousemove', ev => {
    const ctm = svg.getScreenCTM();
    if (!ctm) return;
    const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ctm.inverse());
    let best = 0;
    times.forEach((t, i) => { if (Math.abs(x(t) - p.x) < Math.abs(x(times[best]) - p.x)) best = i; });
    guide.setAttribute('x1', x(times[best])); guide.setAttribute('x2', x(times[best]));
    guide.setAttribute('visibility', 'visible');
    tip.replaceChildren(el('div', {}, fullTime(times[best])));
    for (const l of lines) {
      const i = el('i'); i.style.background = l.color;
      tip.append(el('div', {}, i, (l.label || l.name) + ': ' + (spec.format || fmt)(l.values[best])));
    }
    const box = card.getBoundingClientRect();
    tip.style.display = 'block';
    const left = ev.clientX - box.left + 14;
    tip.style.left = Math.min(left, box.width - tip.offsetWidth - 6) + 'px';
    tip.style.top = (ev.clientY - box.top + 12) + 'px';
  });
  svg.addEventListener('mouseleave', () => { tip.style.display = 'none'; guide.setAttribute('visibility', 'hidden'); });
  return card;
}

// ----------------------------------------------------------------------------- horizontal bar chart
// spec: { series, title, desc, bars: [{name, value, color, parts: [[label, value], ...]}], format }
function barChart(spec) {
  const card = el('div', { class: 'card', 'data-chart': spec.series });
  card.append(el('h3', {}, spec.title), el('div', { class: 'desc' }, spec.desc || ''));
  const bars = spec.bars.filter(b => isNum(b.value));
  const rowH = 44, h = Math.max(80, 14 + bars.length * rowH + 34);
  const svg = sv('svg', { class: 'chart', viewBox: `0 0 ${W} ${h}`, role: 'img', 'aria-label': spec.title,
    'data-series': spec.series, 'data-points': String(bars.length),
    'data-last': bars.length ? String(bars[bars.length - 1].value) : '' });
  card.append(svg);
  if (!bars.length) {
    const t = sv('text', { x: W / 2, y: h / 2, 'text-anchor': 'middle', class: 'empty' });
    t.textContent = spec.emptyText || 'waiting for data…';
    svg.append(t);
    return card;
  }
  const left = 120, right = W - 78;
  const max = Math.max(...bars.map(b => Math.max(b.value, ...(b.parts || []).map(p => isNum(p[1]) ? p[1] : 0)))) || 1;
  const step = niceStep(max, 4);
  const top = Math.ceil(max / step) * step;
  const x = v => left + v / top * (right - left);
  for (let v = 0; v <= top + step / 2; v += step) {
    svg.append(sv('line', { class: 'gridline', x1: x(v), x2: x(v), y1: 14, y2: 14 + bars.length * rowH }));
    const t = sv('text', { x: x(v), y: 14 + bars.length * rowH + 26, 'text-anchor': 'middle' });
    t.textContent = (spec.format || fmt)(v);
    svg.append(t);
  }
  bars.forEach((b, i) => {
    const cy = 14 + i * rowH + rowH / 2 + 4;
    const name = sv('text', { x: left - 8, y: cy + 4, 'text-anchor': 'end' });
    name.textContent = b.name.length > 18 ? b.name.slice(0, 17) + '…' : b.name;
    name.style.fill = '#334155';
    name.style.fontSize = '12px';
    svg.append(name);
    svg.append(sv('rect', { x: left, y: cy - 10, width: Math.max(1, x(b.value) - left), height: 20, rx: 3, fill: b.color,
      'data-name': b.name, 'data-value': String(b.value) }));
    for (const [label, v] of b.parts || []) {
      if (!isNum(v)) continue;
      svg.append(sv('line', { x1: x(v), x2: x(v), y1: cy - 13, y2: cy + 13, stroke: '#f59e0b', 'stroke-width': 2 }));
      const t = sv('text', { x: x(v), y: label === 'p50' ? cy + 24 : cy - 16, 'text-anchor': 'middle' });
      t.textContent = label;
      t.style.fontSize = '10px';
      svg.append(t);
    }
    const v = sv('text', { x: right + 6, y: cy + 4 });
    v.textContent = (spec.format || fmt)(b.value);
    v.style.fill = '#0f172a';
    v.style.fontWeight = '600';
    v.style.fontSize = '12px';
    svg.append(v);
  });
  if (spec.extra) card.append(spec.extra);
  return card;
}

// --------------------------------------------------------------------------------------------- render
function colorOf(models) {
  const c = {};
  models.forEach((m, i) => { c[m] = i === 0 ? LIVE_COLOR : PALETTE[(i - 1) % PALETTE.length]; });
  return c;
}
const short = m => m;

function renderHeader(s) {
  const exp = document.getElementById('experiment');
  if (!s.experiment_id) { exp.textContent = 'waiting for the first report…'; return; }
  exp.replaceChildren('experiment ', el('b', {}, s.experiment_id), ' · live ', el('b', {}, s.live_model || '–'),
    ' · candidate' + (s.candidates.length === 1 ? ' ' : 's '), el('b', {}, s.candidates.join(', ') || '–'));
}

function renderVerdicts(s) {
  const box = document.getElementById('verdicts');
  box.replaceChildren();
  const verdicts = s.verdicts.length ? s.verdicts
    : s.candidates.map(c => ({ candidate: c, decision: null, reasons: ['no verdict yet: waiting for enough labelled pairs'] }));
  if (!verdicts.length) {
    box.append(el('div', { class: 'verdict' }, el('span', { class: 'badge', 'data-verdict': 'NONE' }, 'WAITING'),
      el('div', {}, el('div', { class: 'who' }, 'No verdict yet'), el('div', { class: 'when' }, 'the job publishes one per candidate as evidence accumulates'))));
    return;
  }
  for (const v of verdicts) {
    const d = v.decision || 'NONE';
    box.append(el('div', { class: 'verdict v-' + d, 'data-candidate': v.candidate },
      el('span', { class: 'badge ' + d, 'data-verdict': d, 'data-candidate': v.candidate }, v.decision || 'PENDING'),
      el('div', {},
        el('div', { class: 'who' }, v.candidate + ' vs live ' + (s.live_model || '')),
        el('div', { class: 'when' }, v.decided_at ? 'decided on the evidence up to ' + fullTime(v.decided_at) : ''),
        el('ul', { class: 'verdict-reasons' }, ...v.reasons.map(r => el('li', {}, r))))));
  }
}

function tile(k, v, h, warn) {
  return el('div', { class: 'tile' + (warn ? ' warn' : ''), 'data-tile': k }, el('div', { class: 'k' }, k), el('div', { class: 'v' }, v), el('div', { class: 'h' }, h || ''));
}

function renderTiles(s) {
  const c = s.counts || {};
  const box = document.getElementById('tiles');
  box.replaceChildren(
    tile('scored', int(c.scored), 'requests scored by every model'),
    tile('labelled', int(c.labelled), 'outcomes joined to a prediction'),
    tile('label coverage', pct(c.label_coverage, 1), 'labelled / (labelled + expired)'),
    tile('expired', int(c.expired_unlabeled), 'no label within the horizon'),
    tile('model errors', int(c.errors), 'outputs with an error', c.errors > 0),
    tile('dead letters', int(s.dead_letters.count), 'records the job could not use', s.dead_letters.count > 0),
    tile('reports', int(s.received.reports), s.received.tumbling_windows + ' windows · ' + s.received.cumulative_windows + ' cumulative'));
}

function renderDisagreement(s) {
  const grid = document.getElementById('grid-disagreement');
  const t = s.tumbling, col = colorOf(s.models);
  const cards = [];
  cards.push(lineChart({ series: 'flip_rate', title: 'Disagreement rate per window',
    desc: 'share of requests where a candidate decides differently from the live model',
    times: t.window_end, lines: s.candidates.map(c => ({ name: c, values: t.flip_rate[c], color: col[c] })),
    format: v => pct(v, 2), tick: v => pct(v, 1), zero: true, area: true }));
  for (const c of s.candidates) {
    cards.push(lineChart({ series: 'abs_diff', title: '|score difference| quantiles' + (s.candidates.length > 1 ? ' — ' + c : ''),
      desc: '|live − ' + c + '| per window: median, p90, p99', times: t.window_end,
      lines: [['p50', 'abs_diff_p50'], ['p90', 'abs_diff_p90'], ['p99', 'abs_diff_p99']]
        .map(([q, k]) => ({ name: q, label: q, values: t[k][c], color: QUANTILE_COLORS[q] })),
      zero: true }));
    cards[cards.length - 1].querySelector('svg').setAttribute('data-candidate', c);
  }
  cards.push(lineChart({ series: 'label_coverage', title: 'Label coverage',
    desc: 'labelled / (labelled + expired unlabelled) since the start', times: s.cumulative.window_end,
    lines: [{ name: 'label_coverage', label: 'coverage', values: s.cumulative.label_coverage, color: '#0d9488' }],
    format: v => pct(v, 1), tick: v => pct(v, 0), zero: true, area: true, clamp: [0, 1] }));
  grid.replaceChildren(...cards);
}

function renderQuality(s) {
  const grid = document.getElementById('grid-quality');
  const cu = s.cumulative, col = colorOf(s.models);
  const cards = [];
  const metrics = CHARTED_QUALITY.filter(m => s.quality_metrics.includes(m));
  for (const m of metrics) {
    const [title, desc, upper] = METRIC_INFO[m] || [m, '', false];
    const series = cu.quality[m] || {};
    cards.push(lineChart({ series: 'quality:' + m, title: title + ' — live vs candidate' + (s.candidates.length > 1 ? 's' : ''),
      desc, times: cu.window_end, emptyText: 'waiting for labels…',
      lines: s.models.map((model, i) => ({ name: model, label: (i === 0 ? 'live ' : '') + model, values: series[model] || [],
        color: col[model], width: i === 0 ? 2.6 : null })),
      format: m === 'log_loss' || m === 'mae' || m === 'rmse' ? v => fmt(v, 4) : v => fmt(v, 4),
      tick: v => fmt(v, 3), clamp: upper ? [0, 1] : undefined }));
  }
  grid.replaceChildren(...cards);
}

function renderOps(s) {
  const grid = document.getElementById('grid-ops');
  const t = s.tumbling, col = colorOf(s.models);
  const cards = [];
  cards.push(lineChart({ series: 'latency', title: 'Inference latency per model',
    desc: 'mean per event, per window (the reports\' latency_mean_micros)', times: t.window_end,
    lines: s.models.map((m, i) => ({ name: m, label: (i === 0 ? 'live ' : '') + m, values: t.latency_mean_micros[m] || [], color: col[m] })),
    format: micros, tick: micros, zero: true }));
  const lat = s.scored_events.latency_micros;
  const models = s.models.filter(m => lat[m]).concat(Object.keys(lat).filter(m => !s.models.includes(m)));
  cards.push(barChart({ series: 'scored_latency', title: 'Latency of sampled scored events',
    desc: 'bar: mean, marks: p50 / p99; last ' + int(Math.max(0, ...models.map(m => lat[m].samples))) + ' events per model (' + int(s.scored_events.count) + ' sampled events read)',
    bars: models.map(m => ({ name: m, value: lat[m].mean, color: col[m] || '#64748b', parts: [['p50', lat[m].p50], ['p99', lat[m].p99]] })),
    format: micros, emptyText: 'waiting for scored events…' }));
  const recent = s.dead_letters.recent;
  const list = el('ul', { class: 'reasons', 'data-count': String(s.dead_letters.count) },
    ...recent.map(d => el('li', {}, el('span', { class: 't' }, d.source_topic + ' @' + d.partition + ':' + d.offset),
      el('span', { class: 'r', title: d.reason }, d.reason))));
  if (!recent.length) list.append(el('li', {}, el('span', { class: 't' }, 'no dead letters')));
  cards.push(lineChart({ series: 'dead_letters', title: 'Dead letters per window',
    desc: int(s.dead_letters.count) + ' read from the dead-letter topic; the latest reasons below', times: t.window_end,
    lines: [{ name: 'dead_lettered', label: 'dead-lettered', color: '#dc2626',
      values: t.dead_lettered.map((v, i) => v === 0 && !t.scored[i] ? null : v) }],
    format: v => int(v), tick: v => int(v), zero: true, bars: true, integer: true, extra: list }));
  grid.replaceChildren(...cards);
}

function renderLatest(s) {
  const box = document.getElementById('latest');
  const l = s.latest;
  if (!l || !l.quality) { box.replaceChildren(el('div', { class: 'desc' }, 'waiting for the first report…')); return; }
  const keys = ['accuracy', 'roc_auc', 'macro_f1', 'f1', 'precision', 'recall', 'log_loss', 'brier', 'mae', 'rmse', 'error_rate', 'latency_mean_micros']
    .filter(k => l.quality.some(q => k in q.metrics));
  const lowerBetter = new Set(['log_loss', 'brier', 'mae', 'rmse', 'error_rate', 'latency_mean_micros']);
  const live = l.quality.find(q => q.role === 'LIVE');
  const table = el('table', {}, el('tr', {}, el('th', {}, 'model'), el('th', { class: 'l' }, 'role'), el('th', {}, 'labelled'),
    ...keys.map(k => el('th', {}, k === 'latency_mean_micros' ? 'latency' : k))));
  for (const q of l.quality) {
    table.append(el('tr', { 'data-model': q.model }, el('td', {}, q.model), el('td', { class: 'l' }, q.role.toLowerCase()), el('td', {}, int(q.labelled)),
      ...keys.map(k => {
        const v = q.metrics[k];
        let cls = '';
        if (live && q !== live && isNum(v) && isNum(live.metrics[k]) && v !== live.metrics[k] && k !== 'error_rate') {
          const better = lowerBetter.has(k) ? v < live.metrics[k] : v > live.metrics[k];
          cls = better ? 'better' : 'worse';
        }
        return el('td', { class: cls }, k === 'latency_mean_micros' ? micros(v) : fmt(v, 4));
      })));
  }
  const parts = [el('div', { class: 'desc' }, 'cumulative ' + fullTime(l.window_start) + ' … ' + fullTime(l.window_end) + ' (green: candidate better than live, red: worse)'), table];
  if (l.paired.length) {
    const p = el('table', {}, el('tr', {}, el('th', {}, 'candidate'), el('th', {}, 'pairs'), el('th', {}, 'live only right'),
      el('th', {}, 'candidate only right'), el('th', {}, 'McNemar p'), el('th', {}, 'loss diff (cand − live)'), el('th', {}, '95% CI')));
    for (const x of l.paired) {
      p.append(el('tr', {}, el('td', {}, x.candidate), el('td', {}, int(x.pairs)), el('td', {}, int(x.live_only_correct)),
        el('td', {}, int(x.candidate_only_correct)), el('td', {}, isNum(x.mcnemar_p_value) ? x.mcnemar_p_value.toPrecision(3) : '–'),
        el('td', {}, fmt(x.loss_diff_mean, 5)), el('td', {}, '[' + fmt(x.loss_diff_ci_low, 5) + ', ' + fmt(x.loss_diff_ci_high, 5) + ']')));
    }
    parts.push(el('h4', {}, 'Paired test on labelled requests'), p);
  }
  if (l.disagreement.length) {
    const d = el('table', {}, el('tr', {}, el('th', {}, 'candidate'), el('th', {}, 'compared'), el('th', {}, 'flips'), el('th', {}, 'flip rate'),
      el('th', {}, '|diff| mean'), el('th', {}, 'p50'), el('th', {}, 'p90'), el('th', {}, 'p99'), el('th', {}, 'max')));
    for (const x of l.disagreement) {
      d.append(el('tr', {}, el('td', {}, x.candidate), el('td', {}, int(x.compared)), el('td', {}, int(x.flips)), el('td', {}, pct(x.flip_rate, 2)),
        el('td', {}, fmt(x.abs_diff_mean, 4)), el('td', {}, fmt(x.abs_diff_p50, 4)), el('td', {}, fmt(x.abs_diff_p90, 4)),
        el('td', {}, fmt(x.abs_diff_p99, 4)), el('td', {}, fmt(x.abs_diff_max, 4))));
    }
    parts.push(el('h4', {}, 'Disagreement since the start'), d);
  }
  box.replaceChildren(...parts);
}

let lastOk = 0;
function setStatus(ok, text) {
  const st = document.getElementById('status');
  st.className = 'status ' + (ok ? 'ok' : 'down');
  document.getElementById('status-text').textContent = text;
}

function render(s) {
  renderHeader(s);
  renderVerdicts(s);
  renderTiles(s);
  renderDisagreement(s);
  renderQuality(s);
  renderOps(s);
  renderLatest(s);
  document.body.setAttribute('data-rendered', String(s.received.reports));
}

async function poll() {
  try {
    const r = await fetch('api/summary', { cache: 'no-store' });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const s = await r.json();
    render(s);
    lastOk = Date.now();
    setStatus(true, 'live · ' + int(s.received.reports) + ' reports · updated ' + new Date().toLocaleTimeString('en-GB'));
  } catch (e) {
    setStatus(false, 'cannot reach the demo (' + e.message + ')' + (lastOk ? ' · last update ' + new Date(lastOk).toLocaleTimeString('en-GB') : ''));
  }
}

poll();
setInterval(poll, 2000);
