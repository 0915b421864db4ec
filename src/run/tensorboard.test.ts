import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, appendFileSync } from 'node:fs';
import sharp from 'sharp';
import { tempDir } from '../data/test_images.js';
import { crc32c, decodeEvent, encodeEvent, frameRecord, maskedCrc32c, pngInfo, readEventFile, readRecords, SESSION_START, TensorBoardWriter } from './tensorboard.js';

// Python-style byte strings as they appear in published TF event-file fixtures.
const py = (s: string) => Buffer.from(s.replace(/\\x([0-9a-f]{2})|\\(.)|(.)/gs, (_m, hex, esc, ch) =>
  String.fromCharCode(hex ? parseInt(hex, 16) : esc ? ({ t: 9, n: 10, r: 13 } as Record<string, number>)[esc] ?? esc.charCodeAt(0) : ch.charCodeAt(0))), 'latin1');

test('CRC32C matches the standard check values (RFC 3720 B.4 and the "123456789" check)', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('masked CRC and framing reproduce a published event file byte for byte', () => {
  // A TensorBoard logger's test fixture: wall_time 256.5, then scalars v/1 = 1.5 at step 1, v/22 = 16 at step 2.
  const fixture = py('\\x18\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xa3\\x7fK"\\t\\x00\\x00\\x00\\x00\\x00\\x08p@\\x1a\\rbrain.Event:2\\xbc\\x98!+'
    + '\\x19\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x8b\\xf1\\x08(\\t\\x00\\x00\\x00\\x00\\x00\\x08p@\\x10\\x01*\\x0c\\n\\n\\n\\x03v/1\\x15\\x00\\x00\\xc0?,\\xec\\xc0\\x87'
    + '\\x1a\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x12\\x9b\\xd8-\\t\\x00\\x00\\x00\\x00\\x00\\x08p@\\x10\\x02*\\r\\n\\x0b\\n\\x04v/22\\x15\\x00\\x00\\x80A\\x8f\\xa3\\xb6\\x88');
  const len24 = Buffer.alloc(8);
  len24.writeBigUInt64LE(24n);
  assert.equal(maskedCrc32c(len24), 0x224b7fa3);
  const ours = Buffer.concat([
    frameRecord(encodeEvent({ wallTime: 256.5, fileVersion: 'brain.Event:2' })),
    frameRecord(encodeEvent({ wallTime: 256.5, step: 1, summary: { value: [{ tag: 'v/1', simpleValue: 1.5 }] } })),
    frameRecord(encodeEvent({ wallTime: 256.5, step: 2, summary: { value: [{ tag: 'v/22', simpleValue: 16 }] } })),
  ]);
  assert.deepEqual(ours, fixture);
  const events = readRecords(fixture).map(decodeEvent);
  assert.deepEqual(events.map((e) => e.step ?? 0), [0, 1, 2]);
  assert.equal(events[2].summary?.value[0].tag, 'v/22');
  // TF's own event_file_loader test record (file_version brain.Event:1)
  const tf = readRecords(py('\\x18\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xa3\\x7fK"\\t\\x00\\x00\\xc0%\\xddu\\xd5A\\x1a\\rbrain.Event:1\\xec\\xf32\\x8d')).map(decodeEvent);
  assert.equal(tf[0].fileVersion, 'brain.Event:1');
  assert.ok(Math.abs(tf[0].wallTime - 1440183447) < 1);
});

test('a corrupt record is refused, a torn last record dropped', () => {
  const rec = frameRecord(encodeEvent({ wallTime: 1, step: 3, summary: { value: [{ tag: 'x', simpleValue: 2 }] } }));
  const bad = Buffer.from(rec);
  bad[14] ^= 1;
  assert.throws(() => readRecords(bad), /bad data CRC/);
  assert.equal(readRecords(Buffer.concat([rec, rec.subarray(0, rec.length - 3)])).length, 1);
});

test('writer round trip: file name, version record, scalars and an image decode back; a resume starts a new file', async () => {
  const t = tempDir('synthset-tb-');
  try {
    const w = new TensorBoardWriter(t.dir, { now: 1700000000.25 });
    assert.match(w.file, /events\.out\.tfevents\.1700000000\.[^/]+$/);
    w.scalars(10, { step: 10, lossD: 1.25, lossG: 0.7, imgPerSec: 300, epoch: 0 });
    w.scalars(20, { step: 20, lossD: 1.5, lossG: NaN });
    const png = await sharp({ create: { width: 9, height: 5, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
    w.image(20, 'samples', png);
    const ev = readEventFile(w.file);
    assert.equal(ev[0].fileVersion, 'brain.Event:2');
    assert.equal(ev[0].wallTime, 1700000000.25);
    assert.deepEqual(ev[1].summary?.value.map((v) => [v.tag, v.simpleValue]), [['lossD', 1.25], ['lossG', Math.fround(0.7)], ['imgPerSec', 300], ['epoch', 0]]);
    assert.equal(ev[1].step, 10);
    assert.deepEqual(ev[2].summary?.value.map((v) => v.tag), ['lossD'], 'non-finite values are left out');
    const img = ev[3].summary!.value[0].image!;
    assert.deepEqual([img.width, img.height, img.colorspace], [9, 5, 3]);
    assert.deepEqual(Buffer.from(img.encodedImageString), png);
    const w2 = new TensorBoardWriter(t.dir, { now: 1700000000.5, resumeStep: 20 });
    assert.notEqual(w2.file, w.file);
    assert.equal(readEventFile(w2.file)[1].sessionLog?.status, SESSION_START);
    assert.equal(readdirSync(t.dir).length, 2);
    appendFileSync(w2.file, readFileSync(w2.file).subarray(0, 5));
    assert.equal(readEventFile(w2.file).length, 2);
    assert.deepEqual(pngInfo(await sharp(png).toColourspace('b-w').png().toBuffer()).colorspace, 1);
  } finally {
    t.done();
  }
});
