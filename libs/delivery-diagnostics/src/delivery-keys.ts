/** Counts are kept in buckets of one wall-clock minute. */
export const BUCKET_MS = 60_000;

/** The minute (since the epoch) a wall-clock instant falls in. */
export function minuteOf(epochMs: number): number {
  return Math.floor(epochMs / BUCKET_MS);
}

/** The Redis keys of the delivery counts: one hash per minute and campaign, one for the totals. */
export class DeliveryKeys {
  constructor(private readonly prefix: string) {}

  campaign(minute: number, campaignId: number): string {
    return `${this.prefix}:delivery:${minute}:c:${campaignId}`;
  }

  totals(minute: number): string {
    return `${this.prefix}:delivery:${minute}:total`;
  }
}

/** A campaign hash holds its own counts by name and its ads' as `a<adId>:<name>`. */
export function adField(adId: number, name: string): string {
  return `a${adId}:${name}`;
}

const AD_FIELD = /^a(\d+):([a-z_]+)$/;

export function parseAdField(field: string): { adId: number; name: string } | undefined {
  const match = AD_FIELD.exec(field);
  return match === null ? undefined : { adId: Number(match[1]), name: match[2] };
}
