// Full-state checkpoints: every network, the EMA generator, optimizer states, the image pool and
// the loop's position, so `--resume` continues exactly. Layout of a run dir:
//   ckpt-<step>/state.json    the loop state and a manifest of the tensors
//   ckpt-<step>/tensors.bin   their bytes, back to back
//   latest.json               names the newest complete checkpoint (written by temp file + rename)
// A checkpoint is written into a temp dir, renamed to ckpt-<step>, and only then does latest.json
// point at it; older checkpoints go last. A kill at any point leaves latest.json naming a complete
// checkpoint (or the previous one).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { renameDurable, syncDir, writeAtomic, writeDurable } from '../util/atomic.js';

export interface LoopState {
  /** Steps trained. */
  step: number;
  /** Data epoch and the next batch inside it (batches of `batchSize`, drop-last). */
  epoch: number;
  position: number;
  /** Multiplier on every optimizer's initial learning rate (halved by the NaN guard). */
  lrScale: number;
  /** True once the NaN guard rolled back. */
  rolledBack: boolean;
  /** The cache key of the training data: resuming on changed data is refused. */
  dataHash: string;
  config: unknown;
  /** A private run's secret and accountant (train/private.ts): the budget survives a resume. */
  privacy?: unknown;
  /** LeCam's anchors and ADA's strength (train/small_data.ts). */
  smallData?: unknown;
}

interface Entry { key: string; shape: number[]; dtype: 'float32' | 'int32'; offset: number; length: number }
interface StateFile { version: 1; state: LoopState; tensors: Entry[] }

interface PoolLike { state(): { shape: number[]; data: Float32Array } | null; restore(s: { shape: number[]; data: Float32Array } | null): void }

export interface Trainable {
  nets: Record<string, tf.LayersModel>;
  optimizers: Record<string, tf.Optimizer>;
  ema: tf.LayersModel | null;
  pool: PoolLike | null;
  /** The family's extra pools by name (one per direction), saved as `pool/<name>`. */
  pools?: Record<string, PoolLike>;
}

export interface SaveHooks {
  /** Called after the checkpoint files are written and before they become current (crash tests). */
  beforeCommit?: () => void;
  /** Called after tensors.bin and before state.json (crash tests). */
  midWrite?: () => void;
}

const VERSION = 1;
const LATEST = 'latest.json';
const dirName = (step: number) => `ckpt-${String(step).padStart(7, '0')}`;

/** Optimizer fields that getWeights leaves out but Adam's next update depends on. */
const EXTRA_OPT_VARS = ['accBeta1', 'accBeta2'] as const;

type Blob = { key: string; shape: number[]; dtype: 'float32' | 'int32'; data: Float32Array | Int32Array };

/** Every image pool of `t` with its checkpoint key: the loop's `pool`, then the family's `pool/<name>`. */
function poolEntries(t: Trainable): [string, PoolLike | null][] {
  return [['pool', t.pool], ...Object.entries(t.pools ?? {}).map(([k, v]) => [`pool/${k}`, v] as [string, PoolLike])];
}

