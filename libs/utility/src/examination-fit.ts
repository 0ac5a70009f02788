import type { Examination } from './examination.js';

/** Logged impressions of one slot that ranking scored, with their clicks. */
export interface SlotClicks {
  readonly slot: number;
  readonly impressions: number;
  readonly clicks: number;
  /** Σ pCtr of those impressions: the clicks they would have drawn had every one been examined. */
  readonly expectedClicks: number;
}

export interface ExaminationFitOptions {
  /** A slot with fewer impressions ends the curve (later slots keep its last value). */
  readonly minImpressions: number;
}

export interface FittedSlot extends SlotClicks {
  /** clicks / expectedClicks: how much of the predicted click rate the slot delivers. */
  readonly ratio: number;
  readonly examination: number;
}

export interface ExaminationFit {
  readonly examination: Examination;
  readonly slots: readonly FittedSlot[];
}

/** A slot barely looked at still gets this much, so the curve stays a valid examination vector. */
const MIN_EXAMINATION = 0.01;

/**
 * P(examine | slot) from logged clicks, corrected for the ads shown: a slot's clicks over the clicks
 * its ads' pCTRs predict, divided by the same ratio at slot 0 (where pCTR is defined: examination
 * 1). Better ads sit higher, so raw click rates by slot would overstate the fall; the pCTR ratio
 * takes out what the model knows about the ads and leaves the position. The ratios are made
 * non-increasing by pooling adjacent violators (weighted by expected clicks) and kept in
 * [0.01, 1]. Null when slot 0 has fewer than minImpressions impressions or no clicks.
 */
export function fitExamination(
  rows: readonly SlotClicks[],
  options: ExaminationFitOptions,
): ExaminationFit | null {
  const bySlot = new Map<number, { impressions: number; clicks: number; expectedClicks: number }>();
  for (const row of rows) {
    const total = bySlot.get(row.slot) ?? { impressions: 0, clicks: 0, expectedClicks: 0 };
    total.impressions += row.impressions;
    total.clicks += row.clicks;
    total.expectedClicks += row.expectedClicks;
    bySlot.set(row.slot, total);
  }
  const kept: Array<SlotClicks & { ratio: number }> = [];
  for (let slot = 0; ; slot++) {
    const total = bySlot.get(slot);
    if (total === undefined || total.impressions < options.minImpressions || total.expectedClicks <= 0) break;
    kept.push({ slot, ...total, ratio: total.clicks / total.expectedClicks });
  }
  if (kept.length === 0 || kept[0].clicks === 0) return null;
  const base = kept[0].ratio;
  const below = nonIncreasing(
    kept.slice(1).map((s) => s.ratio / base),
    kept.slice(1).map((s) => s.expectedClicks),
  );
  const examination = [1, ...below.map((e) => Math.min(1, Math.max(MIN_EXAMINATION, e)))];
  return {
    examination,
    slots: kept.map((s, i) => ({ ...s, examination: examination[i] })),
  };
}

/** Weighted least-squares non-increasing fit (pool adjacent violators). */
function nonIncreasing(values: readonly number[], weights: readonly number[]): number[] {
  const blocks: Array<{ mean: number; weight: number; size: number }> = [];
  values.forEach((value, i) => {
    blocks.push({ mean: value, weight: weights[i], size: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2].mean < blocks[blocks.length - 1].mean) {
      const last = blocks.pop()!;
      const prev = blocks.pop()!;
      const weight = prev.weight + last.weight;
      blocks.push({
        mean: (prev.mean * prev.weight + last.mean * last.weight) / weight,
        weight,
        size: prev.size + last.size,
      });
    }
  });
  return blocks.flatMap((b) => Array.from({ length: b.size }, () => b.mean));
}
