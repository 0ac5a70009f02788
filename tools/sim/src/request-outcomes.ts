/** What one request's ads led to, summed over its slots. */
export const OUTCOME_FIELDS = [
  'impressions',
  'clicks',
  'conversions',
  'hides',
  'revenue',
  'advertiserValue',
] as const;
export type OutcomeField = (typeof OUTCOME_FIELDS)[number];

/**
 * Per-request outcomes as columns, in arrival order. `seq` is the arrival's sequence number: with
 * the same seed, request `seq` is the same user's same visit in every run, so two runs pair up by it
 * (sim compare). revenue and advertiserValue in USD.
 */
export type RequestOutcomes = { seq: number[] } & Record<OutcomeField, number[]>;

/** Collects RequestOutcomes while visits run concurrently; each visit opens its row first. */
export class RequestOutcomeLog {
  private readonly rows = new Map<number, Record<OutcomeField, number>>();

  open(seq: number): void {
    this.rows.set(seq, {
      impressions: 0,
      clicks: 0,
      conversions: 0,
      hides: 0,
      revenue: 0,
      advertiserValue: 0,
    });
  }

  add(seq: number, field: OutcomeField, amount = 1): void {
    const row = this.rows.get(seq);
    if (row === undefined) throw new RangeError(`request ${seq} was not opened`);
    row[field] += amount;
  }

  columns(): RequestOutcomes {
    const seqs = [...this.rows.keys()].sort((a, b) => a - b);
    const out = { seq: seqs } as RequestOutcomes;
    for (const field of OUTCOME_FIELDS) out[field] = seqs.map((s) => this.rows.get(s)![field]);
    return out;
  }
}
