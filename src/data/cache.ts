// The decoded cache: one binary file of uint8 HWC images (row i at byte i * rowBytes) plus a JSON
// header, per dataset x domain x spec, keyed by a hash of everything that decides the pixels.
//
// Crash safety: rows are appended to `<base>.bin.partial` chunk by chunk, and after each chunk a
// journal (`<base>.partial.json`, written by temp file + rename) records how many bytes and items
// are done. A rerun with the same key truncates the partial file to the journal and carries on, so
// finished chunks are not decoded again. Only when every item is done is the partial file renamed
// to `<base>.bin` and the header written (temp + rename): a cache without a matching header is never
// trusted. Rows are read by position (pread), never by loading the whole file.
import { createHash } from 'node:crypto';
import {
  accessSync, closeSync, constants, existsSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, read, readFileSync,
  readSync, rmSync, statSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { renameDurable, writeAtomic } from '../util/atomic.js';
import { withFileLock } from '../util/lock.js';
import { ProblemLog, type Problem } from './errors.js';
import type { ImageSpec } from './image.js';
import { userCacheDir, type Dataset, type ImageList } from './registry.js';

/** Bumped when the file layout or the decoding changes, so old caches are rebuilt. */
export const CACHE_VERSION = 1;

export interface Progress { done: number; total: number }

export interface CacheOptions {
  /** Folder for cache files; default: the dataset's own (`<root>/.synthset-cache`, or the user cache for builtins). */
  cacheDir?: string;
  /** Which list of a two-domain dataset (paired/unpaired); default A. */
  domain?: 'A' | 'B';
  /** Decodes in flight at once. */
  concurrency?: number;
  /** Items per journaled chunk (default: about 32 MB of pixels). */
  chunkItems?: number;
  strict?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface CacheHeader {
  version: number;
  key: string;
  kind: string;
  domain: 'A' | 'B';
  spec: Pick<ImageSpec, 'size' | 'channels' | 'fit' | 'background' | 'maxPixels'>;
  rowBytes: number;
  /** Rows in the binary file. */
  count: number;
  /** Items in the dataset list (rows + skipped). */
  total: number;
  /** Dataset item index of each row (skipped items are missing). */
  items: number[];
  labels: number[] | null;
  classes: string[];
  /** Files that could not be decoded, kept so a reused cache still reports them. */
  problems: Problem[];
}

interface Journal { key: string; next: number; bytes: number; items: number[]; problems: Problem[] }

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function listOf(ds: Dataset, domain: 'A' | 'B'): ImageList {
  if (domain === 'A') return ds;
  if (!ds.b) throw new Error(`The ${ds.kind} dataset has no domain B.`);
  return ds.b;
}

/** The content key: version, kind, domain, spec and every item's identity, size and mtime. */
export function cacheKey(ds: Dataset, domain: 'A' | 'B' = 'A'): string {
  const list = listOf(ds, domain);
  const { size, fit, background, maxPixels } = ds.spec, channels = list.channels ?? ds.spec.channels;
  return sha(JSON.stringify({ v: CACHE_VERSION, kind: ds.kind, domain, spec: { size, channels, fit, background, maxPixels } })
    + '\n' + sha(list.fingerprint()));
}

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cache folder in use: the given one, else the dataset's own, else (read-only dataset) the user cache. */
export function resolveCacheDir(list: ImageList, cacheDir?: string): string {
  if (cacheDir) {
    mkdirSync(cacheDir, { recursive: true });
    return cacheDir;
  }
  if (writable(list.defaultCacheDir)) return list.defaultCacheDir;
  const dir = join(userCacheDir(), 'folders', sha(list.defaultCacheDir).slice(0, 16));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Read access to the decoded rows of one cache file. Call close() when done. */
export class ImageCache {
  readonly count: number;
  readonly rowBytes: number;
  readonly size: number;
  readonly channels: 1 | 3;
  readonly labels: Int32Array | null;
  readonly classes: string[];
  readonly problems: Problem[];
  private fd: number | null;

  constructor(readonly header: CacheHeader, readonly file: string, readonly dir: string, readonly decoded: number) {
    this.count = header.count;
    this.rowBytes = header.rowBytes;
    this.size = header.spec.size;
    this.channels = header.spec.channels;
    this.labels = header.labels ? Int32Array.from(header.labels) : null;
    this.classes = header.classes;
    this.problems = header.problems;
    this.fd = openSync(file, 'r');
  }

  get key(): string {
    return this.header.key;
  }

  private handle(): number {
    if (this.fd === null) throw new Error(`Cache ${this.file} is closed.`);
    return this.fd;
  }

  private check(row: number): void {
    if (!(row >= 0 && row < this.count)) throw new RangeError(`Row ${row} is outside the cache (${this.count} rows).`);
  }

  /** Rows in the given order, concatenated into `out` (allocated when not given). */
  readRows(rows: ArrayLike<number>, out = new Uint8Array(rows.length * this.rowBytes)): Uint8Array {
    const fd = this.handle();
    for (let i = 0; i < rows.length; i++) {
      this.check(rows[i]);
      let got = 0;
      while (got < this.rowBytes) {
        const n = readSync(fd, out, i * this.rowBytes + got, this.rowBytes - got, rows[i] * this.rowBytes + got);
        if (n === 0) throw new Error(`Cache ${this.file} is shorter than its header says: delete it to rebuild.`);
        got += n;
      }
    }
    return out;
  }

  /** Like readRows, but off the main thread (libuv pool), so it can run ahead of the consumer. */
  async readRowsAsync(rows: ArrayLike<number>, out = new Uint8Array(rows.length * this.rowBytes)): Promise<Uint8Array> {
    const fd = this.handle();
    const one = (i: number) => new Promise<void>((res, rej) => {
      this.check(rows[i]);
      read(fd, out, i * this.rowBytes, this.rowBytes, rows[i] * this.rowBytes, (err, n) => {
        if (err) rej(err);
        else if (n !== this.rowBytes) rej(new Error(`Cache ${this.file}: short read at row ${rows[i]}: delete it to rebuild.`));
        else res();
      });
    });
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < rows.length; i++) jobs.push(one(i));
    await Promise.all(jobs);
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function loadHeader(headerFile: string, binFile: string, key: string): CacheHeader | null {
  try {
    const h = JSON.parse(readFileSync(headerFile, 'utf8')) as CacheHeader;
    if (h.version !== CACHE_VERSION || h.key !== key) return null;
    if (statSync(binFile).size !== h.count * h.rowBytes) return null;
    return h;
  } catch {
    return null;
  }
}

function loadJournal(file: string, partial: string, key: string): Journal | null {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as Journal;
    if (j.key !== key || statSync(partial).size < j.bytes) return null;
    return j;
  } catch {
    return null;
  }
}

/** Runs `fn` over `ids` with at most `limit` in flight; results keep the order of `ids`. */
async function pool<T>(ids: number[], limit: number, fn: (id: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const k = next++;
      out[k] = await fn(ids[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, ids.length) }, worker));
  return out;
}

/**
 * Opens the decoded cache of one domain of `ds`, building (or finishing) it first when needed.
 * A second open with unchanged files decodes nothing (`decoded === 0`). Decode problems are
 * appended to `ds.problems` too.
 */
export async function openCache(ds: Dataset, opts: CacheOptions = {}): Promise<ImageCache> {
  const domain = opts.domain ?? 'A';
  const list = listOf(ds, domain);
  const key = cacheKey(ds, domain);
  const dir = resolveCacheDir(list, opts.cacheDir);
  const { size, fit, background, maxPixels } = ds.spec, channels = list.channels ?? ds.spec.channels;
  const base = join(dir, `${ds.kind}-${domain}-${size}px-${channels}c-${key.slice(0, 20)}`);
  const binFile = `${base}.bin`;
  const headerFile = `${base}.json`;
  const report = (problems: Problem[]) => {
    const seen = new Set(ds.problems.map((p) => `${p.file}\n${p.reason}`));
    for (const p of problems) if (!seen.has(`${p.file}\n${p.reason}`)) ds.problems.push(p);
  };

  const reuse = (h: CacheHeader) => {
    report(h.problems);
    opts.onProgress?.({ done: h.total, total: h.total });
    return new ImageCache(h, binFile, dir, 0);
  };
  const ready = loadHeader(headerFile, binFile, key);
  if (ready) return reuse(ready);

  // Another process may be building the same cache: wait for it, then use what it built.
  return withFileLock(`${base}.lock`, async () => {
    const built = loadHeader(headerFile, binFile, key);
    if (built) return reuse(built);
    const rowBytes = size * size * channels;
    const spec: ImageSpec = { ...ds.spec, channels };
    const partial = `${binFile}.partial`;
    const journalFile = `${base}.partial.json`;
    const journal = loadJournal(journalFile, partial, key) ?? { key, next: 0, bytes: 0, items: [], problems: [] };
    const fd = openSync(partial, existsSync(partial) && journal.bytes > 0 ? 'r+' : 'w');
    const log = new ProblemLog(!!opts.strict);
    log.problems.push(...journal.problems);
    let decoded = 0;
    try {
      ftruncateSync(fd, journal.bytes);
      const chunk = Math.max(1, opts.chunkItems ?? Math.min(4096, Math.max(64, Math.floor((32 << 20) / rowBytes))));
      const concurrency = Math.max(1, opts.concurrency ?? 6);
      const total = list.count;
      opts.onProgress?.({ done: journal.next, total });
      for (let start = journal.next; start < total; start += chunk) {
        opts.signal?.throwIfAborted();
        const ids = Array.from({ length: Math.min(chunk, total - start) }, (_, k) => start + k);
        let done = start;
        const rows = await pool(ids, concurrency, async (i) => {
          let px: Uint8Array | null = null;
          try {
            px = await list.decode(i, spec);
            decoded++;
            if (px.length !== rowBytes) throw new Error(`decoded to ${px.length} bytes, expected ${rowBytes}`);
          } catch (err) {
            log.add(err, list.files[i]);
            px = null;
          }
          opts.onProgress?.({ done: ++done, total });
          return px;
        });
        for (let k = 0; k < rows.length; k++) {
          const px = rows[k];
          if (!px) continue;
          writeSync(fd, px, 0, px.length, journal.bytes);
          journal.bytes += px.length;
          journal.items.push(ids[k]);
        }
        fdatasyncSync(fd);
        journal.next = start + ids.length;
        journal.problems = log.problems;
        writeAtomic(journalFile, JSON.stringify(journal));
      }
    } finally {
      closeSync(fd);
    }
    if (!journal.items.length) {
      throw new Error(`None of the ${list.count} images could be decoded (first problem: ${log.problems[0]?.file}: ${log.problems[0]?.reason}).`);
    }
    const header: CacheHeader = {
      version: CACHE_VERSION, key, kind: ds.kind, domain, spec: { size, channels, fit, background, maxPixels }, rowBytes,
      count: journal.items.length, total: list.count, items: journal.items,
      labels: list.labels ? journal.items.map((i) => list.labels![i]) : null,
      classes: ds.classes, problems: log.problems,
    };
    renameDurable(partial, binFile);
    writeAtomic(headerFile, JSON.stringify(header));
    rmSync(journalFile, { force: true });
    report(log.problems);
    return new ImageCache(header, binFile, dir, decoded);
  });
}

/**
 * For paired datasets: rows of the A and B caches that still form pairs after undecodable files
 * were skipped on either side.
 */
export function pairRows(a: ImageCache, b: ImageCache): { a: number[]; b: number[] } {
  const rowOfB = new Map(b.header.items.map((item, row) => [item, row]));
  const out = { a: [] as number[], b: [] as number[] };
  a.header.items.forEach((item, row) => {
    const rb = rowOfB.get(item);
    if (rb !== undefined) {
      out.a.push(row);
      out.b.push(rb);
    }
  });
  return out;
}
