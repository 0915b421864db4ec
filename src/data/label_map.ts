// Label maps as class indices, exactly as stored; colour maps through a palette; resizing by nearest
// neighbour only, since a blend of two class indices is a third class. sharp (libvips) expands a
// palette PNG to its colours, so the indices of palette masks (the usual format of segmentation
// datasets: CMP facades, Pascal VOC) would be lost, and it converts 16-bit grey through a colour
// space; so PNG masks are decoded here from their own chunks (node:zlib and the five PNG filters):
// palette indices, grey at 1 to 16 bits, or RGB(A) whose three channels agree everywhere (a grey map
// saved as RGB); alpha is ignored. An RGB mask whose channels differ is a colour-coded map, which has
// no indices to read: it is refused, naming the file. Interlaced PNGs, rare for masks, go through
// sharp (which keeps 8-bit grey as it is).
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';

export interface LabelMap {
  width: number;
  height: number;
  /** Row-major class indices. */
  data: Uint8Array | Uint16Array;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

const isPng = (buf: Buffer) => buf.length >= 33 && buf.subarray(0, 8).equals(PNG_SIGNATURE);

function colourMaskError(file: string, x: number, y: number, rgb: number[]): Error {
  return new Error(`${file}: an RGB mask whose channels differ (pixel ${x},${y} is ${rgb.join(',')}); `
    + 'a mask must hold one class index per pixel: save it as a single-channel (grayscale) or palette PNG');
}

/** Reverses one row's PNG filter in place of `line` (bpp = bytes per complete pixel, at least 1). */
function unfilter(filter: number, raw: Buffer, off: number, line: Uint8Array, prev: Uint8Array, bpp: number, file: string, y: number): void {
  const n = line.length;
  // One loop per filter type rather than a switch per byte: this is most of the time spent on a mask.
  if (filter === 0) line.set(raw.subarray(off, off + n));
  else if (filter === 1) {
    for (let i = 0; i < n; i++) line[i] = (raw[off + i] + (i >= bpp ? line[i - bpp] : 0)) & 0xff;
  } else if (filter === 2) {
    for (let i = 0; i < n; i++) line[i] = (raw[off + i] + prev[i]) & 0xff;
  } else if (filter === 3) {
    for (let i = 0; i < n; i++) line[i] = (raw[off + i] + (((i >= bpp ? line[i - bpp] : 0) + prev[i]) >> 1)) & 0xff;
  } else if (filter === 4) {
    for (let i = 0; i < n; i++) {
      const a = i >= bpp ? line[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      line[i] = (raw[off + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
    }
  } else {
    throw new Error(`${file}: damaged PNG (filter type ${filter} on row ${y})`);
  }
}

/** The stored samples of a non-interlaced PNG as class indices; null for an interlaced one. */
export function decodePng(buf: Buffer, file: string): LabelMap | null {
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const depth = buf[24];
  const colourType = buf[25];
  const channels = CHANNELS[colourType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new Error(`${file}: not a valid PNG (colour type ${colourType}, bit depth ${depth})`);
  if (buf[28] !== 0) return null;
  const idat: Buffer[] = [];
  for (let p = 8; p + 8 <= buf.length;) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    if (type === 'IDAT') idat.push(buf.subarray(p + 8, p + 8 + len));
    if (type === 'IEND') break;
    p += 12 + len;
  }
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new Error(`${file}: damaged PNG image data (${(e as Error).message})`);
  }
  const bits = channels * depth;
  const stride = Math.ceil((width * bits) / 8);
  if (raw.length < height * (stride + 1)) throw new Error(`${file}: truncated PNG image data`);
  const bpp = Math.max(1, bits >> 3);
  const data = depth === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  let prev = new Uint8Array(stride);
  let line = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const off = y * (stride + 1);
    unfilter(raw[off], raw, off + 1, line, prev, bpp, file, y);
    const row = y * width;
    if (depth < 8) {
      const perByte = 8 / depth;
      const mask = (1 << depth) - 1;
      for (let x = 0; x < width; x++) data[row + x] = (line[Math.floor(x / perByte)] >> (8 - depth * ((x % perByte) + 1))) & mask;
    } else if (channels === 1 && depth === 8) {
      data.set(line, row);
    } else {
      const bytes = depth >> 3;
      const sample = depth === 16 ? (i: number) => (line[i] << 8) | line[i + 1] : (i: number) => line[i];
      for (let x = 0; x < width; x++) {
        const at = x * channels * bytes;
        const v = sample(at);
        if (channels >= 3) {
          const g = sample(at + bytes);
          const b = sample(at + 2 * bytes);
          if (g !== v || b !== v) throw colourMaskError(file, x, y, [v, g, b]);
        }
        data[row + x] = v;
      }
    }
    [prev, line] = [line, prev];
  }
  return { width, height, data };
}

/** Reads a mask file as class indices; see the file comment for the formats taken. */
export async function readLabelMap(file: string): Promise<LabelMap> {
  const buf = readFileSync(file);
  const png = isPng(buf) ? decodePng(buf, file) : null;
  if (png) return png;
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf).metadata();
  } catch (e) {
    throw new Error(`${file}: cannot read the mask (${(e as Error).message})`);
  }
  // Here: an interlaced PNG, or another format under a .png name.
  if (meta.isPalette || meta.depth !== 'uchar') {
    throw new Error(`${file}: ${meta.isPalette ? 'palette' : `${meta.depth} sample`} mask that is interlaced or not a PNG; save it as a non-interlaced PNG`);
  }
  const { data: src, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const ch = info.channels;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = src[i * ch];
    if (ch >= 3 && (src[i * ch + 1] !== v || src[i * ch + 2] !== v)) {
      throw colourMaskError(file, i % info.width, Math.floor(i / info.width), [v, src[i * ch + 1], src[i * ch + 2]]);
    }
    data[i] = v;
  }
  return { width: info.width, height: info.height, data };
}

