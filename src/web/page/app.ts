// The dashboard page: run list, live curves (uPlot), sample grids with a step slider, overlays.
// Everything arrives from the synthset server: /api/runs, /api/run?id=, and the /api/events stream.
import uPlot from 'uplot';
import type { RunDetail, RunSummary } from '../runs.js';

type Rec = Record<string, number>;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const D_KEYS = ['dReal', 'dFake'];
const NOT_LOSS = new Set(['step', 'epoch', 'imgPerSec', ...D_KEYS]);
const COLOURS = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#4e342e', '#ad1457'];

let runs: RunSummary[] = [];
let selected: string | null = decodeURIComponent(location.hash.slice(1)) || null;
let detail: RunDetail | null = null;
let first = true;
const overlay = new Set<string>();
const overlayData = new Map<string, Rec[]>();
const charts: Record<string, uPlot | null> = { loss: null, d: null, overlay: null };
const chartKeys: Record<string, string> = {};

const fmtDuration = (s: number) => {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
};
const text = (tag: string, content: string, cls?: string) => {
  const el = document.createElement(tag);
  el.textContent = content;
  if (cls) el.className = cls;
  return el;
};
const getJson = async <T>(url: string): Promise<T> => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return (await r.json()) as T;
};

function renderList(): void {
  const body = $('runs').querySelector('tbody')!;
  body.replaceChildren();
  $('empty').hidden = runs.length > 0;
  for (const r of runs) {
    const tr = document.createElement('tr');
    tr.dataset.id = r.id;
    if (r.id === selected) tr.className = 'selected';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = overlay.has(r.id);
    box.title = 'overlay this run\'s curves';
    box.addEventListener('click', (e) => {
      e.stopPropagation();
      void toggleOverlay(r.id, box.checked);
    });
    const cell = document.createElement('td');
    cell.append(box);
    const state = text('span', r.state, `state ${r.state}`);
    if (r.reason) state.title = r.reason;
    const stateCell = document.createElement('td');
    stateCell.append(state);
    tr.append(cell, text('td', r.id || '(this folder)'), text('td', r.family ?? '?'), text('td', r.data ?? '?', 'data'),
      text('td', `${r.step}${r.steps !== null ? ` / ${r.steps}` : ''}`, 'num'), text('td', r.imgPerSec !== null ? r.imgPerSec.toFixed(0) : '', 'num'),
      text('td', r.etaSeconds !== null ? fmtDuration(r.etaSeconds) : '', 'num'), stateCell);
    tr.addEventListener('click', () => void select(r.id));
    body.append(tr);
  }
}

/** One x axis (the union of the steps) and one y array per (records, key) pair, null where a run has no line. */
function align(series: { recs: Rec[]; key: string }[]): uPlot.AlignedData {
  const steps = [...new Set(series.flatMap((s) => s.recs.map((r) => r.step)))].sort((a, b) => a - b);
  const ys = series.map(({ recs, key }) => {
    const at = new Map(recs.map((r) => [r.step, r[key]]));
    return steps.map((x) => (typeof at.get(x) === 'number' ? at.get(x)! : null));
  });
  return [steps, ...ys];
}

function chart(name: string, el: HTMLElement, keys: string[], rows: Rec[][], labels: string[]): void {
  const data = align(keys.map((key, i) => ({ recs: rows[i], key })));
  const sig = JSON.stringify([keys, labels]);
  const existing = charts[name];
  // New points only: keep the chart (and the user's zoom) and swap its data.
  if (existing && chartKeys[name] === sig) {
    existing.setData(data);
    el.dataset.points = String(data[0].length);
    return;
  }
  chartKeys[name] = sig;
  existing?.destroy();
  el.replaceChildren();
  if (!keys.length) {
    charts[name] = null;
    el.dataset.points = '0';
    el.append(text('p', 'no values yet', 'muted'));
    return;
  }
  charts[name] = new uPlot({
    width: Math.max(300, el.clientWidth || 420), height: 220, legend: { live: true },
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, {}],
    series: [{ label: 'step' }, ...labels.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: true }))],
  }, data, el);
  el.dataset.points = String(data[0].length);
}

function drawRunCharts(): void {
  if (!detail) return;
  const m = detail.metrics;
  const keys = [...new Set(m.flatMap((r) => Object.keys(r)))];
  const loss = keys.filter((k) => !NOT_LOSS.has(k));
  const d = keys.filter((k) => D_KEYS.includes(k));
  chart('loss', $('loss-chart'), loss, loss.map(() => m), loss);
  chart('d', $('d-chart'), d, d.map(() => m), d.map((k) => (k === 'dReal' ? 'D(x)' : 'D(G(z))')));
}

function showSample(index: number): void {
  const s = detail?.samples[index];
  const img = $<HTMLImageElement>('grid');
  if (!s) {
    img.removeAttribute('src');
    $('sample-step').textContent = 'none yet';
    return;
  }
  img.src = s.url;
  img.dataset.step = String(s.step);
  $('sample-step').textContent = `step ${s.step}`;
}

