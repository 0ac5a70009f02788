import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdfunnelError } from '@adfunnel/contracts';
import { bucketOf } from '@adfunnel/experiments';
import { ConfigError } from '@adfunnel/platform';
import { eventually } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { parseGatewayConfig } from '../config.js';
import { auctionOverridesOf } from '../ads/ad-serving.service.js';
import { loadExperimentsFile, unsupportedOverrideProblems } from './experiments-file.js';
import { ExperimentsService } from './experiments.service.js';

const TRACKING_SECRET = 'experiments-spec-secret-0123456789';

/** One layer, two arms of half the traffic each, that differ in mechanism and utility weights. */
const TWO_ARMS = {
  holdout: { salt: 'holdout-spec', share: 0.1 },
  layers: [
    {
      name: 'auction',
      salt: 'auction-spec',
      experiments: [
        {
          name: 'pricing',
          arms: [
            { name: 'control', share: 0.5, overrides: { mechanism: 'gsp' } },
            {
              name: 'treatment',
              share: 0.5,
              overrides: { mechanism: 'first_price', utilityWeights: { hide: 2 }, slots: 1 },
            },
          ],
        },
      ],
    },
  ],
};

describe('the experiments file (EXPERIMENTS_CONFIG)', () => {
  let dir: string;
  let file: string;
  const write = (value: unknown) =>
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'experiments-spec-'));
    file = join(dir, 'experiments.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const problemsOf = (path: string): string[] => {
    try {
      loadExperimentsFile(path);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).issues.map((i) => `${i.variable}: ${i.problem}`);
    }
    throw new Error('expected the file to be refused');
  };

  it('loads a valid file with the hash of its bytes', () => {
    write(TWO_ARMS);
    const loaded = loadExperimentsFile(file, 1234);
    expect(loaded).toMatchObject({
      path: file,
      loadedAt: 1234,
      hash: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(loaded.config.layers[0].unit).toBe('user');
    write(`${JSON.stringify(TWO_ARMS)}\n`);
    expect(loadExperimentsFile(file).hash).not.toBe(loaded.hash);
  });

  it("names the variable, the file and each of the library's problems by its path", () => {
    const bad = structuredClone(TWO_ARMS);
    bad.layers[0].experiments[0].arms[1].share = 0.7;
    (bad.layers[0].experiments[0].arms[0].overrides as Record<string, unknown>)['mechanism'] = 'dutch';
    write(bad);
    expect(problemsOf(file)).toEqual([
      `EXPERIMENTS_CONFIG: ${file}: layers[0].experiments[0].arms[0].overrides.mechanism: Invalid option: expected one of "gsp"|"vcg"|"first_price"`,
    ]);
    bad.layers[0].experiments[0].arms[0].overrides.mechanism = 'gsp';
    write(bad);
    expect(problemsOf(file)).toEqual([
      `EXPERIMENTS_CONFIG: ${file}: layers[0].experiments[0].arms: shares sum to 1.2, more than 1`,
    ]);
  });

  it('refuses text that is not JSON, and a file that cannot be read', () => {
    write('{ "layers": [');
    expect(problemsOf(file)).toEqual([
      expect.stringMatching(new RegExp(`^EXPERIMENTS_CONFIG: ${file}: \\(root\\): not JSON`)),
    ]);
    const missing = join(dir, 'missing.json');
    expect(problemsOf(missing)).toEqual([
      expect.stringMatching(new RegExp(`^EXPERIMENTS_CONFIG: ${missing}: cannot be read \\(ENOENT`)),
    ]);
  });

  it('refuses the overrides the stages cannot take yet (quotas, model version), naming where they are', () => {
    const config = {
      launches: [{ name: 'new-model', overrides: { rankingModelVersion: '20261207-eae89cb9' } }],
      layers: [
        {
          name: 'retrieval',
          salt: 'r-1',
          experiments: [
            {
              name: 'interest',
              arms: [
                { name: 'control', share: 0.5 },
                {
                  name: 'treatment',
                  share: 0.5,
                  overrides: { retrievalQuotas: { home_feed: 'interest:0.5' } },
                },
              ],
            },
          ],
        },
      ],
    };
    write(config);
    expect(problemsOf(file)).toEqual([
      `EXPERIMENTS_CONFIG: ${file}: launches[0].overrides.rankingModelVersion: is not supported by the gateway yet: ranking serves one model and takes no version per request`,
      `EXPERIMENTS_CONFIG: ${file}: layers[0].experiments[0].arms[1].overrides.retrievalQuotas: is not supported by the gateway yet: retrieval takes no quotas per request`,
    ]);
    write(TWO_ARMS);
    expect(unsupportedOverrideProblems(loadExperimentsFile(file).config)).toEqual([]);
  });
});

