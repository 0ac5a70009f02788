import { describe, expect, it } from '@jest/globals';
import { parseReportTime, resolvePrePeriod } from './pre-period.js';

const DAY = 86_400_000;
const window = { since: Date.UTC(2026, 11, 8), until: Date.UTC(2026, 11, 8, 1) };

describe(resolvePrePeriod.name, () => {
  it('takes two times, or the N days before the window, or none', () => {
    expect(resolvePrePeriod({}, window)).toBeUndefined();
    expect(resolvePrePeriod({ preDays: 7 }, window)).toEqual({
      since: window.since - 7 * DAY,
      until: window.since,
    });
    expect(resolvePrePeriod({ preDays: 0.5 }, window)).toEqual({
      since: window.since - DAY / 2,
      until: window.since,
    });
    expect(resolvePrePeriod({ preFrom: '2026-12-01', preTo: '2026-12-08T00:00:00Z' }, window)).toEqual({
      since: Date.UTC(2026, 11, 1),
      until: window.since,
    });
    expect(
      resolvePrePeriod({ preFrom: String(window.since - DAY), preTo: '2026-12-07T22:00:00+01:00' }, window),
    ).toEqual({
      since: window.since - DAY,
      until: Date.UTC(2026, 11, 7, 21),
    });
  });

  it('refuses a pre-period that overlaps or follows the window, bad dates and bad combinations, saying which', () => {
    expect(() => resolvePrePeriod({ preFrom: '2026-12-01', preTo: '2026-12-08T00:30:00Z' }, window)).toThrow(
      "the pre-period 2026-12-01T00:00:00.000Z to 2026-12-08T00:30:00.000Z overlaps the window 2026-12-08T00:00:00.000Z to 2026-12-08T01:00:00.000Z: it must end at or before the window's start",
    );
    expect(() => resolvePrePeriod({ preFrom: '2026-12-09', preTo: '2026-12-10' }, window)).toThrow(
      /is after the window/,
    );
    expect(() => resolvePrePeriod({ preFrom: '2026-12-05', preTo: '2026-12-01' }, window)).toThrow(
      'preFrom (2026-12-05T00:00:00.000Z) must be before preTo (2026-12-01T00:00:00.000Z)',
    );
    expect(() => resolvePrePeriod({ preFrom: '2026-12-01' }, window)).toThrow(
      'preFrom and preTo go together (only preFrom given)',
    );
    expect(() => resolvePrePeriod({ preDays: 1, preTo: '2026-12-01' }, window)).toThrow(
      'give preDays or preFrom and preTo, not both',
    );
    expect(() => resolvePrePeriod({ preDays: 0 }, window)).toThrow(
      /preDays must be a number of days above 0/,
    );
    expect(() => parseReportTime('preFrom', 'yesterday')).toThrow(
      /^preFrom: "yesterday" is not a time: give an ISO 8601 date/,
    );
    // A date-time without its zone would be read in the machine's local time: refused.
    expect(() => parseReportTime('preTo', '2026-12-01T06:00:00')).toThrow(
      /preTo: "2026-12-01T06:00:00" is not a time/,
    );
    expect(() => parseReportTime('preTo', '2026-13-45')).toThrow(/is not a time/);
  });
});
