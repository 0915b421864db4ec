// `synthset coco --images <dir> --masks <dir> --labels <file> --out <file>`: a COCO instances JSON
// from segmentation masks (a.jpg ↔ a.png). Outside scripts call it, so flags and output stay as they are.
import type { Command } from 'commander';
import { writeCoco } from '../io/coco/index.js';
import { parseIntArg } from './data.js';
import { withProgress } from './progress.js';

interface Flags {
  images?: string; masks?: string; labels?: string; out?: string;
  background?: number; stuff?: string; minArea: number; quiet?: boolean;
}

const SHOWN = 5;

/** "3 images without a mask, skipped: a.jpg, b.jpg, c.jpg": a count and the first few names. */
function unmatchedLine(names: string[], what: string): string {
  const list = names.slice(0, SHOWN).join(', ') + (names.length > SHOWN ? ', …' : '');
  return `synthset: ${names.length} ${what}, skipped: ${list}`;
}

export function registerCocoCommand(program: Command): Command {
  return program.command('coco')
    .description('write a COCO instances JSON from segmentation masks: one annotation per connected component of each class')
    .option('--images <dir>', 'folder of images (file_name is relative to it)')
    .option('--masks <dir>', 'folder of single-channel or palette PNG label maps, one per image, same base name (a.jpg <-> a.png)')
    .option('--labels <file>', 'one class per line: "<index> <name>", further columns ignored')
    .option('--out <file>', 'the annotations JSON (written atomically)')
    .option('--background <index>', 'class without annotations (default: the class named background)', parseIntArg(0, 65535))
    .option('--stuff <classes>', 'comma-separated class indices or names: one RLE annotation per image and class, iscrowd 1')
    .option('--min-area <px>', 'drop components (and stuff regions) of fewer pixels', parseIntArg(1), 1)
    .option('--quiet', 'no progress bar')
    .action(async (o: Flags) => {
      for (const k of ['images', 'masks', 'labels', 'out'] as const) {
        if (!o[k]) throw new Error(`coco needs --${k} <${k === 'labels' || k === 'out' ? 'file' : 'dir'}>.`);
      }
      const stuff = o.stuff?.split(',').map((s) => s.trim()).filter(Boolean);
      const r = await withProgress('coco', o.quiet, (p) => writeCoco({
        images: o.images!, masks: o.masks!, labels: o.labels!, out: o.out!,
        background: o.background, stuff, minArea: o.minArea,
        onProgress: (done, total) => p.update({ done, total }),
      }));
      if (r.imagesWithoutMask.length) process.stderr.write(`${unmatchedLine(r.imagesWithoutMask, `image${r.imagesWithoutMask.length === 1 ? '' : 's'} without a mask`)}\n`);
      if (r.masksWithoutImage.length) process.stderr.write(`${unmatchedLine(r.masksWithoutImage, `mask${r.masksWithoutImage.length === 1 ? '' : 's'} without an image`)}\n`);
      console.log(`wrote ${r.out}: ${r.images} images, ${r.categories} categories, ${r.annotations} annotations `
        + `(${r.polygons} polygon, ${r.rles} RLE with holes, ${r.stuff} stuff)`);
    });
}