describe(ExperimentsService.name, () => {
  Logger.overrideLogger(false);
  let dir: string;
  let file: string;
  let sut: ExperimentsService | undefined;
  const write = (value: unknown) =>
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  const serviceOf = (env: Record<string, string> = {}) => {
    const config = parseGatewayConfig({ TRACKING_SECRET, EXPERIMENTS_CONFIG: file, ...env });
    sut = new ExperimentsService(config, loadExperimentsFile(file));
    return sut;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'experiments-service-spec-'));
    file = join(dir, 'experiments.json');
    write(TWO_ARMS);
  });
  afterEach(() => {
    sut?.onModuleDestroy();
    sut = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Users in each arm and in the holdout, found by the same hash the assignment uses. */
  const userIn = (wanted: 'holdout' | 'control' | 'treatment'): string => {
    for (let i = 0; ; i++) {
      const userId = `u${i}`;
      const held = bucketOf('holdout-spec', userId) < 1000;
      const arm = bucketOf('auction-spec', userId) < 5000 ? 'control' : 'treatment';
      if (wanted === 'holdout' ? held : !held && arm === wanted) return userId;
    }
  };

  it('assigns nothing and changes nothing when EXPERIMENTS_CONFIG is unset', async () => {
    sut = new ExperimentsService(parseGatewayConfig({ TRACKING_SECRET }));
    await sut.onModuleInit();
    expect(sut.enabled).toBe(false);
    expect(sut.assign({ userId: 'u1', requestId: 'r1' })).toBeUndefined();
    expect(sut.view()).toEqual({ enabled: false });
    expect(() => sut!.reload()).toThrow(
      new AdfunnelError(
        'conflict',
        'no experiments to reload: the gateway was started without EXPERIMENTS_CONFIG',
        'experiments_off',
      ),
    );
    expect(process.listeners('SIGHUP')).toHaveLength(0);
  });

  it("assigns each user an arm with its overrides, and the holdout none; the auction gets the arm's", () => {
    const sut = serviceOf();
    const control = sut.assign({ userId: userIn('control'), requestId: 'r1' })!;
    const treatment = sut.assign({ userId: userIn('treatment'), requestId: 'r2' })!;
    const holdout = sut.assign({ userId: userIn('holdout'), requestId: 'r3' })!;
    expect(control.label).toBe('auction:pricing/control');
    expect(auctionOverridesOf(control, 3)).toEqual({ mechanism: 'gsp' });
    expect(treatment.label).toBe('auction:pricing/treatment');
    expect(auctionOverridesOf(treatment, 3)).toEqual({
      mechanism: 'first_price',
      utilityWeights: { hide: 2 },
      slots: 1,
    });
    expect(holdout).toMatchObject({ holdout: true, label: 'holdout' });
    expect(auctionOverridesOf(holdout, 3)).toEqual({});
  });

  it('caps the ad load at the arm’s slots, never raising it', () => {
    const sut = serviceOf();
    const treatment = sut.assign({ userId: userIn('treatment'), requestId: 'r' })!;
    expect(auctionOverridesOf(treatment, 3).slots).toBe(1);
    const raised = { ...treatment, overrides: { slots: 5 } };
    expect(auctionOverridesOf(raised, 2).slots).toBe(2);
  });

  it('reloads a changed file, reports the same bytes as unchanged, and shows the hash and the layers', () => {
    const sut = serviceOf();
    const before = sut.view();
    expect(before).toMatchObject({
      enabled: true,
      path: file,
      holdout: { share: 0.1 },
      launches: [],
      layers: [
        {
          name: 'auction',
          unit: 'user',
          experiments: [
            {
              name: 'pricing',
              arms: [
                { name: 'control', share: 0.5, overrides: { mechanism: 'gsp' } },
                { name: 'treatment', share: 0.5 },
              ],
            },
          ],
        },
      ],
      lastReloadError: null,
    });
    const hash = (before as { hash: string }).hash;
    expect(sut.reload()).toEqual({ outcome: 'unchanged', previousHash: hash, hash });

    const everyoneTreated = structuredClone(TWO_ARMS);
    everyoneTreated.layers[0].experiments[0].arms = [everyoneTreated.layers[0].experiments[0].arms[1]];
    everyoneTreated.layers[0].experiments[0].arms[0].share = 1;
    write(everyoneTreated);
    const outcome = sut.reload();
    expect(outcome).toMatchObject({ outcome: 'reloaded', previousHash: hash });
    expect(outcome.hash).not.toBe(hash);
    expect(sut.assign({ userId: userIn('control'), requestId: 'r' })?.label).toBe(
      'auction:pricing/treatment',
    );
  });

  it('keeps serving the previous config when a reload does not validate, and says why', () => {
    const sut = serviceOf();
    const { hash } = sut.view() as { hash: string };
    const bad = structuredClone(TWO_ARMS);
    bad.layers[0].experiments[0].arms[1].share = 0.7;
    write(bad);
    let error: unknown;
    try {
      sut.reload();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AdfunnelError);
    expect(error).toMatchObject({
      code: 'invalid_request',
      reason: 'invalid_experiments_config',
      message: `not reloaded, still serving sha256 ${hash}: EXPERIMENTS_CONFIG: ${file}: layers[0].experiments[0].arms: shares sum to 1.2, more than 1`,
    });
    expect(sut.view()).toMatchObject({ hash, lastReloadError: expect.stringContaining('shares sum to 1.2') });
    expect(sut.assign({ userId: userIn('control'), requestId: 'r' })?.label).toBe('auction:pricing/control');

    write(TWO_ARMS);
    expect(sut.reload()).toMatchObject({ outcome: 'unchanged', hash });
    expect(sut.view()).toMatchObject({ lastReloadError: null });
  });

  it('re-reads the file on SIGHUP, and stops listening when the module closes', async () => {
    const sut = serviceOf({ EXPERIMENTS_WATCH_MS: '0' });
    await sut.onModuleInit();
    expect(process.listeners('SIGHUP')).toHaveLength(1);
    const { hash } = sut.view() as { hash: string };
    write({ layers: [] });
    process.emit('SIGHUP', 'SIGHUP');
    expect((sut.view() as { hash: string }).hash).not.toBe(hash);
    expect(sut.assign({ userId: userIn('control'), requestId: 'r' })?.label).toBe('');
    sut.onModuleDestroy();
    expect(process.listeners('SIGHUP')).toHaveLength(0);
  });

  it('re-reads the file when it changes, and keeps the old config while the new one is bad', async () => {
    const sut = serviceOf({ EXPERIMENTS_WATCH_MS: '20' });
    await sut.onModuleInit();
    write('{ not json');
    await eventually(
      'the bad file seen',
      () => Promise.resolve(sut.view()),
      (view) => view.enabled && view.lastReloadError !== null,
      { timeoutMs: 5000, intervalMs: 20 },
    );
    expect(sut.assign({ userId: userIn('treatment'), requestId: 'r' })?.label).toBe(
      'auction:pricing/treatment',
    );
    write({ layers: [] });
    await eventually(
      'the good file served',
      () => Promise.resolve(sut.assign({ userId: userIn('treatment'), requestId: 'r' })?.label),
      (label) => label === '',
      { timeoutMs: 5000, intervalMs: 20 },
    );
  });
});
