// An image-to-image run as an evaluation source: its generator translates the run's own held-out
// domain-A images (never seen in training), and the report compares those outputs with real domain B.
// pix2pix gives the `paired` metric its (input, output, target) triples; CycleGAN gives `domain-tstr`
// its domains. The pixel and feature metrics (ssim, fd, kid, prdc, privacy) score the outputs against
// B's train split and holdout, as for any generator.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheSet, chunks, memorySet, toBytes, type ImageSet } from '../data/image_set.js';
import { exportRun } from '../io/export.js';
import { loadTranslator, translateBytes } from '../io/translate.js';
import { openTrainData, type TrainData } from '../run/data.js';
import { resumeConfig, type TrainConfig } from '../run/config.js';
import { readGeneratorMeta, type LoadedGenerator } from '../run/generator.js';
import type { DomainSets } from './domain_tstr.js';
import type { PairedSets } from './paired.js';
import type { Opened } from './sources.js';

export interface I2iSources {
  /** The translated held-out A images: what the pixel and feature metrics score. */
  synthetic: ImageSet;
  train: ImageSet;
  test: ImageSet;
  pairs?: PairedSets;
  domains?: DomainSets;
}

/** True when `runDir`'s generator takes an image or a label map (pix2pix, CycleGAN), not noise. */
export async function isTranslatorRun(runDir: string): Promise<boolean> {
  const gen = join(runDir, 'generator');
  if (!existsSync(join(gen, 'model.json'))) await exportRun(runDir);
  const kind = readGeneratorMeta(gen).input?.kind;
  return kind === 'image' || kind === 'labelmap';
}

/** `set` (domain A, as its stored bytes) translated to B by `g`, 16 images per forward pass. */
export function translateSet(g: LoadedGenerator, set: ImageSet, name: string): ImageSet {
  const parts: Uint8Array[] = [];
  let size = 0, channels: 1 | 3 = 3;
  for (const idx of chunks(set.count, 16)) {
    const y = translateBytes(g, set.read(idx), idx.length);
    [size, channels] = [y.shape[1], y.shape[3] as 1 | 3];
    parts.push(toBytes(y));
    y.dispose();
  }
  return memorySet({ name, size, channels, classes: [], labels: null, bytes: Uint8Array.from(Buffer.concat(parts)) });
}

/** An outside held-out set in the run's own data format: a paired dir (`A/`, `B/`), or two domain dirs. */
export interface I2iTest { a: string; b?: string }

/** Domain `d` of a source: `A of <dir>` for a paired folder, the domain's own folder when unpaired. */
const domainOf = (d: 'A' | 'B', a: string, b?: string) => (b === undefined ? `${d} of ${a}` : d === 'A' ? a : b);

/** The held-out A and B images: the run's own holdout, or every image of `test` (decoded at the run's size). */
async function openHeld(cfg: TrainConfig, data: TrainData, test?: I2iTest) {
  if (!test) return { a: data.cache, rowsA: data.holdout, b: data.b!.cache, rowsB: data.b!.holdout, name: (d: 'A' | 'B') => `held-out ${domainOf(d, cfg.data, cfg.dataB)}`, close: () => {} };
  if (data.kind === 'paired' && test.b !== undefined) throw new Error(`${cfg.family} trained on paired images: give the test pairs as one folder holding A/ and B/ (or label/ and photo/) with matching names (--real-test), without --real-test-b.`);
  if (data.kind === 'unpaired' && test.b === undefined) throw new Error(`${cfg.family} trained on unpaired domains: give the test images of domain A as --real-test and of domain B as --real-test-b.`);
  const ext = await openTrainData({ ...cfg, data: test.a, dataB: test.b, holdout: 0 });
  if (!ext.b) {
    ext.close();
    throw new Error(`${test.a}: no domain B images to test against.`);
  }
  // Holdout 0 puts every image in `rows`; paired rows[i] of A and B stay one pair.
  return { a: ext.cache, rowsA: [...ext.rows, ...ext.holdout], b: ext.b.cache, rowsB: [...ext.b.rows, ...ext.b.holdout], name: (d: 'A' | 'B') => `test ${domainOf(d, test.a, test.b)}`, close: () => ext.close() };
}

/**
 * The run's translator applied to held-out A images: its own holdout, or `test` when given (e.g. the
 * dataset's official test split); B's train split is the run's.
 */
export async function openI2iRun(runDir: string, test?: I2iTest): Promise<Opened<I2iSources>> {
  const cfg = resumeConfig(runDir);
  const data = await openTrainData(cfg);
  let g: LoadedGenerator | null = null;
  let held: Awaited<ReturnType<typeof openHeld>> | null = null;
  const close = () => {
    g?.model.dispose();
    held?.close();
    data.close();
  };
  try {
    if (!data.b) throw new Error(`${runDir}: family ${cfg.family} trained on one domain; an image-to-image evaluation needs a paired or unpaired run.`);
    held = await openHeld(cfg, data, test);
    g = await loadTranslator(runDir);
    const heldA = cacheSet(held.a, held.rowsA, held.name('A'));
    const translated = translateSet(g, heldA, `${held.name('A')} translated by ${runDir}`);
    const trainB = cacheSet(data.b.cache, data.b.rows, `train ${domainOf('B', cfg.data, cfg.dataB)}`);
    const testB = cacheSet(held.b, held.rowsB, held.name('B'));
    const value: I2iSources = { synthetic: translated, train: trainB, test: testB };
    // Paired data: rowsA[i] and rowsB[i] are one pair; unpaired data has no targets.
    if (data.kind === 'paired' || data.kind === 'labelmaps') value.pairs = { input: heldA, output: translated, target: testB, trainTargets: trainB };
    else value.domains = { trainA: cacheSet(data.cache, data.rows, `train ${domainOf('A', cfg.data, cfg.dataB)}`), trainB, translated, testA: heldA, testB };
    return { value, close };
  } catch (e) {
    close();
    throw e;
  }
}
