import { describe, expect, it } from '@jest/globals';
import { parseReportCliArgs } from './report-cli-args.js';

describe(parseReportCliArgs.name, () => {
  it('reads a campaigns report over one day or a range, filtered', () => {
    expect(parseReportCliArgs(['campaigns', '--from', '2026-12-01'])).toEqual({
      command: 'campaigns',
      from: '2026-12-01',
      to: '2026-12-01',
      json: false,
    });
    expect(
      parseReportCliArgs([
        'campaigns',
        '--from',
        '2026-11-01',
        '--to',
        '2026-11-30',
        '--advertiser',
        '7',
        '--json',
      ]),
    ).toEqual({ command: 'campaigns', from: '2026-11-01', to: '2026-11-30', advertiserId: 7, json: true });
  });

  it('says what is wrong with a bad command line', () => {
    expect(() => parseReportCliArgs([])).toThrow('name a report: campaigns');
    expect(() => parseReportCliArgs(['spend', '--from', '2026-12-01'])).toThrow('unknown report "spend"');
    expect(() => parseReportCliArgs(['campaigns'])).toThrow('--from is required');
    expect(() => parseReportCliArgs(['campaigns', '--from', 'x', '--campaign', '0'])).toThrow(
      '--campaign must be a positive integer id, got "0"',
    );
    expect(() => parseReportCliArgs(['campaigns', '--from', 'x', '--color'])).toThrow(/--color/);
  });

  it('reads an examination fit over a window, with its threshold and output file', () => {
    expect(parseReportCliArgs(['examination'])).toEqual({
      command: 'examination',
      minImpressions: 200,
      json: false,
    });
    expect(
      parseReportCliArgs([
        'examination',
        '--since',
        '2026-12-01T00:00:00Z',
        '--until',
        '2026-12-02',
        '--min-impressions',
        '50',
        '--write',
        'var/examination.json',
      ]),
    ).toEqual({
      command: 'examination',
      since: Date.UTC(2026, 11, 1),
      until: Date.UTC(2026, 11, 2),
      minImpressions: 50,
      write: 'var/examination.json',
      json: false,
    });
    expect(() => parseReportCliArgs(['examination', '--min-impressions', '0'])).toThrow(
      '--min-impressions must be a positive integer, got "0"',
    );
    expect(() => parseReportCliArgs(['examination', '--since', 'yesterday'])).toThrow(
      '--since must be an ISO date or date-time, got "yesterday"',
    );
  });

  it('reads a reserve fit with the reserve the log was served under', () => {
    expect(parseReportCliArgs(['reserves'])).toEqual({
      command: 'reserves',
      currentCpm: 0.5,
      minAuctions: 200,
      json: false,
    });
    expect(
      parseReportCliArgs([
        'reserves',
        '--current-cpm',
        '1.2',
        '--min-auctions',
        '50',
        '--since',
        '2026-12-01',
      ]),
    ).toEqual({
      command: 'reserves',
      currentCpm: 1.2,
      minAuctions: 50,
      since: Date.UTC(2026, 11, 1),
      json: false,
    });
    expect(() => parseReportCliArgs(['reserves', '--current-cpm=-1'])).toThrow(
      '--current-cpm must be a non-negative USD CPM, got "-1"',
    );
    expect(() => parseReportCliArgs(['reserves', '--min-auctions', 'x'])).toThrow(
      '--min-auctions must be a positive integer, got "x"',
    );
  });

  it('asks for help', () => {
    expect(parseReportCliArgs(['--help']).command).toBe('help');
  });
});
