// The report page's fixed text. Edit the CSS and script here; the data comes
// from html_report.cpp as JSON in <script id="grpo-data">. The script builds
// every chart as inline SVG (heatmap cells as one embedded PNG inside the
// SVG, drawn on a canvas, so a 64-expert x 200-step map is one element, not
// 12,800), reads untrusted text (prompts, completions) through textContent
// only, and sets <body data-ready="1" data-charts="N"> when done (the
// headless-Chromium test waits for it) or fills #render-error on failure.
#include "report/internal/report_page.h"

namespace grpo::report::internal {

const char* report_page_head() {
  return R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>grpo report</title>
<style>
:root { --bg: #f5f6f8; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { padding: 18px 28px 10px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 650; }
.sub { color: var(--muted); display: flex; flex-wrap: wrap; gap: 6px 18px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e0e7ff; color: #3730a3; }
.badge.running { background: #dcfce7; color: #166534; }
.badge.failed, .badge.error { background: #fee2e2; color: #991b1b; }
nav { position: sticky; top: 0; z-index: 5; background: rgba(255,255,255,.95); border-bottom: 1px solid var(--line); padding: 8px 28px; display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
nav a { color: var(--accent); text-decoration: none; font-size: 13px; }
nav .spacer { flex: 1; }
nav label { color: var(--muted); font-size: 13px; }
main { padding: 8px 28px 40px; }
h2 { font-size: 17px; margin: 26px 0 10px; font-weight: 650; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-top: 14px; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.stat .k { color: var(--muted); font-size: 12px; }
.stat .v { font-size: 20px; font-weight: 650; }
.stat .d { font-size: 12px; color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(430px, 1fr)); gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 8px; min-width: 0; }
.card h3 { margin: 0 0 4px; font-size: 13px; font-weight: 600; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.plot { position: relative; }
.plot svg { width: 100%; height: auto; display: block; }
.axis text { font-size: 10px; fill: var(--muted); }
.axis line.grid { stroke: var(--line); }
.axis path, .axis line.tick { stroke: #98a2b3; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 12px; color: var(--muted); }
.legend .sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.legend b { color: var(--ink); font-weight: 600; }
.tip { position: absolute; pointer-events: none; background: rgba(17,24,39,.92); color: #fff; font-size: 12px; padding: 5px 8px; border-radius: 5px; white-space: nowrap; display: none; z-index: 3; }
.controls { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.controls input[type=number] { width: 80px; }
.controls input[type=search] { width: 200px; }
.count { color: var(--muted); margin: 8px 0; }
.sample { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; margin-bottom: 10px; }
.sample .hd { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; font-size: 12px; }
.chip { padding: 1px 7px; border-radius: 9px; background: #f2f4f7; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.chip.pos { background: #dcfce7; color: #166534; }
.chip.neg { background: #fee2e2; color: #991b1b; }
.sample pre { white-space: pre-wrap; word-break: break-word; margin: 6px 0 2px; font-size: 12.5px; background: #f9fafb; border-radius: 6px; padding: 8px; max-height: 420px; overflow: auto; }
.sample details summary { cursor: pointer; color: var(--muted); font-size: 12px; margin-top: 4px; }
table { border-collapse: collapse; background: var(--card); border: 1px solid var(--line); font-size: 13px; }
td, th { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
tr.warn td { background: #fffbeb; }
tr.error td { background: #fef2f2; }
.muted { color: var(--muted); }
#render-error:empty { display: none; }
#render-error { background: #fee2e2; color: #991b1b; padding: 10px 28px; white-space: pre-wrap; }
button { font: inherit; padding: 3px 12px; }
)PAGE" R"PAGE(</style>
</head>
<body>
<div id="render-error"></div>
<header id="top"></header>
<nav id="toc"></nav>
<main id="main"></main>
<script id="grpo-data" type="application/json">)PAGE";
}

const char* report_page_tail() {
  return R"PAGE(</script>
<script>
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('grpo-data').textContent);
  const SVGNS = 'http://www.w3.org/2000/svg';
  const COLORS = ['#2563eb', '#ea580c', '#16a34a', '#dc2626', '#9333ea', '#a16207', '#db2777', '#475569', '#65a30d', '#0891b2'];
  const W = 480, H = 250, M = { l: 58, r: 14, t: 12, b: 30 };
  const PW = W - M.l - M.r, PH = H - M.t - M.b;
  let smoothing = 0.6;
  const redraws = [];

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    for (const c of kids) e.append(c && c.nodeType ? c : document.createTextNode(c === undefined ? '' : String(c)));
    return e;
  }
  function sv(tag, attrs, parent) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return '\u2013';
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return String(+v.toPrecision(4));
  }
  function ticks(lo, hi, n) {
    if (!(hi > lo)) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    const step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
      out.push(Math.abs(t) < step * 1e-6 ? 0 : +t.toPrecision(12));  // no 3.5e-18 for zero
    return { lo, hi, ticks: out };
  }
  const pts = (name) => (D.metrics[name] || []);
  function ema(points, w) {
    if (w <= 0) return points;
    let acc = 0, n = 0;
    return points.map(([s, v]) => {
      if (v === null) return [s, null];
      acc = acc * w + (1 - w) * v; n++;
      return [s, acc / (1 - Math.pow(w, n))];  // debiased, as TensorBoard does
    });
  }
  function lastValue(points) {
    for (let i = points.length - 1; i >= 0; --i) if (points[i][1] !== null) return points[i][1];
    return null;
  }
  function nearest(points, step) {
    let lo = 0, hi = points.length - 1;
    if (hi < 0) return null;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (points[mid][0] < step) lo = mid + 1; else hi = mid; }
    if (lo > 0 && Math.abs(points[lo - 1][0] - step) <= Math.abs(points[lo][0] - step)) lo--;
    return points[lo];
  }

  // Frame: svg, axes and scales for a plot over [x0, x1] x [y0, y1].
  function frame(svgEl, x0, x1, y0, y1, yLabels) {
    if (x1 <= x0) { x0 -= 1; x1 += 1; }
    const yt = ticks(y0, y1, 5);
    const X = (s) => M.l + (s - x0) / (x1 - x0) * PW;
    const Y = (v) => M.t + PH - (v - yt.lo) / (yt.hi - yt.lo) * PH;
    const ax = sv('g', { class: 'axis' }, svgEl);
    if (yLabels !== false) {
      for (const t of yt.ticks) {
        sv('line', { class: 'grid', x1: M.l, x2: M.l + PW, y1: Y(t), y2: Y(t) }, ax);
        sv('text', { x: M.l - 6, y: Y(t) + 3, 'text-anchor': 'end' }, ax).textContent = fmt(t);
      }
    }
    for (const t of ticks(x0, x1, 6).ticks) {
      if (t < x0 || t > x1 || Math.round(t) !== t) continue;
      sv('line', { class: 'tick', x1: X(t), x2: X(t), y1: M.t + PH, y2: M.t + PH + 4 }, ax);
      sv('text', { x: X(t), y: M.t + PH + 16, 'text-anchor': 'middle' }, ax).textContent = String(t);
    }
    sv('path', { d: `M${M.l},${M.t}V${M.t + PH}H${M.l + PW}`, fill: 'none' }, ax);
    sv('text', { x: M.l + PW, y: H - 2, 'text-anchor': 'end' }, ax).textContent = 'step';
    return { X, Y, x0, x1, lo: yt.lo, hi: yt.hi };
  }
  function linePath(points, X, Y) {
    let d = '', pen = false;
    for (const [s, v] of points) {
      if (v === null || !isFinite(v)) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + X(s).toFixed(1) + ',' + Y(v).toFixed(1);
      pen = true;
    }
    return d;
  }
  function range(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (lo === Infinity) return [0, 1];
    const pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  }
  function stepRange(lists) {
    let lo = Infinity, hi = -Infinity;
    for (const p of lists) if (p.length) { lo = Math.min(lo, p[0][0]); hi = Math.max(hi, p[p.length - 1][0]); }
    return lo === Infinity ? [0, 1] : [lo, hi];
  }
  // Crosshair and tooltip over a plot; rows(step) gives [label, value, color] lines.
  function hover(plot, svgEl, f, rows) {
    const tip = el('div', { class: 'tip' });
    plot.appendChild(tip);
    const cross = sv('line', { y1: M.t, y2: M.t + PH, stroke: '#98a2b3', 'stroke-dasharray': '3,3', visibility: 'hidden' }, svgEl);
    svgEl.addEventListener('mousemove', (ev) => {
      const box = svgEl.getBoundingClientRect(), sx = (ev.clientX - box.left) * W / box.width;
      const sy = (ev.clientY - box.top) * H / box.height;
      if (sx < M.l || sx > M.l + PW) { tip.style.display = 'none'; cross.setAttribute('visibility', 'hidden'); return; }
      const step = f.x0 + (sx - M.l) / PW * (f.x1 - f.x0);
      const r = rows(step, sy);
      if (!r) return;
      cross.setAttribute('x1', f.X(r.step)); cross.setAttribute('x2', f.X(r.step));
      cross.setAttribute('visibility', 'visible');
      tip.replaceChildren(el('div', {}, 'step ' + r.step));
      for (const [label, value, color] of r.lines) {
        const line = el('div', {});
        if (color) line.append(el('span', { class: 'sw', style: 'display:inline-block;width:8px;height:8px;margin-right:4px;background:' + color }));
        line.append(label + ': ' + fmt(value));
        tip.append(line);
      }
      tip.style.display = 'block';
      const px = (ev.clientX - box.left), py = (ev.clientY - box.top);
      tip.style.left = Math.min(px + 12, box.width - tip.offsetWidth - 4) + 'px';
      tip.style.top = Math.max(py - tip.offsetHeight - 8, 0) + 'px';
    });
    svgEl.addEventListener('mouseleave', () => { tip.style.display = 'none'; cross.setAttribute('visibility', 'hidden'); });
  }
  function newSvg(plot) {
    const s = sv('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
    plot.appendChild(s);
    return s;
  }
  function legendItem(legend, color, label, value) {
    const item = el('span', {}, el('span', { class: 'sw', style: 'background:' + color }), label + ' ');
    if (value !== undefined) item.append(el('b', {}, fmt(value)));
    legend.append(item);
  }

  function drawLines(chart, plot, legend) {
    const series = chart.series.map((s, i) => ({ label: s.label, color: COLORS[i % COLORS.length], raw: pts(s.metric) }));
    let band = null;
    if (chart.band_mean && chart.band_std) {
      const sd = new Map(pts(chart.band_std).map(([s, v]) => [s, v]));
      band = pts(chart.band_mean).filter(([s, v]) => v !== null && sd.get(s) !== null && sd.has(s))
        .map(([s, v]) => [s, v - sd.get(s), v + sd.get(s)]);
    }
    const all = [];
    for (const s of series) for (const p of s.raw) all.push(p[1]);
    if (band) for (const b of band) all.push(b[1], b[2]);
    const [y0, y1] = range(all);
    const [x0, x1] = stepRange(series.map((s) => s.raw));
    const s0 = series[0];
    for (const s of series) legendItem(legend, s.color, s.label, lastValue(s.raw));
    if (band) legendItem(legend, 'rgba(37,99,235,.25)', '\u00b1 std');
    function render() {
      plot.replaceChildren();
      const svgEl = newSvg(plot);
      const f = frame(svgEl, x0, x1, y0, y1);
      if (band && band.length) {
        const top = band.map(([s, lo, hi]) => `${f.X(s).toFixed(1)},${f.Y(hi).toFixed(1)}`);
        const bottom = band.slice().reverse().map(([s, lo]) => `${f.X(s).toFixed(1)},${f.Y(lo).toFixed(1)}`);
        sv('path', { class: 'band', d: 'M' + top.concat(bottom).join('L') + 'Z', fill: s0.color, 'fill-opacity': 0.15, stroke: 'none' }, svgEl);
      }
      for (const s of series) {
        const smooth = s.raw.length > 2 && smoothing > 0;
        if (smooth) sv('path', { class: 'raw', d: linePath(s.raw, f.X, f.Y), fill: 'none', stroke: s.color, 'stroke-opacity': 0.25, 'stroke-width': 1 }, svgEl);
        const shown = smooth ? ema(s.raw, smoothing) : s.raw;
        sv('path', { class: 'series', d: linePath(shown, f.X, f.Y), fill: 'none', stroke: s.color, 'stroke-width': 1.8, 'stroke-linejoin': 'round' }, svgEl);
        if (s.raw.length === 1 && s.raw[0][1] !== null)
          sv('circle', { class: 'series-point', cx: f.X(s.raw[0][0]), cy: f.Y(s.raw[0][1]), r: 3, fill: s.color }, svgEl);
        s.shown = shown;
      }
      hover(plot, svgEl, f, (step) => {
        const p0 = nearest(s0.raw, step);
        if (!p0) return null;
        return { step: p0[0], lines: series.map((s) => [s.label, (nearest(s.raw, p0[0]) || [0, null])[1], s.color]) };
      });
    }
    render();
    redraws.push(render);
  }

  function drawStacked(chart, plot, legend) {
    const series = chart.series.map((s, i) => ({ label: s.label, color: COLORS[i % COLORS.length], map: new Map(pts(s.metric)) }));
    const total = chart.total ? pts(chart.total) : [];
    const stepSet = new Set();
    for (const s of series) for (const k of s.map.keys()) stepSet.add(k);
    const steps = [...stepSet].sort((a, b) => a - b);
    const cum = steps.map(() => 0);
    const layers = series.map((s) => {
      const bottom = cum.slice();
      steps.forEach((st, i) => { cum[i] += s.map.get(st) || 0; });
      return { s, bottom, top: cum.slice() };
    });
    const [, y1] = range(cum.concat(total.map((p) => p[1])));
    const [x0, x1] = stepRange([steps.map((s) => [s]), total]);
    const svgEl = newSvg(plot);
    const f = frame(svgEl, x0, x1, 0, y1);
    for (const L of layers) {
      const up = steps.map((st, i) => `${f.X(st).toFixed(1)},${f.Y(L.top[i]).toFixed(1)}`);
      const down = steps.map((st, i) => `${f.X(st).toFixed(1)},${f.Y(L.bottom[i]).toFixed(1)}`).reverse();
      sv('path', { class: 'series area', d: 'M' + up.concat(down).join('L') + 'Z', fill: L.s.color, 'fill-opacity': 0.55, stroke: L.s.color, 'stroke-width': 0.8 }, svgEl);
      legendItem(legend, L.s.color, L.s.label, L.s.map.get(steps[steps.length - 1]));
    }
    if (total.length) {
      sv('path', { class: 'series', d: linePath(total, f.X, f.Y), fill: 'none', stroke: '#111827', 'stroke-width': 1.4, 'stroke-dasharray': '4,3' }, svgEl);
      legendItem(legend, '#111827', chart.total.split('/').pop() + ' (total)', lastValue(total));
    }
    hover(plot, svgEl, f, (step) => {
      const p = nearest(steps.map((s) => [s, 0]), step);
      if (!p) return null;
      const lines = series.map((s) => [s.label, s.map.get(p[0]), s.color]);
      if (total.length) lines.push(['total', (nearest(total, p[0]) || [0, null])[1], '#111827']);
      return { step: p[0], lines };
    });
  }

  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(t) {
    t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
    const i = Math.min(Math.floor(t), VIRIDIS.length - 2), f = t - i;
    return VIRIDIS[i].map((c, k) => Math.round(c + (VIRIDIS[i + 1][k] - c) * f));
  }
  function drawHeatmap(chart, plot, legend) {
    const rows = chart.series.map((s) => new Map(pts(s.metric)));
    const stepSet = new Set();
    for (const r of rows) for (const k of r.keys()) stepSet.add(k);
    const steps = [...stepSet].sort((a, b) => a - b);
    let lo = Infinity, hi = -Infinity;
    for (const r of rows) for (const v of r.values()) if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (hi === lo) hi = lo + 1e-12;
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, steps.length); canvas.height = Math.max(1, rows.length);
    const ctx = canvas.getContext('2d'), img = ctx.createImageData(canvas.width, canvas.height);
    rows.forEach((r, y) => steps.forEach((st, x) => {
      const v = r.get(st), o = (y * canvas.width + x) * 4;
      const c = v === undefined || v === null ? [230, 230, 230] : viridis((v - lo) / (hi - lo));
      img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 255;
    }));
    ctx.putImageData(img, 0, 0);
    const svgEl = newSvg(plot);
    const half = steps.length > 1 ? (steps[steps.length - 1] - steps[0]) / (steps.length - 1) / 2 : 0.5;
    const f = frame(svgEl, steps[0] - half, steps[steps.length - 1] + half, 0, 1, false);
    sv('image', { class: 'heatmap', href: canvas.toDataURL('image/png'), x: M.l, y: M.t, width: PW, height: PH, preserveAspectRatio: 'none', style: 'image-rendering:pixelated' }, svgEl);
    const ax = sv('g', { class: 'axis' }, svgEl), every = Math.ceil(rows.length / 8);
    chart.series.forEach((s, i) => {
      if (i % every) return;
      sv('text', { x: M.l - 6, y: M.t + (i + 0.5) * PH / rows.length + 3, 'text-anchor': 'end' }, ax).textContent = s.label.replace('expert ', 'e');
    });
    const gid = chart.id + '-grad';
    const ls = sv('svg', { viewBox: '0 0 200 14', width: 200, height: 14 });
    const grad = sv('linearGradient', { id: gid }, sv('defs', {}, ls));
    VIRIDIS.forEach((c, i) => sv('stop', { offset: i / (VIRIDIS.length - 1), 'stop-color': `rgb(${c})` }, grad));
    sv('rect', { x: 0, y: 2, width: 200, height: 10, fill: `url(#${gid})` }, ls);
    legend.append(el('span', {}, fmt(lo) + ' '), ls, el('span', {}, ' ' + fmt(hi)), el('span', { class: 'muted' }, ` ${rows.length} experts \u00d7 ${steps.length} steps`));
    hover(plot, svgEl, f, (step, sy) => {
      const p = nearest(steps.map((s) => [s, 0]), step);
      const row = Math.floor((sy - M.t) / PH * rows.length);
      if (!p || row < 0 || row >= rows.length) return null;
      return { step: p[0], lines: [[chart.series[row].label, rows[row].get(p[0])]] };
    });
  }

  function duration(s) {
    if (s < 120) return s.toFixed(1) + ' s';
    if (s < 7200) return (s / 60).toFixed(1) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  function header() {
    const h = document.querySelector('header'), meta = D.meta || {};
    document.title = D.title + ' \u2013 grpo report';
    h.append(el('h1', {}, D.title));
    const sub = el('div', { class: 'sub' });
    if (meta.status) sub.append(el('span', { class: 'badge ' + meta.status }, meta.status));
    sub.append(el('span', {}, `${D.steps.count} steps` + (D.steps.count ? ` (${D.steps.first}\u2013${D.steps.last})` : '')));
    if (D.steps.elapsed_s > 0) sub.append(el('span', {}, duration(D.steps.elapsed_s) + ' from first to last step'));
    sub.append(el('span', {}, `${D.checkpoints.length} checkpoints`));
    sub.append(el('span', {}, 'generated ' + new Date(D.generated * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'));
    sub.append(el('span', { class: 'muted' }, D.store));
    h.append(sub);
    const keys = Object.keys(meta).filter((k) => k !== 'recipe' && k !== 'status');
    if (keys.length) {
      const t = el('table', { style: 'margin-top:8px' });
      for (const k of keys) t.append(el('tr', {}, el('th', {}, k), el('td', {}, meta[k])));
      h.append(el('details', {}, el('summary', {}, 'run metadata'), t));
    }
    if (meta.recipe) {
      let text = meta.recipe;
      try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* stored verbatim */ }
      h.append(el('details', {}, el('summary', {}, 'resolved recipe'), el('pre', {}, text)));
    }
  }

  function summaryCards(main) {
    const wanted = [['reward/mean', 'reward'], ['accuracy/mean', 'accuracy'], ['format/rate', 'format rate'],
      ['completion/length/mean', 'completion length'], ['kl/mean', 'KL'], ['entropy/mean', 'entropy'],
      ['optim/grad_norm', 'grad norm'], ['throughput/tokens_per_s', 'tokens/s'], ['time/step', 'step time (s)']];
    const cards = el('div', { class: 'cards' });
    for (const [name, label] of wanted) {
      const p = D.metrics[name];
      if (!p || !p.length) continue;
      const last = lastValue(p), first = p[0][1];
      cards.append(el('div', { class: 'stat' }, el('div', { class: 'k' }, label), el('div', { class: 'v' }, fmt(last)),
        el('div', { class: 'd' }, `step ${p[0][0]}: ${fmt(first)}`)));
    }
    if (cards.children.length) main.append(cards);
  }

  // Sections with few charts share one grid (and heading) with their small
  // neighbours, so a one-chart section does not leave a row mostly empty.
  function layout(secs) {
    const rows = [];
    let small = null;
    for (const sec of secs) {
      if (sec.charts.length >= 3) { small = null; rows.push([sec]); continue; }
      if (!small) { small = []; rows.push(small); }
      small.push(sec);
      if (small.reduce((n, s) => n + s.charts.length, 0) >= 3) small = null;
    }
    return rows;
  }
  function sections(main, nav) {
    let n = 0;
    if (!D.sections.length) main.append(el('p', { class: 'muted' }, 'No metrics recorded yet.'));
    for (const row of layout(D.sections)) {
      const heading = el('h2', {});
      row.forEach((sec, i) => {
        nav.append(el('a', { href: '#sec-' + sec.key }, sec.title));
        heading.append(el('span', { id: 'sec-' + sec.key }, (i ? ' \u00b7 ' : '') + sec.title));
      });
      main.append(heading);
      const grid = el('div', { class: 'grid' });
      main.append(grid);
      for (const sec of row) for (const chart of sec.charts) {
        const plot = el('div', { class: 'plot' }), legend = el('div', { class: 'legend' });
        const card = el('div', { class: 'card chart', id: chart.id, 'data-kind': chart.kind }, el('h3', {}, chart.title), plot, legend);
        grid.append(card);
        if (chart.kind === 'heatmap') drawHeatmap(chart, plot, legend);
        else if (chart.kind === 'stacked') drawStacked(chart, plot, legend);
        else drawLines(chart, plot, legend);
        card.setAttribute('data-rendered', '1');
        n++;
      }
    }
    return n;
  }

  function samples(main, nav) {
    nav.append(el('a', { href: '#samples' }, 'Samples'));
    main.append(el('h2', { id: 'samples' }, 'Samples'));
    const all = D.samples;
    if (!all.length) { main.append(el('p', { class: 'muted' }, 'No samples recorded.')); return; }
    if (D.sample_steps.shown < D.sample_steps.total)
      main.append(el('p', { class: 'muted' }, `Samples of ${D.sample_steps.shown} of the ${D.sample_steps.total} steps that have them are embedded (evenly spaced, latest kept; raise --max-samples for more).`));
    const steps = [...new Set(all.map((s) => s.step))].sort((a, b) => b - a);
    const finishes = [...new Set(all.map((s) => s.finish))].sort();
    const stepSel = el('select', { id: 'sample-step' }, el('option', { value: '' }, 'all steps'));
    for (const s of steps) stepSel.append(el('option', { value: s }, 'step ' + s));
    const finSel = el('select', { id: 'sample-finish' }, el('option', { value: '' }, 'any finish'));
    for (const f of finishes) finSel.append(el('option', { value: f }, f));
    const rmin = el('input', { type: 'number', id: 'sample-min', step: 'any', placeholder: 'min' });
    const rmax = el('input', { type: 'number', id: 'sample-max', step: 'any', placeholder: 'max' });
    const search = el('input', { type: 'search', id: 'sample-search', placeholder: 'text in prompt or completion' });
    const sort = el('select', { id: 'sample-sort' });
    for (const [v, t] of [['step', 'newest step first'], ['reward-desc', 'reward high\u2192low'], ['reward-asc', 'reward low\u2192high'],
      ['adv-desc', 'advantage high\u2192low'], ['adv-asc', 'advantage low\u2192high'], ['len-desc', 'longest completion']]) sort.append(el('option', { value: v }, t));
    main.append(el('div', { class: 'controls' }, el('label', {}, 'Step ', stepSel), el('label', {}, 'Reward ', rmin, ' to ', rmax),
      el('label', {}, 'Finish ', finSel), search, el('label', {}, 'Sort ', sort)));
    const count = el('div', { class: 'count', id: 'sample-count' }), list = el('div', { id: 'sample-list' });
    const more = el('button', { id: 'sample-more' }, 'Show more');
    main.append(count, list, more);
    let shown = 0, matched = [];
    const PAGE = 40;
    function card(s) {
      const hd = el('div', { class: 'hd' }, el('b', {}, `step ${s.step}`), el('span', { class: 'muted' }, `group ${s.group} \u00b7 #${s.index} \u00b7 policy v${s.version} \u00b7 ${s.finish}`));
      hd.append(el('span', { class: 'chip ' + (s.reward > 0 ? 'pos' : '') }, 'reward ' + fmt(s.reward)));
      for (const k of Object.keys(s.rewards)) hd.append(el('span', { class: 'chip' }, k + ' ' + fmt(s.rewards[k])));
      hd.append(el('span', { class: 'chip ' + (s.advantage > 0 ? 'pos' : s.advantage < 0 ? 'neg' : '') }, 'adv ' + (s.advantage > 0 ? '+' : '') + fmt(s.advantage)));
      return el('div', { class: 'sample' }, hd, el('details', {}, el('summary', {}, 'prompt'), el('pre', { class: 'prompt' }, D.prompts[s.prompt])),
        el('pre', { class: 'completion' }, s.completion));
    }
    function page() {
      for (const s of matched.slice(shown, shown + PAGE)) list.append(card(s));
      shown = Math.min(matched.length, shown + PAGE);
      more.style.display = shown < matched.length ? '' : 'none';
      count.textContent = `${matched.length} of ${all.length} samples match; showing ${shown}`;
    }
    function apply() {
      const st = stepSel.value, fin = finSel.value, q = search.value.toLowerCase();
      const lo = rmin.value === '' ? -Infinity : +rmin.value, hi = rmax.value === '' ? Infinity : +rmax.value;
      matched = all.filter((s) => (st === '' || s.step === +st) && (fin === '' || s.finish === fin) && s.reward >= lo && s.reward <= hi &&
        (!q || s.completion.toLowerCase().includes(q) || D.prompts[s.prompt].toLowerCase().includes(q)));
      const key = { 'step': (a, b) => b.step - a.step || a.group - b.group || a.index - b.index, 'reward-desc': (a, b) => b.reward - a.reward,
        'reward-asc': (a, b) => a.reward - b.reward, 'adv-desc': (a, b) => b.advantage - a.advantage, 'adv-asc': (a, b) => a.advantage - b.advantage,
        'len-desc': (a, b) => b.completion.length - a.completion.length }[sort.value];
      matched.sort(key);
      list.replaceChildren();
      shown = 0;
      page();
    }
    // Filters live in the URL fragment too (#step=60&rmin=1&q=think), so a
    // filtered view can be shared as a link.
    const controls = { step: stepSel, finish: finSel, rmin, rmax, q: search, sort };
    const initial = new URLSearchParams(location.hash.slice(1));
    for (const k in controls) if (initial.has(k)) controls[k].value = initial.get(k);
    function remember() {
      const p = new URLSearchParams();
      for (const k in controls) if (controls[k].value !== '' && !(k === 'sort' && controls[k].value === 'step')) p.set(k, controls[k].value);
      history.replaceState(null, '', '#' + p.toString());
    }
    for (const c of Object.values(controls)) c.addEventListener('input', () => { apply(); remember(); });
    more.addEventListener('click', page);
    apply();
  }

  function table(main, nav, id, title, rows, cols, rowClass) {
    nav.append(el('a', { href: '#' + id }, title));
    main.append(el('h2', { id }, title));
    if (!rows.length) { main.append(el('p', { class: 'muted' }, 'None.')); return; }
    const t = el('table', { id: id + '-table' }, el('tr', {}, ...cols.map((c) => el('th', {}, c[0]))));
    for (const r of rows) t.append(el('tr', { class: rowClass ? rowClass(r) : '' }, ...cols.map((c) => el('td', {}, c[1](r)))));
    main.append(t);
  }

  function main() {
    header();
    const nav = document.querySelector('nav'), m = document.querySelector('main');
    summaryCards(m);
    const charts = sections(m, nav);
    samples(m, nav);
    const when = (t) => t > 0 ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) : '';
    table(m, nav, 'checkpoints', 'Checkpoints', D.checkpoints, [['step', (r) => r.step], ['path', (r) => r.path], ['checksum', (r) => r.checksum]]);
    table(m, nav, 'events', 'Events', D.events, [['time (UTC)', (r) => when(r.time)], ['step', (r) => r.step < 0 ? '' : r.step],
      ['level', (r) => r.level], ['source', (r) => r.source], ['message', (r) => r.message]], (r) => r.level);
    nav.append(el('span', { class: 'spacer' }));
    const slider = el('input', { type: 'range', id: 'smoothing', min: 0, max: 0.99, step: 0.01, value: smoothing });
    const val = el('span', {}, String(smoothing));
    slider.addEventListener('input', () => { smoothing = +slider.value; val.textContent = slider.value; redraws.forEach((r) => r()); });
    nav.append(el('label', {}, 'smoothing ', slider, ' ', val));
    document.body.setAttribute('data-charts', String(charts));
  }

  try {
    main();
    document.body.setAttribute('data-ready', '1');
  } catch (e) {
    document.getElementById('render-error').textContent = 'report rendering failed: ' + (e && e.stack || e);
  }
})();
)PAGE" R"PAGE(</script>
</body>
</html>
)PAGE";
}

}  // namespace grpo::report::internal
