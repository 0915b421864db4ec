import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { readEventFile } from '../run/tensorboard.js';
import { loadCheckpoint } from '../run/checkpoint.js';
import { readMetrics } from '../run/metrics.js';
import { train } from './loop.js';
import { resumeConfig } from '../run/config.js';
import { registerTestFamilies, tinyConfig, tinyData } from './test_helpers.js';

let data: { dir: string; done: () => void };
const runs = tempDir('synthset-runs-');

before(async () => {
  await initEngine();
  registerTestFamilies();
  data = await tinyData();
});
after(() => {
  data.done();
  runs.done();
});

const TRICKS = { pool: { size: 6, p: 0.5 }, augment: { policy: ['color' as const, 'translation' as const, 'cutout' as const] }, ema: { decay: 0.9 } };

test('the loop runs end to end and writes metrics, config, checkpoint, samples and the GIF', async () => {
  const out = join(runs.dir, 'e2e');
  const steps: number[] = [];
  const before = tf.memory().numTensors;
  let pid = 0;
  const r = await train(tinyConfig(data.dir, out, { steps: 5, ...TRICKS }), {
    onStep: (e) => {
      steps.push(e.step);
      pid = JSON.parse(readFileSync(join(out, 'running.json'), 'utf8')).pid;
    },
  });
  assert.equal(pid, process.pid, 'running.json names the training process while it runs');
  assert.ok(!existsSync(join(out, 'running.json')), 'and is gone when it ends');
  assert.equal(tf.memory().numTensors, before, 'the loop leaves no tensors behind');
  assert.deepEqual(steps, [1, 2, 3, 4, 5]);
  assert.equal(r.step, 5);
  const m = readMetrics(join(out, 'metrics.jsonl'));
  assert.deepEqual(m.map((x) => x.step), [1, 2, 3, 4, 5], 'every step is logged when steps <= 100');
  for (const k of ['lossD', 'lossG', 'dReal', 'dFake', 'imgPerSec']) assert.ok(Number.isFinite(m[0][k]), k);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.family, 'dcgan');
  assert.equal(cfg.options.width, 4);
  assert.equal(cfg.options.lrG, 2e-4, 'family defaults are part of the saved config');
  assert.equal(loadCheckpoint(out)?.state.step, 5);
  const samples = readdirSync(join(out, 'samples'));
  assert.deepEqual(samples, ['step-0000002.png', 'step-0000004.png', 'step-0000005.png']);
  assert.equal(readFileSync(join(out, 'samples.gif')).subarray(0, 6).toString(), 'GIF89a');
  assert.ok(statSync(r.gif!).size > 100);
  await assert.rejects(train(tinyConfig(data.dir, out)), /already holds a training run/);
});

test('a resumed run repeats the losses of an uninterrupted run exactly', async () => {
  const a = join(runs.dir, 'straight');
  const b = join(runs.dir, 'crashed');
  const extra = { steps: 7, checkpointEvery: 3, ...TRICKS };
  await train(tinyConfig(data.dir, a, extra));
  // A crash after step 5: the checkpoint is from step 3 and metrics already hold steps 4 and 5.
  await assert.rejects(train(tinyConfig(data.dir, b, extra), {
    onStep: (e) => {
      if (e.step === 5) throw new Error('simulated crash');
    },
  }), /simulated crash/);
  assert.equal(loadCheckpoint(b)?.state.step, 3);
  assert.match(JSON.parse(readFileSync(join(b, 'error.json'), 'utf8')).message, /simulated crash/, 'a failed run says why');
  const r = await train(resumeConfig(b, 7), {}, { resume: true });
  assert.equal(r.step, 7);
  assert.ok(!existsSync(join(b, 'error.json')), 'a resumed run is no longer failed');
  const ma = readMetrics(join(a, 'metrics.jsonl'));
  const mb = readMetrics(join(b, 'metrics.jsonl'));
  assert.deepEqual(mb.map((x) => x.step), [1, 2, 3, 4, 5, 6, 7], 'lines after the checkpoint are replaced, not duplicated');
  const strip = (xs: typeof ma) => xs.map(({ imgPerSec: _, ...rest }) => rest);
  assert.deepEqual(strip(mb), strip(ma));
  // The resumed run can be extended again.
  const r2 = await train(resumeConfig(b, 9), {}, { resume: true });
  assert.equal(r2.step, 9);
  assert.equal(readMetrics(join(b, 'metrics.jsonl')).at(-1)?.step, 9);
});

