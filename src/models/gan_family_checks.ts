// Checks shared by the sngan and wgan-gp tests: a family builds, steps with finite numbers, trains
// both networks, leaks no tensors across steps, and its generator reloads from memory unchanged.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { getFamily, type FamilyContext, type StepContext, type TrainBatch } from './family.js';

const identity: Pick<StepContext, 'augment' | 'pool'> = { augment: (x) => x.clone(), pool: (x) => x.clone() };

function batchOf(n: number, c: FamilyContext, seed: number, labelled: boolean): TrainBatch {
  return {
    real: tf.randomUniform([n, c.size, c.size, c.channels], -1, 1, 'float32', seed) as tf.Tensor4D,
    labels: labelled ? tf.tensor1d(Array.from({ length: n }, (_, i) => i % c.numClasses), 'int32') : null,
  };
}

const snapshot = (m: tf.LayersModel) => m.getWeights(true).map((w) => Float32Array.from(w.dataSync()));
const changed = (a: Float32Array[], b: Float32Array[]) => a.some((w, i) => w.some((v, j) => v !== b[i][j]));

export async function checkFamily(family: string, c: FamilyContext, extraKeys: string[] = []): Promise<void> {
  const fam = getFamily(family);
  const m = fam.build({ ...c, options: { ...fam.defaults, ...c.options } });
  const conditional = m.generator.inputs.length === 2;
  assert.equal(conditional, c.numClasses >= 2 && c.options.conditional !== false, 'conditional when labels exist');
  const batches = Array.from({ length: m.ndis }, (_, i) => batchOf(4, c, i + 1, c.numClasses >= 2));
  const g0 = snapshot(m.nets.g), d0 = snapshot(m.nets.d);
  // The first step creates the optimizers' moment variables; after that the count must stay flat.
  m.trainStep(batches, { step: 0, seed: 100, ...identity });
  const before = tf.memory().numTensors;
  const r = m.trainStep(batches, { step: 1, seed: 101, ...identity });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked across steps');
  assert.deepEqual(Object.keys(r).sort(), ['dFake', 'dReal', 'lossD', 'lossG', ...extraKeys].sort());
  for (const [k, v] of Object.entries(r)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
  assert.ok(changed(g0, snapshot(m.nets.g)), 'G weights did not change');
  assert.ok(changed(d0, snapshot(m.nets.d)), 'D weights did not change');

  const z = tf.randomNormal([3, c.zDim], 0, 1, 'float32', 9) as tf.Tensor2D;
  const hot = conditional ? tf.oneHot(tf.tensor1d([0, 1, 0], 'int32'), c.numClasses).toFloat() as tf.Tensor2D : null;
  const input = hot ? [z, hot] : z;
  let saved: tf.io.ModelArtifacts | null = null;
  await m.generator.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const again = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const [a, b] = [m.generator.predict(input), again.predict(input)] as tf.Tensor[];
  assert.deepEqual(a.shape, [3, c.size, c.size, c.channels]);
  assert.deepEqual(b.dataSync(), a.dataSync(), 'reloaded generator differs');
  const fresh = m.buildGenerator();
  assert.equal(fresh.countParams(), m.generator.countParams());
  tf.dispose([z, a, b, ...(hot ? [hot] : []), ...batches.flatMap((x) => [x.real, ...(x.labels ? [x.labels] : [])])]);
  fresh.dispose();
  again.dispose();
  m.dispose();
}
