import type { AuctionCandidate, AuctionInput, QualityFloors } from './auction-outcome.js';
import { CandidateVerdict, capVerdict, NO_QUALITY_FLOORS, requireVerdicts } from './auction-outcome.js';
import { reserveFor } from './campaign-reserve.js';
import {
  DEFAULT_DIVERSITY,
  requireDiversity,
  withinCaps,
  type Diversity,
  type DiversityCap,
} from './diversity.js';
import { DEFAULT_EXAMINATION, examinationAt, requireExamination, type Examination } from './examination.js';
import { forCandidate, requireNonNegative, requireProbability, requireSlots } from './range-checks.js';
import {
  comparableUtility,
  DEFAULT_UTILITY_SCALES,
  DEFAULT_UTILITY_WEIGHTS,
  requireWeights,
  utility,
  utilityContext,
  type UtilityBreakdown,
  type UtilityContext,
  type UtilityWeights,
} from './utility.js';

export interface Scored {
  readonly candidate: AuctionCandidate;
  readonly breakdown: UtilityBreakdown;
  /** The candidate's index in AuctionInput.candidates. */
  readonly index: number;
}

/** A winner before pricing. `rank` is its place among the ads of its kind (click-priced or CPM). */
export interface Placement {
  readonly slot: number;
  readonly examination: number;
  readonly kind: 'click' | 'impression';
  readonly rank: number;
  readonly scored: Scored;
  /** Utility in this slot: examination x utility for a click-priced ad, utility for a CPM ad. */
  readonly slotUtility: number;
}

/**
 * The welfare-maximizing assignment of ads to slots, and what its prices are computed from.
 *
 * An ad's utility in slot s is examination[s] x u for a click-priced ad (CPC, CPA: clicks come only
 * from examined impressions) and u for a CPM ad (paid per impression wherever it is). The model is
 * separable (utility = position factor x ad factor) only among click-priced ads, so sorting all ads
 * by u is not optimal: a CPM ad above a click ad costs that click ad examination and gains nothing.
 * The optimum puts the best m click ads in slots 0..m-1 and the best CPM ads below; it is the m that
 * maximizes W(m) = sum_{s<m} examination[s] c_s + sum_{j<slots-m} q_j, with c and q each sorted down
 * and q padded with the reserve (an empty slot is worth the reserve, as if an unlimited supply of
 * CPM ads bid exactly the reserve: the reserve is per impression, wherever the slot). The gain of
 * one more click slot, examination[m] c_m - q_{slots-m-1}, only falls as m grows, so W is concave
 * and m is the number of leading gains >= 0 (a tie goes to the click ad).
 *
 * Diversity (at most maxPerAdvertiser ads of one advertiser and maxPerCategory of one category) is
 * applied first and greedily: ads compete in utility order and one whose advertiser or category is
 * full is skipped (withinCaps). With the default, one ad per advertiser and no category cap, that
 * is the advertiser's best ad. Under tighter caps the greedy choice is not always the optimum (a
 * top ad can use up a category two others would have shared); diversity.spec.ts compares it with
 * brute force on small markets. Pricing uses the same capped lists, so GSP's next competitor and
 * VCG's welfare without an ad respect the caps too.
 */
export interface SlotAllocation {
  readonly placements: readonly Placement[];
  readonly eligible: number;
  readonly slots: number;
  readonly examination: Examination;
  /** Click-priced utilities, best first, at most slots + 1 of them (one past the last that can win). */
  readonly clicks: readonly number[];
  /** CPM utilities, best first, at most slots + 1. */
  readonly impressions: readonly number[];
  /** The reserve as a utility: what an empty slot is worth. */
  readonly reserveUtility: number;
  /** m: how many of the top slots go to click-priced ads. */
  readonly clickSlots: number;
  readonly weights: UtilityWeights;
  /** Every ad past the reserve and floors, best first, before the diversity caps. */
  readonly pool: readonly Scored[];
  readonly diversity: Diversity;
}

/** Click-priced and CPM utilities, best first, each list cut at slots + 1. */
export interface KindLists {
  readonly clickAds: readonly Scored[];
  readonly impressionAds: readonly Scored[];
  readonly clicks: readonly number[];
  readonly impressions: readonly number[];
  /** Ads the caps kept, before the cut. */
  readonly kept: number;
  /** Those ads, best first. */
  readonly capped: readonly Scored[];
}

