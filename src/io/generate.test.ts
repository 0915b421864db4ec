import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { train } from '../train/loop.js';
import { tinyConfig, tinyData } from '../train/test_helpers.js';
import { exportBundle } from './bundle.js';
import { generateFolder, loadBundle, type Bundle } from './generate.js';
import { parseShard, shardRange } from './shard.js';

const tmp = tempDir('synthset-generate-');
let bundleDir = '';
let bundle: Bundle;

before(async () => {
  await initEngine();
  const data = await tinyData();
  const run = join(tmp.dir, 'run');
  await train(tinyConfig(data.dir, run, { family: 'cgan', steps: 2, ema: null }));
  data.done();
  bundleDir = (await exportBundle(run, join(tmp.dir, 'bundle'))).dir;
  bundle = await loadBundle(bundleDir);
  // A 2-step generator draws near-flat grey; larger weights make images differ per index.
  tf.tidy(() => bundle.generator.model.setWeights(bundle.generator.model.getWeights().map((w) => tf.mul(w, 6))));
});
after(() => {
  bundle.dispose();
  tmp.done();
});

/** Every file under dir (relative path -> bytes). */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out.set(relative(dir, join(f.parentPath, f.name)), readFileSync(join(f.parentPath, f.name)));
  }
  return out;
}
const images = (dir: string) => new Map([...files(dir)].filter(([k]) => k.endsWith('.png')));

