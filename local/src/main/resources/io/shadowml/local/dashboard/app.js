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
  ece: ['Expected calibration error', 'mean |predicted − observed| over the reliability bins, weighted by count; lower is better', false],
};
const CHARTED_QUALITY = ['accuracy', 'roc_auc', 'macro_f1', 'log_loss', 'mae', 'rmse', 'ece'];
/** Metrics where a negative candidate − live difference is an improvement. */
const LOWER_BETTER = new Set(['log_loss', 'brier', 'mae', 'rmse', 'error_rate', 'squared_error', 'ece', 'latency_mean_micros']);
const BAD_OUTCOMES = new Set(['CANDIDATE_WORSE', 'VIOLATED']);

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
/** Interval ends arrive as numbers, null (unknown) or the strings "Infinity" / "-Infinity" (no evidence yet). */
const bnd = v => v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
function fmtBound(v) {
  v = bnd(v);
  if (v === Infinity) return '+∞';
  if (v === -Infinity) return '−∞';
  return fmt(v);
}
const signed = v => isNum(v) ? (v > 0 ? '+' : '') + fmt(v) : '–';
const interval = (lo, hi) => (lo === null || lo === undefined) && (hi === null || hi === undefined)
  ? '–' : '[' + fmtBound(lo) + ', ' + fmtBound(hi) + ']';
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

// ------------------------------------------------------------------------------------- interval bar
// A horizontal axis centred on 0 (no difference), the anytime-valid interval as a bar, the estimate as a dot,
// and the guardrail's margin as a dashed mark. spec: { estimate, low, high, margin, metric, outcome, w, h }
function outcomeOf(metric, low, high) {
  low = bnd(low); high = bnd(high);
  if (!isNum(low) && !isNum(high)) return 'INCONCLUSIVE';
  const lowerBetter = LOWER_BETTER.has(metric);
  if (low > 0) return lowerBetter ? 'CANDIDATE_WORSE' : 'CANDIDATE_BETTER';
  if (high < 0) return lowerBetter ? 'CANDIDATE_BETTER' : 'CANDIDATE_WORSE';
  return 'INCONCLUSIVE';
}
function intervalBar(spec) {
  const w = spec.w || 260, h = spec.h || 30, pad = 8, mid = h / 2;
  const low = bnd(spec.low), high = bnd(spec.high), est = spec.estimate;
  const margin = isNum(spec.margin) && spec.margin > 0
    ? (LOWER_BETTER.has(spec.metric) ? 1 : -1) * Math.abs(spec.margin) : null;
  const outcome = spec.outcome || 'INCONCLUSIVE';
  const svg = sv('svg', { class: 'interval o-' + outcome, viewBox: `0 0 ${w} ${h}`, width: w, height: h,
    'data-estimate': isNum(est) ? String(est) : '', 'data-low': low === null || low === undefined ? '' : String(low),
    'data-high': high === null || high === undefined ? '' : String(high), 'data-outcome': outcome });
  const finite = [low, high, est, margin].filter(isNum).map(Math.abs);
  const r = finite.length ? Math.max(...finite) * 1.15 || 1 : 1;
  const x = v => v === Infinity ? w - pad : v === -Infinity ? pad : w / 2 + v / r * (w / 2 - pad);
  svg.append(sv('line', { class: 'axis', x1: pad, x2: w - pad, y1: mid, y2: mid }));
  svg.append(sv('line', { class: 'zero', x1: w / 2, x2: w / 2, y1: 2, y2: h - 2 }));
  if (margin !== null) svg.append(sv('line', { class: 'margin', x1: x(margin), x2: x(margin), y1: 2, y2: h - 2 }));
  const hasLow = isNum(low) || low === -Infinity, hasHigh = isNum(high) || high === Infinity;
  if (hasLow && hasHigh) {
    svg.append(sv('rect', { class: 'ci', x: x(low), y: mid - 5, width: Math.max(2, x(high) - x(low)), height: 10, rx: 3 }));
  }
  if (isNum(est)) svg.append(sv('circle', { class: 'est', cx: x(est), cy: mid, r: 4 }));
  const title = sv('title');
  title.textContent = 'candidate − live ' + signed(est) + ' ' + interval(spec.low, spec.high)
    + (margin !== null ? ', margin ' + fmt(margin) : '') + ' · 0 = no difference';
  svg.append(title);
  return svg;
}

