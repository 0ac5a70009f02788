import { SURFACES, type AuctionRequest, type Surface } from '@adfunnel/contracts';
import type { Examination, PricingMechanism, QualityFloors } from '@adfunnel/utility';
import type { AuctionConfig } from './config.js';

/** How one surface runs its auctions, resolved once from configuration. */
export interface SurfaceAuctionRules {
  readonly mechanism: PricingMechanism;
  readonly examination: Examination;
  /** USD per impression. */
  readonly reservePerImpression: number;
  readonly floors: QualityFloors;
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
      examination: config.AUCTION_EXAMINATION_BY_SURFACE[surface] ?? config.AUCTION_EXAMINATION,
      reservePerImpression:
        (config.AUCTION_RESERVE_CPM_BY_SURFACE[surface] ?? config.AUCTION_RESERVE_CPM) / 1000,
      floors,
    });
  }
  return rules;
}

/** The request's own mechanism (an experiment arm) if it names one, else its surface's. */
export function mechanismFor(request: AuctionRequest, rules: SurfaceAuctionRules): PricingMechanism {
  return request.mechanism ?? rules.mechanism;
}
