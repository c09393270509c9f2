// The observer's page (docs/OBSERVER.md): one self-contained document, its
// style and script inline, nothing fetched but the observer's own endpoints.
// Every view is rendered into the DOM, hidden tabs included, so a headless
// browser's dump shows them all; data is only ever inserted as text.

/// The observer's page: HTML, CSS and script in one document, served at "/".
enum ObserverPage {
    static let html: String = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Swerl observer</title>
<link rel="icon" href="data:,">
<style>
:root{--bg:#f4f5f7;--card:#fff;--fg:#1c2230;--muted:#6b7280;--line:#e1e4e9;--accent:#2459d6;--bad:#c62828;--warn:#b26a00;--ok:#1b7f3b}
*{box-sizing:border-box}
body{margin:0;font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:6px 14px;padding:8px 16px;background:#1c2230;color:#e8ebf0}
header h1{font-size:15px;margin:0;font-weight:600}
#hdr-info{color:#aab2c0}
nav{display:flex;gap:2px;flex-wrap:wrap}
nav a{color:#cfd5df;text-decoration:none;padding:4px 10px;border-radius:4px}
nav a:hover{background:#2c3446}
nav a.active{background:#3a4560;color:#fff}
#connection-status{margin-left:auto;padding:2px 8px;border-radius:10px;background:#7a4b00;color:#fff;font-size:12px}
#connection-status.live{background:var(--ok)}
#banner{background:#fdecea;color:var(--bad);border-bottom:1px solid #f5c2c0;padding:6px 16px;white-space:pre-wrap}
main{padding:12px 16px;max-width:1500px;margin:0 auto}
section.tab{display:none}
section.tab.active{display:block}
h2{font-size:14px;margin:14px 0 8px}
h3{font-size:12px;margin:0;font-weight:600}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.card .label{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.card .sub{color:var(--muted);font-size:11px}
#scheduler-bars{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:4px 16px}
.scheduler-bar{display:flex;align-items:center;gap:8px;font-variant-numeric:tabular-nums}
.sb-label{width:34px;color:var(--muted)}
.sb-track{flex:1;height:10px;background:#e6e9ee;border-radius:5px;overflow:hidden}
.sb-fill{display:block;height:100%;background:var(--accent)}
.sb-fill.hot{background:var(--bad)}
.sb-pct{width:38px;text-align:right}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:8px}
.chart-head{display:flex;gap:8px;align-items:baseline}
.chart-head .cur{margin-left:auto;font-weight:600;font-variant-numeric:tabular-nums}
.chart-head .max{color:var(--muted);font-size:11px}
svg.chart{display:block;width:100%;height:110px;background:#fafbfc;border:1px solid var(--line);margin-top:4px}
svg.chart path{fill:none;stroke-width:1.5;vector-effect:non-scaling-stroke}
svg.chart line{stroke:#e4e7ec;vector-effect:non-scaling-stroke}
.legend{display:flex;flex-wrap:wrap;gap:2px 10px;font-size:11px;color:var(--muted);margin-top:3px}
.legend i{display:inline-block;width:10px;height:3px;margin-right:3px;vertical-align:middle}
.toolbar{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin:10px 0}
input,select{font:inherit;padding:4px 6px;border:1px solid #c9ced6;border-radius:4px;background:#fff}
#process-filter{width:240px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line)}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600;white-space:nowrap;user-select:none}
th[data-sort]{cursor:pointer}
th[data-sort]:hover{background:#e3e6eb}
th.sorted.asc::after{content:" \25B2";font-size:9px}
th.sorted.desc::after{content:" \25BC";font-size:9px}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.busy td{background:#fff7e6}
a.pid{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--accent);text-decoration:none;font-size:12px}
a.pid:hover{text-decoration:underline}
.chip{display:inline-block;padding:0 6px;border-radius:8px;font-size:11px;background:#e8eaee;color:#374151}
.chip.running,.chip.runnable{background:#e3f4e8;color:var(--ok)}
.chip.exiting,.chip.crash,.chip.max_intensity,.chip.start_error,.chip.shutdown_error,.chip.terminated{background:#fde8e8;color:var(--bad)}
.chip.restarting,.chip.child_terminated,.chip.restarting_child{background:#fff1db;color:var(--warn)}
button.btn{font:inherit;font-size:11px;padding:1px 8px;border:1px solid #c9ced6;border-radius:4px;background:#fff;cursor:pointer}
button.btn:hover{background:#f0f2f5}
button.danger{color:var(--bad);border-color:#e9b4b4}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.fields dt{color:var(--muted)}
dl.fields dd{margin:0;display:flex;flex-wrap:wrap;gap:4px 10px}
.proc-head{display:flex;align-items:center;gap:10px;margin-bottom:8px}
.proc-head h2{margin:0}
.tree-root{margin-bottom:10px}
.sup-head{display:flex;flex-wrap:wrap;align-items:center;gap:8px}
.sup{color:var(--muted);font-size:12px}
ul.tree{list-style:none;margin:4px 0 0;padding-left:10px}
ul.tree li{position:relative;padding:3px 0 0 18px}
ul.tree li::before{content:"";position:absolute;left:0;top:0;bottom:0;border-left:1px solid #c3c9d2}
ul.tree li:last-child::before{bottom:auto;height:14px}
ul.tree li::after{content:"";position:absolute;left:0;top:14px;width:13px;border-top:1px solid #c3c9d2}
.node{display:flex;flex-wrap:wrap;align-items:center;gap:4px 10px;padding:1px 6px;border-radius:4px}
.cid{font-weight:600}
.restarts.nonzero{color:var(--warn);font-weight:600}
li.restarted>.node{background:#ffe9b8;box-shadow:0 0 0 1px #f0c14b}
td.detail{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;white-space:pre-wrap;max-width:480px;overflow-wrap:anywhere}
tr.event.new td{animation:fresh 3s ease-out}
@keyframes fresh{from{background:#fff3c4}to{background:transparent}}
@media (max-width:700px){main{padding:8px}.charts{grid-template-columns:1fr}#process-filter{width:100%}table{font-size:12px}}
</style>
</head>
<body>
<header>
  <h1>Swerl observer</h1>
  <span id="hdr-info"></span>
  <nav id="tabs">
    <a href="#/overview" data-tab="overview">Overview</a>
    <a href="#/processes" data-tab="processes">Processes</a>
    <a href="#/process" data-tab="process">Process</a>
    <a href="#/supervisors" data-tab="supervisors">Supervision trees</a>
    <a href="#/events" data-tab="events">Events</a>
  </nav>
  <span id="connection-status">reconnecting</span>
</header>
<div id="banner" role="alert" hidden></div>
<main>
<section id="overview" class="tab">
  <div class="cards">
    <div class="card"><div class="label">Version</div><div class="value" id="stat-version">—</div><div class="sub">node <span id="stat-node">—</span></div></div>
    <div class="card"><div class="label">Uptime</div><div class="value" id="stat-uptime">—</div></div>
    <div class="card"><div class="label">Processes</div><div class="value" id="stat-processes">—</div><div class="sub">spawned <span id="stat-spawned">—</span> · exited <span id="stat-exited">—</span></div></div>
    <div class="card"><div class="label">Messages/s</div><div class="value" id="stat-mps">—</div><div class="sub">sent <span id="stat-sent">—</span></div></div>
    <div class="card"><div class="label">Memory resident · charged / limit</div><div class="value" id="stat-memory">—</div></div>
    <div class="card"><div class="label">Dead letters</div><div class="value" id="stat-dead-letters">—</div></div>
    <div class="card"><div class="label">Rejected</div><div class="value" id="stat-rejected">—</div></div>
    <div class="card"><div class="label">Dropped</div><div class="value" id="stat-dropped">—</div></div>
    <div class="card"><div class="label">Restarts</div><div class="value" id="stat-restarts">—</div></div>
    <div class="card"><div class="label">Escalations</div><div class="value" id="stat-escalations">—</div></div>
  </div>
  <h2>Schedulers</h2>
  <div id="scheduler-bars" class="card"></div>
  <h2>Last 5 minutes</h2>
  <div class="charts">
    <div class="card"><div class="chart-head"><h3>Scheduler utilization</h3><span class="max" id="chart-utilization-max"></span><span class="cur" id="chart-utilization-value">—</span></div>
      <svg id="chart-utilization" class="chart" data-points="0" viewBox="0 0 600 100" preserveAspectRatio="none"></svg><div class="legend" id="chart-utilization-legend"></div></div>
    <div class="card"><div class="chart-head"><h3>Messages/s</h3><span class="max" id="chart-mps-max"></span><span class="cur" id="chart-mps-value">—</span></div>
      <svg id="chart-mps" class="chart" data-points="0" viewBox="0 0 600 100" preserveAspectRatio="none"></svg></div>
    <div class="card"><div class="chart-head"><h3>Processes</h3><span class="max" id="chart-processes-max"></span><span class="cur" id="chart-processes-value">—</span></div>
      <svg id="chart-processes" class="chart" data-points="0" viewBox="0 0 600 100" preserveAspectRatio="none"></svg></div>
    <div class="card"><div class="chart-head"><h3>Memory (resident)</h3><span class="max" id="chart-memory-max"></span><span class="cur" id="chart-memory-value">—</span></div>
      <svg id="chart-memory" class="chart" data-points="0" viewBox="0 0 600 100" preserveAspectRatio="none"></svg></div>
  </div>
</section>
<section id="processes" class="tab">
  <div class="toolbar">
    <input id="process-filter" type="search" placeholder="Filter by pid or name" aria-label="Filter">
    <label class="muted">show <select id="process-limit"><option>100</option><option>500</option><option>1000</option></select></label>
    <span id="processes-count" class="muted"></span>
  </div>
  <table id="processes-table">
    <thead><tr>
      <th data-sort="pid">Pid</th><th data-sort="name">Name</th><th>Status</th>
      <th data-sort="queue" class="num">Queue</th><th data-sort="handled" class="num">Handled</th><th data-sort="memory" class="num">Memory</th>
      <th class="num">Links</th><th class="num">Monitors</th><th class="num">Monitored by</th><th>Trap exit</th>
    </tr></thead>
    <tbody id="processes-body"></tbody>
  </table>
</section>
<section id="process" class="tab">
  <div id="process-view" class="card"><p class="muted">Click a pid to inspect its process.</p></div>
</section>
<section id="supervisors" class="tab">
  <div id="supervisor-trees"><p class="muted">Loading…</p></div>
</section>
<section id="events" class="tab">
  <p class="muted">Supervisor reports and crashes, newest first (at most 500 kept). <span id="events-count"></span></p>
  <table>
    <thead><tr><th>Time</th><th>Kind</th><th>Pid</th><th>Name</th><th>Supervisor</th><th>Child id</th><th>Reason</th><th>Detail</th></tr></thead>
    <tbody id="events-list"></tbody>
  </table>
</section>
</main>
<script>
'use strict';
const TOKEN = new URLSearchParams(location.search).get('token');
const TABS = ['overview', 'processes', 'process', 'supervisors', 'events'];
const WINDOW_MS = 300000, MAX_EVENTS = 500, W = 600, H = 100;
const COLORS = ['#2459d6', '#d9480f', '#2b8a3e', '#9c36b5', '#c2255c', '#0b7285', '#e67700', '#5c940d', '#364fc7', '#a61e4d'];
const S = {actions: false, history: [], seen: new Set(), lastSeq: 0, live: false, sort: 'queue', order: 'desc',
  filter: '', limit: 100, procReq: 0, proc: null, tab: 'overview', prevRestarts: {}, flash: {}, treesKey: '', errors: {}, busy: {}};
const $ = id => document.getElementById(id);

function apiUrl(path, params) {
  const u = new URL(path, location.href);
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v != null) u.searchParams.set(k, v);
  if (TOKEN) u.searchParams.set('token', TOKEN);
  return u.href;
}
async function api(path, params, post) {
  let r;
  try {
    r = await fetch(apiUrl(path, params), post ? {method: 'POST', headers: {'X-Swerl-Action': '1'}} : {cache: 'no-store'});
  } catch (e) { throw new Error(path + ': cannot reach the observer (' + e.message + ')'); }
  let body = null;
  try { body = await r.json(); } catch (_) { /* not JSON */ }
  if (!r.ok) {
    const err = new Error(r.status === 401 ? '401: the access token is missing or wrong; open this page as /?token=<token>'
      : r.status + ' ' + path + ': ' + ((body && body.error) || r.statusText || 'request failed'));
    err.status = r.status;
    throw err;
  }
  return body;
}
function setError(key, msg) {
  if (msg) S.errors[key] = msg; else delete S.errors[key];
  const msgs = [...new Set(Object.values(S.errors))], b = $('banner');
  b.textContent = msgs.join('\n');
  b.hidden = !msgs.length;
}
async function guarded(key, fn) {
  try { await fn(); setError(key); } catch (e) { setError(key, e.message); }
}
function poll(key, fn) {
  if (S.busy[key]) return;
  S.busy[key] = true;
  guarded(key, fn).finally(() => { S.busy[key] = false; });
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const c of kids.flat(Infinity)) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}
function svgEl(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}
const bare = pid => String(pid).replace(/^<|>$/g, '');
const cls = s => String(s == null ? '' : s).replace(/[^A-Za-z0-9_-]/g, '');
function pidLink(pid) {
  if (pid == null || pid === '') return el('span', {class: 'muted'}, '—');
  return el('a', {class: 'pid', href: '#/process/' + encodeURIComponent(bare(pid))}, String(pid));
}
const chip = s => el('span', {class: 'chip ' + cls(s)}, s == null ? '—' : String(s));
const text = v => (v == null || v === '' ? '—' : String(v));
function setText(id, v) { const e = $(id); if (e) e.textContent = text(v); }
function fmtBytes(n) {
  if (n == null) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}
function fmtUptime(ms) {
  if (ms == null) return '—';
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  s %= 60;
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + s + 's';
}
const fmtRate = v => (v == null ? '—' : v >= 100 ? String(Math.round(v)) : (+v).toFixed(1));
const fmtPct = v => (v * 100).toFixed(0) + '%';
function fmtTime(ms) {
  if (ms == null) return '—';
  const d = new Date(ms), p = (n, w) => String(n).padStart(w || 2, '0');
  return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.' + p(d.getMilliseconds(), 3);
}

// ---- Overview, scheduler bars and charts
function renderOverview(o) {
  setText('stat-version', o.version); setText('stat-node', o.node == null ? 'none' : o.node);
  setText('stat-uptime', fmtUptime(o.uptime_ms)); setText('stat-processes', o.processes);
  setText('stat-spawned', o.spawned); setText('stat-exited', o.exited); setText('stat-sent', o.messages_sent);
  setText('stat-mps', fmtRate(o.messages_per_s));
  setText('stat-memory', fmtBytes(o.rss_bytes) + ' · ' + fmtBytes(o.memory_used) + ' / ' + (o.memory_limit ? fmtBytes(o.memory_limit) : 'none'));
  setText('stat-dead-letters', o.dead_letters); setText('stat-rejected', o.messages_rejected);
  setText('stat-dropped', o.messages_dropped); setText('stat-restarts', o.restarts); setText('stat-escalations', o.escalations);
  setText('hdr-info', 'v' + text(o.version) + (o.node ? ' · ' + o.node : '') + ' · up ' + fmtUptime(o.uptime_ms) + (o.actions ? ' · actions on' : ''));
  $('scheduler-bars').replaceChildren(...(o.schedulers || []).map(s => {
    const u = Math.max(0, Math.min(1, +s.utilization || 0));
    return el('div', {class: 'scheduler-bar', 'data-index': s.index, 'data-utilization': s.utilization},
      el('span', {class: 'sb-label'}, 'S' + s.index),
      el('span', {class: 'sb-track'}, el('span', {class: 'sb-fill' + (u > 0.85 ? ' hot' : ''), style: 'width:' + (u * 100).toFixed(1) + '%'})),
      el('span', {class: 'sb-pct'}, fmtPct(u)));
  }));
  if (!!o.actions !== S.actions) {
    S.actions = !!o.actions;
    S.treesKey = '';
    poll('supervisors', loadSupervisors);
    if (S.proc) loadProcess();
  }
}
const toPoint = o => ({t: o.time_ms != null ? o.time_ms : Date.now(), util: o.utilization || (o.schedulers || []).map(s => s.utilization),
  processes: o.processes, mps: o.messages_per_s, mem: o.rss_bytes != null ? o.rss_bytes : o.memory_used});
function trimHistory() {
  const h = S.history;
  if (!h.length) return;
  const t0 = h[h.length - 1].t - WINDOW_MS;
  let i = 0;
  while (i < h.length && h[i].t < t0) i++;
  if (i) h.splice(0, i);
}
function pushSample(o) {
  const p = toPoint(o), last = S.history[S.history.length - 1];
  if (last && p.t <= last.t) return;
  S.history.push(p);
  trimHistory();
  drawCharts();
}
function niceMax(v) {
  if (!(v > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}
const CHARTS = [
  {id: 'chart-utilization', fixedMax: 1, fmt: fmtPct,
    lines: pts => { const n = pts.reduce((a, p) => Math.max(a, p.util.length), 0);
      return Array.from({length: n}, (_, i) => pts.filter(p => p.util[i] != null).map(p => [p.t, +p.util[i]])); },
    cur: p => p.util.length ? p.util.reduce((a, b) => a + (+b || 0), 0) / p.util.length : null},
  {id: 'chart-mps', fmt: fmtRate, lines: pts => [pts.map(p => [p.t, +p.mps || 0])], cur: p => p.mps},
  {id: 'chart-processes', fmt: v => String(Math.round(v)), lines: pts => [pts.map(p => [p.t, +p.processes || 0])], cur: p => p.processes},
  {id: 'chart-memory', fmt: fmtBytes, lines: pts => [pts.map(p => [p.t, +p.mem || 0])], cur: p => p.mem},
];
function drawCharts() {
  const pts = S.history, last = pts[pts.length - 1];
  const t0 = (last ? last.t : Date.now()) - WINDOW_MS;
  for (const c of CHARTS) {
    const lines = c.lines(pts);
    const max = c.fixedMax || niceMax(lines.reduce((a, l) => l.reduce((b, p) => Math.max(b, p[1]), a), 0));
    const kids = [0.25, 0.5, 0.75].map(f => svgEl('line', {x1: 0, x2: W, y1: H * f, y2: H * f}));
    lines.forEach((l, i) => {
      if (!l.length) return;
      const d = l.map((p, j) => (j ? 'L' : 'M') + ((p[0] - t0) / WINDOW_MS * W).toFixed(1) + ' ' +
        (H - Math.max(0, Math.min(1, p[1] / max)) * H).toFixed(1)).join(' ');
      kids.push(svgEl('path', {d: d, stroke: COLORS[i % COLORS.length]}));
    });
    const svg = $(c.id);
    svg.replaceChildren(...kids);
    svg.setAttribute('data-points', pts.length);
    const v = last ? c.cur(last) : null;
    setText(c.id + '-value', v == null ? '—' : c.fmt(v));
    setText(c.id + '-max', 'max ' + c.fmt(max));
    if (c.id === 'chart-utilization') {
      const legend = $('chart-utilization-legend');
      if (legend.children.length !== lines.length)
        legend.replaceChildren(...lines.map((_, i) => el('span', null, el('i', {style: 'background:' + COLORS[i % COLORS.length]}), 'S' + i)));
    }
  }
}
async function loadOverview() { const o = await api('api/overview'); renderOverview(o); pushSample(o); }
async function loadHistory() {
  const h = await api('api/history');
  const pts = (h.samples || []).map(toPoint);
  const lastT = pts.length ? pts[pts.length - 1].t : -Infinity;
  S.history = pts.concat(S.history.filter(p => p.t > lastT));
  trimHistory();
  drawCharts();
}

// ---- Processes
async function loadProcesses() {
  const my = ++S.procReq;
  const r = await api('api/processes', {sort: S.sort, order: S.order, limit: S.limit, filter: S.filter});
  if (my !== S.procReq) return;
  const num = v => el('td', {class: 'num'}, text(v));
  $('processes-body').replaceChildren(...(r.processes || []).map(p =>
    el('tr', {class: 'process-row' + (p.queue >= 100 ? ' busy' : ''), 'data-pid': p.pid, 'data-name': p.name == null ? '' : p.name},
      el('td', null, pidLink(p.pid)), el('td', null, text(p.name)), el('td', null, chip(p.status)),
      num(p.queue), num(p.handled), el('td', {class: 'num'}, fmtBytes(p.memory)),
      num(p.links), num(p.monitors), num(p.monitored_by), el('td', null, p.trap_exit ? 'yes' : 'no'))));
  setText('processes-count', 'showing ' + (r.processes || []).length + ' of ' + text(r.matched) + ' matching, ' + text(r.total) + ' live');
  for (const th of document.querySelectorAll('#processes-table th[data-sort]')) {
    th.classList.toggle('sorted', th.dataset.sort === S.sort);
    th.classList.toggle('asc', th.dataset.sort === S.sort && S.order === 'asc');
    th.classList.toggle('desc', th.dataset.sort === S.sort && S.order === 'desc');
  }
}

// ---- One process
async function loadProcess() {
  const pid = S.proc;
  if (!pid) return;
  try {
    const p = await api('api/process/' + encodeURIComponent(pid));
    if (pid === S.proc) renderProcess(p);
    setError('process');
  } catch (e) {
    if (pid !== S.proc) return;
    if (e.status === 404) {
      $('process-view').replaceChildren(el('p', {class: 'muted'}, 'Process <' + pid + '> is not alive.'));
      setError('process');
    } else setError('process', e.message);
  }
}
function renderProcess(p) {
  const pids = l => (l && l.length ? l.map(pidLink) : [el('span', {class: 'muted'}, 'none')]);
  const rows = [['status', chip(p.status)], ['name', text(p.name)], ['queue', text(p.queue)], ['handled', text(p.handled)],
    ['memory', fmtBytes(p.memory)], ['trap exit', p.trap_exit ? 'yes' : 'no'], ['supervisor', pidLink(p.supervisor)],
    ['child id', text(p.child_id)], ['links', pids(p.links)], ['monitors', pids(p.monitors)], ['monitored by', pids(p.monitored_by)]];
  const known = ['pid', 'status', 'name', 'queue', 'handled', 'memory', 'trap_exit', 'supervisor', 'child_id', 'links', 'monitors', 'monitored_by'];
  for (const [k, v] of Object.entries(p)) if (!known.includes(k)) rows.push([k, typeof v === 'object' && v !== null ? JSON.stringify(v) : text(v)]);
  $('process-view').replaceChildren(
    el('div', {class: 'proc-head', 'data-pid': p.pid},
      el('h2', null, 'Process ' + text(p.pid)),
      S.actions ? el('button', {class: 'btn danger', id: 'kill-button', onclick: () => killProcess(bare(p.pid))}, 'Kill') : null),
    el('dl', {class: 'fields'}, rows.map(([k, v]) => [el('dt', null, k), el('dd', null, v)])));
}
async function killProcess(pid) {
  if (!confirm('Kill process <' + pid + '>?')) return;
  await guarded('action', () => api('api/process/' + encodeURIComponent(pid) + '/kill', null, true));
  loadProcess(); poll('processes', loadProcesses);
}

// ---- Supervision trees
async function loadSupervisors() {
  const r = await api('api/supervisors');
  const trees = (r && r.trees) || [], now = Date.now(), seen = {};
  const walk = t => {
    for (const c of t.children || []) {
      const k = t.pid + '/' + c.id, prev = S.prevRestarts[k];
      if (prev != null && c.restarts > prev) S.flash[k] = now + 5000;
      seen[k] = c.restarts;
      if (c.tree) walk(c.tree);
    }
  };
  trees.forEach(walk);
  S.prevRestarts = seen;
  for (const k of Object.keys(S.flash)) if (S.flash[k] <= now) delete S.flash[k];
  const key = JSON.stringify(trees) + '|' + S.actions + '|' + Object.keys(S.flash).join(',');
  if (key === S.treesKey) return;
  S.treesKey = key;
  $('supervisor-trees').replaceChildren(...(trees.length
    ? trees.map(t => el('div', {class: 'tree-root card', 'data-pid': t.pid},
        el('div', {class: 'sup-head'}, el('strong', null, 'supervisor'), pidLink(t.pid), supInfo(t)), renderChildren(t)))
    : [el('p', {class: 'muted'}, 'No supervision trees.')]));
}
const supInfo = t => el('span', {class: 'sup'}, text(t.strategy) + ' · intensity ' + text(t.intensity) + ' per ' + text(t.period_ms) + ' ms');
function renderChildren(t) {
  return el('ul', {class: 'tree'}, (t.children || []).map(c => {
    const k = t.pid + '/' + c.id;
    return el('li', {class: 'tree-child' + (S.flash[k] ? ' restarted' : ''), 'data-id': c.id, 'data-pid': c.pid == null ? '' : c.pid,
        'data-restarts': c.restarts, 'data-state': c.state, 'data-type': c.type, 'data-supervisor': t.pid},
      el('div', {class: 'node'},
        el('span', {class: 'cid'}, text(c.id)), pidLink(c.pid), chip(c.state),
        el('span', {class: 'muted'}, text(c.type) + ' · ' + text(c.restart)),
        el('span', {class: 'restarts' + (c.restarts ? ' nonzero' : '')}, 'restarts ' + text(c.restarts)),
        c.tree ? supInfo(c.tree) : null,
        S.actions ? [el('button', {class: 'btn', onclick: () => childAction(t.pid, c.id, 'restart')}, 'Restart'),
          el('button', {class: 'btn danger', onclick: () => childAction(t.pid, c.id, 'terminate')}, 'Terminate')] : null),
      c.tree ? renderChildren(c.tree) : null);
  }));
}
async function childAction(sup, id, what) {
  if (what === 'terminate' && !confirm('Terminate child ' + id + ' of <' + bare(sup) + '>?')) return;
  await guarded('action', () => api('api/supervisor/' + encodeURIComponent(bare(sup)) + '/child/' + encodeURIComponent(id) + '/' + what, null, true));
  S.treesKey = '';
  poll('supervisors', loadSupervisors);
}

// ---- Events
function addEvents(evs, fresh) {
  const list = $('events-list');
  for (const e of (evs || []).slice().sort((a, b) => a.seq - b.seq)) {
    if (S.seen.has(e.seq)) continue;
    S.seen.add(e.seq);
    S.lastSeq = Math.max(S.lastSeq, e.seq);
    let before = list.firstElementChild;
    while (before && +before.dataset.seq > e.seq) before = before.nextElementSibling;
    list.insertBefore(el('tr', {class: 'event' + (fresh ? ' new' : ''), 'data-kind': e.kind, 'data-seq': e.seq},
      el('td', {title: e.time_ms == null ? null : new Date(e.time_ms).toISOString()}, fmtTime(e.time_ms)),
      el('td', null, chip(e.kind)), el('td', null, pidLink(e.pid)), el('td', null, text(e.name)),
      el('td', null, pidLink(e.supervisor)), el('td', null, text(e.child_id)), el('td', null, text(e.reason)),
      el('td', {class: 'detail'}, text(e.detail))), before);
  }
  while (list.children.length > MAX_EVENTS) { S.seen.delete(+list.lastElementChild.dataset.seq); list.lastElementChild.remove(); }
  setText('events-count', list.children.length ? list.children.length + ' shown.' : 'None yet.');
}
async function loadEvents() {
  const r = await api('api/events', S.lastSeq ? {after: S.lastSeq} : null);
  if (r.last != null && r.last < S.lastSeq) {   // the runtime was restarted: its seq starts again
    S.seen.clear(); S.lastSeq = 0; $('events-list').replaceChildren();
    return loadEvents();
  }
  addEvents(r.events, S.lastSeq > 0);
}

// ---- Live stream
function setLive(live) {
  S.live = live;
  const s = $('connection-status');
  s.textContent = live ? 'live' : 'reconnecting';
  s.classList.toggle('live', live);
}
// A page rendered under a virtual-time budget (chromium --headless --virtual-time-budget=N
// --dump-dom) has a clock that stands still while any request is open, so an open stream
// would keep the budget from ever running out. When samples a server-second apart keep
// arriving with almost no page time between them, hold no stream open between samples:
// close it after each sample and reconnect a second later (the feed stays "live").
const stream = {es: null, prev: null, frozen: 0, short: false};
function connect() {
  const es = new EventSource(apiUrl('api/stream'));
  stream.es = es;
  es.onopen = () => { setLive(true); poll('events', loadEvents); };
  es.onerror = () => {
    if (stream.es !== es) return;
    setLive(false);
    if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(connect, 3000); }
  };
  es.addEventListener('sample', m => {
    let o;
    try { o = JSON.parse(m.data); setError('stream'); } catch (e) { setError('stream', 'bad sample event: ' + e.message); return; }
    renderOverview(o);
    pushSample(o);
    const now = Date.now(), p = stream.prev, ds = p ? o.time_ms - p.server : 0;
    stream.frozen = p && ds >= 500 && now - p.local < ds / 4 ? stream.frozen + 1 : 0;
    stream.prev = {server: o.time_ms, local: now};
    if (stream.frozen >= 2) stream.short = true;
    if (stream.short) { stream.es = null; es.close(); setTimeout(connect, 1000); }
  });
  es.addEventListener('events', m => {
    try { addEvents(JSON.parse(m.data).events, true); } catch (e) { setError('stream', 'bad events event: ' + e.message); }
  });
}

// ---- Navigation and start
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  let tab = TABS.includes(parts[0]) ? parts[0] : 'overview', pid = null;
  try { pid = parts.slice(1).join('/') ? decodeURIComponent(parts.slice(1).join('/')) : null; } catch (_) { /* bad hash */ }
  if (tab === 'process' && pid && pid !== S.proc) {
    S.proc = pid;
    $('process-view').replaceChildren(el('p', {class: 'muted'}, 'Loading <' + pid + '>…'));
  }
  if (tab === 'process') loadProcess();
  S.tab = tab;
  for (const t of TABS) $(t).classList.toggle('active', t === tab);
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.tab === tab);
  const pa = document.querySelector('#tabs a[data-tab=process]');
  pa.href = S.proc ? '#/process/' + encodeURIComponent(S.proc) : '#/process';
}
function refresh() {
  poll('processes', loadProcesses);
  poll('supervisors', loadSupervisors);
  if (S.tab === 'process') loadProcess();
  if (!S.live) { poll('overview', loadOverview); poll('events', loadEvents); }
}
for (const th of document.querySelectorAll('#processes-table th[data-sort]')) {
  th.addEventListener('click', () => {
    const k = th.dataset.sort;
    if (S.sort === k) S.order = S.order === 'desc' ? 'asc' : 'desc';
    else { S.sort = k; S.order = k === 'pid' || k === 'name' ? 'asc' : 'desc'; }
    guarded('processes', loadProcesses);
  });
}
let filterTimer = null;
$('process-filter').addEventListener('input', e => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => { S.filter = e.target.value.trim(); guarded('processes', loadProcesses); }, 250);
});
$('process-limit').addEventListener('change', e => { S.limit = +e.target.value; guarded('processes', loadProcesses); });
window.addEventListener('hashchange', route);
document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
route();
poll('overview', loadOverview);
guarded('history', loadHistory);
poll('processes', loadProcesses);
poll('supervisors', loadSupervisors);
poll('events', loadEvents);
connect();
setInterval(() => { if (!document.hidden) refresh(); }, 2000);
</script>
</body>
</html>
"""#
}