// ------------------------------------------------------------------------------- reliability diagram
function calibrationChart(s) {
  const col = colorOf(s.models);
  const quality = (s.latest && s.latest.quality) || [];
  const card = el('div', { class: 'card', 'data-chart': 'calibration' });
  card.append(el('h3', {}, 'Calibration — reliability diagram'),
    el('div', { class: 'desc' }, 'observed rate vs mean predicted probability per bin (dot size: events); on the diagonal = calibrated'));
  const withBins = quality.filter(q => q.calibration && q.calibration.length);
  const h = 260, l = 50, r = W - 12, t = 10, b = h - 28;
  const svg = sv('svg', { class: 'chart', viewBox: `0 0 ${W} ${h}`, role: 'img', 'aria-label': 'reliability diagram',
    'data-series': 'calibration', 'data-lines': String(withBins.length) });
  card.append(svg);
  const x = v => l + v * (r - l), y = v => b - v * (b - t);
  for (let v = 0; v <= 1.0001; v += 0.25) {
    svg.append(sv('line', { class: 'gridline', x1: l, x2: r, y1: y(v), y2: y(v) }));
    const ty = sv('text', { x: l - 6, y: y(v) + 3.5, 'text-anchor': 'end' }); ty.textContent = v.toFixed(2); svg.append(ty);
    const tx = sv('text', { x: x(v), y: b + 15, 'text-anchor': 'middle' }); tx.textContent = v.toFixed(2); svg.append(tx);
  }
  svg.append(sv('line', { class: 'guide', x1: x(0), y1: y(0), x2: x(1), y2: y(1) }));
  if (!withBins.length) {
    const e = sv('text', { x: W / 2, y: h / 2, 'text-anchor': 'middle', class: 'empty' });
    e.textContent = 'waiting for labels (no reliability bins in the reports yet)…';
    svg.append(e);
  }
  const legend = el('div', { class: 'legend' });
  for (const q of withBins) {
    const bins = q.calibration.filter(k => isNum(k.mean_predicted) && isNum(k.observed));
    const total = bins.reduce((a, k) => a + k.count, 0) || 1;
    const d = bins.map((k, i) => (i ? 'L' : 'M') + x(k.mean_predicted).toFixed(1) + ' ' + y(k.observed).toFixed(1)).join(' ');
    svg.append(sv('path', { class: 'line', d, stroke: col[q.model] || '#64748b', 'data-name': q.model,
      'data-points': String(bins.length), 'data-ece': isNum(q.metrics.ece) ? String(q.metrics.ece) : '' }));
    for (const k of bins) {
      const c = sv('circle', { cx: x(k.mean_predicted), cy: y(k.observed), r: 2 + 6 * Math.sqrt(k.count / total),
        fill: col[q.model] || '#64748b', 'fill-opacity': 0.55 });
      const tt = sv('title');
      tt.textContent = q.model + ' [' + fmt(k.lower, 2) + ', ' + fmt(k.upper, 2) + '): ' + int(k.count)
        + ' events, predicted ' + fmt(k.mean_predicted, 3) + ', observed ' + fmt(k.observed, 3);
      c.append(tt);
      svg.append(c);
    }
  }
  for (const q of quality) {
    const sw = el('i'); sw.style.background = col[q.model] || '#64748b';
    legend.append(el('span', { 'data-model': q.model }, sw, q.model + ' ECE ', el('b', { 'data-ece': q.model }, fmt(q.metrics.ece, 4))));
  }
  card.append(legend);
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
  const paired = {};
  for (const p of (s.latest && s.latest.paired) || []) paired[p.candidate] = p;
  for (const v of verdicts) {
    const d = v.decision || 'NONE';
    // A canary verdict (arm set) weighs the arms' unpaired tests, not the paired ones.
    const p = v.arm ? undefined : paired[v.candidate];
    const first = isNum(v.first_decided_at) ? 'first decided ' + fullTime(v.first_decided_at)
      : v.decision ? 'not decided yet' : '';
    const arm = v.arm ? { 'data-arm': v.arm } : {};
    box.append(el('div', { class: 'verdict v-' + d, 'data-candidate': v.candidate, ...arm },
      el('span', { class: 'badge ' + d, 'data-verdict': d, 'data-candidate': v.candidate, ...arm }, v.decision || 'PENDING'),
      el('div', { class: 'body' },
        el('div', { class: 'who' }, v.arm ? 'canary: ' + v.candidate + ' serving arm ' + v.arm + ' vs live ' + (s.live_model || '')
          : v.candidate + ' vs live ' + (s.live_model || '')),
        el('div', { class: 'when' }, v.decided_at ? 'evidence up to ' + fullTime(v.decided_at) : '',
          v.decided_at && first ? ' · ' : '',
          el('span', { 'data-field': 'first_decided_at', 'data-value': isNum(v.first_decided_at) ? String(v.first_decided_at) : '' }, first),
          isNum(v.alpha) ? ' · α ' + fmt(v.alpha) : ''),
        el('ul', { class: 'verdict-reasons' }, ...(v.reasons || []).map(r => el('li', {}, r))),
        evidenceBlock(v, p))));
  }
}

