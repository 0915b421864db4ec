import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from './index.js';
import { HAVE_NATIVE, SKIP_NATIVE } from './test_util.js';

const probe = (env: Record<string, string>, code: string) => spawnSync(process.execPath,
  ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });

const PICK = "import { initEngine } from './src/engine/index.js'; initEngine().then((i) => console.log(JSON.stringify(i)), (e) => { console.error(e.message); process.exit(3); });";

test('auto picks onednn when the addon is built, and SYNTHSET_BACKEND=cpu forces cpu', () => {
  const auto = probe({}, PICK);
  assert.equal(auto.status, 0, auto.stderr);
  assert.equal(JSON.parse(auto.stdout).backend, HAVE_NATIVE ? 'onednn' : 'cpu');
  const cpu = probe({ SYNTHSET_BACKEND: 'cpu' }, PICK);
  assert.equal(JSON.parse(cpu.stdout).backend, 'cpu');
});

test('without the addon, auto falls back to cpu and says why; forcing onednn is a clear error', () => {
  const off = probe({ SYNTHSET_NATIVE: '0' }, PICK);
  assert.equal(off.status, 0, off.stderr);
  const info = JSON.parse(off.stdout);
  assert.equal(info.backend, 'cpu');
  assert.match(info.note, /SYNTHSET_NATIVE=0/);
  const forced = probe({ SYNTHSET_NATIVE: '0', SYNTHSET_BACKEND: 'onednn' }, PICK);
  assert.equal(forced.status, 3);
  assert.match(forced.stderr, /Backend "onednn" is not available/);
  const bad = probe({ SYNTHSET_BACKEND: 'gpu' }, PICK);
  assert.match(bad.stderr, /Unknown backend "gpu" \(from SYNTHSET_BACKEND\): use auto, onednn or cpu/);
});

// ONEDNN_MAX_CPU_ISA=AVX2 makes oneDNN see an AVX2-only CPU (no bfloat16), whatever this machine has.
test('bf16 only where the CPU has it: info() says so, and --bf16 on an AVX2-only CPU is a clear error', { skip: SKIP_NATIVE }, () => {
  const INFO = "import { loadNative } from './src/engine/index.js'; console.log(JSON.stringify(loadNative().info()));";
  const BF16 = "import { initEngine } from './src/engine/index.js'; initEngine({ bf16: true }).then((i) => console.log(JSON.stringify(i)), (e) => { console.error(e.message); process.exit(3); });";
  const capped = probe({ ONEDNN_MAX_CPU_ISA: 'AVX2' }, INFO);
  assert.equal(capped.status, 0, capped.stderr);
  assert.deepEqual(JSON.parse(capped.stdout), { ...JSON.parse(capped.stdout), isa: 'avx2', bf16Supported: false, bf16Enabled: false });
  const refused = probe({ ONEDNN_MAX_CPU_ISA: 'AVX2' }, BF16);
  assert.equal(refused.status, 3, refused.stdout);
  assert.match(refused.stderr, /--bf16 is not available here: this CPU has no native bfloat16 \(needs AVX512-BF16 or AMX; oneDNN runs at ISA avx2 \(capped by ONEDNN_MAX_CPU_ISA=AVX2\)\)\. Run without --bf16/);
  const here = JSON.parse(probe({}, INFO).stdout) as { isa: string; bf16Supported: boolean };
  assert.equal(here.bf16Supported, ['avx512_core_bf16', 'avx512_core_amx'].includes(here.isa), JSON.stringify(here));
  const onHere = probe({}, BF16);
  if (here.bf16Supported) {
    assert.equal(onHere.status, 0, onHere.stderr);
    assert.equal(JSON.parse(onHere.stdout).bf16, true);
  } else assert.equal(onHere.status, 3);
});

test('pooled buffers are never reused while user code holds them', { skip: SKIP_NATIVE }, async () => {
  await initEngine({ backend: 'onednn' });
  const x = tf.fill([256, 256], 2);
  const y = tf.add(x, 1);
  const held = y.dataSync();
  const view = tf.slice(tf.add(x, 5), [0, 0], [128, 256]); // contiguous: cpu's Slice returns a subarray
  y.dispose();
  for (let i = 0; i < 5; i++) tf.dispose([tf.add(x, 10 + i), tf.mul(x, 3)]);
  assert.ok(held.every((v) => v === 3), 'an array returned by dataSync was overwritten after dispose');
  assert.ok(view.dataSync().every((v) => v === 7), 'a slice view lost its data');
  tf.dispose([x, view]);
});

test('a training step leaves the tensor count flat', { skip: SKIP_NATIVE }, async () => {
  await initEngine({ backend: 'onednn' });
  const w = tf.variable(tf.randomNormal([3, 3, 2, 4]));
  const x = tf.randomNormal([2, 8, 8, 2]);
  const opt = tf.train.adam(1e-3);
  const step = () => opt.minimize(() => tf.mean(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'))) as tf.Scalar);
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, x]);
  opt.dispose();
});
