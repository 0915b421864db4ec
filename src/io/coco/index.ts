// COCO instances JSON from segmentation masks: `synthset coco`. One annotation per connected
// component of each thing class (components.ts), as a polygon list when the component has no holes
// (polygons.ts) and as compressed RLE when it has some, since a COCO polygon list cannot carry a hole;
// stuff classes give one RLE annotation per image and class, iscrowd 1, as COCO-stuff does.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, relative, sep } from 'node:path';
import sharp from 'sharp';
import { DataError, ProblemLog } from '../../data/errors.js';
import { listImages } from '../../data/scan.js';
import { writeAtomic } from '../../util/atomic.js';
import { hasHoles, labelComponents, regionBlocks, valueRegion, type Box } from './components.js';
import { parseLabels, type LabelClass } from '../../data/label_classes.js';
import { readLabelMap, valuesPresent, type LabelMap } from '../../data/label_map.js';
import { regionPolygons } from './polygons.js';
import { compressedRle } from './rle.js';

export { parseLabels, type LabelClass };

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0 | 1;
  segmentation: number[][] | { size: [number, number]; counts: string };
}

export interface CocoImage { id: number; file_name: string; width: number; height: number }
export interface CocoCategory { id: number; name: string; supercategory: string }

export interface CocoJson {
  info: { description: string; version: string; year: number; date_created: string; contributor: string; url: string };
  licenses: never[];
  images: CocoImage[];
  categories: CocoCategory[];
  annotations: CocoAnnotation[];
}

export interface ClassPlan {
  classes: LabelClass[];
  background: number | null;
  stuff: Set<number>;
}

/** Which class is background and which are stuff, from `--background <index>` and `--stuff <indices or names>`. */
export function planClasses(classes: LabelClass[], o: { background?: number; stuff?: string[] }, file: string): ClassPlan {
  let background: number | null = null;
  if (o.background !== undefined) {
    if (!classes.some((c) => c.index === o.background)) throw new Error(`--background ${o.background}: not a class index in ${file}`);
    background = o.background;
  } else {
    background = classes.find((c) => c.name.toLowerCase() === 'background')?.index ?? null;
  }
  const stuff = new Set<number>();
  for (const s of o.stuff ?? []) {
    const c = /^\d+$/.test(s) ? classes.find((k) => k.index === Number(s)) : classes.find((k) => k.name === s);
    if (!c) throw new Error(`--stuff ${s}: no class with that ${/^\d+$/.test(s) ? 'index' : 'name'} in ${file}`);
    if (c.index === background) throw new Error(`--stuff ${s}: that is the background class, which gets no annotations`);
    stuff.add(c.index);
  }
  return { classes, background, stuff };
}

/** An annotation before the JSON is put together, which numbers them. */
export type MaskAnnotation = Omit<CocoAnnotation, 'id' | 'image_id'>;

const bboxOf = (b: Box): [number, number, number, number] => [b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1];

/** The annotations of one label map. */
export function annotateMask(mask: LabelMap, plan: ClassPlan, minArea = 1): MaskAnnotation[] {
  const { width: w, height: h, data } = mask;
  const out: MaskAnnotation[] = [];
  const thing = (c: number) => c !== plan.background && !plan.stuff.has(c);
  for (const c of labelComponents(data, w, h, thing)) {
    if (c.area < minArea) continue;
    const blocks = regionBlocks(c);
    let segmentation: CocoAnnotation['segmentation'] | null = null;
    if (!hasHoles(blocks.grid, blocks.cols, blocks.rows)) {
      const p = regionPolygons(blocks);
      if (!p.holes && p.polygons.length > 0) segmentation = p.polygons;
    }
    segmentation ??= compressedRle(blocks, w, h);
    out.push({ category_id: c.classIndex, bbox: bboxOf(c.box), area: c.area, iscrowd: 0, segmentation });
  }
  for (const s of [...plan.stuff].sort((a, b) => a - b)) {
    const r = valueRegion(data, w, h, s);
    if (r.area === 0 || r.area < minArea) continue;
    out.push({ category_id: s, bbox: bboxOf(r.box), area: r.area, iscrowd: 1, segmentation: compressedRle(regionBlocks(r), w, h) });
  }
  return out;
}

/** Throws, naming the file and the values, when a map holds values that are not class indices. */
export function checkValues(mask: LabelMap, plan: ClassPlan, file: string, labelsFile: string): void {
  const known = new Set(plan.classes.map((c) => c.index));
  const stray = valuesPresent(mask.data).filter((v) => !known.has(v));
  if (stray.length > 0) {
    const shown = stray.slice(0, 10).join(', ') + (stray.length > 10 ? `, … (${stray.length} values)` : '');
    throw new Error(`${file}: mask values ${shown} are not class indices in ${labelsFile} (it has ${plan.classes.map((c) => c.index).join(', ')})`);
  }
}

