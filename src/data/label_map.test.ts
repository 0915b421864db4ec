// Label maps from PNG files: palette indices read from the PNG itself (checked against libvips'
// colours for the same file), grayscale through sharp, colour masks refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { readLabelMap, valuesPresent } from './label_map.js';

const root = mkdtempSync(join(tmpdir(), 'synthset-masks-'));
after(() => rmSync(root, { recursive: true, force: true }));

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A palette PNG written by hand: row y uses filter y % 5, so every unfilter path is exercised. */
function palettePng(w: number, h: number, depth: 1 | 2 | 4 | 8, idx: Uint8Array, palette: number[][]): Buffer {
  const stride = Math.ceil((w * depth) / 8);
  const rows: Buffer[] = [];
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < h; y++) {
    const line = Buffer.alloc(stride);
    for (let x = 0; x < w; x++) line[Math.floor((x * depth) / 8)] |= idx[y * w + x] << (8 - depth - ((x * depth) % 8));
    const f = y % 5;
    const out = Buffer.alloc(stride + 1);
    out[0] = f;
    for (let i = 0; i < stride; i++) {
      const a = i > 0 ? line[i - 1] : 0;
      const b = prev[i];
      const c = i > 0 ? prev[i - 1] : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      out[1 + i] = (line[i] - pred) & 0xff;
    }
    rows.push(out);
    prev = line;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = depth;
  ihdr[9] = 3;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('PLTE', Buffer.from(palette.flat())), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('reading masks', () => {
  test('palette PNGs at 1, 2, 4 and 8 bits give their indices, and libvips sees the same colours', async () => {
    for (const depth of [1, 2, 4, 8] as const) {
      const w = 13, h = 11, n = 2 ** depth;
      const idx = Uint8Array.from({ length: w * h }, (_, i) => ((i * 7 + (i >> 3)) % n));
      const palette = Array.from({ length: n }, (_, k) => [(k * 37) % 256, (k * 91 + 5) % 256, 255 - k]);
      const file = join(root, `pal${depth}.png`);
      writeFileSync(file, palettePng(w, h, depth, idx, palette));
      const m = await readLabelMap(file);
      assert.equal(m.width, w);
      assert.equal(m.height, h);
      assert.deepEqual([...m.data], [...idx], `depth ${depth}`);
      const { data } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
      for (let i = 0; i < w * h; i++) assert.deepEqual([...data.subarray(i * 3, i * 3 + 3)], palette[idx[i]], `depth ${depth} pixel ${i}`);
    }
  });

  test('a palette PNG written by libvips decodes to indices whose colours are the ones libvips reads', async () => {
    const w = 64, h = 40;
    const rgb = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) rgb.set([[200, 0, 0], [0, 120, 0], [0, 0, 90], [250, 250, 0]][(i % w >> 4) ^ ((i / w) >> 3 & 1)], i * 3);
    const file = join(root, 'vips-palette.png');
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png({ palette: true, dither: 0 }).toFile(file);
    assert.equal((await sharp(file).metadata()).isPalette, true);
    const m = await readLabelMap(file);
    const buf = readFileSync(file);
    let p = 8;
    let plte = Buffer.alloc(0);
    while (p < buf.length) {
      const len = buf.readUInt32BE(p);
      if (buf.toString('latin1', p + 4, p + 8) === 'PLTE') plte = buf.subarray(p + 8, p + 8 + len);
      p += 12 + len;
    }
    const { data } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    for (let i = 0; i < w * h; i++) assert.deepEqual([...data.subarray(i * 3, i * 3 + 3)], [...plte.subarray(m.data[i] * 3, m.data[i] * 3 + 3)], `pixel ${i}`);
    assert.equal(valuesPresent(m.data).length, 4);
  });

  test('grey at 8 and 16 bits, grey with alpha, grey saved as RGB(A) give the values; RGB with differing channels is refused', async () => {
    const w = 5, h = 3;
    const g8 = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 200]);
    // sharp writes one raw channel as RGB unless told b-w; the PNG colour type is checked so each
    // case is the format it claims to be (0 grey, 2 RGB, 4 grey + alpha, 6 RGBA).
    const write = async (name: string, data: Buffer | Uint16Array, channels: 1 | 2 | 3 | 4, colourType: number, opts: { colourspace?: string; interlaced?: boolean } = {}) => {
      let img = sharp(data, { raw: { width: w, height: h, channels } });
      const space = opts.colourspace ?? (channels <= 2 ? 'b-w' : undefined);
      if (space) img = img.toColourspace(space);
      await img.png({ progressive: !!opts.interlaced }).toFile(join(root, name));
      const head = readFileSync(join(root, name));
      assert.deepEqual([head[25], head[28]], [colourType, opts.interlaced ? 1 : 0], `${name}: colour type and interlace`);
    };
    const read = async (name: string) => [...(await readLabelMap(join(root, name))).data];
    await write('g8.png', g8, 1, 0);
    assert.deepEqual(await read('g8.png'), [...g8]);
    // A Uint16Array makes sharp take the raw input as 16-bit (sharp itself would read it back through a colour space).
    const g16 = new Uint16Array([0, 1, 300, 1000, 65535, 7, 7, 7, 7, 7, 2, 2, 2, 2, 2]);
    await write('g16.png', g16, 1, 0, { colourspace: 'grey16' });
    assert.equal((await sharp(join(root, 'g16.png')).metadata()).depth, 'ushort');
    assert.ok((await readLabelMap(join(root, 'g16.png'))).data instanceof Uint16Array);
    assert.deepEqual(await read('g16.png'), [...g16]);
    const spread = (channels: number, alpha = false) => {
      const b = Buffer.alloc(w * h * channels);
      for (let i = 0; i < w * h; i++) {
        b.fill(g8[i], i * channels, i * channels + channels);
        if (alpha) b[i * channels + channels - 1] = i * 13;
      }
      return b;
    };
    await write('ga.png', spread(2, true), 2, 4);
    assert.deepEqual(await read('ga.png'), [...g8]);
    await write('rgb-gray.png', spread(3), 3, 2);
    assert.deepEqual(await read('rgb-gray.png'), [...g8]);
    await write('rgba-gray.png', spread(4, true), 4, 6);
    assert.deepEqual(await read('rgba-gray.png'), [...g8]);
    await write('g8-interlaced.png', g8, 1, 0, { interlaced: true });
    assert.deepEqual(await read('g8-interlaced.png'), [...g8], 'interlaced, through sharp');
    const colour = spread(3);
    colour[3 * 7 + 1] = 99;
    await write('colour.png', colour, 3, 2);
    await assert.rejects(readLabelMap(join(root, 'colour.png')), /colour\.png: an RGB mask whose channels differ \(pixel 2,1 is 7,99,7\).*single-channel \(grayscale\) or palette PNG/);
    await write('colour-interlaced.png', colour, 3, 2, { interlaced: true });
    await assert.rejects(readLabelMap(join(root, 'colour-interlaced.png')), /colour-interlaced\.png: an RGB mask whose channels differ \(pixel 2,1 is 7,99,7\)/);
  });
});
