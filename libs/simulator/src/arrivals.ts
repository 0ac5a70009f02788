import { type MarketplaceSpec, userAt } from './marketplace.js';
import { Rng } from './rng.js';

export const DAY_SECONDS = 86_400;

/**
 * The daily cycle of traffic: relative intensity 1 + amplitude * cos(2 pi (hour - peakHour) / 24),
 * which averages 1 over a day; with the defaults the evening peak is 4x the early-morning trough.
 */
export const DIURNAL = { amplitude: 0.6, peakHour: 20 } as const;

export interface DiurnalCurve {
  amplitude: number;
  peakHour: number;
}

export function diurnalIntensity(t: number, curve: DiurnalCurve = DIURNAL): number {
  const hour = (t / 3600) % 24;
  return 1 + curve.amplitude * Math.cos((2 * Math.PI * (hour - curve.peakHour)) / 24);
}

export interface ArrivalOptions {
  /** Seed of the arrival stream (independent of the marketplace seed). */
  seed: number;
  /** Users 0..population-1 of the spec take part. */
  population: number;
  /** Mean number of arrivals per simulated day over the whole population. */
  arrivalsPerDay: number;
  /** Simulated time of the start, seconds (0 = midnight of day 0). */
  startAt?: number;
  curve?: DiurnalCurve;
}

export interface Arrival {
  seq: number;
  /** Simulated time, seconds. */
  at: number;
  userIndex: number;
}

/**
 * Walker's alias table: O(n) to build, O(1) per weighted draw, 12 bytes per entry, so a million
 * users cost 12 MB rather than a million objects.
 */
export class AliasTable {
  private readonly probability: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError('an alias table needs at least one weight');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w))
        throw new RangeError(`weight ${i} must be finite and >= 0, got ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new RangeError('alias table weights sum to zero');
    this.probability = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i] * n) / total;
      if (scaled[i] < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns];
      const l = large[--nl];
      this.probability[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    while (nl > 0) this.probability[large[--nl]] = 1;
    while (ns > 0) this.probability[small[--ns]] = 1;
  }

  get size(): number {
    return this.probability.length;
  }

  draw(rng: Rng): number {
    const i = rng.int(this.probability.length);
    return rng.next() < this.probability[i] ? i : this.alias[i];
  }
}

export function activityTable(spec: MarketplaceSpec, population: number): AliasTable {
  if (!Number.isInteger(population) || population < 1 || population > spec.users) {
    throw new RangeError(
      `population must be an integer in 1..${spec.users} (the spec's users), got ${population}`,
    );
  }
  const weights = new Float64Array(population);
  for (let i = 0; i < population; i++) weights[i] = userAt(spec, i).activity;
  return new AliasTable(weights);
}

/**
 * Users arriving over simulated time: a non-homogeneous Poisson process with intensity
 * (arrivalsPerDay / 86400) * diurnalIntensity(t), drawn by thinning (Lewis-Shedler), each arrival a
 * user drawn in proportion to activity. Endless; the caller stops it. Deterministic per seed.
 */
export function* arrivals(
  spec: MarketplaceSpec,
  options: ArrivalOptions,
  users: AliasTable = activityTable(spec, options.population),
): Generator<Arrival> {
  if (!(options.arrivalsPerDay > 0) || !Number.isFinite(options.arrivalsPerDay)) {
    throw new RangeError(`arrivalsPerDay must be a positive number, got ${options.arrivalsPerDay}`);
  }
  const curve = options.curve ?? DIURNAL;
  if (!(curve.amplitude >= 0 && curve.amplitude < 1)) {
    throw new RangeError(`diurnal amplitude must be in [0, 1), got ${curve.amplitude}`);
  }
  const rng = Rng.derive(options.seed, 'arrivals');
  const baseRate = options.arrivalsPerDay / DAY_SECONDS;
  const maxRate = baseRate * (1 + curve.amplitude);
  let t = options.startAt ?? 0;
  for (let seq = 0; ;) {
    t += -Math.log(1 - rng.next()) / maxRate;
    if (rng.next() * maxRate > baseRate * diurnalIntensity(t, curve)) continue;
    yield { seq, at: t, userIndex: users.draw(rng) };
    seq++;
  }
}
