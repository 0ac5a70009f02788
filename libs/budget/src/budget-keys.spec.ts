import { describe, expect, it } from '@jest/globals';
import { BudgetKeys } from './budget-keys.js';

describe(BudgetKeys.name, () => {
  const sut = new BudgetKeys('adf');

  it('lays the state out under the prefix, per billing day and campaign', () => {
    expect(sut.spend('2026-12-01')).toBe('adf:spend:2026-12-01');
    expect(sut.reservations('2026-12-01', 7)).toBe('adf:reserved:2026-12-01:7');
    expect(sut.reservationAmounts('2026-12-01', 7)).toBe('adf:reserved-amount:2026-12-01:7');
    expect(sut.reservedSum('2026-12-01', 7)).toBe('adf:reserved-sum:2026-12-01:7');
    expect(sut.frequency('u00042')).toBe('adf:fcap:u00042');
  });

  it('refuses what would make a wrong key, saying why', () => {
    expect(() => new BudgetKeys('')).toThrow('the budget key prefix must not be empty');
    expect(() => sut.spend('2026-12-1')).toThrow('billing day must be YYYY-MM-DD, got "2026-12-1"');
    expect(() => sut.reservations('2026-12-01', 1.5)).toThrow('campaign id must be an integer, got 1.5');
    expect(() => sut.frequency('')).toThrow('a frequency cap needs a non-empty user id');
  });
});
