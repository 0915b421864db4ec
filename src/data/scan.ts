// Walks image folders without following symlink loops or dying on unreadable entries: those are
// reported as problems. Names are returned sorted (codepoint order) so runs are reproducible.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { DataError, type ProblemLog } from './errors.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.avif']);

export const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function entries(dir: string, log: ProblemLog): string[] {
  try {
    return readdirSync(dir).sort(byName);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    log.add(new DataError(dir, code === 'EACCES' ? 'permission denied' : `cannot read folder (${code ?? err})`,
      code === 'EACCES' ? 'check the folder permissions' : ''), dir);
    return [];
  }
}

/** Image files directly in `dir` or below it (recursive), as absolute paths. */
export function listImages(dir: string, log: ProblemLog, recursive = true): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let top = '';
  const walk = (d: string) => {
    let real: string;
    try {
      real = realpathSync(d);
    } catch (err) {
      log.add(new DataError(d, `cannot resolve (${(err as NodeJS.ErrnoException).code ?? err})`, 'a broken or looping symlink?'), d);
      return;
    }
    if (seen.has(real)) return; // a symlink loop or a second link to a folder already read
    // A link to an enclosing folder (say the dataset root, from inside a class) would pull in other
    // classes' images: it is a loop as far as this walk is concerned.
    if (top && top.startsWith(real + sep)) {
      log.add(new DataError(d, 'symlink loop (points to an enclosing folder)', 'remove the link'), d);
      return;
    }
    if (!top) top = real;
    seen.add(real);
    for (const name of entries(d, log)) {
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        log.add(new DataError(p, code === 'ELOOP' ? 'symlink loop' : `cannot stat (${code ?? err})`), p);
        continue;
      }
      if (st.isDirectory()) {
        if (recursive) walk(p);
      } else if (st.isFile() && isImageName(name)) {
        out.push(p);
      }
    }
  };
  walk(dir);
  return out;
}

/** Sub-folders of `root` (not hidden), sorted: the class folders of an ImageFolder. */
export function listSubfolders(root: string, log: ProblemLog): string[] {
  return entries(root, log).filter((name) => {
    if (name.startsWith('.')) return false;
    try {
      return statSync(join(root, name)).isDirectory();
    } catch {
      return false;
    }
  });
}
