import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CATALOG_CLI = path.join(REPO, 'tools', 'catalog', 'dist', 'catalog-cli.js');
const REPORT_CLI = path.join(REPO, 'tools', 'report', 'dist', 'report-cli.js');

/** The report CLI over a seeded SQLite catalog: a campaign asked for by id must exist. */
describe('npm run report -- campaigns', () => {
  let dir: string;
  let sqlitePath: string;

  const run = (cli: string, ...args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], {
      cwd: REPO,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', SQLITE_PATH: sqlitePath, LOG_LEVEL: 'warn' },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'report-cli-int-'));
    sqlitePath = path.join(dir, 'funnel.sqlite');
    expect(run(CATALOG_CLI, 'migrate').status).toBe(0);
    // 2 advertisers x 3 campaigns: campaigns 1-3 are advertiser 1's, 4-6 advertiser 2's.
    expect(run(CATALOG_CLI, 'seed', '--advertisers', '2', '--ads', '10', '--users', '2').status).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a campaign that exists, without delivery as such', () => {
    const sut = run(REPORT_CLI, 'campaigns', '--from', '2026-12-01', '--campaign', '1');
    expect(sut.status).toBe(0);
    expect(sut.stdout).toContain('no spend and no events in that range');
  });

  it('refuses a campaign that does not exist, or not within the advertiser named, with exit 1', () => {
    const unknown = run(REPORT_CLI, 'campaigns', '--from', '2026-12-01', '--campaign', '99999');
    expect(unknown).toMatchObject({ status: 1, stdout: '' });
    expect(unknown.stderr).toContain('report failed: campaign 99999 not found');
    const elsewhere = run(
      REPORT_CLI,
      'campaigns',
      '--from',
      '2026-12-01',
      '--campaign',
      '1',
      '--advertiser',
      '2',
    );
    expect(elsewhere).toMatchObject({ status: 1, stdout: '' });
    expect(elsewhere.stderr).toContain('report failed: campaign 1 not found');
  });
});
