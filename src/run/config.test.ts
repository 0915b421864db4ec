import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig, validateConfig } from './config.js';

const RUNS = fileURLToPath(new URL('../../docs/runs/', import.meta.url));

test('every config under docs/runs resolves to a full configuration (the README rows they reproduce stay runnable)', () => {
  const files = readdirSync(RUNS).filter((f) => /\.(ya?ml|json)$/.test(f));
  assert.ok(files.length >= 2, `expected the measured run configs in ${RUNS}, found ${files.join(', ')}`);
  for (const f of files) {
    const cfg = resolveConfig({ file: join(RUNS, f), flags: { out: 'runs/x' } as never });
    assert.ok(cfg.steps > 0 && cfg.family, `${f}: ${JSON.stringify(cfg)}`);
  }
  const dp = resolveConfig({ file: join(RUNS, 'fmnist-dp-cgan32.yaml'), flags: { out: 'runs/x', dp: { epsilon: 1, delta: 1e-5 } } as never });
  assert.deepEqual(dp.dp, { epsilon: 1, delta: 1e-5, clip: 1, clipping: 'loss' }, '--dp on the command line overrides the file\'s budget and keeps its clipping');
});

test('a new private run clips loss-weighted unless told; a saved config from before the field was trained flat', () => {
  const fresh = (dp: object) => resolveConfig({ flags: { family: 'cgan', size: 32, steps: 10, data: 'x', out: 'y', dp } as never });
  assert.equal(fresh({ epsilon: 1, delta: 1e-5 }).dp?.clipping, 'loss');
  assert.equal(fresh({ epsilon: 1, delta: 1e-5, clipping: 'flat' }).dp?.clipping, 'flat');
  const saved = fresh({ epsilon: 1, delta: 1e-5 });
  const older: Record<string, unknown> = { ...saved.dp };
  delete older.clipping;
  assert.equal(validateConfig({ ...saved, dp: older }).dp?.clipping, 'flat');
});

test('--preset photos-small: DiffAugment, LeCam, EMA and LR decay under the flags, for the z families only', () => {
  const at = (family: string, size: number, sets: string[] = []) => resolveConfig({ flags: { family, size, steps: 10, data: 'x', out: 'y' } as never, preset: 'photos-small', sets });
  const c = at('cgan', 32);
  assert.deepEqual(c.augment?.policy, ['color', 'translation', 'cutout']);
  assert.equal(c.lecam?.weight, 0.3);
  assert.equal(c.lrDecay, 0.5);
  assert.equal(c.options.width, 64);
  assert.equal(at('sngan', 32).options.gWidth, 64);
  assert.equal(at('cgan', 32, ['lecam=null', 'width=48']).lecam, null, 'flags and --set still override the preset');
  assert.equal(at('cgan', 32, ['width=48']).options.width, 48);
  assert.throws(() => at('pix2pix', 64), /pix2pix has no photos-small preset/);
});
