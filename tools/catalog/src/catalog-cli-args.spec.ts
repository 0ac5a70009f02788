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
