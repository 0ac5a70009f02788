import type { Engagement } from './ground-truth.js';

/**
 * Parameters of ad fatigue (see README: "Fatigue"). Times are simulated seconds.
 *   load(t)     = load(t0) * 2^(-(t - t0) / halfLife)               recovery between exposures
 *   exposure    : load += 1 + irrelevanceWeight * irrelevance(u, a)  per examined ad
 *   capacity(u) = capacityPerTolerance * adTolerance(u)
 *   level       = load / capacity(u)
 *   multiplier  = 1 / (1 + level^2)                                  on P(click | examined)
 */
export const FATIGUE = {
  halfLifeSeconds: 6 * 3600,
  irrelevanceWeight: 2.0,
  capacityPerTolerance: 24,
} as const;

export interface FatigueParams {
  halfLifeSeconds: number;
  irrelevanceWeight: number;
  capacityPerTolerance: number;
}

/**
 * One user's recent exposure to ads: a load that grows with every ad the user examines (more for an
 * irrelevant one) and decays exponentially with a half-life, so engagement falls with the number and
 * the irrelevance of ads seen recently, and recovers over time. No clock inside: every method takes
 * the simulated time, and time never runs backwards for one user.
 */
export class FatigueState {
  private load = 0;
  private at = Number.NEGATIVE_INFINITY;
  private exposures = 0;

  constructor(
    /** The user's adTolerance, 0..1. */
    readonly tolerance: number,
    private readonly params: FatigueParams = FATIGUE,
  ) {
    if (!(tolerance > 0) || !Number.isFinite(tolerance)) {
      throw new RangeError(`fatigue tolerance must be a positive number, got ${tolerance}`);
    }
    if (!(params.halfLifeSeconds > 0)) {
      throw new RangeError(`fatigue half-life must be positive, got ${params.halfLifeSeconds}`);
    }
  }

  get capacity(): number {
    return this.params.capacityPerTolerance * this.tolerance;
  }

  get exposureCount(): number {
    return this.exposures;
  }

  loadAt(t: number): number {
    if (this.load === 0) return 0;
    this.checkTime(t);
    return this.load * Math.pow(2, -(t - this.at) / this.params.halfLifeSeconds);
  }

  levelAt(t: number): number {
    return this.loadAt(t) / this.capacity;
  }

  /** Multiplier on P(click | examined) at time t: 1 for a fresh user, 1/2 at a load equal to capacity. */
  multiplierAt(t: number): number {
    const level = this.levelAt(t);
    return 1 / (1 + level * level);
  }

  engagementAt(t: number): Engagement {
    const level = this.levelAt(t);
    return { multiplier: 1 / (1 + level * level), level };
  }

  /** The user examined an ad at time t whose irrelevance (0..1) was `irrelevanceValue`. */
  recordExposure(t: number, irrelevanceValue: number): void {
    this.checkTime(t);
    if (!(irrelevanceValue >= 0 && irrelevanceValue <= 1)) {
      throw new RangeError(`irrelevance must be in [0, 1], got ${irrelevanceValue}`);
    }
    this.load = this.loadAt(t) + 1 + this.params.irrelevanceWeight * irrelevanceValue;
    this.at = t;
    this.exposures++;
  }

  private checkTime(t: number): void {
    if (!Number.isFinite(t)) throw new RangeError(`simulated time must be finite, got ${t}`);
    if (t < this.at) {
      throw new RangeError(`simulated time ran backwards for this user: ${t} s is before ${this.at} s`);
    }
  }
}
