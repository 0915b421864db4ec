// The bundle's browser page in headless Chromium (Debian's, driven by playwright-core), served from
// 127.0.0.1 with every other request blocked; and the layer rule that keeps the page possible:
// src/layers bundles for the browser with no node:* import.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { train } from '../train/loop.js';
import { tinyConfig, tinyData } from '../train/test_helpers.js';
import { exportBundle } from './bundle.js';
import { generateBytes } from './generator.js';
import { loadGenerator, saveGenerator } from '../run/generator.js';
import { browserBundle, LAYERS_ENTRY } from './page_build.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const tmp = tempDir('synthset-page-');
let bundle = '';
let server: Server;
let origin = '';

test('custom layers bundle for the browser with no Node import; a planted node:* import is refused', async () => {
  const js = await browserBundle(LAYERS_ENTRY, false);
  assert.match(js, /SynthsetBatchNorm/);
  assert.doesNotMatch(js, /require\("node:|from "node:/);
  const planted = join(import.meta.dirname, '..', 'layers', `.planted-${process.pid}.ts`);
  writeFileSync(planted, "import { readFileSync } from 'node:fs';\nimport './index.js';\nexport const x = readFileSync;\n");
  try {
    await assert.rejects(browserBundle(planted), /"node:fs" \(imported by .*planted.*\) needs Node/);
  } finally {
    (await import('node:fs')).rmSync(planted, { force: true });
  }
});

before(async () => {
  if (!existsSync(CHROMIUM)) return;
  await initEngine();
  const data = await tinyData();
  const run = join(tmp.dir, 'run');
  await train(tinyConfig(data.dir, run, { family: 'cgan', steps: 2, ema: null }));
  data.done();
  bundle = (await exportBundle(run, join(tmp.dir, 'bundle'))).dir;
  // A 2-step generator draws flat grey; scaled weights give images with structure to compare.
  const g = await loadGenerator(bundle);
  tf.tidy(() => g.model.setWeights(g.model.getWeights().map((w) => tf.mul(w, 6))));
  await saveGenerator(bundle, g.model, g.meta);
  g.model.dispose();
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.bin': 'application/octet-stream' };
  server = createServer((req, res) => {
    const file = join(bundle, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html');
    if (!file.startsWith(bundle) || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server?.close();
  tmp.done();
});

test('the bundle page loads offline, draws on a click, and matches Node\'s pixels for the same seed', { timeout: 180_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const profile = join(tmp.dir, 'profile');
  mkdirSync(profile);
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const outside: string[] = [];
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    const page = ctx.pages()[0] ?? await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => /^(ready|error)/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
    assert.match(await page.textContent('#status') ?? '', /^ready/, `page errors: ${errors.join('; ')}`);
    await page.fill('#seed', '5');
    await page.fill('#per', '3');
    await page.click('#draw');
    await page.waitForFunction(() => (window as unknown as { synthset: { drawn: number } }).synthset.drawn === 1, null, { timeout: 60_000 });
    const drawn = await page.evaluate(() => {
      const c = document.getElementById('grid') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let min = 255, max = 0;
      for (let i = 0; i < d.length; i += 4) { min = Math.min(min, d[i]); max = Math.max(max, d[i]); }
      return { w: c.width, h: c.height, min, max, bytes: Array.from((window as unknown as { synthset: { bytes: Uint8Array } }).synthset.bytes) };
    });
    assert.deepEqual([drawn.w, drawn.h], [3 * 34 + 2, 2 * 34 + 2], '3 per class, one row per class');
    assert.ok(drawn.max - drawn.min > 50, `canvas not blank (range ${drawn.min}..${drawn.max})`);
    assert.deepEqual(outside, [], 'no request left 127.0.0.1');
    assert.deepEqual(errors, []);
    if (process.env.SYNTHSET_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.SYNTHSET_PAGE_SCREENSHOT });

    // Node (onednn or cpu) vs the page (tfjs cpu in Chromium): float results agree to ~1e-5
    // relative, so after rounding to 8 bits a pixel may differ by 1 where a value sits at a boundary.
    const g = await loadGenerator(bundle);
    const node = generateBytes(g, 5, [0, 1, 2, 3, 4, 5], g.meta.present).bytes;
    g.model.dispose();
    assert.equal(drawn.bytes.length, node.length);
    let maxDiff = 0, differing = 0;
    for (let i = 0; i < node.length; i++) {
      const d = Math.abs(node[i] - drawn.bytes[i]);
      maxDiff = Math.max(maxDiff, d);
      if (d) differing++;
    }
    assert.ok(maxDiff <= 2, `max |browser - node| = ${maxDiff} > 2`);
    assert.ok(differing <= node.length * 0.01, `${differing} of ${node.length} bytes differ`);
    t.diagnostic(`browser vs node: max abs diff ${maxDiff}, ${differing}/${node.length} bytes differ`);
    // Save grid gives a PNG download.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const png = join(tmp.dir, 'grid.png');
    await download.saveAs(png);
    assert.deepEqual([...readFileSync(png).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    if (process.env.SYNTHSET_PAGE_GRID) copyFileSync(png, process.env.SYNTHSET_PAGE_GRID);
  } finally {
    await ctx.close();
  }
});
