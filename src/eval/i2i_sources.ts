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
import { openTrainData } from '../run/data.js';
import { resumeConfig } from '../run/config.js';
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

export async function openI2iRun(runDir: string): Promise<Opened<I2iSources>> {
  const cfg = resumeConfig(runDir);
  const data = await openTrainData(cfg);
  let g: LoadedGenerator | null = null;
  try {
    if (!data.b) throw new Error(`${runDir}: family ${cfg.family} trained on one domain; an image-to-image evaluation needs a paired or unpaired run.`);
    g = await loadTranslator(runDir);
    const a = (rows: number[], what: string) => cacheSet(data.cache, rows, `${what} A of ${cfg.data}`);
    const b = (rows: number[], what: string) => cacheSet(data.b!.cache, rows, `${what} B of ${cfg.data}`);
    const heldA = a(data.holdout, 'held-out');
    const translated = translateSet(g, heldA, `held-out A of ${cfg.data} translated by ${runDir}`);
    const [trainB, testB] = [b(data.b.rows, 'train'), b(data.b.holdout, 'held-out')];
    const value: I2iSources = { synthetic: translated, train: trainB, test: testB };
    // Paired data: holdout[i] of A and of B are one pair; unpaired data has no targets.
    if (data.kind === 'paired' || data.kind === 'labelmaps') value.pairs = { input: heldA, output: translated, target: testB, trainTargets: trainB };
    else value.domains = { trainA: a(data.rows, 'train'), trainB, translated, testA: heldA, testB };
    const model = g.model;
    return { value, close: () => { model.dispose(); data.close(); } };
  } catch (e) {
    g?.model.dispose();
    data.close();
    throw e;
  }
}
