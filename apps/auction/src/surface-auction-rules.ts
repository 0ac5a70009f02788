import { DEVICES, SURFACES, type AuctionRequest, type Device, type Surface } from '@adfunnel/contracts';
import type {
  Diversity,
  Examination,
  PricingMechanism,
  QualityFloors,
  UtilityWeights,
} from '@adfunnel/utility';
import type { AuctionConfig } from './config.js';
import { settingFor } from './surface-env.js';

/** Where ads go and how many, for one device of one surface. */
export interface AllocationRules {
  readonly examination: Examination;
  /** The most ads an answer carries. */
  readonly adLoad: number;
  /** Least distance between two ads' feed positions. */
  readonly minSpacing: number;
  readonly diversity: Diversity;
}

/** How one surface runs its auctions, resolved once from configuration. */
export interface SurfaceAuctionRules {
  readonly mechanism: PricingMechanism;
  /** Examination, ad load, spacing and diversity: `surface.device` settings, else `surface`, else global. */
  readonly byDevice: Readonly<Record<Device, AllocationRules>>;
  /** USD per impression. */
  readonly reservePerImpression: number;
  readonly floors: QualityFloors;
  readonly utilityWeights: UtilityWeights;
}

export function surfaceAuctionRules(config: AuctionConfig): Record<Surface, SurfaceAuctionRules> {
  const floors: QualityFloors = Object.freeze({
    minPCtr: config.AUCTION_MIN_PCTR,
    minUtility: config.AUCTION_MIN_UTILITY_CPM / 1000,
  });
  const rules = {} as Record<Surface, SurfaceAuctionRules>;
  for (const surface of SURFACES) {
    rules[surface] = Object.freeze({
      mechanism: config.AUCTION_MECHANISM_BY_SURFACE[surface] ?? config.AUCTION_MECHANISM,
      byDevice: allocationRules(config, surface),
      reservePerImpression:
        (config.AUCTION_RESERVE_CPM_BY_SURFACE[surface] ?? config.AUCTION_RESERVE_CPM) / 1000,
      floors,
      utilityWeights: Object.freeze({
        ...config.AUCTION_UTILITY_WEIGHTS,
        ...config.AUCTION_UTILITY_WEIGHTS_BY_SURFACE[surface],
      }),
    });
  }
  return rules;
}

function allocationRules(config: AuctionConfig, surface: Surface): Record<Device, AllocationRules> {
  const rules = {} as Record<Device, AllocationRules>;
  for (const device of DEVICES) {
    const setting = <T>(settings: Parameters<typeof settingFor<T>>[0], fallback: T) =>
      settingFor(settings, surface, device, fallback);
    const file = config.AUCTION_EXAMINATION_FILE;
    const env = config.AUCTION_EXAMINATION_BY_SURFACE;
    rules[device] = Object.freeze({
      // the environment wins over the file at each level: surface.device, then surface
      examination:
        env[`${surface}.${device}`] ??
        file[`${surface}.${device}`] ??
        env[surface] ??
        file[surface] ??
        config.AUCTION_EXAMINATION,
      adLoad: setting(config.AUCTION_AD_LOAD_BY_SURFACE, config.AUCTION_AD_LOAD),
      minSpacing: setting(config.AUCTION_AD_SPACING_BY_SURFACE, config.AUCTION_AD_SPACING),
      diversity: Object.freeze({
        maxPerAdvertiser: setting(
          config.AUCTION_MAX_ADS_PER_ADVERTISER_BY_SURFACE,
          config.AUCTION_MAX_ADS_PER_ADVERTISER,
        ),
        maxPerCategory: setting(
          config.AUCTION_MAX_ADS_PER_CATEGORY_BY_SURFACE,
          config.AUCTION_MAX_ADS_PER_CATEGORY,
        ),
      }),
    });
  }
  return Object.freeze(rules);
}

/** The request's own mechanism (an experiment arm) if it names one, else its surface's. */
export function mechanismFor(request: AuctionRequest, rules: SurfaceAuctionRules): PricingMechanism {
  return request.mechanism ?? rules.mechanism;
}

/** The surface's utility weights with those the request names (an experiment arm) over them. */
export function utilityWeightsFor(request: AuctionRequest, rules: SurfaceAuctionRules): UtilityWeights {
  return request.utilityWeights === undefined
    ? rules.utilityWeights
    : { ...rules.utilityWeights, ...request.utilityWeights };
}
