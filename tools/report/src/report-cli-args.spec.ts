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

  it('asks for help', () => {
    expect(parseReportCliArgs(['--help']).command).toBe('help');
  });
});
