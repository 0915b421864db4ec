// The cost of privacy per step (`npm run bench -- --dp`): one cgan step at 32 px on random data,
// as an ordinary step and as private ones (DP-SGD on D from one batched pass, and through
// micro-batches of one, the same expected batch), in the same process. The ratio is what a private
// run pays for its guarantee.
import * as tf from '@tensorflow/tfjs';
import { getFamily, type StepContext } from '../models/index.js';
import { privateBatchGradients, privateGradients } from '../privacy/index.js';

export interface DpBenchRow { batch: number; width: number; plainMs: number; privateMs: number; ratio: number; microMs: number | null }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function benchDp(o: { batches?: number[]; width?: number; steps?: number; micro?: boolean } = {}): DpBenchRow[] {
  const rows: DpBenchRow[] = [];
  const width = o.width ?? 32, steps = o.steps ?? 5;
  for (const batch of o.batches ?? [16, 64]) {
    const family = getFamily('cgan');
    const model = family.build({ size: 32, channels: 1, numClasses: 10, zDim: 128, options: { ...family.defaults, width }, seed: 1, private: true });
    const real = tf.randomUniform([batch, 32, 32, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
    const opts = (step: number) => ({ clip: 1, noiseMultiplier: 1, expectedBatch: batch, seed: step });
    const ctx = (step: number, dp: 'none' | 'batched' | 'micro'): StepContext => ({
      step, seed: step, augment: (x) => x, pool: (x) => x,
      ...(dp === 'none' ? {} : {
        dp: {
          fakes: batch, clip: 1, gradients: (vars, n, loss) => privateGradients(vars, n, loss, opts(step)),
          ...(dp === 'batched' ? { batchGradients: (m, vars, inputs, loss) => privateBatchGradients(m, vars, inputs, loss, opts(step)) } : {}),
        },
      }),
    });
    const time = (dp: 'none' | 'batched' | 'micro') => {
      const t: number[] = [];
      for (let i = 0; i < steps + 2; i++) {
        const t0 = performance.now();
        model.trainStep([{ real, labels, b: null }], ctx(i + 1, dp));
        if (i >= 2) t.push(performance.now() - t0);
      }
      return median(t);
    };
    try {
      const plainMs = time('none'), privateMs = time('batched'), microMs = o.micro === false ? null : time('micro');
      rows.push({ batch, width, plainMs, privateMs, ratio: privateMs / plainMs, microMs });
    } finally {
      tf.dispose([real, labels]);
      model.dispose();
    }
  }
  return rows;
}

export function dpTable(rows: DpBenchRow[]): string {
  const lines = ['| private training (cgan 32 px, grey, 10 classes) | ordinary step ms | private step ms (batched) | private / ordinary | micro-batches of one ms |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| batch ${r.batch}, width ${r.width} | ${r.plainMs.toFixed(1)} | ${r.privateMs.toFixed(1)} | ${r.ratio.toFixed(1)}× | ${r.microMs === null ? '—' : r.microMs.toFixed(1)} |`);
  }
  return lines.join('\n');
}
