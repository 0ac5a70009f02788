import { z } from 'zod';

/** Where an ad is shown. Each surface has its own position effects and ad load. */
export const SURFACES = ['home_feed', 'search', 'related_items'] as const;
export const SurfaceSchema = z.enum(SURFACES);
export type Surface = z.infer<typeof SurfaceSchema>;

export const DEVICES = ['mobile', 'desktop', 'tablet'] as const;
export const DeviceSchema = z.enum(DEVICES);
export type Device = z.infer<typeof DeviceSchema>;

/** Countries the demo marketplace sells in (ISO 3166-1 alpha-2). */
export const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'JP', 'CA'] as const;
export const CountrySchema = z
  .string()
  .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code in upper case, e.g. "US"');
export type Country = string;

/** How an advertiser pays: per thousand impressions, per click, or per conversion (action). */
export const BID_TYPES = ['CPM', 'CPC', 'CPA'] as const;
export const BidTypeSchema = z.enum(BID_TYPES);
export type BidType = z.infer<typeof BidTypeSchema>;

export const CAMPAIGN_STATUSES = ['active', 'paused', 'ended'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** How a campaign spends its daily budget: spread over the day's expected traffic, or as fast as it wins. */
export const PACING_MODES = ['even', 'asap'] as const;
export const PacingSchema = z.enum(PACING_MODES);
export type Pacing = z.infer<typeof PacingSchema>;

export const EVENT_TYPES = ['impression', 'click', 'conversion', 'hide'] as const;
export const EventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventTypeSchema>;

/** Everything the funnel knows about the person behind a request, computed once by the gateway. */
export const UserContextSchema = z.strictObject({
  userId: z.string().min(1).max(64),
  country: CountrySchema,
  device: DeviceSchema,
  /** Interest profile over the topic taxonomy of libs/features (non-negative, sums to ~1; all zero = unknown user). */
  interests: z.array(z.number().min(0).max(1)),
  /** False when the user has no stored profile (cold start): retrieval leans on popularity. */
  known: z.boolean(),
});
export type UserContext = z.infer<typeof UserContextSchema>;
