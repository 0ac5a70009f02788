import type { TargetingRule } from './eligibility-table.js';

/**
 * The index's per-slot data, one column per field, growing as ads are added. A slot holds one ad
 * (its HNSW label is the slot number) or is free: a removed ad's slot stays marked deleted in the
 * graphs until a new ad takes it over or a compaction rebuilds without it.
 */
export class SlotColumns {
  /** Slots handed out so far (live or free); every graph label is below this. */
  used = 0;
  ids: Float64Array;
  prior: Float64Array;
  /** The campaign id of each slot. */
  campaigns: Float64Array;
  /** Unit vectors back to back, `dim` per slot. */
  vectors: Float32Array;
  /** Interned targeting of each slot; undefined for a free slot. */
  readonly rules: (TargetingRule | undefined)[] = [];
  /** What each slot's vector was computed from, as the caller named it (IndexableAd.vectorKey). */
  readonly keys: (string | undefined)[] = [];

  constructor(
    readonly dim: number,
    private cap: number,
  ) {
    this.ids = new Float64Array(cap);
    this.prior = new Float64Array(cap);
    this.campaigns = new Float64Array(cap);
    this.vectors = new Float32Array(cap * dim);
  }

  get capacity(): number {
    return this.cap;
  }

  /** A new slot at the end, growing the columns by half when full; answers the slot. */
  allocate(): number {
    if (this.used === this.cap) this.grow(Math.max(16, Math.ceil(this.cap * 1.5)));
    return this.used++;
  }

  vector(slot: number): Float32Array {
    return this.vectors.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  isLive(slot: number): boolean {
    return this.rules[slot] !== undefined;
  }

  private grow(cap: number): void {
    const grown = (from: Float64Array) => {
      const to = new Float64Array(cap);
      to.set(from);
      return to;
    };
    this.ids = grown(this.ids);
    this.prior = grown(this.prior);
    this.campaigns = grown(this.campaigns);
    const vectors = new Float32Array(cap * this.dim);
    vectors.set(this.vectors);
    this.vectors = vectors;
    this.cap = cap;
  }
}

/**
 * One shared, order-normalised object per distinct targeting (sorted, without duplicates), so a
 * slot's rule compares by identity and a catalog of many ads holds only as many rules as campaigns.
 */
export class RuleInterner {
  private readonly byKey = new Map<string, TargetingRule>();

  intern(rule: TargetingRule): TargetingRule {
    const targetCountries = [...new Set(rule.targetCountries)].sort();
    const targetDevices = [...new Set(rule.targetDevices)].sort();
    const key = `${targetCountries.join(',')}|${targetDevices.join(',')}`;
    let interned = this.byKey.get(key);
    if (interned === undefined) {
      interned = { targetCountries, targetDevices };
      this.byKey.set(key, interned);
    }
    return interned;
  }
}
