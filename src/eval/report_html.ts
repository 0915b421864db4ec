// report.html: one self-contained page (inline SVG and base64 PNG, no script, no network) that a
// person opens offline to judge a synthetic set: headline figures, training curves and samples when
// the synthetic set came from a run, SSIM histograms, the TSTR confusion matrix, feature distances
// and the privacy table with its gallery.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from '../run/metrics.js';
import { escapeHtml as esc } from '../util/text.js';
import { confusionSvg, histogramSvg, lineChartSvg } from './plots.js';

type Json = Record<string, unknown>;
const pct = (v: unknown) => (typeof v === 'number' ? `${(100 * v).toFixed(1)} %` : '–');
const num = (v: unknown, d = 4) => (typeof v === 'number' ? (Number.isInteger(v) || Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(d)) : '–');
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);

function png(file: string, alt: string, width?: number): string {
  if (!existsSync(file)) return '';
  return `<img alt="${esc(alt)}" src="data:image/png;base64,${readFileSync(file).toString('base64')}"${width ? ` width="${width}"` : ''} style="image-rendering:pixelated">`;
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

/** Flat rows of numbers (and nested one level) for the generic metric tables. */
function numberRows(x: Json, prefix = ''): [string, string][] {
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(x)) {
    if (typeof v === 'number') rows.push([prefix + k, num(v)]);
    else if (obj(v) && !prefix) rows.push(...numberRows(obj(v)!, `${k}.`));
  }
  return rows;
}

