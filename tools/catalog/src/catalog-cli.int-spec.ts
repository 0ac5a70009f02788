import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdvertiserApiKeyService, createDataSource } from '@adfunnel/catalog';
import { ApiKeysFileSchema } from '@adfunnel/contracts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(REPO, 'tools', 'catalog', 'dist', 'catalog-cli.js');

describe('npm run catalog -- api-keys', () => {
  let dir: string;
  let sqlitePath: string;

  const catalog = (...args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, ...args], {
      cwd: REPO,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', SQLITE_PATH: sqlitePath, LOG_LEVEL: 'warn' },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const verify = async (key: string) => {
    const ds = await createDataSource({ sqlitePath });
    try {
      return await new AdvertiserApiKeyService(ds).verify(key);
    } finally {
      await ds.destroy();
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'catalog-cli-int-'));
    sqlitePath = path.join(dir, 'catalog.sqlite');
    expect(catalog('migrate').status).toBe(0);
    expect(catalog('seed', '--advertisers', '3', '--ads', '30', '--users', '5').status).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('documents the api-keys commands in --help', () => {
    const help = catalog('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('api-keys issue');
    expect(help.stdout).toContain('--key-hash HASH');
  });

  it('writes a key for every advertiser to a new file only its owner can read, and keeps them off stdout', async () => {
    const out = path.join(dir, 'keys', 'demo.json');
    const run = catalog('api-keys', 'issue', '--advertiser', 'all', '--label', 'demo', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`issued 3 API keys labelled "demo"; wrote them to ${out} (mode 600)`);

    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const file = ApiKeysFileSchema.parse(JSON.parse(await readFile(out, 'utf8')));
    expect(file.label).toBe('demo');
    expect(file.keys.map((k) => k.advertiserId)).toEqual([1, 2, 3]);
    for (const k of file.keys) {
      expect(run.stdout).not.toContain(k.key);
      expect(await verify(k.key)).toEqual({ valid: true, advertiserId: k.advertiserId, keyHash: k.keyHash });
    }

    const again = catalog('api-keys', 'issue', '--advertiser', 'all', '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`${out} already exists`);
    expect(ApiKeysFileSchema.parse(JSON.parse(await readFile(out, 'utf8')))).toEqual(file);
  });

  it('prints a key issued without --out once, and revokes it by its hash', async () => {
    const run = catalog('api-keys', 'issue', '--advertiser', '2');
    expect(run.status).toBe(0);
    const [, key, keyHash] = /advertiser 2 {2}(adf_live_\S+) {2}sha256 ([0-9a-f]{64})/.exec(run.stdout) ?? [];
    expect(await verify(key)).toMatchObject({ valid: true, advertiserId: 2 });

    const revoke = catalog('api-keys', 'revoke', '--key-hash', keyHash);
    expect(revoke.status).toBe(0);
    expect(revoke.stdout).toContain(`API key ${keyHash} revoked`);
    expect(await verify(key)).toEqual({ valid: false, reason: 'revoked' });
    expect(catalog('api-keys', 'revoke', '--key-hash', keyHash).stdout).toContain('was already revoked');

    const listed = catalog('api-keys', 'list', '--advertiser', '2');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^advertiser 2 {2}sha256 ${keyHash} {2}"default" {2}issued \\S+Z {2}revoked \\S+Z$`, 'm'),
    );
    expect(listed.stdout).not.toContain(key);

    const unknown = catalog('api-keys', 'revoke', '--key-hash', '0'.repeat(64));
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(`no API key with hash ${'0'.repeat(64)}`);
  });

  it('refuses an advertiser the catalog does not have, and a usage mistake with exit 2', () => {
    const missing = catalog('api-keys', 'issue', '--advertiser', '1,99');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no advertiser 99 in the catalog');
    const listMissing = catalog('api-keys', 'list', '--advertiser', '99');
    expect(listMissing.status).toBe(1);
    expect(listMissing.stderr).toContain('no advertiser 99 in the catalog');
    const usage = catalog('api-keys', 'issue');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('api-keys issue needs --advertiser <id|all>');
  });
});
