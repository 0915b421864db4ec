import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listImages } from './scan.js';
import { ProblemLog } from './errors.js';

test('a link from a class folder to the dataset root is reported, not followed into other classes', () => {
  const root = mkdtempSync(join(tmpdir(), 'synthset-scan-'));
  mkdirSync(join(root, 'cat'));
  mkdirSync(join(root, 'dog'));
  writeFileSync(join(root, 'cat', 'a.png'), 'x');
  writeFileSync(join(root, 'dog', 'b.png'), 'x');
  symlinkSync(root, join(root, 'cat', 'up'));
  const log = new ProblemLog();
  assert.deepEqual(listImages(join(root, 'cat'), log), [join(root, 'cat', 'a.png')]);
  assert.deepEqual(log.problems, [{ file: join(root, 'cat', 'up'), reason: 'symlink loop (points to an enclosing folder)' }]);
  assert.throws(() => listImages(join(root, 'cat'), new ProblemLog(true)), /symlink loop/);
});
