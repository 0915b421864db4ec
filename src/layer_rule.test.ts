// The layer table of ARCHITECTURE.md is a lint rule: a planted forbidden import fails `npm run lint`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });
async function errors(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(root, file) });
  return r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('a forbidden import between parts is a lint error naming the rule; allowed ones pass', async () => {
  const up = await errors('src/engine/planted.ts', "import { openTrainData } from '../train/data.js';\nexport const x = openTrainData;\n");
  assert.equal(up.length, 1);
  assert.match(up[0], /src\/engine\/ may import only engine, util/);
  assert.equal((await errors('src/engine/ops/planted.ts', "import { x } from '../../data/cache.js';\nexport const y = x;\n")).length, 1, 'nested folders too');
  assert.equal((await errors('src/data/planted.ts', "import { x } from '../models/index.js';\nexport const y = x;\n")).length, 1, 'data knowing models');
  assert.equal((await errors('src/train/planted.ts', "import { x } from '../cli/progress.js';\nexport const y = x;\n")).length, 1, 'the loop importing a face');
  assert.equal((await errors('src/io/export.ts', "import { x } from '../train/ema.js';\nexport const y = x;\n")).length, 1, 'io reads the run dir, never the loop');
  assert.equal((await errors('src/eval/sources.ts', "import { x } from '../train/loop.js';\nexport const y = x;\n")).length, 1, 'eval neither');
  assert.deepEqual(await errors('src/run/planted.ts', "import { x } from '../models/index.js';\nimport { y } from '../data/cache.js';\nexport const z = [x, y];\n"), [], 'the run dir knows models and data');
  assert.equal((await errors('src/run/planted.ts', "import { x } from '../train/augment.js';\nexport const y = x;\n")).length, 1, 'but not the loop');
  assert.match((await errors('src/layers/planted.ts', "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n"))[0], /no node:\* imports/);
  assert.deepEqual(await errors('src/eval/planted.ts', "import { x } from '../io/generator.js';\nimport { y } from '../util/random.js';\nexport const z = [x, y];\n"), []);
  assert.deepEqual(await errors('src/cli/planted.ts', "import { x } from '../train/index.js';\nexport const y = x;\n"), [], 'faces import everything');
  assert.deepEqual(await errors('src/engine/planted.test.ts', "import { x } from '../train/data.js';\nexport const y = x;\n"), [], 'tests are exempt');
});
