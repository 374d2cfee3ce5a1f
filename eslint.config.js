import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, top to bottom (README "Architecture"). A module may import its own layer and
 * the ones below; an import that goes up is a lint error, so the order cannot quietly erode.
 * Entries are directories under src/ or files directly in it.
 */
const LAYERS = [
  ['cli'],
  ['index.ts', 'api', 'testcontainers'],
  ['sentinel'],
  ['failover'],
  ['reshard'],
  ['cluster'],
  ['provision'],
  ['redis'],
  ['state'],
  ['util', 'errors.ts', 'events.ts', 'version.ts'],
];
const entryPattern = (e) => (e.endsWith('.ts') ? `${e.replace(/\.ts$/, '').replace('.', '\\.')}\\.js$` : `${e}/`);
const layerRules = LAYERS.slice(1).map((layer, i) => {
  const above = LAYERS.slice(0, i + 1).flat();
  return {
    files: layer.map((e) => (e.endsWith('.ts') ? `src/${e}` : `src/${e}/**`)),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: above.map((e) => ({
            regex: `^(\\./|(\\.\\./)+)${entryPattern(e)}`,
            message: `${layer.join('/')} is below ${e} in rctl's layers: an import never goes up (see README "Architecture").`,
          })),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Only the CLI layer, benchmarks, scripts and tests print; the rest emits events.
      'no-console': 'error',
    },
  },
  { files: ['src/cli/**', 'bench/**', 'scripts/**', 'test/**'], rules: { 'no-console': 'off' } },
  ...layerRules,
);
