import type { ValueTransformer } from 'typeorm';

const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** True for an IANA time zone name this runtime knows ('UTC', 'Europe/Paris'); offsets such as '+01:00' are not names. */
export function isIanaTimeZone(name: string): boolean {
  if (typeof name !== 'string' || name.length > 64 || !IANA_NAME.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * An advertiser's time zone: checked when written, because the billing day of every charge is
 * computed in it and a name the runtime cannot resolve would stop billing later, far from the cause.
 */
export class TimeZoneTransformer implements ValueTransformer {
  to(value: string | null | undefined): string | null | undefined {
    if (value === null || value === undefined) return value;
    if (!isIanaTimeZone(value)) {
      throw new TypeError(
        `time zone ${JSON.stringify(value)} is not an IANA time zone name such as UTC or Europe/Paris`,
      );
    }
    return value;
  }

  from(value: string | null): string | null {
    return value;
  }
}

export const timeZone = new TimeZoneTransformer();
