// The `synthset data` contract as outside scripts see it: run the real command, read the JSON and
// stderr. Plus the progress renderer, which is pure apart from its stream and clock.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hugePngHeader, noisePng } from '../data/badinput_fixtures.js';
import { errorLine } from './errors.js';
import { createProgress, formatDuration, progressBar, progressText, withProgress } from './progress.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'synthset.js');

function synthset(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SYNTHSET_NO_REEXEC: '1', SYNTHSET_NATIVE: '0' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.split('\n').filter(Boolean) };
}

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /^\s+at /m, `no stack trace expected:\n${stderr}`);

describe('synthset data inspect', () => {
  let root: string;
  let ds: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'synthset-cli-'));
    ds = join(root, 'my data');
    for (const c of ['cat', 'dog', 'ñandú']) mkdirSync(join(ds, c), { recursive: true });
    await Promise.all([
      ...[0, 1, 2].map((i) => noisePng(join(ds, 'cat', `${i}.png`), i + 1)),
      ...[0, 1].map((i) => noisePng(join(ds, 'dog', `${i}.png`), i + 10)),
      noisePng(join(ds, 'ñandú', 'a b.png'), 20),
    ]);
    writeFileSync(join(ds, 'dog', 'empty.jpg'), '');
    writeFileSync(join(ds, 'cat', 'huge.png'), hugePngHeader(20000, 20000));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('prints a table, writes the JSON report, one stderr line per skipped file', () => {
    const json = join(root, 'report.json');
    const r = synthset('data', 'inspect', ds, '--json', json);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.deepEqual(report.classes, { cat: 3, dog: 2, 'ñandú': 1 });
    assert.equal(report.images, 6);
    assert.equal(report.problems.length, 2);
    assert.match(r.stdout, /cat\s+3/);
    assert.match(r.stdout, /problems: 2 skipped/);
    const skipped = r.lines.filter((l) => l.startsWith('synthset: skipped '));
    assert.equal(skipped.length, 2, r.stderr);
    assert.ok(skipped.some((l) => l.includes(join(ds, 'dog', 'empty.jpg')) && l.includes('empty file (0 bytes)')), r.stderr);
    assert.ok(skipped.some((l) => l.includes('huge.png') && l.includes('20000x20000') && l.includes('limit of 50000000')), r.stderr);
    noStack(r.stderr);
  });

  test('--strict fails on the first bad file with one line and a non-zero exit; --debug adds the stack', () => {
    const r = synthset('data', 'inspect', ds, '--strict', '--max-pixels', '100000000');
    assert.notEqual(r.code, 0);
    const errors = r.lines.filter((l) => l.startsWith('synthset: error: '));
    assert.equal(errors.length, 1, r.stderr);
    // cat/ comes before dog/, so the oversized header is the first bad file; the limit is the one given.
    assert.match(errors[0], /huge\.png: image is 20000x20000 = 400000000 pixels, above the limit of 100000000/);
    noStack(r.stderr);
    const missing = synthset('data', 'inspect', join(root, 'nope'), '--debug');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /synthset: error: .*nope: no such folder/);
    assert.match(missing.stderr, /^\s+at /m);
  });
});

describe('progress and error lines', () => {
  test('text, bar and durations', () => {
    assert.equal(formatDuration(5), '0:05');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(NaN), '--:--');
    assert.equal(progressText('inspect', { done: 50, total: 200 }, 10), 'inspect 50/200 25% 5.0/s ETA 0:30');
    assert.equal(progressText('sort', { stage: 'train', done: 4, total: 4 }, 2), 'sort train 4/4 100% 2.0/s in 0:02');
    const bar = progressBar('crop', { done: 1, total: 2 }, 1, 80);
    assert.match(bar, /^crop \[#+\.+\] 1\/2 50%/);
    assert.ok(bar.length <= 79);
    assert.ok(progressBar('crop', { done: 1, total: 2 }, 1, 20).length <= 19);
  });

  test('a terminal gets one redrawn line, a log gets plain lines only at stage ends', () => {
    let t = 0;
    const tty = { isTTY: true, columns: 60, out: '', write(s: string) { this.out += s; } };
    const p = createProgress('x', tty, () => t);
    for (let i = 0; i <= 10; i++) {
      t += 50;
      p.update({ done: i, total: 10 });
    }
    p.log('note');
    p.end();
    assert.ok(!tty.out.slice(0, -1).includes('\n') || tty.out.includes('note\n'));
    assert.match(tty.out, /\r\x1b\[Kx \[#+\] 10\/10 100%/);
    assert.ok(tty.out.endsWith('\n'));

    const log = { out: '', write(s: string) { this.out += s; } };
    const q = createProgress('y', log, () => t);
    for (let i = 0; i <= 3; i++) q.update({ stage: 'a', done: i, total: 3 });
    q.update({ stage: 'b', done: 0, total: 5 });
    t += 11_000;
    q.update({ stage: 'b', done: 2, total: 5 });
    q.update({ stage: 'b', done: 5, total: 5 });
    q.end();
    const lines = log.out.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ').slice(0, 3).join(' ')), ['y a 3/3', 'y b 2/5', 'y b 5/5']);
    assert.ok(!log.out.includes('\r'));
  });

  test('withProgress ends the bar even when the job fails; quiet keeps log lines and nothing else', async () => {
    const tty = { isTTY: true, columns: 60, out: '', write(s: string) { this.out += s; } };
    await assert.rejects(withProgress('z', false, async (p) => {
      p.update({ done: 1, total: 4 });
      throw new Error('boom');
    }, tty), /boom/);
    assert.ok(tty.out.endsWith('\n'), 'the drawn bar is finished with a newline');
    const quiet = { out: '', write(s: string) { this.out += s; } };
    assert.equal(await withProgress('z', true, async (p) => {
      p.update({ done: 1, total: 1 });
      p.log('a note');
      return 7;
    }, quiet), 7);
    assert.equal(quiet.out, 'a note\n');
  });

  test('error lines fold multi-line messages', () => {
    assert.equal(errorLine(new Error('first\n  second\n')), 'synthset: error: first second');
  });
});
