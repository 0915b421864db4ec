// `generate` with `--score <real images>`: the bundle's images, each with its mean SSIM to real
// images of its class in the manifests. Lives here, not in io/, because the score is a metric: io
// generates, eval judges. The CLI and the library both call this.
import { generateFolder, loadBundle, type GenerateFolderOptions, type GenerateFolderResult } from '../io/generate.js';
import { openReal } from './sources.js';
import { ssimScorer } from './ssim.js';

export interface GenerateOptions extends Omit<GenerateFolderOptions, 'score'> {
  /** Real images (ImageFolder or builtin:…) to score every generated image against: manifest column `ssim`. */
  scoreAgainst?: string;
  /** Real images sampled per class for the score (default 100; fixed by the seed 0, so shards agree). */
  scorePerClass?: number;
}

export async function generate(o: GenerateOptions): Promise<GenerateFolderResult> {
  if (!o.scoreAgainst) return generateFolder(o);
  const bundle = typeof o.bundle === 'string' ? await loadBundle(o.bundle) : o.bundle;
  try {
    const { size, channels } = bundle.generator.meta;
    const real = await openReal(o.scoreAgainst, { size, channels }, 'real');
    try {
      return await generateFolder({ ...o, bundle, score: ssimScorer(real.value, { perClass: o.scorePerClass, seed: 0 }) });
    } finally {
      real.close();
    }
  } finally {
    if (typeof o.bundle === 'string') bundle.dispose();
  }
}
