// The one training loop. It owns data, schedules, logs, samples, checkpoints, EMA, the image pool
// and DiffAugment, and drives any registered family through its trainStep. Progress goes out
// through callbacks only; the loop knows nothing of terminals.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import { writeAtomic } from '../util/atomic.js';
import { SESSION_START, TensorBoardWriter } from '../run/tensorboard.js';
import { saveGenerator } from '../run/generator.js';
import { dataKindOf, type GanModel, type StepContext } from '../models/index.js';
import { diffAugment } from './augment.js';
import { loadCheckpoint, saveCheckpoint, type LoopState, type SaveHooks, type Trainable } from '../run/checkpoint.js';
import type { TrainConfig } from '../run/config.js';
import { BatchStream, ClassBatchStream, type StreamBatch } from './data.js';
import { openTrainData, summarizeData } from '../run/data.js';
import { writeDataSummary } from '../run/data_summary.js';
import { EmaGenerator } from './ema.js';
import { MetricsLog, type MetricsRecord } from '../run/metrics.js';
import { ImagePool } from './pool.js';
import { imagesOfRows, pruneSamples, sampleInputs, writeColumnsGrid, writeSampleGrid, writeSamplesGif, type SampleLayout } from './samples.js';
import { jitter } from './jitter.js';
import { mixSeed } from '../util/random.js';
import { stepSeed } from '../run/seed.js';
import { generatorMeta, runSetup } from '../run/setup.js';
import { PrivateSession, privateSettings, type PrivateState } from './private.js';
import { SmallData, type SmallDataState } from './small_data.js';

export interface StepEvent {
  step: number;
  steps: number;
  /** The first step of this session (after a resume, the checkpoint's step). */
  startStep: number;
  epoch: number;
  /** This step's values as the family returned them. */
  values: Record<string, number>;
  /** Real images per second over this step (batch size x D updates). */
  imgPerSec: number;
}

export interface TrainCallbacks {
  onStart?(e: { runDir: string; step: number; steps: number; trainImages: number; family: string; resumed: boolean }): void;
  onData?(e: { done: number; total: number }): void;
  onStep?(e: StepEvent): void;
  onLog?(record: MetricsRecord): void;
  onSample?(e: { step: number; file: string }): void;
  onCheckpoint?(e: { step: number; dir: string }): void;
  /** Things the user should know that are not errors (a rollback, skipped files). */
  onNote?(message: string): void;
}

export interface TrainOptions {
  /** Continue the run in `config.out` from its checkpoint. */
  resume?: boolean;
  /** Stops after the current step, with a checkpoint (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  /** Wall-clock time (ms since the epoch, as Date.now()) after which training stops like a signal: a time budget. */
  deadline?: number;
  /** Test hooks into checkpoint writing. */
  saveHooks?: SaveHooks;
  /**
   * A time budget's forecast of the last step it will reach: the learning-rate decay (lrDecay)
   * then ends there rather than at `steps`, which the budget would never reach.
   */
  plannedSteps?: () => number;
}

export interface TrainResult {
  runDir: string;
  /** Steps trained in total. */
  step: number;
  /** `budget`: a private run's next step would have spent more than its ε. */
  stopped: 'done' | 'signal' | 'time' | 'budget';
  metrics: string;
  gif: string | null;
}

export class TrainError extends Error {}


const badValue = (values: Record<string, number>) => Object.entries(values).find(([, v]) => !Number.isFinite(v));

