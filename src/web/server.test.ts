// The dashboard server over fake run dirs: listing and states, live SSE updates, and refusing
// every path that would leave the served folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../data/test_images.js';
import { serveDashboard, type Dashboard } from './server.js';
import type { RunSummary } from './runs.js';

const t = tempDir('synthset-web-');
const root = join(t.dir, 'runs');
let png: Buffer;

function fakeRun(id: string, o: { steps: number; lines: number; ckpt: number; generator?: boolean; error?: string; age?: number; pid?: number; host?: string }): string {
  const dir = join(root, id);
  mkdirSync(join(dir, 'samples'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ family: 'dcgan', data: 'builtin:mnist', size: 32, steps: o.steps, batchSize: 8, logEvery: 1, options: {} }));
  writeFileSync(join(dir, 'metrics.jsonl'), Array.from({ length: o.lines }, (_, i) => `${JSON.stringify({ step: i + 1, lossD: 1 + i, lossG: 2 - i / 10, dReal: 0.6, dFake: 0.4, imgPerSec: 100 })}\n`).join(''));
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ dir: `ckpt-${o.ckpt}`, step: o.ckpt }));
  writeFileSync(join(dir, 'samples', 'step-0000001.png'), png);
  if (o.pid) writeFileSync(join(dir, 'running.json'), JSON.stringify({ pid: o.pid, host: o.host ?? hostname() }));
  if (o.generator) mkdirSync(join(dir, 'generator'));
  if (o.error) writeFileSync(join(dir, 'error.json'), JSON.stringify({ message: o.error }));
  if (o.age) {
    const when = (Date.now() - o.age) / 1000;
    for (const f of ['config.json', 'metrics.jsonl', 'latest.json', 'samples', '']) utimesSync(join(dir, f), when, when);
  }
  return dir;
}

let dash: Dashboard;
let polled: Dashboard;
before(async () => {
  png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  fakeRun('live', { steps: 100, lines: 2, ckpt: 0, pid: process.pid });
  fakeRun('polled', { steps: 100, lines: 2, ckpt: 0, age: 1000, pid: 1, host: 'another-host' });
  fakeRun('crashed', { steps: 100, lines: 3, ckpt: 0, age: 3000, pid: dead });
  fakeRun('group/done', { steps: 5, lines: 5, ckpt: 5, generator: true, age: 60_000 });
  fakeRun('nan', { steps: 50, lines: 3, ckpt: 2, error: '"lossD" became NaN at step 3 again', age: 120_000 });
  fakeRun('paused', { steps: 50, lines: 4, ckpt: 4, age: 180_000 });
  fakeRun('killed', { steps: 50, lines: 6, ckpt: 4, age: 240_000 });
  mkdirSync(join(t.dir, 'outside'));
  writeFileSync(join(t.dir, 'secret.txt'), 'secret');
  writeFileSync(join(t.dir, 'outside', 'secret.txt'), 'secret');
  symlinkSync(join(t.dir, 'outside'), join(root, 'live', 'out-dir'));
  symlinkSync(join(t.dir, 'secret.txt'), join(root, 'live', 'out-file'));
  symlinkSync(join(root, 'live', 'config.json'), join(root, 'live', 'in-link.json'));
  dash = await serveDashboard({ runs: root, port: 0, pollMs: 500 });
  polled = await serveDashboard({ runs: root, port: 0, pollMs: 500, fsWatch: false });
});
after(async () => {
  await dash?.close();
  await polled?.close();
  t.done();
});

/** A raw GET: the path goes out exactly as written (no URL normalisation). */
function get(d: Dashboard, path: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: d.port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => ok({ status: res.statusCode!, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', fail).end();
  });
}