async function collect(t: Trainable): Promise<Blob[]> {
  const out: Blob[] = [];
  const add = (key: string, x: tf.Tensor) => {
    const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
    out.push({ key, shape: x.shape.slice(), dtype, data: (dtype === 'int32' ? x.dataSync() : x.dataSync()) as Float32Array | Int32Array });
  };
  for (const [name, net] of Object.entries(t.nets)) net.weights.forEach((w, i) => add(`net/${name}/${i}`, w.read()));
  t.ema?.weights.forEach((w, i) => add(`ema/${i}`, w.read()));
  for (const [name, opt] of Object.entries(t.optimizers)) {
    const ws = await opt.getWeights();
    ws.forEach((w, i) => add(`opt/${name}/${i}/${w.name}`, w.tensor));
    tf.dispose(ws.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
    for (const k of EXTRA_OPT_VARS) {
      const v = (opt as unknown as Record<string, unknown>)[k];
      if (v instanceof tf.Tensor) add(`optx/${name}/${k}`, v);
    }
  }
  for (const [key, pool] of poolEntries(t)) {
    const p = pool?.state();
    if (p) out.push({ key, shape: p.shape, dtype: 'float32', data: p.data });
  }
  return out;
}

/** Writes a checkpoint of `t` at `state.step` into `runDir` and makes it the current one. */
export async function saveCheckpoint(runDir: string, state: LoopState, t: Trainable, hooks: SaveHooks = {}): Promise<string> {
  const blobs = await collect(t);
  const entries: Entry[] = [];
  let offset = 0;
  for (const b of blobs) {
    entries.push({ key: b.key, shape: b.shape, dtype: b.dtype, offset, length: b.data.byteLength });
    offset += b.data.byteLength;
  }
  const bytes = new Uint8Array(offset);
  blobs.forEach((b, i) => bytes.set(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength), entries[i].offset));
  const name = dirName(state.step);
  const tmp = join(runDir, `${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeDurable(join(tmp, 'tensors.bin'), bytes);
  hooks.midWrite?.();
  const file: StateFile = { version: VERSION, state, tensors: entries };
  writeDurable(join(tmp, 'state.json'), JSON.stringify(file));
  syncDir(tmp);
  hooks.beforeCommit?.();
  const final = join(runDir, name);
  // Re-saving the same step (after a rollback) replaces it; latest.json cannot name it meanwhile
  // unless it is the current checkpoint, in which case the old copy is as good as the new one.
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameDurable(tmp, final);
  writeAtomic(join(runDir, LATEST), JSON.stringify({ dir: name, step: state.step }));
  for (const d of readdirSync(runDir)) {
    if (d !== name && /^ckpt-\d+(\.tmp-\d+)?$/.test(d)) rmSync(join(runDir, d), { recursive: true, force: true });
  }
  return final;
}

export interface Checkpoint {
  dir: string;
  state: LoopState;
  /** Puts the saved tensors into `t` (same architecture as when saved). */
  restore(t: Trainable): Promise<void>;
}

function readDir(dir: string): Checkpoint {
  const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StateFile;
  if (file.version !== VERSION) throw new Error(`Checkpoint ${dir} has format version ${file.version}; this synthset reads ${VERSION}.`);
  const bin = readFileSync(join(dir, 'tensors.bin'));
  const total = file.tensors.reduce((s, e) => Math.max(s, e.offset + e.length), 0);
  if (bin.length !== total) throw new Error(`Checkpoint ${dir} is incomplete (${bin.length} of ${total} bytes).`);
  const get = (key: string) => {
    const e = file.tensors.find((x) => x.key === key);
    if (!e) return null;
    const raw = new Uint8Array(bin.buffer, bin.byteOffset + e.offset, e.length).slice();
    const data = e.dtype === 'int32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
    return { shape: e.shape, dtype: e.dtype, data };
  };
  const tensorOf = (key: string) => {
    const b = get(key);
    if (!b) throw new Error(`Checkpoint ${dir} has no tensor "${key}": was it written by a different family or size?`);
    return tf.tensor(b.data, b.shape, b.dtype);
  };
  const setNet = (net: tf.LayersModel, prefix: string, what: string) => {
    const have = file.tensors.filter((e) => e.key.startsWith(prefix)).length;
    if (have !== net.weights.length) throw new Error(`Checkpoint ${dir}: ${what} has ${have} saved weights but the network ${net.weights.length}.`);
    const ts = net.weights.map((_, i) => tensorOf(`${prefix}${i}`));
    try {
      net.setWeights(ts);
    } finally {
      tf.dispose(ts);
    }
  };
  return {
    dir,
    state: file.state,
    async restore(t) {
      for (const [name, net] of Object.entries(t.nets)) setNet(net, `net/${name}/`, `network "${name}"`);
      if (t.ema) setNet(t.ema, 'ema/', 'the EMA generator');
      for (const [name, opt] of Object.entries(t.optimizers)) {
        const keys = file.tensors.filter((e) => e.key.startsWith(`opt/${name}/`))
          .sort((a, b) => Number(a.key.split('/')[2]) - Number(b.key.split('/')[2]));
        const values = keys.map((e) => ({ name: e.key.split('/').slice(3).join('/'), tensor: tensorOf(e.key) }));
        const old = await opt.getWeights();
        await opt.setWeights(values);
        // setWeights makes new variables from the given tensors (sharing their data), so the
        // tensors given and the replaced state are released here.
        const fresh = await opt.getWeights();
        const now = new Set(fresh.map((w) => w.tensor.id));
        tf.dispose(fresh.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
        tf.dispose(old.map((w) => w.tensor).filter((x) => !now.has(x.id)));
        tf.dispose(values.map((v) => v.tensor));
        for (const k of EXTRA_OPT_VARS) {
          const v = (opt as unknown as Record<string, unknown>)[k];
          const saved = get(`optx/${name}/${k}`);
          if (v instanceof tf.Variable && saved) tf.tidy(() => v.assign(tf.tensor(saved.data, saved.shape, saved.dtype)));
        }
      }
      for (const [key, pool] of poolEntries(t)) {
        if (!pool) continue;
        const p = get(key);
        pool.restore(p ? { shape: p.shape, data: p.data as Float32Array } : null);
      }
    },
  };
}

/** The current checkpoint of a run dir, or null when it has none. */
export function loadCheckpoint(runDir: string): Checkpoint | null {
  let name: string;
  try {
    name = (JSON.parse(readFileSync(join(runDir, LATEST), 'utf8')) as { dir: string }).dir;
  } catch {
    return null;
  }
  return readDir(join(runDir, name));
}
