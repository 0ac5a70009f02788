import {
  CatalogSnapshotService,
  type CatalogAd,
  type CatalogCampaign,
  type CatalogSnapshot,
} from '@adfunnel/catalog';
import { AdfunnelError, type AuctionRequest, type AuctionResponse } from '@adfunnel/contracts';
import { Clock, InjectConfig } from '@adfunnel/platform';
import {
  adLayout,
  allocateInOrder,
  runAuction,
  type AuctionCandidate,
  type AuctionOutcome,
  type PredictionPriors,
  type UnscoredCandidate,
  type UtilityScales,
  type UtilityWeights,
} from '@adfunnel/utility';
import { Injectable, Logger, Optional } from '@nestjs/common';
import type { AuctionConfig } from './config.js';
import { AuctionDelivery } from './diagnostics/auction-delivery.js';
import { PacingService } from './pacing/pacing.service.js';
import {
  mechanismFor,
  surfaceAuctionRules,
  utilityWeightsFor,
  type AllocationRules,
  type SurfaceAuctionRules,
} from './surface-auction-rules.js';

type Predictions = NonNullable<AuctionRequest['predictions']>;

/** The weights the request ranks by, and its user's recent ad exposure (undefined: unknown). */
interface UtilityTerms {
  readonly weights: UtilityWeights;
  readonly userExposure: number | undefined;
}

/** How many slots this request gets after ad load and spacing, and its device's allocation rules. */
type Layout = AllocationRules & { readonly slots: number };

interface Pool<C> {
  candidates: C[];
  unknown: number;
  inactive: number;
  /** Candidates of even campaigns their pass-through rate kept out of this auction. */
  paced: number;
}

/**
 * Turns ranked (or, when ranking failed, retrieved) ad ids into priced slots: bids come from the
 * catalog snapshot, paused or ended campaigns and ads drop out, so do the candidates pacing holds
 * back, and libs/utility runs the auction its surface is configured for (or the request names).
 */
