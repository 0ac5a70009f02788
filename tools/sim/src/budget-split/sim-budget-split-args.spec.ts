import { describe, expect, it } from '@jest/globals';
import { DAY_MARKETPLACE } from '../day/sim-day-args.js';
import { UsageError } from '../sim-cli-args.js';
import { parseSimBudgetSplitArgs } from './sim-budget-split-args.js';

describe(parseSimBudgetSplitArgs.name, () => {
  it('defaults to all four designs of one ad versus three on $1 budgets, 6000 visits in 60 s', () => {
    expect(parseSimBudgetSplitArgs([])).toMatchObject({
      command: 'budget-split',
      spec: DAY_MARKETPLACE,
      population: DAY_MARKETPLACE.users,
      requests: 6000,
      daySeconds: 60,
      budgetUsd: 1,
      controlSlots: 1,
      treatmentSlots: 3,
      designs: ['global-control', 'global-treatment', 'naive', 'budget-split'],
      basePort: 4700,
    });
  });

  it('reads the options', () => {
    expect(
      parseSimBudgetSplitArgs([
        '--budget',
        '0.5',
        '--designs',
        'naive,budget-split',
        '--treatment-slots',
        '2',
      ]),
    ).toMatchObject({ budgetUsd: 0.5, designs: ['naive', 'budget-split'], treatmentSlots: 2 });
  });

  it.each([
    [['--designs', 'naive,split'], '--designs: "split" is not one of global-control'],
    [['--designs', 'naive,naive'], '--designs names naive twice'],
    [['--control-slots', '3'], 'are both 3: the treatment must change the ad load'],
    [['--treatment-slots', '11'], '--treatment-slots expects 1 to 10'],
    [['--budget', '0'], '--budget expects a number > 0'],
    [['--users', '999999'], 'exceeds the marketplace'],
    [['--colour', 'red'], "Unknown option '--colour'"],
  ])('refuses %j saying why', (argv, message) => {
    expect(() => parseSimBudgetSplitArgs(argv)).toThrow(UsageError);
    expect(() => parseSimBudgetSplitArgs(argv)).toThrow(message);
  });
});
