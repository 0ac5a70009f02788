import type { CatalogAd } from '@adfunnel/catalog';
import {
  AdCount,
  type CampaignRow,
  CampaignCount,
  DeliveryTally,
  TotalCount,
} from '@adfunnel/delivery-diagnostics';
import {
  CandidateVerdict,
  type CandidateVerdictCode,
  type PredictionPriors,
  type UnscoredCandidate,
} from '@adfunnel/utility';
import { Injectable } from '@nestjs/common';

/**
 * A campaign's outcome in one auction, best first, as the scratch of its row: the best of its ads
 * decides it (a campaign whose best ad won is not also "behind its advertiser" for its others).
 * An ad the category cap left out had passed its advertiser's, so it ranks above one that did not.
 */
const Outcome = {
  won: 7,
  outbid: 6,
  categoryCapped: 5,
  advertiserCapped: 4,
  belowFloor: 3,
  belowReserve: 2,
  paced: 1,
  inactive: 0,
} as const;

/** The campaign count of each outcome, by Outcome code. */
const OUTCOME_COUNT = [
  CampaignCount.inactive,
  CampaignCount.paced,
  CampaignCount.below_reserve,
  CampaignCount.below_floor,
  CampaignCount.advertiser_capped,
  CampaignCount.category_capped,
  CampaignCount.outbid,
  CampaignCount.won,
];

/** The outcome and the ad count of each verdict, by CandidateVerdict code. */
const VERDICT_OUTCOME: readonly number[] = verdictTable({
  [CandidateVerdict.outbid]: Outcome.outbid,
  [CandidateVerdict.won]: Outcome.won,
  [CandidateVerdict.belowReserve]: Outcome.belowReserve,
  [CandidateVerdict.belowFloor]: Outcome.belowFloor,
  [CandidateVerdict.advertiserCapped]: Outcome.advertiserCapped,
  [CandidateVerdict.categoryCapped]: Outcome.categoryCapped,
});
const VERDICT_AD_COUNT: readonly number[] = verdictTable({
  [CandidateVerdict.outbid]: AdCount.outbid,
  [CandidateVerdict.won]: AdCount.won,
  [CandidateVerdict.belowReserve]: AdCount.below_reserve,
  [CandidateVerdict.belowFloor]: AdCount.below_floor,
  [CandidateVerdict.advertiserCapped]: AdCount.advertiser_capped,
  [CandidateVerdict.categoryCapped]: AdCount.category_capped,
});

/** A candidate of either kind: with ranking's predictions or, placed in retrieval order, without. */
type Candidate = UnscoredCandidate & { readonly pCtr?: number; readonly pCvr?: number };

/**
 * The auction's delivery counts: per campaign, once per request, what became of its best ad (found
 * inactive, held back by pacing, below the reserve or a quality floor, left out by the advertiser
 * cap or by the category cap, outbid, won), whether ranking scored it, and for an outbid one its eCPM against the
 * lowest winner's; per ad, the verdict. Counted from the candidate verdicts the auction writes into
 * a buffer reused across requests, during the run (which has no await), so nothing is kept between
 * requests. Only a request's first run counts: a rerun without the campaigns whose budget refused
 * their win (refused()) moves slots to others, which the gateway's served counts show.
 */
@Injectable()
export class AuctionDelivery {
  private verdicts = new Uint8Array(64);
  private readonly touched: CampaignRow[] = [];
  private stamp = 0;

  constructor(private readonly tally: DeliveryTally) {}

  /** Starts counting one request's first run. */
  begin(): void {
    this.tally.totals[TotalCount.auctions]++;
    this.stamp = this.tally.nextRequest();
    this.touched.length = 0;
  }

  /** An ad of the run left out before the auction: it or its campaign not active, or paced. */
  dropped(ad: CatalogAd, why: 'inactive' | 'paced'): void {
    this.touch(this.tally.campaign(ad.campaign.id), why === 'paced' ? Outcome.paced : Outcome.inactive, 0);
  }

