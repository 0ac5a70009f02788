/** Where a campaign may be shown. An empty list means "everywhere" for that dimension. */
export interface TargetingRule {
  readonly targetCountries: readonly string[];
  readonly targetDevices: readonly string[];
}

/** The (country, device) a bucket answers; null is "every country (device) no campaign names". */
export interface BucketKey {
  readonly country: string | null;
  readonly device: string | null;
}

/** The ads (by index slot) that a (country, device) pair may see. */
export interface EligibleSet {
  /** bitmap[slot] === 1 when the ad in that slot is eligible. */
  readonly bitmap: Uint8Array;
  /** Eligible slots, in the table's order (best prior first). */
  readonly slots: Int32Array;
  /** True when every indexed ad is eligible, so a search needs no filter at all. */
  readonly admitsAll: boolean;
  /** Position of this set in `EligibilityTable.sets`, so an index can keep per-bucket structures. */
  readonly bucket: number;
}

/** Orders two slots: negative when `a` comes first. Slots never compare equal to another slot. */
export type SlotOrder = (a: number, b: number) => number;

/** One bucket's eligible slots: a bitmap by slot and the slots in order, kept sorted on insert. */
class Bucket implements EligibleSet {
  bitmap: Uint8Array;
  private order: Int32Array;
  private count = 0;

  constructor(
    readonly bucket: number,
    readonly key: BucketKey,
    capacity: number,
    private readonly table: EligibilityTable,
  ) {
    this.bitmap = new Uint8Array(capacity);
    this.order = new Int32Array(Math.max(4, capacity >> 3));
  }

  get slots(): Int32Array {
    return this.order.subarray(0, this.count);
  }

  get size(): number {
    return this.count;
  }

  get admitsAll(): boolean {
    return this.count === this.table.live;
  }

  /** Appends `slot`, which must come after every slot already in (the build's ordered fill). */
  push(slot: number): void {
    this.reserve(this.count + 1);
    this.order[this.count++] = slot;
    this.bitmap[slot] = 1;
  }

  /**
   * Takes `removed` out and merges `inserted` in at their places in `order`, in one pass over the
   * list: a change of many ads costs the list's length once, not once per ad.
   */
  apply(removed: ReadonlySet<number> | undefined, inserted: number[] | undefined, order: SlotOrder): void {
    if (removed !== undefined) {
      let kept = 0;
      for (let i = 0; i < this.count; i++) {
        const slot = this.order[i];
        if (removed.has(slot)) this.bitmap[slot] = 0;
        else this.order[kept++] = slot;
      }
      if (this.count - kept !== removed.size) {
        throw new Error(
          `eligibility bucket ${this.bucket} lost track of ${removed.size - (this.count - kept)} slots`,
        );
      }
      this.count = kept;
    }
    if (inserted === undefined || inserted.length === 0) return;
    inserted.sort(order);
    this.reserve(this.count + inserted.length);
    // Merge from the back, in place.
    let i = this.count - 1;
    let j = inserted.length - 1;
    for (let k = this.count + inserted.length - 1; j >= 0; k--) {
      if (i >= 0 && order(this.order[i], inserted[j]) > 0) this.order[k] = this.order[i--];
      else this.order[k] = inserted[j--];
    }
    for (const slot of inserted) this.bitmap[slot] = 1;
    this.count += inserted.length;
  }

  copyFrom(other: Bucket): void {
    this.bitmap.set(other.bitmap);
    this.reserve(other.count);
    this.order.set(other.slots);
    this.count = other.count;
  }

  growBitmap(capacity: number): void {
    const bitmap = new Uint8Array(capacity);
    bitmap.set(this.bitmap);
    this.bitmap = bitmap;
  }

  private reserve(count: number): void {
    if (count <= this.order.length) return;
    const order = new Int32Array(Math.max(count, Math.ceil(this.order.length * 1.5)));
    order.set(this.slots);
    this.order = order;
  }
}

interface CountryRow {
  readonly byDevice: Map<string, number>;
  other: number;
}

/**
 * Eligibility precomputed per (country, device) bucket, so a request's targeting filter is a Map
 * lookup or two. Countries and devices that no campaign names explicitly all behave the same way
 * (only untargeted campaigns reach them), so each dimension has one shared "other" bucket for them.
 * Follows the catalog a change set at a time (`apply`); a rule naming a new country or device splits
 * the matching buckets off the "other" ones, so lookups stay one bucket per request.
 */
export class EligibilityTable {
  private readonly buckets: Bucket[] = [];
  private readonly countries = new Map<string, CountryRow>();
  private readonly otherCountry: CountryRow = { byDevice: new Map(), other: 0 };
  /** Slots in the table: a bucket holding all of them admits everyone. */
  live = 0;

  private constructor(private capacity: number) {
    this.otherCountry.other = this.newBucket({ country: null, device: null }).bucket;
  }

  /**
   * @param rules targeting of the ad in each slot; undefined for a slot that holds no ad
   * @param order every slot with a rule once, in the order the eligible lists should keep
   * @param layout the buckets to create first, in this order (a saved index's), before the rules' own
   */
  static build(
    rules: readonly (TargetingRule | undefined)[],
    order: Int32Array,
    capacity: number,
    layout: readonly BucketKey[] = [],
  ): EligibilityTable {
    const table = new EligibilityTable(Math.max(capacity, rules.length));
    for (const key of layout) {
      if (key.country !== null) table.ensureCountry(key.country);
      if (key.device !== null) table.ensureDevice(key.device);
    }
    for (const rule of rules) if (rule !== undefined) table.ensure(rule);
    for (const slot of order) {
      const rule = rules[slot];
      if (rule === undefined) throw new RangeError(`eligibility order names slot ${slot}, which holds no ad`);
      for (const bucket of table.bucketsOf(rule)) table.buckets[bucket].push(slot);
      table.live++;
    }
    return table;
  }

