// A screenshot of the dashboard over a folder of runs, for the docs:
//   node --import tsx scripts/dashboard_screenshot.ts <runs dir> <out.png> [run id to select] [overlay ids...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveDashboard } from '../src/web/server.js';
import { CHROMIUM_ARGS } from '../src/web/browser_args.js';

const [runs, out, select, ...overlay] = process.argv.slice(2);
if (!runs || !out) throw new Error('usage: dashboard_screenshot.ts <runs dir> <out.png> [run id] [overlay ids...]');
const dash = await serveDashboard({ runs, port: 0 });
const profile = mkdtempSync(join(tmpdir(), 'synthset-shot-'));
const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1500, height: 980 } });
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(`${dash.url}${select ? `#${encodeURIComponent(select)}` : ''}`);
  await page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points ?? 0) > 0, null, { timeout: 30_000 });
  for (const id of overlay) await page.click(`#runs tbody tr[data-id="${id}"] input[type=checkbox]`);
  if (overlay.length) await page.waitForFunction(() => Number(document.getElementById('overlay-chart')?.dataset.points ?? 0) > 0);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await ctx.close();
  await dash.close();
  rmSync(profile, { recursive: true, force: true });
}