/** The primary interval, the McNemar e-value, what is still needed, and the tests behind the verdict. */
function evidenceBlock(v, p) {
  const box = el('div', { class: 'evidence', 'data-candidate': v.candidate });
  if (p) {
    const metric = p.primary_metric || 'primary metric';
    const primaryTest = (p.tests || []).find(t => t.test === 'primary');
    const outcome = primaryTest ? primaryTest.outcome : outcomeOf(metric, p.primary_cs_low, p.primary_cs_high);
    box.append(el('div', { class: 'primary', 'data-field': 'primary' },
      el('span', { class: 'k' }, metric + ' (candidate − live)'),
      intervalBar({ estimate: p.primary_estimate, low: p.primary_cs_low, high: p.primary_cs_high, metric, outcome }),
      el('span', { class: 'v' + (BAD_OUTCOMES.has(outcome) ? ' worse' : outcome === 'CANDIDATE_BETTER' ? ' better' : '') },
        el('span', { 'data-field': 'primary_estimate' }, signed(p.primary_estimate)), ' ',
        el('span', { 'data-field': 'primary_cs', title: 'anytime-valid interval: holds at every look' }, interval(p.primary_cs_low, p.primary_cs_high)))));
    const mcnemar = (p.tests || []).find(t => t.test === 'mcnemar');
    const threshold = mcnemar && isNum(mcnemar.alpha) && mcnemar.alpha > 0 ? 1 / mcnemar.alpha : null;
    const needed = p.pairs_needed === 0 ? 'decided' : isNum(p.pairs_needed)
      ? int(p.pairs_needed) + ' pairs' + (isNum(p.hours_needed) ? ' ≈ ' + fmt(p.hours_needed, 1) + ' h' : '') : '–';
    box.append(el('div', { class: 'stats' },
      stat('McNemar e-value', fmt(p.mcnemar_e_value), 'mcnemar_e_value', threshold ? 'rejects at 1/α = ' + fmt(threshold) : 'largest so far; 1/α rejects'),
      stat('always-valid p', isNum(p.mcnemar_always_valid_p) ? p.mcnemar_always_valid_p.toPrecision(3) : '–', 'mcnemar_always_valid_p', 'min(1, 1/e)'),
      stat('min detectable effect', isNum(p.min_detectable_effect) ? '±' + fmt(p.min_detectable_effect) : '–', 'min_detectable_effect', 'half-width of the interval'),
      stat('still needed', needed, 'needed', 'labelled pairs (and hours at the current rate) until decided')));
  }
  // Every test the verdict weighs (the latest cumulative report); the ones it names as evidence marked ◆.
  const evidence = v.evidence || [];
  const key = t => t.test + '|' + t.metric + '|' + (t.segment || '');
  const decisive = new Set(evidence.map(key));
  const tests = p && p.tests && p.tests.length ? p.tests : evidence;
  if (tests.length) {
    box.append(el('div', { class: 'tests-title' }, 'Tests the verdict weighs',
      evidence.length ? el('span', { class: 'muted' }, ' · ◆ evidence behind the decision') : ''),
      testsTable(tests, v.candidate, t => decisive.has(key(t))));
  } else if (!p) {
    box.append(el('div', { class: 'when' }, 'no paired evidence in the reports yet'));
  }
  return box;
}

