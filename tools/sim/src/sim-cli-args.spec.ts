import { describe, expect, it } from '@jest/globals';
import { DEMO_MARKETPLACE } from '@adfunnel/simulator';
import { UsageError, parseSimCliArgs } from './sim-cli-args.js';

describe(parseSimCliArgs.name, () => {
  it('defaults to 1000 requests against the demo marketplace at 50 requests/s', () => {
    const sut = parseSimCliArgs(['run']);
    expect(sut).toMatchObject({
      command: 'run',
      gateway: 'http://127.0.0.1:3100',
      spec: DEMO_MARKETPLACE,
      maxRequests: 1000,
      durationMs: null,
      rate: 50,
      concurrency: 8,
      population: 10_000,
      arrivalsPerDay: 40_000,
      oracleSample: 0.1,
      organicPerVisit: 2,
      retrievalLimit: 200,
      progress: true,
      apiKeys: 'var/demo-api-keys.json',
    });
  });

  it('reads a smaller seeded catalog, a population, a duration and a JSON path', () => {
    const sut = parseSimCliArgs([
      'run',
      '--spec-advertisers',
      '60',
      '--spec-ads',
      '3000',
      '--spec-users',
      '2000',
      '--users',
      '500',
      '--duration',
      '30',
      '--rate',
      '0',
      '--json',
      'out.json',
      '--no-progress',
      '--gateway',
      'http://127.0.0.1:4200/',
      '--api-keys',
      'keys.json',
    ]);
    expect(sut).toMatchObject({
      spec: { ...DEMO_MARKETPLACE, advertisers: 60, ads: 3000, users: 2000 },
      population: 500,
      arrivalsPerDay: 2000,
      maxRequests: null,
      durationMs: 30_000,
      rate: 0,
      json: 'out.json',
      progress: false,
      gateway: 'http://127.0.0.1:4200',
      apiKeys: 'keys.json',
    });
  });

  it.each([
    [[], /missing command/],
    [['serve'], /unknown command "serve"/],
    [['run', '--requests', '0'], /--requests expects an integer >= 1, got "0"/],
    [['run', '--users', '20000'], /--users 20000 exceeds the marketplace's 10000 users/],
    [['run', '--oracle-sample', '1.5'], /--oracle-sample expects a share from 0 to 1/],
    [['run', '--gateway', 'localhost:3100'], /--gateway expects an http\(s\) URL/],
    [['run', '--slots', '11'], /--slots expects 1 to 10/],
    [['run', '--colour', 'red'], /Unknown option '--colour'/],
    [['run', '--api-keys', ''], /--api-keys needs a file name/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSimCliArgs(argv)).toThrow(UsageError);
    expect(() => parseSimCliArgs(argv)).toThrow(message);
  });

  it('answers help', () => {
    expect(parseSimCliArgs(['--help'])).toEqual({ command: 'help' });
  });
});
