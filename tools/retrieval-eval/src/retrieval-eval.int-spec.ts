import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RetrievalEvalReport } from './retrieval-eval.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * Shared data sets live beside the checkout, in ../shared/data (RETRIEVAL_EVAL_DATA overrides). A
 * clone made elsewhere from a local checkout (as CI clones one) finds them beside its origin.
 */
function sharedDataCandidates(): string[] {
  const override = process.env['RETRIEVAL_EVAL_DATA'];
  if (override !== undefined) return [resolve(override)];
  const candidates = [join(REPO, '..', 'shared', 'data')];
  try {
    const origin = execFileSync('git', ['-C', REPO, 'config', '--get', 'remote.origin.url'], {
      encoding: 'utf8',
    })
      .trim()
      .replace(/^file:\/\//, '');
    if (origin.startsWith('/')) candidates.push(join(origin, '..', 'shared', 'data'));
  } catch {
    // Not a git checkout, or no origin: only the checkout's own neighbour.
  }
  return candidates;
}
const CANDIDATES = sharedDataCandidates();
const DATA = CANDIDATES.find((dir) => existsSync(join(dir, 'movielens-100k', 'u.data'))) ?? CANDIDATES[0];
const MOVIELENS = join(DATA, 'movielens-100k', 'u.data');
const TEST_SHARE = 0.2;

/**
 * MovieLens-100k's u.data (`user item rating timestamp`, tab separated) split per user in time: each
 * user's latest 20% of ratings (ties by item id) are the test file, the rest train. Every rating counts
 * as an interaction. Both files keep u.data's four columns: the pairs format ignores the last two.
 */
function splitPerUser(text: string): { train: string; test: string } {
  const byUser = new Map<string, { line: string; item: number; time: number }[]>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [user, item, , time] = line.trim().split('\t');
    let rows = byUser.get(user);
    if (rows === undefined) byUser.set(user, (rows = []));
    rows.push({ line: line.trim(), item: Number(item), time: Number(time) });
  }
  const train: string[] = [];
  const test: string[] = [];
  for (const rows of byUser.values()) {
    rows.sort((a, b) => a.time - b.time || a.item - b.item);
    const cut = Math.round(rows.length * (1 - TEST_SHARE));
    rows.forEach((row, i) => (i < cut ? train : test).push(row.line));
  }
  return { train: `${train.join('\n')}\n`, test: `${test.join('\n')}\n` };
}

describe('retrieval-eval on MovieLens-100k', () => {
  let dir: string;
  let report: RetrievalEvalReport;

  beforeAll(async () => {
    if (!existsSync(MOVIELENS)) {
      throw new Error(
        `MovieLens-100k not found in ${CANDIDATES.join(' or ')}: this test reads movielens-100k/u.data from ` +
          '../shared/data beside the checkout or its origin (or $RETRIEVAL_EVAL_DATA); it is not copied into the repository',
      );
    }
    dir = await mkdtemp(join(tmpdir(), 'retrieval-eval-ml100k-'));
    const { train, test } = splitPerUser(await readFile(MOVIELENS, 'utf8'));
    await writeFile(join(dir, 'train.tsv'), train);
    await writeFile(join(dir, 'test.tsv'), test);
    await run('npx', ['tsc', '-b', 'tools/retrieval-eval'], { cwd: REPO });
    const cli = join(REPO, 'tools/retrieval-eval/dist/retrieval-eval-cli.js');
    const args = [
      '--train',
      join(dir, 'train.tsv'),
      '--test',
      join(dir, 'test.tsv'),
      '--format',
      'pairs',
      '--json',
    ];
    const { stdout } = await run('node', [cli, ...args], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
    report = JSON.parse(stdout) as RetrievalEvalReport;
  }, 600_000);

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const recallAt20 = (name: string) => {
    const model = report.models.find((m) => m.name === name);
    if (model === undefined) throw new Error(`no ${name} in the report`);
    return model.metrics.find((m) => m.k === 20)!.recall;
  };

  it('evaluates every user on the 80/20 split, over all 1,611 items rated in train', () => {
    expect(report.train.users).toBe(943);
    expect(report.train.items).toBe(1611);
    expect(report.test.evaluatedUsers).toBe(943);
    expect(report.test.skipped.users).toBe(0);
    // Test ratings of movies nobody rated in train cannot be retrieved by any model.
    expect(report.test.skipped.unknownItems).toBeGreaterThan(0);
    expect(report.models.map((m) => m.name)).toEqual(['two-tower', 'bpr', 'popular']);
  });

  it('ranks the two-tower above BPR matrix factorisation and most-popular on Recall@20', () => {
    expect(recallAt20('popular')).toBeGreaterThan(0.05);
    expect(recallAt20('bpr')).toBeGreaterThan(recallAt20('popular'));
    expect(recallAt20('two-tower')).toBeGreaterThan(recallAt20('bpr'));
  });

  it('keeps at least 0.99 of the exact recall through HNSW', () => {
    const at20 = report.hnsw!.atK.find((x) => x.k === 20)!;
    expect(at20.recallVsExact).toBeGreaterThanOrEqual(0.99);
    expect(at20.overlap).toBeGreaterThanOrEqual(0.99);
  });
});
