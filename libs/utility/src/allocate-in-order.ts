import {
  CandidateVerdict,
  capVerdict,
  requireVerdicts,
  type AuctionOutcome,
  type PricedWinner,
  type UnscoredCandidate,
} from './auction-outcome.js';
import { reserveFor } from './campaign-reserve.js';
import { DEFAULT_DIVERSITY, requireDiversity, withinCaps, type Diversity } from './diversity.js';
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
  /** DEFAULT_DIVERSITY (one ad per advertiser) when absent. */
  readonly diversity?: Diversity;
  /** As AuctionInput.verdicts; `outbid` here means a slot went to an ad earlier in the order. */
  readonly verdicts?: Uint8Array;
}

/**
 * Degraded allocation when ranking failed: slots are filled in the given order within the diversity
 * caps (by default one ad per advertiser: its first that can pay the reserve), and every winner pays the reserve, converted to its bid unit
 * with the priors, never above its bid. Ads whose bid is worth less than the reserve at the priors
 * are skipped.
 */
export function allocateInOrder(input: InOrderInput): AuctionOutcome {
  const { candidates, slots, reservePerImpression } = input;
  const priors = input.priors ?? DEFAULT_PREDICTION_PRIORS;
  const examination = input.examination ?? DEFAULT_EXAMINATION;
  const diversity = input.diversity ?? DEFAULT_DIVERSITY;
  requireSlots(slots);
  requireDiversity(diversity);
  requireExamination(examination);
  requireNonNegative('reservePerImpression', reservePerImpression);
  requirePositiveProbability('priors.pCtr', priors.pCtr);
  requirePositiveProbability('priors.pCvr', priors.pCvr);
  const { verdicts } = input;
  requireVerdicts(verdicts, candidates.length);

  const payable = candidates.flatMap((candidate, index) => {
    const atPriors = { ...candidate, pCtr: priors.pCtr, pCvr: priors.pCvr };
    const breakdown = forCandidate(candidate.adId, () => utility(atPriors));
    const reserve = reserveFor(candidate, reservePerImpression);
    const pays = comparableUtility(breakdown.valuePerImpression) >= comparableUtility(reserve);
    if (!pays && verdicts !== undefined) verdicts[index] = CandidateVerdict.belowReserve;
    return pays ? [{ atPriors, breakdown, reserve, index }] : [];
  });
  const kept = withinCaps(
    payable,
    diversity,
    (entry) => entry.atPriors,
    undefined,
    verdicts === undefined
      ? undefined
      : (entry, cap) => {
          verdicts[entry.index] = capVerdict(cap);
        },
  );
  if (verdicts !== undefined) {
    kept.forEach((entry, rank) => {
      verdicts[entry.index] = rank < slots ? CandidateVerdict.won : CandidateVerdict.outbid;
    });
  }
  const winners: PricedWinner[] = kept.slice(0, slots).map(({ atPriors, breakdown, reserve }, slot) => {
    const reservePrice = priceInBidUnit({ ...atPriors, valuePerImpression: reserve });
    return {
      slot,
      adId: atPriors.adId,
      campaignId: atPriors.campaignId,
      advertiserId: atPriors.advertiserId,
      bidType: atPriors.bidType,
      bid: atPriors.bid,
      price: Math.min(atPriors.bid, ceilToMicros(reservePrice)),
      valuePerImpression: breakdown.valuePerImpression,
      utility: breakdown.utility,
      examination: examinationAt(examination, slot),
      pCtr: null,
      pCvr: null,
    };
  });
  const eligible = kept.length;
  return {
    mechanism: 'retrieval_order',
    winners,
    reservePerImpression,
    considered: candidates.length,
    eligible,
  };
}
