const DAY_FORMATS = new Map<string, Intl.DateTimeFormat>();

/**
 * The calendar day ('YYYY-MM-DD') an instant falls on in an IANA time zone: budgets, spend and
 * reports are per advertiser day, and an advertiser in Tokyo starts a new day nine hours before UTC.
 */
export function billingDay(epochMs: number, timeZone: string): string {
  if (!Number.isFinite(epochMs)) throw new RangeError(`billingDay needs a finite epoch ms, got ${epochMs}`);
  const parts = dayFormat(timeZone).formatToParts(new Date(epochMs));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** True for a time zone name the runtime knows (e.g. 'UTC', 'Europe/Paris'). */
export function isTimeZone(timeZone: string): boolean {
  try {
    dayFormat(timeZone);
    return true;
  } catch {
    return false;
  }
}

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let format = DAY_FORMATS.get(timeZone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
    } catch {
      throw new RangeError(
        `unknown time zone "${timeZone}" (expected an IANA name such as UTC or Europe/Paris)`,
      );
    }
    DAY_FORMATS.set(timeZone, format);
  }
  return format;
}
