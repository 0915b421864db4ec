// `exportBundle`: the one artefact a run releases — the EMA generator alone (tfjs layers format),
// manifest.json, MODEL_CARD.md and an offline browser page. No discriminator, critic, optimizer
// state or training image; works without the training data (reads <run>/data.json).
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeAtomic } from '../util/atomic.js';
import { escapeHtml } from '../util/text.js';
import { resumeConfig } from '../run/config.js';
import { exportRun, runDataSummary } from './export.js';
import { loadGenerator, type GeneratorMeta } from '../run/generator.js';
import type { BundleFile, BundleManifest } from './manifest.js';
import { browserBundle, PAGE_ENTRY } from './page_build.js';
import { modelCard, newestReport } from './model_card.js';

/** Every file a bundle holds; nothing else is written into it. */
export const BUNDLE_FILES = ['MODEL_CARD.md', 'index.html', 'manifest.json', 'model.json', 'page.js', 'tf.min.js', 'weights.bin'] as const;

const require = createRequire(import.meta.url);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const fileEntry = (dir: string, path: string): BundleFile => ({ path, bytes: statSync(join(dir, path)).size, sha256: sha256(join(dir, path)) });

export function synthsetVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function bundleManifest(meta: GeneratorMeta, dir: string, modelFiles: string[], other: string[]): BundleManifest {
  return {
    format: 'synthset-bundle', version: 1, family: meta.family,
    // Generators saved before the input kind was recorded are all latent.
    input: meta.input ?? { kind: 'latent', zDim: meta.zDim, conditional: meta.conditional, classes: meta.conditional ? meta.classes.length : 0 },
    image: { size: meta.size, channels: meta.channels },
    valueRange: { from: [-1, 1], to: 'uint8', mapping: 'round((x + 1) * 127.5), clamped to 0..255' },
    classes: meta.classes, present: meta.present, step: meta.step,
    synthsetVersion: synthsetVersion(), tfjsVersion: tf.version.tfjs, created: new Date().toISOString(),
    model: modelFiles.map((p) => fileEntry(dir, p)), files: other.map((p) => fileEntry(dir, p)),
  };
}

export interface ExportBundleResult { dir: string; manifest: BundleManifest; report: string | null }

/** Writes the release bundle of `runDir` into `outDir` (a new or former bundle folder). */
export async function exportBundle(runDir: string, outDir: string): Promise<ExportBundleResult> {
  const run = resolve(runDir), out = resolve(outDir);
  const cfg = resumeConfig(run);
  if (existsSync(out)) {
    const foreign = readdirSync(out).filter((f) => !(BUNDLE_FILES as readonly string[]).includes(f));
    if (foreign.length) throw new Error(`${out} exists and holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}, which a bundle does not: choose an empty or new --out folder.`);
    if (out === run || run.startsWith(`${out}/`)) throw new Error(`--out ${out} would overwrite the run itself: choose another folder.`);
  }
  mkdirSync(out, { recursive: true });
  const data = await runDataSummary(run, cfg);
  await exportRun(run, out);
  const g = await loadGenerator(out);
  g.model.dispose();
  copyFileSync(require.resolve('@tensorflow/tfjs/dist/tf.min.js'), join(out, 'tf.min.js'));
  writeAtomic(join(out, 'page.js'), await browserBundle(PAGE_ENTRY));
  writeAtomic(join(out, 'index.html'), pageHtml(g.meta));
  const report = newestReport(run);
  writeAtomic(join(out, 'MODEL_CARD.md'), modelCard({ meta: g.meta, cfg, data, report, version: synthsetVersion(), runDir: run }));
  const manifest = bundleManifest(g.meta, out, ['model.json', 'weights.bin'], ['MODEL_CARD.md', 'index.html', 'page.js', 'tf.min.js']);
  writeAtomic(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // A file of an older export that this one no longer writes.
  for (const f of readdirSync(out)) if (!(BUNDLE_FILES as readonly string[]).includes(f)) rmSync(join(out, f), { force: true });
  return { dir: out, manifest, report: report?.file ?? null };
}

function pageHtml(meta: GeneratorMeta): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-eval'">
<title>synthset generator · ${escapeHtml(meta.family)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:18px;margin:0 0 12px}
label{margin-right:12px}
input{width:7em}
button{margin-right:8px;padding:4px 12px}
#grid{display:block;margin-top:16px;image-rendering:pixelated;width:min(100%,960px);border:1px solid #ddd}
#status{color:#555;margin-top:8px}
</style></head>
<body>
<h1 id="title">synthset generator</h1>
<div><label>seed <input id="seed" type="number" value="0" min="0"></label>
<label>per class <input id="per" type="number" value="8" min="1" max="64"></label>
<button id="draw" disabled>Draw</button><button id="save" disabled>Save grid (PNG)</button></div>
<div id="status">loading the generator…</div>
<canvas id="grid" width="0" height="0"></canvas>
<p style="color:#777">Runs entirely in this page (TF.js ${escapeHtml(tf.version.tfjs)}, no network). Image <i>i</i> here is image <i>i</i> of <code>synthset generate --bundle . --seed &lt;seed&gt;</code>.</p>
<script src="tf.min.js"></script>
<script src="page.js"></script>
</body></html>
`;
}
