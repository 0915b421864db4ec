// Paired images (pix2pix style): root/A/<name>.<ext> belongs with root/B/<name>.<any ext>. Matching
// is by the path below A/ or B/ without its extension; files without a partner are reported.
import { basename, extname, join, relative } from 'node:path';
import { DataError } from '../errors.js';
import { fileList, folderCacheDir, registerKind, requireFolder, type Dataset, type KindContext, type Source } from '../registry.js';
import { listImages } from '../scan.js';
import type { ProblemLog } from '../errors.js';

const stem = (dir: string, file: string) => {
  const rel = relative(dir, file);
  return rel.slice(0, rel.length - extname(rel).length);
};

function byStem(dir: string, log: ProblemLog): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of listImages(dir, log)) {
    const key = stem(dir, f);
    const prev = out.get(key);
    if (prev) {
      log.add(new DataError(f, `same name as ${basename(prev)} with another extension, so its partner is ambiguous`,
        'keep one of the two files'), f);
      continue;
    }
    out.set(key, f);
  }
  return out;
}

/**
 * The matched files of two folders, in name order; unmatched files are reported, naming the folder
 * (`nameA`, `nameB`) their partner is missing from.
 */
export function openPairs(root: string, dirA: string, dirB: string, log: ProblemLog, nameA = 'A', nameB = 'B'): { filesA: string[]; filesB: string[] } {
  const a = byStem(dirA, log);
  const b = byStem(dirB, log);
  const filesA: string[] = [];
  const filesB: string[] = [];
  const rel = (dir: string) => relative(root, dir) || dir;
  for (const [key, fa] of [...a].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const fb = b.get(key);
    if (!fb) {
      log.add(new DataError(fa, `no partner in ${nameB}`, `add ${rel(dirB)}/${key}.<ext> or remove this file`), fa);
      continue;
    }
    filesA.push(fa);
    filesB.push(fb);
  }
  for (const [key, fb] of b) {
    if (!a.has(key)) log.add(new DataError(fb, `no partner in ${nameA}`, `add ${rel(dirA)}/${key}.<ext> or remove this file`), fb);
  }
  if (!filesA.length) throw new DataError(root, 'no matched pairs found', `expected ${rel(dirA)}/<name>.<ext> and ${rel(dirB)}/<name>.<ext> with the same names`);
  return { filesA, filesB };
}

export async function openPaired(source: Source, ctx: KindContext): Promise<Dataset> {
  if (typeof source !== 'string') throw new Error('The paired kind takes one folder holding A/ and B/.');
  const root = requireFolder(source, 'dataset');
  const dirA = requireFolder(join(root, 'A'), 'paired dataset: domain A (root/A)');
  const dirB = requireFolder(join(root, 'B'), 'paired dataset: domain B (root/B)');
  const { filesA, filesB } = openPairs(root, dirA, dirB, ctx.log);
  const cache = folderCacheDir(root);
  const listA = fileList(filesA, null, cache, ctx.decoder);
  const listB = fileList(filesB, null, cache, ctx.decoder);
  return { ...listA, kind: 'paired', source: root, classes: [], spec: ctx.spec, problems: ctx.log.problems, b: listB };
}

registerKind({ name: 'paired', describe: 'root/A/<name> with root/B/<name>: matched pairs', open: openPaired });
