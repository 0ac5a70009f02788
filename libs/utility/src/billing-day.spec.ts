import { describe, expect, it } from '@jest/globals';
import { billingDay, isTimeZone } from './billing-day.js';

describe(billingDay.name, () => {
  const instant = Date.UTC(2026, 11, 1, 23, 30); // 2026-12-01 23:30 UTC

  it('names the day of the instant in the given zone', () => {
    expect(billingDay(instant, 'UTC')).toBe('2026-12-01');
    expect(billingDay(instant, 'Asia/Tokyo')).toBe('2026-12-02');
    expect(billingDay(Date.UTC(2026, 11, 1, 3), 'America/Los_Angeles')).toBe('2026-11-30');
  });

  it('refuses an unknown zone, naming it', () => {
    expect(() => billingDay(instant, 'Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('Europe/Paris')).toBe(true);
  });
});
