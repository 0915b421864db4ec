// Label-map datasets: (photo, label map) pairs where the map holds one class index per pixel, as
// segmentation sets ship them (CMP facades: photo/*.jpg, label/*.png, label_names.txt). Domain A is
// the maps (one channel of class indices, whatever the spec's channels), domain B the photos. Maps
// are index PNGs read exactly, or colour maps read through a palette file; they are cropped and
// resized by nearest neighbour only, and a map with a value that is no class is a problem naming it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { checkClassValues, parseLabels, parsePalette, type LabelMapInfo } from '../label_classes.js';
import { fitLabelMap, readColourMap, readLabelMap, valuesPresent } from '../label_map.js';
import { fileList, folderCacheDir, registerKind, requireFolder, statFingerprint, type Dataset, type KindContext, type Source } from '../registry.js';
import { listImages } from '../scan.js';
import { openPairs } from './paired.js';

const MAP_DIRS = ['label', 'labels', 'masks', 'A'];
const PHOTO_DIRS = ['photo', 'photos', 'images', 'B'];
const LABEL_FILES = ['label_names.txt', 'labels.txt'];
const PALETTE_FILE = 'palette.txt';

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const firstDir = (root: string, names: string[]) => names.map((n) => join(root, n)).find(isDir) ?? null;
const firstFile = (root: string, names: string[]) => names.map((n) => join(root, n)).find((f) => existsSync(f)) ?? null;

/** A folder with a maps folder and a labels or palette file. */
export function isLabelMapSource(s: Source): boolean {
  return typeof s === 'string' && isDir(s) && firstDir(s, MAP_DIRS) !== null && firstFile(s, [...LABEL_FILES, PALETTE_FILE]) !== null;
}

export async function openLabelMaps(source: Source, ctx: KindContext): Promise<Dataset> {
  if (typeof source !== 'string') throw new Error('The labelmap kind takes one folder holding label/ (maps), photo/ (photos) and label_names.txt.');
  const root = requireFolder(source, 'dataset');
  if (ctx.spec.fit !== 'crop') throw new DataError(root, `label maps are cropped, not padded (fit ${ctx.spec.fit}): padding would need a class for the border`, 'use fit crop');
  const mapDir = firstDir(root, MAP_DIRS);
  if (!mapDir) throw new DataError(root, `no label-map folder (${MAP_DIRS.join('/, ')}/)`, 'put the class-index maps in root/label/');
  const paletteFile = typeof ctx.options.palette === 'string' ? resolve(ctx.options.palette) : firstFile(root, [PALETTE_FILE]);
  const labelsFile = typeof ctx.options.labels === 'string' ? resolve(ctx.options.labels) : firstFile(root, LABEL_FILES);
  const classesFile = paletteFile ?? labelsFile;
  if (!classesFile) throw new DataError(root, `no labels file (${LABEL_FILES.join(' or ')}) or ${PALETTE_FILE}`, 'add one line "<index> <name>" per class');
  let text: string;
  try {
    text = readFileSync(classesFile, 'utf8');
  } catch (err) {
    throw new DataError(classesFile, `cannot read the classes file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const palette = paletteFile ? parsePalette(text, classesFile) : null;
  const classes = palette ?? parseLabels(text, classesFile);
  const width = Math.max(...classes.map((c) => c.index)) + 1;
  if (width > 256) throw new DataError(classesFile, `class index ${width - 1} is above 255`, 'training takes label maps with class indices 0..255');
  const known = new Set(classes.map((c) => c.index));
  const colours = palette ? new Map(palette.map((c) => [c.index, c.colour])) : null;
  const tolerance = typeof ctx.options.tolerance === 'number' ? ctx.options.tolerance : 0;
  const decodeMap = async (file: string, size: number): Promise<Uint8Array> => {
    let map;
    try {
      map = colours ? await readColourMap(file, colours, tolerance) : await readLabelMap(file);
    } catch (err) {
      throw new DataError(file, (err as Error).message.replace(`${file}: `, ''));
    }
    checkClassValues(valuesPresent(map.data), known, file, classesFile);
    return fitLabelMap(map, size);
  };

  const photoDir = firstDir(root, PHOTO_DIRS.filter((d) => join(root, d) !== mapDir));
  const cache = folderCacheDir(root);
  // The classes file decides which maps pass the check, so it is part of the cache key.
  const stamp = `${classesFile}\n${text}\ntolerance=${tolerance}`;
  const info: LabelMapInfo = { classes, width, colours: palette ? palette.map((c) => [c.index, (c.colour[0] << 16) | (c.colour[1] << 8) | c.colour[2]]) : null, classesFile };
  const names = Array.from({ length: width }, (_, i) => classes.find((c) => c.index === i)?.name ?? '');
  const mapsOf = (files: string[]) => ({
    ...fileList(files, null, cache, ctx.decoder), channels: 1 as const,
    decode: (i: number, spec: { size: number }) => decodeMap(files[i], spec.size),
    fingerprint: () => `${statFingerprint(files)}\n${stamp}`,
  });
  const base = { kind: 'labelmap', source: root, classes: names, spec: ctx.spec, problems: ctx.log.problems, labelMap: info };
  if (!photoDir) {
    const files = listImages(mapDir, ctx.log);
    if (!files.length) throw new DataError(mapDir, 'no label maps found', 'add .png class-index maps');
    return { ...mapsOf(files), ...base, b: null };
  }
  const { filesA, filesB } = openPairs(root, mapDir, photoDir, ctx.log, 'maps', 'photos');
  return { ...mapsOf(filesA), ...base, b: fileList(filesB, null, cache, ctx.decoder) };
}

registerKind({
  name: 'labelmap',
  describe: 'root/label/<name>.png (class indices) with root/photo/<name>.<ext> and label_names.txt (or palette.txt)',
  detect: isLabelMapSource,
  open: openLabelMaps,
});
