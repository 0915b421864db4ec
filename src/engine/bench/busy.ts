// `npm run bench -- --busy`: DCGAN 32 px training speed with the machine to itself and beside one
// CPU-bound process (`yes > /dev/null`), for several OpenMP settings. libgomp reads its settings
// once per process, so each setting runs in its own child; inside a child, idle and busy rounds
// alternate so that drifts in the machine's load hit both sides alike.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BATCH = 64;

export interface BusyVariant { name: string; env: Record<string, string | undefined> }

/** Before: libgomp's default spinning; after: this engine's default (passive); and one thread. */
export const BUSY_VARIANTS: BusyVariant[] = [
  { name: 'spin (libgomp default, before)', env: { SYNTHSET_OMP_SPIN: '1' } },
  { name: 'passive (synthset default)', env: {} },
  { name: 'passive, 1 thread', env: { OMP_NUM_THREADS: '1' } },
];

export interface BusyResult { variant: string; idleMs: number; busyMs: number; ratio: number; rounds: number[] }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A `yes > /dev/null` (a node spin loop where `yes` is missing), killed after `limitMs` at the latest. */
function busyProcess(limitMs: number): ChildProcess {
  const yes = ['/usr/bin/yes', '/bin/yes'].find(existsSync);
  const child = yes ? spawn(yes, [], { stdio: 'ignore', timeout: limitMs })
    : spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', timeout: limitMs });
  child.on('error', () => {});
  return child;
}

/** Runs inside a child: warm-up, then `rounds` pairs of (idle steps, busy steps). One JSON line. */
async function child(steps: number, rounds: number): Promise<void> {
  const { initEngine } = await import('../index.js');
  const { BenchDcgan } = await import('./dcgan.js');
  const engine = await initEngine();
  if (engine.backend !== 'onednn') throw new Error(`--busy needs the onednn backend (${engine.note})`);
  const model = new BenchDcgan({ size: 32, batch: BATCH, zDim: 100, seed: 1 });
  for (let i = 0; i < 3; i++) model.step();
  const timeSteps = () => {
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      model.step();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const idle: number[] = [], busy: number[] = [];
  for (let r = 0; r < rounds; r++) {
    idle.push(timeSteps());
    const hog = busyProcess(120_000);
    try {
      await new Promise((res) => setTimeout(res, 100));
      busy.push(timeSteps());
    } finally {
      hog.kill('SIGKILL');
    }
  }
  model.dispose();
  process.stdout.write(`${JSON.stringify({ idle, busy })}\n`);
}

export interface BusyOptions { steps?: number; rounds?: number; variants?: BusyVariant[]; log?: (s: string) => void }

/** Runs every variant in a child process, one after the other. */
export function runBusyBench(opts: BusyOptions = {}): { results: BusyResult[]; table: string } {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const steps = opts.steps ?? 8, rounds = opts.rounds ?? 3;
  const self = fileURLToPath(import.meta.url);
  const results: BusyResult[] = [];
  for (const v of opts.variants ?? BUSY_VARIANTS) {
    log(`busy bench: ${v.name}: ${rounds} × (${steps} idle + ${steps} busy steps)…`);
    const env = { ...process.env };
    delete env.OMP_WAIT_POLICY;
    delete env.GOMP_SPINCOUNT;
    delete env.OMP_NUM_THREADS;
    delete env.SYNTHSET_OMP_SPIN;
    for (const [k, val] of Object.entries(v.env)) if (val !== undefined) env[k] = val;
    const r = spawnSync(process.execPath, ['--single-threaded-gc', '--import', 'tsx', self, '--child', String(steps), String(rounds)],
      { env, encoding: 'utf8', timeout: 15 * 60_000 });
    const last = r.stdout?.trim().split('\n').at(-1);
    if (r.status !== 0 || !last) throw new Error(`busy bench child (${v.name}) failed: ${r.stderr?.trim().split('\n').at(-1) ?? r.error?.message}`);
    const { idle, busy } = JSON.parse(last) as { idle: number[]; busy: number[] };
    const idleMs = median(idle), busyMs = median(busy);
    results.push({ variant: v.name, idleMs, busyMs, ratio: idleMs / busyMs, rounds: idle.map((t, i) => t / busy[i]) });
  }
  const base = results[0];
  const head = ['OpenMP setting', 'idle img/s', 'busy img/s', 'busy/idle', 'per round', 'idle vs before'];
  const rows = results.map((x) => [x.variant, (BATCH * 1000 / x.idleMs).toFixed(0), (BATCH * 1000 / x.busyMs).toFixed(0),
    `${(100 * x.ratio).toFixed(0)} %`, x.rounds.map((q) => q.toFixed(2)).join(' '), `${(base.idleMs / x.idleMs).toFixed(2)}×`]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  const table = [`DCGAN 32 px, batch ${BATCH}, medians; busy = one \`yes > /dev/null\` beside training (goal: busy/idle ≥ 40 %)`,
    line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
  return { results, table };
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]), Number(process.argv[4]));