export function allocateSlots(input: AuctionInput): SlotAllocation {
  const { candidates, slots, reservePerImpression } = input;
  const weights = input.weights ?? DEFAULT_UTILITY_WEIGHTS;
  const context = utilityContext(input.scales ?? DEFAULT_UTILITY_SCALES, input.userExposure);
  const examination = input.examination ?? DEFAULT_EXAMINATION;
  const floors = input.floors ?? NO_QUALITY_FLOORS;
  const diversity = input.diversity ?? DEFAULT_DIVERSITY;
  requireSlots(slots);
  requireNonNegative('reservePerImpression', reservePerImpression);
  requireWeights(weights);
  requireExamination(examination);
  requireFloors(floors);
  requireDiversity(diversity);
  const { verdicts } = input;
  requireVerdicts(verdicts, candidates.length);

  const pool = rankEligible(candidates, reservePerImpression, floors, weights, context, verdicts);
  const left =
    verdicts === undefined
      ? undefined
      : (entry: Scored, cap: DiversityCap) => {
          verdicts[entry.index] = capVerdict(cap);
        };
  const { clickAds, impressionAds, clicks, impressions, kept, capped } = kindLists(
    pool,
    diversity,
    slots,
    undefined,
    left,
  );
  const reserveUtility = weights.advertiserValue * reservePerImpression;
  const clickSlots = splitPoint(clicks, impressions, reserveUtility, examination, slots);

  const placements: Placement[] = [];
  for (let s = 0; s < clickSlots; s++) {
    const e = examinationAt(examination, s);
    placements.push({
      slot: s,
      examination: e,
      kind: 'click',
      rank: s,
      scored: clickAds[s],
      slotUtility: e * clicks[s],
    });
  }
  for (let j = 0; j < Math.min(impressions.length, slots - clickSlots); j++) {
    const slot = clickSlots + j;
    placements.push({
      slot,
      examination: examinationAt(examination, slot),
      kind: 'impression',
      rank: j,
      scored: impressionAds[j],
      slotUtility: impressions[j],
    });
  }
  if (verdicts !== undefined) {
    for (const entry of capped) verdicts[entry.index] = CandidateVerdict.outbid;
    for (const placement of placements) verdicts[placement.scored.index] = CandidateVerdict.won;
  }
  return {
    placements,
    eligible: kept,
    slots,
    examination,
    clicks,
    impressions,
    reserveUtility,
    clickSlots,
    weights,
    pool,
    diversity,
  };
}

/**
 * The pool under the diversity caps, split by kind; `without` competes as if it had not entered;
 * `left` hears of each ad a cap left out (withinCaps).
 */
export function kindLists(
  pool: readonly Scored[],
  diversity: Diversity,
  slots: number,
  without?: Scored,
  left?: (entry: Scored, cap: DiversityCap) => void,
): KindLists {
  const capped = withinCaps(pool, diversity, (entry) => entry.candidate, without, left);
  const clickAds: Scored[] = [];
  const impressionAds: Scored[] = [];
  for (const entry of capped) {
    const list = entry.candidate.bidType === 'CPM' ? impressionAds : clickAds;
    if (list.length <= slots) list.push(entry);
  }
  return {
    clickAds,
    impressionAds,
    clicks: clickAds.map((a) => a.breakdown.utility),
    impressions: impressionAds.map((a) => a.breakdown.utility),
    kept: capped.length,
    capped,
  };
}

/** The j-th best CPM utility, or the reserve once they run out. */
export function impressionOrReserve(
  impressions: readonly number[],
  j: number,
  reserveUtility: number,
): number {
  return j < impressions.length ? impressions[j] : reserveUtility;
}

/** The optimal number of click slots m (see SlotAllocation). */
export function splitPoint(
  clicks: readonly number[],
  impressions: readonly number[],
  reserveUtility: number,
  examination: Examination,
  slots: number,
): number {
  let m = 0;
  while (m < Math.min(slots, clicks.length)) {
    const gain = examinationAt(examination, m) * clicks[m];
    const displaced = impressionOrReserve(impressions, slots - m - 1, reserveUtility);
    if (comparableUtility(gain) < comparableUtility(displaced)) break;
    m++;
  }
  return m;
}

/** W: the utility of the optimal assignment, empty slots counted at the reserve. */
export function welfare(
  clicks: readonly number[],
  impressions: readonly number[],
  reserveUtility: number,
  examination: Examination,
  slots: number,
): number {
  const m = splitPoint(clicks, impressions, reserveUtility, examination, slots);
  let total = 0;
  for (let s = 0; s < m; s++) total += examinationAt(examination, s) * clicks[s];
  for (let j = 0; j < slots - m; j++) total += impressionOrReserve(impressions, j, reserveUtility);
  return total;
}

function rankEligible(
  candidates: readonly AuctionCandidate[],
  reservePerImpression: number,
  floors: QualityFloors,
  weights: UtilityWeights,
  context: UtilityContext,
  verdicts: Uint8Array | undefined,
): Scored[] {
  const reserveKey = comparableUtility(reservePerImpression);
  // An ad worth less than an empty slot takes none: only non-bid terms below 0 make it so.
  const emptySlotKey = comparableUtility(weights.advertiserValue * reservePerImpression);
  const minUtilityKey = comparableUtility(floors.minUtility);
  const scored: Array<Scored & { rankKey: number }> = [];
  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index];
    const breakdown = forCandidate(candidate.adId, () => utility(candidate, weights, context));
    const rankKey = comparableUtility(breakdown.utility);
    if (candidate.pCtr < floors.minPCtr || rankKey < minUtilityKey) {
      if (verdicts !== undefined) verdicts[index] = CandidateVerdict.belowFloor;
      continue;
    }
    const ownReserveKey = comparableUtility(reserveFor(candidate, reservePerImpression));
    if (
      comparableUtility(breakdown.valuePerImpression) < Math.max(reserveKey, ownReserveKey) ||
      rankKey < emptySlotKey
    ) {
      if (verdicts !== undefined) verdicts[index] = CandidateVerdict.belowReserve;
      continue;
    }
    scored.push({ candidate, breakdown, index, rankKey });
  }
  scored.sort((a, b) => b.rankKey - a.rankKey || a.candidate.adId - b.candidate.adId);
  return scored;
}

function requireFloors(floors: QualityFloors): void {
  requireProbability('floors.minPCtr', floors.minPCtr);
  requireNonNegative('floors.minUtility', floors.minUtility);
}
