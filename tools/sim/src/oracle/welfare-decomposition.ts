import type { BidType } from '@adfunnel/contracts';
import { DEFAULT_EXAMINATION, runAuction, type AuctionCandidate, type Examination } from '@adfunnel/utility';
import { allocationWelfare } from './allocation.js';

/** A retrieved ad as the auction sees it (its campaign's bid) and as the truth has it. */
export interface ReplayAd {
  readonly adId: number;
  readonly campaignId: number;
  readonly advertiserId: number;
  readonly bidType: BidType;
  readonly bid: number;
  /** Ranking's predictions; null when ranking did not answer. */
  readonly model: { readonly pCtr: number; readonly pCvr: number } | null;
  /** True P(click | examined) and P(conversion | click) for this user and context. */
  readonly truePClick: number;
  readonly truePConversion: number;
  /** What one conversion is worth to the advertiser (ground truth). */
  readonly valuePerConversion: number;
}

/** The auction settings the replays use: the funnel's defaults unless told otherwise. */
export interface ReplayRules {
  readonly examination: Examination;
  /** USD per impression. */
  readonly reservePerImpression: number;
}

/** AUCTION_EXAMINATION's and AUCTION_RESERVE_CPM's defaults (0.5 USD CPM). */
export const DEFAULT_REPLAY_RULES: ReplayRules = Object.freeze({
  examination: DEFAULT_EXAMINATION,
  reservePerImpression: 0.0005,
});

/**
 * True expected advertiser value (sum over placed ads of true examination x true value) of the
 * allocation the funnel's rule (libs/utility's welfare-maximising slot assignment, one ad per
 * advertiser, the reserve) picks from the same retrieved ads, fed in turn:
 * - `model`: ranking's predictions and the campaigns' bids (what the auction was given);
 * - `trueProbabilities`: the true P(click | examined), P(conversion | click), same bids;
 * - `trueValues`: true probabilities and each bid replaced by the advertiser's value in the same
 *   unit (CPA: value per conversion; CPC: P(conversion | click) x value; CPM: 1000 x P(click) x
 *   P(conversion) x value, its worth in an examined slot);
 * - `trueValuesTrueExamination`: that, with the true examination curve of the surface in place of
 *   the auction's.
 * Steps between them split the gap to the best allocation of the retrieved ads: prediction error
 * (model -> trueProbabilities), bids below value (-> trueValues), the auction's examination curve
 * (-> trueValuesTrueExamination), and what is left is the mechanism's constraints (CPM ads valued
 * as position-independent, the reserve). `model` is null when ranking did not answer.
 */
export interface WelfareReplay {
  model: number | null;
  trueProbabilities: number;
  trueValues: number;
  trueValuesTrueExamination: number;
}

export function replayWelfare(
  ads: readonly ReplayAd[],
  slots: number,
  trueExamination: (slot: number) => number,
  rules: ReplayRules = DEFAULT_REPLAY_RULES,
): WelfareReplay {
  const trueValue = new Map(
    ads.map((a) => [a.adId, a.truePClick * a.truePConversion * a.valuePerConversion]),
  );
  const welfareOf = (candidates: AuctionCandidate[], examination: Examination) => {
    const outcome = runAuction('gsp', {
      candidates,
      slots,
      reservePerImpression: rules.reservePerImpression,
      examination,
    });
    return allocationWelfare(
      outcome.winners.map((w) => ({ slot: w.slot, value: trueValue.get(w.adId) ?? 0 })),
      trueExamination,
    );
  };
  const candidate = (a: ReplayAd, pCtr: number, pCvr: number, bid = a.bid): AuctionCandidate => ({
    adId: a.adId,
    campaignId: a.campaignId,
    advertiserId: a.advertiserId,
    bidType: a.bidType,
    bid,
    pCtr,
    pCvr,
  });
  const withModel = ads.every((a) => a.model !== null)
    ? welfareOf(
        ads.map((a) => candidate(a, a.model!.pCtr, a.model!.pCvr)),
        rules.examination,
      )
    : null;
  const truthful = ads.map((a) => candidate(a, a.truePClick, a.truePConversion, valueAsBid(a)));
  const slotsOfTruth = Array.from({ length: Math.max(1, slots) }, (_, s) => trueExamination(s));
  return {
    model: withModel,
    trueProbabilities: welfareOf(
      ads.map((a) => candidate(a, a.truePClick, a.truePConversion)),
      rules.examination,
    ),
    trueValues: welfareOf(truthful, rules.examination),
    trueValuesTrueExamination: welfareOf(truthful, normalised(slotsOfTruth)),
  };
}

/** What the advertiser's bid would be if it bid its true value, in its own bid unit. */
export function valueAsBid(ad: ReplayAd): number {
  switch (ad.bidType) {
    case 'CPA':
      return ad.valuePerConversion;
    case 'CPC':
      return ad.truePConversion * ad.valuePerConversion;
    case 'CPM':
      return 1000 * ad.truePClick * ad.truePConversion * ad.valuePerConversion;
  }
}

/** The auction reads examination relative to slot 0 (examination[0] = 1). */
function normalised(examination: readonly number[]): Examination {
  const first = examination[0];
  return examination.map((e) => Math.min(1, e / first));
}
