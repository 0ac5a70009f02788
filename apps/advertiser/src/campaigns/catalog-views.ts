import type { AdvertiserAd, AdvertiserCampaign } from '@adfunnel/catalog';

type Dated<T> = Omit<T, 'createdAt' | 'archivedAt'> & { createdAt: string; archivedAt: string | null };
export type CampaignView = Omit<Dated<AdvertiserCampaign>, 'statusChangedAt'> & {
  statusChangedAt: string | null;
};
export type AdView = Dated<AdvertiserAd>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A campaign as the API answers it: times as ISO 8601. */
export function campaignView(campaign: AdvertiserCampaign): CampaignView {
  return {
    ...campaign,
    createdAt: new Date(campaign.createdAt).toISOString(),
    archivedAt: iso(campaign.archivedAt),
    statusChangedAt: iso(campaign.statusChangedAt),
  };
}

export function adView(ad: AdvertiserAd): AdView {
  return { ...ad, createdAt: new Date(ad.createdAt).toISOString(), archivedAt: iso(ad.archivedAt) };
}
