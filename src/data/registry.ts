// Dataset kinds by name. A kind turns a source (a folder, two folders, a builtin name) into a
// Dataset: the item list, labels and problems, without decoding pixels (that is the cache's job).
// Adding a kind = one file under kinds/ that calls registerKind, plus its import in kinds/index.ts.
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError, ProblemLog, type Problem } from './errors.js';
import { checkSpec, decodeImage, DEFAULT_SPEC, type ImageSpec } from './image.js';
import type { LabelMapInfo } from './label_classes.js';

/** A folder path, two folder paths (unpaired), or a builtin name such as `fashion-mnist`. */
export type Source = string | readonly string[];

/** Turns one file into `size * size * channels` HWC bytes; injectable so tests can count calls. */
export type Decoder = (file: string, spec: ImageSpec) => Promise<Uint8Array>;

/** One list of images (a domain): what the cache decodes and the batches read. */
export interface ImageList {
  /** Stable identity of each item: an absolute path, or `<builtin>/<class>/<index>` for builtins. */
  files: string[];
  count: number;
  /** Class index per item, or null when the list is unlabelled. */
  labels: Int32Array | null;
  /** Where the decoded cache goes when no cache folder is given. */
  defaultCacheDir: string;
  /** Decodes item `i` at `spec`. Throws DataError naming the file when it cannot. */
  decode(i: number, spec: ImageSpec): Promise<Uint8Array>;
  /** Everything that decides the decoded pixels besides the spec (paths, sizes, mtimes); hashed for the cache key. */
  fingerprint(): string;
  /** Channels of every item whatever the spec asks (label maps: 1, a class index per pixel). */
  channels?: 1;
}

export interface Dataset extends ImageList {
  kind: string;
  /** The source as given (resolved to absolute paths for folders). */
  source: string | string[];
  /** Class names in label order (stable, sorted for folders); [] when unlabelled. */
  classes: string[];
  spec: ImageSpec;
  /** Skipped files and why (skip-and-report); with `strict` the first problem throws instead. */
  problems: Problem[];
  /**
   * The second domain for `paired` (item i of B belongs with item i of A) and `unpaired`
   * (independent). The top-level list is domain A.
   */
  b: ImageList | null;
  /** For builtins: the index of each item inside its class file. */
  builtinIndices?: Int32Array;
  /** For label-map data (domain A holds class indices): the classes and the one-hot width. */
  labelMap?: LabelMapInfo;
}

export interface OpenOptions {
  /** Kind name; picked from the source when omitted (builtin name, two folders, else labelled). */
  kind?: string;
  /** Throw the first problem instead of skipping and reporting it. */
  strict?: boolean;
  decoder?: Decoder;
  /** Kind-specific settings (e.g. `classes` for builtins). */
  [extra: string]: unknown;
}

export interface KindContext {
  spec: ImageSpec;
  log: ProblemLog;
  decoder: Decoder;
  options: OpenOptions;
}

export interface DatasetKind {
  name: string;
  /** One line for help texts. */
  describe: string;
  /** True when this kind fits `source` without being named. Kinds are asked in registration order. */
  detect?(source: Source): boolean;
  open(source: Source, ctx: KindContext): Promise<Dataset>;
}

const KINDS = new Map<string, DatasetKind>();
/** Chosen when no other kind's detect accepts the source. */
const FALLBACK = 'labelled';

export function registerKind(kind: DatasetKind): void {
  if (KINDS.has(kind.name)) throw new Error(`Dataset kind "${kind.name}" is registered twice.`);
  KINDS.set(kind.name, kind);
}

export const kindNames = (): string[] => [...KINDS.keys()];
export const getKind = (name: string): DatasetKind | undefined => KINDS.get(name);

export function pickKind(source: Source, name?: string): DatasetKind {
  if (name) {
    const k = KINDS.get(name);
    if (!k) throw new Error(`Unknown dataset kind "${name}": use one of ${kindNames().join(', ') || '(none registered: import src/data/kinds/index.js)'}.`);
    return k;
  }
  for (const k of KINDS.values()) if (k.detect?.(source)) return k;
  const k = KINDS.get(FALLBACK);
  if (!k) throw new Error('No dataset kinds are registered: import src/data/kinds/index.js first.');
  return k;
}

/** Lists a source's items and labels (no pixel decoding). Merge spec fields over DEFAULT_SPEC. */
export async function openDataset(source: Source, spec: Partial<ImageSpec> = {}, opts: OpenOptions = {}): Promise<Dataset> {
  const full: ImageSpec = { ...DEFAULT_SPEC, ...spec };
  checkSpec(full);
  const kind = pickKind(source, opts.kind);
  const log = new ProblemLog(!!opts.strict);
  return kind.open(source, { spec: full, log, decoder: opts.decoder ?? decodeImage, options: opts });
}

// Helpers shared by the folder kinds.

/** An existing folder, resolved; otherwise a DataError that says what was expected. */
export function requireFolder(path: string, what: string): string {
  const abs = resolve(path);
  let ok = false;
  try {
    ok = statSync(abs).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new DataError(abs, `${what} folder not found`, 'check the path');
  return abs;
}

/** Per-user cache root for sources that have no folder of their own (builtins). */
export { userCacheDir } from '../util/cache_dir.js';

/** Cache folder inside a dataset folder. */
export const folderCacheDir = (root: string): string => join(root, '.synthset-cache');

/** Path, size and mtime per file: the part of a cache key that notices edited, added or removed files. */
export function statFingerprint(files: readonly string[], log?: ProblemLog): string {
  const lines: string[] = [];
  for (const f of files) {
    try {
      const st = statSync(f);
      lines.push(`${f}\t${st.size}\t${st.mtimeMs}`);
    } catch (err) {
      lines.push(`${f}\tmissing`);
      log?.add(err, f);
    }
  }
  return lines.join('\n');
}

/** An ImageList over files on disk. */
export function fileList(files: string[], labels: Int32Array | null, cacheDir: string, decoder: Decoder): ImageList {
  return {
    files,
    count: files.length,
    labels,
    defaultCacheDir: cacheDir,
    decode: (i, spec) => decoder(files[i], spec),
    fingerprint: () => statFingerprint(files),
  };
}
