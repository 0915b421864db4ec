// The library API through the package's public entry: `import … from 'synthset'` resolves to this
// package by its name and "exports" (Node's self-reference), as it would for a user.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, exportBundle, generate, initEngine, loadBundle, train, type BundleManifest } from 'synthset';
import { tempDir } from './data/test_images.js';
import { tinyData, TINY_OPTIONS } from './train/test_helpers.js';

const tmp = tempDir('synthset-api-');
after(() => tmp.done());

test('train → evaluate → exportBundle → loadBundle → generate, from the package entry', async () => {
  const info = await initEngine();
  assert.ok(['onednn', 'cpu'].includes(info.backend));
  const data = await tinyData();
  try {
    const run = join(tmp.dir, 'run');
    const steps: number[] = [];
    const r = await train({ data: data.dir, family: 'cgan', size: 32, steps: 2, out: run, batchSize: 4, zDim: 8, sets: ['sampleEvery=2', 'checkpointEvery=2', `width=${TINY_OPTIONS.width}`] },
      { onStep: (e) => steps.push(e.step) });
    assert.equal(r.step, 2);
    assert.deepEqual(steps, [1, 2]);
    const more = await train({ out: run, steps: 3 }, {}, { resume: true });
    assert.equal(more.step, 3);
    await assert.rejects(train({ data: data.dir, size: 32, steps: 1, out: join(tmp.dir, 'x') }), /No GAN family given/);

    const report = await evaluate({ synthetic: run, out: join(run, 'report'), metrics: ['ssim'], count: 8 });
    assert.equal(typeof (report.ssim as { mean: number }).mean, 'number');

    const ex = await exportBundle(run, join(tmp.dir, 'bundle'));
    assert.equal(ex.report, join(run, 'report', 'report.json'));
    const m = JSON.parse(readFileSync(join(ex.dir, 'manifest.json'), 'utf8')) as BundleManifest;
    assert.equal(m.step, 3);
    assert.match(readFileSync(join(ex.dir, 'MODEL_CARD.md'), 'utf8'), /### ssim/);

    const b = await loadBundle(ex.dir);
    try {
      assert.deepEqual(b.manifest.classes, ['a', 'b']);
      const g = await generate({ bundle: b, perClass: 3, seed: 1, out: join(tmp.dir, 'synthetic') });
      assert.deepEqual([g.total, g.written], [6, 6]);
    } finally {
      b.dispose();
    }
    assert.deepEqual(readdirSync(join(tmp.dir, 'synthetic')).sort(), ['a', 'b', 'generate.json', 'manifest.csv', 'manifest.jsonl']);
    const again = await generate({ bundle: ex.dir, perClass: 3, seed: 1, out: join(tmp.dir, 'synthetic') });
    assert.deepEqual([again.written, again.kept], [0, 6]);
    assert.ok(existsSync(join(tmp.dir, 'synthetic', 'b', '000005.png')));
  } finally {
    data.done();
  }
});