function renderRun(): void {
  const d = detail;
  $('run').hidden = !d;
  if (!d) return;
  const s = d.summary;
  $('run-title').textContent = s.id || '(this folder)';
  $('run-meta').textContent = [s.family, s.size ? `${s.size} px` : null, s.data, `step ${s.step}${s.steps ? ` / ${s.steps}` : ''}`, s.state, s.reason].filter(Boolean).join(' · ');
  const links = $('run-links');
  links.replaceChildren();
  const link = (href: string, label: string) => {
    const a = text('a', label) as HTMLAnchorElement;
    a.href = href;
    links.append(a);
  };
  for (const r of d.reports) link(r, `report: ${decodeURIComponent(r.split('/').slice(-2).join('/'))}`);
  for (const b of d.bundles) link(b, `bundle: ${decodeURIComponent(b.split('/').slice(-2, -1)[0] ?? b)}`);
  if (d.tensorboard) links.append(text('span', 'TensorBoard files in tb/', 'muted'));
  drawRunCharts();
  const slider = $<HTMLInputElement>('sample-slider');
  slider.max = String(Math.max(0, d.samples.length - 1));
  slider.value = slider.max;
  showSample(d.samples.length - 1);
  $('gif-box').hidden = !d.gif;
  if (d.gif) $<HTMLImageElement>('gif').src = `${d.gif}?t=${s.updated}`;
  $('config').textContent = JSON.stringify(d.config, null, 2);
}

async function select(id: string): Promise<void> {
  selected = id;
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  renderList();
  detail = await getJson<RunDetail>(`/api/run?id=${encodeURIComponent(id)}`);
  renderRun();
}

function drawOverlay(): void {
  const box = $('overlay');
  box.hidden = overlay.size === 0;
  if (!overlay.size) return;
  const ids = [...overlay].filter((id) => overlayData.has(id));
  const keys = [...new Set(ids.flatMap((id) => overlayData.get(id)!.flatMap((r) => Object.keys(r))))].filter((k) => k !== 'step' && k !== 'epoch');
  const select = $<HTMLSelectElement>('overlay-key');
  const current = select.value || (keys.includes('lossG') ? 'lossG' : keys[0]);
  select.replaceChildren(...keys.map((k) => {
    const o = text('option', k) as HTMLOptionElement;
    o.value = k;
    return o;
  }));
  select.value = current;
  chart('overlay', $('overlay-chart'), ids.map(() => current), ids.map((id) => overlayData.get(id)!), ids.map((id) => id || '(this folder)'));
}

async function toggleOverlay(id: string, on: boolean): Promise<void> {
  if (on) {
    overlay.add(id);
    overlayData.set(id, (await getJson<RunDetail>(`/api/run?id=${encodeURIComponent(id)}`)).metrics);
  } else {
    overlay.delete(id);
    overlayData.delete(id);
  }
  drawOverlay();
}

function connect(): void {
  const es = new EventSource('/api/events');
  const conn = $('conn');
  es.onopen = () => {
    conn.textContent = 'live';
    conn.className = 'conn live';
  };
  es.onerror = () => {
    conn.textContent = 'reconnecting…';
    conn.className = 'conn';
  };
  es.addEventListener('runs', (e) => {
    runs = JSON.parse((e as MessageEvent<string>).data) as RunSummary[];
    renderList();
    // First list: the run named in the URL (#id) if it is there, else the newest.
    if (first && runs.length) {
      first = false;
      void select(runs.some((r) => r.id === selected) ? selected! : runs[0].id);
    } else if (detail && selected) {
      const s = runs.find((r) => r.id === selected);
      if (s && s.state !== detail.summary.state) void select(selected);
    }
  });
  es.addEventListener('metrics', (e) => {
    const { id, records } = JSON.parse((e as MessageEvent<string>).data) as { id: string; records: Rec[] };
    if (detail && id === selected) {
      detail.metrics.push(...records);
      drawRunCharts();
    }
    if (overlayData.has(id)) {
      overlayData.get(id)!.push(...records);
      drawOverlay();
    }
  });
  es.addEventListener('reset', (e) => {
    const { id } = JSON.parse((e as MessageEvent<string>).data) as { id: string };
    if (id === selected) void select(id);
    if (overlay.has(id)) void toggleOverlay(id, true);
  });
  es.addEventListener('sample', (e) => {
    const { id } = JSON.parse((e as MessageEvent<string>).data) as { id: string; step: number };
    if (!detail || id !== selected) return;
    const slider = $<HTMLInputElement>('sample-slider');
    const atEnd = Number(slider.value) >= Number(slider.max);
    void getJson<RunDetail>(`/api/run?id=${encodeURIComponent(id)}`).then((d) => {
      if (id !== selected || !detail) return;
      detail.samples = d.samples;
      detail.gif = d.gif;
      slider.max = String(Math.max(0, d.samples.length - 1));
      if (atEnd) {
        slider.value = slider.max;
        showSample(d.samples.length - 1);
      }
    });
  });
}

$<HTMLInputElement>('sample-slider').addEventListener('input', (e) => showSample(Number((e.target as HTMLInputElement).value)));
$<HTMLSelectElement>('overlay-key').addEventListener('change', drawOverlay);
connect();
