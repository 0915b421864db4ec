import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renameDurable, syncDir, writeAtomic, writeDurable } from './atomic.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'synthset-atomic-'));
}

test('writeAtomic writes the content (string and bytes) and leaves no temp file', () => {
  const dir = scratch();
  try {
    writeAtomic(join(dir, 'a.json'), '{"x":1}\n');
    assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), '{"x":1}\n');
    const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 7) & 255); // more than one write() call may take
    writeAtomic(join(dir, 'b.bin'), bytes);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'b.bin'))), bytes);
    assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'b.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeAtomic replaces an existing file whole', () => {
  const dir = scratch();
  try {
    const f = join(dir, 'latest.json');
    writeFileSync(f, 'old content that is longer than the new one');
    writeAtomic(f, 'new');
    assert.equal(readFileSync(f, 'utf8'), 'new');
    assert.deepEqual(readdirSync(dir), ['latest.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeAtomic removes its temp file and keeps the old file when the rename fails', () => {
  const dir = scratch();
  try {
    // The target is a non-empty directory: the temp file is written, then rename() fails.
    const target = join(dir, 'out');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    assert.throws(() => writeAtomic(target, 'data'), /EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    assert.deepEqual(readdirSync(dir), ['out']);
    assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeAtomic into a missing directory fails with the path and leaves nothing behind', () => {
  const dir = scratch();
  try {
    assert.throws(() => writeAtomic(join(dir, 'nope', 'f.txt'), 'data'), /ENOENT.*nope/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeDurable writes in place; renameDurable moves files and whole directories; syncDir tolerates a missing dir', () => {
  const dir = scratch();
  try {
    mkdirSync(join(dir, 'ckpt.tmp'));
    writeDurable(join(dir, 'ckpt.tmp', 'w.bin'), new Uint8Array([1, 2, 3]));
    renameDurable(join(dir, 'ckpt.tmp'), join(dir, 'ckpt-5'));
    assert.deepEqual([...readFileSync(join(dir, 'ckpt-5', 'w.bin'))], [1, 2, 3]);
    writeDurable(join(dir, 'f'), 'one');
    renameDurable(join(dir, 'f'), join(dir, 'g'));
    assert.deepEqual(readdirSync(dir).sort(), ['ckpt-5', 'g']);
    assert.equal(readFileSync(join(dir, 'g'), 'utf8'), 'one');
    assert.throws(() => renameDurable(join(dir, 'missing'), join(dir, 'h')), /ENOENT/);
    syncDir(join(dir, 'missing')); // must not throw
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
