/**
 * The report's pre-period (the CUPED covariates' requests): given as two times or as the N days before
 * the window's start, checked here for the endpoint and the CLI alike.
 */

const DAY_MS = 86_400_000;
/** A date (UTC midnight) or a date-time with a zone (Z or +hh:mm): no local times. */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO 8601 time (a date, or a date-time with its zone) or epoch milliseconds, as epoch ms. */
export function parseReportTime(name: string, value: string): number {
  const text = value.trim();
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const ms = ISO.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    throw new RangeError(
      `${name}: "${value}" is not a time: give an ISO 8601 date (2026-12-01) or date-time with its zone (2026-12-01T06:00:00Z), or epoch ms`,
    );
  }
  return ms;
}

export interface PrePeriodInput {
  readonly preFrom?: string;
  readonly preTo?: string;
  /** Days before the window's start (fractions allowed: simulated runs are short). */
  readonly preDays?: number;
}

/** The pre-period [since, until) in epoch ms, or undefined when none is asked for; a RangeError saying what is wrong otherwise. */
export function resolvePrePeriod(
  input: PrePeriodInput,
  window: { readonly since: number; readonly until: number },
): { since: number; until: number } | undefined {
  const { preFrom, preTo, preDays } = input;
  if (preDays !== undefined && (preFrom !== undefined || preTo !== undefined)) {
    throw new RangeError('give preDays or preFrom and preTo, not both');
  }
  if (preDays !== undefined) {
    if (!(Number.isFinite(preDays) && preDays > 0 && preDays <= 90)) {
      throw new RangeError(`preDays must be a number of days above 0 and at most 90, got ${preDays}`);
    }
    return { since: window.since - Math.round(preDays * DAY_MS), until: window.since };
  }
  if (preFrom === undefined && preTo === undefined) return undefined;
  if (preFrom === undefined || preTo === undefined) {
    throw new RangeError(
      `preFrom and preTo go together (only ${preFrom === undefined ? 'preTo' : 'preFrom'} given)`,
    );
  }
  const since = parseReportTime('preFrom', preFrom);
  const until = parseReportTime('preTo', preTo);
  if (since >= until) {
    throw new RangeError(`preFrom (${iso(since)}) must be before preTo (${iso(until)})`);
  }
  if (until > window.since && since < window.until) {
    throw new RangeError(
      `the pre-period ${iso(since)} to ${iso(until)} overlaps the window ${iso(window.since)} to ${iso(window.until)}: it must end at or before the window's start`,
    );
  }
  if (since >= window.until) {
    throw new RangeError(
      `the pre-period ${iso(since)} to ${iso(until)} is after the window ${iso(window.since)} to ${iso(window.until)}: it must end at or before the window's start`,
    );
  }
  return { since, until };
}

const iso = (ms: number) => new Date(ms).toISOString();