/** One cell of a distance table: a number, `mean ± std`, or the named fields of one result (PRDC). */
function cell(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => num(x)).join(', ')}]`;
  const o = obj(v);
  if (!o) return num(v);
  if (typeof o.mean === 'number') return `${num(o.mean)} ± ${num(o.std, 2)}${typeof o.subsets === 'number' ? ` <small>(${o.subsets} subsets of ${o.subsetSize})</small>` : ''}`;
  return Object.entries(o).filter(([k, x]) => typeof x === 'number' && k !== 'k').map(([k, x]) => `${esc(k)} ${num(x, 3)}`).join(' · ');
}

/** fd / kid / prdc: one column per statistic and feature space, one row per pair of sets compared. */
function distanceTable(m: Json): string {
  const cols = Object.keys(m).filter((k) => /^[A-Z]+_/.test(k));
  const rows: [string, Json | null][] = [['synthetic vs real train', m], ['synthetic vs real test', obj(m.vsTest)], ['real test vs real train (the floor at this size)', obj(m.realTestVsTrain)]];
  return `<table><tr><th></th>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows.filter(([, r]) => r)
    .map(([name, r]) => `<tr><th>${esc(name)}</th>${cols.map((c) => `<td>${cell(r![c])}</td>`).join('')}</tr>`).join('')}</table>`;
}

/** privacy: one row per figure, one column per space (pixel, feature). */
function privacyTable(p: Json): string {
  const spaces = ['pixel', 'feature'].filter((k) => obj(p[k]));
  const keys = [...new Set(spaces.flatMap((k) => Object.keys(obj(p[k])!)))];
  return `<table><tr><th></th>${spaces.map((k) => `<th>${k}</th>`).join('')}</tr>${keys
    .map((k) => `<tr><th>${esc(k)}</th>${spaces.map((sp) => `<td>${cell(obj(p[sp])![k])}</td>`).join('')}</tr>`).join('')}</table>`;
}

async function runSection(runDir: string): Promise<string> {
  const out: string[] = ['<h2>Training</h2>'];
  const mfile = join(runDir, 'metrics.jsonl');
  if (existsSync(mfile)) {
    const m = readMetrics(mfile) as unknown as Record<string, number>[];
    const keys = Object.keys(m[0] ?? {});
    const losses = keys.filter((k) => /^loss/.test(k));
    const probs = keys.filter((k) => /^d(Real|Fake)/.test(k));
    if (losses.length) out.push(await lineChartSvg(m, 'step', losses, 'Losses'));
    if (probs.length) out.push(await lineChartSvg(m, 'step', probs, 'D outputs'));
  }
  const samples = join(runDir, 'samples');
  const grids = existsSync(samples) ? readdirSync(samples).filter((f) => f.endsWith('.png')).sort() : [];
  if (grids.length) out.push(`<h3>Samples at the last step (${esc(grids[grids.length - 1])}), one row per class</h3>`, png(join(samples, grids[grids.length - 1]), 'sample grid', 400));
  return out.join('\n');
}

export async function reportHtml(report: Json, outDir: string, runDir: string | null): Promise<string> {
  const parts: string[] = [];
  const sets = obj(report.sets) ?? {};
  parts.push('<h2>Sets</h2>', table(Object.entries(sets).map(([k, v]) => [k, `${esc(String(obj(v)?.name))}: ${obj(v)?.count} images`])));

  const tstr = obj(report.tstr), agreement = obj(report.agreement), ssim = obj(report.ssim), privacy = obj(report.privacy);
  const kid = obj(report.kid), fd = obj(report.fd);
  const head: [string, string][] = [];
  if (tstr) head.push(['TSTR accuracy (train on synthetic, test on real)', `${pct(tstr.accuracy)} (TRTR ${pct(obj(tstr.trtr)?.accuracy)}, ratio ${num(tstr.ratio, 3)})`]);
  const filtered = obj(tstr?.filtered);
  if (filtered?.skipped) head.push([`TSTR on filtered synthetic (real-data classifier p ≥ ${filtered.threshold})`, `skipped: ${filtered.skipped}`]);
  else if (filtered) head.push([`TSTR on filtered synthetic (real-data classifier p ≥ ${filtered.threshold})`, `${pct(filtered.accuracy)} (ratio ${num(filtered.ratio, 3)}; ${filtered.trainImages} of ${filtered.candidates} generated images kept)`]);
  if (agreement) head.push(['Classifier agreement', `${pct(agreement.agreement)} (real-test accuracy ${pct(agreement.realTestAccuracy)})`]);
  if (ssim) head.push(['Mean SSIM to real images of the same class', num(ssim.mean, 3)]);
  for (const m of [kid, fd]) for (const k of Object.keys(m ?? {}).filter((x) => /^(KID|FD)_/.test(x))) head.push([k, cell(m![k])]);
  if (privacy) head.push(['Membership-inference AUC (0.5 = nothing to infer)', num(privacy.mia_auc, 3)]);
  if (head.length) parts.push('<h2>Headline</h2>', table(head));

  if (runDir) parts.push(await runSection(runDir));
  if (ssim) {
    const per = obj(ssim.perClass) ?? {};
    const groups = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, obj(obj(v)?.histogram)]).filter(([, h]) => h)) as Record<string, { edges: number[]; counts: number[] }>;
    parts.push('<h2>SSIM</h2>', Object.keys(groups).length ? await histogramSvg(groups, 'Mean SSIM per synthetic image, by class') : '', table(numberRows(ssim)));
  }
  if (tstr) {
    const classes = (tstr.classes as string[]) ?? [];
    parts.push('<h2>Train on synthetic, test on real</h2>', confusionSvg(tstr.confusion as number[][], classes, 'TSTR confusion (rows: true class)'));
    const trtr = obj(tstr.trtr);
    if (trtr?.confusion) parts.push(confusionSvg(trtr.confusion as number[][], classes, 'TRTR confusion (rows: true class)'));
    const per = obj(tstr.perClass) ?? {}, perReal = obj(trtr?.perClass) ?? {};
    const perF = obj(filtered?.perClass), keptF = obj(filtered?.keptPerClass);
    const fCols = perF ? `<th>TSTR filtered</th><th>kept</th>` : '';
    const fCells = (c: string) => (perF ? `<td>${pct(perF[c])}</td><td>${esc(String(keptF?.[c] ?? ''))}</td>` : '');
    parts.push(`<table><tr><th>class</th><th>TSTR</th>${fCols}<th>TRTR</th></tr>${Object.keys(per).map((c) => `<tr><td>${esc(c)}</td><td>${pct(per[c])}</td>${fCells(c)}<td>${pct(perReal[c])}</td></tr>`).join('')}</table>`);
  }
  if (agreement) parts.push('<h2>Classifier agreement</h2>', confusionSvg(agreement.confusion as number[][], agreement.classes as string[], 'requested class (rows) vs class the real-data classifier sees'));
  for (const name of ['fd', 'kid', 'prdc']) {
    const m = obj(report[name]);
    if (m) parts.push(`<h2>${name.toUpperCase()}</h2>`, distanceTable(m));
  }
  if (privacy) {
    const sub = obj(privacy.subsample);
    parts.push('<h2>Privacy</h2>', table([['membership-inference AUC', num(privacy.mia_auc, 3)], ...(sub ? [['reference sets', `${sub.train} of ${sub.trainCount} training images (seed ${sub.seed}) against ${sub.holdout} of ${sub.holdoutCount} held-out images`] as [string, string]] : [])]), privacyTable(privacy));
    if (typeof privacy.interpretation === 'string') parts.push(`<p>${esc(privacy.interpretation)}</p>`);
    if (typeof privacy.gallery === 'string') parts.push('<h3>Closest synthetic / real pairs</h3>', png(join(outDir, privacy.gallery), 'closest pairs'));
  }
  const skipped = obj(report.skipped) ?? {};
  if (Object.keys(skipped).length) parts.push('<h2>Skipped</h2>', table(Object.entries(skipped).map(([k, v]) => [k, esc(String(v))])));
  const seconds = obj(report.seconds) ?? {};
  parts.push('<h2>Time</h2>', table(Object.entries(seconds).map(([k, v]) => [k, `${num(v, 3)} s`])));

  return `<!doctype html><html><head><meta charset="utf-8"><title>synthset report</title><style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f4f4f4}
svg{margin:.5em 1em .5em 0;vertical-align:top}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}</style></head><body>
<h1>synthset report</h1><p>Created ${esc(String(report.created))}.</p>
${parts.join('\n')}
</body></html>
`;
}
