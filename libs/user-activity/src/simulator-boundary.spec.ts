import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Where serving and training code lives: every app and library, and the training tool. The
 * simulator, the catalog seed (it copies the simulated ads' observable fields), the test fixtures and
 * the end-to-end tests may read the simulator, as may test code anywhere.
 */
const SCANNED = ['apps', 'libs', 'tools/training'];
const EXEMPT_PROJECTS = new Set(['libs/simulator', 'libs/catalog-seed', 'libs/testing', 'apps/funnel-e2e']);
/** The synthetic cold-start dataset is drawn from the simulator by design; eslint.config.mjs names the same files. */
const EXEMPT_FILES = [
  'tools/training/src/click-dataset.ts',
  'tools/training/src/generate-clicks.ts',
  'tools/training/src/bench-ranking-pool.ts',
  'tools/training/src/dataset-files.ts',
];
const SOURCE = /\.(ts|mts|js|mjs|cjs)$/;
const TEST_CODE = /(\.spec\.ts|\.int-spec\.ts)$|\/src\/testing\//;
/** A static or dynamic import, export-from or require of the simulator package or its sources. */
const SIMULATOR_IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](?:@adfunnel\/simulator(?:\/[^'"]*)?|[^'"]*libs\/simulator(?:\/[^'"]*)?)['"]/;

function projects(): string[] {
  return SCANNED.flatMap((dir) =>
    dir === 'tools/training'
      ? [dir]
      : readdirSync(path.join(ROOT, dir))
          .map((name) => `${dir}/${name}`)
          .filter((p) => statSync(path.join(ROOT, p)).isDirectory()),
  );
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(child);
      } else if (SOURCE.test(entry.name)) out.push(child);
    }
  };
  walk(dir);
  return out;
}

/** Production source files of serving and training that import the simulator, by repo path. */
function simulatorImporters(): string[] {
  return projects()
    .filter((project) => !EXEMPT_PROJECTS.has(project))
    .flatMap((project) => sourceFiles(`${project}/src`).filter((f) => !TEST_CODE.test(f)))
    .filter((file) => !EXEMPT_FILES.includes(file))
    .filter((file) => SIMULATOR_IMPORT.test(readFileSync(path.join(ROOT, file), 'utf8')));
}

describe('the simulator boundary', () => {
  it('keeps the simulator out of every serving app, library and the training tool', () => {
    // A failure names the files: read users' declared attributes and libs/user-activity instead.
    expect(simulatorImporters()).toEqual([]);
  });

  it('scans the serving apps and training, and exempts in the lint rule exactly what it exempts here', () => {
    const scanned = projects();
    for (const app of ['apps/gateway', 'apps/retrieval', 'apps/ranking', 'apps/auction', 'apps/logging']) {
      expect(scanned).toContain(app);
    }
    expect(scanned).toContain('tools/training');
    const eslintConfig = readFileSync(path.join(ROOT, 'eslint.config.mjs'), 'utf8');
    for (const file of EXEMPT_FILES) expect(eslintConfig).toContain(`'${file}'`);
    for (const project of EXEMPT_PROJECTS) expect(eslintConfig).toContain(`'${project}/**'`);
  });

  it('recognises every way a file can import it', () => {
    const imports = [
      "import { userAt } from '@adfunnel/simulator';",
      'import type { SimUser } from "@adfunnel/simulator";',
      "export { DEMO_MARKETPLACE } from '@adfunnel/simulator';",
      "const sim = await import('@adfunnel/simulator');",
      "const sim = require('@adfunnel/simulator');",
      "import { userAt } from '../../../libs/simulator/src/marketplace.js';",
    ];
    for (const line of imports) expect(SIMULATOR_IMPORT.test(line)).toBe(true);
    expect(SIMULATOR_IMPORT.test("// the simulator's users click by interest")).toBe(false);
    expect(SIMULATOR_IMPORT.test("import { UserActivity } from '@adfunnel/contracts';")).toBe(false);
  });
});
