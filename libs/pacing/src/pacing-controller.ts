import type { LocalDay } from './local-day.js';
import { targetSpend } from './target-spend.js';
import type { TrafficCurve } from './traffic-curve.js';

export interface PacingParameters {
  /** The lowest pass-through rate: a throttled campaign still sees some traffic, so its demand stays measurable. */
  readonly minRate: number;
  /** Half-life of the demand estimate's memory. */
  readonly demandHalfLifeMs: number;
  /** How fast a gap between spend and target is closed: a slice closes slice / gapClosingMs of it. */
  readonly gapClosingMs: number;
}

export const DEFAULT_PACING_PARAMETERS: PacingParameters = {
  minRate: 0.02,
  demandHalfLifeMs: 45 * 60_000,
  gapClosingMs: 20 * 60_000,
};

/** One campaign's pacing after an update, as the serving replicas share it. */
export interface CampaignPacingState {
  /** The billing day the rate is for. */
  readonly day: string;
  /** Pass-through rate for the slice that starts at `sliceStartMs`, in [minRate, 1]. */
  readonly rate: number;
  readonly sliceStartMs: number;
  /** Charged spend of the day when the slice started. */
  readonly spentMicros: number;
  /** Decayed sum of spend per slice, and of the traffic share let through: their ratio is the demand. */
  readonly demandSpend: number;
  readonly demandShare: number;
}

export interface PacingObservation {
  readonly day: LocalDay;
  readonly budgetMicros: number;
  /** Charged spend of the day so far. */
  readonly spentMicros: number;
  /** The slice being decided: [startMs, endMs). */
  readonly sliceStartMs: number;
  readonly sliceEndMs: number;
  readonly curve: TrafficCurve;
}

/**
 * Probabilistic throttling in the style of LinkedIn's budget pacing (Agarwal et al., KDD 2014): each
 * campaign gets a pass-through rate per time slice, raised when spend is behind the target curve and
 * lowered when ahead. The rate is set from a demand estimate (spend per unit of traffic let
 * through) so that the next slice spends the target's increment plus a part of the current gap:
 *
 *   D   = decayed spend / decayed (rate x traffic share)       unthrottled spend per day of traffic
 *   a   = max(0, T(end) - T(start) + g (T(start) - S))          g = slice / gapClosingMs, at most 1
 *   r   = clamp(a / (D x share(start, end)), minRate, 1)        1 while no demand has been seen
 *
 * S is the day's charged spend, T the target curve (libs/pacing README).
 */
export class PacingController {
  constructor(private readonly parameters: PacingParameters = DEFAULT_PACING_PARAMETERS) {
    const { minRate, demandHalfLifeMs, gapClosingMs } = parameters;
    if (!(minRate > 0 && minRate <= 1)) throw new RangeError(`minRate must be in (0, 1], got ${minRate}`);
    if (!(demandHalfLifeMs > 0)) throw new RangeError('demandHalfLifeMs must be positive');
    if (!(gapClosingMs > 0)) throw new RangeError('gapClosingMs must be positive');
  }

  get minRate(): number {
    return this.parameters.minRate;
  }

  next(previous: CampaignPacingState | undefined, observation: PacingObservation): CampaignPacingState {
    const { day, budgetMicros, spentMicros, sliceStartMs, sliceEndMs, curve } = observation;
    if (!(sliceEndMs > sliceStartMs)) throw new RangeError('a pacing slice must end after it starts');
    let demandSpend = previous?.demandSpend ?? 0;
    let demandShare = previous?.demandShare ?? 0;
    if (previous !== undefined && previous.sliceStartMs < sliceStartMs) {
      const decay = 0.5 ** ((sliceStartMs - previous.sliceStartMs) / this.parameters.demandHalfLifeMs);
      demandSpend *= decay;
      demandShare *= decay;
      if (previous.day === day.day) {
        demandSpend += Math.max(0, spentMicros - previous.spentMicros);
        demandShare += previous.rate * curve.shareBetween(previous.sliceStartMs, sliceStartMs);
      } else {
        // A new day: the spend restarts from 0, so that slice says nothing about demand, and
        // yesterday's estimate only starts today's, weighing as one slice of traffic let through.
        const oneSlice = curve.shareBetween(sliceStartMs, sliceEndMs);
        if (demandShare > oneSlice) {
          demandSpend *= oneSlice / demandShare;
          demandShare = oneSlice;
        }
      }
    }
    const state = { day: day.day, sliceStartMs, spentMicros, demandSpend, demandShare };
    if (spentMicros >= budgetMicros) return { ...state, rate: this.parameters.minRate };
    const targetNow = targetSpend(budgetMicros, curve, day, sliceStartMs);
    const targetNext = targetSpend(budgetMicros, curve, day, sliceEndMs);
    const closing = Math.min(1, (sliceEndMs - sliceStartMs) / this.parameters.gapClosingMs);
    const wanted = Math.max(0, targetNext - targetNow + closing * (targetNow - spentMicros));
    const demand = demandShare > 0 ? demandSpend / demandShare : 0;
    const expected = demand * curve.shareBetween(sliceStartMs, sliceEndMs);
    if (expected <= 0) return { ...state, rate: 1 };
    return { ...state, rate: Math.min(1, Math.max(this.parameters.minRate, wanted / expected)) };
  }
}
