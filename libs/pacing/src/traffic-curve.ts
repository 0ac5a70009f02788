import { DAY_MS, HOUR_MS } from './local-day.js';

export const HOURS_PER_DAY = 24;

/** Requests the serving path saw in one UTC hour. */
export interface HourlyCount {
  readonly hourStartMs: number;
  readonly requests: number;
}

export interface TrafficCurveLearning {
  /** Below this many requests in the history the curve stays flat. */
  readonly minRequests: number;
  /**
   * Days of flat traffic mixed into every hour's mean: with one day of history an hour's share is
   * still mostly its own, and an hour nobody saw gets the mean.
   */
  readonly priorDays: number;
}

export const DEFAULT_TRAFFIC_CURVE_LEARNING: TrafficCurveLearning = { minRequests: 240, priorDays: 0.25 };

/**
 * The expected share of a day's requests in each UTC hour of the day (the 24 shares sum to 1),
 * constant within an hour. A campaign's local day is any 24 (or 23, 25) hours of it, so one curve
 * serves every time zone.
 */
export class TrafficCurve {
  private readonly cumulative: readonly number[];

  private constructor(readonly shares: readonly number[]) {
    const cumulative = [0];
    for (const share of shares) cumulative.push(cumulative[cumulative.length - 1] + share);
    this.cumulative = cumulative;
  }

  static flat(): TrafficCurve {
    return new TrafficCurve(new Array<number>(HOURS_PER_DAY).fill(1 / HOURS_PER_DAY));
  }

  /** 24 non-negative weights by UTC hour, normalised to shares. */
  static of(weights: readonly number[]): TrafficCurve {
    if (weights.length !== HOURS_PER_DAY) {
      throw new RangeError(`a traffic curve needs ${HOURS_PER_DAY} hourly weights, got ${weights.length}`);
    }
    if (weights.some((w) => !Number.isFinite(w) || w < 0)) {
      throw new RangeError('traffic curve weights must be finite and non-negative');
    }
    const total = weights.reduce((sum, w) => sum + w, 0);
    if (total <= 0) throw new RangeError('traffic curve weights must not all be 0');
    return new TrafficCurve(weights.map((w) => w / total));
  }

  /**
   * The curve of logged request counts: each hour of the day's mean over the days it was seen,
   * shrunk towards the overall hourly mean by `priorDays`. Flat without enough history.
   */
  static learn(
    counts: readonly HourlyCount[],
    learning: TrafficCurveLearning = DEFAULT_TRAFFIC_CURVE_LEARNING,
  ): TrafficCurve {
    const sums = new Array<number>(HOURS_PER_DAY).fill(0);
    const seen = new Array<number>(HOURS_PER_DAY).fill(0);
    let total = 0;
    for (const { hourStartMs, requests } of counts) {
      if (!Number.isFinite(requests) || requests < 0) continue;
      const hour = hourOfDay(hourStartMs);
      sums[hour] += requests;
      seen[hour] += 1;
      total += requests;
    }
    const observations = seen.reduce((n, s) => n + s, 0);
    if (total < learning.minRequests || observations === 0) return TrafficCurve.flat();
    const mean = total / observations;
    return TrafficCurve.of(
      sums.map((sum, h) => (sum + learning.priorDays * mean) / (seen[h] + learning.priorDays)),
    );
  }

  /** Expected share of a day's requests between two instants (a whole day: 1). */
  shareBetween(fromMs: number, toMs: number): number {
    const fromDay = Math.floor(fromMs / DAY_MS);
    const toDay = Math.floor(toMs / DAY_MS);
    return (
      toDay -
      fromDay +
      this.shareOfDayBefore(toMs - toDay * DAY_MS) -
      this.shareOfDayBefore(fromMs - fromDay * DAY_MS)
    );
  }

  /** The share of a UTC day's traffic before `intoDayMs` into it. */
  private shareOfDayBefore(intoDayMs: number): number {
    const hour = Math.min(HOURS_PER_DAY - 1, Math.floor(intoDayMs / HOUR_MS));
    return this.cumulative[hour] + ((intoDayMs - hour * HOUR_MS) / HOUR_MS) * this.shares[hour];
  }
}

export function hourOfDay(epochMs: number): number {
  return Math.floor((((epochMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
}
