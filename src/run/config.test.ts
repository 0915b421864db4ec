import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from './config.js';

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
