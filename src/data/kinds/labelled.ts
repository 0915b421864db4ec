// ImageFolder layout: root/<class>/<images> (sub-folders of a class folder count for that class).
// Class order is the sorted folder names, so labels are the same on every machine.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { folderCacheDir, registerKind, requireFolder, fileList, type Dataset, type KindContext, type Source } from '../registry.js';
import { isImageName, listImages, listSubfolders } from '../scan.js';

export async function openLabelled(source: Source, ctx: KindContext): Promise<Dataset> {
  if (typeof source !== 'string') throw new Error('The labelled kind takes one folder (root/<class>/<images>).');
  const root = requireFolder(source, 'dataset');
  const { log } = ctx;
  const loose = safeList(root).filter((n) => isImageName(n) && isFile(join(root, n)));
  if (loose.length) {
    log.add(new DataError(join(root, loose[0]), `${loose.length} image(s) directly in the dataset folder are ignored`,
      'put each image in a folder named after its class: root/<class>/<image>'), join(root, loose[0]));
  }
  const classes = listSubfolders(root, log);
  const files: string[] = [];
  const labels: number[] = [];
  const kept: string[] = [];
  for (const name of classes) {
    const dir = join(root, name);
    const imgs = listImages(dir, log);
    if (!imgs.length) {
      log.add(new DataError(dir, `class folder "${name}" has no images`, 'add images to it or remove the folder'), dir);
      continue;
    }
    const label = kept.length;
    kept.push(name);
    for (const f of imgs) {
      files.push(f);
      labels.push(label);
    }
  }
  if (!files.length) {
    throw new DataError(root, 'no images found', `expected root/<class>/<image> with ${['jpg', 'png', 'webp', 'gif', 'tiff'].join('/')} files`);
  }
  const list = fileList(files, Int32Array.from(labels), folderCacheDir(root), ctx.decoder);
  return { ...list, kind: 'labelled', source: root, classes: kept, spec: ctx.spec, problems: log.problems, b: null };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

registerKind({ name: 'labelled', describe: 'root/<class>/<images>: one class per folder', open: openLabelled });
