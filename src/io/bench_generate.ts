// Generation throughput (`npm run bench -- --generate`): a DCGAN-size generator (the dcgan family's
// default width, z 100, RGB) writing PNGs through generateFolder, against its forward pass alone
// (predict + reading the pixels back) on the same batch. The gap is what PNG encoding and file
// writes cost beyond what overlapping them with the next forward pass hides. Each size is written
// to the system's temp dir and, where Linux has one, to /dev/shm (RAM): on a virtual disk creating a
// 6 KB file was measured at 25 to 900 us depending on what else the disk was doing (more than the
// ~150 us of PNG encoding), so the RAM row is the product's own cost and the disk row the machine's.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getFamily } from '../models/index.js';
import { GENERATE_BATCH, generateFolder, type Bundle } from './generate.js';
import { generateBytes } from './generator.js';
import { type GeneratorMeta } from '../run/generator.js';
import { loadNative } from '../engine/index.js';

export interface GenerateBenchRow { size: number; bf16: boolean; dir: string; forwardImgS: number; generateImgS: number; ratio: number; images: number; params: number }

/** Rows per size, fp32 and, with `bf16` (where the CPU has it; `synthset --bf16 generate`), bf16 convolutions. */
export async function benchGenerate(sizes: (32 | 64)[] = [32, 64], images = 4096, o: { bf16?: boolean } = {}): Promise<GenerateBenchRow[]> {
  const rows: GenerateBenchRow[] = [];
  const native = loadNative();
  for (const [size, bf16] of sizes.flatMap((s) => (o.bf16 ? [[s, false], [s, true]] : [[s, false]]) as [32 | 64, boolean][])) {
    native?.setBf16(bf16);
    const family = getFamily('dcgan');
    const model = family.build({ size, channels: 3, numClasses: 0, zDim: 100, options: { ...family.defaults }, seed: 1 });
    const meta: GeneratorMeta = { format: 'synthset-generator', version: 1, family: 'dcgan', size, channels: 3, zDim: 100, classes: [], conditional: false, present: [], step: 0 };
    const g = { model: model.generator, meta, dir: '(bench)' };
    const idx = Array.from({ length: GENERATE_BATCH }, (_, i) => i);
    for (let i = 0; i < 3; i++) generateBytes(g, 0, idx, []); // kernel choice per shape, warm caches
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      generateBytes(g, i, idx, []);
      times.push(performance.now() - t0);
    }
    const forwardImgS = (GENERATE_BATCH * 1000) / [...times].sort((a, b) => a - b)[5];
    const bundle = { dir: '(bench)', manifest: { family: 'dcgan', model: [{ path: 'model.json', bytes: 0, sha256: 'bench' }] }, generator: g, dispose: () => {} } as unknown as Bundle;
    try {
      for (const base of outputDirs()) {
        const dir = mkdtempSync(join(base, 'synthset-bench-gen-'));
        try {
          const t0 = performance.now();
          await generateFolder({ bundle, perClass: images, seed: 0, out: dir });
          const generateImgS = (images * 1000) / (performance.now() - t0);
          rows.push({ size, bf16, dir: base, forwardImgS, generateImgS, ratio: generateImgS / forwardImgS, images, params: model.generator.countParams() });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    } finally {
      model.dispose();
      native?.setBf16(false);
    }
  }
  return rows;
}

/** The temp dir, and /dev/shm where it exists and is not the temp dir already. */
function outputDirs(): string[] {
  const tmp = tmpdir();
  return existsSync('/dev/shm') && tmp !== '/dev/shm' ? [tmp, '/dev/shm'] : [tmp];
}

export function generateTable(rows: GenerateBenchRow[]): string {
  const lines = [`| generation (DCGAN G, batch ${GENERATE_BATCH}, PNG files) | forward pass alone img/s | generate img/s | generate / forward |`, '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.size} px${r.bf16 ? ' bf16' : ''}, ${(r.params / 1e6).toFixed(2)} M params, ${r.images} images to ${r.dir} | ${r.forwardImgS.toFixed(0)} | ${r.generateImgS.toFixed(0)} | ${(100 * r.ratio).toFixed(0)}% |`);
  return lines.join('\n');
}
void tf;
