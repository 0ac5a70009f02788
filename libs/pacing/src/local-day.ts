import { billingDay } from '@adfunnel/utility';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** An advertiser's calendar day: its name and the instants it starts and ends at (23 to 25 hours). */
export interface LocalDay {
  readonly day: string;
  readonly startMs: number;
  readonly endMs: number;
}

const CLOCK_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** The local day of `epochMs` in an IANA time zone, with its bounds as epoch ms. */
export function localDayOf(epochMs: number, timeZone: string): LocalDay {
  const day = billingDay(epochMs, timeZone);
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  return {
    day,
    startMs: localMidnight(year, month, date, timeZone),
    endMs: localMidnight(year, month, date + 1, timeZone),
  };
}

/** The first instant of a calendar date in a zone (Date.UTC normalises date + 1 across months). */
function localMidnight(year: number, month: number, date: number, timeZone: string): number {
  const utcMidnight = Date.UTC(year, month - 1, date);
  // Two passes: the zone's offset at the guess, then at the corrected guess (DST on that day).
  let guess = utcMidnight - offsetMs(utcMidnight, timeZone);
  guess = utcMidnight - offsetMs(guess, timeZone);
  // Where midnight does not exist (a DST jump at 00:00), the day starts at the first instant it has.
  const target = billingDay(utcMidnight + 12 * HOUR_MS, 'UTC');
  while (billingDay(guess, timeZone) !== target) guess += 15 * 60_000;
  while (billingDay(guess - 15 * 60_000, timeZone) === target) guess -= 15 * 60_000;
  return guess;
}

/** Local wall time minus UTC at an instant, in ms (Tokyo: +9 h). */
function offsetMs(epochMs: number, timeZone: string): number {
  const parts = clockFormat(timeZone).formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return local - Math.floor(epochMs / 1000) * 1000;
}

function clockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = CLOCK_FORMATS.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    CLOCK_FORMATS.set(timeZone, format);
  }
  return format;
}