  /** Every bucket's set, indexed by `EligibleSet.bucket`. */
  get sets(): readonly EligibleSet[] {
    return this.buckets;
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  /** Each bucket's (country, device), in bucket order: what a saved index records to rebuild the same buckets. */
  get layout(): BucketKey[] {
    return this.buckets.map((b) => b.key);
  }

  lookup(country: string, device: string): EligibleSet {
    const row = this.countries.get(country) ?? this.otherCountry;
    return this.buckets[row.byDevice.get(device) ?? row.other];
  }

  /** Creates the buckets a rule's new countries and devices need; answers the buckets created. */
  ensure(rule: TargetingRule): number[] {
    const created: number[] = [];
    for (const c of rule.targetCountries) created.push(...this.ensureCountry(c));
    for (const d of rule.targetDevices) created.push(...this.ensureDevice(d));
    return created;
  }

  /** The buckets an ad with `rule` is eligible in; every country and device it names must exist (ensure). */
  bucketsOf(rule: TargetingRule): number[] {
    const rows =
      rule.targetCountries.length === 0
        ? [...this.countries.values(), this.otherCountry]
        : rule.targetCountries.map((c) => this.countries.get(c)!);
    const out: number[] = [];
    for (const row of rows) {
      if (rule.targetDevices.length === 0) {
        out.push(row.other, ...row.byDevice.values());
      } else {
        for (const d of rule.targetDevices) out.push(row.byDevice.get(d)!);
      }
    }
    return out;
  }

  /** The buckets of `rule` that exist already (no ensure): those a new country or device would split off are left out. */
  existingBucketsOf(rule: TargetingRule): number[] {
    const rows =
      rule.targetCountries.length === 0
        ? [...this.countries.values(), this.otherCountry]
        : rule.targetCountries.flatMap((c) => this.countries.get(c) ?? []);
    const out: number[] = [];
    for (const row of rows) {
      if (rule.targetDevices.length === 0) out.push(row.other, ...row.byDevice.values());
      else
        for (const d of rule.targetDevices) {
          const bucket = row.byDevice.get(d);
          if (bucket !== undefined) out.push(bucket);
        }
    }
    return out;
  }

  /** The buckets that hold `slot`. */
  bucketsHolding(slot: number): number[] {
    const out: number[] = [];
    for (const b of this.buckets) if (b.bitmap[slot] === 1) out.push(b.bucket);
    return out;
  }

  /** Applies a change set's removals and insertions, bucket by bucket (see Bucket.apply). */
  apply(batch: EligibilityBatch, order: SlotOrder): void {
    for (const bucket of batch.touched()) {
      this.buckets[bucket].apply(batch.removedFrom(bucket), batch.insertedInto(bucket), order);
    }
  }

  /** Makes room for slots below `capacity`. */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    this.capacity = capacity;
    for (const b of this.buckets) b.growBitmap(capacity);
  }

  private ensureCountry(country: string): number[] {
    if (this.countries.has(country)) return [];
    // Until now the country was "other": its buckets start as copies of the other-country ones.
    const row: CountryRow = { byDevice: new Map(), other: 0 };
    row.other = this.copyOf(this.otherCountry.other, { country, device: null });
    const created = [row.other];
    for (const [device, source] of this.otherCountry.byDevice) {
      const bucket = this.copyOf(source, { country, device });
      row.byDevice.set(device, bucket);
      created.push(bucket);
    }
    this.countries.set(country, row);
    return created;
  }

  private ensureDevice(device: string): number[] {
    if (this.otherCountry.byDevice.has(device)) return [];
    const created: number[] = [];
    for (const [country, row] of [...this.countries, [null, this.otherCountry] as const]) {
      const bucket = this.copyOf(row.other, { country, device });
      row.byDevice.set(device, bucket);
      created.push(bucket);
    }
    return created;
  }

  private copyOf(source: number, key: BucketKey): number {
    const bucket = this.newBucket(key);
    bucket.copyFrom(this.buckets[source]);
    return bucket.bucket;
  }

  private newBucket(key: BucketKey): Bucket {
    const bucket = new Bucket(this.buckets.length, key, this.capacity, this);
    this.buckets.push(bucket);
    return bucket;
  }
}

/** The slots a change set takes out of and puts into each bucket, applied together by EligibilityTable.apply. */
export class EligibilityBatch {
  private readonly removed = new Map<number, Set<number>>();
  private readonly inserted = new Map<number, number[]>();

  remove(slot: number, buckets: readonly number[]): void {
    for (const b of buckets) {
      let set = this.removed.get(b);
      if (set === undefined) this.removed.set(b, (set = new Set()));
      set.add(slot);
    }
  }

  insert(slot: number, buckets: readonly number[]): void {
    for (const b of buckets) {
      let list = this.inserted.get(b);
      if (list === undefined) this.inserted.set(b, (list = []));
      list.push(slot);
    }
  }

  touched(): Set<number> {
    return new Set([...this.removed.keys(), ...this.inserted.keys()]);
  }

  removedFrom(bucket: number): ReadonlySet<number> | undefined {
    return this.removed.get(bucket);
  }

  insertedInto(bucket: number): number[] | undefined {
    return this.inserted.get(bucket);
  }
}
