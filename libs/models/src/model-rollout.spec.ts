import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FEATURE_SPEC, featureSpecFingerprint } from '@adfunnel/features';
import { manifestFactory } from './model-manifest.factory.js';
import { HISTORY_FILE, promoteVersion, readRolloutPointers, rollbackVersion } from './model-rollout.js';

const A = '20250101-0000000a';
const B = '20250102-0000000b';
const C = '20250103-0000000c';

describe('model rollout pointers', () => {
  let root: string;
  const pointers = () => readRolloutPointers(root, 'ranking');

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'adfunnel-rollout-'));
    for (const version of [A, B, C]) await writeVersion(version);
    await writeFile(join(root, 'ranking', 'current'), `${A}\n`);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeVersion(version: string, fingerprint = featureSpecFingerprint()): Promise<void> {
    const dir = join(root, 'ranking', version);
    await mkdir(dir, { recursive: true });
    const manifest = manifestFactory({ version });
    manifest.featureSpec.fingerprint = fingerprint;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await writeFile(join(dir, 'model.onnx'), 'bytes');
  }

  it('promote makes the version current and records the one it replaced as previous', async () => {
    const sut = await promoteVersion(root, 'ranking', B, FEATURE_SPEC, new Date('2026-01-01T00:00:00Z'));

    expect(sut).toEqual({ action: 'promote', version: B, from: A, previous: A, at: '2026-01-01T00:00:00.000Z' });
    expect(await pointers()).toEqual({ current: B, previous: A });
    expect(await readFile(join(root, 'ranking', 'current'), 'utf8')).toBe(`${B}\n`);
  });

  it('rollback returns to the previous version once, then refuses: nothing to roll back to', async () => {
    await promoteVersion(root, 'ranking', B, FEATURE_SPEC);
    await promoteVersion(root, 'ranking', C, FEATURE_SPEC);

    const sut = await rollbackVersion(root, 'ranking', FEATURE_SPEC);

    expect(sut).toMatchObject({ action: 'rollback', version: B, from: C, previous: undefined });
    expect(await pointers()).toEqual({ current: B, previous: undefined });
    await expect(rollbackVersion(root, 'ranking', FEATURE_SPEC)).rejects.toMatchObject({
      code: 'conflict',
      reason: 'nothing_to_roll_back',
      message: expect.stringContaining('nothing to roll back to'),
    });
  });

  it('keeps one history line per change', async () => {
    await promoteVersion(root, 'ranking', B, FEATURE_SPEC);
    await rollbackVersion(root, 'ranking', FEATURE_SPEC);

    const lines = (await readFile(join(root, 'ranking', HISTORY_FILE), 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ action: 'promote', version: B, from: A }),
      expect.objectContaining({ action: 'rollback', version: A, from: B }),
    ]);
  });

  it('refuses an unknown version, naming it, and writes nothing', async () => {
    await expect(promoteVersion(root, 'ranking', '20991231-deadbeef', FEATURE_SPEC)).rejects.toMatchObject({
      code: 'not_found',
      reason: 'unknown_version',
      message: expect.stringContaining('unknown version ranking@20991231-deadbeef'),
    });
    expect(await pointers()).toEqual({ current: A, previous: undefined });
  });

  it('refuses a version trained on another feature spec, naming both fingerprints', async () => {
    await writeVersion('20250104-0000000d', '0123456789abcdef');

    await expect(promoteVersion(root, 'ranking', '20250104-0000000d', FEATURE_SPEC)).rejects.toMatchObject({
      code: 'conflict',
      reason: 'feature_spec_mismatch',
      message: expect.stringContaining('fp=0123456789abcdef'),
    });
    expect(await pointers()).toEqual({ current: A, previous: undefined });
  });

  it('refuses to promote the version already current', async () => {
    await expect(promoteVersion(root, 'ranking', A, FEATURE_SPEC)).rejects.toMatchObject({
      reason: 'already_current',
    });
  });

  it('refuses a rollback when previous no longer passes the checks, leaving current alone', async () => {
    await promoteVersion(root, 'ranking', B, FEATURE_SPEC);
    await rm(join(root, 'ranking', A), { recursive: true });

    await expect(rollbackVersion(root, 'ranking', FEATURE_SPEC)).rejects.toMatchObject({
      reason: 'unknown_version',
    });
    expect(await pointers()).toEqual({ current: B, previous: A });
  });
});
