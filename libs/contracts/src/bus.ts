import { z } from 'zod';
import { AdPositionsSchema } from './ad-request.dto.js';
import {
  BidTypeSchema,
  CandidateSourceSchema,
  DeviceSchema,
  SurfaceSchema,
  UserContextSchema,
} from './domain.js';
import { enumValues, finiteNumbers, integers } from './number-arrays.js';

/**
 * One typed request-reply call over the bus: the NATS subject, and the schemas both sides compile
 * against. The receiver validates the request; the sender types the reply.
 */
export interface RpcContract<Req extends z.ZodType, Res extends z.ZodType> {
  readonly pattern: string;
  readonly request: Req;
  readonly response: Res;
}
export type RpcRequest<C> = C extends RpcContract<infer Req, z.ZodType> ? z.infer<Req> : never;
export type RpcResponse<C> = C extends RpcContract<z.ZodType, infer Res> ? z.infer<Res> : never;

function rpc<Req extends z.ZodType, Res extends z.ZodType>(
  pattern: string,
  request: Req,
  response: Res,
): RpcContract<Req, Res> {
  return { pattern, request, response };
}

/** Every stage call carries the request id (for logs) and the absolute deadline (epoch ms). */
const StageHeader = {
  requestId: z.string().min(1).max(128),
  deadlineAt: z.number().int().positive(),
};

// ---- retrieval ------------------------------------------------------------------------------------

export const CandidatesRequestSchema = z.strictObject({
  ...StageHeader,
  user: UserContextSchema,
  surface: SurfaceSchema,
  limit: z.number().int().min(1).max(2000),
  /** The search query (search surface). */
  query: z.string().max(256).optional(),
  /** The item the ads are shown next to (related_items surface). */
  contextAdId: z.number().int().positive().optional(),
});
export type CandidatesRequest = z.infer<typeof CandidatesRequestSchema>;

/** Parallel arrays (ids and numbers, not objects) keep the hop cheap. */
export const CandidatesResponseSchema = z.object({
  adIds: integers(),
  scores: finiteNumbers(),
  sources: enumValues(CandidateSourceSchema),
  indexVersion: z.string(),
  eligible: z.number().int().describe('Ads that passed targeting for this request'),
});
export type CandidatesResponse = z.infer<typeof CandidatesResponseSchema>;

// ---- ranking --------------------------------------------------------------------------------------

export const ScoreRequestSchema = z.strictObject({
  ...StageHeader,
  user: UserContextSchema,
  surface: SurfaceSchema,
  adIds: integers({ min: 1, max: 2000 }),
  /** The search query (search surface): ranking matches its words against each ad's text. */
  query: z.string().max(256).optional(),
  /** The item the ads are shown next to (related_items surface). */
  contextAdId: z.number().int().positive().optional(),
});
export type ScoreRequest = z.infer<typeof ScoreRequestSchema>;

export const ScoreResponseSchema = z.object({
  modelVersion: z.string(),
  pCtr: finiteNumbers(),
  /**
   * The model's own pCTR per ad when ranking calibrated pCtr (RANKING_CALIBRATION); absent when no
   * calibrator applied, pCtr being the model's then.
   */
  pCtrRaw: finiteNumbers().optional(),
  /** Which calibrator set produced pCtr (`<modelVersion>@<fitted at>`); absent with pCtrRaw. */
  calibration: z.string().optional(),
  pCvr: finiteNumbers(),
  /**
   * P(hide | examined) per ad (position-free like pCtr; a hide needs the ad examined and not clicked),
   * from a model with a hide head; absent for a model without one.
   */
  pHide: finiteNumbers().optional(),
  /**
   * What the model inputs were computed from: the feature-spec fingerprint and the catalog snapshot.
   * A receiver that computes the same fingerprint from the same catalog version rebuilds the exact
   * rows with libs/features (the gateway does, for the winners it logs), so 200 rows of floats need
   * not cross the bus on every request.
   */
  featureSpec: z.string(),
  catalogVersion: z.string(),
});
export type ScoreResponse = z.infer<typeof ScoreResponseSchema>;

// ---- auction --------------------------------------------------------------------------------------

/** The auctions a request may ask for (an experiment arm); `retrieval_order` only ever answers. */
export const PricingMechanismSchema = z.enum(['gsp', 'vcg', 'first_price']);
/** What an auction answer says ran: one of those, or retrieval order when there were no predictions. */
export const MechanismSchema = z.enum([...PricingMechanismSchema.options, 'retrieval_order']);

/**
 * The weights of the auction's utility terms (libs/utility/README.md): advertiser value, user value,
 * hide cost, fatigue cost. Dimensionless, at most 100; only the advertiser's must be > 0.
 */