@Injectable()
export class AuctionService {
  private readonly logger = new Logger(AuctionService.name);
  private readonly rules: Record<AuctionRequest['surface'], SurfaceAuctionRules>;
  private readonly priors: PredictionPriors;
  private readonly scales: UtilityScales;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly pacing: PacingService,
    private readonly clock: Clock,
    @InjectConfig() config: AuctionConfig,
    @Optional() private readonly delivery?: AuctionDelivery,
  ) {
    this.rules = surfaceAuctionRules(config);
    this.priors = { pCtr: config.AUCTION_PRIOR_CTR, pCvr: config.AUCTION_PRIOR_CVR };
    this.scales = {
      usdPerClick: config.AUCTION_USER_VALUE_USD_PER_CLICK,
      usdPerHide: config.AUCTION_HIDE_COST_USD,
      fatigueUsd: config.AUCTION_FATIGUE_COST_USD,
      fatigueCapacity: config.AUCTION_FATIGUE_CAPACITY,
    };
  }

  /** The utility weights a request ranks by: its surface's, with the request's own over them. */
  weightsFor(request: AuctionRequest): UtilityWeights {
    return utilityWeightsFor(request, this.rules[request.surface]);
  }

  /**
   * `userExposure`: the user's recent ads (decayed count), for the fatigue term; undefined: unknown.
   * `excludeCampaigns`: a rerun of the same request without the campaigns whose budget could not
   * hold a winner of an earlier run; the request is counted for pacing once, by its first run.
   */
  run(
    request: AuctionRequest,
    now = this.clock.now(),
    userExposure?: number,
    excludeCampaigns?: ReadonlySet<number>,
  ): AuctionResponse {
    const started = performance.now();
    const { requestId } = request;
    try {
      const snapshot = this.catalog.snapshot();
      if (excludeCampaigns === undefined) this.pacing.countRequest(now);
      const admits = (campaign: CatalogCampaign) =>
        excludeCampaigns?.has(campaign.id) !== true && this.pacing.admits(requestId, campaign, now);
      const rules = this.rules[request.surface];
      const terms: UtilityTerms = { weights: utilityWeightsFor(request, rules), userExposure };
      const allocation = rules.byDevice[request.device];
      // Slot s goes to feed position positions[s]: the ad load and spacing bound the slots.
      const positions = adLayout({
        slots: request.slots,
        adLoad: allocation.adLoad,
        adPositions: request.adPositions,
        minSpacing: allocation.minSpacing,
      });
      const layout: Layout = { slots: positions.length, ...allocation };
      // The delivery diagnostics count a request's first run: a rerun only moves refused slots.
      const delivery = excludeCampaigns === undefined ? this.delivery : undefined;
      delivery?.begin();
      const { outcome, unknown, inactive, paced } =
        request.predictions === undefined
          ? this.inRetrievalOrder(request, layout, rules, snapshot, admits, delivery)
          : this.byAuction(request, layout, rules, request.predictions, snapshot, admits, terms, delivery);
      this.logger.debug({
        msg: 'auction run',
        requestId,
        surface: request.surface,
        device: request.device,
        mechanism: outcome.mechanism,
        slots: positions.length,
        considered: request.adIds.length,
        unknown,
        inactive,
        paced,
        rerunWithout: excludeCampaigns === undefined ? undefined : [...excludeCampaigns],
        eligible: outcome.eligible,
        utilityWeights: outcome.mechanism === 'retrieval_order' ? undefined : terms.weights,
        userExposure,
        winners: outcome.winners.map((w) => w.adId),
        catalogVersion: snapshot.version,
        ms: Math.round((performance.now() - started) * 1000) / 1000,
      });
      return {
        mechanism: outcome.mechanism,
        winners: outcome.winners.map((w) => ({
          slot: w.slot,
          position: positions[w.slot],
          adId: w.adId,
          campaignId: w.campaignId,
          advertiserId: w.advertiserId,
          bidType: w.bidType,
          bid: w.bid,
          price: w.price,
          valuePerImpression: w.valuePerImpression,
          pCtr: w.pCtr,
          pCvr: w.pCvr,
        })),
        reservePerImpression: outcome.reservePerImpression,
        considered: request.adIds.length,
        eligible: outcome.eligible,
        ...(outcome.mechanism !== 'retrieval_order' && { utilityWeights: terms.weights }),
      };
    } catch (error) {
      this.logFailure(requestId, error);
      throw error;
    }
  }

  private byAuction(
    request: AuctionRequest,
    layout: Layout,
    rules: SurfaceAuctionRules,
    predictions: Predictions,
    snapshot: CatalogSnapshot,
    admits: (campaign: CatalogCampaign) => boolean,
    terms: UtilityTerms,
    delivery: AuctionDelivery | undefined,
  ): { outcome: AuctionOutcome } & Omit<Pool<AuctionCandidate>, 'candidates'> {
    checkPredictions(request.adIds, predictions);
    const { pCtr, pCvr, pHide } = predictions;
    const pool = activeCandidates(
      request.adIds,
      snapshot,
      admits,
      delivery,
      (adId, ad, campaign, i): AuctionCandidate => ({
        adId,
        campaignId: campaign.id,
        advertiserId: campaign.advertiserId,
        bidType: campaign.bidType,
        bid: campaign.bid,
        category: ad.category,
        reservePerImpression: ownReserve(campaign),
        pCtr: pCtr[i],
        pCvr: pCvr[i],
        pHide: pHide?.[i],
      }),
    );
    const outcome = runAuction(mechanismFor(request, rules), {
      candidates: pool.candidates,
      slots: layout.slots,
      reservePerImpression: rules.reservePerImpression,
      examination: layout.examination,
      diversity: layout.diversity,
      floors: rules.floors,
      weights: terms.weights,
      scales: this.scales,
      userExposure: terms.userExposure,
      verdicts: delivery?.verdictsFor(pool.candidates.length),
    });
    delivery?.counted(pool.candidates, true, this.priors, lowestWinnerValue(outcome));
    return { outcome, unknown: pool.unknown, inactive: pool.inactive, paced: pool.paced };
  }

  private inRetrievalOrder(
    request: AuctionRequest,
    layout: Layout,
    rules: SurfaceAuctionRules,
    snapshot: CatalogSnapshot,
    admits: (campaign: CatalogCampaign) => boolean,
    delivery: AuctionDelivery | undefined,
  ): { outcome: AuctionOutcome } & Omit<Pool<UnscoredCandidate>, 'candidates'> {
    const pool = activeCandidates(
      request.adIds,
      snapshot,
      admits,
      delivery,
      (adId, ad, campaign): UnscoredCandidate => ({
        adId,
        campaignId: campaign.id,
        advertiserId: campaign.advertiserId,
        bidType: campaign.bidType,
        bid: campaign.bid,
        category: ad.category,
        reservePerImpression: ownReserve(campaign),
      }),
    );
    const outcome = allocateInOrder({
      candidates: pool.candidates,
      slots: layout.slots,
      reservePerImpression: rules.reservePerImpression,
      priors: this.priors,
      examination: layout.examination,
      diversity: layout.diversity,
      verdicts: delivery?.verdictsFor(pool.candidates.length),
    });
    delivery?.counted(pool.candidates, false, this.priors, lowestWinnerValue(outcome));
    return { outcome, unknown: pool.unknown, inactive: pool.inactive, paced: pool.paced };
  }

  private logFailure(requestId: string, error: unknown): void {
    if (error instanceof AdfunnelError && error.code !== 'internal') {
      this.logger.warn({ msg: 'auction refused', requestId, code: error.code, error: error.message });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.logger.error(
      { msg: 'auction failed', requestId, error: message },
      error instanceof Error ? error.stack : undefined,
    );
  }
}