test('a full run equals the union of its shards byte for byte, and a re-run rewrites identical bytes', async () => {
  const full = join(tmp.dir, 'full');
  const r = await generateFolder({ bundle, perClass: 5, seed: 3, out: full, batchSize: 3 });
  assert.equal(r.total, 10);
  assert.equal(r.written, 10);
  const a = images(full);
  assert.deepEqual([...a.keys()].sort(), ['a/000000.png', 'a/000002.png', 'a/000004.png', 'a/000006.png', 'a/000008.png',
    'b/000001.png', 'b/000003.png', 'b/000005.png', 'b/000007.png', 'b/000009.png']);
  assert.notDeepEqual(a.get('a/000000.png'), a.get('a/000002.png'), 'images differ by index');
  const meta = await import('sharp').then((s) => s.default(a.get('a/000000.png')!).metadata());
  assert.deepEqual([meta.width, meta.height, meta.channels], [32, 32, 3]);

  const merged = join(tmp.dir, 'merged');
  for (let s = 0; s < 3; s++) {
    const dir = join(tmp.dir, `shard${s}`);
    const rs = await generateFolder({ bundle, perClass: 5, seed: 3, out: dir, shard: { index: s, count: 3 }, batchSize: 3 });
    assert.equal(rs.written, shardRange(10, { index: s, count: 3 }).end - shardRange(10, { index: s, count: 3 }).first);
    assert.match(rs.manifests[0], new RegExp(`manifest\\.shard-000${s}-of-0003\\.csv$`));
    cpSync(dir, merged, { recursive: true });
  }
  assert.deepEqual(images(merged), a, 'union of shards == full run');
  // Over the merged folder, generate keeps every file and writes the full manifests.
  const rm = await generateFolder({ bundle, perClass: 5, seed: 3, out: merged });
  assert.deepEqual([rm.written, rm.kept], [0, 10]);
  assert.deepEqual(readFileSync(join(merged, 'manifest.csv')), readFileSync(join(full, 'manifest.csv')));
  const csv = readFileSync(join(full, 'manifest.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'file,class,class_id,seed,index');
  assert.equal(csv[2], 'b/000001.png,b,1,3,1');
  const jsonl = readFileSync(join(full, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(jsonl[0], { file: 'a/000000.png', class: 'a', classId: 0, seed: 3, index: 0 });

  rmSync(full, { recursive: true });
  await generateFolder({ bundle, perClass: 5, seed: 3, out: full, batchSize: 3 });
  assert.deepEqual(images(full), a, 'a re-run writes identical bytes');
  const other = images((await generateFolder({ bundle, perClass: 5, seed: 4, out: join(tmp.dir, 'seed4') })).out);
  assert.notDeepEqual(other.get('a/000000.png'), a.get('a/000000.png'));
});

test('resume: deleted files are remade, an interrupted run continues to the same set', async () => {
  const ref = images((await generateFolder({ bundle, perClass: 6, seed: 1, out: join(tmp.dir, 'ref'), batchSize: 2 })).out);
  const dir = join(tmp.dir, 'resume');
  const ctl = new AbortController();
  const r1 = await generateFolder({ bundle, perClass: 6, seed: 1, out: dir, batchSize: 2, signal: ctl.signal, onProgress: (done) => {
    // From outside the loop, as a SIGINT handler would: the loop must yield to see it.
    if (done >= 2) setImmediate(() => ctl.abort());
  } });
  assert.equal(r1.stopped, true);
  assert.ok(r1.written >= 2 && r1.written < 12, `stopped part-way (${r1.written})`);
  assert.deepEqual(r1.manifests, []);
  const r2 = await generateFolder({ bundle, perClass: 6, seed: 1, out: dir, batchSize: 2 });
  assert.equal(r2.kept, r1.written);
  assert.equal(r2.kept + r2.written, 12);
  assert.deepEqual(images(dir), ref);
  rmSync(join(dir, 'a', '000004.png'));
  rmSync(join(dir, 'b', '000011.png'));
  const r3 = await generateFolder({ bundle, perClass: 6, seed: 1, out: dir, batchSize: 2 });
  assert.deepEqual([r3.written, r3.kept], [2, 10]);
  assert.deepEqual(images(dir), ref);
  await assert.rejects(generateFolder({ bundle, perClass: 6, seed: 2, out: dir }), /generated with --seed 1, not 2/);
  await assert.rejects(generateFolder({ bundle, perClass: 0, seed: 1, out: dir }), /--per-class must be a positive integer/);
});

test('a class name with a path separator gets one flat folder, and the folder reads back under the generator\'s class names and order', async () => {
  const { openReal } = await import('../eval/sources.js');
  const { alignClasses } = await import('../data/image_set.js');
  const meta = { ...bundle.generator.meta, classes: ['b/1', 'a'] };
  const out = join(tmp.dir, 'slashed');
  const r = await generateFolder({ bundle: { ...bundle, generator: { ...bundle.generator, meta } }, perClass: 2, seed: 0, out });
  assert.deepEqual(readdirSync(out).filter((f) => !f.includes('.')).sort(), ['a', 'b_1']);
  const rows = readFileSync(r.manifests[1], 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; class: string });
  assert.deepEqual(rows.map((x) => [x.file, x.class]), [['b_1/000000.png', 'b/1'], ['a/000001.png', 'a'], ['b_1/000002.png', 'b/1'], ['a/000003.png', 'a']]);
  const set = await openReal(out, { size: 32, channels: 3 }, 'synthetic');
  try {
    assert.deepEqual(set.value.classes, ['a', 'b_1'], 'a folder lists its classes by folder name');
    const aligned = alignClasses(set.value, meta.classes)!;
    assert.deepEqual(aligned.classes, ['b/1', 'a']);
    // Each image keeps its own class: folder b_1 is class 0 of the generator, a is class 1.
    assert.deepEqual([...aligned.labels!].sort(), [0, 0, 1, 1]);
    assert.deepEqual([...aligned.labels!].map((l, i) => (set.value.labels![i] === 1 ? 0 : 1) === l), [true, true, true, true]);
    assert.equal(alignClasses(set.value, ['x', 'a']), null, 'other names do not align');
    // ssim select's folders ("Ankle boot" -> "Ankle_boot") align too.
    assert.deepEqual(alignClasses({ ...set.value, classes: ['Ankle_boot', 'b_1'] }, ['b/1', 'Ankle boot'])!.classes, ['b/1', 'Ankle boot']);
    assert.equal(alignClasses(set.value, ['a', 'b_1', 'c']), null);
  } finally {
    set.close();
  }
});

test('a damaged bundle is refused', async () => {
  const copy = join(tmp.dir, 'damaged');
  cpSync(bundleDir, copy, { recursive: true });
  const w = readFileSync(join(copy, 'weights.bin'));
  w[0] ^= 1;
  writeFileSync(join(copy, 'weights.bin'), w);
  await assert.rejects(loadBundle(copy), /weights\.bin: sha256 .* differs from the manifest/);
  await assert.rejects(loadBundle(tmp.dir), /cannot read a bundle manifest/);
});

test('--shard auto from a Kubernetes Indexed Job and a Slurm array; bad --shard values', () => {
  assert.deepEqual(parseShard(undefined, undefined, {}), { index: 0, count: 1 });
  assert.deepEqual(parseShard('2/5', undefined, {}), { index: 2, count: 5 });
  assert.deepEqual(parseShard('auto', 4, { JOB_COMPLETION_INDEX: '3' }), { index: 3, count: 4, from: 'JOB_COMPLETION_INDEX=3' });
  assert.throws(() => parseShard('auto', undefined, { JOB_COMPLETION_INDEX: '3' }), /needs --shards K \(the Job's spec\.completions\)/);
  assert.throws(() => parseShard('auto', 3, { JOB_COMPLETION_INDEX: '3' }), /outside 0…2 of 3 shards/);
  assert.deepEqual(parseShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '4' }),
    { index: 2, count: 4, from: 'SLURM_ARRAY_TASK_ID=12 (min 10)' });
  assert.deepEqual(parseShard('auto', 8, { SLURM_ARRAY_TASK_ID: '5' }).index, 5);
  assert.throws(() => parseShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '5' }), /does not set SLURM_ARRAY_TASK_COUNT; pass --shards K/);
  assert.throws(() => parseShard('auto', 3, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' }), /SLURM_ARRAY_TASK_COUNT=4 but --shards 3/);
  assert.throws(() => parseShard('auto', undefined, {}), /neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID/);
  assert.throws(() => parseShard('3/3', undefined, {}), /must be below 3/);
  assert.throws(() => parseShard('1/0', undefined, {}), /at least 1/);
  assert.throws(() => parseShard('a/b', undefined, {}), /expected i\/k/);
  assert.throws(() => parseShard('1/4', 3, {}), /disagree/);
  assert.throws(() => parseShard(undefined, 3, {}), /only applies with --shard auto/);
  // Shards tile the index range exactly.
  for (const [total, k] of [[10, 3], [7, 7], [5, 8]]) {
    const rs = Array.from({ length: k }, (_, index) => shardRange(total, { index, count: k }));
    assert.equal(rs[0].first, 0);
    assert.equal(rs[k - 1].end, total);
    for (let i = 1; i < k; i++) assert.equal(rs[i].first, rs[i - 1].end);
  }
});

test('the CLI: --shard auto in an Indexed Job pod and a Slurm task gives the same files as i/k', () => {
  const BIN = join(import.meta.dirname, '..', '..', 'bin', 'synthset.js');
  const run = (out: string, extra: string[], env: Record<string, string> = {}) => spawnSync(process.execPath,
    [BIN, 'generate', '--bundle', bundleDir, '--per-class', '3', '--seed', '5', '--out', out, '--quiet', ...extra],
    // The cpu backend: bit-identical across processes (oneDNN times kernels per shape in each process).
    { env: { ...process.env, SYNTHSET_BACKEND: 'cpu', ...env }, encoding: 'utf8' });
  const k8s = run(join(tmp.dir, 'k8s'), ['--shard', 'auto', '--shards', '2'], { JOB_COMPLETION_INDEX: '1' });
  assert.equal(k8s.status, 0, k8s.stderr);
  assert.match(k8s.stdout, /shard 1\/2 from JOB_COMPLETION_INDEX=1/);
  const slurm = run(join(tmp.dir, 'slurm'), ['--shard', 'auto'], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2' });
  assert.equal(slurm.status, 0, slurm.stderr);
  const byHand = run(join(tmp.dir, 'hand'), ['--shard', '1/2']);
  assert.equal(byHand.status, 0, byHand.stderr);
  assert.deepEqual(images(join(tmp.dir, 'k8s')), images(join(tmp.dir, 'hand')));
  assert.deepEqual(images(join(tmp.dir, 'slurm')), images(join(tmp.dir, 'hand')));
  const bad = run(join(tmp.dir, 'bad'), ['--shard', '2/2']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /synthset: error: --shard "2\/2": the index counts from 0/);
});
