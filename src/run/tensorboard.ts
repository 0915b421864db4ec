// TensorBoard event files, so `tensorboard --logdir runs` shows a synthset run. The format is TF's
// TFRecord framing (uint64 length, masked CRC32C of the length, data, masked CRC32C of the data)
// around protobuf `Event` messages; only the few fields synthset writes are declared, with the field
// numbers of tensorflow/core/util/event.proto and framework/summary.proto. One file per process
// start, as TF writes them; a resumed run starts its file with SessionLog START at the resume step,
// which tells TensorBoard to drop the older files' points after that step.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    tensorboard: {
      nested: {
        Event: {
          // summary.proto and event.proto hold these in oneofs, which also keeps a 0.0 scalar on the wire.
          oneofs: { what: { oneof: ['fileVersion', 'summary', 'sessionLog'] } },
          fields: {
            wallTime: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            fileVersion: { type: 'string', id: 3 },
            summary: { type: 'Summary', id: 5 },
            sessionLog: { type: 'SessionLog', id: 6 },
          },
        },
        SessionLog: {
          fields: { status: { type: 'int32', id: 1 }, checkpointPath: { type: 'string', id: 2 }, msg: { type: 'string', id: 3 } },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Image: {
              fields: {
                height: { type: 'int32', id: 1 },
                width: { type: 'int32', id: 2 },
                colorspace: { type: 'int32', id: 3 },
                encodedImageString: { type: 'bytes', id: 4 },
              },
            },
            Value: {
              oneofs: { value: { oneof: ['simpleValue', 'image'] } },
              fields: {
                tag: { type: 'string', id: 1 },
                simpleValue: { type: 'float', id: 2 },
                image: { type: 'Image', id: 4 },
              },
            },
          },
        },
      },
    },
  },
});
const EventType = root.lookupType('tensorboard.Event');

/** SessionLog.SessionStatus.START */
export const SESSION_START = 1;

export interface TbImage { height: number; width: number; colorspace: number; encodedImageString: Uint8Array }
export interface TbValue { tag: string; simpleValue?: number; image?: TbImage }
export interface TbEvent {
  wallTime: number;
  step?: number;
  fileVersion?: string;
  summary?: { value: TbValue[] };
  sessionLog?: { status: number; checkpointPath?: string; msg?: string };
}

// CRC32C (Castagnoli, reflected polynomial 0x82f63b78), table-driven.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TF's masked CRC: a CRC of data that itself holds CRCs is weak, so the stored value is rotated and offset. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length (u64 LE), masked CRC of those 8 bytes, the data, masked CRC of the data. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

export class TbFormatError extends Error {}

/** The records of a TFRecord buffer, each CRC checked; a torn last record (a kill mid-write) is dropped. */
export function readRecords(buf: Uint8Array, where = 'event file'): Uint8Array[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off + 12 <= b.length) {
    const len = Number(b.readBigUInt64LE(off));
    if (b.readUInt32LE(off + 8) !== maskedCrc32c(b.subarray(off, off + 8))) throw new TbFormatError(`${where}: bad length CRC at byte ${off}`);
    if (off + 12 + len + 4 > b.length) break;
    const data = b.subarray(off + 12, off + 12 + len);
    if (b.readUInt32LE(off + 12 + len) !== maskedCrc32c(data)) throw new TbFormatError(`${where}: bad data CRC at byte ${off}`);
    out.push(data);
    off += 12 + len + 4;
  }
  return out;
}

export function encodeEvent(e: TbEvent): Uint8Array {
  const err = EventType.verify(e);
  if (err) throw new TbFormatError(`bad event: ${err}`);
  return EventType.encode(EventType.fromObject(e)).finish();
}

export function decodeEvent(data: Uint8Array): TbEvent {
  return EventType.toObject(EventType.decode(data), { longs: Number, bytes: Buffer, defaults: false }) as TbEvent;
}

/** Every event of one events.out.tfevents.* file. */
export function readEventFile(file: string): TbEvent[] {
  return readRecords(readFileSync(file), file).map(decodeEvent);
}

/** PNG width, height and TensorBoard colorspace (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) from its IHDR. */
export function pngInfo(png: Uint8Array): { width: number; height: number; colorspace: number } {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 26 || b.readUInt32BE(0) !== 0x89504e47 || b.toString('latin1', 12, 16) !== 'IHDR') throw new TbFormatError('not a PNG');
  const colorspace = ({ 0: 1, 4: 2, 2: 3, 6: 4, 3: 3 } as Record<number, number>)[b[25]] ?? 3;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), colorspace };
}

/** Appends events to `<dir>/events.out.tfevents.<unix secs>.<host>`, one file per writer. */
export class TensorBoardWriter {
  readonly file: string;

  constructor(dir: string, opts: { resumeStep?: number; now?: number } = {}) {
    mkdirSync(dir, { recursive: true });
    const now = opts.now ?? Date.now() / 1000;
    // Two writers started in the same second (tests) must not share a file.
    let name = `events.out.tfevents.${Math.floor(now)}.${hostname()}`;
    this.file = join(dir, name);
    for (let i = 1; existsSync(this.file); i++) {
      name = `events.out.tfevents.${Math.floor(now)}.${hostname()}.${i}`;
      this.file = join(dir, name);
    }
    this.write({ wallTime: now, fileVersion: 'brain.Event:2' });
    if (opts.resumeStep !== undefined) this.write({ wallTime: now, step: opts.resumeStep, sessionLog: { status: SESSION_START } });
  }

  write(e: TbEvent): void {
    // Synchronous appends: a line per log interval is cheap, and a crash loses at most a torn tail.
    appendFileSync(this.file, frameRecord(encodeEvent(e)));
  }

  /** One scalar per numeric value except the step itself. */
  scalars(step: number, values: Record<string, number>, wallTime = Date.now() / 1000): void {
    const value = Object.entries(values).filter(([k, v]) => k !== 'step' && Number.isFinite(v)).map(([tag, simpleValue]) => ({ tag, simpleValue }));
    if (value.length) this.write({ wallTime, step, summary: { value } });
  }

  image(step: number, tag: string, png: Uint8Array, wallTime = Date.now() / 1000): void {
    const info = pngInfo(png);
    this.write({ wallTime, step, summary: { value: [{ tag, image: { ...info, encodedImageString: png } }] } });
  }
}
