import { describe, expect, it } from '@jest/globals';
import { HOUR_MS, localDayOf } from './local-day.js';

describe(localDayOf.name, () => {
  it('is the UTC calendar day in UTC', () => {
    expect(localDayOf(Date.UTC(2026, 2, 2, 13, 5), 'UTC')).toEqual({
      day: '2026-03-02',
      startMs: Date.UTC(2026, 2, 2),
      endMs: Date.UTC(2026, 2, 3),
    });
  });

  it('starts a Tokyo day nine hours before UTC midnight', () => {
    // 20:00 UTC on 1 December is 05:00 on 2 December in Tokyo.
    expect(localDayOf(Date.UTC(2026, 11, 1, 20), 'Asia/Tokyo')).toEqual({
      day: '2026-12-02',
      startMs: Date.UTC(2026, 11, 1, 15),
      endMs: Date.UTC(2026, 11, 2, 15),
    });
  });

  it('gives the days a daylight-saving change shortens and lengthens 23 and 25 hours', () => {
    const spring = localDayOf(Date.UTC(2026, 2, 8, 18), 'America/New_York');
    const autumn = localDayOf(Date.UTC(2026, 10, 1, 18), 'America/New_York');

    expect(spring).toMatchObject({ day: '2026-03-08', startMs: Date.UTC(2026, 2, 8, 5) });
    expect(spring.endMs - spring.startMs).toBe(23 * HOUR_MS);
    expect(autumn).toMatchObject({ day: '2026-11-01', startMs: Date.UTC(2026, 10, 1, 4) });
    expect(autumn.endMs - autumn.startMs).toBe(25 * HOUR_MS);
  });

  it('handles a zone a quarter of an hour off the hour, across a month end', () => {
    const day = localDayOf(Date.UTC(2026, 0, 31, 20), 'Asia/Kathmandu');

    expect(day).toEqual({
      day: '2026-02-01',
      startMs: Date.UTC(2026, 0, 31, 18, 15),
      endMs: Date.UTC(2026, 1, 1, 18, 15),
    });
  });

  it('starts at the instant just after the previous day ends', () => {
    const day = localDayOf(Date.UTC(2026, 5, 15, 12), 'Europe/Paris');

    expect(localDayOf(day.startMs, 'Europe/Paris').day).toBe(day.day);
    expect(localDayOf(day.startMs - 1, 'Europe/Paris').day).toBe('2026-06-14');
    expect(localDayOf(day.endMs - 1, 'Europe/Paris').day).toBe(day.day);
  });
});