test('lists runs newest first with state derived from the files', async () => {
  const r = await get(dash, '/api/runs');
  assert.equal(r.status, 200);
  const runs = JSON.parse(r.body) as RunSummary[];
  assert.deepEqual(runs.map((x) => x.id), ['live', 'polled', 'crashed', 'group/done', 'nan', 'paused', 'killed']);
  const by = Object.fromEntries(runs.map((x) => [x.id, x]));
  assert.deepEqual(runs.map((x) => x.state), ['running', 'running', 'failed', 'finished', 'failed', 'stopped', 'failed'],
    'live: its process runs; polled: another host, files fresh; crashed: its process is gone before a checkpoint');
  assert.match(by.nan.reason!, /NaN/);
  assert.match(by.killed.reason!, /no checkpoint after step 4/);
  assert.deepEqual([by.live.step, by.live.steps, by.live.family, by.live.data], [2, 100, 'dcgan', 'builtin:mnist']);
  assert.ok(Math.abs(by.live.etaSeconds! - (98 * 8) / 100) < 1e-9, 'ETA = steps left x batch / img/s');
  assert.equal(by.paused.etaSeconds, null);
  const detail = JSON.parse((await get(dash, '/api/run?id=group%2Fdone')).body);
  assert.equal(detail.metrics.length, 5);
  assert.deepEqual(detail.samples, [{ step: 1, url: '/files/group/done/samples/step-0000001.png' }]);
  assert.equal((await get(dash, detail.samples[0].url)).type, 'image/png');
  assert.equal((await get(dash, '/api/run?id=..%2Foutside')).status, 404);
  const page = await get(dash, '/');
  assert.match(page.body, /<script type="module" src="\/assets\/app.js">/);
  assert.doesNotMatch(page.body, /https?:\/\//, 'the page loads nothing from elsewhere');
  assert.equal((await get(dash, '/assets/app.js')).status, 200);
  assert.equal((await get(dash, '/assets/uplot.css')).status, 200);
});

/** Opens the event stream; resolves once an event matching `want` arrives, with the ms it took after `act`. */
function waitEvent(d: Dashboard, want: (event: string, data: string) => boolean, act: () => void): Promise<number> {
  return new Promise((ok, fail) => {
    let t0 = 0, buf = '';
    const req = request({ host: '127.0.0.1', port: d.port, path: '/api/events' }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      res.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
          const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
          if (!t0 && event === 'runs') {
            t0 = performance.now();
            act();
          } else if (t0 && want(event, data)) {
            req.destroy();
            ok(performance.now() - t0);
          }
        }
      });
    });
    req.on('error', (e) => (t0 ? undefined : fail(e))).end();
    setTimeout(() => fail(new Error('no event within 5 s')), 5000).unref();
  });
}

for (const [name, which, id] of [['fs.watch', () => dash, 'live'], ['polling only', () => polled, 'polled']] as const) {
  test(`a new metrics line and a new grid reach an SSE client within 2 s (${name})`, async () => {
    const line = { step: 3, lossD: 0.5, lossG: 1.5, dReal: 0.7, dFake: 0.3, imgPerSec: 100 };
    const ms = await waitEvent(which(), (e, d) => e === 'metrics' && JSON.parse(d).id === id && JSON.parse(d).records[0].step === 3,
      () => appendFileSync(join(root, id, 'metrics.jsonl'), `${JSON.stringify(line)}\n`));
    assert.ok(ms < 2000, `${ms} ms`);
    const ms2 = await waitEvent(which(), (e, d) => e === 'sample' && JSON.parse(d).step === 3,
      () => writeFileSync(join(root, id, 'samples', 'step-0000003.png'), png));
    assert.ok(ms2 < 2000, `${ms2} ms`);
  });
}

test('only files under --runs are served: traversal in any spelling and symlinks out get 404', async () => {
  assert.equal((await get(dash, '/files/live/config.json')).status, 200);
  assert.equal((await get(dash, '/files/live/in-link.json')).status, 200, 'a symlink that stays inside is fine');
  const refused = [
    '/files/../secret.txt', '/files/live/../../secret.txt', '/files/%2e%2e/secret.txt', '/files/live/%2E%2E/%2e%2e/secret.txt',
    '/files/live%2f..%2f..%2fsecret.txt', '/files/%2fetc%2fpasswd', '/files//etc/passwd', '/files/%2Fetc/passwd',
    '/files/live/..%5c..%5csecret.txt', '/files/live\\..\\..\\secret.txt', '/files/%252e%252e/secret.txt', '/files/./live/config.json',
    '/files/live/out-dir/secret.txt', '/files/live/out-file', '/files/live/config.json%00', '/files/live', '/files/',
    '/files/%ff', '/../secret.txt', '/%2e%2e/secret.txt', '/etc/passwd',
  ];
  for (const p of refused) {
    const r = await get(dash, p);
    assert.equal(r.status, 404, p);
    assert.doesNotMatch(r.body, /secret/, p);
  }
  assert.equal((await get(dash, '/files/live/config.json', 'POST')).status, 405, 'no write actions');
  assert.equal((await get(dash, '/api/runs', 'DELETE')).status, 405);
});

test('refuses a missing folder with a clear message', async () => {
  await assert.rejects(serveDashboard({ runs: join(t.dir, 'nope'), port: 0 }), /--runs .*nope: not a folder/);
});
