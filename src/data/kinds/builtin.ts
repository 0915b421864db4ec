// Builtin datasets read from their npm packages: per-class JSON files of 28x28 grey images.
// fashion-mnist stores each image as an array of 784 bytes (class 0 holds two empty entries, which
// are skipped; the package's own `length` helper miscounts, so the arrays are read directly);
// mnist stores each class as one flat array of 0..1 floats. Both are kept as compact bytes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { writeAtomic } from '../../util/atomic.js';
import { DataError } from '../errors.js';
import type { ImageSpec } from '../image.js';
import { registerKind, userCacheDir, type Dataset, type KindContext, type Source } from '../registry.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

interface Builtin { pkg: string; folder: string; classes: string[]; layout: 'nested-bytes' | 'flat-unit' }

export const BUILTINS: Record<string, Builtin> = {
  'fashion-mnist': {
    pkg: 'fashion-mnist', folder: 'src/clothes', layout: 'nested-bytes',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
  mnist: { pkg: 'mnist', folder: 'src/digits', layout: 'flat-unit', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
};

const builtinName = (s: Source) => (typeof s === 'string' ? s.replace(/^builtin:/, '') : '');

/** `builtin:<name>` always; a bare name only when no file or folder of that name exists. */
export const isBuiltin = (s: Source): boolean =>
  typeof s === 'string' && Object.hasOwn(BUILTINS, builtinName(s)) && (s.startsWith('builtin:') || !existsSync(s));

function packageDir(pkg: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new DataError(pkg, 'npm package not installed', `run npm install ${pkg}`);
  }
}

/** One class file as `n * 784` bytes, skipping entries that are not full images. */
export function readClass(file: string, layout: Builtin['layout']): Uint8Array {
  let data: unknown;
  try {
    data = (JSON.parse(readFileSync(file, 'utf8')) as { data: unknown }).data;
  } catch (err) {
    throw new DataError(file, `cannot read builtin class file (${(err as Error).message})`, 'reinstall the package (npm ci)');
  }
  if (!Array.isArray(data)) throw new DataError(file, 'unexpected layout: no "data" array', 'reinstall the package (npm ci)');
  if (layout === 'flat-unit') {
    const n = Math.floor(data.length / PIXELS);
    const out = new Uint8Array(n * PIXELS);
    for (let i = 0; i < out.length; i++) out[i] = Math.round((data[i] as number) * 255);
    return out;
  }
  const ok = data.filter((img): img is number[] => Array.isArray(img) && img.length === PIXELS);
  const out = new Uint8Array(ok.length * PIXELS);
  ok.forEach((img, i) => out.set(img, i * PIXELS));
  return out;
}

/** Resizes one 28x28 grey image to the spec; grey is repeated for 3 channels. */
export async function resizeGrey(pixels: Uint8Array, spec: ImageSpec): Promise<Uint8Array> {
  const grey = spec.size === SIDE ? Buffer.from(pixels)
    : await sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } }).resize(spec.size, spec.size).toColourspace('b-w').raw().toBuffer();
  if (spec.channels === 1) return new Uint8Array(grey.buffer, grey.byteOffset, grey.byteLength);
  const out = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = grey[i];
  return out;
}

function pickClasses(all: string[], want: unknown): number[] {
  if (want === undefined) return all.map((_, i) => i);
  if (!Array.isArray(want)) throw new Error('The builtin `classes` option takes a list of class names or indices.');
  return want.map((c) => {
    const i = typeof c === 'number' ? c : all.indexOf(String(c));
    if (!Number.isInteger(i) || i < 0 || i >= all.length) throw new Error(`Unknown class ${JSON.stringify(c)}: use one of ${all.join(', ')}.`);
    return i;
  });
}

// Images per class, stored beside the decoded caches and keyed by the class files' size and mtime:
// a reopen with a valid decoded cache then needs no parse of the package's ~150 MB of JSON
// (2-3 s of every run's start-up). A missing, stale or corrupt index is rebuilt by parsing.
function readCounts(file: string, stamp: string, classIds: number[]): number[] | null {
  try {
    const f = JSON.parse(readFileSync(file, 'utf8')) as { stamp?: unknown; counts?: unknown };
    const counts = f.counts;
    if (f.stamp !== stamp || !Array.isArray(counts) || counts.length !== classIds.length
      || !counts.every((n) => Number.isInteger(n) && n >= 0)) return null;
    return counts as number[];
  } catch {
    return null;
  }
}

export async function openBuiltin(source: Source, ctx: KindContext): Promise<Dataset> {
  const name = builtinName(source);
  const def = BUILTINS[name];
  if (!def) throw new Error(`Unknown builtin dataset "${String(source)}": use one of ${Object.keys(BUILTINS).join(', ')}.`);
  const dir = packageDir(def.pkg);
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const classIds = pickClasses(def.classes, ctx.options.classes);
  const limit = ctx.options.limit === undefined ? Infinity : Number(ctx.options.limit);
  const files: string[] = [];
  const labels: number[] = [];
  const inClass: number[] = [];
  const where: [number, number][] = []; // item -> (class position, offset)
  const stamp: string[] = [`${def.pkg}@${version}`, `limit=${limit}`];
  const classFiles = classIds.map((c) => join(dir, def.folder, `${c}.json`));
  classFiles.forEach((file, k) => {
    const st = statSync(file);
    stamp.push(`${classIds[k]}\t${st.size}\t${st.mtimeMs}`);
  });
  const cacheDir = join(userCacheDir(), name);
  const indexFile = join(cacheDir, `index-${createHash('sha256').update(stamp.join('\n')).digest('hex').slice(0, 20)}.json`);
  const parsed = new Map<number, Uint8Array>();
  const classBytes = (k: number): Uint8Array => {
    let b = parsed.get(k);
    if (!b) parsed.set(k, (b = readClass(classFiles[k], def.layout)));
    return b;
  };
  let counts = readCounts(indexFile, stamp.join('\n'), classIds);
  if (!counts) {
    counts = classIds.map((_, k) => classBytes(k).length / PIXELS);
    try {
      mkdirSync(cacheDir, { recursive: true });
      writeAtomic(indexFile, JSON.stringify({ stamp: stamp.join('\n'), counts }));
    } catch {
      // a read-only cache dir only costs the next open the parse again
    }
  }
  classIds.forEach((c, k) => {
    const n = Math.min(counts[k], limit);
    for (let j = 0; j < n; j++) {
      files.push(`${name}/${c}/${j}`);
      labels.push(c);
      inClass.push(j);
      where.push([k, j]);
    }
  });
  // Labels stay the package's class ids, so a subset keeps the full class list.
  return {
    kind: 'builtin',
    source: name,
    classes: def.classes.slice(),
    spec: ctx.spec,
    problems: ctx.log.problems,
    b: null,
    files,
    count: files.length,
    labels: Int32Array.from(labels),
    builtinIndices: Int32Array.from(inClass),
    defaultCacheDir: cacheDir,
    decode: (i, spec) => {
      const [k, j] = where[i];
      const bytes = classBytes(k);
      if ((j + 1) * PIXELS > bytes.length) {
        throw new DataError(classFiles[k], `holds ${bytes.length / PIXELS} images, fewer than its index says`, `delete ${indexFile}`);
      }
      return resizeGrey(bytes.subarray(j * PIXELS, (j + 1) * PIXELS), spec);
    },
    fingerprint: () => stamp.join('\n'),
  };
}

registerKind({ name: 'builtin', describe: `builtin datasets: ${Object.keys(BUILTINS).join(', ')}`, detect: isBuiltin, open: openBuiltin });
