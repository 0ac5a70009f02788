import type { CatalogCampaign } from '@adfunnel/catalog';
import { type MarketplaceSpec, Rng } from '@adfunnel/simulator';

/** Zones of the demo's non-UTC advertisers: days that start well before and well after UTC's. */
const OTHER_TIME_ZONES = [
  'America/New_York',
  'America/Los_Angeles',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Australia/Sydney',
] as const;
const SHARE_OUTSIDE_UTC = 0.1;
const SHARE_ASAP = 0.15;
const CLICK_WINDOWS: readonly [days: number, weight: number][] = [
  [7, 0.7],
  [1, 0.1],
  [14, 0.1],
  [30, 0.1],
];
const SHARE_OWN_FREQUENCY_CAP = 0.2;
const FREQUENCY_CAPS: readonly [impressions: number, hours: number][] = [
  [3, 24],
  [5, 24],
  [10, 72],
  [2, 12],
];

export type SeededCampaignSettings = Pick<
  CatalogCampaign,
  'clickWindowDays' | 'pacing' | 'frequencyCap' | 'frequencyWindowHours'
>;

/**
 * The demo advertiser's time zone: most bill in UTC, a few elsewhere so that billing days that are
 * not UTC days are exercised. Drawn from a stream of its own, so the marketplace itself is unchanged.
 */
export function seededAdvertiserTimeZone(spec: MarketplaceSpec, advertiserIndex: number): string {
  const rng = Rng.derive(spec.seed, 'advertiser-account', advertiserIndex);
  return rng.bernoulli(SHARE_OUTSIDE_UTC) ? rng.pick(OTHER_TIME_ZONES) : 'UTC';
}

/** The demo campaign's click window, pacing and frequency cap: mostly the defaults, some of each other kind. */
export function seededCampaignSettings(spec: MarketplaceSpec, campaignIndex: number): SeededCampaignSettings {
  const rng = Rng.derive(spec.seed, 'campaign-delivery', campaignIndex);
  const pacing: CatalogCampaign['pacing'] = rng.bernoulli(SHARE_ASAP) ? 'asap' : 'even';
  const clickWindowDays = CLICK_WINDOWS[rng.weightedIndex(CLICK_WINDOWS.map(([, w]) => w))][0];
  const cap = rng.bernoulli(SHARE_OWN_FREQUENCY_CAP) ? rng.pick(FREQUENCY_CAPS) : null;
  return {
    clickWindowDays,
    pacing,
    frequencyCap: cap === null ? null : cap[0],
    frequencyWindowHours: cap === null ? null : cap[1],
  };
}
