// The dashboard in headless Chromium watching a real training run in another process: the loss
// curve gains points and the sample grid changes while the run advances, with no console errors.
// Set SYNTHSET_SCREENSHOT=<file.png> to keep a screenshot of the page.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from '../data/test_images.js';
import { tinyData } from '../train/test_helpers.js';
import { CHROMIUM, CHROMIUM_ARGS } from './browser_args.js';
import { serveDashboard, type Dashboard } from './server.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'synthset.js');

const t = tempDir('synthset-web-browser-');
let child: ChildProcess | null = null;
let browser: BrowserContext | null = null;
let dash: Dashboard | null = null;
let data: { dir: string; done: () => void } | null = null;
after(async () => {
  child?.kill('SIGKILL');
  await browser?.close();
  await dash?.close();
  data?.done();
  t.done();
});

test('the page follows a live training run', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (apt-get install chromium)`, timeout: 240_000 }, async () => {
  data = await tinyData();
  const runs = join(t.dir, 'runs');
  mkdirSync(runs);
  const cfg = join(t.dir, 'tiny.yaml');
  writeFileSync(cfg, 'batchSize: 4\nzDim: 8\nlogEvery: 2\nsampleEvery: 6\ncheckpointEvery: 100000\nsampleCols: 4\noptions:\n  width: 4\n');
  dash = await serveDashboard({ runs, port: 0, pollMs: 500 });
  child = spawn(process.execPath, [BIN, 'train', '--data', data.dir, '--family', 'dcgan', '--size', '32', '--steps', '100000',
    '--out', join(runs, 'live'), '--config', cfg, '--quiet'], { env: { ...process.env, SYNTHSET_NO_REEXEC: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));

  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(join(t.dir, 'profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
  const page = browser.pages()[0] ?? await browser.newPage();
  const problems: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(dash!.url)) foreign.push(r.url());
  });
  // A failure says what the page and the training child said: CI machines can be slow and noisy,
  // and a bare timeout tells nothing there.
  const why = (err: unknown) => new Error(`${(err as Error).message}\npage problems: ${JSON.stringify(problems)}\ntraining exit: ${child?.exitCode}, stderr:\n${stderr.slice(-2000)}`);
  const wait = <T>(p: Promise<T>) => p.catch((err: unknown) => { throw why(err); });
  await page.goto(dash.url);
  await wait(page.waitForSelector('#runs tbody tr[data-id="live"]', { timeout: 60_000 }));
  // The run is selected (newest) and has points and a grid.
  const points = () => page.$eval('#loss-chart', (el) => Number((el as HTMLElement).dataset.points ?? 0));
  const grid = () => page.$eval('#grid', (el) => (el as HTMLImageElement).dataset.step ?? '');
  await wait(page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points ?? 0) > 0 && !!document.getElementById('grid')?.dataset.step, null, { timeout: 60_000 }));
  const p0 = await points(), g0 = await grid();
  await wait(page.waitForFunction(([p, g]) => Number(document.getElementById('loss-chart')?.dataset.points ?? 0) > Number(p)
    && (document.getElementById('grid') as HTMLImageElement).dataset.step !== g, [p0, g0], { timeout: 60_000 }));
  const p1 = await points(), g1 = await grid();
  assert.ok(p1 > p0, `points ${p0} -> ${p1}`);
  assert.notEqual(g1, g0);
  assert.ok(await page.$eval('#grid', (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0), 'the grid image loads');
  assert.equal(await page.$eval('#runs tbody tr[data-id="live"] .state', (el) => el.textContent), 'running', why(new Error('state')).message);
  assert.match(await page.$eval('#d-chart', (el) => el.textContent ?? ''), /D\(x\)/);
  // Overlay: tick the run, the overlay chart appears with its points.
  await page.click('#runs tbody tr[data-id="live"] input[type=checkbox]');
  await wait(page.waitForFunction(() => Number(document.getElementById('overlay-chart')?.dataset.points ?? 0) > 0, null, { timeout: 30_000 }));
  if (process.env.SYNTHSET_SCREENSHOT) await page.screenshot({ path: process.env.SYNTHSET_SCREENSHOT, fullPage: true });
  assert.deepEqual(problems, [], 'no console errors');
  assert.deepEqual(foreign, [], 'no request leaves the synthset server');
  assert.equal(child.exitCode, null, stderr);
});