/**
 * Ads in the snapshot whose ad and campaign are both active and that pacing admits, in request order,
 * each made into a candidate by `make` in one object literal (no spread: this runs for every
 * candidate of every request, and one shape keeps the utility's loops monomorphic).
 */
function activeCandidates<C>(
  adIds: readonly number[],
  snapshot: CatalogSnapshot,
  admits: (campaign: CatalogCampaign) => boolean,
  delivery: AuctionDelivery | undefined,
  make: (adId: number, ad: CatalogAd, campaign: CatalogCampaign, index: number) => C,
): Pool<C> {
  const pool: Pool<C> = { candidates: [], unknown: 0, inactive: 0, paced: 0 };
  for (let i = 0; i < adIds.length; i++) {
    const adId = adIds[i];
    const ad = snapshot.byId.get(adId);
    if (ad === undefined) {
      pool.unknown++;
      continue;
    }
    if (ad.status !== 'active' || ad.campaign.status !== 'active') {
      pool.inactive++;
      delivery?.dropped(ad, 'inactive');
      continue;
    }
    if (!admits(ad.campaign)) {
      pool.paced++;
      delivery?.dropped(ad, 'paced');
      continue;
    }
    pool.candidates.push(make(adId, ad, ad.campaign, i));
  }
  return pool;
}

/** USD per impression of the least valuable winner; 0 without winners. */
function lowestWinnerValue(outcome: AuctionOutcome): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const winner of outcome.winners) lowest = Math.min(lowest, winner.valuePerImpression);
  return outcome.winners.length === 0 ? 0 : lowest;
}

/** The campaign's own reserve (the catalog's reserve_cpm) in the auction's unit, USD per impression. */
function ownReserve(campaign: CatalogCampaign): number | undefined {
  const cpm = campaign.reserveCpm;
  return cpm === null || cpm === undefined ? undefined : cpm / 1000;
}

function checkPredictions(adIds: readonly number[], predictions: Predictions): void {
  for (const field of ['pCtr', 'pCvr', 'pHide'] as const) {
    const values = predictions[field];
    if (values === undefined) continue;
    if (values.length !== adIds.length) {
      throw new AdfunnelError(
        'invalid_request',
        `predictions.${field} has ${values.length} entries but adIds has ${adIds.length}; they must align one to one`,
      );
    }
    const bad = values.findIndex((p) => !Number.isFinite(p) || p < 0 || p > 1);
    if (bad !== -1) {
      throw new AdfunnelError(
        'invalid_request',
        `predictions.${field}[${bad}] (adId ${adIds[bad]}) must be a probability in [0, 1], got ${values[bad]}`,
      );
    }
  }
}