export async function train(config: TrainConfig, cb: TrainCallbacks = {}, opts: TrainOptions = {}): Promise<TrainResult> {
  const cfg = config;
  const runDir = resolve(cfg.out);
  mkdirSync(runDir, { recursive: true });
  const latest = join(runDir, 'latest.json');
  if (!opts.resume && existsSync(latest)) {
    throw new TrainError(`${runDir} already holds a training run: continue it with --resume ${cfg.out}, or choose another --out.`);
  }
  if (opts.resume && !existsSync(latest)) throw new TrainError(`${runDir} has no checkpoint to resume from.`);
  const metrics = new MetricsLog(join(runDir, 'metrics.jsonl'));
  // Read by the dashboard: a run that stopped on an error says why instead of just going quiet.
  const errorFile = join(runDir, 'error.json');
  rmSync(errorFile, { force: true });
  // Who trains this run right now: lets the dashboard tell a live run from one that stopped, without
  // guessing from file times (removed when the loop ends, however it ends).
  const runningFile = join(runDir, 'running.json');
  writeAtomic(runningFile, `${JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() })}\n`);
  const samplesDir = join(runDir, 'samples');

  const failed = (err: unknown) => {
    try {
      writeAtomic(errorFile, `${JSON.stringify({ message: (err as Error).message, time: new Date().toISOString() })}\n`);
    } catch {
      // the run dir itself may be what failed
    }
  };
  let data: Awaited<ReturnType<typeof openTrainData>>;
  try {
    data = await openTrainData(cfg, cb.onData && ((done, total) => cb.onData!({ done, total })));
  } catch (err) {
    rmSync(runningFile, { force: true });
    failed(err);
    throw err;
  }
  let model: GanModel | null = null;
  let ema: EmaGenerator | null = null;
  let stream: BatchStream | ClassBatchStream | null = null;
  let fixed: { z: tf.Tensor2D; oneHot: tf.Tensor2D | null } | null = null;
  let fixedImages: [tf.Tensor4D, tf.Tensor4D] | null = null;
  try {
    const summary = summarizeData(cfg, data);
    const { family, conditional, ctx } = runSetup(cfg, summary);
    if (cfg.dp && !family.private) throw new TrainError(`Family ${cfg.family} cannot train privately (dp): use dcgan or cgan, whose D updates from real images are DP-SGD steps.`);
    ctx.private = !!cfg.dp;
    for (const p of data.problems) cb.onNote?.(`skipped ${p.file}: ${p.reason}`);
    if (conditional && (!data.cache.labels || data.present.length < 2)) {
      throw new TrainError(`Family ${cfg.family} is conditional and needs labelled data with at least 2 classes; ${cfg.data} has ${data.cache.labels ? data.present.length : 'no'} class${data.present.length === 1 ? '' : 'es'} with training images.`);
    }
    model = family.build(ctx);
    const m = model;
    ema = cfg.ema ? new EmaGenerator(m.buildGenerator(), m.generator, cfg.ema.decay, cfg.ema.warmup) : null;
    const pool = cfg.pool ? new ImagePool(cfg.pool) : null;
    const pools: Record<string, ImagePool> = cfg.pool ? Object.fromEntries((m.poolNames ?? []).map((k) => [k, new ImagePool(cfg.pool!)])) : {};
    const small = cfg.lecam || cfg.ada ? new SmallData(cfg) : null;
    if (small && dataKindOf(family) !== 'images') throw new TrainError(`lecam and ada regularise the D of the z families (dcgan, cgan, sngan, wgan-gp); ${cfg.family} trains on ${dataKindOf(family)} data.`);
    const ada = small?.ada;
    const augment = cfg.augment ? diffAugment(cfg.augment, ada ? () => ada.strength() : undefined) : (x: tf.Tensor4D) => x;
    const poolHook = (x: tf.Tensor4D, seed: number, name?: string) => {
      const p = name === undefined ? pool : pools[name];
      if (name !== undefined && cfg.pool && !p) throw new Error(`The family asked for image pool "${name}", which it does not list in poolNames.`);
      return p ? p.query(x, seed) : x;
    };
    const trainable: Trainable = { nets: m.nets, optimizers: m.optimizers, ema: ema?.model ?? null, pool, pools };
    // Constant LR, then a linear fall towards 0 over the last (1 - lrDecay) of the steps.
    const decayAt = (step: number) => {
      if (cfg.lrDecay === null) return 1;
      const steps = Math.min(cfg.steps, Math.max(step, Math.floor(opts.plannedSteps?.() ?? cfg.steps)));
      const start = Math.floor(cfg.lrDecay * steps);
      return step <= start ? 1 : 1 - (step - start) / (steps - start + 1);
    };
    const baseLr = Object.fromEntries(Object.entries(m.optimizers).map(([k, o]) => [k, (o as unknown as { learningRate?: number }).learningRate]));
    const applyLr = (scale: number) => {
      for (const [k, o] of Object.entries(m.optimizers)) {
        const base = baseLr[k];
        if (typeof base === 'number') (o as unknown as { learningRate: number }).learningRate = base * scale;
      }
    };

    let state: LoopState;
    if (opts.resume) {
      const ck = loadCheckpoint(runDir)!;
      if (ck.state.dataHash !== data.hash) {
        throw new TrainError(`The data of ${cfg.data} changed since this run started (cache key ${data.hash.slice(0, 12)}, run ${ck.state.dataHash.slice(0, 12)}): resuming would train on other images. Start a new run instead.`);
      }
      await ck.restore(trainable);
      small?.restore(ck.state.smallData as SmallDataState | undefined);
      state = { ...ck.state, config: cfg };
      metrics.truncate(state.step);
      pruneSamples(samplesDir, state.step);
    } else {
      state = { step: 0, epoch: 0, position: 0, lrScale: 1, rolledBack: false, dataHash: data.hash, config: cfg };
    }
    // σ is fixed at the start (solved for ε over the planned steps) and saved, so a resume to more
    // steps runs into the budget instead of silently re-solving a smaller σ.
    const priv = cfg.dp ? new PrivateSession(privateSettings(cfg, data.rows.length, m.ndis), state.privacy as PrivateState | undefined) : null;
    if (priv && cfg.dp) cfg.dp.noise = priv.settings.noise;
    writeAtomic(join(runDir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
    writeDataSummary(runDir, summary);
    applyLr(state.lrScale);
    const startStep = state.step;
    const tb = new TensorBoardWriter(join(runDir, 'tb'), opts.resume ? { resumeStep: state.step } : {});
    cb.onStart?.({ runDir, step: state.step, steps: cfg.steps, trainImages: data.rows.length, family: cfg.family, resumed: !!opts.resume });

    const save = async () => {
      if (priv) state.privacy = priv.state();
      if (small) state.smallData = small.state();
      const dir = await saveCheckpoint(runDir, state, trainable, opts.saveHooks);
      cb.onCheckpoint?.({ step: state.step, dir });
    };
    // The rollback target of the NaN guard when no periodic checkpoint exists yet.
    if (!opts.resume) await save();

    const rowClasses = conditional ? data.present.slice(0, 16) : null;
    const layout: SampleLayout = { rows: rowClasses ? rowClasses.length : Math.min(cfg.sampleCols, 8), cols: cfg.sampleCols, rowClasses };
    const i2i = family.translate;
    if (i2i && data.b) {
      // Fixed inputs: the first held-out images (the train ones when there is no holdout).
      const k = Math.min(cfg.sampleCols, 8);
      const pick = (rows: number[], alt: number[]) => (rows.length ? rows : alt).slice(0, k);
      const ra = pick(data.holdout, data.rows), rb = pick(data.b.holdout, data.b.rows);
      const n = Math.min(ra.length, rb.length);
      fixedImages = [imagesOfRows(data.cache, ra.slice(0, n)), imagesOfRows(data.b.cache, rb.slice(0, n))];
    } else {
      fixed = sampleInputs(cfg.seed, cfg.zDim, layout, ctx.numClasses);
    }
    const sample = async () => {
      const g = ema?.model ?? m.generator;
      const file = i2i && fixedImages
        ? await writeColumnsGrid(samplesDir, state.step, () => i2i.sampleColumns(g, fixedImages![0], fixedImages![1]))
        : await writeSampleGrid(samplesDir, state.step, g, fixed!, layout);
      tb.image(state.step, 'samples', readFileSync(file));
      cb.onSample?.({ step: state.step, file });
    };

    // What every metrics line carries beside the family's values: the epoch, and a private run's ε spent.
    const logExtra = () => ({ epoch: state.epoch, ...(priv ? { epsilon: priv.epsilon() } : {}) });
    const log = (rec: MetricsRecord) => {
      tb.scalars(rec.step, rec);
      cb.onLog?.(rec);
    };
    const openStream = (at: LoopState) => cfg.perClass
      ? new ClassBatchStream(data, cfg.batchSize, cfg.seed, at.epoch, at.position)
      : new BatchStream(data, cfg.batchSize, cfg.seed, conditional, at.epoch, at.position);
    stream = openStream(state);
    let baseline: number | null = null;
    let baselineStep = 0;
    let stopped: TrainResult['stopped'] = 'done';
    let lastSaved = state.step;
    let lastSample = -1;

    while (state.step < cfg.steps) {
      if (opts.signal?.aborted) {
        stopped = 'signal';
        break;
      }
      if (opts.deadline !== undefined && Date.now() >= opts.deadline) {
        stopped = 'time';
        break;
      }
      if (priv && !priv.canTake(m.ndis)) {
        stopped = 'budget';
        cb.onNote?.(`privacy budget: one more step would spend more than ε = ${priv.settings.epsilon} (δ = ${priv.settings.delta}); stopping at step ${state.step} with ε = ${priv.epsilon().toFixed(3)} spent.`);
        break;
      }
      const t0 = performance.now();
      const batchList: StreamBatch[] = [];
      let values: Record<string, number>;
      try {
        const step = state.step + 1;
        for (let i = 0; i < m.ndis; i++) batchList.push(priv ? priv.batch(data.cache, data.rows, step, i, conditional) : await stream.next());
        const stepCtx: StepContext = { step, seed: stepSeed(cfg.seed, step), augment, pool: poolHook, ...(priv ? { dp: priv.step(step) } : {}), ...(small ? { dOutputs: small.hook(step) } : {}) };
        if (cfg.jitter && data.kind !== 'images') {
          const jit = cfg.jitter;
          batchList.forEach((b, i) => {
            const seed = mixSeed(stepCtx.seed, 77, i);
            const out = jitter(b.b ? [b.real, b.b] : [b.real], jit, seed);
            const done = b.dispose;
            batchList[i] = {
              real: out[0], labels: b.labels, b: out[1] ?? null,
              dispose: () => {
                done();
                tf.dispose(out);
              },
            };
          });
        }
        applyLr(state.lrScale * decayAt(step));
        values = m.trainStep(batchList, stepCtx);
        priv?.took(m.ndis);
      } finally {
        for (const b of batchList) b.dispose();
      }
      const bad = badValue(values);
      if (bad) {
        const badStep = state.step + 1;
        const ck = loadCheckpoint(runDir);
        if (state.rolledBack || !ck) {
          throw new TrainError(`"${bad[0]}" became ${bad[1]} at step ${badStep}${state.rolledBack ? ' again after one rollback with the learning rate halved' : ''}; stopping. Lower the learning rates (e.g. --set lrG=…, lrD=…), enable DiffAugment, or check the data.`);
        }
        await ck.restore(trainable);
        small?.restore(ck.state.smallData as SmallDataState | undefined);
        state = { ...ck.state, config: cfg, lrScale: ck.state.lrScale * 0.5, rolledBack: true };
        priv?.rolledBack();
        applyLr(state.lrScale);
        await stream.close();
        stream = openStream(state);
        metrics.truncate(state.step);
        metrics.reset();
        pruneSamples(samplesDir, state.step);
        baseline = null;
        lastSaved = state.step;
        tb.write({ wallTime: Date.now() / 1000, step: state.step, sessionLog: { status: SESSION_START } });
        cb.onNote?.(`"${bad[0]}" became ${bad[1]} at step ${badStep}: rolled back to the checkpoint of step ${state.step} with the learning rate halved (×${state.lrScale}).`);
        continue;
      }
      small?.after(values, cfg.batchSize * m.ndis, state.step + 1, cfg.family);
      ema?.update(state.step);
      const seconds = (performance.now() - t0) / 1000;
      state.step++;
      state.epoch = stream.epoch;
      state.position = stream.position;
      // A per-class step trains every class's model on a batch of its own.
      const images = cfg.batchSize * m.ndis * (cfg.perClass ? data.present.length : 1);
      metrics.add(values, images, seconds);
      cb.onStep?.({ step: state.step, steps: cfg.steps, startStep, epoch: state.epoch, values, imgPerSec: seconds > 0 ? images / seconds : 0 });
      if (state.step % cfg.logEvery === 0 || state.step === cfg.steps) {
        const rec = metrics.flush(state.step, logExtra());
        if (rec) log(rec);
      }

      const count = tf.memory().numTensors;
      if (baseline === null) {
        baseline = count;
        baselineStep = state.step;
      } else if (state.step % cfg.tensorCheckEvery === 0 && count > baseline) {
        throw new TrainError(`Tensor leak: the tensor count grew from ${baseline} after step ${baselineStep} to ${count} after step ${state.step} (+${count - baseline}, about ${((count - baseline) / (state.step - baselineStep)).toFixed(1)} per step). Something in the family's trainStep or a hook keeps tensors it should dispose.`);
      }

      if (state.step % cfg.sampleEvery === 0) {
        await sample();
        lastSample = state.step;
      }
      if (state.step % cfg.checkpointEvery === 0) {
        await save();
        lastSaved = state.step;
      }
      // Lets signal handlers (and other I/O) run between synchronous steps.
      await setImmediate();
    }

    if (metrics.pending) {
      const rec = metrics.flush(state.step, logExtra());
      if (rec) log(rec);
    }
    if (lastSaved !== state.step || opts.resume) await save();
    if (lastSample !== state.step) await sample();
    const gif = await writeSamplesGif(samplesDir, join(runDir, 'samples.gif'));
    await saveGenerator(join(runDir, 'generator'), ema?.model ?? m.generator, generatorMeta(cfg, summary, conditional, state.step, family));
    return { runDir, step: state.step, stopped, metrics: metrics.file, gif };
  } catch (err) {
    failed(err);
    throw err;
  } finally {
    rmSync(runningFile, { force: true });
    await stream?.close();
    if (fixed) tf.dispose([fixed.z, ...(fixed.oneHot ? [fixed.oneHot] : [])]);
    if (fixedImages) tf.dispose(fixedImages);
    ema?.dispose();
    model?.dispose();
    data.close();
  }
}
