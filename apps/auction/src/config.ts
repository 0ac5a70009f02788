import { BUDGET_DEFAULTS, BudgetEnv, FrequencyCapEnv } from '@adfunnel/budget';
import { DeliveryEnv } from '@adfunnel/delivery-diagnostics';
import { CommonEnv, loadConfig, type Env, envInteger, envPort } from '@adfunnel/platform';
import { DEFAULT_PACING_PARAMETERS } from '@adfunnel/pacing';
import {
  DEFAULT_EXAMINATION,
  DEFAULT_PREDICTION_PRIORS,
  DEFAULT_UTILITY_SCALES,
  PRICING_MECHANISMS,
  type UtilityWeights,
} from '@adfunnel/utility';
import { z } from 'zod';
import {
  envBySurface,
  envBySurfaceDevice,
  envExamination,
  envExaminationFile,
  parseExamination,
  parsedBy,
} from './surface-env.js';
import { envUtilityWeights, parseUtilityWeights } from './utility-weights-env.js';

const number = (what: string) =>
  z.coerce.number({ error: `expected ${what}` }).refine(Number.isFinite, `expected ${what}`);
const probability = (what: string) =>
  number(what)
    .gt(0, { error: `expected ${what}` })
    .max(1, { error: `expected ${what}` });
const usdCpm = number('a non-negative amount of USD per 1000 impressions').min(0, {
  error: 'expected a non-negative amount of USD per 1000 impressions',
});
const slotCount = (what: string) => envInteger(`an integer from 1 to 10 (${what})`, 1, 10);
const usd = number('a non-negative amount of USD').min(0, { error: 'expected a non-negative amount of USD' });
const mechanism = z.enum(PRICING_MECHANISMS, { error: `expected one of ${PRICING_MECHANISMS.join(', ')}` });

/** The advertiser's value alone, as the auction ranked before the user terms (README, "The utility function"). */
export const DEFAULT_AUCTION_UTILITY_WEIGHTS: UtilityWeights = Object.freeze({
  advertiserValue: 1,
  userValue: 0,
  hide: 0,
  fatigue: 0,
});

