import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from './index.js';
import { loadNative } from './native.js';
import { convCacheFile, convCacheKey, loadConvChoices, readConvChoices } from './conv_cache.js';
import { HAVE_NATIVE, SKIP_NATIVE, randArray, relErr, rng } from './test_util.js';

const dir = mkdtempSync(join(tmpdir(), 'synthset-convcache-'));
process.env.SYNTHSET_CACHE_DIR = dir;
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// Shapes with several oneDNN candidates on every ISA (a 3-channel layer: gemm and jit; a deeper one:
// jit and brgconv or gemm), so their first use is timed.
const r = rng(5);
const cases = [
  { x: randArray(r, [4, 16, 16, 3]), f: randArray(r, [4, 4, 3, 16]) },
  { x: randArray(r, [4, 8, 8, 32]), f: randArray(r, [4, 4, 32, 64]) },
];

const timed = () => loadNative()!.stats().convTimed;
const flush = () => new Promise((res) => setImmediate(res));

function runConvs(): Float32Array[] {
  return cases.map(({ x, f }) => tf.tidy(() => {
    const xt = tf.tensor4d(x.values, x.shape as [number, number, number, number]);
    const ft = tf.tensor4d(f.values, f.shape as [number, number, number, number]);
    const y = tf.conv2d(xt, ft, 2, 'same');
    // The gradients set up the two backward shapes as well.
    const g = tf.grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').square().sum());
    const [dx, dw] = g([xt, ft]);
    return tf.concat([y.flatten(), dx.flatten(), dw.flatten()]);
  }).dataSync() as Float32Array);
}

async function fresh(): Promise<{ before: number; outs: Float32Array[]; loaded: number }> {
  const addon = loadNative()!;
  addon.convReset();
  const loaded = loadConvChoices(addon);
  const before = timed();
  const outs = runConvs();
  await flush();
  return { before, outs, loaded };
}

test('conv choices: timed once, saved, and reused by the next process without timing', { skip: SKIP_NATIVE }, async () => {
  await initEngine({ backend: 'onednn' });
  const addon = loadNative()!;
  const key = convCacheKey(addon);
  rmSync(convCacheFile(key), { force: true });
  const first = await fresh();
  assert.equal(first.loaded, 0);
  const timedFirst = timed() - first.before;
  assert.ok(timedFirst >= 1, 'the first use of these shapes is timed');
  assert.ok(existsSync(convCacheFile(key)), 'the choices are written');
  const stored = readConvChoices(key)!;
  const impls = addon.convImpls();
  assert.deepEqual(Object.keys(stored).sort(), Object.keys(impls).sort());
  for (const [k, v] of Object.entries(stored)) assert.equal(v[2], impls[k]);

  const second = await fresh();
  assert.equal(second.loaded, Object.keys(stored).length);
  assert.equal(timed() - second.before, 0, 'no timing run when every shape is in the cache');
  assert.deepEqual(addon.convImpls(), impls, 'the same implementations');
  second.outs.forEach((o, i) => assert.ok(relErr(o, first.outs[i]) < 1e-5, `same results (case ${i})`));
});

test('conv choices: a corrupt or malformed file is ignored and rewritten', { skip: SKIP_NATIVE }, async () => {
  await initEngine({ backend: 'onednn' });
  const addon = loadNative()!;
  const key = convCacheKey(addon);
  await fresh();
  const good = readFileSync(convCacheFile(key), 'utf8');
  const stored = readConvChoices(key)!;
  const bad = [
    good.slice(0, good.length / 2),
    JSON.stringify({ key, choices: [1, 2] }),
    JSON.stringify({ key, choices: Object.fromEntries(Object.keys(stored).map((k) => [k, ['x', 0, 'jit']])) }),
  ];
  for (const text of bad) {
    writeFileSync(convCacheFile(key), text);
    assert.equal(readConvChoices(key), null);
    const run = await fresh();
    assert.equal(run.loaded, 0);
    assert.ok(timed() - run.before >= 1, 'timed again');
    assert.notEqual(readConvChoices(key), null, 'rewritten');
  }
});

test('conv choices: another key (threads, oneDNN, ISA cap) or an implementation that no longer rebuilds is not trusted', { skip: SKIP_NATIVE }, async () => {
  await initEngine({ backend: 'onednn' });
  const addon = loadNative()!;
  const key = convCacheKey(addon);
  await fresh();
  const stored = readConvChoices(key)!;
  for (const other of [{ ...key, threads: Number(key.threads) + 1 }, { ...key, onednn: '0.0.0' }, { ...key, maxIsa: 'SSE41' }]) {
    // Written under this process's file name, so only the key inside tells them apart.
    writeFileSync(convCacheFile(key), JSON.stringify({ key: other, choices: stored }));
    const run = await fresh();
    assert.equal(run.loaded, 0, JSON.stringify(other));
    assert.ok(timed() - run.before >= 1);
  }
  // Right key, but the entries name implementations oneDNN does not build for these shapes: the
  // addon re-times every one of them instead of running something else.
  const wrong = Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, [v[0], v[1], `${v[2]}-elsewhere`]]));
  writeFileSync(convCacheFile(key), JSON.stringify({ key, choices: wrong }));
  const run = await fresh();
  assert.equal(run.loaded, Object.keys(wrong).length);
  assert.ok(timed() - run.before >= 1, 'implementations that differ are timed again');
  assert.ok(Object.values(addon.convImpls()).every((v) => !v.endsWith('-elsewhere')));
});

test('conv cache key names the CPU, threads, oneDNN, ISA and its cap', { skip: !HAVE_NATIVE && 'no addon' }, () => {
  const key = convCacheKey(loadNative()!);
  for (const k of ['cpu', 'threads', 'onednn', 'isa', 'maxIsa', 'addon']) assert.ok(k in key, k);
  const before = process.env.ONEDNN_MAX_CPU_ISA;
  process.env.ONEDNN_MAX_CPU_ISA = 'SSE41';
  try {
    assert.notEqual(convCacheFile(convCacheKey(loadNative()!)), convCacheFile(key), 'another file per ISA cap');
  } finally {
    if (before === undefined) delete process.env.ONEDNN_MAX_CPU_ISA;
    else process.env.ONEDNN_MAX_CPU_ISA = before;
  }
});
