/** Where a campaign may be shown. An empty list means "everywhere" for that dimension. */
export interface TargetingRule {
  readonly targetCountries: readonly string[];
  readonly targetDevices: readonly string[];
}

/** The ads (by index slot) that a (country, device) pair may see. */
export interface EligibleSet {
  /** bitmap[slot] === 1 when the ad in that slot is eligible. */
  readonly bitmap: Uint8Array;
  /** Eligible slots, in the order given to the table at build time. */
  readonly slots: Int32Array;
  /** True when every indexed ad is eligible, so a search needs no filter at all. */
  readonly admitsAll: boolean;
  /** Position of this set in `EligibilityTable.sets`, so an index can keep per-bucket structures. */
  readonly bucket: number;
}

/**
 * Eligibility precomputed per (country, device) bucket, so a request's targeting filter is one Map
 * lookup. Countries and devices that no campaign names explicitly all behave the same way (only
 * untargeted campaigns reach them), so each dimension gets one shared "other" bucket for them.
 */
export class EligibilityTable {
  private constructor(
    private readonly countries: ReadonlyMap<string, number>,
    private readonly devices: ReadonlyMap<string, number>,
    private readonly bucketSets: readonly EligibleSet[],
  ) {}

  /**
   * @param rules targeting of the ad in each slot
   * @param order every slot once, in the order the eligible lists should keep (e.g. by popularity)
   */
  static build(rules: readonly TargetingRule[], order: Int32Array): EligibilityTable {
    const n = rules.length;
    if (order.length !== n) {
      throw new RangeError(`eligibility order lists ${order.length} slots for ${n} ads`);
    }
    const countries = new Map<string, number>();
    const devices = new Map<string, number>();
    for (const rule of rules) {
      for (const c of rule.targetCountries) if (!countries.has(c)) countries.set(c, countries.size);
      for (const d of rule.targetDevices) if (!devices.has(d)) devices.set(d, devices.size);
    }
    const countryBuckets = countries.size + 1;
    const deviceBuckets = devices.size + 1;
    const bucketCount = countryBuckets * deviceBuckets;
    const bitmaps = Array.from({ length: bucketCount }, () => new Uint8Array(n));
    const counts = new Int32Array(bucketCount);

    const allCountries = Array.from({ length: countryBuckets }, (_, i) => i);
    const allDevices = Array.from({ length: deviceBuckets }, (_, i) => i);
    for (let slot = 0; slot < n; slot++) {
      const rule = rules[slot];
      const cs =
        rule.targetCountries.length === 0 ? allCountries : rule.targetCountries.map((c) => countries.get(c)!);
      const ds =
        rule.targetDevices.length === 0 ? allDevices : rule.targetDevices.map((d) => devices.get(d)!);
      for (const c of cs) {
        for (const d of ds) {
          const bucket = c * deviceBuckets + d;
          if (bitmaps[bucket][slot] === 0) {
            bitmaps[bucket][slot] = 1;
            counts[bucket]++;
          }
        }
      }
    }

    const sets = bitmaps.map((bitmap, bucket): EligibleSet => {
      const slots = new Int32Array(counts[bucket]);
      let j = 0;
      for (let i = 0; i < n; i++) {
        const slot = order[i];
        if (bitmap[slot] === 1) slots[j++] = slot;
      }
      return { bitmap, slots, admitsAll: slots.length === n, bucket };
    });
    return new EligibilityTable(countries, devices, sets);
  }

  /** Every bucket's set, indexed by `EligibleSet.bucket`. */
  get sets(): readonly EligibleSet[] {
    return this.bucketSets;
  }

  get bucketCount(): number {
    return this.bucketSets.length;
  }

  lookup(country: string, device: string): EligibleSet {
    const deviceBuckets = this.devices.size + 1;
    const c = this.countries.get(country) ?? this.countries.size;
    const d = this.devices.get(device) ?? this.devices.size;
    return this.bucketSets[c * deviceBuckets + d];
  }
}