export interface CocoOptions {
  images: string;
  masks: string;
  labels: string;
  out: string;
  background?: number;
  stuff?: string[];
  minArea?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CocoResult {
  out: string;
  images: number;
  annotations: number;
  polygons: number;
  rles: number;
  stuff: number;
  categories: number;
  imagesWithoutMask: string[];
  masksWithoutImage: string[];
}

function checkFolder(dir: string, what: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(dir, code === 'ENOENT' ? `no such folder (the ${what} folder)` : `cannot read folder (${code ?? err})`);
  }
  if (!st.isDirectory()) throw new DataError(dir, `not a folder (the ${what} folder)`);
}

/** Files under `dir` by their relative path without extension (a.jpg and a.png both key "a"). */
function byBaseName(dir: string, files: string[], what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of files) {
    const rel = relative(dir, f).split(sep).join('/');
    const key = rel.slice(0, rel.length - extname(rel).length);
    const twin = out.get(key);
    if (twin) throw new Error(`${what} ${twin} and ${f} share the base name "${key}": which one goes with its mask is ambiguous`);
    out.set(key, f);
  }
  return out;
}

export const packageVersion = (): string => (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The categories of a plan: every class but the background, by index; `category_id` is the class index. */
export function categoriesOf(plan: ClassPlan): CocoCategory[] {
  return plan.classes.filter((c) => c.index !== plan.background).sort((a, b) => a.index - b.index)
    .map((c) => ({ id: c.index, name: c.name, supercategory: plan.stuff.has(c.index) ? 'stuff' : 'thing' }));
}

/** Builds the instances JSON for every image with a mask of the same base name, and writes it atomically. */
export async function writeCoco(o: CocoOptions): Promise<CocoResult> {
  checkFolder(o.images, 'images');
  checkFolder(o.masks, 'masks');
  let labelText: string;
  try {
    labelText = readFileSync(o.labels, 'utf8');
  } catch (err) {
    throw new DataError(o.labels, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such labels file' : `cannot read the labels file (${(err as Error).message})`);
  }
  const plan = planClasses(parseLabels(labelText, o.labels), o, o.labels);
  const log = new ProblemLog(true);
  const images = byBaseName(o.images, listImages(o.images, log), 'images');
  const masks = byBaseName(o.masks, listImages(o.masks, log).filter((f) => extname(f).toLowerCase() === '.png'), 'masks');
  const pairs = [...images.keys()].filter((k) => masks.has(k));
  const result: CocoResult = {
    out: o.out, images: 0, annotations: 0, polygons: 0, rles: 0, stuff: 0, categories: 0,
    imagesWithoutMask: [...images.keys()].filter((k) => !masks.has(k)).map((k) => relative(o.images, images.get(k)!)),
    masksWithoutImage: [...masks.keys()].filter((k) => !images.has(k)).map((k) => relative(o.masks, masks.get(k)!)),
  };
  if (pairs.length === 0) {
    throw new Error(`no image in ${o.images} has a mask of the same base name in ${o.masks} (${images.size} images, ${masks.size} .png masks)`);
  }
  const categories = categoriesOf(plan);
  const json: CocoJson = {
    info: {
      description: `instances from the segmentation masks in ${o.masks} (synthset coco)`,
      version: packageVersion(), year: new Date().getFullYear(), date_created: new Date().toISOString(), contributor: '', url: '',
    },
    licenses: [], images: [], categories, annotations: [],
  };
  for (const [n, key] of pairs.entries()) {
    const imageFile = images.get(key)!;
    const maskFile = masks.get(key)!;
    const mask = await readLabelMap(maskFile);
    let meta: sharp.Metadata;
    try {
      meta = await sharp(imageFile).metadata();
    } catch (e) {
      throw new Error(`${imageFile}: cannot read the image (${(e as Error).message})`);
    }
    if (meta.width !== mask.width || meta.height !== mask.height) {
      throw new Error(`${maskFile} is ${mask.width}x${mask.height} but its image ${imageFile} is ${meta.width}x${meta.height}: a mask must match its image`);
    }
    checkValues(mask, plan, maskFile, o.labels);
    const imageId = n + 1;
    json.images.push({ id: imageId, file_name: relative(o.images, imageFile).split(sep).join('/'), width: mask.width, height: mask.height });
    for (const a of annotateMask(mask, plan, o.minArea ?? 1)) {
      json.annotations.push({ id: json.annotations.length + 1, image_id: imageId, ...a });
      if (a.iscrowd) result.stuff++;
      else if (Array.isArray(a.segmentation)) result.polygons++;
      else result.rles++;
    }
    o.onProgress?.(n + 1, pairs.length);
  }
  mkdirSync(dirname(o.out), { recursive: true });
  writeAtomic(o.out, JSON.stringify(json));
  return { ...result, images: json.images.length, annotations: json.annotations.length, categories: categories.length };
}
