import { describe, expect, it } from '@jest/globals';
import { parseCatalogCliArgs } from './catalog-cli-args.js';

describe(parseCatalogCliArgs.name, () => {
  it('parses seed with every override', () => {
    const sut = parseCatalogCliArgs([
      'seed',
      '--if-empty',
      '--seed',
      '7',
      '--advertisers',
      '20',
      '--ads',
      '1000',
      '--users',
      '0',
      '--batch-size',
      '250',
    ]);

    expect(sut).toEqual({
      command: 'seed',
      ifEmpty: true,
      json: false,
      overrides: { seed: 7, advertisers: 20, ads: 1000, users: 0 },
      batchSize: 250,
    });
  });

  it('parses plain commands', () => {
    expect(parseCatalogCliArgs(['migrate']).command).toBe('migrate');
    expect(parseCatalogCliArgs(['status', '--json'])).toMatchObject({ command: 'status', json: true });
    expect(parseCatalogCliArgs(['--help']).command).toBe('help');
    expect(parseCatalogCliArgs(['seed', '-h']).command).toBe('help');
    expect(parseCatalogCliArgs(['help']).command).toBe('help');
  });

  it('parses api-keys issue, list and revoke', () => {
    expect(parseCatalogCliArgs(['api-keys', 'issue', '--advertiser', 'all']).apiKeys).toEqual({
      action: 'issue',
      advertisers: 'all',
      label: 'default',
      out: undefined,
    });
    expect(
      parseCatalogCliArgs(['api-keys', 'issue', '--advertiser', '4,2', '--label', 'prod', '--out', 'k.json'])
        .apiKeys,
    ).toEqual({ action: 'issue', advertisers: [4, 2], label: 'prod', out: 'k.json' });
    const hash = 'ab'.repeat(32);
    expect(parseCatalogCliArgs(['api-keys', 'revoke', '--key-hash', hash]).apiKeys).toEqual({
      action: 'revoke',
      keyHash: hash,
    });
    expect(parseCatalogCliArgs(['api-keys', 'list', '--advertiser', '3,1']).apiKeys).toEqual({
      action: 'list',
      advertisers: [3, 1],
    });
    expect(parseCatalogCliArgs(['migrate']).apiKeys).toBeUndefined();
  });

  it.each([
    [['api-keys'], 'api-keys needs an action: issue, list or revoke'],
    [['api-keys', 'rotate'], 'unknown api-keys action "rotate"; expected issue, list or revoke'],
    [['api-keys', 'list'], 'api-keys list needs --advertiser <id|all>'],
    [['api-keys', 'list', '--advertiser', '1', '--label', 'x'], '--label does not apply to api-keys list'],
    [['api-keys', 'issue'], 'api-keys issue needs --advertiser <id|all>'],
    [['api-keys', 'issue', '--advertiser', 'acme'], '--advertiser expects an id >= 1'],
    [['api-keys', 'issue', '--advertiser', '1,,2'], '--advertiser expects an id >= 1'],
    [['api-keys', 'issue', '--advertiser', '0'], '--advertiser expects an id >= 1'],
    [['api-keys', 'issue', '--advertiser', '1', '--label', ''], '--label must be 1-100 characters'],
    [
      ['api-keys', 'issue', '--advertiser', '1', '--key-hash', 'ab'],
      '--key-hash applies only to api-keys revoke',
    ],
    [['api-keys', 'revoke'], 'api-keys revoke needs --key-hash <sha-256 hex>'],
    [
      ['api-keys', 'revoke', '--key-hash', 'ABC'],
      "--key-hash expects the 64 lower-case hex characters of the key's SHA-256",
    ],
    [
      ['api-keys', 'revoke', '--key-hash', 'ab'.repeat(32), '--advertiser', '1'],
      '--advertiser applies only to api-keys issue',
    ],
    [['api-keys', 'issue', 'now', '--advertiser', '1'], 'expected one command, got "api-keys issue now"'],
    [['seed', '--advertiser', '1'], '--advertiser applies only to the api-keys command'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCatalogCliArgs(argv)).toThrow(message);
  });

  it.each([
    [[], 'missing command'],
    [['drop'], 'unknown command "drop"'],
    [['seed', 'now'], 'expected one command, got "seed now"'],
    [['seed', '--ads', 'many'], '--ads expects an integer >= 1, got "many"'],
    [['seed', '--ads', '0'], '--ads expects an integer >= 1, got "0"'],
    [['seed', '--users', '-3'], '--users'],
    [['seed', '--ads', '1.5'], '--ads expects an integer >= 1, got "1.5"'],
    [['migrate', '--ads', '10'], '--ads applies only to the seed command'],
    [['seed', '--json'], '--json applies only to the status command'],
    [['seed', '--colour'], "Unknown option '--colour'"],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCatalogCliArgs(argv)).toThrow(message);
  });
});
