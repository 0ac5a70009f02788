import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Node modules that do I/O: pure libraries (contracts, util) may not import them. */
const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'child_process',
  'worker_threads',
  'dgram',
].flatMap((m) => [m, `node:${m}`]);
const FRAMEWORK_AND_IO_PACKAGES = [
  '@nestjs/*',
  'typeorm',
  'bull',
  'ioredis',
  'pg',
  'better-sqlite3',
  'onnxruntime-node',
  '@nats-io/*',
];
/** Approximate nearest-neighbour search: a native addon that computes in memory, no I/O. */
const ANN_PACKAGE = 'hnswlib-node';

/**
 * Serving and training see what users declare and what the funnel logged, never the simulator's
 * ground truth (its users' true interests, latent topics, true probabilities). Only the simulator,
 * the catalog seed (which copies the simulated ads' observable fields: title, text, category, image
 * URL, visual embedding), the test fixtures, the tools that drive and judge the simulation (sim, loop,
 * bench, catalog) and test code may import it. libs/user-activity/src/simulator-boundary.spec.ts
 * checks the same by reading the sources.
 */
const SIMULATOR_IMPORT = {
  name: '@adfunnel/simulator',
  message:
    "serving and training may not read the simulator's ground truth; use what users declare and the funnel logged (libs/user-activity)",
};
const SIMULATOR_BOUNDARY_FILES = ['apps/**/*.ts', 'libs/**/*.ts', 'tools/training/**/*.ts'];
const SIMULATOR_BOUNDARY_EXEMPT = [
  'libs/simulator/**',
  'libs/catalog-seed/**',
  'libs/testing/**',
  'apps/funnel-e2e/**',
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/src/testing/**',
  // The synthetic cold-start dataset is drawn from the simulator by design (npm run train without
  // logs); training from the funnel's logs may not read it.
  'tools/training/src/click-dataset.ts',
  'tools/training/src/generate-clicks.ts',
  'tools/training/src/bench-ranking-pool.ts',
  'tools/training/src/dataset-files.ts',
];

/** Pure libraries: no Node I/O module, none of `bannedPackages`, and (`simulator`) not the simulator. */
const pureLibraryImports = (bannedPackages, { simulator = true } = {}) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [
        ...IO_MODULES.map((name) => ({ name, message: 'pure libraries do no I/O' })),
        ...(simulator ? [SIMULATOR_IMPORT] : []),
      ],
      patterns: [{ group: bannedPackages, message: 'pure libraries import no framework and no I/O' }],
    },
  ],
});

/**
 * Which projects a project may import. Test code (specs, and a project's `src/testing/`) may also
 * import libs/testing; production code may not, so no service or tool ships the test fakes.
 */
const moduleBoundaries = ({ testCode }) => {
  const testing = testCode ? ['type:testing'] : [];
  return {
    '@nx/enforce-module-boundaries': [
      'error',
      {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: [
          { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
          {
            sourceTag: 'type:util',
            onlyDependOnLibsWithTags: ['type:contracts', 'type:util'],
            bannedExternalImports: [...FRAMEWORK_AND_IO_PACKAGES, ANN_PACKAGE],
          },
          {
            // The ad index: util plus the ANN library and nothing else from npm (jest for its specs).
            sourceTag: 'type:index',
            onlyDependOnLibsWithTags: ['type:contracts', 'type:util'],
            allowedExternalImports: [ANN_PACKAGE, '@jest/globals'],
          },
          {
            sourceTag: 'type:platform',
            onlyDependOnLibsWithTags: ['type:contracts', 'type:util'],
          },
          {
            // Test code of a data-access lib may use libs/testing, unless libs/testing depends on that
            // lib itself (the circular-dependency check refuses it then).
            sourceTag: 'type:data-access',
            onlyDependOnLibsWithTags: [
              'type:contracts',
              'type:util',
              'type:platform',
              'type:data-access',
              ...testing,
            ],
          },
          {
            sourceTag: 'type:testing',
            onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:platform', 'type:data-access'],
          },
          {
            sourceTag: 'type:app',
            onlyDependOnLibsWithTags: [
              'type:contracts',
              'type:util',
              'type:index',
              'type:platform',
              'type:data-access',
              ...testing,
            ],
          },
          {
            sourceTag: 'type:tool',
            onlyDependOnLibsWithTags: [
              'type:contracts',
              'type:util',
              'type:index',
              'type:platform',
              'type:data-access',
              'type:tool',
              ...testing,
            ],
          },
          {
            // Tests across processes: all of it is test code.
            sourceTag: 'type:e2e',
            onlyDependOnLibsWithTags: [
              'type:contracts',
              'type:util',
              'type:platform',
              'type:data-access',
              'type:tool',
              'type:testing',
            ],
          },
        ],
      },
    ],
  };
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'models/**', '.nx/**', 'coverage/**', 'var/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.lint.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/unbound-method': 'off',
      ...moduleBoundaries({ testCode: false }),
    },
  },
  {
    // The dashboard's front end runs in a browser: its own tsconfig (DOM, no Node), kept out of
    // tsconfig.lint.json.
    files: ['apps/dashboard/src/**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./apps/dashboard/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Before the pure-library blocks, which repeat the simulator ban in their own rule options (a
    // later block's no-restricted-imports replaces an earlier one's).
    files: SIMULATOR_BOUNDARY_FILES,
    ignores: SIMULATOR_BOUNDARY_EXEMPT,
    rules: { 'no-restricted-imports': ['error', { paths: [SIMULATOR_IMPORT] }] },
  },
  {
    files: [
      'libs/contracts/**/*.ts',
      'libs/features/**/*.ts',
      'libs/utility/**/*.ts',
      'libs/tracking/**/*.ts',
      'libs/pacing/**/*.ts',
      'libs/experiments/**/*.ts',
    ],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: pureLibraryImports([...FRAMEWORK_AND_IO_PACKAGES, ANN_PACKAGE]),
  },
  {
    files: ['libs/simulator/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: pureLibraryImports([...FRAMEWORK_AND_IO_PACKAGES, ANN_PACKAGE], { simulator: false }),
  },
  {
    files: ['libs/ad-index/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: pureLibraryImports(FRAMEWORK_AND_IO_PACKAGES),
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/src/testing/**/*.ts'],
    rules: moduleBoundaries({ testCode: true }),
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  prettier,
);
