// Two unpaired domains (CycleGAN style): two folders, or one folder holding A/ and B/. The lists
// are independent; each keeps its cache beside its own images.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { fileList, folderCacheDir, registerKind, requireFolder, type Dataset, type KindContext, type Source } from '../registry.js';
import { listImages } from '../scan.js';

function folders(source: Source): [string, string] {
  if (typeof source === 'string') return [join(source, 'A'), join(source, 'B')];
  if (source.length !== 2) throw new Error(`The unpaired kind takes two folders (domain A and B), got ${source.length}.`);
  return [source[0], source[1]];
}

export async function openUnpaired(source: Source, ctx: KindContext): Promise<Dataset> {
  const [a, b] = folders(source).map((d, i) => requireFolder(d, `unpaired dataset: domain ${'AB'[i]}`));
  const lists = [a, b].map((dir, i) => {
    const files = listImages(dir, ctx.log);
    if (!files.length) throw new DataError(dir, `no images found for domain ${'AB'[i]}`, 'add images to this folder');
    return fileList(files, null, folderCacheDir(dir), ctx.decoder);
  });
  return { ...lists[0], kind: 'unpaired', source: [a, b], classes: [], spec: ctx.spec, problems: ctx.log.problems, b: lists[1] };
}

registerKind({
  name: 'unpaired',
  describe: 'two folders (domain A and B), independent lists',
  // Two folders given together can only mean two domains.
  detect: (s) => typeof s !== 'string' && s.length === 2 && s.every((d) => existsSync(d)),
  open: openUnpaired,
});
