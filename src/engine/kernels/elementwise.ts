// Unary maps, broadcasting binary ops, Select, AddN, Tile-as-broadcast and batch-norm apply.
// The `cpu` versions spend ~25 ns per element on index arithmetic; these are flat native loops.
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import { allF32, size, type NativeArgs, type Override } from './common.js';

// Codes match the Unary enum in native/src/eltwise.cc.
const UNARY: Record<string, number> = {
  Relu: 0, Relu6: 1, Elu: 2, LeakyRelu: 3, Sigmoid: 4, Tanh: 5, Exp: 6, Log: 7, Neg: 8, Abs: 9, Sqrt: 10,
  Rsqrt: 11, Square: 12, Step: 13, Reciprocal: 14, Softplus: 15, Log1p: 16, Sign: 17, ClipByValue: 18,
};

// Codes match the Binary enum in native/src/eltwise.cc; >= 10 produce bool.
const BINARY: Record<string, number> = {
  Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6, Pow: 7, EluGrad: 8,
  Greater: 10, GreaterEqual: 11, Less: 12, LessEqual: 13, Equal: 14, NotEqual: 15,
};
const LEFT = 9;

function unaryParams(name: string, attrs: NativeArgs['attrs']): [number, number] {
  if (name === 'LeakyRelu') return [attrs.alpha as number, 0];
  if (name === 'Step') return [(attrs.alpha as number) ?? 0, 0];
  if (name === 'ClipByValue') return [attrs.clipValueMin as number, attrs.clipValueMax as number];
  return [0, 0];
}

const unary = (name: string): Override => ({
  kernelName: name,
  native: ({ inputs: { x }, attrs, backend, addon }) => {
    if (!allF32(x)) return null;
    const [p, q] = unaryParams(name, attrs);
    const y = backend.alloc(size(x.shape));
    addon.unary(UNARY[name], backend.values(x), y, p, q);
    return backend.output(x.shape, y);
  },
});

function broadcast({ backend, addon }: NativeArgs, op: number, a: TensorInfo, b: TensorInfo, outShape: number[]) {
  const n = size(outShape);
  const out = op >= 10 ? backend.allocBytes(n) : backend.alloc(n);
  addon.binary(op, backend.values(a), a.shape, backend.values(b), b.shape, out, outShape);
  return backend.output(outShape, out, op >= 10 ? 'bool' : 'float32');
}

const binary = (name: string): Override => ({
  kernelName: name,
  native: (args) => {
    const [a, b] = name === 'EluGrad' ? [args.inputs.dy, args.inputs.y] : [args.inputs.a, args.inputs.b];
    if (!allF32(a, b)) return null;
    return broadcast(args, BINARY[name], a, b, backend_util.assertAndGetBroadcastShape(a.shape, b.shape));
  },
});

export const elementwiseOverrides: Override[] = [
  ...Object.keys(UNARY).map(unary),
  ...Object.keys(BINARY).map(binary),
  {
    kernelName: 'Select',
    native: ({ inputs: { condition, t, e }, backend, addon }) => {
      if (!allF32(t, e) || condition.dtype !== 'bool') return null;
      const n = size(t.shape);
      if (size(condition.shape) !== n) return null;
      const out = backend.alloc(n);
      addon.select(backend.bytes(condition), backend.values(t), backend.values(e), out);
      return backend.output(t.shape, out);
    },
  },
  {
    kernelName: 'AddN',
    native: ({ inputs, backend, addon }) => {
      const xs = Object.values(inputs);
      if (!allF32(...xs)) return null;
      const out = backend.alloc(size(xs[0].shape));
      addon.addN(xs.map((x) => backend.values(x)), out);
      return backend.output(xs[0].shape, out);
    },
  },
  {
    // broadcastTo and the gradients of Sum/Mean tile size-1 dims only: that is a broadcast copy.
    kernelName: 'Tile',
    native: (args) => {
      const { x } = args.inputs;
      const reps = args.attrs.reps as number[];
      if (!allF32(x) || reps.some((r, i) => r !== 1 && x.shape[i] !== 1)) return null;
      return broadcast(args, LEFT, x, x, x.shape.map((d, i) => d * reps[i]));
    },
  },
  {
    kernelName: 'FusedBatchNorm',
    native: ({ inputs: { x, mean, variance, offset, scale }, attrs, backend, addon }) => {
      if (!allF32(x, mean, variance, offset, scale)) return null;
      const c = x.shape[x.shape.length - 1];
      if (![mean, variance, offset, scale].every((p) => !p || size(p.shape) === 1 || size(p.shape) === c)) return null;
      const out = backend.alloc(size(x.shape));
      const v = (p?: TensorInfo) => (p ? backend.values(p) : null);
      addon.batchNormApply(backend.values(x), backend.values(mean), backend.values(variance), v(offset), v(scale),
        (attrs.varianceEpsilon as number) ?? 1e-3, out);
      return backend.output(x.shape, out);
    },
  },
];
