// Adam with one fused kernel per variable instead of ~12 elementwise kernels. Same arithmetic,
// state and serialisation as tfjs's AdamOptimizer (it is a subclass), so checkpoints interchange.
import {
  AdamOptimizer, Optimizer, engine, getBackend, getKernel, tidy, zerosLike, mul,
  type KernelConfig, type Tensor, type Variable,
} from '@tensorflow/tfjs-core';
import { kernel } from '../kernels/common.js';
import type { NativeAddon } from '../native.js';

export const ADAM = 'SynthsetAdam';

type NamedVariable = { originalName: string; variable: Variable };
interface AdamState {
  accBeta1: Variable; accBeta2: Variable;
  accumulatedFirstMoment: NamedVariable[]; accumulatedSecondMoment: NamedVariable[];
}

export class FusedAdamOptimizer extends AdamOptimizer {
  static override get className() { return 'Adam'; }

  override applyGradients(variableGradients: Parameters<Optimizer['applyGradients']>[0]): void {
    if (!getKernel(ADAM, getBackend())) return super.applyGradients(variableGradients as Parameters<AdamOptimizer['applyGradients']>[0]);
    const s = this as unknown as AdamState;
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const c1 = 1 - s.accBeta1.dataSync()[0], c2 = 1 - s.accBeta2.dataSync()[0];
    tidy(() => {
      list.forEach(({ name, tensor: g }, i) => {
        const value = engine().registeredVariables[name];
        s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tidy(() => zerosLike(value).variable(false)) };
        s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tidy(() => zerosLike(value).variable(false)) };
        if (g == null) return;
        const m = s.accumulatedFirstMoment[i].variable, v = s.accumulatedSecondMoment[i].variable;
        const [nx, nm, nv] = engine().runKernel(ADAM, { x: value, m, v, g }, {
          lr: this.learningRate, beta1: this.beta1, beta2: this.beta2, eps: this.epsilon, c1, c2,
        }) as Tensor[];
        value.assign(nx);
        m.assign(nm);
        v.assign(nv);
      });
      s.accBeta1.assign(mul(s.accBeta1, this.beta1));
      s.accBeta2.assign(mul(s.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

function jsAdam(x: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, xo: Float32Array, mo: Float32Array,
  vo: Float32Array, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number): void {
  for (let i = 0; i < x.length; i++) {
    const mi = Math.fround(m[i] * b1 + g[i] * (1 - b1));
    const vi = Math.fround(v[i] * b2 + g[i] * g[i] * (1 - b2));
    mo[i] = mi;
    vo[i] = vi;
    xo[i] = x[i] - lr * ((mi / c1) / (Math.sqrt(vi / c2) + eps));
  }
}

export function adamKernel(backendName: string, native: NativeAddon | null): KernelConfig {
  const run = native ? native.adam.bind(native) : jsAdam;
  return kernel(ADAM, backendName, ({ inputs: { x, m, v, g }, attrs: a, backend: b }) => {
      const val = (t: typeof x) => b.data.get(t.dataId)!.values as Float32Array;
      const n = val(x).length;
      const fresh = (k: number) => (native ? b.alloc(k) : new Float32Array(k));
      const xo = fresh(n), mo = fresh(n), vo = fresh(n);
      run(val(x), val(m), val(v), val(g), xo, mo, vo, a.lr, a.beta1, a.beta2, a.eps, a.c1, a.c2);
      const out = (arr: Float32Array) => ({ dataId: b.write(arr, x.shape, 'float32'), shape: x.shape, dtype: 'float32' as const });
      return [out(xo), out(mo), out(vo)];
  });
}