const utilityWeight = z.number().min(0).max(100);
export const UtilityWeightsSchema = z.strictObject({
  advertiserValue: utilityWeight.gt(0),
  userValue: utilityWeight,
  hide: utilityWeight,
  fatigue: utilityWeight,
});

/**
 * A budget-split experiment's slice of every campaign's daily budget that a request spends from: its
 * key (`layer:experiment/arm`, `holdout`, `layer:rest`) and its share of the budget, the traffic
 * share of the request's group. Reservations and spend are kept per slice, so arms never compete
 * for one budget.
 */
export const BudgetSliceSchema = z.strictObject({
  key: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[a-z0-9][a-z0-9_.:/-]*$/, 'must be an experiment label (lowercase letters, digits, _ . - : /)'),
  share: z.number().gt(0).max(1),
});
export type BudgetSlice = z.infer<typeof BudgetSliceSchema>;

export const AuctionRequestSchema = z.strictObject({
  ...StageHeader,
  surface: SurfaceSchema,
  device: DeviceSchema,
  /** An upper bound: the surface's ad load and adPositions may leave fewer. */
  slots: z.number().int().min(1).max(10),
  /** Feed positions ads may take (AdRequest.adPositions); absent: one block from position 0. */
  adPositions: AdPositionsSchema.optional(),
  adIds: integers({ max: 2000 }),
  /** Whose frequency caps the winners count against; absent: none are counted. */
  userId: z.string().min(1).max(64).optional(),
  /** Absent when ranking failed: the auction then keeps retrieval order and prices at the reserve. */
  predictions: z
    .object({
      pCtr: finiteNumbers(),
      pCvr: finiteNumbers(),
      /** P(hide | examined), parallel to adIds; absent when the model has no hide head. */
      pHide: finiteNumbers().optional(),
    })
    .optional(),
  /** Overrides the surface's configured mechanism; absent: AUCTION_MECHANISM(_BY_SURFACE) decides. */
  mechanism: PricingMechanismSchema.optional(),
  /**
   * Overrides some of the surface's utility weights (an experiment arm); weights it does not name
   * keep AUCTION_UTILITY_WEIGHTS(_BY_SURFACE).
   */
  utilityWeights: UtilityWeightsSchema.partial().optional(),
  /** The budget slice the winners reserve from (a budget-split experiment); absent: the whole budget. */
  budgetSlice: BudgetSliceSchema.optional(),
});
export type AuctionRequest = z.infer<typeof AuctionRequestSchema>;

export const AuctionWinnerSchema = z.object({
  slot: z.number().int(),
  /** Its feed position (adPositions[k] for the k-th ad, or the slot); absent from older auctions. */
  position: z.number().int().optional(),
  adId: z.number().int(),
  campaignId: z.number().int(),
  advertiserId: z.number().int(),
  bidType: BidTypeSchema,
  bid: z.number(),
  /** Price in the unit of bidType (CPM: per 1000 impressions), never above bid. */
  price: z.number(),
  valuePerImpression: z.number(),
  pCtr: z.number().nullable(),
  pCvr: z.number().nullable(),
});
export type AuctionWinner = z.infer<typeof AuctionWinnerSchema>;

export const AuctionResponseSchema = z.object({
  mechanism: MechanismSchema,
  winners: z.array(AuctionWinnerSchema),
  reservePerImpression: z.number(),
  considered: z.number().int(),
  eligible: z.number().int(),
  /** The utility weights the auction ranked by; absent in retrieval order, which uses none. */
  utilityWeights: UtilityWeightsSchema.optional(),
  /**
   * Winners refused because their campaign's budget could not hold their reservation, over every run
   * of the auction (a rerun without them fills their slots when it can). Absent when no budget check ran.
   */
  budgetDropped: z.number().int().min(0).optional(),
  /** Times the auction ran again without campaigns whose budget could not hold a winner. */
  budgetReruns: z.number().int().min(0).optional(),
});
export type AuctionResponse = z.infer<typeof AuctionResponseSchema>;

// ---- the calls --------------------------------------------------------------------------------------

export const Rpc = {
  retrievalCandidates: rpc(
    'adfunnel.retrieval.candidates.v1',
    CandidatesRequestSchema,
    CandidatesResponseSchema,
  ),
  rankingScore: rpc('adfunnel.ranking.score.v1', ScoreRequestSchema, ScoreResponseSchema),
  auctionRun: rpc('adfunnel.auction.run.v1', AuctionRequestSchema, AuctionResponseSchema),
} as const;

/** NATS queue groups: replicas of one service share its subjects instead of all answering. */
export const QueueGroups = {
  retrieval: 'adfunnel-retrieval',
  ranking: 'adfunnel-ranking',
  auction: 'adfunnel-auction',
  logging: 'adfunnel-logging',
} as const;
