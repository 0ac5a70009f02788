import { describe, expect, it } from '@jest/globals';
import { type ExperimentRequestRow, analyzeExperiments } from '@adfunnel/experiments';
import { UsageError, parseExperimentsCliArgs } from './experiments-cli-args.js';
import { formatExperimentsReport } from './format-report.js';

describe(parseExperimentsCliArgs.name, () => {
  it('reads report and its options', () => {
    expect(parseExperimentsCliArgs(['report'])).toEqual({ run: { command: 'report' }, json: false });
    expect(
      parseExperimentsCliArgs([
        'report',
        '--window-ms',
        '600000',
        '--settle-ms',
        '0',
        '--limit',
        '1000',
        '--request-id-prefix',
        'sim-1-',
        '--config',
        'var/experiments.json',
        '--logging-url',
        'http://127.0.0.1:4500/',
        '--json',
      ]),
    ).toEqual({
      run: {
        command: 'report',
        windowMs: 600_000,
        settleMs: 0,
        limit: 1000,
        requestIdPrefix: 'sim-1-',
        config: 'var/experiments.json',
      },
      loggingUrl: 'http://127.0.0.1:4500',
      json: true,
    });
    expect(parseExperimentsCliArgs(['--help']).run).toEqual({ command: 'help' });
    expect(
      parseExperimentsCliArgs([
        'report',
        '--pre-days',
        '0.5',
        '--pre-request-id-prefix',
        'sim-0-',
        '--bucket',
        'hour',
        '--html',
        'report.html',
      ]).run,
    ).toEqual({
      command: 'report',
      preDays: 0.5,
      preRequestIdPrefix: 'sim-0-',
      bucket: 'hour',
      html: 'report.html',
    });
    expect(
      parseExperimentsCliArgs(['report', '--pre-from', '2026-12-01', '--pre-to', '2026-12-07T12:00:00Z']).run,
    ).toEqual({ command: 'report', preFrom: '2026-12-01', preTo: '2026-12-07T12:00:00Z' });
  });

  it('refuses bad usage, saying what', () => {
    const refused = (argv: string[]) => {
      try {
        parseExperimentsCliArgs(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${argv.join(' ')}`);
    };
    expect(refused([])).toBe('name a command: report');
    expect(refused(['status'])).toBe('unknown command "status" (expected report)');
    expect(refused(['report', 'extra'])).toBe('unexpected argument "extra"');
    expect(refused(['report', '--window-ms', '0'])).toBe(
      '--window-ms must be an integer of at least 1, got "0"',
    );
    expect(refused(['report', '--limit', '1.5'])).toMatch(/^--limit must be an integer/);
    expect(refused(['report', '--logging-url', 'ftp://x'])).toMatch(
      /^--logging-url must be an http\(s\) URL/,
    );
    expect(refused(['report', '--nope'])).toMatch(/nope/);
    expect(refused(['report', '--pre-days', '0'])).toBe(
      '--pre-days must be a number of days above 0 and at most 90, got "0"',
    );
    expect(refused(['report', '--pre-days', '1', '--pre-from', '2026-12-01'])).toBe(
      'give --pre-days or --pre-from and --pre-to, not both',
    );
    expect(refused(['report', '--pre-to', '2026-12-01'])).toBe(
      '--pre-from and --pre-to go together (only --pre-to given)',
    );
    expect(refused(['report', '--pre-from', 'last week', '--pre-to', '2026-12-01'])).toMatch(
      /^--pre-from: "last week" is not a time: give an ISO 8601 date/,
    );
    expect(refused(['report', '--pre-from', '2026-12-02', '--pre-to', '2026-12-01'])).toBe(
      '--pre-from (2026-12-02T00:00:00.000Z) must be before --pre-to (2026-12-01T00:00:00.000Z)',
    );
    expect(refused(['report', '--bucket', 'week'])).toBe('--bucket must be day or hour, got "week"');
    expect(refused(['report', '--html', ''])).toBe('--html needs a file');
  });
});

describe(formatExperimentsReport.name, () => {
  it('prints each arm, each comparison with its interval and lift, and the sample-ratio checks', () => {
    const rows: ExperimentRequestRow[] = [];
    const add = (userId: string, label: string, clicks: number) =>
      rows.push({
        requestId: `r${rows.length}`,
        userId,
        label,
        ads: 3,
        impressions: 3,
        clicks,
        conversions: 0,
        hides: 0,
        revenue: clicks * 0.5,
        advertiserValue: clicks * 0.6,
      });
    for (let i = 0; i < 10; i++) add(`c${i}`, 'auction:pricing/control', i % 2);
    for (let i = 0; i < 12; i++) add(`t${i}`, 'auction:pricing/treatment', i % 3 === 0 ? 2 : 0);
    for (let i = 0; i < 5; i++) add(`h${i}`, 'holdout', i % 2);
    const analysis = analyzeExperiments(rows, {
      shares: {
        holdout: 0.2,
        layers: [
          {
            name: 'auction',
            unit: 'user',
            arms: [
              { experiment: 'pricing', arm: 'control', share: 0.5 },
              { experiment: 'pricing', arm: 'treatment', share: 0.5 },
            ],
          },
        ],
      },
    });
    const text = formatExperimentsReport({
      ...analysis,
      window: { since: 0, until: 3_600_000, limit: 500_000, requests: rows.length, truncated: false },
      shares: { source: 'query' },
    });
    expect(text).toContain('27 labelled requests, 27 users; shares from --config');
    expect(text).toContain(
      'layer auction: sample ratio over users (seen/expected: pricing/control 10/11.0, pricing/treatment 12/11.0)',
    );
    expect(text).toMatch(/^ {4}control +0\.5 +10 +10 +30 +5 +0\.1667 /m);
    expect(text).toMatch(/^ {4}treatment against control:$/m);
    expect(text).toMatch(/^ {6}CTR +0\.1667 +0\.2222 +\+0\.0556 \[-0\.\d+, \+0\.\d+\] +0\.\d+ +\+33\.3% \[/m);
    expect(text).toMatch(/^ {6}conversions\/user +0\.000 +0\.000 +\+0\.000 /m);
    expect(text).toContain(
      'holdout against the rest: sample ratio over users (seen/expected: holdout 5/5.4, rest 22/21.6)',
    );
    expect(text).toMatch(/^ {4}rest against holdout:$/m);
    expect(text).not.toContain('CUPED');

    // With a pre-period: a CUPED column beside each plain comparison, the plain columns as they were.
    const preRows = rows.map((r) => ({ ...r, requestId: `pre-${r.requestId}`, label: '' }));
    const withPre = formatExperimentsReport({
      ...analyzeExperiments(rows, { preRows }),
      window: { since: 0, until: 3_600_000, limit: 500_000, requests: rows.length, truncated: false },
      prePeriod: { since: -3_600_000, until: 0, limit: 500_000, requests: preRows.length, truncated: false },
      shares: { source: 'query' },
    });
    expect(withPre).toContain(
      'CUPED pre-period 1969-12-31T23:00:00.000Z to 1970-01-01T00:00:00.000Z: 27 requests, 27 users; a user with none has covariate 0',
    );
    expect(withPre).toMatch(/CUPED difference \[95% CI\] +CI width +rho$/m);
    // The same clicks in the pre-period explain all of the difference too (theta 1): CUPED's interval is 0 wide.
    expect(withPre).toMatch(
      /^ {6}clicks\/user +0\.500 +0\.667 +\+0\.167 \[.*\] +0\.\d{4} +\+33\.3% \[.*\] +[+-]0\.000 \[[+-]0\.000, [+-]0\.000\] +0\.000 +1\.000$/m,
    );
  });
});
