// Data-layer speed on a real folder: decode+cache throughput at 32 and 64 px, the reopen time of a
// built cache, and cached batch throughput at 64 px. The cache goes to a temp folder so the dataset
// folder is never written to.
//   node --import tsx src/data/bench.ts [dir] [--concurrency N] [--batch N]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../engine/index.js';
import { batches } from './batches.js';
import { openCache, type ImageCache } from './cache.js';
import { openDataset } from './kinds/index.js';

const DEFAULT_DIR = '/work/shared/datasets/cifar10/train';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** img/s over `epochs`; `workMs` of busy main-thread work per batch stands in for a training step. */
async function batchRate(cache: ImageCache, batchSize: number, epochs: number, prefetch: boolean, workMs = 0): Promise<{ rate: number; waitMs: number }> {
  let n = 0;
  let batchesSeen = 0;
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) {
    for await (const b of batches(cache, { batchSize, seed: 1, epoch: e, prefetch })) {
      n += b.rows.length;
      batchesSeen++;
      const until = performance.now() + workMs;
      while (performance.now() < until) { /* the stand-in training step */ }
      b.dispose();
    }
  }
  const ms = performance.now() - t0;
  return { rate: n / (ms / 1000), waitMs: (ms - batchesSeen * workMs) / batchesSeen };
}

async function main(): Promise<void> {
  const dir = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--')) ?? DEFAULT_DIR;
  if (!existsSync(dir)) {
    console.log(`skipped: ${dir} does not exist (give an ImageFolder: root/<class>/<images>)`);
    return;
  }
  const concurrency = arg('--concurrency', 6);
  const batchSize = arg('--batch', 64);
  const engine = await initEngine();
  const cacheDir = mkdtempSync(join(tmpdir(), 'synthset-bench-'));
  try {
    for (const size of [32, 64]) {
      let t0 = performance.now();
      const ds = await openDataset(dir, { size, channels: 3 });
      const listMs = performance.now() - t0;
      t0 = performance.now();
      const cache = await openCache(ds, { cacheDir, concurrency });
      const s = (performance.now() - t0) / 1000;
      cache.close();
      t0 = performance.now();
      const again = await openCache(await openDataset(dir, { size, channels: 3 }), { cacheDir });
      const reopenMs = performance.now() - t0;
      console.log(`${size} px: listed ${ds.count} images in ${listMs.toFixed(0)} ms; decoded+cached ${cache.decoded} in ${s.toFixed(1)} s = ${(cache.decoded / s).toFixed(0)} img/s `
        + `(concurrency ${concurrency}); reopen (no decoding: ${again.decoded === 0}) ${reopenMs.toFixed(0)} ms; ${ds.problems.length} problem(s)`);
      if (size === 64) {
        await batchRate(again, batchSize, 1, true); // warm the page cache and the JIT
        for (const prefetch of [false, true]) {
          const { rate, waitMs } = await batchRate(again, batchSize, 3, prefetch);
          console.log(`64 px cached batches of ${batchSize} (shuffled, float32 [-1,1] tensors, ${engine.backend}), `
            + `${prefetch ? 'read-ahead' : 'read in the caller thread'}: ${rate.toFixed(0)} img/s (${waitMs.toFixed(2)} ms per batch)`);
        }
        for (const prefetch of [false, true]) {
          const { waitMs } = await batchRate(again, batchSize, 1, prefetch, 20);
          console.log(`  with a 20 ms training step per batch, ${prefetch ? 'read-ahead' : 'no read-ahead'}: the step waits ${waitMs.toFixed(2)} ms per batch for data`);
        }
      }
      again.close();
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

await main();
