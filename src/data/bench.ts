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

async function batchRate(cache: ImageCache, batchSize: number, epochs: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) {
    for await (const b of batches(cache, { batchSize, seed: 1, epoch: e })) {
      n += b.rows.length;
      b.dispose();
    }
  }
  return n / ((performance.now() - t0) / 1000);
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
        await batchRate(again, batchSize, 1); // warm the page cache and the JIT
        const rate = await batchRate(again, batchSize, 3);
        console.log(`64 px cached batches of ${batchSize} (shuffled, prefetch, float32 [-1,1] tensors, ${engine.backend}): ${rate.toFixed(0)} img/s`);
      }
      again.close();
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

await main();