test('TensorBoard event files hold every metrics line as scalars and every grid as an image; a resume adds a file', async () => {
  const out = join(runs.dir, 'tb');
  await train(tinyConfig(data.dir, out, { steps: 4 }));
  const files = () => readdirSync(join(out, 'tb')).filter((f) => f.startsWith('events.out.tfevents.')).sort();
  assert.equal(files().length, 1);
  const ev = readEventFile(join(out, 'tb', files()[0]));
  assert.equal(ev[0].fileVersion, 'brain.Event:2');
  const m = readMetrics(join(out, 'metrics.jsonl'));
  const scalars = ev.filter((e) => e.summary?.value[0].simpleValue !== undefined);
  assert.deepEqual(scalars.map((e) => e.step), m.map((x) => x.step));
  for (const [i, e] of scalars.entries()) {
    for (const v of e.summary!.value) assert.ok(Math.abs(v.simpleValue! - m[i][v.tag]) <= 1e-6 * Math.max(1, Math.abs(m[i][v.tag])), v.tag);
    assert.deepEqual(e.summary!.value.map((v) => v.tag).sort(), Object.keys(m[i]).filter((k) => k !== 'step').sort());
  }
  const images = ev.filter((e) => e.summary?.value[0].image);
  assert.deepEqual(images.map((e) => e.step), [2, 4]);
  assert.deepEqual(Buffer.from(images[1].summary!.value[0].image!.encodedImageString), readFileSync(join(out, 'samples', 'step-0000004.png')));
  await new Promise((r) => setTimeout(r, 1100)); // file names carry whole seconds
  await train(resumeConfig(out, 6), {}, { resume: true });
  assert.equal(files().length, 2);
  const ev2 = readEventFile(join(out, 'tb', files()[1]));
  assert.deepEqual([ev2[1].step, ev2[1].sessionLog?.status], [4, 1], 'SessionLog START at the resume step');
  assert.deepEqual(ev2.filter((e) => e.summary?.value[0].simpleValue !== undefined).map((e) => e.step), [5, 6]);
});

test('a crash while a checkpoint is written leaves the previous one valid', async () => {
  for (const hook of ['midWrite', 'beforeCommit'] as const) {
    const out = join(runs.dir, `atomic-${hook}`);
    let saves = 0;
    await assert.rejects(train(tinyConfig(data.dir, out, { steps: 4 }), {}, {
      saveHooks: {
        [hook]: () => {
          if (++saves === 3) throw new Error('killed while saving');
        },
      },
    }), /killed while saving/);
    // Saves: step 0, step 2, then step 4 is interrupted.
    const ck = loadCheckpoint(out);
    assert.equal(ck?.state.step, 2, hook);
    const r = await train(resumeConfig(out, 4), {}, { resume: true });
    assert.equal(r.step, 4);
    assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('ckpt-')), ['ckpt-0000004'], 'stale temp dirs are cleaned');
  }
});

test('NaN guard: one rollback with a lower LR, then a clear stop', async () => {
  // NaN at step >= 3 whatever the LR: rolls back once, then stops.
  const out = join(runs.dir, 'nan');
  const notes: string[] = [];
  await assert.rejects(
    train(tinyConfig(data.dir, out, { family: 'test-nan', steps: 6, options: { nanFrom: 3 } }), { onNote: (n) => notes.push(n) }),
    /"lossD" became NaN at step 3 again after one rollback with the learning rate halved; stopping/);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /rolled back to the checkpoint of step 2/);
  // NaN only while the LR is high: the rollback's halved LR lets training finish.
  const ok = join(runs.dir, 'nan-recovers');
  const r = await train(tinyConfig(data.dir, ok, { family: 'test-nan', steps: 5, options: { nanFrom: 3, nanAboveLr: 1.5e-4 } }));
  assert.equal(r.step, 5);
  const m = readMetrics(join(ok, 'metrics.jsonl'));
  assert.deepEqual(m.map((x) => x.step), [1, 2, 3, 4, 5]);
  assert.ok(m.every((x) => Number.isFinite(x.lossD)));
  assert.equal(loadCheckpoint(ok)?.state.lrScale, 0.5);
});

test('a family that leaks tensors fails with the growth named', async () => {
  const out = join(runs.dir, 'leak');
  await assert.rejects(train(tinyConfig(data.dir, out, { family: 'test-leak', steps: 6 })),
    /Tensor leak: the tensor count grew from \d+ after step 1 to \d+ after step 2 \(\+1, about 1\.0 per step\)/);
  assert.ok(existsSync(join(out, 'latest.json')));
});

test('LR decay ends at the planned last step of a time budget, not at a step count it will never reach', async () => {
  const dir = join(runs.dir, 'planned');
  await train(tinyConfig(data.dir, dir, { family: 'test-lr', steps: 10, lrDecay: 0.5, logEvery: 1 }), {}, { plannedSteps: () => 6 });
  const lr = readMetrics(join(dir, 'metrics.jsonl')).map((r) => (r.lrD as number) / 2e-4);
  // Constant to step 3 (half of 6), then linear towards 0 at step 7; past the plan it is re-planned at the current step.
  const want = [1, 1, 1, 3 / 4, 2 / 4, 1 / 4, 1 - 4 / 5, 1 - 4 / 5, 1 - 5 / 6, 1 - 5 / 6];
  lr.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-9, `step ${i + 1}: LR scale ${v}, expected ${want[i]}`));
});