export const AuctionConfigSchema = z.object({
  ...CommonEnv,
  AUCTION_HOST: z.string().min(1).default('127.0.0.1'),
  AUCTION_PORT: envPort(3103),
  /** Floor on advertiser value, USD per 1000 impressions (0.5 = 0.0005 per impression). */
  AUCTION_RESERVE_CPM: usdCpm.default(0.5),
  /** Surfaces with a reserve of their own, `search:1.2,related_items:0.8` (USD CPM). */
  AUCTION_RESERVE_CPM_BY_SURFACE: envBySurface('USD CPM', parsedBy(usdCpm)),
  /** The auction scored ads go through; gsp, vcg or first_price. */
  AUCTION_MECHANISM: mechanism.default('gsp'),
  /** Surfaces with a mechanism of their own, `search:vcg,home_feed:gsp`; a request's `mechanism` wins. */
  AUCTION_MECHANISM_BY_SURFACE: envBySurface(PRICING_MECHANISMS.join('|'), parsedBy(mechanism)),
  /** Examination probability by slot, `1,0.75,0.6,0.5`; later slots keep the last value. */
  AUCTION_EXAMINATION: envExamination(DEFAULT_EXAMINATION),
  /**
   * Surfaces (or one device of a surface) with their own examination curve,
   * `search:1|0.6|0.4,search.mobile:1|0.5,home_feed:1|0.8`; wins over AUCTION_EXAMINATION_FILE.
   */
  AUCTION_EXAMINATION_BY_SURFACE: envBySurfaceDevice('p0|p1|...', (raw) => parseExamination(raw, '|')),
  /** JSON curves by surface or surface.device, as `npm run report -- examination --write` fits them. */
  AUCTION_EXAMINATION_FILE: envExaminationFile(),
  /** Ad load: the most ads one answer carries, whatever `slots` asks (10: the request decides). */
  AUCTION_AD_LOAD: slotCount('ads per answer').default(10),
  /** Ad load by surface or surface.device, `home_feed:2,home_feed.mobile:1`. */
  AUCTION_AD_LOAD_BY_SURFACE: envBySurfaceDevice('ads', parsedBy(slotCount('ads per answer'))),
  /** Least distance between two ads' feed positions when a request names adPositions (1: adjacent). */
  AUCTION_AD_SPACING: envInteger('an integer from 1 to 100 (feed positions)', 1, 100).default(1),
  AUCTION_AD_SPACING_BY_SURFACE: envBySurfaceDevice(
    'positions',
    parsedBy(envInteger('an integer from 1 to 100 (feed positions)', 1, 100)),
  ),
  /** Diversity: the most ads of one advertiser in one answer (1: one per advertiser). */
  AUCTION_MAX_ADS_PER_ADVERTISER: slotCount('ads per advertiser').default(1),
  AUCTION_MAX_ADS_PER_ADVERTISER_BY_SURFACE: envBySurfaceDevice(
    'ads',
    parsedBy(slotCount('ads per advertiser')),
  ),
  /** Diversity: the most ads of one creative category in one answer (10: no cap). */
  AUCTION_MAX_ADS_PER_CATEGORY: slotCount('ads per category').default(10),
  AUCTION_MAX_ADS_PER_CATEGORY_BY_SURFACE: envBySurfaceDevice('ads', parsedBy(slotCount('ads per category'))),
  /** Quality floor: ads ranking predicts a lower click rate for take no slot (0: off). */
  AUCTION_MIN_PCTR: number('a probability in [0, 1]')
    .min(0, { error: 'expected a probability in [0, 1]' })
    .max(1, { error: 'expected a probability in [0, 1]' })
    .default(0),
  /** Quality floor on utility per 1000 examined impressions, USD (0: off); a gate, not a price. */
  AUCTION_MIN_UTILITY_CPM: usdCpm.default(0),
  /**
   * Weights of the utility's terms, `advertiserValue=1,userValue=1,hide=1,fatigue=1` (those not
   * named keep DEFAULT_AUCTION_UTILITY_WEIGHTS); `userValue=0,hide=0,fatigue=0` ranks by bids alone.
   */
  AUCTION_UTILITY_WEIGHTS: envUtilityWeights(DEFAULT_AUCTION_UTILITY_WEIGHTS),
  /** Surfaces with some weights of their own, `search:hide=2|fatigue=0`; a request's utilityWeights win. */
  AUCTION_UTILITY_WEIGHTS_BY_SURFACE: envBySurface('name=weight|...', (raw) => parseUtilityWeights(raw, '|')),
  /** What a click is worth on the user's side, USD: the user-value term is pCTR x this. */
  AUCTION_USER_VALUE_USD_PER_CLICK: usd.default(DEFAULT_UTILITY_SCALES.usdPerClick),
  /** What a hide costs, USD: the hide term is pHide x this. */
  AUCTION_HIDE_COST_USD: usd.default(DEFAULT_UTILITY_SCALES.usdPerHide),
  /** The fatigue curve: a user AUCTION_FATIGUE_CAPACITY recent ads deep has lost this many USD. */
  AUCTION_FATIGUE_COST_USD: usd.default(DEFAULT_UTILITY_SCALES.fatigueUsd),
  AUCTION_FATIGUE_CAPACITY: number('a positive number of ads')
    .gt(0, { error: 'expected a positive number of ads' })
    .default(DEFAULT_UTILITY_SCALES.fatigueCapacity),
  /**
   * Reruns of a request's auction without the campaigns whose budget could not hold a winner; 0 serves
   * the admitted winners with gaps at once.
   */
  AUCTION_BUDGET_RERUNS: envInteger('an integer from 0 to 5', 0, 5).default(2),
  /** A user's exposure (ads served, on the funnel's clock) halves every this long. */
  AUCTION_EXPOSURE_HALF_LIFE_MS: envInteger('a positive integer of milliseconds', 1).default(3 * 3_600_000),
  /** Click and conversion rates assumed for pricing when ranking gave no predictions. */
  AUCTION_PRIOR_CTR: probability('a probability in (0, 1]').default(DEFAULT_PREDICTION_PRIORS.pCtr),
  AUCTION_PRIOR_CVR: probability('a probability in (0, 1]').default(DEFAULT_PREDICTION_PRIORS.pCvr),
  ...BudgetEnv,
  ...FrequencyCapEnv,
  ...DeliveryEnv,
  /** A winner's reservation is given back by its impression's charge, or after this long. */
  BUDGET_RESERVATION_MS: envInteger('a positive integer of milliseconds', 1).default(
    BUDGET_DEFAULTS.reservationMs,
  ),
  /** `off`: every campaign passes, as if all were `asap`. */
  PACING: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
  /** Each even campaign's pass-through rate is set once per slice of the funnel's clock. */
  PACING_SLICE_MS: envInteger('an integer of milliseconds from 1000 to 3600000', 1000, 3_600_000).default(
    60_000,
  ),
  /** How often (wall clock) a replica reloads the shared rates and flushes its request counts. */
  PACING_REFRESH_MS: envInteger('an integer of milliseconds from 50 to 60000', 50, 60_000).default(1000),
  PACING_MIN_RATE: probability('a probability in (0, 1]').default(DEFAULT_PACING_PARAMETERS.minRate),
  /** Days of hourly request counts the traffic curve is learnt from. */
  PACING_HISTORY_DAYS: envInteger('a whole number of days from 1 to 7', 1, 7).default(7),
  PACING_GAP_CLOSING_MS: envInteger('a positive integer of milliseconds', 1).default(
    DEFAULT_PACING_PARAMETERS.gapClosingMs,
  ),
  PACING_DEMAND_HALF_LIFE_MS: envInteger('a positive integer of milliseconds', 1).default(
    DEFAULT_PACING_PARAMETERS.demandHalfLifeMs,
  ),
});

export type AuctionConfig = z.output<typeof AuctionConfigSchema>;

export function loadAuctionConfig(env?: Env): AuctionConfig {
  return loadConfig(AuctionConfigSchema, env);
}
