// The `onednn` backend: the tfjs `cpu` backend's storage and every one of its kernels, with a
// pool for the buffers our native kernels write. Fresh large arrays cost milliseconds of
// page faults each; a buffer goes back to the pool only if it never escaped to user code
// (readSync hands out the backing array) and no other tensor views it (Slice returns subarrays).
import type { DataId, TensorInfo, DataType } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

const POOL_LIMIT_BYTES = 512 * 1024 * 1024;

export class OneDnnBackend extends MathBackendCPU {
  /** Free buffers by byte length. */
  private pool = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;
  /** Buffers handed out by `alloc`/`allocBytes`, mapped to whether they escaped. */
  private owned = new WeakMap<ArrayBufferLike, { escaped: boolean }>();

  constructor() {
    super();
    quiet(this);
  }

  private buffer(bytes: number): ArrayBuffer {
    let buf = this.pool.get(bytes)?.pop();
    if (buf) this.pooledBytes -= bytes;
    else buf = new ArrayBuffer(bytes);
    this.owned.set(buf, { escaped: false });
    return buf;
  }

  alloc(size: number): Float32Array {
    return new Float32Array(this.buffer(size * 4));
  }

  allocBytes(size: number): Uint8Array {
    return new Uint8Array(this.buffer(size));
  }

  /** Wraps a freshly written array as a tensor of this backend. */
  output(shape: number[], values: Float32Array | Uint8Array | Int32Array, dtype: DataType = 'float32'): TensorInfo {
    return { dataId: this.write(values, shape, dtype), shape, dtype };
  }

  // `cpu`'s Cast relabels storage without converting (bool -> float32 keeps a Uint8Array), so the
  // array type is checked, and converted in the rare mismatch.
  values(t: TensorInfo): Float32Array {
    const v = this.data.get(t.dataId)!.values;
    return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
  }

  bytes(t: TensorInfo): Uint8Array {
    const v = this.data.get(t.dataId)!.values;
    return v instanceof Uint8Array ? v : Uint8Array.from(v as ArrayLike<number>);
  }

  /** Called on every output of a forwarded `cpu` kernel: a pooled buffer it references is now shared. */
  markShared(t: TensorInfo): void {
    const v = this.data.get(t.dataId)?.values as ArrayBufferView | undefined;
    if (v?.buffer) {
      const o = this.owned.get(v.buffer);
      if (o) o.escaped = true;
    }
  }

  override readSync(dataId: DataId) {
    const vals = super.readSync(dataId);
    const buf = (vals as ArrayBufferView).buffer;
    if (buf) {
      const o = this.owned.get(buf);
      if (o) o.escaped = true;
    }
    return vals;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const entry = this.data.get(dataId);
    const values = entry?.values as ArrayBufferView | undefined;
    const gone = super.disposeData(dataId, force);
    if (gone && values?.buffer) this.recycle(values);
    return gone;
  }

  private recycle(values: ArrayBufferView): void {
    const buf = values.buffer as ArrayBuffer;
    const o = this.owned.get(buf);
    if (!o || o.escaped || values.byteOffset !== 0 || values.byteLength !== buf.byteLength) return;
    if (this.pooledBytes + buf.byteLength > POOL_LIMIT_BYTES) return;
    this.owned.delete(buf);
    let list = this.pool.get(buf.byteLength);
    if (!list) this.pool.set(buf.byteLength, (list = []));
    list.push(buf);
    this.pooledBytes += buf.byteLength;
  }

  /** Empties the pool (tests and memory reports). */
  drainPool(): void {
    this.pool.clear();
    this.pooledBytes = 0;
  }

  override dispose(): void {
    this.drainPool();
    super.dispose();
  }
}

/** Silences the `cpu` backend's first-write advice to install tfjs-node, which cannot install here. */
export function quiet(b: MathBackendCPU): void {
  (b as unknown as { firstUse: boolean }).firstUse = false;
}
