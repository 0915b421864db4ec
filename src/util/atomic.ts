// Durable atomic writes. rename() alone makes a write atomic for readers, but after a power cut the
// new name can point at a file whose data never reached the disk (a zero-length checkpoint). So the
// data is fsynced before the rename and the directory after it. Written by hand rather than with
// write-file-atomic: that library is async-first and does not fsync the directory.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsync a directory so a rename or a new entry inside it survives a crash; a no-op where the OS refuses. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some filesystems (and Windows) cannot fsync a directory; the rename is still atomic there
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` to `file` and fsyncs it (no rename): for files inside a temp dir that is renamed whole. */
export function writeDurable(file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file so that readers (and a reboot) see either the old content or the complete new one.
 * `durable: false` keeps the temp file and rename (a killed process never leaves a partial file) but
 * skips both fsyncs: for many small files whose folder the caller syncs once per batch.
 */
export function writeAtomic(file: string, data: string | Uint8Array, o: { durable?: boolean } = {}): void {
  const durable = o.durable ?? true;
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    if (durable) writeDurable(tmp, data);
    else writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) syncDir(dirname(file));
}

/** Renames `from` to `to` (a file or a whole directory) and makes the rename durable. */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  syncDir(dirname(to));
}