function stat(k, v, field, hint) {
  return el('div', { class: 'stat', title: hint || '' }, el('div', { class: 'k' }, k), el('div', { class: 'v', 'data-field': field }, v));
}

function testsTable(tests, candidate, isDecisive) {
  const t = el('table', { class: 'tests', 'data-candidate': candidate },
    el('tr', {}, el('th', { class: 'l' }, 'test'), el('th', { class: 'l' }, 'metric'), el('th', { class: 'l' }, 'segment'),
      el('th', {}, 'estimate'), el('th', {}, 'anytime-valid interval'), el('th', { class: 'l' }, ''), el('th', {}, 'margin'),
      el('th', {}, 'α'), el('th', {}, 'e-value'), el('th', {}, 'pairs'), el('th', { class: 'l' }, 'outcome')));
  for (const x of tests) {
    const cls = BAD_OUTCOMES.has(x.outcome) ? 'bad' : x.outcome === 'CANDIDATE_BETTER' ? 'good' : '';
    const decisive = isDecisive(x);
    t.append(el('tr', { class: cls + (decisive ? ' decisive' : ''), 'data-test': x.test, 'data-metric': x.metric, 'data-segment': x.segment || '',
      'data-outcome': x.outcome, 'data-decisive': String(decisive) },
      el('td', { class: 'l' }, x.test + (decisive ? ' ◆' : '')), el('td', { class: 'l' }, x.metric), el('td', { class: 'l' }, x.segment || '–'),
      el('td', {}, signed(x.estimate)), el('td', { class: 'ci-text' }, interval(x.low, x.high)),
      el('td', { class: 'l' }, intervalBar({ estimate: x.estimate, low: x.low, high: x.high, margin: x.margin, metric: x.metric,
        outcome: x.outcome, w: 140, h: 18 })),
      el('td', {}, isNum(x.margin) && x.margin !== 0 ? fmt(x.margin) : '–'), el('td', {}, fmt(x.alpha)),
      el('td', {}, fmt(x.e_value)), el('td', {}, int(x.pairs)),
      el('td', { class: 'l outcome' }, x.outcome.toLowerCase().replace('_', ' '))));
  }
  return t;
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
  const paired = (s.latest && s.latest.paired) || [];
  for (const c of s.candidates) {
    const pr = (cu.primary || {})[c];
    if (!pr) continue;
    const p = paired.find(x => x.candidate === c);
    const metric = (p && p.primary_metric) || 'primary metric';
    const lower = LOWER_BETTER.has(metric);
    cards.push(lineChart({ series: 'primary:' + c, title: 'Primary metric: ' + metric + ' ' + c + ' − live',
      desc: 'estimate and anytime-valid interval; the verdict decides once the interval leaves 0 ('
        + (lower ? 'below' : 'above') + ' 0 = candidate better)',
      times: cu.window_end, emptyText: 'waiting for the job to report the interval…',
      lines: [{ name: 'estimate', label: 'estimate', values: pr.estimate, color: col[c] },
        { name: 'low', label: 'interval low', values: pr.low, color: col[c], dash: '5 4', width: 1.4 },
        { name: 'high', label: 'interval high', values: pr.high, color: col[c], dash: '5 4', width: 1.4 }],
      format: signed, tick: v => fmt(v, 3), zero: true }));
  }
  cards.push(calibrationChart(s));
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
  const keys = ['accuracy', 'roc_auc', 'roc_auc_max_error', 'macro_f1', 'f1', 'precision', 'recall', 'log_loss', 'brier', 'ece', 'mae', 'rmse', 'error_rate', 'latency_mean_micros']
    .filter(k => l.quality.some(q => k in q.metrics));
  const lowerBetter = LOWER_BETTER;
  const live = l.quality.find(q => q.role === 'LIVE');
  const table = el('table', {}, el('tr', {}, el('th', {}, 'model'), el('th', { class: 'l' }, 'role'), el('th', {}, 'labelled'),
    ...keys.map(k => el('th', {}, k === 'latency_mean_micros' ? 'latency' : k === 'roc_auc_max_error' ? 'roc_auc ±' : k))));
  for (const q of l.quality) {
    table.append(el('tr', { 'data-model': q.model }, el('td', {}, q.model), el('td', { class: 'l' }, q.role.toLowerCase()), el('td', {}, int(q.labelled)),
      ...keys.map(k => {
        const v = q.metrics[k];
        let cls = '';
        if (live && q !== live && isNum(v) && isNum(live.metrics[k]) && v !== live.metrics[k] && k !== 'error_rate' && k !== 'roc_auc_max_error') {
          const better = lowerBetter.has(k) ? v < live.metrics[k] : v > live.metrics[k];
          cls = better ? 'better' : 'worse';
        }
        return el('td', { class: cls }, k === 'latency_mean_micros' ? micros(v) : fmt(v, 4));
      })));
  }
  const parts = [el('div', { class: 'desc' }, 'cumulative ' + fullTime(l.window_start) + ' … ' + fullTime(l.window_end) + ' (green: candidate better than live, red: worse)'), table];
  if (l.paired.length) {
    const p = el('table', {}, el('tr', {}, el('th', {}, 'candidate'), el('th', {}, 'pairs'), el('th', {}, 'live only right'),
      el('th', {}, 'candidate only right'), el('th', { class: 'l' }, 'primary'), el('th', {}, 'cand − live'), el('th', {}, 'anytime-valid interval'),
      el('th', {}, 'McNemar e'), el('th', {}, 'always-valid p'), el('th', {}, 'McNemar p (fixed n)'), el('th', {}, 'loss diff'),
      el('th', {}, '95% t CI (descriptive)')));
    for (const x of l.paired) {
      p.append(el('tr', { 'data-candidate': x.candidate }, el('td', {}, x.candidate), el('td', {}, int(x.pairs)), el('td', {}, int(x.live_only_correct)),
        el('td', {}, int(x.candidate_only_correct)), el('td', { class: 'l' }, x.primary_metric || '–'),
        el('td', {}, signed(x.primary_estimate)), el('td', {}, interval(x.primary_cs_low, x.primary_cs_high)),
        el('td', {}, fmt(x.mcnemar_e_value)), el('td', {}, isNum(x.mcnemar_always_valid_p) ? x.mcnemar_always_valid_p.toPrecision(3) : '–'),
        el('td', {}, isNum(x.mcnemar_p_value) ? x.mcnemar_p_value.toPrecision(3) : '–'),
        el('td', {}, fmt(x.loss_diff_mean, 5)), el('td', {}, '[' + fmt(x.loss_diff_ci_low, 5) + ', ' + fmt(x.loss_diff_ci_high, 5) + ']')));
    }
    parts.push(el('h4', {}, 'Paired tests on labelled requests'), p);
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
