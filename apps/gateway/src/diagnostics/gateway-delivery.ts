import { AdCount, CampaignCount, DeliveryTally } from '@adfunnel/delivery-diagnostics';
import type { ServedAd } from '@adfunnel/contracts';
import { Injectable } from '@nestjs/common';

/**
 * The gateway's delivery count: the ads of an answer whose served record was written (an answer
 * without it carries no ads), per campaign and ad, in memory until the next flush.
 */
@Injectable()
export class GatewayDelivery {
  constructor(private readonly tally: DeliveryTally) {}

  served(ads: readonly ServedAd[]): void {
    for (let i = 0; i < ads.length; i++) {
      const row = this.tally.ad(ads[i].adId, ads[i].campaignId);
      row.counts[AdCount.served]++;
      row.campaign.counts[CampaignCount.served]++;
    }
  }
}
