import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../sim-cli-args.js';
import { DAY_MARKETPLACE, parseSimDayArgs } from './sim-day-args.js';

describe(parseSimDayArgs.name, () => {
  it('defaults to a CPM day of 7000 visits in 200 s after a history day of 2000', () => {
    expect(parseSimDayArgs([])).toMatchObject({
      command: 'day',
      spec: DAY_MARKETPLACE,
      dayRequests: 7000,
      daySeconds: 200,
      historyRequests: 2000,
      historySeconds: 45,
      budgetFraction: [0.35, 0.7],
      bidTypes: 'cpm',
      pacing: 'on',
      basePort: 4700,
    });
  });

  it('reads the options', () => {
    expect(
      parseSimDayArgs([
        '--requests',
        '900',
        '--budget-fraction',
        '0.2-0.5',
        '--pacing',
        'off',
        '--bid-types',
        'seeded',
      ]),
    ).toMatchObject({ dayRequests: 900, budgetFraction: [0.2, 0.5], pacing: 'off', bidTypes: 'seeded' });
  });

  it.each([
    [['--budget-fraction', '0.7-0.3'], '--budget-fraction expects A-B with 0 < A <= B < 1'],
    [['--pacing', 'maybe'], '--pacing expects on or off'],
    [['--bid-types', 'cpc'], '--bid-types expects cpm or seeded'],
    [['--day-seconds', '0'], '--day-seconds expects a number > 0'],
    [['--limited-share', '2'], '--limited-share expects a share from 0 to 1'],
    [['--users', '999999'], 'exceeds the marketplace'],
    [['--colour', 'red'], "Unknown option '--colour'"],
  ])('refuses %j saying why', (argv, message) => {
    expect(() => parseSimDayArgs(argv)).toThrow(UsageError);
    expect(() => parseSimDayArgs(argv)).toThrow(message);
  });
});
