// The layer table of /ARCHITECTURE.md as data: a part may import only the parts listed for it.
// eslint.config.js turns it into `no-restricted-imports` rules (so `npm run lint` and `npm test`
// fail on a forbidden import). KNOWN lists per-file exceptions: empty since the run-dir format moved
// to src/run/; keep it so.
export const PARTS = {
  util: [],
  engine: ['util'],
  data: ['engine', 'util'],
  losses: ['engine'],
  models: ['layers', 'engine', 'losses', 'util'],
  layers: ['engine', 'util'],
  privacy: ['engine', 'util'],
  run: ['models', 'layers', 'data', 'engine', 'util'],
  train: ['run', 'models', 'layers', 'losses', 'privacy', 'data', 'engine', 'util'],
  io: ['run', 'models', 'layers', 'data', 'engine', 'util'],
  eval: ['io', 'run', 'models', 'layers', 'data', 'engine', 'util'],
  cli: null, web: null, // faces: everything
};

export const KNOWN = {};

const TESTS = ['src/**/*.test.ts', 'src/**/test_*.ts'];

function rule(part, extra = []) {
  const may = new Set([part, ...PARTS[part], ...extra]);
  const banned = Object.keys(PARTS).filter((p) => !may.has(p));
  const patterns = [{
    regex: `^(\\.\\./)+(${banned.join('|')})/`,
    message: `src/${part}/ may import only ${[...may].join(', ')} (the layer table in ARCHITECTURE.md, scripts/layers.mjs).`,
  }];
  if (part === 'layers') {
    patterns.push({ regex: '^node:', message: 'custom layers must load in a browser: no node:* imports (ARCHITECTURE.md).' });
  }
  return { 'no-restricted-imports': ['error', { patterns }] };
}

/** ESLint flat-config blocks, one per part, then one per file with a known exception. */
export function layerConfigs() {
  const blocks = Object.keys(PARTS).filter((p) => PARTS[p]).map((part) => ({ files: [`src/${part}/**/*.ts`], ignores: TESTS, rules: rule(part) }));
  for (const [file, extra] of Object.entries(KNOWN)) blocks.push({ files: [file], rules: rule(file.split('/')[1], extra) });
  return blocks;
}
