// The benchmark's DCGAN, written with raw variables and ops so that every engine runs exactly the
// same arithmetic (src/engine/bench/torch_dcgan.py mirrors it): G = dense -> 4x4xC, then k4 s2
// transposed convolutions with batch-norm + ReLU, tanh; D = k4 s2 convolutions with LeakyReLU(0.2)
// and a dense logit; BCE with logits; Adam 2e-4 / 0.5; one G forward per step, reused.
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from '../ops/batch_norm.js';
import { FusedAdamOptimizer } from '../ops/adam.js';

/** width: channels of the last hidden layer (64 in the benchmark; tests use less). */
export interface DcganConfig { size: 32 | 64; batch: number; zDim: number; seed: number; width?: number }

interface Bn { gamma: tf.Variable; beta: tf.Variable }

export class BenchDcgan {
  readonly g: { dense: tf.Variable; denseBias: tf.Variable; bn: Bn[]; deconv: tf.Variable[]; outBias: tf.Variable };
  readonly d: { conv: tf.Variable[]; bias: tf.Variable[]; dense: tf.Variable; denseBias: tf.Variable };
  private readonly optG = new FusedAdamOptimizer(2e-4, 0.5, 0.999);
  private readonly optD = new FusedAdamOptimizer(2e-4, 0.5, 0.999);
  private readonly chans: number[];
  private readonly real: tf.Tensor4D;
  private readonly ones: tf.Tensor2D;
  private readonly zeros: tf.Tensor2D;

  constructor(readonly cfg: DcganConfig) {
    const ups = Math.log2(cfg.size / 4);
    // 32 px: 256,128,64 -> 3; 64 px: 512,256,128,64 -> 3.
    this.chans = Array.from({ length: ups }, (_, i) => (cfg.width ?? 64) * 2 ** (ups - 1 - i));
    let seed = cfg.seed;
    const init = (shape: number[], std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed++));
    const zerosVar = (n: number) => tf.variable(tf.zeros([n]));
    const c0 = this.chans[0];
    this.g = {
      dense: init([cfg.zDim, 16 * c0]),
      denseBias: zerosVar(16 * c0),
      bn: this.chans.map((c) => ({ gamma: tf.variable(tf.ones([c])), beta: zerosVar(c) })),
      deconv: this.chans.map((c, i) => init([4, 4, this.chans[i + 1] ?? 3, c])),
      outBias: zerosVar(3),
    };
    const dch = [3, ...[...this.chans].reverse()];
    this.d = {
      conv: dch.slice(1).map((c, i) => init([4, 4, dch[i], c])),
      bias: dch.slice(1).map((c) => zerosVar(c)),
      dense: init([16 * dch[dch.length - 1], 1]),
      denseBias: zerosVar(1),
    };
    this.real = tf.randomUniform([cfg.batch, cfg.size, cfg.size, 3], -1, 1, 'float32', seed++);
    this.ones = tf.ones([cfg.batch, 1]);
    this.zeros = tf.zeros([cfg.batch, 1]);
  }

  generate(z: tf.Tensor2D): tf.Tensor4D {
    const { g, cfg } = this;
    const dense = tf.add(tf.matMul(z, g.dense), g.denseBias);
    let h = tf.reshape(dense, [cfg.batch, 4, 4, this.chans[0]]) as tf.Tensor4D;
    let side = 4;
    for (let i = 0; i < this.chans.length; i++) {
      h = tf.relu(batchNormTrain(h, g.bn[i].gamma, g.bn[i].beta, 1e-5).y) as tf.Tensor4D;
      side *= 2;
      const out = this.chans[i + 1] ?? 3;
      h = tf.conv2dTranspose(h, g.deconv[i] as tf.Tensor4D, [cfg.batch, side, side, out], 2, 'same');
    }
    return tf.tanh(tf.add(h, g.outBias)) as tf.Tensor4D;
  }

  discriminate(x: tf.Tensor4D): tf.Tensor2D {
    const { d, cfg } = this;
    let h = x;
    for (let i = 0; i < d.conv.length; i++) {
      h = tf.leakyRelu(tf.add(tf.conv2d(h, d.conv[i] as tf.Tensor4D, 2, 'same'), d.bias[i]), 0.2) as tf.Tensor4D;
    }
    return tf.add(tf.matMul(tf.reshape(h, [cfg.batch, -1]), d.dense), d.denseBias);
  }

  private bce(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
    return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
  }

  /** One D update and one G update from a single G forward; returns [lossD, lossG]. */
  step(): [number, number] {
    const dVars = [...this.d.conv, ...this.d.bias, this.d.dense, this.d.denseBias];
    const gVars = [this.g.dense, this.g.denseBias, ...this.g.bn.flatMap((b) => [b.gamma, b.beta]), ...this.g.deconv, this.g.outBias];
    let lossD = 0;
    const lossG = tf.tidy(() => {
      const z = tf.randomNormal([this.cfg.batch, this.cfg.zDim]) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => {
        const fake = this.generate(z);
        // D learns from the same fakes; the tape keys tensors by id, so G's gradient sees the updated D.
        const dStep = tf.variableGrads(() => tf.add(this.bce(this.discriminate(this.real), this.ones),
          this.bce(this.discriminate(fake), this.zeros)) as tf.Scalar, dVars);
        this.optD.applyGradients(dStep.grads);
        lossD = dStep.value.dataSync()[0];
        return this.bce(this.discriminate(fake), this.ones);
      }, gVars);
      this.optG.applyGradients(grads);
      return value.dataSync()[0];
    });
    return [lossD, lossG];
  }

  dispose(): void {
    tf.dispose([...Object.values(this.g).flat().flatMap((v) => ('gamma' in v ? [v.gamma, v.beta] : [v])),
      ...Object.values(this.d).flat(), this.real, this.ones, this.zeros] as tf.Tensor[]);
    this.optD.dispose();
    this.optG.dispose();
  }
}