  /** The buffer the auction writes the run's verdicts into, one per candidate. */
  verdictsFor(candidates: number): Uint8Array {
    if (this.verdicts.length < candidates) {
      this.verdicts = new Uint8Array(Math.max(candidates, this.verdicts.length * 2));
    }
    return this.verdicts;
  }

  /**
   * The run's candidates and their verdicts (in verdictsFor's buffer); `ranked`: whether they carry
   * ranking's predictions (else the auction placed retrieval's order, valued at `priors`).
   * `lowestWinnerValue`: USD per impression of the least valuable winner, for an outbid campaign's
   * comparison.
   */
  counted(
    candidates: readonly Candidate[],
    ranked: boolean,
    priors: PredictionPriors,
    lowestWinnerValue: number,
  ): void {
    const verdicts = this.verdicts;
    const tally = this.tally;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i];
      const verdict = verdicts[i] as CandidateVerdictCode;
      const ad = tally.ad(candidate.adId, candidate.campaignId);
      ad.counts[VERDICT_AD_COUNT[verdict]]++;
      const outcome = VERDICT_OUTCOME[verdict];
      const value =
        outcome === Outcome.outbid
          ? valueOf(candidate, candidate.pCtr ?? priors.pCtr, candidate.pCvr ?? priors.pCvr)
          : 0;
      this.touch(ad.campaign, outcome, value);
    }
    const scored = ranked ? CampaignCount.ranked : CampaignCount.unranked;
    const winnerMicros = Math.round(lowestWinnerValue * 1e9);
    for (const row of this.touched) {
      const counts = row.counts;
      counts[OUTCOME_COUNT[row.scratch]]++;
      if (row.scratch >= Outcome.belowReserve) counts[scored]++;
      if (row.scratch === Outcome.outbid) {
        // eCPM in micro-USD: USD per impression x 1000 x 1e6.
        counts[CampaignCount.outbid_ecpm_micros] += Math.round(row.scratchValue * 1e9);
        counts[CampaignCount.outbid_winner_ecpm_micros] += winnerMicros;
      }
    }
    this.touched.length = 0;
  }

  /**
   * Winners of a request's first run whose budget could not hold the reservation (each campaign
   * once): they count as refused instead of won.
   */
  refused(winners: readonly { readonly adId: number; readonly campaignId: number }[]): void {
    const stamp = this.tally.nextRequest();
    for (const winner of winners) {
      const ad = this.tally.ad(winner.adId, winner.campaignId);
      ad.counts[AdCount.won]--;
      ad.counts[AdCount.budget_refused]++;
      const campaign = ad.campaign;
      if (campaign.stamp === stamp) continue;
      campaign.stamp = stamp;
      campaign.counts[CampaignCount.won]--;
      campaign.counts[CampaignCount.budget_refused]++;
    }
  }

  private touch(row: CampaignRow, outcome: number, value: number): void {
    if (row.stamp !== this.stamp) {
      row.stamp = this.stamp;
      row.scratch = outcome;
      row.scratchValue = value;
      this.touched.push(row);
      return;
    }
    if (outcome > row.scratch) row.scratch = outcome;
    if (value > row.scratchValue) row.scratchValue = value;
  }
}

/** valuePerImpression of libs/utility without its checks (the auction has run them) or an object. */
function valueOf(candidate: Candidate, pCtr: number, pCvr: number): number {
  switch (candidate.bidType) {
    case 'CPM':
      return candidate.bid / 1000;
    case 'CPC':
      return candidate.bid * pCtr;
    case 'CPA':
      return candidate.bid * pCtr * pCvr;
  }
}

function verdictTable(entries: Record<CandidateVerdictCode, number>): number[] {
  const table: number[] = [];
  for (const [verdict, value] of Object.entries(entries)) table[Number(verdict)] = value;
  return table;
}
