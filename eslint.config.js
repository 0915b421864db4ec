import tseslint from 'typescript-eslint';
import { layerConfigs } from './scripts/layers.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', 'native/build/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Which folder may import which (ARCHITECTURE.md's table).
  ...layerConfigs(),
);
