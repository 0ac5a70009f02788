import { AdCount, CampaignCount, DeliveryTally, TotalCount } from '@adfunnel/delivery-diagnostics';
import { Injectable } from '@nestjs/common';
import type { BudgetExclusions } from '../budget/exhausted-campaigns.service.js';
import type { CandidateCatalog, TargetedCampaigns } from '../sources/candidate-catalog.js';

/**
 * Retrieval's delivery counts per campaign: matched by targeting but paused or ended
 * (targeted_inactive), eligible, left out for its budget (exhausted or committed) or the user's
 * frequency cap, and retrieved (per ad too). Eligibility depends on (country, device) alone and the
 * budget sets change only when retrieval reloads them, so a request adds one to the count of its
 * (country, device) set, and those sets' campaigns are counted once per budget reload or flush, not
 * per request: a request costs a Map update, a pass over its caps and a Map lookup per candidate.
 */
@Injectable()
export class RetrievalDelivery {
  /** Requests per (country, device) campaign set since the budget sets last changed. */
  private readonly pending = new Map<TargetedCampaigns, number>();
  private budget: BudgetExclusions | undefined;

  constructor(private readonly tally: DeliveryTally) {
    tally.onDrain(() => this.fold());
  }

  /**
   * One answered request. `budget`: the budget sets its exclusions started from (read before them);
   * `exclude`: every campaign it could not see, those and the user's capped ones; `adIds`: its
   * candidates.
   */
  counted(
    catalog: CandidateCatalog,
    country: string,
    device: string,
    budget: BudgetExclusions,
    exclude: ReadonlySet<number>,
    adIds: readonly number[],
  ): void {
    if (budget !== this.budget) {
      this.fold();
      this.budget = budget;
    }
    const tally = this.tally;
    tally.totals[TotalCount.retrieval_requests]++;
    const campaigns = catalog.campaignsFor(country, device);
    this.pending.set(campaigns, (this.pending.get(campaigns) ?? 0) + 1);
    // The exclusions are the budget set itself unless the user has reached a cap.
    if (exclude !== budget.excluded) {
      for (const campaignId of exclude) {
        // Nor is a capped campaign the request could not have seen anyway (targeting).
        if (budget.excluded.has(campaignId) || !campaigns.eligible.has(campaignId)) continue;
        tally.campaign(campaignId).counts[CampaignCount.frequency_capped]++;
      }
    }
    const stamp = tally.nextRequest();
    for (let i = 0; i < adIds.length; i++) {
      const adId = adIds[i];
      let row = tally.knownAd(adId);
      if (row === undefined) {
        const campaignId = catalog.ad(adId)?.campaignId;
        if (campaignId === undefined) continue;
        row = tally.ad(adId, campaignId);
      }
      row.counts[AdCount.retrieved]++;
      const campaign = row.campaign;
      if (campaign.stamp !== stamp) {
        campaign.stamp = stamp;
        campaign.counts[CampaignCount.retrieved]++;
      }
    }
  }

  /** Counts the pending requests' campaigns, and those the budget sets left out. */
  private fold(): void {
    if (this.pending.size === 0) return;
    const budget = this.budget;
    for (const [campaigns, requests] of this.pending) {
      for (const campaignId of campaigns.inactive) {
        this.tally.campaign(campaignId).counts[CampaignCount.targeted_inactive] += requests;
      }
      for (const campaignId of campaigns.paused) {
        this.tally.campaign(campaignId).counts[CampaignCount.targeted_paused] += requests;
      }
      for (const campaignId of campaigns.ended) {
        this.tally.campaign(campaignId).counts[CampaignCount.targeted_ended] += requests;
      }
      for (const campaignId of campaigns.eligible) {
        const counts = this.tally.campaign(campaignId).counts;
        counts[CampaignCount.eligible] += requests;
        if (budget === undefined || !budget.excluded.has(campaignId)) continue;
        const why = budget.exhausted.has(campaignId)
          ? CampaignCount.budget_exhausted
          : CampaignCount.budget_committed;
        counts[why] += requests;
      }
    }
    this.pending.clear();
  }
}
