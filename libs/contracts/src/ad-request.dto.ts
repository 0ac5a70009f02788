import { z } from 'zod';
import { BidTypeSchema, CountrySchema, DeviceSchema, SurfaceSchema } from './domain.js';

export const MAX_SLOTS = 10;
export const MAX_AD_POSITIONS = 50;

/**
 * Where in a surface's feed ads may go: 0-based positions counting organic items and ads together,
 * strictly increasing. The auction keeps the earliest that respect the surface's minimum spacing
 * between ads and its ad load, at most `slots` of them.
 */
export const AdPositionsSchema = z
  .array(z.number().int().min(0).max(999))
  .min(1)
  .max(MAX_AD_POSITIONS)
  .refine((positions) => positions.every((p, i) => i === 0 || p > positions[i - 1]), {
    message: 'must be strictly increasing (distinct feed positions, top first)',
  });

/** A user's id as product surfaces send it: the key of their activity state. */
export const UserIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -')
  .describe('Stable id of the user');

/** Body of `POST /v1/ads`: what a product surface sends when it has room for ads. */
export const AdRequestSchema = z.strictObject({
  userId: UserIdSchema.describe('Stable id of the user the ads are for'),
  surface: SurfaceSchema.describe('Where the ads are shown'),
  country: CountrySchema.describe('ISO 3166-1 alpha-2 country of the user'),
  device: DeviceSchema.describe('Device class of the user'),
  slots: z
    .number()
    .int()
    .min(1)
    .max(MAX_SLOTS)
    .default(3)
    .describe("How many ad slots to fill at most (the surface's ad load may allow fewer)"),
  adPositions: AdPositionsSchema.optional().describe(
    'Feed positions (0-based, organic items and ads counted together, strictly increasing, at most 50, each ' +
      "0-999) where ads may go; the answer uses the earliest that keep the surface's minimum spacing between " +
      'ads, at most `slots`. Absent: the ads form one block at positions 0, 1, ...',
  ),
  query: z
    .string()
    .max(256)
    .optional()
    .describe(
      'Search query, for the search surface: retrieval matches its words and meaning against the ads',
    ),
  contextAdId: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      'The item the ads are shown next to, for the related_items surface: retrieval finds ads like it',
    ),
});
export type AdRequest = z.infer<typeof AdRequestSchema>;
export type AdRequestInput = z.input<typeof AdRequestSchema>;

export const ServedAdSchema = z.object({
  slot: z.number().int().describe("0-based rank among the answer's ads, top first"),
  position: z
    .number()
    .int()
    .describe('Where the ad goes in the feed: one of the adPositions asked for, or its slot when none were'),
  adId: z.number().int(),
  campaignId: z.number().int(),
  advertiserId: z.number().int(),
  creative: z.object({
    title: z.string(),
    text: z.string(),
    imageUrl: z.string(),
    category: z.string(),
  }),
  price: z.object({
    bidType: BidTypeSchema,
    amount: z.number().describe('What the advertiser pays per unit of bidType (CPM: per 1000 impressions)'),
    currency: z.literal('USD'),
  }),
  tracking: z.object({
    impressionUrl: z.string().describe('Fire when the ad is shown (returns 204)'),
    clickUrl: z.string().describe('Send the user here on click (302 to the landing page)'),
    hideUrl: z
      .string()
      .describe('Fire when the user hides the ad ("not interested"; returns 204, never billed)'),
  }),
});
export type ServedAd = z.infer<typeof ServedAdSchema>;

/**
 * `served_record_unavailable`: the served record could not be written to Redis in time, so the answer
 * carries no ads (an ad whose serve is not recorded can be neither billed nor attributed).
 * `user_activity_unavailable`: the user's activity state could not be read, so the request was served
 * as a cold-start user's.
 */
export const DEGRADATIONS = [
  'ranking_unavailable',
  'auction_unavailable',
  'retrieval_unavailable',
  'served_record_unavailable',
  'user_activity_unavailable',
] as const;
export type Degradation = (typeof DEGRADATIONS)[number];

/**
 * What became of one stage of a request: `ok`; `failed` (it answered with an error, or nobody
 * listens); `timeout` (no answer before its timeout or the request deadline, or it answered after
 * the deadline and was not used); `skipped` (nothing for it to do: no candidates, or an earlier
 * stage failed).
 */
export const STAGE_OUTCOMES = ['ok', 'failed', 'timeout', 'skipped'] as const;
export type StageOutcome = (typeof STAGE_OUTCOMES)[number];
export const FUNNEL_STAGES = ['retrieval', 'ranking', 'auction'] as const;
export type FunnelStage = (typeof FUNNEL_STAGES)[number];

/** How the answer's ads were ordered. */
export const RANKINGS = ['model', 'retrieval_order', 'none'] as const;
export type Ranking = (typeof RANKINGS)[number];

export const AdResponseSchema = z.object({
  requestId: z.string(),
  ads: z.array(ServedAdSchema),
  ranking: z
    .enum(RANKINGS)
    .describe(
      '"model": the auction ran on the ranking model\'s predictions; "retrieval_order": ranking failed or ran ' +
        'out of time and the auction ran on retrieval\'s order; "none": no auction result was used (retrieval ' +
        'or the auction failed, or there were no candidates)',
    ),
  modelVersion: z.string().nullable(),
  personalized: z.boolean().describe('False when the user has no stored profile (cold start)'),
  degraded: z.array(z.enum(DEGRADATIONS)).describe('Stages that failed; the answer is still valid'),
  stages: z
    .record(z.enum(FUNNEL_STAGES), z.enum(STAGE_OUTCOMES))
    .describe(
      'What became of each stage: ok, failed, timeout (including answers after the deadline), skipped',
    ),
  timingsMs: z.record(z.string(), z.number()),
});
export type AdResponse = z.infer<typeof AdResponseSchema>;