/** Class values present in a map, ascending. */
export function valuesPresent(data: Uint8Array | Uint16Array): number[] {
  const seen = new Uint8Array(65536);
  for (let i = 0; i < data.length; i++) seen[data[i]] = 1;
  const out: number[] = [];
  for (let v = 0; v < seen.length; v++) if (seen[v]) out.push(v);
  return out;
}

/**
 * A map centre-cropped to a square and resized to `size` x `size` by nearest neighbour, the same
 * window as decodeImage's `crop` fit takes of its photo: every output value is a value of the map,
 * never a blend of two classes.
 */
export function fitLabelMap(map: LabelMap, size: number): Uint8Array {
  const { width: w, height: h, data } = map;
  const m = Math.min(w, h), ox = (w - m) / 2, oy = (h - m) / 2, step = m / size;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(h - 1, Math.floor(oy + (y + 0.5) * step));
    for (let x = 0; x < size; x++) {
      const v = data[sy * w + Math.min(w - 1, Math.floor(ox + (x + 0.5) * step))];
      if (v > 255) throw new Error(`class index ${v} at (${x}, ${y}) of the resized map: label maps for training hold indices 0..255`);
      out[y * size + x] = v;
    }
  }
  return out;
}

/**
 * A colour-coded map read as class indices through `palette` (index -> RGB): each pixel takes the
 * class of the nearest palette colour when it is within `tolerance` (max channel difference; JPEG
 * maps need some), and is a stray colour otherwise. Throws naming the file and the first strays.
 */
export async function readColourMap(file: string, palette: ReadonlyMap<number, readonly number[]>, tolerance = 0): Promise<LabelMap> {
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${file}: cannot read the colour map (${(e as Error).message.split('\n')[0]})`);
  }
  const { data: src, info } = raw;
  const entries = [...palette];
  const n = info.width * info.height, ch = info.channels;
  const data = new Uint16Array(n);
  const memo = new Map<number, number>();
  const stray = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = src[i * ch], g = src[i * ch + 1], b = src[i * ch + 2];
    const key = (r << 16) | (g << 8) | b;
    let cls = memo.get(key);
    if (cls === undefined) {
      let best = -1, bestD = Infinity;
      for (const [k, c] of entries) {
        const d = Math.max(Math.abs(c[0] - r), Math.abs(c[1] - g), Math.abs(c[2] - b));
        if (d < bestD) [best, bestD] = [k, d];
      }
      cls = bestD <= tolerance ? best : -1;
      memo.set(key, cls);
    }
    if (cls < 0) stray.add(`#${key.toString(16).padStart(6, '0')}`);
    else data[i] = cls;
  }
  if (stray.size) {
    const shown = [...stray].slice(0, 8).join(', ') + (stray.size > 8 ? `, … (${stray.size} colours)` : '');
    throw new Error(`${file}: colours ${shown} are not in the palette (within ${tolerance} per channel): fix the map, add the colours to the palette file, or raise the tolerance`);
  }
  return { width: info.width, height: info.height, data };
}
