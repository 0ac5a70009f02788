import { AD_COUNTS, CAMPAIGN_COUNTS, TOTAL_COUNTS } from './delivery-counts.js';

/** One campaign's counts since the last flush, and the scratch a request counts it with. */
export class CampaignRow {
  readonly counts = new Float64Array(CAMPAIGN_COUNTS.length);
  /** The request that last counted it (DeliveryTally.nextRequest): a campaign counts once a request. */
  stamp = 0;
  /** Scratch of the request that stamped it, e.g. the best auction verdict of its ads so far. */
  scratch = 0;
  /** A second scratch value of that request (the auction: its best ad's eCPM). */
  scratchValue = 0;

  constructor(readonly campaignId: number) {}
}

export class AdRow {
  readonly counts = new Float64Array(AD_COUNTS.length);

  constructor(
    readonly adId: number,
    readonly campaign: CampaignRow,
  ) {}
}

export interface DrainedCampaign {
  readonly campaignId: number;
  /** Null when only its ads counted. */
  readonly counts: Float64Array | null;
  readonly ads: readonly { readonly adId: number; readonly counts: Float64Array }[];
}

/** The counts of one flush interval: what the flusher writes, or gives back when Redis failed. */
export interface DrainedCounts {
  readonly totals: Float64Array;
  readonly campaigns: readonly DrainedCampaign[];
}

/**
 * A service's delivery counts in memory, per campaign and ad, between two flushes: rows of typed
 * arrays in Maps keyed by id, made once per campaign or ad and zeroed by each drain, so counting a
 * request is array increments and a Map lookup per ad, with nothing allocated once the rows exist.
 */
export class DeliveryTally {
  readonly totals = new Float64Array(TOTAL_COUNTS.length);
  private readonly campaigns = new Map<number, CampaignRow>();
  private readonly ads = new Map<number, AdRow>();
  private readonly drainHooks: (() => void)[] = [];
  private requests = 0;

  /** A new stamp for one request (CampaignRow.stamp). */
  nextRequest(): number {
    return ++this.requests;
  }

  campaign(campaignId: number): CampaignRow {
    let row = this.campaigns.get(campaignId);
    if (row === undefined) this.campaigns.set(campaignId, (row = new CampaignRow(campaignId)));
    return row;
  }

  /** The ad's row; an ad moved to another campaign gets a new one. */
  ad(adId: number, campaignId: number): AdRow {
    const row = this.ads.get(adId);
    if (row !== undefined && row.campaign.campaignId === campaignId) return row;
    const fresh = new AdRow(adId, this.campaign(campaignId));
    this.ads.set(adId, fresh);
    return fresh;
  }

  /** The ad's row if it has one: a caller that knows no campaign for an ad id looks here first. */
  knownAd(adId: number): AdRow | undefined {
    return this.ads.get(adId);
  }

  /** Runs before every drain: a stage that defers some counting folds it in here. */
  onDrain(hook: () => void): void {
    this.drainHooks.push(hook);
  }

  /** The counts since the last drain, which start again from zero. */
  drain(): DrainedCounts {
    for (const hook of this.drainHooks) hook();
    const adsOf = new Map<CampaignRow, { adId: number; counts: Float64Array }[]>();
    for (const row of this.ads.values()) {
      if (!nonZero(row.counts)) continue;
      let list = adsOf.get(row.campaign);
      if (list === undefined) adsOf.set(row.campaign, (list = []));
      list.push({ adId: row.adId, counts: row.counts.slice() });
      row.counts.fill(0);
    }
    const campaigns: DrainedCampaign[] = [];
    for (const row of this.campaigns.values()) {
      const ads = adsOf.get(row) ?? [];
      const counted = nonZero(row.counts);
      if (!counted && ads.length === 0) continue;
      campaigns.push({ campaignId: row.campaignId, counts: counted ? row.counts.slice() : null, ads });
      row.counts.fill(0);
    }
    const totals = this.totals.slice();
    this.totals.fill(0);
    return { totals, campaigns };
  }

  /** Adds a drain back (its flush failed): the next drain carries it again. */
  restore(drained: DrainedCounts): void {
    add(this.totals, drained.totals);
    for (const campaign of drained.campaigns) {
      if (campaign.counts !== null) add(this.campaign(campaign.campaignId).counts, campaign.counts);
      for (const ad of campaign.ads) add(this.ad(ad.adId, campaign.campaignId).counts, ad.counts);
    }
  }
}

export function isEmpty(drained: DrainedCounts): boolean {
  return drained.campaigns.length === 0 && !nonZero(drained.totals);
}

function nonZero(counts: Float64Array): boolean {
  for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) return true;
  return false;
}

function add(into: Float64Array, from: Float64Array): void {
  for (let i = 0; i < into.length; i++) into[i] += from[i];
}
