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

/** Where the window starts and ends, epoch ms (its end is the end of the current minute). */
export function windowBounds(window: DeliveryWindow): { from: number; to: number } {
  return { from: window.fromMinute * BUCKET_MS, to: (window.toMinute + 1) * BUCKET_MS };
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
    const campaign = zeroCounts(CAMPAIGN_COUNTS);
    const totals = zeroCounts(TOTAL_COUNTS);
    const ads = new Map<number, AdCounts>();
    results.forEach(([error, hash], i) => {
      if (error !== null) throw error;
      const fields = hash as Record<string, string>;
      if (i % 2 === 1) {
        for (const name of TOTAL_COUNTS) totals[name] += Number(fields[name] ?? 0);
        return;
      }
      for (const [field, value] of Object.entries(fields)) {
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
    return { campaign, ads, totals };
  }
}

const CAMPAIGN_NAMES: ReadonlySet<string> = new Set(CAMPAIGN_COUNTS);
const AD_NAMES: ReadonlySet<string> = new Set(AD_COUNTS);

function isCampaignCount(field: string): field is CampaignCountName {
  return CAMPAIGN_NAMES.has(field);
}

function isAdCount(name: string): name is AdCountName {
  return AD_NAMES.has(name);
}
