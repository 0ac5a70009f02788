import type { AuctionOutcome, PricedWinner, UnscoredCandidate } from './auction-outcome.js';
import { DEFAULT_EXAMINATION, examinationAt, requireExamination, type Examination } from './examination.js';
import { ceilToMicros } from './money.js';
import { DEFAULT_PREDICTION_PRIORS, type PredictionPriors } from './prediction-priors.js';
import {
  forCandidate,
  requireNonNegative,
  requirePositiveProbability,
  requireSlots,
} from './range-checks.js';
import { comparableUtility, utility } from './utility.js';
import { priceInBidUnit } from './value-per-impression.js';

export interface InOrderInput {
  /** In the order to fill slots (retrieval order). */
  readonly candidates: readonly UnscoredCandidate[];
  readonly slots: number;
  /** USD per impression. */
  readonly reservePerImpression: number;
  readonly priors?: PredictionPriors;
  /** Reported on each winner; the reserve price does not depend on it. */
  readonly examination?: Examination;
}

/**
 * Degraded allocation when ranking failed: slots are filled in the given order, one ad per advertiser
 * (its first that can pay the reserve), and every winner pays the reserve, converted to its bid unit
 * with the priors, never above its bid. Ads whose bid is worth less than the reserve at the priors
 * are skipped.
 */
export function allocateInOrder(input: InOrderInput): AuctionOutcome {
  const { candidates, slots, reservePerImpression } = input;
  const priors = input.priors ?? DEFAULT_PREDICTION_PRIORS;
  const examination = input.examination ?? DEFAULT_EXAMINATION;
  requireSlots(slots);
  requireExamination(examination);
  requireNonNegative('reservePerImpression', reservePerImpression);
  requirePositiveProbability('priors.pCtr', priors.pCtr);
  requirePositiveProbability('priors.pCvr', priors.pCvr);

  const reserveKey = comparableUtility(reservePerImpression);
  const seen = new Set<number>();
  const winners: PricedWinner[] = [];
  let eligible = 0;
  for (const candidate of candidates) {
    const atPriors = { ...candidate, pCtr: priors.pCtr, pCvr: priors.pCvr };
    const breakdown = forCandidate(candidate.adId, () => utility(atPriors));
    if (comparableUtility(breakdown.valuePerImpression) < reserveKey) continue;
    if (seen.has(candidate.advertiserId)) continue;
    seen.add(candidate.advertiserId);
    eligible++;
    if (winners.length >= slots) continue;
    const reservePrice = priceInBidUnit({ ...atPriors, valuePerImpression: reservePerImpression });
    winners.push({
      slot: winners.length,
      adId: candidate.adId,
      campaignId: candidate.campaignId,
      advertiserId: candidate.advertiserId,
      bidType: candidate.bidType,
      bid: candidate.bid,
      price: Math.min(candidate.bid, ceilToMicros(reservePrice)),
      valuePerImpression: breakdown.valuePerImpression,
      utility: breakdown.utility,
      examination: examinationAt(examination, winners.length),
      pCtr: null,
      pCvr: null,
    });
  }
  return {
    mechanism: 'retrieval_order',
    winners,
    reservePerImpression,
    considered: candidates.length,
    eligible,
  };
}
