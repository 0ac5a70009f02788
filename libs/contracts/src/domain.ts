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

/**
 * Where a retrieval candidate came from: `interest` (the user's category affinity over each ad's
 * category mixture read from its image, exact), personalized nearest neighbours (`ann` through HNSW, `exact`
 * when the eligible set is small enough to scan), `popular` (prior value per impression, the cold-start
 * list), `query` (the search query or context item embedded and searched), `lexical` (the query's words
 * matched against ad text), `context` (ads like the item the ads are shown next to), `trending` (recent
 * engagement in the user's country) and `retargeting` (advertisers the user engaged with).
 */
export const CANDIDATE_SOURCES = [
  'interest',
  'ann',
  'exact',
  'popular',
  'query',
  'lexical',
  'context',
  'trending',
  'retargeting',
] as const;
export const CandidateSourceSchema = z.enum(CANDIDATE_SOURCES);
export type CandidateSource = z.infer<typeof CandidateSourceSchema>;

/** Most recent entries kept per list of a user's activity state. */
export const MAX_RECENT_ACTIVITY = 20;

/**
 * What the funnel has observed a user do, from the events it logged itself (impressions, clicks, hides,
 * conversions, search queries) and the organic activity the product surface reported (`POST
 * /v1/activity`: engagement with its own content, organic searches): never the simulator's ground
 * truth. Counts are exponentially decayed (half-life configured where the state is written) and
 * indexed by the category taxonomy of libs/features (an ad's category is what its advertiser
 * declared; an organic item's, what the surface reports).
 */
export const UserActivitySchema = z.strictObject({
  impressionsByCategory: z.array(z.number().min(0)),
  clicksByCategory: z.array(z.number().min(0)),
  hidesByCategory: z.array(z.number().min(0)),
  conversionsByCategory: z.array(z.number().min(0)),
  /**
   * Engagement with the product's organic content (saves, likes, clicks the surface reported), per
   * category. Absent in states written before organic activity was reported: read it as all zero.
   */
  engagementsByCategory: z.array(z.number().min(0)).optional(),
  /** Ads the user clicked or converted on, most recent first. */
  recentAdIds: z.array(z.number().int().positive()).max(MAX_RECENT_ACTIVITY),
  /** Advertisers of those ads, most recent first, distinct. */
  recentAdvertiserIds: z.array(z.number().int().positive()).max(MAX_RECENT_ACTIVITY),
  /** The user's recent search queries, most recent first, distinct. */
  recentQueries: z.array(z.string().max(256)).max(MAX_RECENT_ACTIVITY),
  /** Epoch ms of the last event folded in. */
  updatedAt: z.number().int().min(0),
});
export type UserActivity = z.infer<typeof UserActivitySchema>;

/** Everything the funnel knows about the person behind a request, computed once by the gateway. */
export const UserContextSchema = z.strictObject({
  userId: z.string().min(1).max(64),
  country: CountrySchema,
  device: DeviceSchema,
  /**
   * Category affinity over the taxonomy of libs/features, inferred from the user's logged activity
   * (non-negative, sums to ~1; all zero = no activity yet). Never the simulator's true interests.
   */
  interests: z.array(z.number().min(0).max(1)),
  /** False when the funnel has seen no activity from the user (cold start): retrieval leans on popularity. */
  known: z.boolean(),
  /** The activity `interests` was inferred from; absent for a user with none. */
  activity: UserActivitySchema.optional(),
});
export type UserContext = z.infer<typeof UserContextSchema>;
