// How much a served dashboard slows training: the same short run with and without `synthset serve`
// over its folder and a client following it (the SSE stream, plus the run's details refetched on
// every new grid and the list every second, as the page does), alternated, repeated. Speed is
// steps per second between the 10th and the last metrics line, from the TensorBoard events' wall
// times, so setup (cache, kernel choice) is left out.
//   node --import tsx scripts/bench_dashboard.ts [--steps 40] [--repeats 3] [--json]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventFile } from '../src/run/tensorboard.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const STEPS = arg('steps', 40), REPEATS = arg('repeats', 3);
const BIN = join(import.meta.dirname, '..', 'bin', 'synthset.js');
// Children run without bin/synthset.js's re-exec, so a kill reaches the process that does the work.
const NODE = [process.execPath, '--single-threaded-gc', BIN];
const ENV = { ...process.env, SYNTHSET_NO_REEXEC: '1' };
const work = mkdtempSync(join(tmpdir(), 'synthset-bench-dash-'));

function trainArgs(out: string): string[] {
  return ['train', '--data', 'builtin:fashion-mnist', '--family', 'dcgan', '--size', '32', '--steps', String(STEPS), '--out', out,
    '--batch-size', '16', '--set', 'width=8', '--set', 'limit=500', '--set', 'logEvery=1', '--set', 'sampleEvery=5', '--set', 'checkpointEvery=100000', '--quiet'];
}

function stepsPerSec(run: string): number {
  const tb = join(run, 'tb');
  const ev = readEventFile(join(tb, readdirSync(tb)[0])).filter((e) => e.summary?.value[0]?.simpleValue !== undefined);
  const a = ev[Math.min(4, ev.length - 2)], b = ev.at(-1)!;
  return (b.step! - a.step!) / (b.wallTime - a.wallTime);
}

/** Follows the dashboard like a page: SSE, /api/run on each grid, /api/runs each second. */
function follow(port: number): () => void {
  const get = (path: string) => request({ host: '127.0.0.1', port, path }, (res) => res.resume()).on('error', () => {}).end();
  const sse = request({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
    res.setEncoding('utf8').on('data', (c: string) => {
      for (const m of c.matchAll(/event: sample\ndata: (.*)/g)) get(`/api/run?id=${encodeURIComponent(JSON.parse(m[1]).id)}`);
    });
  });
  sse.on('error', () => {}).end();
  const timer = setInterval(() => get('/api/runs'), 1000);
  return () => {
    clearInterval(timer);
    sse.destroy();
  };
}

/** CPU seconds (user + system) a Linux process has used so far, or NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The server's CPU seconds per wall second of each dashboard run: a load figure that the machine's other work does not blur. */
const serverShare: number[] = [];

async function once(withDashboard: boolean, k: number): Promise<number> {
  const runs = join(work, `${withDashboard ? 'dash' : 'plain'}-${k}`);
  let server: ChildProcess | null = null;
  let stop = () => {};
  if (withDashboard) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    server = spawn(NODE[0], [...NODE.slice(1), 'serve', '--runs', runs.replace(/[^/]+$/, ''), '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
    await new Promise<void>((ok) => server!.stdout!.once('data', () => ok()));
    stop = follow(port);
  }
  const t0 = performance.now(), c0 = server ? cpuSeconds(server.pid!) : 0;
  const r = spawnSync(NODE[0], [...NODE.slice(1), ...trainArgs(runs)], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: ENV });
  stop();
  if (server) serverShare.push((cpuSeconds(server.pid!) - c0) / ((performance.now() - t0) / 1000));
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }
  if (r.status !== 0) throw new Error(`training failed: ${r.stderr}`);
  return stepsPerSec(runs);
}

// Warm the decoded cache so the first timed run does not pay for it.
spawnSync(NODE[0], [...NODE.slice(1), ...trainArgs(join(work, 'warm')).map((a) => (a === String(STEPS) ? '2' : a))], { stdio: 'ignore' });
const plain: number[] = [], dash: number[] = [];
for (let k = 0; k < REPEATS; k++) {
  // Alternate the order so a drift in the machine's load hits both sides alike.
  for (const d of k % 2 ? [true, false] : [false, true]) {
    const s = await once(d, k);
    (d ? dash : plain).push(s);
    process.stderr.write(`run ${k + 1}/${REPEATS} ${d ? 'with dashboard   ' : 'without dashboard'}: ${s.toFixed(2)} steps/s\n`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = { serverCpuShare: serverShare, steps: STEPS, repeats: REPEATS, plain, dash, medianPlain: median(plain), medianDash: median(dash), ratio: median(dash) / median(plain) };
console.log(`dcgan 32 px width 8, batch 16, ${STEPS} steps, a metrics line every step, a grid every 5: without ${result.medianPlain.toFixed(2)} steps/s, with dashboard ${result.medianDash.toFixed(2)} steps/s (median of ${REPEATS}); ratio ${result.ratio.toFixed(3)}; the server used ${serverShare.map((x) => `${(100 * x).toFixed(1)} %`).join(', ')} of one core meanwhile`);
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
rmSync(work, { recursive: true, force: true });
