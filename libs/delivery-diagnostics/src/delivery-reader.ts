import type { Redis } from 'ioredis';
import {
  AD_COUNTS,
  type AdCountName,
  type AdCounts,
  CAMPAIGN_COUNTS,
  type CampaignCountName,
  type CampaignCounts,
  TOTAL_COUNTS,
  type TotalCounts,
  zeroCounts,
} from './delivery-counts.js';
import { BUCKET_MS, DeliveryKeys, minuteOf, parseAdField } from './delivery-keys.js';

/** The whole minutes a window covers, the current (partial) one last. */
export interface DeliveryWindow {
  readonly fromMinute: number;
  readonly toMinute: number;
  /**
   * When the window starts within fromMinute (windowSince): that instant, epoch ms, and the share of
   * fromMinute's requests (the totals) that fall after it. Absent: it starts with fromMinute.
   */
  readonly since?: { readonly at: number; readonly share: number };
}

/** One campaign's counts summed over a window. */
export interface CampaignWindowCounts {
  readonly campaign: CampaignCounts;
  readonly ads: ReadonlyMap<number, AdCounts>;
  readonly totals: TotalCounts;
}

/** A window given as `15m`, `2h` or a number of minutes that the request may not set right. */
export class DeliveryWindowError extends Error {
  override readonly name = 'DeliveryWindowError';
}

const WINDOW = /^(\d{1,5})(m|h)?$/;

/** The last `text` minutes up to `now`: `15m`, `90m`, `2h`, or `15` (minutes); at most `maxMinutes`. */
export function windowEnding(now: number, text: string, maxMinutes: number): DeliveryWindow {
  const match = WINDOW.exec(text.trim());
  if (match === null) {
    throw new DeliveryWindowError(`window must be minutes or hours, such as 15m, 90m or 2h; got "${text}"`);
  }
  const minutes = Number(match[1]) * (match[2] === 'h' ? 60 : 1);
  if (minutes < 1 || minutes > maxMinutes) {
    throw new DeliveryWindowError(
      `window must be from 1m to ${maxMinutes}m (the counts are kept ${maxMinutes} minutes, DELIVERY_RETENTION_MINUTES); got "${text}"`,
    );
  }
  const toMinute = minuteOf(now);
  return { fromMinute: toMinute - minutes + 1, toMinute };
}

/**
 * The last `minutes` minutes up to `now`, or from `since` (epoch ms) if that is later: a campaign
 * created within the window is compared only with the requests since it was created, not with
 * those that came before it could serve. The counts are kept per minute, so the minute `since`
 * falls in is read whole, but only the share of its requests after `since` counts: they are taken
 * as spread evenly over the minute (over the part of it gone, for the current minute). A campaign's
 * own counts of that minute all count, as none can precede it.
 */
export function windowSince(now: number, minutes: number, since: number): DeliveryWindow {
  const toMinute = minuteOf(now);
  const fromMinute = toMinute - minutes + 1;
  const at = Math.min(since, now);
  if (at <= fromMinute * BUCKET_MS) return { fromMinute, toMinute };
  const start = minuteOf(at) * BUCKET_MS;
  const end = Math.min(now, start + BUCKET_MS);
  const share = end > start ? (end - at) / (end - start) : 1;
  return { fromMinute: minuteOf(at), toMinute, since: { at, share } };
}

/** Where the window starts and ends, epoch ms (its end is the end of the current minute). */
export function windowBounds(window: DeliveryWindow): { from: number; to: number } {
  return {
    from: window.since?.at ?? window.fromMinute * BUCKET_MS,
    to: (window.toMinute + 1) * BUCKET_MS,
  };
}

/** Sums the minutes of a window that every service's flusher wrote, in one round trip. */
export class DeliveryReader {
  private readonly keys: DeliveryKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new DeliveryKeys(prefix);
  }

  async campaign(campaignId: number, window: DeliveryWindow): Promise<CampaignWindowCounts> {
    const pipeline = this.redis.pipeline();
    for (let minute = window.fromMinute; minute <= window.toMinute; minute++) {
      pipeline.hgetall(this.keys.campaign(minute, campaignId));
      pipeline.hgetall(this.keys.totals(minute));
    }
    const results = (await pipeline.exec()) ?? [];
    const minutes: MinuteHashes[] = [];
    for (let i = 0; i < results.length; i += 2) {
      const [campaignError, campaign] = results[i];
      const [totalsError, totals] = results[i + 1];
      if (campaignError !== null) throw campaignError;
      if (totalsError !== null) throw totalsError;
      minutes.push({
        campaign: campaign as Record<string, string>,
        totals: totals as Record<string, string>,
      });
    }
    return sumWindow(window, minutes);
  }
}

/** One minute of a window as the flushers wrote it: the campaign's hash and the totals' hash. */
export interface MinuteHashes {
  readonly campaign: Readonly<Record<string, string>>;
  readonly totals: Readonly<Record<string, string>>;
}

/**
 * Sums a window's minutes, `minutes` from its fromMinute on. The first minute's request totals
 * count only for their share after the window's start when it starts within that minute
 * (windowSince), rounded, so the requests line up with the window the campaign is compared over.
 */
export function sumWindow(window: DeliveryWindow, minutes: readonly MinuteHashes[]): CampaignWindowCounts {
  const campaign = zeroCounts(CAMPAIGN_COUNTS);
  const totals = zeroCounts(TOTAL_COUNTS);
  const ads = new Map<number, AdCounts>();
  minutes.forEach((minute, i) => {
    const share = i === 0 ? (window.since?.share ?? 1) : 1;
    // The share is an estimate (requests spread evenly over the minute); the campaign's own counts
    // of that minute are each one request at least, so the estimate never falls below them: a
    // campaign that served in its first seconds is not told no request reached it.
    const own = (name: CampaignCountName) => Number(minute.campaign[name] ?? 0);
    const atLeast: TotalCounts =
      share === 1
        ? { retrieval_requests: 0, auctions: 0 }
        : {
            retrieval_requests: own('eligible') + own('targeted_inactive'),
            auctions: own('ranked') + own('unranked'),
          };
    for (const name of TOTAL_COUNTS) {
      totals[name] += Math.max(Number(minute.totals[name] ?? 0) * share, atLeast[name]);
    }
    for (const [field, value] of Object.entries(minute.campaign)) {
      const n = Number(value);
      if (isCampaignCount(field)) {
        campaign[field] += n;
        continue;
      }
      const ad = parseAdField(field);
      if (ad === undefined || !isAdCount(ad.name)) continue;
      let counts = ads.get(ad.adId);
      if (counts === undefined) ads.set(ad.adId, (counts = zeroCounts(AD_COUNTS)));
      counts[ad.name] += n;
    }
  });
  for (const name of TOTAL_COUNTS) totals[name] = Math.round(totals[name]);
  return { campaign, ads, totals };
}

const CAMPAIGN_NAMES: ReadonlySet<string> = new Set(CAMPAIGN_COUNTS);
const AD_NAMES: ReadonlySet<string> = new Set(AD_COUNTS);

function isCampaignCount(field: string): field is CampaignCountName {
  return CAMPAIGN_NAMES.has(field);
}

function isAdCount(name: string): name is AdCountName {
  return AD_NAMES.has(name);
}
